"""Surviving what real deployments meet: a deploy aborted at a mutating AWS call converges on re-run to exactly a
clean deploy (48 calls a run, evenly spread from a random offset: over runs, each call in turn); throttling on 20%
of calls is retried; IAM propagation errors are retried within a bound; a permanent error names resource, region
and AWS error and leaves a state the next run continues from."""

from __future__ import annotations

import multiprocessing
import random
from pathlib import Path

import pytest
from context_helpers import build_context_factory
from deploy_helpers import full_deploy, snapshot, zone_config
from fidelity import install as fidelity
from moto import mock_aws

from wildrydes_mr.aws import is_read_operation
from wildrydes_mr.errors import AwsError
from wildrydes_mr.workflows import cleanup

CLEANUP_EVERY = 10
CRASH_POINTS = 48


class Crash(BaseException):
    """Stands in for the process dying: not an Exception, so nothing in the tool can catch it."""


def count_mutating_calls(make_context, cfg) -> int:
    return full_deploy(make_context, cfg).aws.calls.mutating


def crash_at(make_context, n: int):
    """A make_context whose Aws objects together raise Crash at the n-th mutating call."""
    seen = {"mutating": 0}

    def hook(model=None, **_):
        if model is not None and not is_read_operation(model.name):
            seen["mutating"] += 1
            if seen["mutating"] == n:
                raise Crash(f"killed at mutating call {n}: {model.service_model.service_name}:{model.name}")

    def build(*args, **kwargs):
        ctx = make_context(*args, **kwargs)
        ctx.aws.events.register("before-call", hook)
        return ctx
    return build


def _crash_then_recover(crash_points: list[int], reference, workdir: str) -> tuple[list[str], list[int]]:
    """In a fresh moto account per crash point: deploy until the crash, re-run the deploy, compare with the
    clean deploy's snapshot, clean up. Returns what went wrong (empty when all converged), and the crash points
    a deploy finished before reaching."""
    problems, finished_before = [], []
    for n in crash_points:
        fidelity.reset()  # a fresh account: AWS remembers nothing of the last one
        with mock_aws():
            make_context = build_context_factory(Path(workdir) / f"crash{n}")
            cfg, zone_id = zone_config()
            try:
                full_deploy(crash_at(make_context, n), cfg)
                finished_before.append(n)
                continue
            except Crash:
                pass
            full_deploy(make_context, cfg)
            seen = snapshot(zone_id)
            if seen != reference:
                problems.append(f"aborted at mutating call {n}: {sorted((seen - reference).items())} extra, "
                                f"{sorted((reference - seen).items())} missing")
            if crash_points.index(n) % CLEANUP_EVERY == 0 or n == crash_points[-1]:
                # A recovered deploy is a clean deploy, so cleanup is checked on a sample of them.
                result = cleanup.run(make_context(module="cleanup", cfg=cfg))
                if result["remaining"] or result["failures"]:
                    problems.append(f"aborted at mutating call {n}: cleanup left {result['remaining']}")
    return problems, finished_before


