"""The local cloud's site server: serves the site buckets from moto as CloudFront would, and the web app's
stand-in for Cognito's sign-in endpoint.

- `GET /<bucket>/<key>` answers with the object held by moto (index.html for the bare prefix), with its stored
  Content-Type and Cache-Control, and the security headers CloudFront's response-headers policy adds on AWS:
  a Content-Security-Policy naming exactly the origins the app talks to, HSTS, nosniff, no framing, a strict
  referrer policy. A bucket name that is not one (e.g. `/\\evil`, or CR/LF smuggled in by percent-encoding) is a
  404, never a redirect.
- `POST /_cognito/` speaks Cognito Identity's JSON protocol — only GetId and GetCredentialsForIdentity, what a
  browser calls — through the local cloud's Cognito stand-in (identity.py).
- `GET /_local/status`: the local cloud's own state (health checks, routing, replication) for `local status`
  and test-failover.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote, urlsplit

from botocore.exceptions import ClientError

from wildrydes_mr.site_headers import content_security_policy, security_headers

from .credentials import LocalCredential
from .http_server import HttpRequest, LocalHttpServer
from .identity import CognitoError, IdentityStandIn
from .moto_access import moto_client

logger = logging.getLogger(__name__)

COGNITO_PATH = "/_cognito/"
STATUS_PATH = "/_local/status"
BROWSER_OPERATIONS = {"GetId", "GetCredentialsForIdentity"}
MAX_BODY_BYTES = 64 * 1024
# S3 bucket names (the general purpose rules): what a site path may name.
BUCKET_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")


class _Answer:
    def __init__(self, status: int, headers: list[tuple[str, str]], body: bytes, note: str = "") -> None:
        self.status, self.headers, self.body, self.note = status, headers, body, note


class SiteServer:
    def __init__(self, aws_endpoint: str, identity: IdentityStandIn, admin: LocalCredential,
                 host: str = "127.0.0.1", port: int = 0,
                 status_provider: Callable[[], dict[str, Any]] | None = None,
                 connect_origins: Callable[[], list[str]] | None = None) -> None:
        self.aws_endpoint = aws_endpoint
        self.identity = identity
        self.admin = admin
        self.status_provider = status_provider
        self.connect_origins = connect_origins or (lambda: [])
        self._clients: dict[tuple[str, str], Any] = {}
        self._lock = threading.Lock()
        self._server = LocalHttpServer("site", self.handle, max_body_bytes=MAX_BODY_BYTES, host=host, port=port)

    @property
    def url(self) -> str:
        return self._server.url

    def start(self) -> None:
        self._server.start()

    def stop(self) -> None:
        self._server.stop()

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
        if path == COGNITO_PATH:
            if method != "POST":
                return _Answer(405, [("Content-Type", "text/plain")], b"Method Not Allowed")
            return self._cognito(request)
        if method not in ("GET", "HEAD"):
            return _Answer(405, [("Content-Type", "text/plain")], b"Method Not Allowed")
        status, headers, body = self.get_object(path)
        policy = content_security_policy(self.connect_origins())
        return _Answer(status, headers + security_headers(policy), body)

    # --- site ---------------------------------------------------------------------------------------------
    def get_object(self, path: str) -> tuple[int, list[tuple[str, str]], bytes]:
        parts = unquote(path).lstrip("/").split("/", 1)
        bucket = parts[0]
        key = parts[1] if len(parts) > 1 else ""
        if not BUCKET_NAME.match(bucket):
            return 404, [("Content-Type", "text/plain")], b"Not Found"
        if len(parts) == 1:  # /bucket → /bucket/ so relative asset paths resolve
            return 301, [("Location", f"/{bucket}/")], b""
        if key == "" or key.endswith("/"):
            key += "index.html"
        try:
            obj = self._client("s3", "us-east-1").get_object(Bucket=bucket, Key=key)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            status = 404 if code in {"NoSuchKey", "NoSuchBucket", "404"} else 403
            return status, [("Content-Type", "text/plain")], b"Not Found" if status == 404 else b"Forbidden"
        headers = [("Content-Type", obj.get("ContentType", "application/octet-stream"))]
        if obj.get("CacheControl"):
            headers.append(("Cache-Control", obj["CacheControl"]))
        return 200, headers, obj["Body"].read()

    # --- Cognito Identity stand-in ------------------------------------------------------------------------
    def _cognito(self, request: HttpRequest) -> _Answer:
        headers = [("Content-Type", "application/x-amz-json-1.1")]
        target = request.header("X-Amz-Target") or ""
        try:
            if target.rsplit(".", 1)[-1] not in BROWSER_OPERATIONS:
                raise CognitoError("UnknownOperationException", "not served here")
            body = json.loads(request.body or b"{}")
            if not isinstance(body, dict):
                raise CognitoError("InvalidParameterException", "request body must be a JSON object")
            return _Answer(200, headers, json.dumps(self.identity.handle(target, body)).encode())
        except CognitoError as exc:
            return _Answer(exc.status, headers, json.dumps({"__type": exc.error_type, "message": str(exc)}).encode())
        except ValueError:
            return _Answer(400, headers, json.dumps({"__type": "SerializationException",
                                                     "message": "invalid JSON"}).encode())
