"""Shared unit-test fixtures. Nothing here is autouse: a test asks for what it needs.

Handler fixtures (used by test_handlers_*.py):
- `handler_env`: fake AWS credentials, region eu-west-1, TABLE_NAME, and no endpoint/override variables.
- `mocked_aws`: `handler_env` inside moto's in-process `mock_aws`, with the handlers' boto3 cache reset.
- `tickets_table`: `mocked_aws` plus the tickets table (key id, GSI owner-createdOn on owner/createdOn).
- `make_tickets_table`: the function that creates that table, for other regions or names.
- `api_event`: a factory of API Gateway REST (v1) proxy events (`owner=` fills pathParameters).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # lets plain `pytest` (not only `python -m pytest`) import lambda_src
    sys.path.insert(0, str(ROOT))

TEST_REGION = "eu-west-1"
TEST_TABLE = "wildrydes-tickets-test"
TEST_INDEX = "owner-createdOn"
TEST_IDENTITY = "eu-west-1:0f6a1c2e-1111-4222-8333-944455556666"
TEST_REQUEST_ID = "c6af9ac6-7b61-11e6-9a41-93e8deadbeef"

_OVERRIDES = (
    "AWS_PROFILE",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_DYNAMODB",
    "FORCE_UNHEALTHY",
    "ALLOWED_ORIGIN",
    "INDEX_NAME",
)


def create_tickets_table(region: str = TEST_REGION, name: str = TEST_TABLE, index: str = TEST_INDEX) -> Any:
    """The tickets table as the handlers expect it: key id (S), GSI `index` on owner (S) / createdOn (S)."""
    import boto3

    table = boto3.resource("dynamodb", region_name=region).create_table(
        TableName=name,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[
            {"AttributeName": "id", "AttributeType": "S"},
            {"AttributeName": "owner", "AttributeType": "S"},
            {"AttributeName": "createdOn", "AttributeType": "S"},
        ],
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        GlobalSecondaryIndexes=[
            {
                "IndexName": index,
                "KeySchema": [
                    {"AttributeName": "owner", "KeyType": "HASH"},
                    {"AttributeName": "createdOn", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
    )
    table.wait_until_exists()
    return table


@pytest.fixture
def handler_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[str, str]:
    """A clean, fake AWS environment for the Lambda handlers."""
    for name in _OVERRIDES:
        monkeypatch.delenv(name, raising=False)
    env = {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SECURITY_TOKEN": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": TEST_REGION,
        "AWS_REGION": TEST_REGION,
        "AWS_CONFIG_FILE": str(tmp_path / "no-aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-aws-credentials"),
        "TABLE_NAME": TEST_TABLE,
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    from lambda_src import common

    common.reset_clients()
    yield env
    common.reset_clients()


@pytest.fixture
def mocked_aws(handler_env: dict[str, str]):
    """moto's in-process AWS, with the handlers' cached boto3 resources dropped on entry and exit."""
    from moto import mock_aws

    from lambda_src import common

    with mock_aws():
        common.reset_clients()
        yield handler_env
        common.reset_clients()


@pytest.fixture
def tickets_table(mocked_aws: dict[str, str]) -> Any:
    return create_tickets_table()


@pytest.fixture
def make_tickets_table(mocked_aws: dict[str, str]):
    """`make_tickets_table(region=..., name=..., index=...)` creates another tickets table in the mock."""
    return create_tickets_table


@pytest.fixture
def api_event():
    """Factory: `api_event(method, path, body=, query=, identity=, base64=, owner=)` -> a v1 proxy event."""

    def make(
        method: str = "GET",
        path: str = "/ticket",
        *,
        body: Any = None,
        query: dict[str, str] | None = None,
        identity: str | None = TEST_IDENTITY,
        base64: bool = False,
        request_id: str | None = TEST_REQUEST_ID,
        owner: str | None = None,
    ) -> dict[str, Any]:
        if body is not None and not isinstance(body, str):
            body = json.dumps(body)
        request_context: dict[str, Any] = {
            "resourcePath": path,
            "httpMethod": method,
            "stage": "prod",
            "identity": {"cognitoIdentityId": identity, "sourceIp": "203.0.113.7"},
        }
        if request_id is not None:
            request_context["requestId"] = request_id
        return {
            "resource": path,
            "path": path,
            "httpMethod": method,
            "headers": {"Content-Type": "application/json", "Host": "api.example.test"},
            "multiValueHeaders": {},
            "queryStringParameters": query,
            "multiValueQueryStringParameters": {k: [v] for k, v in query.items()} if query else None,
            "pathParameters": {"owner": owner} if owner is not None else None,
            "stageVariables": None,
            "requestContext": request_context,
            "body": body,
            "isBase64Encoded": base64,
        }

    return make
