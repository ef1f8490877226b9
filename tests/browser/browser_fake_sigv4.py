"""SigV4 checking for the fake backend (browser_fake_cloud.py): a received request's signature recomputed with
botocore's SigV4Auth, from the request's own X-Amz-Date and SignedHeaders, refused with API Gateway's 403
messages when anything is off (scope, token, expiry, clock skew, signature)."""

from __future__ import annotations

import datetime as dt
import hmac
import re
from collections.abc import Callable
from typing import Protocol

from botocore.auth import SIGV4_TIMESTAMP, SigV4Auth
from botocore.awsrequest import AWSRequest, HTTPHeaders
from botocore.credentials import Credentials

MAX_SKEW = dt.timedelta(minutes=5)
AUTHORIZATION = re.compile(
    r"AWS4-HMAC-SHA256 Credential=([^/]+)/(\d{8})/([^/]+)/([^/]+)/aws4_request, "
    r"SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})"
)


class Rejected(Exception):
    """An error answer: HTTP status, message and (for Cognito) the error type."""

    def __init__(self, status: int, message: str, error_type: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.error_type = error_type


class Issued(Protocol):
    secret_key: str
    session_token: str
    expires: float


class ReceivedRequestSigner(SigV4Auth):
    """botocore's SigV4Auth over exactly the headers the client listed in SignedHeaders."""

    def __init__(self, credentials: Credentials, region: str, signed: list[str]) -> None:
        super().__init__(credentials, "execute-api", region)
        self.signed = set(signed)

    def headers_to_sign(self, request: AWSRequest) -> HTTPHeaders:
        headers = HTTPHeaders()
        for name, value in request.headers.items():
            if name.lower() in self.signed:
                headers[name.lower()] = value
        return headers


def verify(method: str, path: str, query: str, headers, body: bytes, *, region: str,
           lookup: Callable[[str], Issued | None], now: Callable[[], float]) -> tuple[str, Issued]:
    """(access key id, its issued credentials) for a request correctly signed for execute-api in `region`."""
    authorization = headers.get("Authorization")
    if not authorization:
        raise Rejected(403, "Missing Authentication Token")
    match = AUTHORIZATION.fullmatch(authorization)
    if not match:
        raise Rejected(403, "Authorization header requires 'Credential', 'Signature' and 'SignedHeaders'.")
    key, date, scope_region, service, signed, signature = match.groups()
    if service != "execute-api":
        raise Rejected(403, "Credential should be scoped to correct service: 'execute-api'. ")
    if scope_region != region:
        raise Rejected(403, f"Credential should be scoped to a valid region, not '{scope_region}'. ")
    issued = lookup(key)
    if issued is None or headers.get("X-Amz-Security-Token") != issued.session_token:
        raise Rejected(403, "The security token included in the request is invalid.")
    if issued.expires < now():
        raise Rejected(403, "The security token included in the request is expired")
    amz_date = headers.get("X-Amz-Date") or ""
    try:
        signed_at = dt.datetime.strptime(amz_date, SIGV4_TIMESTAMP).replace(tzinfo=dt.UTC)
    except ValueError:
        raise Rejected(403, "Authorization header requires existence of a 'X-Amz-Date' header.") from None
    if abs(dt.datetime.now(dt.UTC) - signed_at) > MAX_SKEW or date != amz_date[:8]:
        raise Rejected(403, f"Signature expired: {amz_date} is now earlier or later than allowed.")
    names = signed.split(";")
    if "host" not in names:
        raise Rejected(403, "'Host' must be a 'SignedHeader' in the AWS Authorization.")
    signed_headers = HTTPHeaders()
    for name in names:
        if headers.get(name) is not None:
            signed_headers[name] = headers.get(name)
    url = f"http://{headers.get('Host')}{path}" + (f"?{query}" if query else "")
    request = AWSRequest(method=method, url=url, data=body, headers=signed_headers)
    request.context["timestamp"] = amz_date
    signer = ReceivedRequestSigner(Credentials(key, issued.secret_key, issued.session_token), region, names)
    expected = signer.signature(signer.string_to_sign(request, signer.canonical_request(request)), request)
    if not hmac.compare_digest(expected, signature):
        raise Rejected(403, "The request signature we calculated does not match the signature you provided.")
    return key, issued
