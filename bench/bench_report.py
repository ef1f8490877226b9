"""The benchmark's verdicts and its text output: each target (its limit, the measured figure, the ratio, met or
missed) from bench.py's results, and the tables `bench.py` prints without --output json."""

from __future__ import annotations

# Targets.
NOOP_MUTATING_MAX = 0
CONCURRENT_RATIO_MAX = 0.65
STARTUP_SECONDS_MAX = 0.3
STARTUP_RATIO_MAX = 0.5
GATEWAY_RATIO_MAX = 2.0
CRITICAL_PATH_RATIO_MAX = 1.1


# --- targets and output -----------------------------------------------------------------------------------


def target(name: str, measured: str, limit: str, ratio: float | None, met: bool) -> dict:
    return {"target": name, "measured": measured, "limit": limit,
            "ratio": None if ratio is None else round(ratio, 3), "met": met}


def targets(results: dict) -> list[dict]:
    rows = []
    phases = results["phases"]
    noop = phases["no-op full re-run (total)"]["mutating"]
    rows.append(target("no-op re-run of build-api, build-ui, replicate: mutating calls", str(noop),
                       f"= {NOOP_MUTATING_MAX}", None, noop <= NOOP_MUTATING_MAX))
    comparison = results["comparison"]
    for part in ("replicate", "full deploy"):
        ratio = comparison["ratio"][part]
        rows.append(target(f"local cloud, cold {part}: concurrent / sequential wall time",
                           f"{comparison['median']['concurrent'][part]:.2f} s / "
                           f"{comparison['median']['sequential'][part]:.2f} s",
                           f"≤ {CONCURRENT_RATIO_MAX}×", ratio, ratio <= CONCURRENT_RATIO_MAX))
    sim = results["simulated"]
    for part in ("replicate", "full deploy"):
        ratio = sim["ratio"][part]
        if part == "replicate":
            measured = (f"{sim['concurrent']['replicate']['critical_path_s']:.0f} s / "
                        f"{sim['sequential']['replicate']['critical_path_s']:.0f} s")
        else:
            key = "simulated full deploy (total)"
            measured = (f"{sim['concurrent']['phases_virtual_s'][key]:.0f} s / "
                        f"{sim['sequential']['phases_virtual_s'][key]:.0f} s")
        rows.append(target(f"simulated AWS latency, cold {part}: concurrent / sequential", measured,
                           f"≤ {CONCURRENT_RATIO_MAX}×", ratio, ratio <= CONCURRENT_RATIO_MAX))
    replicate = sim["concurrent"]["replicate"]
    ratio = replicate["critical_path_over_longest"]
    rows.append(target("simulated replicate critical path / longest single wait",
                       f"{replicate['critical_path_s']:.0f} s / {replicate['longest_wait_s']:.0f} s",
                       f"≤ {CRITICAL_PATH_RATIO_MAX}×", ratio, ratio <= CRITICAL_PATH_RATIO_MAX))
    start = results["startup"]
    help_s = start["wildrydes --help"]
    rows.append(target("`wildrydes --help` start-up", f"{help_s:.3f} s", f"≤ {STARTUP_SECONDS_MAX} s",
                       help_s / STARTUP_SECONDS_MAX, help_s <= STARTUP_SECONDS_MAX))
    if "aws --version" in start:
        ratio = help_s / start["aws --version"]
        rows.append(target("`wildrydes --help` / `aws --version`", f"{help_s:.3f} s / {start['aws --version']:.3f} s",
                           f"≤ {STARTUP_RATIO_MAX}×", ratio, ratio <= STARTUP_RATIO_MAX))
    lat = results["latency"]
    gateway, direct = lat["gateway_signed_get_ticket"]["p50_ms"], lat["direct_get_item"]["p50_ms"]
    ratio = gateway / direct
    rows.append(target("gateway signed GET /ticket p50 / direct get_item p50", f"{gateway} ms / {direct} ms",
                       f"≤ {GATEWAY_RATIO_MAX}×", ratio, ratio <= GATEWAY_RATIO_MAX))
    failover = results["failover"]
    if "error" in failover:
        rows.append(target("local failover", failover["error"], "runs", None, False))
    else:
        rto, predicted = failover["rto_seconds"], failover["predicted_rto_seconds"]
        if rto is None:
            rows.append(target("local failover: measured RTO / predicted RTO", "no failover", "≤ 1×", None, False))
        else:
            rows.append(target("local failover: measured RTO / predicted RTO (scaled)",
                               f"{rto:.2f} s / {predicted:.2f} s", "≤ 1×", rto / predicted, rto <= predicted))
        rows.append(target("local failover: test-failover's own verdict (RTO, RPO within objectives, "
                           "served before/during/after)", "passed" if failover["passed"] else "failed",
                           "passed", None, bool(failover["passed"])))
    return rows


