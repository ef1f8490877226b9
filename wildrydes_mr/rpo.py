"""The game day's data check, an honest RPO: which canary writes the primary acknowledged that the secondary did
not have when it took over, whether they came back after failback, and what the regions disagree on.

- At takeover (the first correct answer from the secondary, while the fault is still in place, so replication has
  not caught up yet) the secondary's tickets are listed through its regional API: a write acknowledged by the
  primary and absent there is lost. RPO = the moment the primary stopped acknowledging writes (its last
  acknowledgement) − the oldest lost write's acknowledgement; 0 when none is lost.
- After failback (the fault removed, replication resumed) the secondary is listed again until every lost write is
  back or `settle` seconds pass: each lost write is marked reappeared or not.
- Conflicts: a canary ticket that both regions acknowledged (a retry that crossed the switch), or whose copies
  differ between the regions after the settle; DynamoDB keeps the last writer's version (last writer wins).
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from wildrydes_mr.apiclient import TicketsApi
from wildrydes_mr.errors import WildrydesError
from wildrydes_mr.gameday import Write


def list_all(api: TicketsApi) -> dict[str, dict[str, Any]]:
    """Every ticket the API lists for its owner, by id."""
    tickets: dict[str, dict[str, Any]] = {}
    token = None
    while True:
        page = api.list_tickets(limit=100, next_token=token)
        if page.status != 200:
            raise WildrydesError(f"listing tickets in {api.region} for the RPO check answered {page.status}")
        tickets.update({t["id"]: t for t in page.body["tickets"]})
        token = page.body.get("next")
        if not token:
            return tickets


@dataclass
class DataCheck:
    """What the data check found; `lost` in acknowledgement order."""

    primary: str
    secondary: str
    lost: list[Write] = field(default_factory=list)
    primary_stopped_at: float | None = None
    checked_at: float | None = None
    reappeared_at: dict[str, float] = field(default_factory=dict)  # ticket id -> when it was seen again
    failback_checked: bool = False
    conflicts: list[dict[str, Any]] = field(default_factory=list)

    @property
    def rpo_seconds(self) -> float:
        if not self.lost or self.primary_stopped_at is None:
            return 0.0
        return round(self.primary_stopped_at - self.lost[0].acked_at, 3)


def at_takeover(writes: Iterable[Write], primary: str, secondary_api: TicketsApi) -> DataCheck:
    """Lists the secondary now and compares it with the writes the primary acknowledged so far."""
    checked_at = time.time()
    present = list_all(secondary_api)
    by_primary = [w for w in writes if w.acked_at is not None and w.region == primary and w.acked_at <= checked_at]
    check = DataCheck(primary, secondary_api.region, checked_at=checked_at,
                      primary_stopped_at=max((w.acked_at for w in by_primary), default=None))
    check.lost = sorted((w for w in by_primary if w.ticket_id not in present), key=lambda w: w.acked_at)
    return check


def after_failback(check: DataCheck, writes: Iterable[Write], primary_api: TicketsApi, secondary_api: TicketsApi,
                   settle: float) -> DataCheck:
    """Which lost writes are back in the secondary (waiting up to `settle` s for replication), and conflicts."""
    deadline = time.monotonic() + settle
    wanted = {w.ticket_id for w in check.lost}
    while True:
        secondary = list_all(secondary_api)
        now = time.time()
        for ticket_id in wanted & secondary.keys():
            check.reappeared_at.setdefault(ticket_id, now)
        if wanted <= secondary.keys() or time.monotonic() >= deadline:
            break
        time.sleep(0.5)
    check.failback_checked = True
    check.conflicts = conflicts(list(writes), list_all(primary_api), secondary, check.primary, check.secondary)
    return check


def conflicts(writes: list[Write], primary: dict[str, dict[str, Any]], secondary: dict[str, dict[str, Any]],
              primary_region: str, secondary_region: str) -> list[dict[str, Any]]:
    """Canary tickets acknowledged by both regions, or whose copies differ between them."""
    acked_by: dict[str, set[str]] = {}
    for write in writes:
        if write.ticket_id and write.region:
            acked_by.setdefault(write.ticket_id, set()).add(write.region)
    found = []
    for ticket_id, regions in sorted(acked_by.items()):
        ours, theirs = primary.get(ticket_id), secondary.get(ticket_id)
        differ = ours is not None and theirs is not None and ours != theirs
        if len(regions) < 2 and not differ:
            continue
        winner = None
        if ours is not None and theirs is not None and not differ:
            winner = "both agree"
        found.append({"ticket_id": ticket_id, "regions": sorted(regions), "winner": winner,
                      "detail": ("acknowledged in both regions; " if len(regions) > 1 else "")
                      + ("the copies differ (last writer wins once replication settles)" if differ
                         else "one version kept everywhere (last writer wins)")})
    return found


def lost_rows(check: DataCheck, t0: float, iso) -> list[dict[str, Any]]:
    """The report's lost-write rows: when each was acknowledged and whether it came back after failback."""
    rows = []
    for write in check.lost:
        back = check.reappeared_at.get(write.ticket_id)
        # Sent and acknowledged: a create already running when the functions were throttled is acknowledged
        # (and lost) after the outage began, however long it took.
        rows.append({"seq": write.seq, "description": write.description, "ticket_id": write.ticket_id,
                     "sent_at": iso(write.sent_at), "sent_seconds": round(write.sent_at - t0, 3),
                     "acked_at": iso(write.acked_at), "seconds": round(write.acked_at - t0, 3),
                     "reappeared": (back is not None) if check.failback_checked else None,
                     "reappeared_at": iso(back)})
    return rows
