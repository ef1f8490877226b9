"""A fake Wild Rydes backend for the browser tests: the site, Cognito Identity and the ticket API, in Python.

Two threaded http.servers on 127.0.0.1, so that the page and the API are different origins, as on the local
cloud (and on AWS): CORS, preflights and all.
- site: web/ as files, plus a config.js generated for this backend (signIn "local" unless told otherwise).
- api:  POST /cognito/   Cognito Identity's JSON protocol: GetId, GetCredentialsForIdentity (tokens "local:<name>")
        GET  /prod/health       unsigned: 200 {"region","status":"healthy"} or 503 unhealthy
        GET  /prod/ticket       SigV4 (execute-api, the serving region) with credentials issued above
        POST /prod/ticket       the same, validating the body like the real create-ticket function
  Every answer carries the CORS headers the real API sends; a bad signature is a 403 {"message"} like API
  Gateway's, recomputed with botocore's SigV4Auth from the received request and its X-Amz-Date.

Switches for the tests: `down` (every API connection is dropped unanswered), `healthy`/`reason`, `failover()`
(the serving region changes: signatures for the old region are refused), `refuse_logins` (Cognito refuses every
login token, as when a Facebook token expired), `credential_lifetime` (seconds), `expire_credentials()`.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import hmac
import json
import re
import secrets
import socket
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs

from botocore.auth import SIGV4_TIMESTAMP, SigV4Auth
from botocore.awsrequest import AWSRequest, HTTPHeaders
from botocore.credentials import Credentials

LOGIN_PROVIDER = "graph.facebook.com"
API_ALLOW_HEADERS = "Content-Type,X-Amz-Date,Authorization,X-Amz-Security-Token,X-Amz-Content-Sha256"
COGNITO_ALLOW_HEADERS = "Content-Type,X-Amz-Target,X-Amz-Date,X-Amz-User-Agent,Authorization"
PRIORITIES = ("low", "medium", "high")
STATUSES = ("open", "assigned", "closed")
FIELDS = ("description", "assigned", "priority", "status")
MAX_SKEW = dt.timedelta(minutes=5)


class Rejected(Exception):
    def __init__(self, status: int, message: str, error_type: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.error_type = error_type


@dataclass
class Issued:
    access_key_id: str
    secret_key: str
    session_token: str
    expires: float
    identity_id: str


@dataclass
class Call:
    method: str
    path: str
    status: int
    message: str = ""
    region: str = ""  # the credential scope's region, for signed calls
    access_key_id: str = ""


@dataclass
class FakeCloud:
    web_root: Path
    region: str = "eu-west-1"
    identity_pool_id: str = "eu-west-1:6f1b2c3d-0000-4000-8000-00000000c0de"
    sign_in: str = "local"
    facebook_app_id: str = "1234567890"
    serve_config: bool = True
    config_changes: dict = field(default_factory=dict)  # merged into config.js; a None value drops the key
    down: bool = False
    healthy: bool = True
    reason: str = ""
    refuse_logins: bool = False
    credential_lifetime: float = 3600.0
    tickets: list[dict] = field(default_factory=list)  # newest first
    calls: list[Call] = field(default_factory=list)
    issued: dict[str, Issued] = field(default_factory=dict)
    lock: threading.RLock = field(default_factory=threading.RLock)

    # --- lifecycle ---------------------------------------------------------------------------------------------

    def start(self) -> FakeCloud:
        self.api_server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(ApiHandler, self))
        self.site_server = ThreadingHTTPServer(
            ("127.0.0.1", 0), functools.partial(SiteHandler, self, directory=str(self.web_root))
        )
        for server in (self.api_server, self.site_server):
            server.daemon_threads = True
            threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def stop(self) -> None:
        for server in (self.api_server, self.site_server):
            server.shutdown()
            server.server_close()

    @property
    def site_url(self) -> str:
        return f"http://127.0.0.1:{self.site_server.server_address[1]}/"

    @property
    def api_base(self) -> str:
        return f"http://127.0.0.1:{self.api_server.server_address[1]}"

    @property
    def api_url(self) -> str:
        return f"{self.api_base}/prod/"

    @property
    def cognito_url(self) -> str:
        return f"{self.api_base}/cognito/"

    def config_js(self) -> str:
        config = {
            "region": "eu-west-1",
            "identityPoolId": self.identity_pool_id,
            "apiUrl": self.api_url,
            "facebookAppId": self.facebook_app_id,
            "cognitoEndpoint": self.cognito_url,
            "signIn": self.sign_in,
        }
        config.update(self.config_changes)
        config = {key: value for key, value in config.items() if value is not None}
        return f"window.WILDRYDES_CONFIG = {json.dumps(config, indent=2)};\n"

    # --- switches and data -------------------------------------------------------------------------------------

    def failover(self, region: str) -> None:
        with self.lock:
            self.region = region

    def add_ticket(self, description: str, *, assigned: str = "Support", priority: str = "medium",
                   status: str = "open", created_by: str = "eu-west-1:someone-else") -> dict:
        with self.lock:
            ticket = {
                "id": str(uuid.uuid4()),
                "description": description,
                "assigned": assigned,
                "priority": priority,
                "status": status,
                "createdBy": created_by,
                "createdOn": dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            }
            self.tickets.insert(0, ticket)
            return ticket

    def expire_credentials(self) -> None:
        """Every credential issued so far expires now (the API refuses them: "... token ... is expired")."""
        with self.lock:
            for issued in self.issued.values():
                issued.expires = time.time() - 1

    def calls_to(self, path: str, method: str | None = None) -> list[Call]:
        with self.lock:
            return [c for c in self.calls if c.path == path and (method is None or c.method == method)]

    def secrets_issued(self) -> list[str]:
        with self.lock:
            return [s for i in self.issued.values() for s in (i.secret_key, i.session_token)]

    # --- Cognito Identity --------------------------------------------------------------------------------------

    def identity_for(self, logins: object) -> str:
        token = logins.get(LOGIN_PROVIDER) if isinstance(logins, dict) else None
        if self.refuse_logins:
            raise Rejected(400, "Invalid login token. Token is expired.", "NotAuthorizedException")
        if not isinstance(token, str) or not token.startswith("local:") or not token[6:].strip():
            raise Rejected(400, "Invalid login token. Not a valid local token.", "NotAuthorizedException")
        return f"eu-west-1:{uuid.uuid5(uuid.NAMESPACE_URL, token)}"

    def cognito(self, target: str, payload: dict) -> dict:
        if target == "AWSCognitoIdentityService.GetId":
            if payload.get("IdentityPoolId") != self.identity_pool_id:
                raise Rejected(400, f"IdentityPool '{payload.get('IdentityPoolId')}' not found.",
                               "ResourceNotFoundException")
            return {"IdentityId": self.identity_for(payload.get("Logins"))}
        if target == "AWSCognitoIdentityService.GetCredentialsForIdentity":
            identity_id = self.identity_for(payload.get("Logins"))
            if payload.get("IdentityId") != identity_id:
                raise Rejected(400, "Invalid login token. The token does not belong to this identity.",
                               "NotAuthorizedException")
            issued = Issued(
                access_key_id="ASIA" + secrets.token_hex(8).upper(),
                secret_key=secrets.token_urlsafe(30),
                session_token=secrets.token_urlsafe(48),
                expires=time.time() + self.credential_lifetime,
                identity_id=identity_id,
            )
            with self.lock:
                self.issued[issued.access_key_id] = issued
            return {
                "IdentityId": identity_id,
                "Credentials": {
                    "AccessKeyId": issued.access_key_id,
                    "SecretKey": issued.secret_key,
                    "SessionToken": issued.session_token,
                    "Expiration": round(issued.expires, 3),  # epoch seconds, a JSON number
                },
            }
        raise Rejected(400, f"Unknown operation {target}", "UnknownOperationException")

    # --- SigV4, checked with botocore ----------------------------------------------------------------------------

    def verify(self, method: str, path: str, query: str, headers, body: bytes) -> Issued:
        authorization = headers.get("Authorization")
        if not authorization:
            raise Rejected(403, "Missing Authentication Token")
        match = re.fullmatch(
            r"AWS4-HMAC-SHA256 Credential=([^/]+)/(\d{8})/([^/]+)/([^/]+)/aws4_request, "
            r"SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})",
            authorization,
        )
        if not match:
            raise Rejected(403, "Authorization header requires 'Credential', 'Signature' and 'SignedHeaders'.")
        key, date, region, service, signed, signature = match.groups()
        if service != "execute-api":
            raise Rejected(403, "Credential should be scoped to correct service: 'execute-api'. ")
        with self.lock:
            serving = self.region
            issued = self.issued.get(key)
        if region != serving:
            raise Rejected(403, f"Credential should be scoped to a valid region, not '{region}'. ")
        if issued is None or headers.get("X-Amz-Security-Token") != issued.session_token:
            raise Rejected(403, "The security token included in the request is invalid.")
        if issued.expires < time.time():
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
        return issued

    # --- the ticket API ----------------------------------------------------------------------------------------

    def list_tickets(self, query: str) -> dict:
        params = parse_qs(query, keep_blank_values=True)
        unknown = sorted(set(params) - {"limit", "next"})
        if unknown:
            raise Rejected(400, f"Unknown query parameter(s): {', '.join(unknown)}")
        limit_text = params.get("limit", ["20"])[0]
        if not re.fullmatch(r"[0-9]{1,3}", limit_text) or not 1 <= int(limit_text) <= 100:
            raise Rejected(400, "Query parameter 'limit' must be an integer from 1 to 100")
        limit = int(limit_text)
        with self.lock:
            tickets = list(self.tickets)
        start = 0
        if "next" in params:
            try:
                after = json.loads(base64.urlsafe_b64decode(params["next"][0].encode()))["id"]
                start = next(i for i, t in enumerate(tickets) if t["id"] == after) + 1
            except (ValueError, KeyError, TypeError, StopIteration):
                raise Rejected(400, "Query parameter 'next' is not a valid page token") from None
        page = tickets[start:start + limit]
        more = start + limit < len(tickets)
        token = base64.urlsafe_b64encode(json.dumps({"id": page[-1]["id"]}).encode()).decode() if more else None
        return {"tickets": page, "next": token}

    def create_ticket(self, body: bytes, issued: Issued) -> dict:
        try:
            data = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise Rejected(400, "Request body is not valid JSON") from None
        if not isinstance(data, dict):
            raise Rejected(400, "Request body must be a JSON object with " + ", ".join(FIELDS))
        unknown = sorted(set(data) - set(FIELDS))
        if unknown:
            raise Rejected(400, "Unknown field(s): " + ", ".join(unknown))
        missing = [name for name in FIELDS if name not in data]
        if missing:
            raise Rejected(400, "Missing required field(s): " + ", ".join(missing))
        clean = {}
        for name, (low, high) in (("description", (10, 2000)), ("assigned", (1, 100))):
            value = data[name]
            if not isinstance(value, str):
                raise Rejected(400, f"Field '{name}' must be a string")
            value = value.strip()
            if not low <= len(value) <= high:
                message = f"Field '{name}' must be {low}-{high} characters (after trimming), got {len(value)}"
                raise Rejected(400, message)
            clean[name] = value
        for name, allowed in (("priority", PRIORITIES), ("status", STATUSES)):
            if data[name] not in allowed:
                raise Rejected(400, f"Field '{name}' must be one of: {', '.join(allowed)}")
            clean[name] = data[name]
        return self.add_ticket(created_by=issued.identity_id, **clean)


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


class ApiHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def __init__(self, cloud: FakeCloud, *args, **kwargs) -> None:
        self.cloud = cloud
        super().__init__(*args, **kwargs)

    def log_message(self, format: str, *args) -> None:
        pass

    def do_OPTIONS(self) -> None:
        self.handle_api()

    def do_GET(self) -> None:
        self.handle_api()

    def do_POST(self) -> None:
        self.handle_api()

    def handle_api(self) -> None:
        cloud = self.cloud
        if cloud.down:
            # Unreachable: the connection closes without an answer (the browser's fetch rejects).
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        path, _, query = self.path.partition("?")
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        call = Call(self.command, path, 0)
        try:
            status, payload = self.route(path, query, body, call)
        except Rejected as rejected:
            status = rejected.status
            payload = {"message": rejected.message}
            if rejected.error_type:
                payload["__type"] = rejected.error_type
            call.message = rejected.message
        call.status = status
        with cloud.lock:
            cloud.calls.append(call)
        self.answer(status, payload, cognito=path == "/cognito/")

    def route(self, path: str, query: str, body: bytes, call: Call) -> tuple[int, dict | None]:
        cloud = self.cloud
        if self.command == "OPTIONS":
            return 204, None
        if path == "/cognito/" and self.command == "POST":
            try:
                payload = json.loads(body or b"{}")
            except json.JSONDecodeError:
                raise Rejected(400, "Invalid JSON", "SerializationException") from None
            return 200, cloud.cognito(self.headers.get("X-Amz-Target", ""), payload)
        if path == "/prod/health" and self.command == "GET":
            with cloud.lock:
                region, healthy, reason = cloud.region, cloud.healthy, cloud.reason
            if healthy:
                return 200, {"region": region, "status": "healthy"}
            return 503, {"region": region, "status": "unhealthy", "reason": reason or "forced unhealthy"}
        if path == "/prod/ticket" and self.command in ("GET", "POST"):
            issued = cloud.verify(self.command, path, query, self.headers, body)
            call.access_key_id = issued.access_key_id
            call.region = cloud.region
            if self.command == "GET":
                return 200, cloud.list_tickets(query)
            return 201, cloud.create_ticket(body, issued)
        raise Rejected(403, "Missing Authentication Token")

    def answer(self, status: int, payload: dict | None, *, cognito: bool) -> None:
        data = b"" if payload is None else json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Access-Control-Allow-Origin", "*")
        self.send_header("Access-Control-Allow-Headers", COGNITO_ALLOW_HEADERS if cognito else API_ALLOW_HEADERS)
        self.send_header("Access-Control-Allow-Methods", "GET,POST,OPTIONS")
        self.send_header("Content-Type", "application/x-amz-json-1.1" if cognito else "application/json")
        self.send_header("Cache-Control", "no-store")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class SiteHandler(SimpleHTTPRequestHandler):
    """web/ as files; /config.js generated for the fake cloud (a real web/config.js on disk is ignored)."""

    def __init__(self, cloud: FakeCloud, *args, **kwargs) -> None:
        self.cloud = cloud
        super().__init__(*args, **kwargs)

    def log_message(self, format: str, *args) -> None:
        pass

    def end_headers(self) -> None:
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def do_GET(self) -> None:
        if self.path.partition("?")[0] == "/config.js":
            if not self.cloud.serve_config:
                self.send_error(404)
                return
            data = self.cloud.config_js().encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/javascript; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            return
        super().do_GET()