def test_abort_at_every_mutating_call_then_rerun_equals_clean_deploy(tmp_path, aws_behaviour):
    with mock_aws():
        cfg, zone_id = zone_config()
        calls = full_deploy(build_context_factory(tmp_path / "clean"), cfg).aws.calls.mutating
        reference = snapshot(zone_id)
    assert calls > 50
    # A deploy makes ~230 mutating calls, and each crash costs a deploy and a half (~12 s): all of them would take
    # the suite's whole budget. Each run crashes at CRASH_POINTS of them, evenly spread, from a random offset, so
    # that successive runs cover every call (the offset is in the failure message, to repeat a run).
    stride = max(1, -(-calls // CRASH_POINTS))
    offset = random.randrange(stride)
    points = list(range(1 + offset, calls + 1, stride))
    # Two worker processes (this machine has two cores); each takes every other crash point.
    workers = 2
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        chunks = [points[i::workers] for i in range(workers)]
        results = pool.starmap(_crash_then_recover, [(chunk, reference, str(tmp_path)) for chunk in chunks])
    problems = [problem for result, _ in results for problem in result]
    assert problems == [], f"crash points {points[0]}, {points[0] + stride}, ... (offset {offset}, stride {stride})"
    # Retries of what AWS refuses for a while (the behaviour layer: IAM propagation, PITR not yet available)
    # depend on how the region threads interleave, so a deploy's count of mutating calls varies by a few: the
    # last crash points may lie beyond a run's end. Nearly all of them must have crashed a deploy.
    finished_before = sorted(n for _, early in results for n in early)
    assert len(finished_before) <= max(3, len(points) // 20), (calls, finished_before)
    assert all(n > calls * 0.9 for n in finished_before), finished_before


def test_twenty_percent_throttling_is_retried(make_context, mocked_aws, monkeypatch):
    import botocore.endpoint
    from botocore.awsrequest import AWSResponse

    rng = random.Random(7)
    throttled = {"count": 0}
    bodies = {
        "json": (b'{"__type": "ThrottlingException", "message": "Rate exceeded"}', {}),
        "rest-json": (b'{"message": "Rate exceeded"}', {"x-amzn-ErrorType": "ThrottlingException"}),
        "query": (b"<ErrorResponse><Error><Code>Throttling</Code><Message>Rate exceeded</Message></Error>"
                  b"</ErrorResponse>", {}),
        "rest-xml": (b"<ErrorResponse><Error><Code>Throttling</Code><Message>Rate exceeded</Message></Error>"
                     b"</ErrorResponse>", {}),
    }

    class Raw:
        def __init__(self, body):
            self.body = body

        def stream(self, **_):
            yield self.body

    def throttle(request=None, **kwargs):
        if rng.random() >= 0.2:
            return None
        throttled["count"] += 1
        protocol = request.context.get("wildrydes_protocol", "json")
        body, headers = bodies[protocol]
        return AWSResponse(request.url, 400, {"Content-Type": "text/xml", **headers}, Raw(body))

    def remember_protocol(model=None, context=None, **_):
        if model is not None and context is not None:
            context["wildrydes_protocol"] = model.service_model.protocol

    # Back-off sleeps would only slow the test down; the retry decisions are what is tested.
    monkeypatch.setattr(botocore.endpoint.time, "sleep", lambda seconds: None)

    def throttled_context(*args, **kwargs):
        ctx = make_context(*args, **kwargs)
        ctx.aws.events.register("before-call", remember_protocol)
        ctx.aws.events.register("before-send", throttle)
        return ctx
    cfg, zone_id = zone_config()
    full_deploy(throttled_context, cfg)
    assert throttled["count"] > 20
    # The throttled deploy is complete: a re-run finds everything in place and changes nothing.
    again = full_deploy(make_context, cfg)
    assert again.aws.calls.mutating == 0 and {a.verb for a in again.actions} == {"nothing"}


def test_iam_propagation_error_is_retried_within_a_bound(make_context, mocked_aws):
    from botocore.exceptions import ClientError

    from wildrydes_mr.workflows import build_api

    ctx = make_context()
    failures = {"left": 3}

    def not_yet(model=None, **_):
        if model is not None and model.name == "CreateFunction" and failures["left"] > 0:
            failures["left"] -= 1
            raise ClientError({"Error": {"Code": "InvalidParameterValueException",
                                         "Message": "The role defined for the function cannot be assumed by Lambda."}},
                              "CreateFunction")
    ctx.aws.events.register("before-call", not_yet)
    build_api.run(ctx)
    assert failures["left"] == 0
    # The back-off of these retries (other waits, e.g. for point-in-time recovery, come between).
    sleeps = ctx.aws.clock.sleeps
    assert any(sleeps[i:i + 3] == [1.0, 2.0, 4.0] for i in range(len(sleeps))), sleeps

    # A role that never becomes assumable stops within the bound with one clear message.
    ctx = make_context()
    failures["left"] = 10**6
    ctx.aws.events.register("before-call", not_yet)
    boto3_lambda = __import__("boto3").client("lambda", "eu-west-1")
    boto3_lambda.delete_function(FunctionName="wildrydes-health")
    with pytest.raises(AwsError, match="lambda-function wildrydes-health in eu-west-1: InvalidParameterValueException"):
        build_api.run(ctx)
    assert sum(ctx.aws.clock.sleeps) <= 120


def test_permanent_error_names_resource_region_and_error_and_next_run_continues(make_context, mocked_aws):
    from botocore.exceptions import ClientError

    from wildrydes_mr.workflows import build_api

    ctx = make_context()

    def denied(model=None, **_):
        if model is not None and model.name == "CreateRestApi":
            raise ClientError({"Error": {"Code": "AccessDeniedException", "Message": "not allowed"}}, "CreateRestApi")
    ctx.aws.events.register("before-call", denied)
    with pytest.raises(AwsError) as raised:
        build_api.run(ctx)
    assert raised.value.message == "rest-api wildrydes-tickets in eu-west-1: AccessDeniedException: not allowed"
    recorded = {r["kind"] for r in ctx.state.resources.values()}
    assert "lambda-function" in recorded and "rest-api" not in recorded
    again = make_context()
    build_api.run(again)
    # What the first run did is left alone; what came after the failure (the API, its permissions, the table's
    # point-in-time recovery) is done now.
    assert {a.verb for a in again.actions
            if a.kind not in ("rest-api", "lambda-permission", "dynamodb-pitr")} == {"nothing"}
    assert any(a.kind == "rest-api" and a.verb == "create" for a in again.actions)
