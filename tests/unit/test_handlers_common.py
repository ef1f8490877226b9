"""lambda_src.common and the handlers as deployed: responses, clock, client cache, imports."""

from __future__ import annotations

import importlib
import json
import os
import re
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

import lambda_src
from lambda_src import common

LAMBDA_SRC = Path(lambda_src.__file__).resolve().parent


def test_json_response_shape_and_headers(monkeypatch):
    monkeypatch.delenv("ALLOWED_ORIGIN", raising=False)
    response = common.json_response(200, {"n": Decimal("3"), "x": Decimal("1.5")})
    assert response["statusCode"] == 200
    assert response["isBase64Encoded"] is False
    assert json.loads(response["body"]) == {"n": 3, "x": 1.5}
    assert response["headers"] == {
        "Access-Control-Allow-Origin": "*",
        "Access-Control-Allow-Headers": (
            "Content-Type,X-Amz-Date,Authorization,X-Amz-Security-Token,X-Amz-Content-Sha256"
        ),
        "Access-Control-Allow-Methods": "GET,POST,OPTIONS",
        "Content-Type": "application/json",
        "Cache-Control": "no-store",
    }


@pytest.mark.parametrize("owner", ["0", "1" * 32, "112177216992379", "operator"])
def test_path_owner_accepts_facebook_ids_and_the_operator(owner):
    assert common.path_owner({"pathParameters": {"owner": owner}}) == owner


@pytest.mark.parametrize(
    "params",
    [
        None,
        {},
        {"owner": None},
        {"owner": 42},
        {"owner": ""},
        {"owner": "1" * 33},
        {"owner": "operators"},
        {"owner": "operator\n"},
        {"owner": "123\n"},
        {"owner": "legacy:eu-west-1:0f6a1c2e"},
        {"owner": "１２３"},  # full-width digits: \d would take them, [0-9] does not
        "owner=1",
    ],
)
def test_path_owner_refuses_anything_else_naming_owner(params):
    with pytest.raises(common.HttpError) as refused:
        common.path_owner({"pathParameters": params})
    assert refused.value.status == 400
    assert "'owner'" in refused.value.message


def test_index_name_defaults_to_the_owner_index(monkeypatch):
    monkeypatch.delenv("INDEX_NAME", raising=False)
    assert common.index_name() == "owner-createdOn"
    monkeypatch.setenv("INDEX_NAME", "  ")
    assert common.index_name() == "owner-createdOn"
    monkeypatch.setenv("INDEX_NAME", "another-index")
    assert common.index_name() == "another-index"


def test_error_code_of_aws_errors_and_others():
    err = ClientError({"Error": {"Code": "ConditionalCheckFailedException", "Message": "x"}}, "PutItem")
    assert common.error_code(err) == "ConditionalCheckFailedException"
    assert common.error_code(RuntimeError("no response")) is None


def test_public_ticket_hides_the_old_index_key():
    item = {"id": "a", "kind": "ticket", "owner": "operator"}
    assert common.public_ticket(item) == {"id": "a", "owner": "operator"}


def test_now_iso_is_utc_with_milliseconds():
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z", common.now_iso())


def test_non_dict_event_is_400_not_500():
    from lambda_src import list_tickets

    response = list_tickets.handler("not an event", None)
    assert response["statusCode"] == 400
    assert response["headers"]["Access-Control-Allow-Origin"] == "*"


def test_client_is_created_lazily_and_cached_per_region_and_endpoint(handler_env, monkeypatch):
    assert common._resources == {}
    first = common.dynamodb()
    assert common.dynamodb() is first
    assert len(common._resources) == 1

    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:5000")
    local = common.dynamodb()
    assert local is not first
    assert local.meta.client.meta.endpoint_url == "http://127.0.0.1:5000"

    monkeypatch.setenv("AWS_REGION", "ap-southeast-1")
    assert common.dynamodb().meta.client.meta.region_name == "ap-southeast-1"

    common.reset_clients()
    assert common._resources == {}


def test_modules_are_reimportable(handler_env):
    for name, entry_point in (
        ("lambda_src.common", "json_response"),
        ("lambda_src.json_body", "parse_object"),
        ("lambda_src.create_ticket", "handler"),
        ("lambda_src.list_tickets", "handler"),
        ("lambda_src.claim_tickets", "handler"),
        ("lambda_src.health", "handler"),
    ):
        module = importlib.reload(importlib.import_module(name))
        assert callable(getattr(module, entry_point))


def test_handlers_import_without_aws_configuration():
    env = {key: value for key, value in os.environ.items() if not key.startswith("AWS_")}
    env.pop("TABLE_NAME", None)
    code = "import lambda_src.create_ticket, lambda_src.list_tickets, lambda_src.claim_tickets, lambda_src.health"
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=LAMBDA_SRC.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr


def test_handlers_work_when_deployed_flat():
    """The zip root may hold these files directly: handler strings like `health.handler` must work."""
    code = (
        "import json, health, create_ticket, list_tickets, claim_tickets\n"
        "r = health.handler({'httpMethod': 'GET', 'requestContext': {'requestId': 'r1'}}, None)\n"
        "c = claim_tickets.handler({'httpMethod': 'POST', 'body': '{}'}, None)\n"
        "print(json.dumps([r['statusCode'], json.loads(r['body'])['reason'], c['statusCode']]))\n"
    )
    env = {**os.environ, "FORCE_UNHEALTHY": "true", "AWS_REGION": "eu-west-1"}
    result = subprocess.run(
        [sys.executable, "-I", "-c", f"import sys; sys.path.insert(0, {str(LAMBDA_SRC)!r})\n{code}"],
        cwd="/",
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    status, reason, claim_status = json.loads(result.stdout)
    assert status == 503
    assert "forced" in reason
    assert claim_status == 403  # no Cognito identity
