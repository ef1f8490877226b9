"""The local cloud's site server: serves the site buckets from moto as CloudFront would, and the web app's stand-ins
for Facebook Login and for Cognito's sign-in endpoints.

- `GET /<bucket>/<key>` answers with the object held by moto (objects.py): index.html for the bare prefix, its
  stored Content-Type and Cache-Control, and — when the bucket is unavailable (its region out, or the object
  answers 403/404/5xx) — the object of the secondary bucket of the CloudFront origin group the bucket is the
  primary of, as CloudFront fails over (origins.py). Either way with the security headers CloudFront's
  response-headers policy adds on AWS: a Content-Security-Policy naming exactly the origins the app talks to,
  HSTS, nosniff, no framing, a strict referrer policy.
- `POST /_facebook/login` {"name"}: the Facebook stand-in (facebook.py), global: no outage touches it.
- `POST /_cognito/<region>/` speaks Cognito Identity's JSON protocol for that region's pools — only GetId and
  GetCredentialsForIdentity, what a browser calls — through the local cloud's Cognito stand-in (identity.py).
  `POST /_cognito/` (the endpoint of a config.js from before regions had their own) serves every region's pools.
  During a local outage of a region its path, and its pools through `/_cognito/`, answer 503
  {"message": "Service Unavailable (local outage of <region>)"}.
- `GET /_local/status`: the local cloud's own state (outage, health checks, routing, replication) for
  `local status` and test-failover.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from wildrydes_mr.site_headers import content_security_policy, security_headers

from .. import facebook
from ..credentials import LocalCredential
from ..http_server import HttpRequest, LocalHttpServer, ServedBy
from ..identity import CognitoError, IdentityStandIn
from ..moto_access import moto_client
from ..outage import Outage, unavailable_body
from .objects import SiteObjects

__all__ = ["SiteServer"]

logger = logging.getLogger(__name__)

COGNITO_PATH = "/_cognito/"
REGIONAL_COGNITO_PATH = re.compile(r"^/_cognito/(?P<region>[a-z]{2}(?:-[a-z]+)+-\d)/$")
STATUS_PATH = "/_local/status"
BROWSER_OPERATIONS = {"GetId", "GetCredentialsForIdentity"}
MAX_BODY_BYTES = 64 * 1024
COGNITO_JSON = [("Content-Type", "application/x-amz-json-1.1")]


class _Answer:
    def __init__(self, status: int, headers: list[tuple[str, str]], body: bytes, note: str = "") -> None:
        self.status, self.headers, self.body, self.note = status, headers, body, note


def _json(status: int, body: Any, headers: list[tuple[str, str]] | None = None) -> _Answer:
    return _Answer(status, headers or [("Content-Type", "application/json")], json.dumps(body).encode())


def _method_not_allowed() -> _Answer:
    return _Answer(405, [("Content-Type", "text/plain")], b"Method Not Allowed")


class SiteServer(ServedBy):
    def __init__(self, aws_endpoint: str, identity: IdentityStandIn, admin: LocalCredential,
                 host: str = "127.0.0.1", port: int = 0,
                 status_provider: Callable[[], dict[str, Any]] | None = None,
                 connect_origins: Callable[[], list[str]] | None = None, outage: Outage | None = None,
                 cache_ttl: float = 2.0) -> None:
        self.aws_endpoint = aws_endpoint
        self.identity = identity
        self.admin = admin
        self.status_provider = status_provider
        self.connect_origins = connect_origins or (lambda: [])
        self.outage = outage
        self._clients: dict[tuple[str, str], Any] = {}
        self._lock = threading.Lock()
        self.objects = SiteObjects(lambda: self._client("s3", "us-east-1"),
                                   lambda: self._client("cloudfront", "us-east-1"), outage, cache_ttl)
        self._server = LocalHttpServer("site", self.handle, max_body_bytes=MAX_BODY_BYTES, host=host, port=port)

    def _client(self, service: str, region: str) -> Any:
        with self._lock:
            key = (service, region)
            if key not in self._clients:
                self._clients[key] = moto_client(self.aws_endpoint, self.admin, service, region,
                                                 retries={"mode": "standard", "max_attempts": 3})
            return self._clients[key]

    def handle(self, request: HttpRequest) -> _Answer:
        path = urlsplit(request.target).path
        method = request.method.upper()
        if path == STATUS_PATH and method == "GET" and self.status_provider is not None:
            body = json.dumps(self.status_provider(), default=str).encode()
            return _Answer(200, [("Content-Type", "application/json"), ("Cache-Control", "no-store")], body)
        if path == facebook.LOGIN_PATH:
            if method != "POST":
                return _method_not_allowed()
            status, answer = facebook.login(request.body)
            return _json(status, answer)
        regional = REGIONAL_COGNITO_PATH.match(path)
        if path == COGNITO_PATH or regional:
            if method != "POST":
                return _method_not_allowed()
            return self._cognito(request, regional.group("region") if regional else None)
        if method not in ("GET", "HEAD"):
            return _method_not_allowed()
        fetched = self.objects.get(path)
        policy = content_security_policy(self.connect_origins())
        return _Answer(fetched.status, fetched.headers + security_headers(policy), fetched.body)

    # --- Cognito Identity stand-in ------------------------------------------------------------------------
    def _cognito(self, request: HttpRequest, region: str | None) -> _Answer:
        if region is not None and self._out(region):
            return _Answer(503, [("Content-Type", "application/json")], unavailable_body(region))
        target = request.header("X-Amz-Target") or ""
        try:
            if target.rsplit(".", 1)[-1] not in BROWSER_OPERATIONS:
                raise CognitoError("UnknownOperationException", "not served here")
            body = json.loads(request.body or b"{}")
            if not isinstance(body, dict):
                raise CognitoError("InvalidParameterException", "request body must be a JSON object")
            addressed = _addressed_region(body)
            if region is None and addressed is not None and self._out(addressed):
                # The older endpoint serves every region; the pools of a region that is out are out with it.
                return _Answer(503, [("Content-Type", "application/json")], unavailable_body(addressed))
            return _json(200, self.identity.handle(target, body, region), COGNITO_JSON)
        except CognitoError as exc:
            return _json(exc.status, {"__type": exc.error_type, "message": str(exc)}, COGNITO_JSON)
        except ValueError:
            return _json(400, {"__type": "SerializationException", "message": "invalid JSON"}, COGNITO_JSON)

    def _out(self, region: str) -> bool:
        return self.outage is not None and self.outage.is_out(region)


def _addressed_region(body: dict[str, Any]) -> str | None:
    """The region of the pool (GetId) or identity (GetCredentialsForIdentity) a call names: its id's prefix."""
    resource = body.get("IdentityPoolId") or body.get("IdentityId")
    return resource.split(":", 1)[0] if isinstance(resource, str) and ":" in resource else None
