"""`wildrydes status`: each resource of the state file, whether it still exists and matches (drift), the
health checks' status and the region `api.<domain>` answers with.

Drift comes from planning every module that was run, without applying (the same find/compare code as a real
run): `nothing` means present and matching, `update` drifted, `create` missing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from wildrydes_mr.aws import BotoCoreError, ClientError, error_message
from wildrydes_mr.engine import CREATE, NOTHING, Context
from wildrydes_mr.workflows import build_api, build_ui, replicate, test_failover

VERDICTS = {NOTHING: "present", CREATE: "missing"}


def _plan(ctx: Context) -> None:
    modules = {r["module"] for r in ctx.state.resources.values()}
    if replicate.MODULE in modules:
        replicate.run(ctx)  # covers both regions' API layer and, when it exists, the UI
        return
    if build_api.MODULE in modules:
        build_api.run(ctx)
    if build_ui.MODULE in modules:
        build_ui.run(ctx)


def _observed(read: Callable[[], Any], unknown: Any, result: dict[str, Any], error_key: str) -> Any:
    """What Route 53 sees, or `unknown` with the reason when it cannot be read (a status is read-only and says
    what it can; an emulator may lack TestDNSAnswer)."""
    try:
        return read()
    except (ClientError, BotoCoreError, OSError) as exc:
        result[error_key] = error_message(exc)
        return unknown


def run(ctx: Context) -> dict[str, Any]:
    assert ctx.dry_run, "status only plans"
    _plan(ctx)
    resources = []
    seen = set()
    for action in ctx.actions:
        key = (action.kind, action.region, action.name)
        if key in seen:
            continue
        seen.add(key)
        resources.append({"kind": action.kind, "region": action.region, "name": action.name,
                          "status": VERDICTS.get(action.verb, "drifted"), "detail": action.detail})
    result: dict[str, Any] = {
        "deployment": ctx.config.deployment, "target": ctx.config.target, "resources": resources,
        "drift": [r for r in resources if r["status"] != "present"],
        "fault": ctx.state.extras.get("fault")}
    if ctx.state.extras.get("failover_api_url"):
        observer = test_failover.observer(ctx)
        result["health"] = _observed(observer.health, {}, result, "health_error")
        result["dns_answer"] = _observed(observer.dns_region, None, result, "dns_error")
        result["failover_url"] = ctx.target.failover_url(ctx.config.dns.domain)
    site_url = ctx.state.extras.get("site_url")
    if site_url:
        result["site_url"] = site_url
    return result
