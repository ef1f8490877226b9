"""Workshop module 5, `cleanup`: deletes every resource the state file records, newest first.

NotFound counts as done; each record leaves the state file the moment its resource is gone, so an
interrupted cleanup continues where it stopped.
"""

from __future__ import annotations

from typing import Any

from wildrydes_mr import faults
from wildrydes_mr.engine import Context, teardown
from wildrydes_mr.resources import DELETERS


def planned(ctx: Context) -> list[dict[str, Any]]:
    """What cleanup would delete, in the order it would delete it."""
    return ctx.state.in_reverse_order()


def run(ctx: Context) -> dict[str, Any]:
    if not ctx.dry_run and faults.active(ctx):
        ctx.progress("removing the fault a killed test-failover left behind")
        faults.remove(ctx)
    records = planned(ctx)
    actions, failures = teardown(ctx, records, DELETERS)
    remaining = [] if ctx.dry_run else [{"kind": r["kind"], "region": r["region"], "name": r["name"]}
                                        for r in ctx.state.in_reverse_order()]
    return {"deleted": [a.to_json() for a in actions], "remaining": remaining,
            "failures": [{"message": f.message, "hint": f.hint} for f in failures]}
