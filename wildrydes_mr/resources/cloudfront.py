"""HTTPS in front of the private site buckets: a CloudFront origin access control and a distribution
(redirect-to-https, index.html as default root object), invalidations of changed paths, and the
disable → wait → delete teardown CloudFront requires.

With a site bucket in each region the distribution has two origins and an origin group over them: CloudFront
asks the primary's bucket and, when it answers one of FAILOVER_STATUS_CODES (or does not answer), the
secondary's — so the site stays up when the primary region is down. A cache behaviour that targets an origin
group may allow only GET and HEAD (and OPTIONS); the site needs no more.
moto refuses an origin group as a cache behaviour's target (NoSuchOrigin) and drops OriginAccessControlId from
what it stores. On an emulator endpoint (the local cloud) the behaviour therefore targets the primary's origin
and still carries the group, which the local site server follows when a bucket is unavailable; on AWS it targets
the group. Which path is taken follows from the endpoint alone.
"""

from __future__ import annotations

import uuid
from typing import Any

from wildrydes_mr.aws import ClientError, is_not_found
from wildrydes_mr.engine import Context, Resource

# AWS managed cache policy "CachingOptimized"; honours the objects' Cache-Control (config.js: no-store).
CACHING_OPTIMIZED = "658327ea-f89d-4fab-a63d-7e88639e58f6"
ORIGIN_ID = "site-bucket"  # the primary's bucket (the id distributions made before origin groups use)
SECONDARY_ORIGIN_ID = "site-bucket-secondary"
ORIGIN_GROUP_ID = "site-buckets"
# The statuses on which an origin group asks its other member: what S3 answers for a missing object without
# s3:ListBucket (403) or with it (404), and S3's server errors (CloudFront developer guide, origin failover).
FAILOVER_STATUS_CODES = (403, 404, 500, 502, 503, 504)
DEPLOY_WAIT_SECONDS = 1800


def _is_missing(exc: BaseException) -> bool:
    return is_not_found(exc) or (isinstance(exc, ClientError) and exc.response.get("Error", {}).get("Code") in {
        "NoSuchOriginAccessControl", "NoSuchDistribution"})


class OriginAccessControl(Resource):
    kind = "cloudfront-oac"

    def find(self, ctx: Context) -> dict[str, Any] | None:
        client = ctx.aws.client("cloudfront", "us-east-1")
        marker = None
        while True:
            page = client.list_origin_access_controls(**({"Marker": marker} if marker else {}))[
                "OriginAccessControlList"]
            for item in page.get("Items", []):
                if item["Name"] == self.name:
                    return item
            marker = page.get("NextMarker")
            if not page.get("IsTruncated") or not marker:
                return None

    def changes(self, ctx: Context, live: dict[str, Any]) -> list[str]:
        wanted = {"SigningProtocol": "sigv4", "SigningBehavior": "always", "OriginAccessControlOriginType": "s3"}
        return [] if all(live.get(k) == v for k, v in wanted.items()) else ["signing"]

    def _config(self) -> dict[str, Any]:
        return {"Name": self.name, "Description": "wildrydes site bucket", "SigningProtocol": "sigv4",
                "SigningBehavior": "always", "OriginAccessControlOriginType": "s3"}

    def create(self, ctx: Context) -> dict[str, Any]:
        created = ctx.aws.client("cloudfront", "us-east-1").create_origin_access_control(
            OriginAccessControlConfig=self._config())
        return {"id": created["OriginAccessControl"]["Id"]}

    def update(self, ctx: Context, live: dict[str, Any], changes: list[str]) -> dict[str, Any]:
        client = ctx.aws.client("cloudfront", "us-east-1")
        etag = client.get_origin_access_control(Id=live["Id"])["ETag"]
        client.update_origin_access_control(Id=live["Id"], IfMatch=etag, OriginAccessControlConfig=self._config())
        return {"id": live["Id"]}

    def attributes(self, ctx: Context, live: dict[str, Any]) -> dict[str, Any]:
        return {"id": live["Id"]}


def delete_origin_access_control(ctx: Context, record: dict[str, Any]) -> None:
    client = ctx.aws.client("cloudfront", "us-east-1")
    try:
        etag = client.get_origin_access_control(Id=record["id"])["ETag"]
        client.delete_origin_access_control(Id=record["id"], IfMatch=etag)
    except ClientError as exc:
        if not _is_missing(exc):
            raise


