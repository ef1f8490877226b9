"""GET /health (lambda_src.health): 200 with the region after a real table read; 503 with a fixed reason code
when the read fails or FORCE_UNHEALTHY=true. The route is unauthenticated: the failure detail (which can name
the account, the role and the table ARN) is logged, never returned."""

from __future__ import annotations

import json
import logging
import re
import time

import pytest
from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
    ReadTimeoutError,
)

from lambda_src import common, health

ISO_MS = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z")


def check(api_event):
    response = health.handler(api_event("GET", "/health", identity=None), None)
    return response, json.loads(response["body"])


def unhealthy(reason, region="eu-west-1"):
    return {"region": region, "status": "unhealthy", "reason": reason}


ACCOUNT = "123456789012"
ROLE = "wildrydes-mr-health-role"
TABLE_ARN = f"arn:aws:dynamodb:eu-west-1:{ACCOUNT}:table/wildrydes-tickets-test"
ACCESS_DENIED = (
    f"User: arn:aws:sts::{ACCOUNT}:assumed-role/{ROLE}/wildrydes-mr-health is not authorized to perform: "
    f"dynamodb:GetItem on resource: {TABLE_ARN} because no identity-based policy allows the dynamodb:GetItem action"
)
SECRETS = (ACCOUNT, ROLE, TABLE_ARN, "arn:aws", "not authorized")


def client_error(code, message=ACCESS_DENIED):
    return ClientError({"Error": {"Code": code, "Message": message}}, "GetItem")


def read_fails_with(monkeypatch, error):
    """Make the health read raise `error` (moto does not enforce IAM, so AccessDenied has to be staged)."""

    class Failing:
        def get_item(self, **_kwargs):
            raise error

    monkeypatch.setattr(common, "table", lambda *_a, **_k: Failing())


def assert_nothing_leaks(response):
    exposed = response["body"] + json.dumps(response["headers"])
    for secret in SECRETS:
        assert secret not in exposed


def test_healthy_region_reports_region_table_and_time(tickets_table, api_event):
    response, body = check(api_event)
    assert tickets_table.name == "wildrydes-tickets-test"

    assert response["statusCode"] == 200
    assert set(body) == {"region", "status", "table", "checkedAt"}
    assert body["region"] == "eu-west-1"
    assert body["status"] == "healthy"
    assert body["table"] == tickets_table.name
    assert ISO_MS.fullmatch(body["checkedAt"])
    assert response["headers"]["Access-Control-Allow-Origin"] == "*"
    assert response["headers"]["Content-Type"] == "application/json"


def test_health_reads_the_table_with_get_item(tickets_table, api_event, monkeypatch):
    keys = []
    real_table = common.table

    class Spy:
        def __init__(self, table):
            self._table = table

        def get_item(self, **kwargs):
            keys.append(kwargs["Key"])
            return self._table.get_item(**kwargs)

    monkeypatch.setattr(common, "table", lambda *a, **k: Spy(real_table(*a, **k)))
    assert check(api_event)[0]["statusCode"] == 200
    assert keys == [{"id": "__health__"}]


def test_region_comes_from_aws_region(make_tickets_table, api_event, monkeypatch):
    make_tickets_table(region="ap-southeast-1")
    monkeypatch.setenv("AWS_REGION", "ap-southeast-1")

    response, body = check(api_event)

    assert response["statusCode"] == 200
    assert body["region"] == "ap-southeast-1"


def test_switching_region_is_not_hidden_by_the_client_cache(tickets_table, api_event, monkeypatch):
    assert check(api_event)[0]["statusCode"] == 200
    monkeypatch.setenv("AWS_REGION", "ap-southeast-1")  # no table there

    response, body = check(api_event)

    assert response["statusCode"] == 503
    assert body["region"] == "ap-southeast-1"


@pytest.mark.parametrize("value", ["true", "TRUE", " True "])
def test_forced_unhealthy_is_503(tickets_table, api_event, monkeypatch, value):
    monkeypatch.setenv("FORCE_UNHEALTHY", value)

    response, body = check(api_event)

    assert response["statusCode"] == 503
    assert body == unhealthy("forced")
    assert response["headers"]["Access-Control-Allow-Methods"] == "GET,POST,OPTIONS"


@pytest.mark.parametrize("value", ["false", "", "1", "yes"])
def test_other_force_values_do_not_force(tickets_table, api_event, monkeypatch, value):
    monkeypatch.setenv("FORCE_UNHEALTHY", value)
    assert check(api_event)[0]["statusCode"] == 200


def test_missing_table_is_503_table_missing(mocked_aws, api_event, caplog):
    caplog.set_level(logging.WARNING, logger="wildrydes")
    response, body = check(api_event)

    assert response["statusCode"] == 503
    assert body == unhealthy("table-missing")
    assert response["headers"]["Access-Control-Allow-Origin"] == "*"
    assert "ResourceNotFoundException" not in response["body"]
    assert "ResourceNotFoundException" in caplog.text


