"""The HTTP layer of every local-cloud server (API gateways, the DNS plane's names, the site, the control-plane
front): werkzeug's server does the HTTP/1.1 framing — Content-Length and chunked bodies — and this module adds
what each of them must do before a request means anything:

- refuse a `Host` that is not its own loopback address and port (403): a web page that found a port must not
  reach it under a name of its own (DNS rebinding);
- refuse malformed framing (400): a negative or non-numeric Content-Length, both Content-Length and chunked
  (request smuggling), a bad or negative chunk size;
- refuse a body over the server's limit with the server's own answer (413 for the gateway, as API Gateway);
- never send a header value with CR or LF in it (response splitting);
- and hand the rest over as an `HttpRequest`: the method, the request-target exactly as sent (raw path and
  query), the headers as sent (names' case kept, repeats kept), the body and the client's address.

Answers are written with Nagle off, so a header write and a body write do not meet the client's delayed ACK.
"""

from __future__ import annotations

import io
import json
import logging
import re
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, Protocol

from werkzeug.exceptions import HTTPException, RequestEntityTooLarge
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.wrappers import Request

__all__ = ["HttpRequest", "LocalHttpServer", "Response", "plain"]

logger = logging.getLogger(__name__)
_NON_NEGATIVE_INTEGER = re.compile(r"^[0-9]{1,15}$")


@dataclass
class HttpRequest:
    method: str
    target: str  # the request-target as received: raw path and query
    headers: list[tuple[str, str]]
    body: bytes = b""
    client_ip: str = "127.0.0.1"

    def header(self, name: str) -> str | None:
        lname = name.lower()
        return next((v for k, v in self.headers if k.lower() == lname), None)


class Response(Protocol):
    status: int
    headers: list[tuple[str, str]]
    body: bytes


@dataclass
class _Plain:
    status: int
    headers: list[tuple[str, str]]
    body: bytes
    note: str = ""


def plain(status: int, message: str, content_type: str = "application/json") -> _Plain:
    """A small answer the HTTP layer itself makes (a refused Host or framing)."""
    body = (json.dumps({"message": message}) if content_type == "application/json" else message).encode()
    return _Plain(status, [("Content-Type", content_type)], body, message)


class _HandlerMixin:
    """werkzeug's handler with Nagle off, the headers as the client sent them, and our own logging."""

    timeout = 120  # an idle connection is closed after this (and its thread ends)

    def setup(self) -> None:
        super().setup()
        try:
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass

    def make_environ(self) -> dict[str, Any]:
        environ = super().make_environ()
        environ["wildrydes.raw_headers"] = list(self.headers.items())
        return environ

    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass  # each server logs its own line (never the query or a header value)

    def log(self, type: str, message: str, *args: Any) -> None:  # noqa: A002 - werkzeug's signature
        logger.debug("local http: " + message, *args)


class LocalHttpServer:
    """One HTTP server on a loopback address: `handle(HttpRequest) -> Response`, in a thread per connection."""

    def __init__(self, name: str, handle: Callable[[HttpRequest], Response | None], *, max_body_bytes: int,
                 too_large: Callable[[], Response] | None = None,
                 log_served: Callable[[HttpRequest, Response, float], None] | None = None,
                 host: str = "127.0.0.1", port: int = 0, passthrough: Callable[..., Any] | None = None,
                 request_handler: type[WSGIRequestHandler] | None = None) -> None:
        """`handle` answers a request, or returns None to hand it (body and all) to the WSGI app `passthrough`."""
        self.name = name
        self.handle = handle
        self.max_body_bytes = max_body_bytes
        self.too_large = too_large or (lambda: plain(413, "Request Too Long"))
        self.log_served = log_served
        self.passthrough = passthrough
        handler = type("_Handler", (_HandlerMixin, request_handler or WSGIRequestHandler), {})
        self._server: BaseWSGIServer = make_server(host, port, self._app, threaded=True, request_handler=handler)
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def host(self) -> str:
        return str(self._server.server_address[0])

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def own_hosts(self) -> frozenset[str]:
        """The Host values this server answers to: its loopback address and port, by address or as localhost."""
        return frozenset({f"{self.host}:{self.port}", f"localhost:{self.port}"})

    def start(self) -> None:
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.2},
                                        name=f"local-{self.name}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(5)

    # --- one request --------------------------------------------------------------------------------------
    def _read(self, environ: dict[str, Any]) -> HttpRequest | Response:
        headers: list[tuple[str, str]] = environ.get("wildrydes.raw_headers", [])
        host = next((v for k, v in headers if k.lower() == "host"), "").strip().lower()
        if host not in self.own_hosts:
            return plain(403, "Forbidden: this server answers only to its own address")
        length = next((v for k, v in headers if k.lower() == "content-length"), None)
        chunked = "chunked" in (next((v for k, v in headers if k.lower() == "transfer-encoding"), "") or "").lower()
        if length is not None and (chunked or not _NON_NEGATIVE_INTEGER.match(length.strip())):
            return plain(400, "Bad Request: malformed Content-Length")
        request = Request(environ)
        request.max_content_length = self.max_body_bytes
        try:
            body = request.get_data(cache=False)
        except RequestEntityTooLarge:
            return self.too_large()
        except (HTTPException, OSError, ValueError):
            # A bad or negative chunk size, or a body that ends early (werkzeug: ClientDisconnected).
            return plain(400, "Bad Request: malformed body framing")
        return HttpRequest(environ["REQUEST_METHOD"], environ.get("RAW_URI") or "/", headers, body,
                           environ.get("REMOTE_ADDR") or "127.0.0.1")

    def _app(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        started = time.perf_counter()
        request = self._read(environ)
        if isinstance(request, HttpRequest):
            try:
                response = self.handle(request)
            except Exception:  # noqa: BLE001 - a bug must not kill the connection's thread without an answer
                logger.exception("local %s: error serving %s", self.name, request.method)
                response = plain(500, "Internal server error")
            if response is None and self.passthrough is not None:
                # The body was read (and checked) here: the app gets it as a plain, complete input.
                environ["wsgi.input"] = io.BytesIO(request.body)
                environ["CONTENT_LENGTH"] = str(len(request.body))
                environ.pop("HTTP_TRANSFER_ENCODING", None)
                environ.pop("wsgi.input_terminated", None)
                return self.passthrough(environ, start_response)
            if response is None:
                response = plain(404, "Not Found")
        else:
            response = request
            if response.status == 413:
                environ["wsgi.input_terminated"] = True  # what is left of the body is not read
        headers = [(k, v) for k, v in response.headers if "\r" not in v and "\n" not in v
                   and k.lower() != "content-length"]
        if len(headers) != len(response.headers) - sum(1 for k, _ in response.headers
                                                       if k.lower() == "content-length"):
            logger.warning("local %s: dropped a response header with a line break in its value", self.name)
        headers.append(("Content-Length", str(len(response.body))))
        try:
            phrase = HTTPStatus(response.status).phrase
        except ValueError:
            phrase = ""
        start_response(f"{response.status} {phrase}".strip(), headers)
        if self.log_served is not None and isinstance(request, HttpRequest):
            self.log_served(request, response, started)
        return [response.body]


class ServedBy:
    """A part of the local cloud that answers HTTP through one LocalHttpServer (set `_server`): its URL, start
    and stop are the server's."""

    _server: LocalHttpServer

    @property
    def url(self) -> str:
        return self._server.url

    def start(self) -> None:
        self._server.start()

    def stop(self) -> None:
        self._server.stop()
