"""test-failover on the local cloud through the real command (clocks compressed with local.time_scale 0.1,
replication lag 0): the outage, health and region faults fail over and back with no lost writes and pass; the
replication fault (an FIS pause, the outage a pause window later) loses that window's writes — each listed, the
RPO about the window — and every one is back after failback; the report file holds the timeline; a run killed
with SIGKILL halfway leaves its fault recorded, and --restore removes it; the AWS code path's region fault
(outage + FIS pause) against the local data plane."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from xml.etree import ElementTree

import pytest
from e2e_helpers import PRIMARY, local_deployment, moto_client, wildrydes, wildrydes_json
from route53_fleet import Route53Fleet

from wildrydes_mr import config as config_module
from wildrydes_mr import faults
from wildrydes_mr import state as state_module
from wildrydes_mr.aws import Aws
from wildrydes_mr.engine import Context
from wildrydes_mr.local.daemon import OPERATOR_ARN
from wildrydes_mr.observers import AwsObserver
from wildrydes_mr.targets import LOCAL_ACCESS_KEY_ID, LOCAL_SECRET_ACCESS_KEY, Endpoint, Target
from wildrydes_mr.workflows import test_failover

SECONDARY = "ap-southeast-1"
FUNCTIONS = ("wildrydes-list-tickets", "wildrydes-create-ticket", "wildrydes-claim-tickets", "wildrydes-health")


@pytest.fixture(scope="module")
def replicated(tmp_path_factory):
    with local_deployment(tmp_path_factory.mktemp("failover"), "local: {time_scale: 0.1, replication_lag_ms: 0}\n",
                          "build-api", "build-ui", "replicate") as env:
        yield env["workdir"], env["config"], env["started"]["aws_endpoint"]


def assert_no_fault_left(endpoint: str) -> None:
    lam = moto_client(endpoint, "lambda", PRIMARY)
    for name in FUNCTIONS:
        assert lam.get_function_concurrency(FunctionName=name).get("ReservedConcurrentExecutions") is None, name
    variables = lam.get_function_configuration(FunctionName="wildrydes-health")["Environment"]["Variables"]
    assert "FORCE_UNHEALTHY" not in variables


@pytest.mark.parametrize("fault", ["outage", "health", "region"])
def test_failover_and_failback_pass_within_objectives(replicated, fault):
    workdir, config, endpoint = replicated
    result = wildrydes(workdir, "test-failover", "--fault", fault, config=config, timeout=240)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["passed"] is True
    assert report["served_by"] == {"before": PRIMARY, "during": SECONDARY, "after": PRIMARY}
    assert report["lost_writes"] == [] and report["rpo_seconds"] == 0
    assert report["rto_seconds"] <= report["objectives"]["rto_seconds"]
    # Consistent with the prediction (scaled by time_scale): not before detection (the DNS plane's own moment of
    # the verdict), not after the prediction.
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


def test_replication_pause_loses_the_windows_writes_and_failback_brings_them_back(replicated):
    workdir, config, endpoint = replicated
    result = wildrydes(workdir, "test-failover", "--fault", "replication", "--pause-window", "20", config=config,
                       timeout=300)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    window = report["pause_window_seconds"]
    assert window == pytest.approx(2.0)  # 20 s × time_scale 0.1
    assert report["served_by"] == {"before": PRIMARY, "during": SECONDARY, "after": PRIMARY}
    moments = {m["name"]: m["seconds"] for m in report["timeline"]}
    # Asked for before T0: FIS's template, StartExperiment and the wait for "running" take a moment (over a second
    # on a busy machine); the outage follows the window later (after throttling three functions).
    assert -5 < moments["replication paused"] <= 0 and window <= moments["outage"] <= window + 2
    lost = report["lost_writes"]
    # The canary writes 8 a second (test_failover.WRITES_PER_SECOND / max(time_scale, 0.25)): the window's writes
    # are lost, each listed with its acknowledgement inside the window (after the pause, before the outage).
    rate = test_failover.WRITES_PER_SECOND / 0.25
    assert len(lost) >= 0.6 * window * rate, len(lost)
    # A create already running when the functions are throttled is still acknowledged, however long it takes on a
    # busy machine: each lost write was sent before the outage and acknowledged after the pause was asked for.
    paused = moments["replication paused"]
    outside = [w for w in lost if not (paused - 0.1 <= w["seconds"] and w["sent_seconds"] <= moments["outage"] + 0.05)]
    assert not outside, (moments, [(w["seq"], w["sent_seconds"], w["seconds"]) for w in outside])
    assert [w["seq"] for w in lost] == sorted(w["seq"] for w in lost)
    stopped = report["primary_stopped_seconds"]
    assert stopped >= moments["outage"] - 1.0  # the primary acknowledged writes until the outage (8 a second)
    assert 0.6 * window <= report["rpo_seconds"] <= stopped - paused + 0.1
    assert report["real_seconds"]["rpo"] == pytest.approx(report["rpo_seconds"] / 0.1, abs=0.01)
    assert report["rpo_seconds"] == pytest.approx(report["primary_stopped_seconds"] - lost[0]["seconds"], abs=0.01)
    assert all(w["reappeared"] is True for w in lost)  # replication resumed with the failback
    assert report["passed"] is True  # 20 s real of lost writes is inside the 900 s objective
    # The secondary holds every lost write now, by moto's own account.
    held = {item["id"]["S"] for item in moto_client(endpoint, "dynamodb", SECONDARY).scan(
        TableName="SXRTickets")["Items"]}
    assert {w["ticket_id"] for w in lost} <= held
    markdown = Path(report["report_file"]).read_text()
    assert all(w["ticket_id"] in markdown for w in lost)
    # The experiment that paused replication is stopped, and only one was started.
    fis = moto_client(endpoint, "fis", PRIMARY)
    experiments = fis.list_experiments()["experiments"]
    assert experiments and {e["state"]["status"] for e in experiments} <= {"stopped", "completed"}
    assert_no_fault_left(endpoint)


def test_reports_lists_every_game_day_of_this_deployment_and_draws_their_trend(replicated):
    workdir, config, _ = replicated
    listed = wildrydes_json(workdir, "reports", config=config)
    # The game days above, in the order they ran, each as real-time equivalents (time_scale 0.1).
    assert [row["fault"] for row in listed["rows"]] == ["outage", "health", "region", "replication"]
    assert all(row["target"] == "local" and row["time_scale"] == 0.1 for row in listed["rows"])
    replication = listed["rows"][-1]
    assert replication["rpo_seconds"] > 10  # the 2 s scaled pause window is 20 s real
    trend = ElementTree.parse(listed["trend_file"]).getroot()
    ns = {"s": "http://www.w3.org/2000/svg"}
    for series in ("rto", "rpo"):
        group = trend.find(f"s:g[@class='series'][@data-series='{series}']", ns)
        assert len(group.findall("s:circle", ns)) == 4, series


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


class QuietReporter:
    def progress(self, message: str) -> None: ...
    def action(self, action, dry_run: bool) -> None: ...
    def warn(self, message: str) -> None: ...


@dataclasses.dataclass(frozen=True)
class AwsPathTarget(Target):
    """Target aws (so test-failover takes its AWS code path: AwsObserver, the operator's own IAM credentials,
    clocks unscaled) whose public names are the local DNS plane's URLs."""

    dns_urls: dict[str, str] = dataclasses.field(default_factory=dict)

    def failover_url(self, domain: str) -> str:
        return self.dns_urls["failover"]

    def regional_url(self, region: str, name: str) -> str:
        return self.dns_urls[region]