def print_text(results: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(width=max(Console().width, 140))
    env = results["environment"]
    console.print(f"wildrydes benchmark — {env['date']}, commit {env['commit']}, {env['machine']}, "
                  f"Python {env['python']}, "
                  f"moto {env['moto']}, boto3 {env['boto3']}, load average at start "
                  f"{'/'.join(map(str, env['load_average_at_start']))}; total {results['bench_seconds']:.0f} s")

    table = Table(title="1. Local cloud: cold deploy, no-op re-run, cleanup")
    for column in ("phase", "wall s", "mutating calls", "read calls"):
        table.add_column(column, justify="right" if column != "phase" else "left")
    for name, phase in results["phases"].items():
        table.add_row(name, f"{phase['seconds']:.3f}", str(phase.get("mutating", "")), str(phase.get("read", "")))
    console.print(table)

    comparison = results["comparison"]
    table = Table(title=f"2. Cold deploy, concurrent vs sequential regions (local cloud, median of "
                        f"{comparison['runs_each']} fresh clouds each)")
    for column in ("part", "concurrent s", "sequential s", "ratio"):
        table.add_column(column)
    for part in ("replicate", "full deploy"):
        table.add_row(part, f"{comparison['median']['concurrent'][part]:.3f}",
                      f"{comparison['median']['sequential'][part]:.3f}", f"{comparison['ratio'][part]:.2f}×")
    console.print(table)

    table = Table(title="3. Start-up (median)")
    table.add_column("command")
    table.add_column("seconds")
    for name, seconds in results["startup"].items():
        table.add_row(name, f"{seconds:.3f}")
    console.print(table)

    table = Table(title="4. Latency, sequential requests")
    for column in ("request", "p50 ms", "p99 ms", "req/s"):
        table.add_column(column)
    for name, figures in results["latency"].items():
        table.add_row(name, str(figures["p50_ms"]), str(figures["p99_ms"]), str(figures["per_second"]))
    console.print(table)

    failover = results["failover"]
    table = Table(title=f"5. Local failover (test-failover, outage, local.time_scale {failover.get('time_scale')})")
    for column in ("figure", "scaled s", "real-time equivalent s"):
        table.add_column(column)
    if "error" in failover:
        table.add_row("error", failover["error"], "")
    else:
        for key in ("detection", "dns", "rto", "predicted_rto", "rpo", "failback"):
            value = failover[f"{key}_seconds"]
            table.add_row(key.replace("_", " "), "—" if value is None else f"{value:.2f}",
                          "—" if value is None else f"{failover[f'{key}_real_equivalent_seconds']:.1f}")
        table.add_row("passed / served by", str(failover["passed"]),
                      " → ".join(str(v) for v in failover["served_by"].values()))
    console.print(table)

    sim = results["simulated"]
    table = Table(title="6. Simulated AWS latency (virtual seconds)",
                  caption="behaviour-layer durations: " + ", ".join(f"{k} {v:g} s"
                                                                    for k, v in sim["durations_s"].items()))
    for column in ("phase", "concurrent s", "sequential s"):
        table.add_column(column)
    for name in sim["concurrent"]["phases_virtual_s"]:
        table.add_row(name, f"{sim['concurrent']['phases_virtual_s'][name]:.0f}",
                      f"{sim['sequential']['phases_virtual_s'][name]:.0f}")
    replicate = sim["concurrent"]["replicate"]
    table.add_row("replicate: slowest region thread", f"{replicate['slowest_region_thread_s']:.0f}", "")
    table.add_row("replicate: sequential parts", f"{replicate['sequential_parts_s']:.0f}", "")
    table.add_row("replicate: thread-seconds waiting on AWS", f"{replicate['sum_of_waits_s']:.0f}",
                  f"{sim['sequential']['replicate']['sum_of_waits_s']:.0f}")
    table.add_row(f"replicate: longest single wait ({replicate['longest_wait']})",
                  f"{replicate['longest_wait_s']:.0f}", "")
    console.print(table)

    for name in ("replicate", "cleanup"):
        table = Table(title=f"6b. Simulated concurrent {name}: where each thread's virtual time went")
        for column in ("thread", "from s", "to s", "waits (from–to s: on)"):
            table.add_column(column)
        for thread in sim["concurrent"][name]["threads"]:
            waits = "; ".join(f"{w['from_s']:.0f}–{w['to_s']:.0f}: {w['on']}" for w in thread["waits"])
            table.add_row(thread["thread"], f"{thread['start_s']:.0f}", f"{thread['end_s']:.0f}", waits or "—")
        console.print(table)

    table = Table(title="Targets")
    for column in ("target", "measured", "limit", "ratio", "result"):
        table.add_column(column)
    for row in results["targets"]:
        table.add_row(row["target"], row["measured"], row["limit"],
                      "" if row["ratio"] is None else f"{row['ratio']:.2f}",
                      "[green]met[/green]" if row["met"] else "[red]MISSED[/red]")
    console.print(table)
