"""A local outage: which region of the local cloud is down (`wildrydes local outage REGION` / `--end`).

The daemon holds one `Outage`; every regional data-plane part reads it:
- the region's API gateway answers every request (custom domains too) 503 `unavailable_body(region)` and invokes
  no function (gateway/__init__.py), so the DNS plane's health checks of the region fail by themselves;
- the region's Cognito stand-in path, `/_cognito/<region>/`, and its pools through `/_cognito/` answer the same
  503; the site server treats the region's buckets as unavailable (an origin group fails over) (site/);
- the replicator neither reads the region's streams nor writes to it, and catches up once it ends (replicator/).
The control plane (moto, behind its front) stays up: the tool's commands (cleanup, restore) work during an outage.
Facebook (the stand-in) is global and never affected.

One region at a time: a second region while one is out is refused (`OutageConflict`): with two regions, both out
leaves nothing to fail over to. Starting the outage of the region already out changes nothing.

The admin call (`handle_admin`, served by the control-plane front at OUTAGE_PATH): GET reads, POST
{"region": REGION} starts, DELETE ends. It needs the header ADMIN_TOKEN_HEADER with the daemon's random token,
which only the runtime file (0600, beside the state file) holds; without it, 403.
"""

from __future__ import annotations

import hmac
import json
import logging
import threading
import time
from collections.abc import Iterable
from typing import Any

__all__ = ["ADMIN_TOKEN_HEADER", "OUTAGE_PATH", "Outage", "OutageConflict", "UnknownRegion", "handle_admin",
           "unavailable_body", "unavailable_message"]

logger = logging.getLogger(__name__)

OUTAGE_PATH = "/_local/outage"
ADMIN_TOKEN_HEADER = "X-Wildrydes-Admin-Token"


class UnknownRegion(ValueError):
    """A region the local cloud does not serve."""


class OutageConflict(Exception):
    """Another region is already out."""


def unavailable_message(region: str) -> str:
    return f"Service Unavailable (local outage of {region})"


def unavailable_body(region: str) -> bytes:
    """The JSON body every regional endpoint of `region` answers (with 503) during its outage."""
    return json.dumps({"message": unavailable_message(region)}).encode()


class Outage:
    """The region that is out, if any (thread-safe)."""

    def __init__(self, regions: Iterable[str]) -> None:
        self.regions = tuple(regions)
        self._out: str | None = None
        self._began: float | None = None  # wall time the outage began
        self._lock = threading.Lock()

    def is_out(self, region: str | None) -> bool:
        with self._lock:
            return region is not None and region == self._out

    def began_at(self, region: str | None) -> float | None:
        """When (wall time) the outage of `region` began; None if it is not out."""
        with self._lock:
            return self._began if region is not None and region == self._out else None

    def current(self) -> list[str]:
        with self._lock:
            return [self._out] if self._out else []

    def begin(self, region: str) -> list[str]:
        if region not in self.regions:
            raise UnknownRegion(f"the local cloud serves {', '.join(self.regions)}, not {region}")
        with self._lock:
            if self._out not in (None, region):
                raise OutageConflict(f"{self._out} is already out: end that outage first")
            changed, self._out = self._out != region, region
            if changed:
                self._began = time.time()
        if changed:
            logger.warning("local outage of %s begins: its data plane answers 503", region)
        return [region]

    def end(self) -> list[str]:
        with self._lock:
            ended, self._out, self._began = self._out, None, None
        if ended:
            logger.warning("local outage of %s ends", ended)
        return []


def handle_admin(outage: Outage, token: str, method: str, presented: str | None, body: bytes) -> tuple[int, Any]:
    """The admin call: (HTTP status, JSON-able answer). Refuses (403) unless `presented` is the daemon's token."""
    if not token or presented is None or not hmac.compare_digest(presented.encode(), token.encode()):
        return 403, {"message": "Forbidden: the admin token (in the local cloud's runtime file) is required"}
    method = method.upper()
    if method == "GET":
        return 200, {"outage": outage.current()}
    if method == "DELETE":
        return 200, {"outage": outage.end()}
    if method != "POST":
        return 405, {"message": "Method Not Allowed"}
    try:
        request = json.loads(body or b"{}")
    except ValueError:
        return 400, {"message": "the body must be JSON"}
    region = request.get("region") if isinstance(request, dict) else None
    if not isinstance(region, str) or set(request) != {"region"}:
        return 400, {"message": 'the body must be {"region": REGION}'}
    try:
        return 200, {"outage": outage.begin(region)}
    except UnknownRegion as exc:
        return 400, {"message": str(exc)}
    except OutageConflict as exc:
        return 409, {"message": str(exc), "outage": outage.current()}
