"""What every handler shares: JSON responses with CORS headers, the error wrapper, the clock, the table.

Owns:
- `json_response` / `HttpError`: every response, success or error, carries the CORS headers and a JSON body;
  `public_ticket()`: a stored ticket as clients see it.
- `api_handler`: wraps a handler so that an `HttpError` becomes its 4xx response and any other exception
  becomes a logged 500 `{"message": "Internal error", "requestId": ...}` (never a hang, never a stack trace).
- `path_owner()`: the ticket owner named by the path (`/owners/{owner}/...`), validated against OWNER_PATTERN.
- `table()`: the DynamoDB table named by env TABLE_NAME, from a boto3 resource created lazily on first use and
  cached per (region, endpoint, timeout profile). boto3 honours AWS_ENDPOINT_URL itself. `reset_clients()`
  drops the cache (tests, emulators that switch endpoints). `index_name()`: the owner listing index.

Environment: TABLE_NAME (required for table access), INDEX_NAME (default "owner-createdOn"), ALLOWED_ORIGIN
(default "*"), AWS_REGION / AWS_DEFAULT_REGION, AWS_ENDPOINT_URL (optional).
"""

from __future__ import annotations

import functools
import json
import logging
import os
import re
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

logger = logging.getLogger("wildrydes")
logger.setLevel(logging.INFO)

ALLOW_HEADERS = "Content-Type,X-Amz-Date,Authorization,X-Amz-Security-Token,X-Amz-Content-Sha256"
ALLOW_METHODS = "GET,POST,OPTIONS"

# Timeouts keep a handler from hanging on an unreachable endpoint. The "health" profile is tighter: Route 53
# expects a health check answer within seconds, and a slow table is an unhealthy region.
_CLIENT_PROFILES: dict[str, dict[str, Any]] = {
    "api": {"connect_timeout": 3, "read_timeout": 5, "retries": {"max_attempts": 3, "mode": "standard"}},
    "health": {"connect_timeout": 2, "read_timeout": 2, "retries": {"max_attempts": 2, "mode": "standard"}},
}

# An owner is a path segment: a Facebook app-scoped user id (digits) or the operator. A legacy pseudo-owner
# ("legacy:<identity id>", tickets made before owners existed) fails it on purpose: no path can name one.
OWNER_PATTERN = re.compile(r"(?:[0-9]{1,32}|operator)")
DEFAULT_INDEX = "owner-createdOn"  # GSI: HASH owner (S), RANGE createdOn (S), projection ALL
# Never shown to clients: a ticket from before owners existed still carries kind = "ticket" (the old index's key).
HIDDEN_TICKET_FIELDS = frozenset({"kind"})

_resources: dict[tuple[str | None, str | None, str], Any] = {}


class HttpError(Exception):
    """A client-facing error: `api_handler` turns it into `{"message": message}` with this status."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


class ConfigurationError(RuntimeError):
    """The function's environment is incomplete (e.g. TABLE_NAME is not set)."""


# --- responses -------------------------------------------------------------------------------------------


def cors_headers() -> dict[str, str]:
    """The headers every response carries; the origin is read at call time so tests can change it."""
    return {
        "Access-Control-Allow-Origin": os.environ.get("ALLOWED_ORIGIN") or "*",
        "Access-Control-Allow-Headers": ALLOW_HEADERS,
        "Access-Control-Allow-Methods": ALLOW_METHODS,
        "Content-Type": "application/json",
        "Cache-Control": "no-store",
    }


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, set | frozenset):
        return sorted(value, key=str)
    if isinstance(value, bytes | bytearray):
        return value.decode("utf-8", errors="replace")
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def json_response(status: int, payload: Any) -> dict[str, Any]:
    """An API Gateway proxy response with a JSON body and the CORS headers."""
    return {
        "statusCode": status,
        "headers": cors_headers(),
        "body": json.dumps(payload, default=_json_default, separators=(",", ":")),
        "isBase64Encoded": False,
    }


def error_response(status: int, message: str) -> dict[str, Any]:
    return json_response(status, {"message": message})


def public_ticket(item: dict[str, Any]) -> dict[str, Any]:
    """A stored ticket as clients see it: without HIDDEN_TICKET_FIELDS."""
    return {name: value for name, value in item.items() if name not in HIDDEN_TICKET_FIELDS}


# --- event access ----------------------------------------------------------------------------------------


def _request_context(event: Any) -> dict[str, Any]:
    ctx = event.get("requestContext") if isinstance(event, dict) else None
    return ctx if isinstance(ctx, dict) else {}


def request_id(event: Any, context: Any) -> str | None:
    """The API Gateway request id, else the Lambda invocation id, else None."""
    rid = _request_context(event).get("requestId")
    if isinstance(rid, str) and rid:
        return rid
    rid = getattr(context, "aws_request_id", None)
    return rid if isinstance(rid, str) and rid else None


def _identity_field(event: Any, name: str) -> str | None:
    identity = _request_context(event).get("identity")
    value = identity.get(name) if isinstance(identity, dict) else None
    return value if isinstance(value, str) and value.strip() else None