class Distribution(Resource):
    """The site's distribution, found by its comment (`wildrydes:<deployment> site`) and tag."""

    kind = "cloudfront-distribution"

    def __init__(self, region: str, name: str, bucket_domains: list[str], oac_id: str,
                 response_headers_policy_id: str | None = None):
        """`bucket_domains`: the primary's site bucket first, then the secondary's (if there is one)."""
        super().__init__(region, name)
        self.bucket_domains = list(bucket_domains)
        self.oac_id = oac_id
        self.response_headers_policy_id = response_headers_policy_id

    def _origins(self) -> list[dict[str, Any]]:
        ids = (ORIGIN_ID, SECONDARY_ORIGIN_ID)[:len(self.bucket_domains)]
        return [{"Id": origin_id, "DomainName": domain, "S3OriginConfig": {"OriginAccessIdentity": ""},
                 "OriginAccessControlId": self.oac_id}
                for origin_id, domain in zip(ids, self.bucket_domains, strict=True)]

    def _origin_groups(self) -> dict[str, Any]:
        if len(self.bucket_domains) < 2:
            return {"Quantity": 0}
        return {"Quantity": 1, "Items": [{
            "Id": ORIGIN_GROUP_ID,
            "FailoverCriteria": {"StatusCodes": {"Quantity": len(FAILOVER_STATUS_CODES),
                                                 "Items": list(FAILOVER_STATUS_CODES)}},
            "Members": {"Quantity": 2, "Items": [{"OriginId": ORIGIN_ID}, {"OriginId": SECONDARY_ORIGIN_ID}]}}]}

    def _target(self, ctx: Context) -> str:
        grouped = len(self.bucket_domains) > 1 and not ctx.aws.is_emulated("cloudfront", "us-east-1")
        return ORIGIN_GROUP_ID if grouped else ORIGIN_ID

    @property
    def comment(self) -> str:
        return f"wildrydes:{self.name}"

    def find(self, ctx: Context) -> dict[str, Any] | None:
        client = ctx.aws.client("cloudfront", "us-east-1")
        for page in client.get_paginator("list_distributions").paginate():
            for item in page["DistributionList"].get("Items", []) or []:
                if item.get("Comment") == self.comment:
                    found = client.get_distribution(Id=item["Id"])
                    return {"distribution": found["Distribution"], "etag": found["ETag"]}
        return None

    def changes(self, ctx: Context, live: dict[str, Any]) -> list[str]:
        config = live["distribution"]["DistributionConfig"]
        changes = []
        if not config.get("Enabled"):
            changes.append("enabled")
        if config.get("DefaultRootObject") != "index.html":
            changes.append("default root object")
        behaviour = config.get("DefaultCacheBehavior", {})
        if behaviour.get("ViewerProtocolPolicy") != "redirect-to-https":
            changes.append("redirect to https")
        if behaviour.get("CachePolicyId") != CACHING_OPTIMIZED:
            changes.append("cache policy")
        if behaviour.get("ResponseHeadersPolicyId") != self.response_headers_policy_id:
            changes.append("security headers policy")
        if behaviour.get("TargetOriginId") != self._target(ctx):
            changes.append("target origin")
        emulated = ctx.aws.is_emulated("cloudfront", "us-east-1")
        live_origins = [_comparable_origin(o, emulated) for o in config.get("Origins", {}).get("Items", []) or []]
        if live_origins != [_comparable_origin(o, emulated) for o in self._origins()]:
            changes.append("origins")
        if _comparable_groups(config.get("OriginGroups")) != _comparable_groups(self._origin_groups()):
            changes.append("origin group")
        return changes

    def _config(self, ctx: Context, caller_reference: str) -> dict[str, Any]:
        origins = self._origins()
        return {
            "CallerReference": caller_reference, "Comment": self.comment, "Enabled": True,
            "DefaultRootObject": "index.html", "PriceClass": "PriceClass_100", "HttpVersion": "http2",
            "Origins": {"Quantity": len(origins), "Items": origins},
            "OriginGroups": self._origin_groups(),
            "DefaultCacheBehavior": {
                "TargetOriginId": self._target(ctx), "ViewerProtocolPolicy": "redirect-to-https",
                "CachePolicyId": CACHING_OPTIMIZED, "Compress": True,
                "AllowedMethods": {"Quantity": 2, "Items": ["GET", "HEAD"],
                                   "CachedMethods": {"Quantity": 2, "Items": ["GET", "HEAD"]}},
                **({"ResponseHeadersPolicyId": self.response_headers_policy_id}
                   if self.response_headers_policy_id else {})},
        }

    def create(self, ctx: Context) -> dict[str, Any]:
        client = ctx.aws.client("cloudfront", "us-east-1")
        created = client.create_distribution_with_tags(DistributionConfigWithTags={
            "DistributionConfig": self._config(ctx, f"wildrydes-{uuid.uuid4()}"),
            "Tags": {"Items": [{"Key": k, "Value": v} for k, v in ctx.config.tag.items()]}})["Distribution"]
        ctx.record(self, **self._attributes(created))
        self.wait_deployed(ctx, created["Id"])
        return self._attributes(created)

    def update(self, ctx: Context, live: dict[str, Any], changes: list[str]) -> dict[str, Any]:
        client = ctx.aws.client("cloudfront", "us-east-1")
        distribution_id = live["distribution"]["Id"]
        current = client.get_distribution_config(Id=distribution_id)
        config = current["DistributionConfig"]
        wanted = self._config(ctx, config["CallerReference"])
        config.update({k: wanted[k] for k in ("Comment", "Enabled", "DefaultRootObject", "Origins", "OriginGroups")})
        config["DefaultCacheBehavior"].update(wanted["DefaultCacheBehavior"])
        if not self.response_headers_policy_id:
            config["DefaultCacheBehavior"].pop("ResponseHeadersPolicyId", None)
        # A cache policy excludes the legacy TTL/forwarding settings.
        for legacy in ("ForwardedValues", "MinTTL", "DefaultTTL", "MaxTTL"):
            config["DefaultCacheBehavior"].pop(legacy, None)
        updated = client.update_distribution(Id=distribution_id, IfMatch=current["ETag"],
                                             DistributionConfig=config)["Distribution"]
        self.wait_deployed(ctx, distribution_id)
        return self._attributes(updated)

    def attributes(self, ctx: Context, live: dict[str, Any]) -> dict[str, Any]:
        return self._attributes(live["distribution"])

    @staticmethod
    def _attributes(distribution: dict[str, Any]) -> dict[str, Any]:
        return {"id": distribution["Id"], "arn": distribution["ARN"], "domain": distribution["DomainName"]}

    @staticmethod
    def wait_deployed(ctx: Context, distribution_id: str) -> None:
        client = ctx.aws.client("cloudfront", "us-east-1")
        ctx.aws.wait_until(
            lambda: client.get_distribution(Id=distribution_id)["Distribution"]["Status"] == "Deployed",
            what=f"CloudFront distribution {distribution_id} to deploy (it takes minutes)",
            timeout=DEPLOY_WAIT_SECONDS, interval=15, progress=ctx.progress)