def test_game_day_aws_code_path_against_the_local_data_plane(replicated, monkeypatch, tmp_path):
    workdir, config_path, endpoint = replicated
    runtime = json.loads((workdir / ".wildrydes" / "local-cloud.json").read_text())
    cfg = config_module.load(config_path)
    state = state_module.load(workdir / ".wildrydes" / "wildrydes.json", cfg.deployment, cfg.target)
    # Plain IAM credentials (an IAM user's keys, no Cognito identity) sign the canary, as an operator's would.
    target = AwsPathTarget(endpoint=Endpoint(endpoint, LOCAL_ACCESS_KEY_ID, LOCAL_SECRET_ACCESS_KEY),
                           dns_urls=runtime["dns_urls"])
    ctx = Context(aws=Aws(target.endpoint), config=cfg, state=state, target=target, module="test-failover",
                  dry_run=False, reporter=QuietReporter())
    assert not ctx.target.is_local

    # Route 53's checkers and DNS answers, stubbed to follow the fault as Route 53 would, time-compressed like
    # the local data plane (interval 10 s × 0.1).
    interval, threshold = cfg.dns.health_check.interval * cfg.local.time_scale, cfg.dns.health_check.failure_threshold
    checks = {r: (state.get("route53-health-check", r, f"wildrydes-{r}")["id"], runtime["dns_urls"][r])
              for r in (PRIMARY, SECONDARY)}
    failover = {role: (region, state.get("apigw-domain", region, f"api.{cfg.dns.domain}")["regional_domain_name"])
                for role, region in (("PRIMARY", PRIMARY), ("SECONDARY", SECONDARY))}
    fleet = Route53Fleet(checks, interval, threshold, failover)
    fleet.install(ctx.aws.events)
    product_observer = test_failover.observer

    def compressed_observer(c):
        observer = product_observer(c)
        assert isinstance(observer, AwsObserver)
        observer.poll_interval = interval / 2  # at least one poll per RequestInterval, as at 5 s on AWS
        return observer
    monkeypatch.setattr(test_failover, "observer", compressed_observer)
    fleet.start()
    try:
        report = test_failover.run(ctx, fault="region", report_dir=tmp_path)
    finally:
        fleet.stop()
        faults.remove(ctx)

    assert report["passed"] is True, {k: v for k, v in report.items() if k not in ("timeline", "samples")}
    assert report["served_by"] == {"before": PRIMARY, "during": SECONDARY, "after": PRIMARY}
    assert report["writes"]["acknowledged"] > 10
    # The region fault on AWS pauses replication first, then throttles the functions: a write the primary
    # acknowledged in between is lost (honestly), and none from before the pause (lag 0). A create already running
    # when the functions are throttled is acknowledged (and lost) however late: it was sent before the outage.
    marks = {m["name"]: m["seconds"] for m in report["timeline"]}
    paused, outage = marks["replication paused"], marks["outage"]
    outside = [w for w in report["lost_writes"]
               if not (paused - 0.1 <= w["seconds"] and w["sent_seconds"] <= outage + 0.05)]
    assert not outside, (marks, [(w["seq"], w["sent_seconds"], w["seconds"]) for w in outside])
    # Detection as Route 53 decides it: FailureThreshold consecutive failures per checker, then the 18% rule —
    # about threshold × interval after the fault, not one interval (which the last results alone would say).
    # Counted from the outage mark, which is taken once the fault is in place: a checker's first failure may
    # come while the functions are still being throttled, a moment before the mark.
    assert report["detection_seconds"] is not None, "the observer never saw the primary unhealthy"
    assert (threshold - 1.5) * interval <= report["detection_seconds"] <= (threshold + 1.5) * interval + 1
    # The moment is the CheckedTime of the result that tipped the 18% rule (the fleet's own clock), not when a
    # poll saw it; a result the observer missed (a poll later than an interval on a busy machine) shifts it by one
    # interval, no more.
    assert abs(fleet.unhealthy_since(PRIMARY) - (iso_seconds(report["t0"]) + report["detection_seconds"])) < \
        interval + 0.05
    assert report["dns_seconds"] >= report["detection_seconds"]
    assert report["detection_seconds"] <= report["rto_seconds"] <= report["predicted_rto_seconds"]
    # On AWS the region fault is the application-tier outage and replication paused through FIS: the template
    # names the action, the table and a duration; its experiment ran during the fault and is stopped.
    fis = moto_client(endpoint, "fis", PRIMARY)
    (summary,) = [t for t in fis.list_experiment_templates()["experimentTemplates"]
                  if t["tags"].get("wildrydes:deployment") == "wildrydes"]
    template = fis.get_experiment_template(id=summary["id"])["experimentTemplate"]
    (action,) = template["actions"].values()
    assert action["actionId"] == "aws:dynamodb:global-table-pause-replication"
    assert action["parameters"]["duration"].startswith("PT")
    (target,) = template["targets"].values()
    table_arn = moto_client(endpoint, "dynamodb", PRIMARY).describe_table(TableName="SXRTickets")["Table"]["TableArn"]
    assert target["resourceType"] == "aws:dynamodb:global-table" and target["resourceArns"] == [table_arn]
    experiments = [e for e in fis.list_experiments()["experiments"] if e["experimentTemplateId"] == summary["id"]]
    assert experiments and {e["state"]["status"] for e in experiments} <= {"stopped", "completed"}
    assert "stopped" in {e["state"]["status"] for e in experiments}  # this run's, stopped with the fault
    # The canary's tickets were made by the operator's IAM user, not by an invented Cognito identity.
    canary = [item for item in moto_client(endpoint, "dynamodb", PRIMARY).scan(TableName="SXRTickets")["Items"]
              if item["assigned"]["S"] == "game-day canary"]
    assert canary and {item["createdBy"]["S"] for item in canary} == {OPERATOR_ARN}


def iso_seconds(text: str) -> float:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
