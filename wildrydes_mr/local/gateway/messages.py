"""The local API gateway's requests and answers: the request as the client sent it, and the answers API Gateway
itself makes (its error bodies, with the `x-amzn-ErrorType` header and the API's gateway responses applied)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from ..http_server import HttpRequest

__all__ = ["MAX_BODY_BYTES", "GatewayRequest", "GatewayResponse", "internal_error", "json_error", "lambda_error",
           "missing_auth_token", "not_found"]

# API Gateway's payload limit.
MAX_BODY_BYTES = 10 * 1024 * 1024

GatewayRequest = HttpRequest


@dataclass
class GatewayResponse:
    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    note: str = ""  # for the log line only
    from_gateway: bool = False  # made by API Gateway itself (not the integration): gateway responses apply

    def header(self, name: str) -> str | None:
        lname = name.lower()
        return next((v for k, v in self.headers if k.lower() == lname), None)


def json_error(status: int, message: str, error_type: str | None = None, note: str = "") -> GatewayResponse:
    headers = [("Content-Type", "application/json")]
    if error_type:
        headers.append(("x-amzn-ErrorType", error_type))
    return GatewayResponse(status, headers, json.dumps({"message": message}).encode(), note or message,
                           from_gateway=True)


def not_found() -> GatewayResponse:
    return json_error(404, "Not Found", "NotFoundException", "unknown api or stage")


def missing_auth_token(note: str) -> GatewayResponse:
    # API Gateway's famous quirk: a path or method it does not know is answered 403 "Missing Authentication
    # Token", not 404, whether or not the request is signed.
    return json_error(403, "Missing Authentication Token", "MissingAuthenticationTokenException", note)


def internal_error(note: str) -> GatewayResponse:
    return json_error(500, "Internal server error", "InternalServerErrorException", note)


def lambda_error(note: str) -> GatewayResponse:
    # A Lambda proxy integration whose function fails (exception, timeout, malformed result) is answered 502.
    return json_error(502, "Internal server error", "InternalServerErrorException", note)
