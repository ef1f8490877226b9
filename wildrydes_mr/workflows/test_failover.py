"""Workshop module 4, `test-failover`: inject a regional fault, measure RTO and RPO, remove the fault, measure the
failback, and report — instead of re-pointing /health by hand and watching a console turn red.

T0 is the fault (for `replication`, the pause; the outage follows a pause window later). RTO: from the moment the
primary stopped serving to the first correct response served by the secondary through the public failover name.
RPO (rpo.py): the canary writes the primary acknowledged that the secondary lacked when it took over; RPO = the
primary's last acknowledgement − the oldest lost write's (0 when none is lost); after failback, which came back.
On the local cloud every figure is at local.time_scale and is also given as the AWS seconds it stands for, which
is what the objectives are compared with. Every report is kept under the state directory's reports/ (history.py).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from wildrydes_mr import faults, report, rpo
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


def _regional_api(ctx: Context, region: str, credentials: Any):
    from wildrydes_mr.apiclient import TicketsApi

    url = ctx.target.regional_url(region, replicate.regional_name(ctx, region))
    return TicketsApi(url, region, credentials)


def run(ctx: Context, fault: str = faults.OUTAGE, report_dir: Path | None = None,
        pause_window: float = 10.0) -> dict[str, Any]:
    """`pause_window` (seconds, scaled on the local cloud): with the replication fault, how long replication is
    paused before the application-tier outage follows."""
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
    window = pause_window * scale if fault == faults.REPLICATION else 0.0
    credentials = signing_credentials(ctx)
    gameday = GameDay(failover_url, (primary, secondary), credentials, observer(ctx),
                      probe_interval=max(0.1, 1.0 * scale), write_rate=WRITES_PER_SECOND / max(scale, 0.25))
    problems: list[str] = []
    moments: dict[str, float | None] = dict.fromkeys(report.MARKERS)
    check: rpo.DataCheck | None = None
    gameday.start()
    try:
        ctx.progress(f"warming up: canary and prober on {failover_url}")
        if not gameday.wait_for(lambda: gameday.serving(0, primary) is not None
                                and len(gameday.acknowledged_before(time.time())) >= WARMUP_ACKS, timeout=60):
            raise WildrydesError(f"the primary ({primary}) does not serve through {failover_url} before the fault",
                                 hint="check `wildrydes local status` / the health checks, then run again")
        ctx.progress(f"injecting fault '{fault}' in {primary}")
        # The FIS experiment's duration is an upper bound in AWS seconds (the local cloud scales it); the
        # fault's removal stops it as soon as the game day is done.
        requested = time.time()
        faults.inject(ctx, fault, primary, pause_seconds=(window + 3 * bound + 120) / scale)
        t0 = moments["fault"] = time.time()
        if faults.pauses_replication(ctx, fault) or fault == faults.REGION:
            # Replication may stop from the moment it was asked to (FIS pauses as the experiment starts, before
            # StartExperiment's wait for "running" returns): the pause is drawn from the request on.
            moments["replication paused"] = requested
        if fault == faults.REPLICATION:
            ctx.progress(f"replication paused; the primary keeps serving for the pause window ({window:.1f} s)")
            time.sleep(window)
            faults.add_outage(ctx)
        origin = moments["outage"] = time.time() if fault != faults.HEALTH else None
        origin = origin or t0
        ctx.progress(f"fault in place; waiting for {secondary} to serve (predicted ≤ "
                     f"{prediction['predicted_rto_seconds']:.0f} s)")
        if not gameday.wait_for(lambda: gameday.serving(origin, secondary) is not None, timeout=bound,
                                on_tick=_ticker(ctx, gameday, origin, primary)):
            problems.append(f"did not fail over to {secondary} within {bound:.0f} s")
        moments["first secondary response"] = gameday.serving(origin, secondary)
        if moments["first secondary response"]:
            ctx.progress(f"{secondary} took over: listing its tickets for the writes it lacks (RPO)")
            check = rpo.at_takeover(gameday.writes(), primary, _regional_api(ctx, secondary, credentials))
        ctx.progress("removing the fault")
        faults.remove(ctx)
        t_restore = moments["restore"] = time.time()
        if moments["replication paused"]:
            moments["replication resumed"] = t_restore
        if not gameday.wait_for(lambda: gameday.serving(t_restore, primary) is not None, timeout=bound,
                                on_tick=_ticker(ctx, gameday, t_restore, primary)):
            problems.append(f"did not fail back to {primary} within {bound:.0f} s")
        moments["failback"] = gameday.serving(t_restore, primary)
    finally:
        # Whatever happened (an error, Ctrl-C), the fault goes.
        if faults.active(ctx):
            faults.remove(ctx)
        gameday.stop()

    moments["detection"] = gameday.detected(origin, primary)
    moments["dns switch"] = gameday.route53_moment(origin, lambda o: o["dns"] == secondary)
    primary_api, secondary_api = (_regional_api(ctx, r, credentials) for r in (primary, secondary))
    if check is None:
        problems.append("the secondary never took over: lost writes are counted at the end of the run")
        check = rpo.at_takeover(gameday.writes(), primary, secondary_api)
    ctx.progress("checking which lost writes came back after failback, and conflicts")
    rpo.after_failback(check, gameday.writes(), primary_api, secondary_api,
                       settle=10.0 if ctx.target.is_local else 120.0)
    return _report(ctx, fault, gameday, moments, check, prediction, problems, report_dir, window)


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


def _real(value: float | None, scale: float) -> float | None:
    """A figure measured at the local cloud's time scale, in the seconds it stands for on AWS."""
    return None if value is None else round(value / scale, 3)


