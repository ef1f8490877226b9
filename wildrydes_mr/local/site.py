"""The local cloud's site server: serves the site bucket from moto, and stands in for Cognito's sign-in.

- `GET /<bucket>/<key>` answers with the object held by moto (index.html for the bare prefix), with its stored
  Content-Type and Cache-Control, as CloudFront in front of the bucket would.
- `POST /_cognito/` speaks Cognito Identity's JSON protocol (GetId, GetCredentialsForIdentity) for the web app's
  local sign-in, which stands in for Facebook: the login token is `local:<name>`. The identity comes from
  moto's GetId; the credentials are minted here, unique per call, and registered in the CredentialStore the
  local gateways verify signatures against — so the gateway accepts exactly the credentials handed out.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import string
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote, urlsplit

import boto3
from botocore.config import Config as BotoConfig
from botocore.exceptions import ClientError

from wildrydes_mr.local.credentials import CredentialStore, LocalCredential

logger = logging.getLogger(__name__)

FACEBOOK = "graph.facebook.com"
LOCAL_TOKEN = re.compile(r"^local:[\w .@-]{1,64}$")
CREDENTIAL_LIFETIME_SECONDS = 3600
COGNITO_PATH = "/_cognito/"
STATUS_PATH = "/_local/status"


class _CognitoError(Exception):
    def __init__(self, error_type: str, message: str, status: int = 400):
        super().__init__(message)
        self.error_type = error_type
        self.status = status


class SiteServer:
    def __init__(
        self,
        aws_endpoint: str,
        credentials: CredentialStore,
        admin: LocalCredential,
        host: str = "127.0.0.1",
        port: int = 0,
        status_provider: Callable[[], dict[str, Any]] | None = None,
    ):
        self.aws_endpoint = aws_endpoint
        self.status_provider = status_provider
        self.credentials = credentials
        self.admin = admin
        self._server = ThreadingHTTPServer((host, port), self._handler_class())
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None
        self._clients: dict[tuple[str, str], Any] = {}
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> None:
        self._thread = threading.Thread(target=self._server.serve_forever, name="site-server", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _client(self, service: str, region: str) -> Any:
        with self._lock:
            key = (service, region)
            if key not in self._clients:
                self._clients[key] = boto3.client(
                    service,
                    region_name=region,
                    endpoint_url=self.aws_endpoint,
                    aws_access_key_id=self.admin.access_key_id,
                    aws_secret_access_key=self.admin.secret_access_key,
                    config=BotoConfig(retries={"mode": "standard", "max_attempts": 3}),
                )
            return self._clients[key]

    # --- site ---------------------------------------------------------------------------------------------
    def get_object(self, path: str) -> tuple[int, dict[str, str], bytes]:
        parts = unquote(urlsplit(path).path).lstrip("/").split("/", 1)
        bucket = parts[0]
        key = parts[1] if len(parts) > 1 else ""
        if not bucket:
            return 404, {"Content-Type": "text/plain"}, b"Not Found"
        if len(parts) == 1:  # /bucket → /bucket/ so relative asset paths resolve
            return 301, {"Location": f"/{bucket}/"}, b""
        if key == "" or key.endswith("/"):
            key += "index.html"
        try:
            obj = self._client("s3", "us-east-1").get_object(Bucket=bucket, Key=key)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            status = 404 if code in {"NoSuchKey", "NoSuchBucket", "404"} else 403
            return status, {"Content-Type": "text/plain"}, b"Not Found" if status == 404 else b"Forbidden"
        headers = {"Content-Type": obj.get("ContentType", "application/octet-stream")}
        if obj.get("CacheControl"):
            headers["Cache-Control"] = obj["CacheControl"]
        return 200, headers, obj["Body"].read()

    # --- Cognito Identity stand-in ------------------------------------------------------------------------
    def cognito(self, target: str, body: dict[str, Any]) -> dict[str, Any]:
        operation = target.rsplit(".", 1)[-1]
        if operation == "GetId":
            pool_id = self._pool_id(body)
            self._check_logins(body)
            region = pool_id.split(":")[0]
            identity = self._client("cognito-identity", region).get_id(IdentityPoolId=pool_id, Logins=body["Logins"])
            # moto's server mode prefixes identity ids with us-east-1 whatever the pool's region; AWS uses the
            # pool's region, and so do we.
            return {"IdentityId": f"{region}:{identity['IdentityId'].split(':', 1)[1]}"}
        if operation == "GetCredentialsForIdentity":
            identity_id = body.get("IdentityId")
            if not isinstance(identity_id, str) or ":" not in identity_id:
                raise _CognitoError("InvalidParameterException", "IdentityId is required")
            self._check_logins(body)
            credential = LocalCredential(
                access_key_id="ASIA"
                + "".join(secrets.choice(string.ascii_uppercase + string.digits) for _ in range(16)),
                secret_access_key=secrets.token_urlsafe(30),
                session_token=secrets.token_urlsafe(48),
                cognito_identity_id=identity_id,
            )
            self.credentials.add(credential)
            return {
                "IdentityId": identity_id,
                "Credentials": {
                    "AccessKeyId": credential.access_key_id,
                    "SecretKey": credential.secret_access_key,
                    "SessionToken": credential.session_token,
                    "Expiration": int(time.time()) + CREDENTIAL_LIFETIME_SECONDS,
                },
            }
        raise _CognitoError("UnknownOperationException", f"{operation} is not served by the local cloud")

    def _pool_id(self, body: dict[str, Any]) -> str:
        pool_id = body.get("IdentityPoolId")
        if not isinstance(pool_id, str) or ":" not in pool_id:
            raise _CognitoError("InvalidParameterException", "IdentityPoolId is required")
        try:
            pool = self._client("cognito-identity", pool_id.split(":")[0]).describe_identity_pool(
                IdentityPoolId=pool_id
            )
        except ClientError:
            raise _CognitoError("ResourceNotFoundException", f"identity pool {pool_id} not found") from None
        if FACEBOOK not in (pool.get("SupportedLoginProviders") or {}) and pool.get(
            "SupportedLoginProviders"
        ):
            raise _CognitoError("NotAuthorizedException", "this pool does not accept Facebook sign-in")
        return pool_id

    @staticmethod
    def _check_logins(body: dict[str, Any]) -> None:
        # The pools we make allow no unauthenticated identities: a login is always required.
        logins = body.get("Logins")
        if not isinstance(logins, dict) or set(logins) != {FACEBOOK}:
            raise _CognitoError(
                "NotAuthorizedException", "Unauthenticated access is not supported for this pool"
            )
        if not isinstance(logins[FACEBOOK], str) or not LOCAL_TOKEN.match(logins[FACEBOOK]):
            raise _CognitoError(
                "NotAuthorizedException", "Invalid login token (the local cloud expects local:<name>)"
            )

    def _handler_class(self):
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _send(self, status: int, headers: dict[str, str], body: bytes) -> None:
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                if urlsplit(self.path).path == STATUS_PATH and site.status_provider is not None:
                    # The local cloud's own state (health checks, routing, replication) for `local status`
                    # and test-failover: the parts of AWS's data plane that moto has no API for.
                    body = json.dumps(site.status_provider(), default=str).encode()
                    self._send(200, {"Content-Type": "application/json", "Cache-Control": "no-store"}, body)
                    return
                self._send(*site.get_object(self.path))

            do_HEAD = do_GET  # noqa: N815

            def do_POST(self) -> None:  # noqa: N802
                if urlsplit(self.path).path != COGNITO_PATH:
                    self._send(405, {"Content-Type": "text/plain"}, b"Method Not Allowed")
                    return
                length = int(self.headers.get("Content-Length") or 0)
                headers = {"Content-Type": "application/x-amz-json-1.1"}
                try:
                    if length > 65536:
                        raise _CognitoError("InvalidParameterException", "request too large")
                    body = json.loads(self.rfile.read(length) or b"{}")
                    if not isinstance(body, dict):
                        raise _CognitoError("InvalidParameterException", "request body must be a JSON object")
                    answer = site.cognito(self.headers.get("X-Amz-Target", ""), body)
                    self._send(200, headers, json.dumps(answer).encode())
                except _CognitoError as exc:
                    self._send(
                        exc.status,
                        headers,
                        json.dumps({"__type": exc.error_type, "message": str(exc)}).encode(),
                    )
                except ValueError:
                    self._send(
                        400,
                        headers,
                        json.dumps({"__type": "SerializationException", "message": "invalid JSON"}).encode(),
                    )

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                logger.info("site %s", format % args)

        return Handler
