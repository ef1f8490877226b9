"""Benchmark: figures, not pass/fail. Runs on the local cloud it starts in a temporary directory.

    .venv/bin/python bench/bench.py [--output json] [--repeat N]

Phases: cold build-api, no-op re-run, cleanup (wall time, AWS calls mutating / read); `wildrydes --help`
start-up next to `aws --version`; signed GET /ticket through the local gateway next to a direct get_item.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def time_command(argv: list[str], repeat: int) -> float:
    """Median wall time of a command in seconds."""
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def run_phase(options, module_name: str, workflow) -> dict:
    from wildrydes_mr import session

    started = time.perf_counter()
    with session.run(options, module_name) as ctx:
        ctx.reporter.quiet = True
        workflow.run(ctx)
        calls = ctx.aws.calls.snapshot()
    return {"seconds": round(time.perf_counter() - started, 3), **calls}


def latency(samples: list[float]) -> dict:
    ordered = sorted(samples)
    return {"p50_ms": round(statistics.median(ordered) * 1000, 2),
            "p99_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000, 2),
            "per_second": round(len(ordered) / sum(ordered), 1)}


def gateway_figures(api_url: str, region: str, endpoint: str, count: int) -> dict:
    import boto3
    from botocore.credentials import Credentials

    from wildrydes_mr.apiclient import TicketsApi
    from wildrydes_mr.targets import LOCAL_ACCESS_KEY_ID, LOCAL_SECRET_ACCESS_KEY

    api = TicketsApi(api_url, region, Credentials(LOCAL_ACCESS_KEY_ID, LOCAL_SECRET_ACCESS_KEY))
    ticket = api.create_ticket({"description": "benchmark ticket body", "assigned": "bench", "priority": "low",
                                "status": "open"}).body
    gateway = []
    for _ in range(count):
        started = time.perf_counter()
        response = api.list_tickets(limit=10)
        gateway.append(time.perf_counter() - started)
        assert response.status == 200, response.body
    ddb = boto3.client("dynamodb", region_name=region, endpoint_url=endpoint,
                       aws_access_key_id=LOCAL_ACCESS_KEY_ID, aws_secret_access_key=LOCAL_SECRET_ACCESS_KEY)
    direct = []
    for _ in range(count):
        started = time.perf_counter()
        ddb.get_item(TableName="SXRTickets", Key={"id": {"S": ticket["id"]}})
        direct.append(time.perf_counter() - started)
    return {"gateway_signed_get_ticket": latency(gateway), "direct_get_item": latency(direct)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", choices=["text", "json"], default="text")
    parser.add_argument("--repeat", type=int, default=10, help="samples for start-up timings")
    parser.add_argument("--requests", type=int, default=200, help="requests for the gateway latency")
    args = parser.parse_args()

    from wildrydes_mr.local import cloud
    from wildrydes_mr.session import Options
    from wildrydes_mr.workflows import build_api, cleanup

    results: dict = {"phases": {}}
    workdir = Path(tempfile.mkdtemp(prefix="wildrydes-bench-"))
    options = Options(ROOT / "config" / "wildrydes.yaml", workdir / "state.json", "local", "text", False)
    try:
        started = time.perf_counter()
        running = cloud.up(workdir, ["eu-west-1", "ap-southeast-1"])
        results["phases"]["local up"] = {"seconds": round(time.perf_counter() - started, 3)}
        results["phases"]["cold build-api"] = run_phase(options, "build-api", build_api)
        results["phases"]["no-op build-api"] = run_phase(options, "build-api", build_api)
        state = json.loads((workdir / "state.json").read_text())
        api = next(r for r in state["resources"].values() if r["kind"] == "rest-api")
        results["latency"] = gateway_figures(api["url"], "eu-west-1", running.aws_endpoint, args.requests)
        results["phases"]["cleanup"] = run_phase(options, "cleanup", cleanup)
    finally:
        cloud.down(workdir)
        shutil.rmtree(workdir, ignore_errors=True)

    wildrydes = str(Path(sys.executable).with_name("wildrydes"))
    results["startup"] = {"wildrydes --help": round(time_command([wildrydes, "--help"], args.repeat), 3)}
    aws_cli = shutil.which("aws", path=str(Path(sys.executable).parent)) or shutil.which("aws")
    if aws_cli:
        results["startup"]["aws --version"] = round(time_command([aws_cli, "--version"], args.repeat), 3)

    if args.output == "json":
        print(json.dumps(results, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title="wildrydes benchmark (local cloud)")
    for column in ("phase", "seconds", "mutating calls", "read calls"):
        table.add_column(column)
    for name, phase in results["phases"].items():
        table.add_row(name, f"{phase['seconds']:.3f}", str(phase.get("mutating", "")), str(phase.get("read", "")))
    for name, seconds in results["startup"].items():
        table.add_row(name, f"{seconds:.3f}", "", "")
    for name, figures in results["latency"].items():
        table.add_row(f"{name} p50/p99 ms, req/s", f"{figures['p50_ms']} / {figures['p99_ms']}",
                      f"{figures['per_second']} req/s", "")
    Console().print(table)


if __name__ == "__main__":
    main()
