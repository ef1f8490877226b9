"""Regional faults for test-failover: injected on the primary region, always removable.

- `outage`: every function of the region gets reserved concurrency 0, so the API fails as in a regional
  outage of the application tier (API Gateway answers 500 for a throttled Lambda integration).
- `health`: only the health function is forced unhealthy (FORCE_UNHEALTHY=true in its environment).
- `replication`: the tickets table's replication paused through an AWS FIS experiment
  (aws:dynamodb:global-table-pause-replication, see resources/fis.py); the game day adds the application-tier
  outage a pause window later (`add_outage`), so the secondary takes over without that window's writes.
- `region`: the whole primary goes dark. On the local cloud that is `wildrydes local outage` (API, sign-in, site
  origin and its side of replication); on AWS, where a region cannot be switched off, the closest real thing:
  the application-tier outage and the replication pause together.
Every part is written to the state file (extras `fault`) before it is applied and the record goes only once all
of it is gone, so a killed run leaves a record that `test-failover --restore` or `cleanup` acts on. The record:
{"kind", "region", "functions": [...], "local_outage": bool, "fis": {"region", "template_id", "client_token",
"experiment_id"}}; `functions` are throttled, except for `health`, whose function has its environment changed.
"""

from __future__ import annotations

import uuid
from typing import Any

from wildrydes_mr.aws import ClientError, is_not_found
from wildrydes_mr.engine import Context
from wildrydes_mr.resources import lambda_fn
from wildrydes_mr.workflows import build_api

OUTAGE, HEALTH, REPLICATION, REGION = "outage", "health", "replication", "region"
FAULTS = (OUTAGE, HEALTH, REPLICATION, REGION)
STATE_KEY = "fault"
FORCE_UNHEALTHY = "FORCE_UNHEALTHY"


def _functions(ctx: Context, kind: str) -> list[str]:
    names = [build_api.function_name(ctx, spec) for spec in build_api.FUNCTIONS]
    return [n for n in names if n.endswith("-health")] if kind == HEALTH else names


def active(ctx: Context) -> dict[str, Any] | None:
    return ctx.state.extras.get(STATE_KEY)


def pauses_replication(ctx: Context, kind: str) -> bool:
    """Whether the fault pauses replication through FIS (on the local cloud a region's outage pauses it)."""
    return kind == REPLICATION or (kind == REGION and not ctx.target.is_local)


def _save(ctx: Context, fault: dict[str, Any]) -> None:
    ctx.state.set_extra(STATE_KEY, dict(fault))


def inject(ctx: Context, kind: str, region: str, pause_seconds: float = 3600.0) -> dict[str, Any]:
    """Applies the fault (for `replication`, only its pause; `add_outage` follows). `pause_seconds`: the
    FIS experiment's duration, an upper bound (the fault's removal stops it earlier)."""
    if kind not in FAULTS:
        raise ValueError(f"unknown fault {kind!r}")
    fault: dict[str, Any] = {"kind": kind, "region": region, "functions": [], "local_outage": False}
    if pauses_replication(ctx, kind):
        _pause_replication(ctx, fault, pause_seconds)
    if kind == REGION and ctx.target.is_local:
        fault["local_outage"] = True
        _save(ctx, fault)  # recorded before it exists: a kill now still gets it removed
        _local_cloud_outage(ctx, region)
    elif kind in (OUTAGE, HEALTH, REGION):
        add_outage(ctx, fault, _functions(ctx, kind))
    return fault


def add_outage(ctx: Context, fault: dict[str, Any] | None = None, functions: list[str] | None = None
               ) -> dict[str, Any]:
    """Takes the region's application tier down (or, for `health`, forces /health unhealthy)."""
    fault = fault or dict(active(ctx) or {})
    functions = functions if functions is not None else _functions(ctx, OUTAGE)
    fault["functions"] = list(functions)
    _save(ctx, fault)
    client = ctx.aws.client("lambda", fault["region"])
    for name in functions:
        if fault["kind"] == HEALTH:
            _set_environment(ctx, fault["region"], name, {FORCE_UNHEALTHY: "true"})
        else:
            client.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=0)
    return fault


def _pause_replication(ctx: Context, fault: dict[str, Any], duration_seconds: float) -> None:
    from wildrydes_mr.resources import fis

    region = fault["region"]
    template = fis.ensure_pause_template(ctx, region, duration_seconds)
    # The client token is recorded before StartExperiment: a run killed in between leaves enough to find and
    # stop the experiment (stop_pause stops every unfinished experiment of the template).
    fault["fis"] = {"region": region, "template_id": template["template_id"],
                    "client_token": uuid.uuid4().hex, "experiment_id": None}
    _save(ctx, fault)
    fault["fis"]["experiment_id"] = fis.start_pause(ctx, region, template["template_id"],
                                                    fault["fis"]["client_token"])
    _save(ctx, fault)


def _local_cloud_outage(ctx: Context, region: str | None) -> None:
    from wildrydes_mr.local import cloud

    running = cloud.find(ctx.state.path.parent)
    if running is None:
        if region is None:
            return  # no local cloud, no outage to end
        from wildrydes_mr.errors import LocalCloudError
        raise LocalCloudError("the local cloud is not running", hint="run `wildrydes local up`")
    cloud.set_outage(running, region)


def remove(ctx: Context, fault: dict[str, Any] | None = None) -> dict[str, Any] | None:
    """Removes the recorded fault (or `fault`), every part of it; safe to repeat; returns what was removed."""
    fault = fault or active(ctx)
    if not fault:
        return None
    client = ctx.aws.client("lambda", fault["region"])
    for name in fault.get("functions", []):
        try:
            if fault["kind"] == HEALTH:
                _set_environment(ctx, fault["region"], name, {FORCE_UNHEALTHY: None})
            else:
                client.delete_function_concurrency(FunctionName=name)
        except ClientError as exc:
            if not is_not_found(exc):
                raise
    if fault.get("local_outage"):
        _local_cloud_outage(ctx, None)
    if fault.get("fis"):
        from wildrydes_mr.resources import fis

        fis.stop_pause(ctx, fault["fis"]["region"], fault["fis"]["template_id"])
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
