"""Workshop module 5, `cleanup`: deletes every resource the state file records, newest first, then proves it.

NotFound counts as done; each record leaves the state file the moment its resource is gone, so an interrupted
cleanup continues where it stopped. A fault left by a killed test-failover is removed first. Afterwards every
service in both regions is listed (see inventory.py) and anything of this deployment that remains is reported.
With `sweep`, resources of this deployment that the state file does not know (tagged, or named as only this
deployment names them) are deleted too, after the same confirmation.
"""

from __future__ import annotations

from typing import Any

from wildrydes_mr import faults, inventory
from wildrydes_mr.engine import Context, teardown
from wildrydes_mr.resources import DELETERS, acm
from wildrydes_mr.state import resource_key

# Parts of other resources that the inventory does not list on their own: a bucket's objects go with the
# bucket, an identity pool's role mapping with the pool, a table's point-in-time recovery with the table.
SUB_RESOURCES = {"site-files", "cognito-pool-roles", "dynamodb-pitr"}


def _key(record: dict[str, Any]) -> str:
    return resource_key(record["kind"], record["region"], record["name"])


def _deletion_order(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Newest first, but certificates last: a deleted custom domain holds its certificate "in use" for minutes,
    so every domain goes before any certificate is awaited, and the holds run out together instead of one
    after another. Nothing depends on a certificate but its domains."""
    return sorted(records, key=lambda record: record["kind"] == acm.Certificate.kind)


def planned(ctx: Context, sweep: bool = False) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """What cleanup would delete: the state file's records (newest first) and, with sweep, the strays."""
    records = _deletion_order(ctx.state.in_reverse_order())
    if not sweep:
        return records, []
    known = {_key(r) for r in records}
    strays = [r for r in inventory.find_deployment_resources(ctx, ctx.config.regions.both) if _key(r) not in known]
    return records, strays


def run(ctx: Context, sweep: bool = False, strays: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    if not ctx.dry_run and faults.active(ctx):
        ctx.progress("removing the fault a killed test-failover left behind")
        faults.remove(ctx)
    records, found = planned(ctx, sweep) if strays is None else (_deletion_order(ctx.state.in_reverse_order()), strays)
    actions, failures = teardown(ctx, records, DELETERS)
    swept, sweep_failures = teardown(ctx, found, DELETERS) if found else ([], [])
    result: dict[str, Any] = {
        "deleted": [a.to_json() for a in actions], "swept": [a.to_json() for a in swept],
        "failures": [{"message": f.message, "hint": f.hint} for f in failures + sweep_failures]}
    if ctx.dry_run:
        result["remaining"] = []
        return result
    ctx.progress("verifying: listing every service in both regions for anything of this deployment")
    left = {_key(r): r for r in ctx.state.in_reverse_order()}
    left.update({_key(r): r for r in inventory.find_deployment_resources(ctx, ctx.config.regions.both)})
    result["remaining"] = [{"kind": r["kind"], "region": r["region"], "name": r["name"]} for r in left.values()]
    return result
