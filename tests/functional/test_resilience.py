"""Surviving what real deployments meet: a deploy aborted at each mutating AWS call in turn converges on re-run
to exactly a clean deploy; throttling on 20% of calls is retried; IAM propagation errors are retried within a
bound; a permanent error names resource, region and AWS error and leaves a state the next run continues from."""

from __future__ import annotations

import random

import pytest
from context_helpers import build_context_factory
from deploy_helpers import full_deploy, snapshot, zone_config
from moto import mock_aws

from wildrydes_mr.aws import is_read_operation
from wildrydes_mr.errors import AwsError
from wildrydes_mr.workflows import cleanup


class Crash(BaseException):
    """Stands in for the process dying: not an Exception, so nothing in the tool can catch it."""


def count_mutating_calls(make_context, cfg) -> int:
    total = 0
    original = make_context

    def counting(*args, **kwargs):
        nonlocal total
        ctx = original(*args, **kwargs)
        contexts.append(ctx)
        return ctx
    contexts: list = []
    full_deploy(counting, cfg)
    total = sum(ctx.aws.calls.mutating for ctx in contexts)
    return total


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


@pytest.fixture(scope="module")
def clean_deploy(tmp_path_factory):
    """The reference: a clean full deploy's snapshot and its mutating-call count."""
    with mock_aws():
        make_context = build_context_factory(tmp_path_factory.mktemp("clean"))
        cfg, zone_id = zone_config()
        calls = count_mutating_calls(make_context, cfg)
        return snapshot(zone_id), calls


def test_abort_at_every_mutating_call_then_rerun_equals_clean_deploy(clean_deploy, tmp_path_factory):
    reference, calls = clean_deploy
    assert calls > 50
    for n in range(1, calls + 1):
        with mock_aws():
            make_context = build_context_factory(tmp_path_factory.mktemp(f"crash{n}"))
            cfg, zone_id = zone_config()
            with pytest.raises(Crash):
                full_deploy(crash_at(make_context, n), cfg)
            full_deploy(make_context, cfg)
            assert snapshot(zone_id) == reference, f"aborted at mutating call {n}"
            result = cleanup.run(make_context(module="cleanup", cfg=cfg))
            assert result["remaining"] == [] and result["failures"] == [], f"aborted at mutating call {n}"


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
    reference_ctx = make_context(module="replicate", cfg=cfg)
    full_deploy(lambda *a, **k: reference_ctx if k.get("module") == "replicate" else make_context(*a, **k), cfg)
    assert {a.verb for a in reference_ctx.actions} == {"nothing"}


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
    assert ctx.aws.clock.sleeps[:3] == [1.0, 2.0, 4.0]

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
    assert {a.verb for a in again.actions if a.kind != "rest-api" and a.kind != "lambda-permission"} == {"nothing"}
    assert any(a.kind == "rest-api" and a.verb == "create" for a in again.actions)