def test_missing_table_name_is_503_misconfigured(mocked_aws, api_event, monkeypatch, caplog):
    caplog.set_level(logging.WARNING, logger="wildrydes")
    monkeypatch.delenv("TABLE_NAME")
    response, body = check(api_event)

    assert response["statusCode"] == 503
    assert body == unhealthy("misconfigured")
    assert "TABLE_NAME" not in response["body"]
    assert "TABLE_NAME is not set" in caplog.text


def test_unreachable_endpoint_is_503_timeout_quickly(handler_env, api_event, monkeypatch, caplog):
    caplog.set_level(logging.WARNING, logger="wildrydes")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # nothing listens on the discard port

    started = time.monotonic()
    response, body = check(api_event)

    assert response["statusCode"] == 503
    assert body == unhealthy("timeout")
    assert "127.0.0.1" not in response["body"]
    assert "127.0.0.1:9" in caplog.text
    assert time.monotonic() - started < 10


FAILURES = [
    pytest.param(client_error("AccessDeniedException"), "table-unreadable", id="access-denied"),
    pytest.param(client_error("AccessDenied"), "table-unreadable", id="access-denied-iam-style"),
    pytest.param(client_error("UnrecognizedClientException"), "table-unreadable", id="bad-credentials"),
    pytest.param(client_error("ThrottlingException"), "table-unreadable", id="throttled"),
    pytest.param(client_error("KMSAccessDeniedException"), "table-unreadable", id="kms-denied"),
    pytest.param(
        client_error("ResourceNotFoundException", f"Requested resource not found: Table: {TABLE_ARN} not found"),
        "table-missing",
        id="resource-not-found",
    ),
    pytest.param(
        EndpointConnectionError(endpoint_url=f"https://{ACCOUNT}.ddb.example/{ROLE}"),
        "timeout",
        id="endpoint-connection",
    ),
    pytest.param(ConnectTimeoutError(endpoint_url=f"https://{ACCOUNT}.ddb.example/"), "timeout", id="connect-timeout"),
    pytest.param(ReadTimeoutError(endpoint_url=f"https://{ACCOUNT}.ddb.example/"), "timeout", id="read-timeout"),
    pytest.param(
        ConnectionClosedError(endpoint_url=f"https://{ACCOUNT}.ddb.example/"), "timeout", id="connection-closed"
    ),
    pytest.param(NoRegionError(), "misconfigured", id="no-region"),
    pytest.param(NoCredentialsError(), "misconfigured", id="no-credentials"),
]


@pytest.mark.parametrize(("error", "reason"), FAILURES)
def test_each_failure_kind_is_a_fixed_body_and_the_detail_is_logged(
    mocked_aws, api_event, monkeypatch, caplog, error, reason
):
    caplog.set_level(logging.WARNING, logger="wildrydes")
    read_fails_with(monkeypatch, error)

    response, body = check(api_event)

    assert response["statusCode"] == 503
    assert body == unhealthy(reason)
    assert response["body"] == json.dumps(unhealthy(reason), separators=(",", ":"))
    assert set(response["headers"]) == set(common.cors_headers())
    assert_nothing_leaks(response)
    records = [r for r in caplog.records if r.name == "wildrydes" and r.levelno == logging.WARNING]
    assert len(records) == 1
    logged = records[0].getMessage()
    assert reason in logged
    assert type(error).__name__ in logged
    assert str(error) in logged or error.response["Error"]["Message"] in logged


def test_access_denied_detail_goes_to_the_log_with_code_and_message(mocked_aws, api_event, monkeypatch, caplog):
    caplog.set_level(logging.WARNING, logger="wildrydes")
    read_fails_with(monkeypatch, client_error("AccessDeniedException"))

    response, body = check(api_event)

    assert body == unhealthy("table-unreadable")
    assert_nothing_leaks(response)
    assert f"AccessDeniedException: {ACCESS_DENIED}" in caplog.text  # code and the full message, ARN included
    assert TABLE_ARN in caplog.text and ROLE in caplog.text


def test_forced_unhealthy_is_logged(tickets_table, api_event, monkeypatch, caplog):
    caplog.set_level(logging.WARNING, logger="wildrydes")
    monkeypatch.setenv("FORCE_UNHEALTHY", "true")
    assert check(api_event)[1] == unhealthy("forced")
    assert "FORCE_UNHEALTHY=true" in caplog.text


def test_every_reason_is_one_of_the_fixed_codes():
    assert set(health.REASONS) == {"forced", "misconfigured", "table-missing", "table-unreadable", "timeout"}
    assert {health.classify(param.values[0]) for param in FAILURES} <= set(health.REASONS)


def test_unexpected_exception_is_500_with_request_id(mocked_aws, api_event, monkeypatch):
    def broken(*_args, **_kwargs):
        raise KeyError("surprise")

    monkeypatch.setattr(common, "table", broken)
    response = health.handler(api_event("GET", "/health", request_id="health-req-1"), None)

    assert response["statusCode"] == 500
    assert json.loads(response["body"]) == {"message": "Internal error", "requestId": "health-req-1"}
    assert response["headers"]["Access-Control-Allow-Origin"] == "*"
