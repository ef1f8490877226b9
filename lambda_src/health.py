"""GET /health: is this region able to serve tickets? Answers with a real read of the tickets table.

Owns the health contract that Route 53 health checks and the failover test rely on:
  200 {"region", "status": "healthy", "table", "checkedAt"}   the GetItem on {"id": "__health__"} succeeded
  503 {"region", "status": "unhealthy", "reason"}             the read failed or was not tried; reason is one
                                                               of the fixed codes in REASONS
The item need not exist: reaching the table is what counts.

The route is unauthenticated (Route 53 health checkers cannot sign), so a 503 says only which kind of failure
it was. The detail (exception type, AWS error code and message, which can name the account, the role and the
table ARN) goes to the log, never into the response.
"""

from __future__ import annotations

import os
from typing import Any

from botocore import exceptions as boto_errors

try:
    from . import common
except ImportError:  # deployed flat: the zip root holds these modules
    import common  # type: ignore[no-redef]

HEALTH_KEY = {"id": "__health__"}

FORCED = "forced"  # env FORCE_UNHEALTHY is "true" (any case, surrounding spaces ignored)
MISCONFIGURED = "misconfigured"  # the function's environment is incomplete: TABLE_NAME, region or credentials
TABLE_MISSING = "table-missing"  # DynamoDB answered ResourceNotFoundException
TABLE_UNREADABLE = "table-unreadable"  # DynamoDB refused the read: access denied, throttled, any other error
TIMEOUT = "timeout"  # the endpoint did not answer: connect/read timeout, connection refused or dropped
REASONS = (FORCED, MISCONFIGURED, TABLE_MISSING, TABLE_UNREADABLE, TIMEOUT)

_UNREACHABLE = (boto_errors.ConnectionError, boto_errors.HTTPClientError)  # timeouts, refused, closed, TLS
_MISCONFIGURED = (common.ConfigurationError, boto_errors.NoRegionError, boto_errors.NoCredentialsError)


def forced_unhealthy() -> bool:
    return os.environ.get("FORCE_UNHEALTHY", "").strip().lower() == "true"


def classify(err: Exception) -> str:
    """The fixed reason code for a failed table read (never anything taken from the exception's text)."""
    if isinstance(err, boto_errors.ClientError):
        code = err.response.get("Error", {}).get("Code")
        return TABLE_MISSING if code == "ResourceNotFoundException" else TABLE_UNREADABLE
    if isinstance(err, _MISCONFIGURED):
        return MISCONFIGURED
    if isinstance(err, _UNREACHABLE):
        return TIMEOUT
    return TABLE_UNREADABLE


def _detail(err: Exception) -> str:
    """What the log gets: the exception type, and for an AWS error its code and message."""
    if isinstance(err, boto_errors.ClientError):
        error = err.response.get("Error", {})
        return f"{type(err).__name__}: {error.get('Code', '?')}: {error.get('Message', '')}"
    return f"{type(err).__name__}: {err}"


def _unhealthy(region: str | None, reason: str, detail: str) -> dict[str, Any]:
    common.logger.warning("Unhealthy (%s): %s", reason, detail)
    return common.json_response(503, {"region": region, "status": "unhealthy", "reason": reason})


@common.api_handler("GET")
def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    region = common.region()
    if forced_unhealthy():
        return _unhealthy(region, FORCED, "FORCE_UNHEALTHY=true")
    try:
        name = common.table_name()
        common.table("health").get_item(Key=HEALTH_KEY)
    except (boto_errors.ClientError, boto_errors.BotoCoreError, common.ConfigurationError) as err:
        return _unhealthy(region, classify(err), _detail(err))
    return common.json_response(
        200, {"region": region, "status": "healthy", "table": name, "checkedAt": common.now_iso()}
    )