def identity_id(event: Any) -> str | None:
    """The caller's Cognito identity id: API Gateway sets it only for credentials issued by a Cognito identity
    pool (the web app's users)."""
    return _identity_field(event, "cognitoIdentityId")


def caller(event: Any) -> str | None:
    """Who signed the request (the route requires AWS_IAM): the Cognito identity id for the web app's users; for
    any other IAM principal (the operator's own credentials, e.g. the game day's canary) API Gateway leaves the
    cognito* fields empty and gives `userArn` (an IAM user's or assumed role's ARN) instead."""
    return identity_id(event) or _identity_field(event, "userArn")


def path_owner(event: dict[str, Any]) -> str:
    """The owner the path names (API Gateway's pathParameters); anything that is not an owner is a 400 naming
    `owner`. An owner never needs percent-encoding, so the check holds whether or not the gateway decoded it."""
    params = event.get("pathParameters")
    owner = params.get("owner") if isinstance(params, dict) else None
    if not isinstance(owner, str) or not OWNER_PATTERN.fullmatch(owner):
        raise HttpError(400, "Path parameter 'owner' must be a Facebook user id (1-32 digits) or 'operator'")
    return owner


def query_parameters(event: dict[str, Any]) -> dict[str, str]:
    """The query string as a dict; a parameter given more than once is a 400 naming it."""
    multi = event.get("multiValueQueryStringParameters") or {}
    if isinstance(multi, dict):
        for name, values in multi.items():
            if isinstance(values, list) and len(values) > 1:
                raise HttpError(400, f"Query parameter '{name}' must be given at most once")
    params = event.get("queryStringParameters") or {}
    if not isinstance(params, dict):
        raise HttpError(400, "Malformed query string")
    return params


# --- the wrapper ------------------------------------------------------------------------------------------


def api_handler(method: str) -> Callable[[Callable[..., dict[str, Any]]], Callable[..., dict[str, Any]]]:
    """Decorate a proxy handler that serves `method`.

    OPTIONS gets a 204 with the CORS headers; another method gets a 405. `HttpError` becomes its response;
    any other exception is logged and becomes a 500 naming the request id.
    """

    def decorate(func: Callable[..., dict[str, Any]]) -> Callable[..., dict[str, Any]]:
        @functools.wraps(func)
        def wrapper(event: Any, context: Any = None) -> dict[str, Any]:
            try:
                if not isinstance(event, dict):
                    raise HttpError(400, "Malformed request event")
                verb = event.get("httpMethod")
                if verb == "OPTIONS":
                    return {
                        "statusCode": 204,
                        "headers": cors_headers(),
                        "body": "",
                        "isBase64Encoded": False,
                    }
                if verb is not None and verb != method:
                    raise HttpError(405, f"Method {verb} not allowed; use {method}")
                return func(event, context)
            except HttpError as err:
                logger.info("%s %s -> %d: %s", method, func.__module__, err.status, err.message)
                return error_response(err.status, err.message)
            except Exception:
                rid = request_id(event, context)
                logger.exception("Unhandled error in %s (requestId=%s)", func.__module__, rid)
                return json_response(500, {"message": "Internal error", "requestId": rid})

        return wrapper

    return decorate


# --- clock ------------------------------------------------------------------------------------------------


def now_iso() -> str:
    """Now, in UTC, as ISO-8601 with milliseconds and a Z: 2026-11-30T03:12:46.123Z."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


# --- AWS --------------------------------------------------------------------------------------------------


def region() -> str | None:
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or None


def table_name() -> str:
    name = os.environ.get("TABLE_NAME", "").strip()
    if not name:
        raise ConfigurationError("TABLE_NAME is not set")
    return name


def index_name() -> str:
    """The listing index (env INDEX_NAME): keyed by owner, newest first by createdOn."""
    return os.environ.get("INDEX_NAME", "").strip() or DEFAULT_INDEX


def error_code(err: Exception) -> str | None:
    """The AWS error code of a botocore ClientError (e.g. "ConditionalCheckFailedException"), else None."""
    response = getattr(err, "response", None)
    error = response.get("Error") if isinstance(response, dict) else None
    code = error.get("Code") if isinstance(error, dict) else None
    return code if isinstance(code, str) else None


def dynamodb(profile: str = "api") -> Any:
    """The boto3 DynamoDB resource for the current region and endpoint, created on first use."""
    endpoint = os.environ.get("AWS_ENDPOINT_URL_DYNAMODB") or os.environ.get("AWS_ENDPOINT_URL") or None
    key = (region(), endpoint, profile)
    resource = _resources.get(key)
    if resource is None:
        import boto3  # deferred: importing a handler module must not need boto3 configured
        from botocore.config import Config

        resource = boto3.session.Session().resource(
            "dynamodb", region_name=key[0], config=Config(**_CLIENT_PROFILES[profile])
        )
        _resources[key] = resource
    return resource


def table(profile: str = "api") -> Any:
    """The tickets table (env TABLE_NAME)."""
    return dynamodb(profile).Table(table_name())


def reset_clients() -> None:
    """Forget every cached boto3 resource; the next `table()` builds a fresh one."""
    _resources.clear()