def _comparable_origin(origin: dict[str, Any], emulated: bool) -> tuple[Any, ...]:
    # moto drops OriginAccessControlId from what it stores; AWS returns what was set.
    return (origin.get("Id"), origin.get("DomainName"), None if emulated else origin.get("OriginAccessControlId"))


def _comparable_groups(groups: dict[str, Any] | None) -> list[tuple[Any, ...]]:
    return [(g.get("Id"), tuple(sorted(g.get("FailoverCriteria", {}).get("StatusCodes", {}).get("Items", []))),
             tuple(m.get("OriginId") for m in g.get("Members", {}).get("Items", [])))
            for g in (groups or {}).get("Items", []) or []]


def invalidate(ctx: Context, distribution_id: str, paths: list[str]) -> None:
    ctx.aws.client("cloudfront", "us-east-1").create_invalidation(DistributionId=distribution_id, InvalidationBatch={
        "Paths": {"Quantity": len(paths), "Items": sorted(paths)}, "CallerReference": f"wildrydes-{uuid.uuid4()}"})


def delete_distribution(ctx: Context, record: dict[str, Any]) -> None:
    """CloudFront deletes only a disabled, deployed distribution: disable, wait, delete."""
    client = ctx.aws.client("cloudfront", "us-east-1")
    try:
        current = client.get_distribution_config(Id=record["id"])
    except ClientError as exc:
        if _is_missing(exc):
            return
        raise
    etag = current["ETag"]
    if current["DistributionConfig"]["Enabled"]:
        config = dict(current["DistributionConfig"], Enabled=False)
        etag = client.update_distribution(Id=record["id"], IfMatch=etag, DistributionConfig=config)["ETag"]
    Distribution.wait_deployed(ctx, record["id"])
    etag = client.get_distribution(Id=record["id"])["ETag"]
    client.delete_distribution(Id=record["id"], IfMatch=etag)
