"""GET /health (lambda_src.health): 200 with the region after a real table read; 503 with a reason when the
read fails or FORCE_UNHEALTHY=true."""

from __future__ import annotations

import json
import re
import time

import pytest

from lambda_src import common, health

ISO_MS = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z")


def check(api_event):
    response = health.handler(api_event("GET", "/health", identity=None), None)
    return response, json.loads(response["body"])


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
    assert body["region"] == "eu-west-1"
    assert body["status"] == "unhealthy"
    assert "forced" in body["reason"]
    assert response["headers"]["Access-Control-Allow-Methods"] == "GET,POST,OPTIONS"


@pytest.mark.parametrize("value", ["false", "", "1", "yes"])
def test_other_force_values_do_not_force(tickets_table, api_event, monkeypatch, value):
    monkeypatch.setenv("FORCE_UNHEALTHY", value)
    assert check(api_event)[0]["statusCode"] == 200


def test_missing_table_is_503(mocked_aws, api_event):
    response, body = check(api_event)

    assert response["statusCode"] == 503
    assert set(body) == {"region", "status", "reason"}
    assert body["status"] == "unhealthy"
    assert body["region"] == "eu-west-1"
    assert "ResourceNotFoundException" in body["reason"]
    assert response["headers"]["Access-Control-Allow-Origin"] == "*"


def test_missing_table_name_is_503(mocked_aws, api_event, monkeypatch):
    monkeypatch.delenv("TABLE_NAME")
    response, body = check(api_event)
    assert response["statusCode"] == 503
    assert "TABLE_NAME" in body["reason"]


def test_unreachable_endpoint_is_503_quickly(handler_env, api_event, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # nothing listens on the discard port

    started = time.monotonic()
    response, body = check(api_event)

    assert response["statusCode"] == 503
    assert body["status"] == "unhealthy"
    assert "127.0.0.1:9" in body["reason"]
    assert time.monotonic() - started < 10


def test_unexpected_exception_is_500_with_request_id(mocked_aws, api_event, monkeypatch):
    def broken(*_args, **_kwargs):
        raise KeyError("surprise")

    monkeypatch.setattr(common, "table", broken)
    response = health.handler(api_event("GET", "/health", request_id="health-req-1"), None)

    assert response["statusCode"] == 500
    assert json.loads(response["body"]) == {"message": "Internal error", "requestId": "health-req-1"}
    assert response["headers"]["Access-Control-Allow-Origin"] == "*"
