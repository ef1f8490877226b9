"""The local cloud's control plane: the one endpoint the tool, the AWS CLI and the local cloud's own parts call
(`aws_endpoint`). moto answers the AWS APIs in this process, behind this front, which is the only port moto is
reached through and refuses what AWS (and a careful emulator) would:

- a Host that is not its own loopback address (the HTTP layer): no DNS rebinding;
- any request carrying an Origin header, and every CORS preflight: the AWS APIs here are not for browsers, and
  moto would otherwise answer any origin with CORS (its global CORS is switched off too) — and even without
  CORS, a web page could send "simple" cross-origin POSTs to the query-protocol APIs;
- and it answers what moto lacks, as the service would: Cognito Identity's SetIdentityPoolRoles and
  GetIdentityPoolRoles (identity.py holds them for the gateways).
Everything else goes to moto as received.
"""

from __future__ import annotations

import json
import logging
import os
from typing import Any

from .http_server import HttpRequest, LocalHttpServer, plain
from .identity import CognitoError, IdentityStandIn

__all__ = ["ControlPlane"]

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 64 * 1024 * 1024
COGNITO_TARGET = "AWSCognitoIdentityService."
ANSWERED_HERE = {"SetIdentityPoolRoles", "GetIdentityPoolRoles"}


def _moto_app() -> Any:
    """moto's WSGI application (what `moto_server` serves), with its global CORS off."""
    os.environ["MOTO_DISABLE_GLOBAL_CORS"] = "true"
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    return DomainDispatcherApplication(create_backend_app)


class _Answer:
    def __init__(self, status: int, body: dict[str, Any], content_type: str = "application/x-amz-json-1.1"):
        self.status = status
        self.headers = [("Content-Type", content_type)]
        self.body = json.dumps(body).encode()
        self.note = ""


class ControlPlane:
    def __init__(self, identity: IdentityStandIn, host: str = "127.0.0.1", port: int = 0) -> None:
        from moto.server import MotoRequestHandler

        self.identity = identity
        self._server = LocalHttpServer("control-plane", self.handle, max_body_bytes=MAX_BODY_BYTES, host=host,
                                       port=port, passthrough=_moto_app(), request_handler=MotoRequestHandler)

    @property
    def url(self) -> str:
        return self._server.url

    def start(self) -> None:
        self._server.start()

    def stop(self) -> None:
        self._server.stop()

    def handle(self, request: HttpRequest) -> Any:
        """An answer of its own, or None for moto to answer."""
        if request.header("Origin") is not None or request.method.upper() == "OPTIONS":
            return plain(403, "Forbidden: the local control plane does not serve cross-origin requests")
        target = request.header("X-Amz-Target") or ""
        if target.startswith(COGNITO_TARGET) and target[len(COGNITO_TARGET):] in ANSWERED_HERE:
            return self._cognito(target, request.body)
        return None

    def _cognito(self, target: str, raw: bytes) -> _Answer:
        try:
            body = json.loads(raw or b"{}")
            if not isinstance(body, dict):
                raise CognitoError("SerializationException", "the request body must be a JSON object")
            return _Answer(200, self.identity.handle(target, body))
        except CognitoError as exc:
            return _Answer(exc.status, {"__type": exc.error_type, "message": str(exc)})
        except ValueError:
            return _Answer(400, {"__type": "SerializationException", "message": "invalid JSON"})
