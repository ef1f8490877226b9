"""CloudFront's response-headers policy for the site: the security headers every answer carries (site_headers.py:
a CSP naming exactly the origins the app uses, HSTS, nosniff, no framing, a strict referrer policy), attached to
the distribution's default cache behaviour.

On an emulator that lacks the API (moto has no response-headers policies) nothing is made and the distribution
refers to none: the local site server adds the same headers itself, and the tests' behaviour layer stands in for
the API so that this code path runs (docs/aws-behaviour.md).
"""

from __future__ import annotations

from typing import Any

from wildrydes_mr.aws import ClientError, is_emulator_gap
from wildrydes_mr.engine import Context, Resource
from wildrydes_mr.site_headers import FRAME_OPTION, HSTS_MAX_AGE_SECONDS, REFERRER_POLICY

CLIENT_REGION = "us-east-1"


class ResponseHeadersPolicy(Resource):
    kind = "cloudfront-response-headers-policy"

    def __init__(self, region: str, name: str, content_security_policy: str):
        super().__init__(region, name)
        self.csp = content_security_policy

    def config(self) -> dict[str, Any]:
        return {"Name": self.name, "Comment": "wildrydes site security headers", "SecurityHeadersConfig": {
            "ContentSecurityPolicy": {"Override": True, "ContentSecurityPolicy": self.csp},
            "StrictTransportSecurity": {"Override": True, "AccessControlMaxAgeSec": HSTS_MAX_AGE_SECONDS,
                                        "IncludeSubdomains": False, "Preload": False},
            "ContentTypeOptions": {"Override": True},
            "FrameOptions": {"Override": True, "FrameOption": FRAME_OPTION},
            "ReferrerPolicy": {"Override": True, "ReferrerPolicy": REFERRER_POLICY}}}

    def _client(self, ctx: Context) -> tuple[Any, bool]:
        emulated = ctx.aws.is_emulated("cloudfront", CLIENT_REGION)
        return ctx.aws.client("cloudfront", CLIENT_REGION, retries=not emulated), emulated

    def find(self, ctx: Context) -> dict[str, Any] | None:
        client, emulated = self._client(ctx)
        try:
            listed = client.list_response_headers_policies(Type="custom")["ResponseHeadersPolicyList"]
        except Exception as exc:
            if is_emulator_gap(exc, emulated):
                return {"unsupported": True}  # moto: nothing to make; the local site adds the headers itself
            raise
        for item in listed.get("Items", []) or []:
            policy = item["ResponseHeadersPolicy"]
            if policy["ResponseHeadersPolicyConfig"]["Name"] == self.name:
                return policy
        return None

    def changes(self, ctx: Context, live: dict[str, Any]) -> list[str]:
        if live.get("unsupported"):
            return []
        return [] if live["ResponseHeadersPolicyConfig"] == self.config() else ["security headers"]

    def create(self, ctx: Context) -> dict[str, Any]:
        client, _ = self._client(ctx)
        created = client.create_response_headers_policy(ResponseHeadersPolicyConfig=self.config())
        return {"id": created["ResponseHeadersPolicy"]["Id"]}

    def update(self, ctx: Context, live: dict[str, Any], changes: list[str]) -> dict[str, Any]:
        client, _ = self._client(ctx)
        etag = client.get_response_headers_policy(Id=live["Id"])["ETag"]
        client.update_response_headers_policy(Id=live["Id"], IfMatch=etag, ResponseHeadersPolicyConfig=self.config())
        return {"id": live["Id"]}

    def attributes(self, ctx: Context, live: dict[str, Any]) -> dict[str, Any]:
        return {"id": None} if live.get("unsupported") else {"id": live["Id"]}


def delete_response_headers_policy(ctx: Context, record: dict[str, Any]) -> None:
    """Deleted after the distribution that used it (it was made before it); none was made on an emulator."""
    if not record.get("id"):
        return
    client = ctx.aws.client("cloudfront", CLIENT_REGION)
    try:
        etag = client.get_response_headers_policy(Id=record["id"])["ETag"]
        client.delete_response_headers_policy(Id=record["id"], IfMatch=etag)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") not in {"NoSuchResponseHeadersPolicy", "NotFound"}:
            raise
