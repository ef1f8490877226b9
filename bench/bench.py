"""Benchmark of wildrydes on local clouds: figures, and each target met or missed with its ratio.

Starts its local clouds in temporary directories; takes about two minutes on 2 cores.

    .venv/bin/python bench/bench.py [--output json] [--repeat N] [--deploys N] [--requests N]

1. Cold full deploy (build-api, build-ui, replicate), its no-op re-run and cleanup: wall time and AWS calls
   (mutating / read) per phase.
2. The same cold deploy with the regions forced sequential (replicate.run(parallel=False)), each on a fresh local
   cloud, alternating with concurrent ones: medians and the speed-up.
3. `wildrydes --help` start-up next to `aws --version` (median of --repeat).
4. Signed GET /ticket through the local gateway next to a direct DynamoDB get_item on the same moto server.
5. test-failover on the local cloud with local.time_scale (default 0.1): RTO, RPO, detection next to the
   predicted RTO, in scaled seconds and as real-time equivalents (/ time_scale).
6. Simulated AWS latency (bench/simulated.py): the cold deploy and cleanup again, concurrent and sequential,
   with a virtual per-thread clock and the tests' AWS behaviour layer answering "not yet" / "not now" for as
   long as AWS would; replicate's and cleanup's critical paths against their longest single wait.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

REGIONS = ["eu-west-1", "ap-southeast-1"]
PRIMARY = REGIONS[0]


# --- helpers ------------------------------------------------------------------------------------------------


def script_results(doc: str, run, add_arguments=None) -> dict | None:
    """The command line of a bench script: --time-scale, --output text|json (and what `add_arguments` adds);
    runs `run(args)`; prints the JSON and returns None for --output json, else returns the results to print."""
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    if add_arguments:
        add_arguments(parser)
    parser.add_argument("--time-scale", type=float, default=0.1)
    parser.add_argument("--output", choices=("text", "json"), default="text")
    args = parser.parse_args()
    results = run(args)
    if args.output == "json":
        print(json.dumps(results, indent=2))
        return None
    return results


def time_command(argv: list[str], repeat: int) -> float:
    """Median wall time of a command in seconds."""
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


@contextmanager
def local_cloud(time_scale: float) -> Iterator[dict[str, Any]]:
    """A fresh local cloud in a temporary directory, with a config whose local.time_scale is `time_scale`."""
    from wildrydes_mr.local import cloud
    from wildrydes_mr.session import Options

    workdir = Path(tempfile.mkdtemp(prefix="wildrydes-bench-"))
    config = workdir / "bench.yaml"
    config.write_text(f"local: {{time_scale: {time_scale}}}\n", encoding="utf-8")
    options = Options(config, workdir / "state.json", "local", "text", False)
    try:
        started = time.perf_counter()
        running = cloud.up(workdir, REGIONS, time_scale)
        yield {"workdir": workdir, "options": options, "cloud": running,
               "up_seconds": round(time.perf_counter() - started, 3)}
    finally:
        cloud.down(workdir)
        shutil.rmtree(workdir, ignore_errors=True)


def run_phase(options, module: str, workflow, clock=None, waits=None, **kwargs) -> tuple[dict, dict]:
    """One workflow run through session.run (the CLI's code path): wall time, AWS calls, and its result."""
    from wildrydes_mr import session

    started = time.perf_counter()
    with session.run(options, module, clock=clock) as ctx:
        ctx.reporter.quiet = True
        if waits is not None:
            waits.install(ctx.aws)
        virtual_start = clock.monotonic() if clock is not None else None
        result = workflow.run(ctx, **kwargs)
        calls = ctx.aws.calls.snapshot()
        figures: dict[str, Any] = {"seconds": round(time.perf_counter() - started, 3), **calls}
        if clock is not None:
            virtual_end = clock.monotonic()
            figures.update(virtual_start=virtual_start, virtual_end=virtual_end,
                           virtual_seconds=round(virtual_end - virtual_start, 1))
    return figures, result


def deploy(options, parallel: bool = True, clock=None, waits=None, label: str = "cold") -> dict[str, dict]:
    """build-api, build-ui, replicate (each its own command run, as from the CLI); figures per phase + total."""
    from wildrydes_mr.workflows import build_api, build_ui, replicate

    phases = {}
    for module, workflow, kwargs in (("build-api", build_api, {}), ("build-ui", build_ui, {}),
                                     ("replicate", replicate, {"parallel": parallel})):
        phases[f"{label} {module}"], _ = run_phase(options, module, workflow, clock, waits, **kwargs)
    total = {key: round(sum(p[key] for p in phases.values()), 3) for key in ("seconds", "mutating", "read")}
    if clock is not None:
        total["virtual_seconds"] = round(sum(p["virtual_seconds"] for p in phases.values()), 1)
    phases[f"{label} full deploy (total)"] = total
    return phases


def latency(samples: list[float]) -> dict:
    ordered = sorted(samples)
    return {"p50_ms": round(statistics.median(ordered) * 1000, 2),
            "p99_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000, 2),
            "per_second": round(len(ordered) / sum(ordered), 1)}


def gateway_figures(api_url: str, region: str, endpoint: str, count: int) -> dict:
    import boto3
    from botocore.credentials import Credentials

    from wildrydes_mr.apiclient import TicketsApi
    from wildrydes_mr.resources.dynamodb import LISTING_INDEX
    from wildrydes_mr.targets import LOCAL_ACCESS_KEY_ID, LOCAL_SECRET_ACCESS_KEY

    api = TicketsApi(api_url, region, Credentials(LOCAL_ACCESS_KEY_ID, LOCAL_SECRET_ACCESS_KEY))
    ticket = api.create_ticket({"description": "benchmark ticket body", "assigned": "bench", "priority": "low",
                                "status": "open"}).body
    ddb = boto3.client("dynamodb", region_name=region, endpoint_url=endpoint,
                       aws_access_key_id=LOCAL_ACCESS_KEY_ID, aws_secret_access_key=LOCAL_SECRET_ACCESS_KEY)

    def list_through_gateway() -> None:
        response = api.list_tickets(limit=10)
        assert response.status == 200, response.body

    def get_item() -> None:
        ddb.get_item(TableName="SXRTickets", Key={"id": {"S": ticket["id"]}})

    def query() -> None:  # what the list handler itself asks moto for (for comparison; not the target's floor)
        ddb.query(TableName="SXRTickets", IndexName=LISTING_INDEX, KeyConditionExpression="#k = :k",
                  ExpressionAttributeNames={"#k": "owner"}, ExpressionAttributeValues={":k": {"S": api.owner}},
                  ScanIndexForward=False, Limit=10)

    for _ in range(5):  # warm-up (the gateway starts the list function's worker on its first request)
        list_through_gateway(), get_item(), query()
    # Interleaved, so that the three see the same machine load.
    gateway, direct, queries = [], [], []
    for _ in range(count):
        for call, samples in ((list_through_gateway, gateway), (get_item, direct), (query, queries)):
            started = time.perf_counter()
            call()
            samples.append(time.perf_counter() - started)
    return {"gateway_signed_get_ticket": latency(gateway), "direct_get_item": latency(direct),
            "direct_query_limit_10": latency(queries)}


def failover_figures(options, workdir: Path, time_scale: float) -> dict:
    from wildrydes_mr.errors import WildrydesError
    from wildrydes_mr.workflows import test_failover

    started = time.perf_counter()
    try:
        _, report = run_phase(options, test_failover.MODULE, test_failover, report_dir=workdir / "reports")
    except WildrydesError as exc:
        return {"error": exc.message, "seconds": round(time.perf_counter() - started, 1)}
    figures: dict[str, Any] = {"time_scale": time_scale, "seconds": round(time.perf_counter() - started, 1),
                               "passed": report["passed"], "served_by": report["served_by"],
                               "writes": report["writes"], "problems": report["problems"]}
    for key in ("rto_seconds", "rpo_seconds", "detection_seconds", "dns_seconds", "failback_seconds",
                "predicted_rto_seconds"):
        value = report.get(key)
        figures[key] = value
        figures[f"{key.removesuffix('_seconds')}_real_equivalent_seconds"] = (
            None if value is None else round(value / time_scale, 1))
    figures["objectives"] = report["objectives"]
    return figures


# --- the parts --------------------------------------------------------------------------------------------


def main_run(args) -> dict:
    """Items 1, 4, 5 on one local cloud: cold deploy, no-op re-run, gateway latency, failover, cleanup."""
    from wildrydes_mr.workflows import build_api, build_ui, cleanup, replicate

    out: dict[str, Any] = {}
    with local_cloud(args.time_scale) as env:
        options, workdir = env["options"], env["workdir"]
        phases: dict[str, dict] = {"local up": {"seconds": env["up_seconds"]}}
        phases.update(deploy(options))
        noop = {}
        for module, workflow in (("build-api", build_api), ("build-ui", build_ui), ("replicate", replicate)):
            noop[f"no-op {module}"], _ = run_phase(options, module, workflow)
        noop["no-op full re-run (total)"] = {key: round(sum(p[key] for p in noop.values()), 3)
                                             for key in ("seconds", "mutating", "read")}
        phases.update(noop)
        state = json.loads((workdir / "state.json").read_text())
        api = next(r for r in state["resources"].values() if r["kind"] == "rest-api" and r["region"] == PRIMARY)
        out["latency"] = gateway_figures(api["url"], PRIMARY, env["cloud"].aws_endpoint, args.requests)
        out["failover"] = failover_figures(options, workdir, args.time_scale)
        phases["cleanup"], result = run_phase(options, "cleanup", cleanup)
        phases["cleanup"]["left"] = len(result["remaining"])
    out["phases"] = phases
    return out


def comparison_runs(args) -> dict:
    """Item 2: cold deploys on fresh local clouds, concurrent and sequential alternating; medians."""
    samples: dict[str, list[dict]] = {"concurrent": [], "sequential": []}
    for round_number in range(args.deploys):
        order = (True, False) if round_number % 2 else (False, True)
        for parallel in order:
            with local_cloud(args.time_scale) as env:
                phases = deploy(env["options"], parallel=parallel)
            samples["concurrent" if parallel else "sequential"].append(
                {"replicate": phases["cold replicate"]["seconds"],
                 "full deploy": phases["cold full deploy (total)"]["seconds"]})
    medians = {mode: {part: round(statistics.median(s[part] for s in runs), 3)
                      for part in ("replicate", "full deploy")} for mode, runs in samples.items()}
    return {"runs_each": args.deploys, "samples": samples, "median": medians,
            "ratio": {part: round(medians["concurrent"][part] / medians["sequential"][part], 3)
                      for part in ("replicate", "full deploy")}}


def simulated_runs(args) -> dict:
    """Item 6: the cold deploy under simulated AWS latency, concurrent then sequential; then cleanup."""
    import simulated

    from wildrydes_mr.workflows import cleanup

    out: dict[str, Any] = {"durations_s": {**{r.name: r.duration for r in simulated.SimulatedWaits(
        simulated.SimulatedClock()).layer.rules}, **simulated.DURATIONS}}
    for mode, parallel in (("concurrent", True), ("sequential", False)):
        clock = simulated.SimulatedClock()
        waits = simulated.SimulatedWaits(clock)
        with local_cloud(args.time_scale) as env:
            phases = deploy(env["options"], parallel=parallel, clock=clock, waits=waits, label="simulated")
            phases["simulated cleanup"], _ = run_phase(env["options"], "cleanup", cleanup, clock, waits)
        out[mode] = {"phases_virtual_s": {name: p["virtual_seconds"] for name, p in phases.items()},
                     "phases_wall_s": {name: p["seconds"] for name, p in phases.items()}}
        for name in ("replicate", "cleanup"):
            out[mode][name] = _critical_path(phases[f"simulated {name}"], waits, clock, simulated)
    out["ratio"] = {
        "replicate": round(out["concurrent"]["replicate"]["critical_path_s"]
                           / out["sequential"]["replicate"]["critical_path_s"], 3),
        "full deploy": round(out["concurrent"]["phases_virtual_s"]["simulated full deploy (total)"]
                             / out["sequential"]["phases_virtual_s"]["simulated full deploy (total)"], 3)}
    return out


def _critical_path(phase: dict, waits, clock, simulated) -> dict:
    """One simulated command: its critical path (its virtual duration) against its longest single wait, the
    thread-seconds spent waiting on AWS, and where each thread's time went."""
    start, end = phase["virtual_start"], phase["virtual_end"]
    summary = waits.summary(start, end)
    threads = simulated.timelines(clock, start, end)
    workers = [t for t in threads if t["thread"] != "main"]
    slowest = max((t["elapsed_s"] for t in workers), default=0.0)
    critical = phase["virtual_seconds"]
    waited = sum(w["to_s"] - w["from_s"] for t in threads for w in t["waits"]
                 if w["on"] not in ("waiting for concurrent threads", "other sleeps"))
    return {"critical_path_s": critical, "slowest_region_thread_s": slowest,
            "sequential_parts_s": round(critical - slowest, 1) if workers else critical,
            "sum_of_waits_s": round(waited, 1), "longest_wait_s": summary["longest_wait_s"],
            "longest_wait": summary["longest_wait"],
            "critical_path_over_longest": round(critical / summary["longest_wait_s"], 3)
            if summary["longest_wait_s"] else None,
            "threads": threads, "rules": summary["rules"]}


def startup(args) -> dict:
    wildrydes = str(Path(sys.executable).with_name("wildrydes"))
    figures = {"wildrydes --help": round(time_command([wildrydes, "--help"], args.repeat), 3)}
    aws_cli = shutil.which("aws", path=str(Path(sys.executable).parent)) or shutil.which("aws")
    if aws_cli:
        figures["aws --version"] = round(time_command([aws_cli, "--version"], args.repeat), 3)
    return figures


def git_commit() -> str:
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                                check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT,
                               capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return commit + (" + uncommitted changes" if dirty else "")


def environment() -> dict:
    from importlib.metadata import version

    return {"commit": git_commit(), "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "python": platform.python_version(),
            "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.system()}",
            "moto": version("moto"), "boto3": version("boto3"), "awscli": version("awscli"),
            "load_average_at_start": [round(x, 2) for x in os.getloadavg()]}


def main() -> None:
    from bench_report import print_text, targets

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", choices=["text", "json"], default="text")
    parser.add_argument("--repeat", type=int, default=10, help="samples for start-up timings")
    parser.add_argument("--requests", type=int, default=200, help="requests for the gateway latency")
    parser.add_argument("--deploys", type=int, default=5, help="cold deploys per mode for the concurrency ratio")
    parser.add_argument("--time-scale", type=float, default=0.1, help="local.time_scale of the local clouds")
    args = parser.parse_args()

    started = time.perf_counter()
    results: dict[str, Any] = {"environment": environment()}
    results.update(main_run(args))
    results["comparison"] = comparison_runs(args)
    results["simulated"] = simulated_runs(args)
    results["startup"] = startup(args)
    results["targets"] = targets(results)
    results["bench_seconds"] = round(time.perf_counter() - started, 1)
    if args.output == "json":
        print(json.dumps(results, indent=2, default=str))
    else:
        print_text(results)


if __name__ == "__main__":
    main()
