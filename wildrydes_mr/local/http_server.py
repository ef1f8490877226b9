"""The HTTP layer shared by the local cloud's servers: the local API gateway (gateway.py) and the DNS plane's
names (dns.py).

This module owns how a request comes off the socket and its answer goes back: HTTP/1.1 keep-alive with Nagle
off and one write per response, the set of open client connections a server shuts down when it stops, reading
a body in either framing (Content-Length or chunked) up to a limit, and the answers to a body that cannot be
read (400 when its framing is malformed; the subclass's 413, with the connection closed, when it is too large).
What a request means, and how it is logged, belongs to the subclass: `respond`, `too_large`, `log_served`.
"""

from __future__ import annotations

import socket
import threading
import time
from http.server import BaseHTTPRequestHandler
from typing import Protocol

__all__ = ["ConnectionSet", "KeepAliveHandler", "Response"]


class Response(Protocol):
    status: int
    headers: list[tuple[str, str]]
    body: bytes


class ConnectionSet:
    """The open client connections of one server. Keep-alive connections outlive serve_forever: `close_all`
    shuts them down, so that nothing is served after the server stopped."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()

    def add(self, connection: socket.socket) -> None:
        with self._lock:
            self._open.add(connection)

    def discard(self, connection: socket.socket) -> None:
        with self._lock:
            self._open.discard(connection)

    def close_all(self) -> None:
        with self._lock:
            connections, self._open = list(self._open), set()
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class KeepAliveHandler(BaseHTTPRequestHandler):
    """Serves every method through `respond(body)`; a server binds a subclass with `connections` set."""

    protocol_version = "HTTP/1.1"  # keep-alive: a signed call costs one round trip, not a TCP handshake too
    # Buffer the response and send it in one write (flushed by http.server after each request), with Nagle
    # off: a header write followed by a body write would otherwise meet the client's delayed ACK (~40 ms a
    # call).
    wbufsize = -1
    timeout = 120  # an idle keep-alive connection is closed after this (and its thread ends)
    connections: ConnectionSet
    max_body_bytes: int

    def respond(self, body: bytes) -> Response:
        raise NotImplementedError

    def too_large(self) -> Response:
        """The answer to a body over `max_body_bytes` (the connection is then closed)."""
        raise NotImplementedError

    def log_served(self, response: Response, started: float) -> None:
        """Called after each answer; `started` is time.perf_counter() when the request came in."""

    def setup(self) -> None:
        super().setup()
        try:
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass
        self.connections.add(self.connection)

    def finish(self) -> None:
        self.connections.discard(self.connection)
        try:
            super().finish()
        except OSError:
            pass

    def _read_body(self) -> bytes | None:
        """The request body; None when it is larger than `max_body_bytes`. Malformed framing: ValueError."""
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks, total = [], 0
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                total += size
                if total > self.max_body_bytes:
                    return None
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        if length > self.max_body_bytes:
            return None
        return self.rfile.read(length) if length > 0 else b""

    def _serve(self) -> None:
        started = time.perf_counter()
        try:
            body = self._read_body()
        except ValueError:
            self.send_error(400)
            return
        if body is None:
            response = self.too_large()
            self.close_connection = True
        else:
            response = self.respond(body)
        self.send_response(response.status)
        for name, value in response.headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)
        self.log_served(response, started)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_HEAD = _serve