def _report(ctx: Context, fault: str, gameday: GameDay, moments: dict[str, float | None], check: rpo.DataCheck,
            prediction: dict[str, float], problems: list[str], report_dir: Path | None,
            window: float) -> dict[str, Any]:
    primary, secondary = ctx.config.regions.both
    t0, origin = moments["fault"], moments["outage"] or moments["fault"]
    scale = ctx.config.local.time_scale if ctx.target.is_local else 1.0
    during = secondary if moments["first secondary response"] else None
    after = primary if moments["failback"] else gameday.last_region_before(time.time())
    objectives = {"rto_seconds": ctx.config.objectives.rto_seconds, "rpo_seconds": ctx.config.objectives.rpo_seconds}
    # RTO, detection and the DNS switch count from the moment the primary stopped serving (the outage; for
    # `replication` a pause window after T0); the timeline counts from T0.
    figures = {"rto": _since(moments["first secondary response"], origin), "rpo": check.rpo_seconds,
               "detection": _since(moments["detection"], origin), "dns": _since(moments["dns switch"], origin),
               "failback": _since(moments["failback"], moments["restore"]),
               "predicted_rto": round(prediction["predicted_rto_seconds"], 3)}
    real = {name: _real(value, scale) for name, value in figures.items()}
    writes = gameday.writes()

    def window_of(start: str, end: str) -> list[float | None] | None:
        return None if moments[start] is None else [_since(moments[start], t0), _since(moments[end], t0)]

    result: dict[str, Any] = {
        "fault": fault, "target": "local" if ctx.target.is_local else "aws", "regions": [primary, secondary],
        "t0": report.iso(t0),
        "rto_seconds": figures["rto"], "rpo_seconds": figures["rpo"],
        "detection_seconds": figures["detection"], "dns_seconds": figures["dns"],
        "failback_seconds": figures["failback"],
        "time_scale": scale, "scaled": scale != 1.0, "real_seconds": real,
        "pause_window_seconds": window if fault == faults.REPLICATION else None,
        "primary_stopped_seconds": _since(check.primary_stopped_at, t0),
        "lost_writes": rpo.lost_rows(check, t0, report.iso),
        "conflicts": check.conflicts,
        "served_by": {"before": gameday.last_region_before(origin), "during": during, "after": after},
        "predicted_rto_seconds": figures["predicted_rto"],
        "predicted": {k: round(v, 3) for k, v in prediction.items()},
        "objectives": objectives,
        "writes": {"acknowledged": sum(1 for w in writes if w.acked_at), "failed": sum(1 for w in writes
                                                                                       if not w.acked_at)},
        "timeline": [{"name": name, "at": report.iso(moment), "seconds": _since(moment, t0)}
                     for name, moment in moments.items()],
        "windows": {"fault": window_of("fault", "restore"),
                    "replication pause": window_of("replication paused", "replication resumed")},
        "problems": problems,
    }
    # Like with like: the objectives are AWS seconds, so the local cloud's scaled figures count as what they
    # stand for.
    result["passed"] = bool(
        real["rto"] is not None and real["rto"] <= objectives["rto_seconds"]
        and real["rpo"] <= objectives["rpo_seconds"]
        and result["served_by"] == {"before": primary, "during": secondary, "after": primary} and not problems)
    lost = {w.seq for w in check.lost}
    with gameday.recorder.lock:
        probe_marks = [{"seconds": p.at - t0, "region": p.region, "ok": p.health_status == 200}
                       for p in gameday.recorder.probes]
    write_marks = [{"seconds": w.sent_at - t0, "acked": w.acked_at is not None, "lost": w.seq in lost}
                   for w in writes]
    directory = report_dir or ctx.state.path.parent / "reports"
    result["report_file"] = str(report.write_files(directory, result, write_marks, probe_marks).resolve())
    return result
