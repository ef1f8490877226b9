"""Workshop module 4, `test-failover`: inject a regional fault, measure RTO and RPO from the moment of the
fault, remove the fault, measure the failback, and report — instead of re-pointing /health by hand and watching a
console turn red.

RTO: the first correct response served by the secondary through the public failover name. RPO: the oldest
canary write acknowledged before the fault that the secondary does not have at the end (0 when none is lost).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from wildrydes_mr import faults, report
from wildrydes_mr.engine import Context
from wildrydes_mr.errors import UsageError, WildrydesError
from wildrydes_mr.gameday import GameDay
from wildrydes_mr.objectives import predicted_failover
from wildrydes_mr.observers import AwsObserver, LocalObserver, Observer
from wildrydes_mr.resources import domains, route53
from wildrydes_mr.workflows import replicate

MODULE = "test-failover"
WRITES_PER_SECOND = 2.0
WARMUP_ACKS = 3


def restore(ctx: Context) -> dict[str, Any]:
    """Removes a fault that a killed run left behind (nothing to do when there is none)."""
    removed = faults.remove(ctx)
    return {"restored": removed is not None, "fault": removed}


def _recorded(ctx: Context, kind: str, region: str, name: str) -> dict[str, Any]:
    record = ctx.state.get(kind, region, name)
    if record is None:
        raise UsageError(f"{kind} {name} in {region} is not in the state file: replicate must run first",
                         hint="run `wildrydes replicate`")
    return record


def observer(ctx: Context) -> Observer:
    primary, secondary = ctx.config.regions.both
    if ctx.target.is_local:
        return LocalObserver(ctx.target.site_root)
    name = replicate.failover_name(ctx)
    checks = {r: _recorded(ctx, route53.HealthCheck.kind, r, f"{ctx.config.deployment}-{r}")["id"]
              for r in (primary, secondary)}
    api_domains = {r: _recorded(ctx, domains.DomainName.kind, r, name)["regional_domain_name"]
                   for r in (primary, secondary)}
    zone_id = ctx.config.dns.hosted_zone_id or _recorded(ctx, route53.HostedZone.kind, route53.GLOBAL,
                                                         ctx.config.dns.domain)["id"]
    return AwsObserver(ctx.aws, route53.zone_id_only(zone_id), name, checks, api_domains,
                       failure_threshold=ctx.config.dns.health_check.failure_threshold)


def signing_credentials(ctx: Context) -> Any:
    """Credentials to sign API calls with: the local cloud's keys, or the caller's own on AWS."""
    from botocore.credentials import Credentials

    endpoint = ctx.target.endpoint
    if endpoint.access_key_id:
        return Credentials(endpoint.access_key_id, endpoint.secret_access_key)
    return ctx.aws.credentials()


def _lost_writes(ctx: Context, gameday: GameDay, t0: float, credentials: Any, settle: float) -> list[Any]:
    """Canary writes acknowledged before T0 that the secondary does not have, after replication settles."""
    from wildrydes_mr.apiclient import TicketsApi

    secondary = ctx.config.regions.secondary
    url = ctx.target.regional_url(secondary, replicate.regional_name(ctx, secondary))
    api = TicketsApi(url, secondary, credentials)
    wanted = {w.ticket_id: w for w in gameday.acknowledged_before(t0)}
    deadline = time.monotonic() + settle
    while True:
        present, token = set(), None
        while True:
            page = api.list_tickets(limit=100, next_token=token)
            if page.status != 200:
                raise WildrydesError(f"listing tickets in {secondary} for the RPO check answered {page.status}")
            present |= {t["id"] for t in page.body["tickets"]}
            token = page.body.get("next")
            if not token:
                break
        missing = [w for ticket_id, w in wanted.items() if ticket_id not in present]
        if not missing or time.monotonic() >= deadline:
            return sorted(missing, key=lambda w: w.seq)
        time.sleep(1.0)


def run(ctx: Context, fault: str = faults.OUTAGE, report_dir: Path | None = None) -> dict[str, Any]:
    if faults.active(ctx):
        raise UsageError("a fault from an earlier test-failover run is still in place",
                         hint="run `wildrydes test-failover --restore` first")
    failover_url = ctx.state.extras.get("failover_api_url")
    if not failover_url:
        raise UsageError("no failover name recorded: replicate must run first", hint="run `wildrydes replicate`")
    failover_url = ctx.target.failover_url(ctx.config.dns.domain) or failover_url
    primary, secondary = ctx.config.regions.both
    scale = ctx.config.local.time_scale if ctx.target.is_local else 1.0
    prediction = {k: v * scale for k, v in predicted_failover(ctx.config).items()}
    bound = prediction["predicted_rto_seconds"] * 2 + 30 * scale + 10
    credentials = signing_credentials(ctx)
    gameday = GameDay(failover_url, (primary, secondary), credentials, observer(ctx),
                      probe_interval=max(0.1, 1.0 * scale), write_rate=WRITES_PER_SECOND / max(scale, 0.25))
    problems: list[str] = []
    moments: dict[str, float | None] = dict.fromkeys(report.MARKERS)
    gameday.start()
    try:
        ctx.progress(f"warming up: canary and prober on {failover_url}")
        if not gameday.wait_for(lambda: gameday.serving(0, primary) is not None
                                and len(gameday.acknowledged_before(time.time())) >= WARMUP_ACKS, timeout=60):
            raise WildrydesError(f"the primary ({primary}) does not serve through {failover_url} before the fault",
                                 hint="check `wildrydes local status` / the health checks, then run again")
        ctx.progress(f"injecting fault '{fault}' in {primary}")
        faults.inject(ctx, fault, primary)
        t0 = moments["fault"] = time.time()
        ctx.progress(f"fault in place; waiting for {secondary} to serve (predicted ≤ "
                     f"{prediction['predicted_rto_seconds']:.0f} s)")
        if not gameday.wait_for(lambda: gameday.serving(t0, secondary) is not None, timeout=bound,
                                on_tick=_ticker(ctx, gameday, t0, primary)):
            problems.append(f"did not fail over to {secondary} within {bound:.0f} s")
        moments["first secondary response"] = gameday.serving(t0, secondary)
        ctx.progress("removing the fault")
        faults.remove(ctx)
        t_restore = moments["restore"] = time.time()
        if not gameday.wait_for(lambda: gameday.serving(t_restore, primary) is not None, timeout=bound,
                                on_tick=_ticker(ctx, gameday, t_restore, primary)):
            problems.append(f"did not fail back to {primary} within {bound:.0f} s")
        moments["failback"] = gameday.serving(t_restore, primary)
    finally:
        # Whatever happened (an error, Ctrl-C), the fault goes.
        if faults.active(ctx):
            faults.remove(ctx)
        gameday.stop()

    moments["detection"] = gameday.route53_moment(t0, lambda o: o["health"].get(primary) == "unhealthy")
    moments["dns switch"] = gameday.route53_moment(t0, lambda o: o["dns"] == secondary)
    ctx.progress("checking the canary writes in the secondary (RPO)")
    lost = _lost_writes(ctx, gameday, t0, credentials, settle=10.0 if ctx.target.is_local else 60.0)
    return _report(ctx, fault, gameday, moments, lost, prediction, problems, report_dir)


def _ticker(ctx: Context, gameday: GameDay, origin: float, primary: str):
    """Live progress while waiting: what Route 53 sees and who serves, every few seconds."""
    def tick() -> None:
        observations = [o for o in gameday.recorder.route53 if "error" not in o]
        probes = gameday.recorder.probes
        seen = observations[-1] if observations else {"health": {}, "dns": None}
        serving = probes[-1].region if probes and probes[-1].health_status == 200 else "none (errors)"
        ctx.progress(f"+{time.time() - origin:5.1f} s  {primary} {seen['health'].get(primary, '?')}, "
                     f"DNS → {seen['dns']}, serving: {serving}, canary acked "
                     f"{sum(1 for w in gameday.recorder.writes if w.acked_at)}")
    return tick


def _since(moment: float | None, origin: float | None) -> float | None:
    return None if moment is None or origin is None else round(moment - origin, 3)


def _report(ctx: Context, fault: str, gameday: GameDay, moments: dict[str, float | None], lost: list[Any],
            prediction: dict[str, float], problems: list[str], report_dir: Path | None) -> dict[str, Any]:
    primary, secondary = ctx.config.regions.both
    t0 = moments["fault"]
    during = secondary if moments["first secondary response"] else None
    after = primary if moments["failback"] else gameday.last_region_before(time.time())
    objectives = {"rto_seconds": ctx.config.objectives.rto_seconds, "rpo_seconds": ctx.config.objectives.rpo_seconds}
    rto = _since(moments["first secondary response"], t0)
    rpo = round(t0 - lost[0].acked_at, 3) if lost else 0.0
    writes = gameday.recorder.writes
    result: dict[str, Any] = {
        "fault": fault, "regions": [primary, secondary], "t0": report.iso(t0),
        "rto_seconds": rto, "rpo_seconds": rpo,
        "detection_seconds": _since(moments["detection"], t0), "dns_seconds": _since(moments["dns switch"], t0),
        "failback_seconds": _since(moments["failback"], moments["restore"]),
        "lost_writes": [{"seq": w.seq, "description": w.description, "acked_at": report.iso(w.acked_at),
                         "ticket_id": w.ticket_id} for w in lost],
        "served_by": {"before": gameday.last_region_before(t0), "during": during, "after": after},
        "predicted_rto_seconds": round(prediction["predicted_rto_seconds"], 3),
        "predicted": {k: round(v, 3) for k, v in prediction.items()},
        "time_scale": ctx.config.local.time_scale if ctx.target.is_local else 1.0,
        "objectives": objectives,
        "writes": {"acknowledged": sum(1 for w in writes if w.acked_at), "failed": sum(1 for w in writes
                                                                                       if not w.acked_at)},
        "timeline": [{"name": name, "at": report.iso(moment), "seconds": _since(moment, t0)}
                     for name, moment in moments.items()],
        "problems": problems,
    }
    result["passed"] = bool(
        rto is not None and rto <= objectives["rto_seconds"] and rpo <= objectives["rpo_seconds"]
        and result["served_by"] == {"before": primary, "during": secondary, "after": primary} and not problems)
    with gameday.recorder.lock:
        write_marks = [{"seconds": w.sent_at - t0, "acked": w.acked_at is not None} for w in writes]
        probe_marks = [{"seconds": p.at - t0, "region": p.region, "ok": p.health_status == 200}
                       for p in gameday.recorder.probes]
    directory = report_dir or ctx.state.path.parent / "reports"
    result["report_file"] = str(report.write_files(directory, result, write_marks, probe_marks).resolve())
    return result
