"""Regional faults for test-failover: injected on the primary's Lambda functions, always removable.

- `outage`: every function of the region gets reserved concurrency 0, so the API fails as in a regional
  outage of the application tier (API Gateway answers 500 for a throttled Lambda integration).
- `health`: only the health function is forced unhealthy (FORCE_UNHEALTHY=true in its environment).
The fault is written to the state file before it is applied and removed from it only once it is gone, so a
killed run leaves a record that `test-failover --restore` or `cleanup` acts on.
"""

from __future__ import annotations

from typing import Any

from wildrydes_mr.aws import ClientError, is_not_found
from wildrydes_mr.engine import Context
from wildrydes_mr.resources import lambda_fn
from wildrydes_mr.workflows import build_api

OUTAGE, HEALTH = "outage", "health"
FAULTS = (OUTAGE, HEALTH)
STATE_KEY = "fault"
FORCE_UNHEALTHY = "FORCE_UNHEALTHY"


def _functions(ctx: Context, kind: str) -> list[str]:
    names = [build_api.function_name(ctx, spec) for spec in build_api.FUNCTIONS]
    return names if kind == OUTAGE else [n for n in names if n.endswith("-health")]


def active(ctx: Context) -> dict[str, Any] | None:
    return ctx.state.extras.get(STATE_KEY)


def inject(ctx: Context, kind: str, region: str) -> dict[str, Any]:
    fault = {"kind": kind, "region": region, "functions": _functions(ctx, kind)}
    ctx.state.set_extra(STATE_KEY, fault)  # recorded before it exists: a kill now still gets it removed
    client = ctx.aws.client("lambda", region)
    for name in fault["functions"]:
        if kind == OUTAGE:
            client.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=0)
        else:
            _set_environment(ctx, region, name, {FORCE_UNHEALTHY: "true"})
    return fault


def remove(ctx: Context, fault: dict[str, Any] | None = None) -> dict[str, Any] | None:
    """Removes the recorded fault (or `fault`); safe to repeat; returns what was removed."""
    fault = fault or active(ctx)
    if not fault:
        return None
    client = ctx.aws.client("lambda", fault["region"])
    for name in fault["functions"]:
        try:
            if fault["kind"] == OUTAGE:
                client.delete_function_concurrency(FunctionName=name)
            else:
                _set_environment(ctx, fault["region"], name, {FORCE_UNHEALTHY: None})
        except ClientError as exc:
            if not is_not_found(exc):
                raise
    ctx.state.set_extra(STATE_KEY, None)
    return fault


def _set_environment(ctx: Context, region: str, name: str, changes: dict[str, str | None]) -> None:
    """Changes some environment variables of a function, keeping the others."""
    client = ctx.aws.client("lambda", region)
    variables = dict(client.get_function_configuration(FunctionName=name).get("Environment", {}).get("Variables", {}))
    wanted = {k: v for k, v in {**variables, **changes}.items() if v is not None}
    if wanted == variables:
        return
    lambda_fn.wait_ready(ctx, region, name)  # Lambda refuses an update while another is in progress
    client.update_function_configuration(FunctionName=name, Environment={"Variables": wanted})
    # The fault (or its removal) is in place only once the new configuration is live: until LastUpdateStatus
    # is Successful, invocations may still run the old one, and T0 would be taken too early.
    lambda_fn.wait_ready(ctx, region, name)

