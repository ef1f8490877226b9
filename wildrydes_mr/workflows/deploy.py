"""`wildrydes deploy`: build-api, build-ui and replicate as one dependency graph (graph.py), both regions at once,
every wait overlapped with whatever does not need it — instead of one module after another, where build-ui's
CloudFront wait sits in front of replicate's certificate and replica waits.

The plan (each step starts once what it needs exists):

    hosted zone ──► certificate <r> (request + validation records) ─────────────┐
    api <primary> ─┬► replica <secondary> (created, awaited at the end) ───────┐ │
                   └► api <secondary> ─┬► site (pools, buckets, CloudFront) ──┐│ │
                                       └──────────────────► endpoint <r> ◄────┼┼─┘ (certificate issued, domains,
                                                            failover ◄────────┼┘    regional record, health check)
                                                            site follows ◄────┘ (failover name in config.js)

Every resource is recorded under the module that owns it (build-api, build-ui, replicate), so the module
commands, `status` and `cleanup` see a deployment made by `deploy` exactly as one made module by module, and
`deploy` again makes zero mutating calls. On target aws `preflight` runs first unless skipped.
"""

from __future__ import annotations

from typing import Any

from wildrydes_mr import graph
from wildrydes_mr.aws import is_not_found
from wildrydes_mr.engine import Context
from wildrydes_mr.errors import UsageError, WildrydesError
from wildrydes_mr.graph import Step
from wildrydes_mr.objectives import require_predicted_rto_within_objective
from wildrydes_mr.workflows import build_api, build_ui, replicate

MODULE = "deploy"


def plan(ctx: Context, parallel: bool = True) -> list[Step]:
    primary, secondary = ctx.config.regions.both
    api_ctx, ui_ctx, rep_ctx = (ctx.for_module(m.MODULE) for m in (build_api, build_ui, replicate))
    steps = [
        Step("hosted zone", (), lambda done: replicate.hosted_zone_id(rep_ctx)),
        Step(f"api {primary}", (), lambda done: build_api.run(api_ctx)),
        Step(f"replica {secondary}", (f"api {primary}",), lambda done: replicate.add_replica(rep_ctx, secondary)),
        # The secondary's functions and API need nothing of the primary's but its table's name.
        Step(f"api {secondary}", (f"api {primary}",), lambda done: build_api.build_region(rep_ctx, secondary)),
        # Both regional APIs exist, so the site gets a pool and a bucket per region and CloudFront its origin
        # group at once; its distribution deploys while the certificates validate and the replica builds.
        Step("site", (f"api {primary}", f"api {secondary}"), lambda done: build_ui.run(ui_ctx)),
    ]
    for region in (primary, secondary):
        steps.append(Step(f"certificate {region}", ("hosted zone",),
                          lambda done, r=region: replicate.request_certificate(rep_ctx, r, done["hosted zone"])))
        steps.append(Step(f"endpoint {region}", (f"certificate {region}", f"api {region}"),
                          lambda done, r=region: replicate.regional_endpoint(
                              rep_ctx, r, done["hosted zone"], done[f"certificate {r}"], done[f"api {r}"])))

    def failover(done: dict[str, Any]) -> dict[str, Any]:
        regions = {r: {**done[f"endpoint {r}"], "replica": done[f"replica {secondary}"] if r == secondary else None}
                   for r in (primary, secondary)}
        return replicate.finish(rep_ctx, done["hosted zone"], regions, parallel)

    steps += [
        Step("failover", ("hosted zone", f"endpoint {primary}", f"endpoint {secondary}", f"replica {secondary}"),
             failover),
        Step("site follows", ("failover", "site"), lambda done: replicate.site_follows(rep_ctx)),
    ]
    return steps


def _planned_only(steps: list[Step], unplanned: dict[str, str]) -> list[Step]:
    """For --dry-run: a step that needs what does not exist yet (build-ui before any API is recorded, say)
    cannot be planned resource by resource; it is listed as to come, and so is everything after it."""
    def wrapped(step: Step) -> Step:
        def run_step(done: dict[str, Any]) -> Any:
            missing = [need for need in step.needs if need in unplanned]
            if missing:
                unplanned[step.name] = f"after {', '.join(missing)}"
                return None
            try:
                return step.run(done)
            except UsageError as exc:  # a prerequisite that only this deploy would make
                unplanned[step.name] = exc.message
                return None
            except WildrydesError as exc:
                # Planning it looks up what a step before it would create (the table a replica copies):
                # AWS answers not-found for it now, and this deploy would make it first.
                if not is_not_found(exc.__cause__):
                    raise
                unplanned[step.name] = f"needs what the steps before it create ({exc.message})"
                return None
        return Step(step.name, step.needs, run_step)
    return [wrapped(step) for step in steps]


def _preflight(ctx: Context, resolver: tuple[str, int] | None) -> None:
    """On target aws, the checklist first: a deploy that would fail halfway for a reason known up front (no
    hosted zone, missing permissions, a quota) does not start (exit 1, every failure named with its fix)."""
    from wildrydes_mr import preflight

    ctx.progress("preflight: checking what the deploy would run into (nothing is changed)")
    preflight.require_passed(preflight.run(ctx, resolver=resolver))


def run(ctx: Context, parallel: bool = True, preflight: bool = True,
        resolver: tuple[str, int] | None = None) -> dict[str, Any]:
    """`preflight`: run the preflight checklist first (target aws only; the local cloud needs none), asking
    `resolver` (default: the system's) for the domain's delegation."""
    require_predicted_rto_within_objective(ctx.config)
    if preflight and not ctx.target.is_local:
        _preflight(ctx, resolver)
    primary, _ = ctx.config.regions.both
    steps = plan(ctx, parallel)
    if ctx.dry_run:
        unplanned: dict[str, str] = {}
        graph.run(_planned_only(steps, unplanned), ctx.progress, parallel=False)
        return {"dry_run": True, "steps": [{"step": s.name, "needs": list(s.needs)} for s in graph.order(steps)],
                "not_planned_in_detail": unplanned}
    done = graph.run(steps, ctx.progress, parallel=parallel)
    site = done["site"]
    return {**done["failover"], "site_url": done["site follows"] or site["site_url"],
            "identity_pools": site["identity_pools"], "buckets": site["buckets"],
            "api_url": done[f"api {primary}"]["api_url"]}
