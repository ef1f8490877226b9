"""The local cloud's control plane: the one endpoint the tool, the AWS CLI and the local cloud's own parts call
(`aws_endpoint`). moto answers the AWS APIs in this process, behind this front, which is the only port moto is
reached through and refuses what AWS (and a careful emulator) would:

- a Host that is not its own loopback address (the HTTP layer): no DNS rebinding;
- any request carrying an Origin header, and every CORS preflight: the AWS APIs here are not for browsers, and
  moto would otherwise answer any origin with CORS (its global CORS is switched off too) — and even without
  CORS, a web page could send "simple" cross-origin POSTs to the query-protocol APIs;
- and it answers what moto lacks, as the service would: Cognito Identity's SetIdentityPoolRoles,
  GetIdentityPoolRoles, SetPrincipalTagAttributeMap and GetPrincipalTagAttributeMap (identity.py holds them for
  the gateways and the sign-in), for the pools of the region the call is signed for (Cognito is regional);
- AWS FIS (fis.py, for requests signed for the `fis` service): templates FIS would refuse are refused here, and
  each experiment's state is set as FIS would hold it (running for its duration × time_scale, stopped on
  StopExperiment) before moto answers;
- a change of a Lambda function or an API Gateway definition (a mutating request signed for `lambda` or
  `apigateway`) is passed on to `on_change(region)` once moto has applied it: the region's gateway
  forgets its cached definitions, so a throttle (reserved concurrency 0) or a new configuration takes effect with
  the next request, as on AWS, rather than up to its cache's second later (10 s at time_scale 0.1);
- the local cloud's own admin call, `/_local/outage` (outage.py): read, start or end a local outage, only with
  the daemon's random admin token (403 otherwise); the Origin and Host refusals above apply to it too.
Everything else goes to moto as received.
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

from .fis import FisStandIn
from .http_server import HttpRequest, LocalHttpServer, ServedBy, plain
from .identity import CognitoError, IdentityStandIn
from .outage import ADMIN_TOKEN_HEADER, OUTAGE_PATH, Outage, handle_admin

__all__ = ["ControlPlane"]

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 64 * 1024 * 1024
COGNITO_TARGET = "AWSCognitoIdentityService."
ANSWERED_HERE = {"SetIdentityPoolRoles", "GetIdentityPoolRoles", "SetPrincipalTagAttributeMap",
                 "GetPrincipalTagAttributeMap"}
# REST services whose changes the gateways must see at once (their mutating calls are these methods).
CHANGE_NOTIFIED_SERVICES = frozenset({"lambda", "apigateway"})
CHANGING_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# SigV4's credential scope: Credential=<key id>/<date>/<region>/<service>/aws4_request
SIGNED_REGION = re.compile(r"Credential=[^/,\s]+/\d{8}/([a-z0-9-]+)/")
SIGNED_SERVICE = re.compile(r"Credential=[^/,\s]+/\d{8}/[a-z0-9-]+/([a-z0-9-]+)/aws4_request")


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


class ControlPlane(ServedBy):
    def __init__(self, identity: IdentityStandIn, host: str = "127.0.0.1", port: int = 0, *,
                 outage: Outage | None = None, admin_token: str = "", fis: FisStandIn | None = None) -> None:
        """`outage` and `admin_token`: the daemon's outage state and the token its admin call needs; `fis`: the FIS
        stand-in (None: FIS calls go to moto unchecked)."""
        from moto.server import MotoRequestHandler

        self.identity = identity
        self.outage = outage
        self.admin_token = admin_token
        self.fis = fis
        self.on_change: Callable[[str], None] | None = None  # (the change's region): see the module docstring
        self._moto = _moto_app()
        self._server = LocalHttpServer("control-plane", self.handle, max_body_bytes=MAX_BODY_BYTES, host=host,
                                       port=port, passthrough=self._to_moto, request_handler=MotoRequestHandler)

    def changes_go_to(self, gateways: Mapping[str, Any]) -> None:
        """After a Lambda or API Gateway change signed for a region, that region's gateway forgets its cache."""
        def forget(region: str) -> None:
            if region in gateways:
                gateways[region].invalidate()
        self.on_change = forget

    def _to_moto(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        """moto answers (and has applied the request once this returns); then a change is passed on."""
        answer = self._moto(environ, start_response)
        if self.on_change is not None and environ.get("REQUEST_METHOD", "GET").upper() in CHANGING_METHODS:
            authorization = environ.get("HTTP_AUTHORIZATION") or ""
            service, region = SIGNED_SERVICE.search(authorization), SIGNED_REGION.search(authorization)
            if service is not None and region is not None and service.group(1) in CHANGE_NOTIFIED_SERVICES:
                self.on_change(region.group(1))
        return answer

    def handle(self, request: HttpRequest) -> Any:
        """An answer of its own, or None for moto to answer."""
        if request.header("Origin") is not None or request.method.upper() == "OPTIONS":
            return plain(403, "Forbidden: the local control plane does not serve cross-origin requests")
        if urlsplit(request.target).path == OUTAGE_PATH:
            return self._admin(request)
        target = request.header("X-Amz-Target") or ""
        if target.startswith(COGNITO_TARGET) and target[len(COGNITO_TARGET):] in ANSWERED_HERE:
            signed = SIGNED_REGION.search(request.header("Authorization") or "")
            return self._cognito(target, request.body, signed.group(1) if signed else None)
        authorization = request.header("Authorization") or ""
        service = SIGNED_SERVICE.search(authorization)
        if self.fis is not None and service is not None and service.group(1) == "fis":
            signed = SIGNED_REGION.search(authorization)
            return self.fis.handle(request.method, urlsplit(request.target).path, request.body,
                                   signed.group(1) if signed else None)
        return None

    def _admin(self, request: HttpRequest) -> _Answer:
        if self.outage is None:
            return _Answer(404, {"message": "Not Found"}, "application/json")
        status, answer = handle_admin(self.outage, self.admin_token, request.method,
                                      request.header(ADMIN_TOKEN_HEADER), request.body)
        return _Answer(status, answer, "application/json")

    def _cognito(self, target: str, raw: bytes, region: str | None) -> _Answer:
        try:
            body = json.loads(raw or b"{}")
            if not isinstance(body, dict):
                raise CognitoError("SerializationException", "the request body must be a JSON object")
            return _Answer(200, self.identity.handle(target, body, region))
        except CognitoError as exc:
            return _Answer(exc.status, {"__type": exc.error_type, "message": str(exc)})
        except ValueError:
            return _Answer(400, {"__type": "SerializationException", "message": "invalid JSON"})
