"""test-failover on the local cloud through the real command (clocks compressed with local.time_scale 0.1):
the outage and health faults both fail over and back with no lost writes and pass; the report file holds the
timeline; a run killed with SIGKILL halfway leaves its fault recorded, and --restore removes it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from e2e_helpers import PRIMARY, moto_client, wildrydes, wildrydes_json

SECONDARY = "ap-southeast-1"
FUNCTIONS = ("wildrydes-list-tickets", "wildrydes-create-ticket", "wildrydes-health")


@pytest.fixture(scope="module")
def replicated(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("failover")
    config = workdir / "fast.yaml"
    config.write_text("local: {time_scale: 0.1}\n")
    started = wildrydes_json(workdir, "local", "up", config=config)
    try:
        for command in ("build-api", "build-ui", "replicate"):
            wildrydes_json(workdir, command, config=config)
        yield workdir, config, started["aws_endpoint"]
    finally:
        wildrydes(workdir, "local", "down", check=False, config=config)


def assert_no_fault_left(endpoint: str) -> None:
    lam = moto_client(endpoint, "lambda", PRIMARY)
    for name in FUNCTIONS:
        assert lam.get_function_concurrency(FunctionName=name).get("ReservedConcurrentExecutions") is None, name
    variables = lam.get_function_configuration(FunctionName="wildrydes-health")["Environment"]["Variables"]
    assert "FORCE_UNHEALTHY" not in variables


@pytest.mark.parametrize("fault", ["outage", "health"])
def test_failover_and_failback_pass_within_objectives(replicated, fault):
    workdir, config, endpoint = replicated
    result = wildrydes(workdir, "test-failover", "--fault", fault, config=config, timeout=240)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["passed"] is True
    assert report["served_by"] == {"before": PRIMARY, "during": SECONDARY, "after": PRIMARY}
    assert report["lost_writes"] == [] and report["rpo_seconds"] == 0
    assert report["rto_seconds"] <= report["objectives"]["rto_seconds"]
    # Consistent with the prediction (scaled by time_scale): not before detection, not after the prediction.
    assert report["detection_seconds"] is not None and report["dns_seconds"] is not None
    assert report["detection_seconds"] <= report["rto_seconds"] <= report["predicted_rto_seconds"] + 2
    assert report["failback_seconds"] is not None
    assert report["writes"]["acknowledged"] > 10
    for key in ("rto_seconds", "rpo_seconds", "detection_seconds", "dns_seconds", "failback_seconds",
                "lost_writes", "served_by", "predicted_rto_seconds", "objectives", "passed"):
        assert key in report
    text = Path(report["report_file"]).read_text()
    for moment in ("fault", "detection", "dns switch", "first secondary response", "restore", "failback"):
        assert f"| {moment} | 2" in text, moment  # each moment has a timestamp
    svg = Path(report["report_file"]).with_suffix(".svg")
    assert svg.read_text().startswith("<svg") and "failback" in svg.read_text()
    assert_no_fault_left(endpoint)


def test_sigkill_halfway_then_restore_removes_the_fault(replicated):
    workdir, config, endpoint = replicated
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing")
    process = subprocess.Popen([sys.executable, "-m", "wildrydes_mr", "--config", str(config), "test-failover"],
                               cwd=workdir, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    state_file = workdir / ".wildrydes" / "wildrydes.json"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and "fault" not in json.loads(state_file.read_text())["extras"]:
        time.sleep(0.05)
    time.sleep(0.5)  # the fault is recorded and applied
    # A second command on the same state while this one runs exits at once and changes nothing.
    state_before = state_file.read_text()
    started = time.monotonic()
    concurrent = wildrydes(workdir, "build-api", config=config, check=False)
    assert concurrent.returncode == 4 and "another wildrydes command" in concurrent.stderr
    assert time.monotonic() - started < 10
    assert json.loads(state_file.read_text())["resources"] == json.loads(state_before)["resources"]
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)
    recorded = json.loads(state_file.read_text())["extras"]["fault"]
    assert recorded["kind"] == "outage" and recorded["region"] == PRIMARY
    lam = moto_client(endpoint, "lambda", PRIMARY)
    assert lam.get_function_concurrency(FunctionName="wildrydes-health")["ReservedConcurrentExecutions"] == 0

    refused = wildrydes(workdir, "test-failover", config=config, check=False)
    assert refused.returncode == 2 and "--restore" in refused.stderr

    restored = wildrydes_json(workdir, "test-failover", "--restore", config=config)
    assert restored["restored"] is True
    assert_no_fault_left(endpoint)
    assert "fault" not in json.loads(state_file.read_text())["extras"]
    assert wildrydes_json(workdir, "test-failover", "--restore", config=config)["restored"] is False
