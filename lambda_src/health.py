"""GET /health: is this region able to serve tickets? Answers with a real read of the tickets table.

Owns the health contract that Route 53 health checks and the failover test rely on:
  200 {"region", "status": "healthy", "table", "checkedAt"}   the GetItem on {"id": "__health__"} succeeded
  503 {"region", "status": "unhealthy", "reason"}             the read failed (missing table, endpoint down,
                                                               throttled, TABLE_NAME unset...) or env
                                                               FORCE_UNHEALTHY is "true" (any case)
The item need not exist: reaching the table is what counts.
"""

from __future__ import annotations

import os
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

try:
    from . import common
except ImportError:  # deployed flat: the zip root holds these modules
    import common  # type: ignore[no-redef]

HEALTH_KEY = {"id": "__health__"}


def forced_unhealthy() -> bool:
    return os.environ.get("FORCE_UNHEALTHY", "").strip().lower() == "true"


def _unhealthy(region: str | None, reason: str) -> dict[str, Any]:
    common.logger.warning("Unhealthy: %s", reason)
    return common.json_response(503, {"region": region, "status": "unhealthy", "reason": reason})


@common.api_handler("GET")
def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    region = common.region()
    if forced_unhealthy():
        return _unhealthy(region, "forced unhealthy by FORCE_UNHEALTHY=true")
    try:
        name = common.table_name()
        common.table("health").get_item(Key=HEALTH_KEY)
    except ClientError as err:
        error = err.response.get("Error", {})
        return _unhealthy(
            region, f"table read failed: {error.get('Code', 'ClientError')}: {error.get('Message', '')}"
        )
    except (BotoCoreError, common.ConfigurationError) as err:
        return _unhealthy(region, f"table read failed: {err}")
    return common.json_response(
        200, {"region": region, "status": "healthy", "table": name, "checkedAt": common.now_iso()}
    )
