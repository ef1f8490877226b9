"""The fake backend's HTTP servers (see browser_fake_cloud.py for what they serve): per region one server for the
ticket API and Cognito, one for the failover name, one for the site and the Facebook stand-in. Here: routing,
CORS on every answer (errors too, as the real API's gateway responses), a region's outage (connections dropped
or 503) and answers dropped after the request was carried out."""

from __future__ import annotations

import functools
import json
import socket
from http.server import BaseHTTPRequestHandler, SimpleHTTPRequestHandler, ThreadingHTTPServer

from browser_fake_api import route_of
from browser_fake_cloud import Call, FakeCloud, Region
from browser_fake_sigv4 import Rejected
from browser_support import start_server

from wildrydes_mr.local import facebook

API_ALLOW_HEADERS = "Content-Type,X-Amz-Date,Authorization,X-Amz-Security-Token,X-Amz-Content-Sha256"
COGNITO_ALLOW_HEADERS = "Content-Type,X-Amz-Target,X-Amz-Date,X-Amz-User-Agent,Authorization"


def serve(cloud: FakeCloud) -> list[ThreadingHTTPServer]:
    """Starts every server of `cloud` (ports chosen by the OS) and returns them."""
    servers = []
    for region in cloud.regions.values():
        region.server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(ApiHandler, cloud, region.name))
        servers.append(region.server)
    cloud.failover_name_server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(ApiHandler, cloud, ""))
    cloud.site_server = ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(SiteHandler, cloud, directory=str(cloud.web_root))
    )
    servers += [cloud.failover_name_server, cloud.site_server]
    for server in servers:
        start_server(server)
    return servers


class JsonAnswers:
    """Writing a JSON answer, or dropping the connection without one."""

    def answer(self, status: int, payload: dict | None, *, headers: dict[str, str]) -> None:
        data = b"" if payload is None else json.dumps(payload).encode()
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def drop(self) -> None:
        # Unreachable: the connection closes without an answer (the browser's fetch rejects).
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


class ApiHandler(JsonAnswers, BaseHTTPRequestHandler):
    """One region's API and Cognito (`region_name`), or the failover name (""): the region it points at."""

    protocol_version = "HTTP/1.1"

    def __init__(self, cloud: FakeCloud, region_name: str, *args, **kwargs) -> None:
        self.cloud = cloud
        self.region_name = region_name
        super().__init__(*args, **kwargs)

    def log_message(self, format: str, *args) -> None:
        pass

    def do_OPTIONS(self) -> None:
        self.handle_call()

    def do_GET(self) -> None:
        self.handle_call()

    def do_POST(self) -> None:
        self.handle_call()

    def handle_call(self) -> None:
        cloud = self.cloud
        path, _, query = self.path.partition("?")
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        with cloud.lock:
            region = cloud.regions[self.region_name or cloud.failover_name_region]
        route = route_of(path, regional=bool(self.region_name))
        is_cognito = route == "cognito"
        call = Call(self.command, path, route, region=region.name,
                    via="regional" if self.region_name else "failover-name",
                    target=(self.headers.get("X-Amz-Target") or "").removeprefix("AWSCognitoIdentityService."))
        down = region.cognito_down if is_cognito else region.api_down
        if down == "drop":
            call.message = "connection dropped (region down)"
            cloud.record(call)
            self.drop()
            return
        try:
            if down == "503":
                raise Rejected(503, f"Service Unavailable (local outage of {region.name})")
            status, payload = self.route(region, path, query, body, call, is_cognito)
        except Rejected as rejected:
            status, payload = rejected.status, {"message": rejected.message}
            if rejected.error_type:
                payload["__type"] = rejected.error_type
            call.message = rejected.message
        call.status = status
        if call.route in ("tickets", "claims") and self.command != "OPTIONS" and region.drop_answers > 0:
            with cloud.lock:
                region.drop_answers -= 1
            call.message = f"answer {status} dropped"
            cloud.record(call)
            self.drop()
            return
        cloud.record(call)
        self.answer(status, payload, headers={
            "Access-Control-Allow-Origin": "*",
            "Access-Control-Allow-Headers": COGNITO_ALLOW_HEADERS if is_cognito else API_ALLOW_HEADERS,
            "Access-Control-Allow-Methods": "GET,POST,OPTIONS",
            "Content-Type": "application/x-amz-json-1.1" if is_cognito else "application/json",
            "Cache-Control": "no-store",
            # A new connection for every request: chromium resends a request itself when a kept-alive connection
            # closes unanswered, which would hide a dropped answer from the page.
            "Connection": "close",
        })

    def route(self, region: Region, path: str, query: str, body: bytes, call: Call,
              is_cognito: bool) -> tuple[int, dict | None]:
        if self.command == "OPTIONS":
            return 204, None
        if is_cognito and self.command == "POST":
            try:
                payload = json.loads(body or b"{}")
            except json.JSONDecodeError:
                raise Rejected(400, "Invalid JSON", "SerializationException") from None
            return 200, self.cloud.cognito(region, self.headers.get("X-Amz-Target", ""), payload)
        if call.route == "health" and self.command == "GET":
            return self.cloud.health(region)
        return self.cloud.ticket_route(region, self.command, path, query, self.headers, body, call)


class SiteHandler(JsonAnswers, SimpleHTTPRequestHandler):
    """web/ as files; /config.js generated for the fake cloud (a real web/config.js on disk is ignored); the
    Facebook stand-in, POST /_facebook/login (global: no region's outage touches it)."""

    def __init__(self, cloud: FakeCloud, *args, **kwargs) -> None:
        self.cloud = cloud
        super().__init__(*args, **kwargs)

    def log_message(self, format: str, *args) -> None:
        pass

    def end_headers(self) -> None:
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.path != facebook.LOGIN_PATH:
            self.send_error(404)
            return
        status, payload = facebook.login(body)
        self.cloud.record(Call("POST", self.path, "facebook", via="site", status=status))
        self.answer(status, payload, headers={"Content-Type": "application/json"})

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
