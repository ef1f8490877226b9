"""`deploy` on moto in-process (AWS path, behaviour layer on): the dependency graph makes what build-api, build-ui
and replicate make, recorded under the same modules, so a deploy then the module commands (and a second deploy)
change nothing, and cleanup after deploy leaves nothing; a dry run on an empty account makes no mutating call and
lists the whole plan; the graph runner starts a step only once its needs are done and stops on a failure."""

from __future__ import annotations

import threading
import time

import boto3
import pytest

from wildrydes_mr import config as config_module
from wildrydes_mr import graph
from wildrydes_mr.aws import is_read_operation
from wildrydes_mr.graph import Step
from wildrydes_mr.workflows import build_api, build_ui, cleanup, deploy, replicate

DOMAIN = "wildrydes.example.com"


@pytest.fixture
def zone_config(mocked_aws):
    zone = boto3.client("route53").create_hosted_zone(Name=DOMAIN, CallerReference="test")["HostedZone"]
    zone_id = zone["Id"].split("/")[-1]
    return config_module.parse(f"target: aws\ndns: {{hosted_zone_id: {zone_id!r}}}\n", "t.yaml")


def mutating(ctx) -> list[str]:
    return [op for op in ctx.aws.calls.operations if not is_read_operation(op.split(":")[1])]


def test_deploy_makes_the_modules_resources_and_a_second_run_changes_nothing(make_context, zone_config):
    cfg = zone_config
    ctx = make_context(module="deploy", cfg=cfg)
    result = deploy.run(ctx, preflight=False)  # preflight has tests of its own (it needs DNS, IAM simulation)
    assert result["failover_url"] == f"https://api.{DOMAIN}/"
    assert set(result["identity_pools"]) == set(cfg.regions.both) == set(result["buckets"])
    modules = {r["module"] for r in ctx.state.resources.values()}
    assert modules == {"build-api", "build-ui", "replicate"}  # recorded as the module commands record them
    kinds = sorted(r["kind"] for r in ctx.state.resources.values())
    assert kinds.count("acm-certificate") == 2 and kinds.count("route53-health-check") == 2
    assert kinds.count("dynamodb-replica") == 1 and kinds.count("cognito-identity-pool") == 2
    assert ctx.state.extras["failover_api_url"] == result["failover_url"]

    again = make_context(module="deploy", cfg=cfg)
    deploy.run(again, preflight=False)
    assert again.aws.calls.mutating == 0, mutating(again)
    for module, workflow in (("build-api", build_api), ("build-ui", build_ui), ("replicate", replicate)):
        after = make_context(module=module, cfg=cfg)
        workflow.run(after)
        assert after.aws.calls.mutating == 0, (module, mutating(after))

    cleaned = cleanup.run(make_context(module="cleanup", cfg=cfg))
    assert cleaned["remaining"] == [] and cleaned["failures"] == []


def test_dry_run_on_an_empty_account_plans_and_changes_nothing(make_context, zone_config):
    ctx = make_context(module="deploy", cfg=zone_config, dry_run=True)
    planned = deploy.run(ctx, preflight=False)
    assert ctx.aws.calls.mutating == 0, mutating(ctx)
    names = [s["step"] for s in planned["steps"]]
    assert names.index("api eu-west-1") < names.index("site") < names.index("site follows")
    assert {"site", "failover"} <= set(names)
    # What can be planned resource by resource is: the primary's API, the certificates.
    created = {a.kind for a in ctx.actions if a.verb == "create"}
    assert {"dynamodb-table", "lambda-function", "rest-api", "acm-certificate"} <= created
    assert "site" in planned["not_planned_in_detail"]  # build-ui needs a recorded API
    assert ctx.state.resources == {}


def test_a_step_starts_only_once_its_needs_are_done_and_independent_steps_overlap():
    log: list[tuple[str, str, float]] = []
    lock = threading.Lock()

    def work(name: str, seconds: float):
        def run(done):
            with lock:
                log.append((name, "start", time.monotonic()))
            time.sleep(seconds)
            with lock:
                log.append((name, "end", time.monotonic()))
            return {name: sorted(done)}
        return run

    steps = [Step("a", (), work("a", 0.2)), Step("b", (), work("b", 0.2)),
             Step("c", ("a",), work("c", 0.1)), Step("d", ("b", "c"), work("d", 0.05))]
    started = time.monotonic()
    results = graph.run(steps, lambda message: None)
    at = {(n, e): t for n, e, t in log}
    assert at[("a", "start")] < at[("b", "end")] and at[("b", "start")] < at[("a", "end")]  # overlapped
    assert at[("c", "start")] >= at[("a", "end")]
    assert at[("d", "start")] >= max(at[("b", "end")], at[("c", "end")])
    assert results["d"] == {"d": ["a", "b", "c"]}
    assert time.monotonic() - started < 0.5  # a ∥ b, then c, then d: 0.35 s, not 0.55


def test_a_failure_stops_new_steps_and_is_raised_after_the_running_ones_finish():
    finished = []

    def fail(done):
        raise RuntimeError("certificate refused")

    def slow(done):
        time.sleep(0.2)
        finished.append("slow")

    steps = [Step("bad", (), fail), Step("slow", (), slow), Step("after", ("bad",), lambda done: finished.append("x"))]
    with pytest.raises(RuntimeError, match="certificate refused"):
        graph.run(steps, lambda message: None)
    assert finished == ["slow"]


def test_a_plan_with_a_cycle_or_an_unknown_need_is_refused():
    with pytest.raises(ValueError, match="cycle"):
        graph.order([Step("a", ("b",), print), Step("b", ("a",), print)])
    with pytest.raises(ValueError, match="unknown"):
        graph.order([Step("a", ("z",), print)])
