"""Failover results shaped as the issue-13 contract says test_failover._report fills them, for the report and
history tests: `sample_report(...)` builds one from a few figures, with its canary and probe marks."""

from __future__ import annotations

import datetime as dt
from typing import Any

from wildrydes_mr.report import MARKERS

PRIMARY, SECONDARY = "eu-west-1", "us-east-1"
FIGURES = {"rto": "rto_seconds", "rpo": "rpo_seconds", "detection": "detection_seconds", "dns": "dns_seconds",
           "failback": "failback_seconds", "predicted_rto": "predicted_rto_seconds"}


def at(t0: dt.datetime, seconds: float | None) -> str | None:
    if seconds is None:
        return None
    return (t0 + dt.timedelta(seconds=seconds)).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def sample_report(t0: dt.datetime | None = None, scale: float = 0.1, fault: str = "replication",
                  rto: float | None = 5.4, rpo: float = 1.0, passed: bool = True, target: str = "local",
                  lost: int = 2, objectives: tuple[int, int] = (900, 900)) -> dict[str, Any]:
    """A result with measured (scaled) figures; real_seconds = measured / scale, as the contract says."""
    t0 = t0 or dt.datetime(2025, 5, 14, 10, 30, tzinfo=dt.UTC)
    pause = 1.0 if fault in ("replication", "region") else None  # T0: the pause; the outage a window later
    outage = pause or 0.0
    moments = {"fault": 0.0, "replication paused": 0.0 if pause else None, "outage": outage,
               "detection": outage + 3.1, "dns switch": outage + 3.9, "first secondary response": rto,
               "restore": 8.0, "replication resumed": 8.2 if pause else None, "failback": 12.5}
    measured = {"rto_seconds": rto, "rpo_seconds": rpo, "detection_seconds": 3.1, "dns_seconds": 3.9,
                "failback_seconds": 4.5, "predicted_rto_seconds": 11.0}
    lost_writes = [{"seq": 40 + i, "description": f"canary {40 + i}", "ticket_id": f"ticket-{40 + i}",
                    "acked_at": at(t0, outage - rpo + 0.5 * i), "seconds": round(outage - rpo + 0.5 * i, 3),
                    "reappeared": i % 2 == 0, "reappeared_at": at(t0, 9.0) if i % 2 == 0 else None}
                   for i in range(lost)]
    return {
        "fault": fault, "target": target, "regions": [PRIMARY, SECONDARY], "t0": at(t0, 0.0),
        **measured,
        "time_scale": scale, "scaled": scale != 1.0,
        "real_seconds": {k: None if measured[m] is None else round(measured[m] / scale, 3)
                         for k, m in FIGURES.items()},
        "pause_window_seconds": pause, "primary_stopped_seconds": outage,
        "lost_writes": lost_writes,
        "conflicts": [{"ticket_id": "ticket-7", "regions": [PRIMARY, SECONDARY], "winner": SECONDARY,
                       "detail": "written in both regions <during> the pause & after"}],
        "served_by": {"before": PRIMARY, "during": SECONDARY, "after": PRIMARY},
        "predicted": {"predicted_rto_seconds": 11.0},
        "objectives": {"rto_seconds": objectives[0], "rpo_seconds": objectives[1]},
        "writes": {"acknowledged": 30, "failed": 4},
        "timeline": [{"name": name, "at": at(t0, moments[name]), "seconds": moments[name]} for name in MARKERS],
        "windows": {"fault": [0.0, 8.0], "replication pause": [0.0, 8.2] if pause else None},
        "problems": [] if passed else ["did not fail back to eu-west-1 within 40 s"],
        "passed": passed,
    }


def sample_marks(report: dict[str, Any]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Canary write marks (the lost ones flagged) and probe marks, one every 0.1 s from -2 s to 14 s."""
    lost_at = {w["seconds"] for w in report["lost_writes"]}
    writes = [{"seconds": s / 10, "acked": s % 7 != 0, "lost": s / 10 in lost_at} for s in range(-20, 140, 5)]
    probes = [{"seconds": s / 10, "region": PRIMARY if s < 54 or s > 125 else SECONDARY, "ok": not 0 <= s < 54}
              for s in range(-20, 140)]
    return writes, probes
