"""The local API gateway (wildrydes_mr.local.gateway) serving a REST API held by a moto server, as API Gateway
would: SigV4 and the caller's IAM policy, the v1 proxy event and its identity, routing, CORS preflights, unknown
paths and stages; and the pure parts (resource matching, proxy results). The API and the gateway: gateway_world.py.
"""

from __future__ import annotations

import json
import time
import uuid

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from gateway_world import (
    ACCOUNT,
    ADMIN,
    CORS,
    POOL,
    REGION,
    TABLE,
    USER,
    body_of,
    build_world,
)

from wildrydes_mr.local.credentials import CredentialStore, LocalCredential
from wildrydes_mr.local.gateway import GatewayRequest, LocalGateway
from wildrydes_mr.local.gateway.invocation import proxy_response
from wildrydes_mr.local.gateway.routing import ApiDefinition
from wildrydes_mr.local.sigv4_verify import sign_request


@pytest.fixture(scope="module")
def world(moto_endpoint, tmp_path_factory):
    yield from build_world(moto_endpoint, tmp_path_factory)


# ---------------------------------------------------------------------------------------------- signed calls

def test_signed_get_reaches_the_handler_with_a_v1_proxy_event(world):
    response = world.signed("GET", "/ticket?limit=5&tag=a&tag=b", headers={"X-Trace": "t1"})
    assert response.status_code == 200, response.text
    assert response.headers["X-Echo"] == "yes"
    assert response.headers["Content-Type"] == "application/json"
    assert response.raw.headers.getlist("Set-Cookie") == ["a=1", "b=2"]
    out = body_of(response)
    event = out["event"]
    assert event["resource"] == "/ticket"
    assert event["path"] == "/ticket"
    assert event["httpMethod"] == "GET"
    assert event["queryStringParameters"] == {"limit": "5", "tag": "b"}
    assert event["multiValueQueryStringParameters"] == {"limit": ["5"], "tag": ["a", "b"]}
    assert event["pathParameters"] is None
    assert event["stageVariables"] == {"colour": "blue"}
    assert event["body"] is None
    assert event["isBase64Encoded"] is False
    assert event["headers"]["X-Trace"] == "t1"
    assert event["multiValueHeaders"]["X-Trace"] == ["t1"]
    assert event["headers"]["X-Forwarded-For"] == "127.0.0.1"
    assert "Authorization" in event["headers"]  # API Gateway passes it on to the function

    ctx = event["requestContext"]
    assert ctx["apiId"] == world.api_id
    assert ctx["stage"] == "prod"
    assert ctx["path"] == "/prod/ticket"
    assert ctx["resourcePath"] == "/ticket"
    assert ctx["httpMethod"] == "GET"
    assert ctx["accountId"] == ACCOUNT
    assert ctx["protocol"] == "HTTP/1.1"
    assert ctx["requestId"] == response.headers["x-amzn-RequestId"]
    assert abs(ctx["requestTimeEpoch"] / 1000 - time.time()) < 30
    assert ctx["resourceId"]
    identity = ctx["identity"]
    assert identity["accessKey"] == USER.access_key_id
    assert identity["cognitoIdentityId"] == USER.cognito_identity_id
    assert identity["cognitoAuthenticationType"] == "authenticated"
    assert identity["sourceIp"] == "127.0.0.1"
    assert identity["userAgent"].startswith("python-requests")
    for key in ("cognitoIdentityPoolId", "caller", "user", "userArn", "cognitoAuthenticationProvider"):
        assert key in identity

    env = out["env"]
    assert env["GREETING"] == "hello"
    assert env["AWS_REGION"] == env["AWS_DEFAULT_REGION"] == REGION
    assert env["AWS_ENDPOINT_URL"] == world.endpoint
    assert env["AWS_ACCESS_KEY_ID"] == ADMIN.access_key_id
    assert env["AWS_LAMBDA_FUNCTION_NAME"] == "gw-echo"
    assert out["context"]["function_name"] == "gw-echo"
    assert out["context"]["memory_limit_in_mb"] == 256
    assert 0 < out["context"]["remaining_ms"] <= 5000
    assert out["cwd"] == str(world.src_dir.resolve())


def test_an_iam_users_keys_give_user_arn_and_caller_not_a_cognito_identity(world):
    response = world.signed("GET", "/ticket", cred=ADMIN)
    assert response.status_code == 200, response.text
    identity = body_of(response)["event"]["requestContext"]["identity"]
    assert identity["accessKey"] == ADMIN.access_key_id
    assert identity["userArn"] == ADMIN.principal_arn and identity["caller"] == ADMIN.principal_id
    assert identity["cognitoIdentityId"] is None and identity["cognitoIdentityPoolId"] is None
    assert identity["cognitoAuthenticationType"] is None


def test_a_cognito_identitys_keys_give_its_identity_and_pool(world):
    identity = body_of(world.signed("GET", "/ticket", cred=USER))["event"]["requestContext"]["identity"]
    assert identity["cognitoIdentityId"] == USER.cognito_identity_id
    assert identity["cognitoIdentityPoolId"] == POOL and identity["cognitoAuthenticationType"] == "authenticated"


def test_a_request_the_callers_policy_does_not_allow_is_403_as_api_gateway_words_it(world):
    # The operator's policy allows GET only: a correctly signed POST is refused by authorization, before the
    # function runs.
    response = world.signed("POST", "/ticket", cred=ADMIN, body=b'{"x": 1}')
    assert response.status_code == 403
    assert body_of(response) == {"message": f"User: {ADMIN.principal_arn} is not authorized to perform: "
                                            f"execute-api:Invoke on resource: arn:aws:execute-api:{REGION}:"
                                            f"{ACCOUNT}:{world.api_id}/prod/POST/ticket"}
    assert response.headers["x-amzn-ErrorType"] == "AccessDeniedException"


def test_credentials_that_map_to_no_principal_are_denied(world):
    orphan = LocalCredential("ASIAGWTESTORPHAN0001", "orphan-secret", session_token="orphan-token",
                             cognito_identity_id=f"{REGION}:99999999-0000-0000-0000-000000000000",
                             cognito_identity_pool_id=f"{REGION}:00000000-0000-0000-0000-000000000000")
    world.gateway.credentials.add(orphan)
    try:
        response = world.signed("GET", "/ticket", cred=orphan)
    finally:
        world.gateway.credentials.remove(orphan.access_key_id)
    assert response.status_code == 403 and "is not authorized" in body_of(response)["message"]


def test_unsigned_call_to_an_iam_method_is_403_missing_authentication_token(world):
    response = world.call("GET", "/ticket")
    assert response.status_code == 403
    assert body_of(response) == {"message": "Missing Authentication Token"}
    assert response.headers["x-amzn-ErrorType"] == "MissingAuthenticationTokenException"


def test_wrong_secret_is_403_signature_mismatch(world):
    impostor = LocalCredential(USER.access_key_id, "guessed", USER.session_token)
    response = world.signed("GET", "/ticket", cred=impostor)
    assert response.status_code == 403
    assert body_of(response)["message"].startswith("The request signature we calculated does not match")
    assert response.headers["x-amzn-ErrorType"] == "InvalidSignatureException"


def test_unknown_key_and_expired_signature_are_403(world):
    stranger = LocalCredential("AKIASTRANGER00000001", "x")
    response = world.signed("GET", "/ticket", cred=stranger)
    assert response.status_code == 403
    assert body_of(response) == {"message": "The security token included in the request is invalid."}

    stale = time.time() - 600
    import datetime as dt

    headers = sign_request(
        "GET",
        world.url("/ticket"),
        credential=USER,
        region=REGION,
        timestamp=dt.datetime.fromtimestamp(stale, dt.UTC),
    )
    response = world.http.get(world.url("/ticket"), headers=headers, timeout=10)
    assert response.status_code == 403
    assert body_of(response)["message"].startswith("Signature expired")


def test_signed_post_writes_to_dynamodb_through_the_handler(world):
    ticket_id = f"t-{uuid.uuid4()}"
    payload = json.dumps({"id": ticket_id, "title": "Saddle squeaks", "priority": "high"}).encode()
    response = world.signed("POST", "/ticket", payload, headers={"Content-Type": "application/json"})
    assert response.status_code == 201, response.text
    assert body_of(response) == {"id": ticket_id, "title": "Saddle squeaks", "priority": "high"}
    stored = world.ddb.get_item(TableName=TABLE, Key={"id": {"S": ticket_id}})["Item"]
    assert stored["title"] == {"S": "Saddle squeaks"}

    response = world.signed("GET", f"/item?id={ticket_id}")
    assert response.status_code == 200
    assert body_of(response)["priority"] == "high"


def test_tampered_body_is_rejected_by_the_gateway_and_writes_nothing(world):
    ticket_id = f"t-{uuid.uuid4()}"
    url = world.url("/ticket")
    signed_body = json.dumps({"id": ticket_id, "title": "ok"}).encode()
    request = AWSRequest(
        method="POST", url=url, data=signed_body, headers={"Content-Type": "application/json"}
    )
    SigV4Auth(
        Credentials(USER.access_key_id, USER.secret_access_key, USER.session_token), "execute-api", REGION
    ).add_auth(request)
    forged = json.dumps({"id": ticket_id, "title": "forged"}).encode()
    response = world.http.post(url, data=forged, headers=dict(request.headers.items()), timeout=10)
    assert response.status_code == 403
    assert "Item" not in world.ddb.get_item(TableName=TABLE, Key={"id": {"S": ticket_id}})


# --------------------------------------------------------------------------------------- unsigned & routing


def test_options_preflight_is_answered_by_the_mock_integration(world):
    response = world.call("OPTIONS", "/ticket", headers={"Origin": "http://localhost:8000"})
    assert response.status_code == 200
    for name, value in CORS.items():
        assert response.headers[name] == value
    assert response.content == b""


def test_unsigned_method_gets_an_empty_identity(world):
    response = world.call("GET", "/health")
    assert response.status_code == 200
    identity = body_of(response)["event"]["requestContext"]["identity"]
    assert identity["accessKey"] is None
    assert identity["cognitoIdentityId"] is None
    assert identity["cognitoAuthenticationType"] is None
    assert identity["sourceIp"] == "127.0.0.1"


def test_path_parameters_and_greedy_proxy_with_any_method(world):
    event = body_of(world.call("GET", "/items/abc%20d"))["event"]
    assert event["resource"] == "/items/{id}"
    assert event["pathParameters"] == {"id": "abc d"}
    assert event["requestContext"]["resourcePath"] == "/items/{id}"

    event = body_of(world.call("DELETE", "/files/a/b/c.txt"))["event"]
    assert event["resource"] == "/files/{proxy+}"
    assert event["httpMethod"] == "DELETE"
    assert event["pathParameters"] == {"proxy": "a/b/c.txt"}
    assert event["path"] == "/files/a/b/c.txt"


def test_unknown_path_and_undefined_method_are_403_missing_authentication_token(world):
    for method, path in (
        ("GET", "/nope"),
        ("GET", "/ticket/extra/parts"),
        ("DELETE", "/health"),
        ("GET", "/files"),
    ):
        response = world.call(method, path)
        assert response.status_code == 403, (method, path)
        assert body_of(response) == {"message": "Missing Authentication Token"}


def test_unknown_api_or_stage_is_404(world):
    response = world.http.get(world.url("/health", api_id="doesnotexist"), timeout=10)
    assert response.status_code == 404
    assert body_of(response) == {"message": "Not Found"}
    response = world.http.get(world.url("/health", stage="staging"), timeout=10)
    assert response.status_code == 404
    assert world.http.get(world.gateway.url + "/", timeout=10).status_code == 404


# -------------------------------------------------------------------------------------- pieces, no server


def test_handle_never_raises_and_answers_500_when_moto_is_gone(tmp_path):
    gateway = LocalGateway(REGION, "http://127.0.0.1:9", CredentialStore(), tmp_path, ADMIN)
    response = gateway.handle(GatewayRequest("GET", "/abc/prod/health", [("Host", "x")]))
    assert response.status == 500
    assert json.loads(response.body) == {"message": "Internal server error"}
    assert response.header("x-amzn-RequestId")


def test_resource_matching_prefers_literal_then_parameter_then_greedy():
    api = ApiDefinition.build(
        {"id": "a"},
        [
            {"id": "r0", "path": "/"},
            {"id": "r1", "path": "/ticket", "resourceMethods": {"GET": {}}},
            {"id": "r2", "path": "/ticket/{id}", "resourceMethods": {"GET": {}}},
            {"id": "r3", "path": "/ticket/latest", "resourceMethods": {"GET": {}}},
            {"id": "r4", "path": "/{proxy+}", "resourceMethods": {"ANY": {}}},
        ],
    )
    assert api.match([]).resource.id == "r0"
    assert api.match(["ticket"]).resource.id == "r1"
    assert api.match(["ticket", "latest"]).resource.id == "r3"
    route = api.match(["ticket", "42"])
    assert (route.resource.id, route.path_params) == ("r2", {"id": "42"})
    route = api.match(["ticket", "42", "x"])
    assert (route.resource.id, route.path_params) == ("r4", {"proxy": "ticket/42/x"})
    assert ApiDefinition.build({"id": "a"}, [{"id": "r", "path": "/"}]).match(["x"]) is None


@pytest.mark.parametrize(
    "result",
    [
        None,
        [],
        "ok",
        {"body": "no status"},
        {"statusCode": "abc"},
        {"statusCode": 700},
        {"statusCode": 200, "body": {"not": "a string"}},
        {"statusCode": 200, "headers": {"X": {"nested": 1}}},
        {"statusCode": 200, "multiValueHeaders": {"X": "not a list"}},
        {"statusCode": 200, "isBase64Encoded": True, "body": "%%%not base64"},
    ],
)
def test_malformed_proxy_results_are_rejected(result):
    assert proxy_response(json.dumps(result)) is None


def test_proxy_result_headers_merge_and_base64_bodies():
    response = proxy_response(
        json.dumps(
            {
                "statusCode": "201",
                "headers": {"X-One": "1", "Set-Cookie": "a=1", "Content-Length": "999"},
                "multiValueHeaders": {"Set-Cookie": ["a=1", "b=2"]},
                "body": "aGVsbG8=",
                "isBase64Encoded": True,
            }
        )
    )
    assert response.status == 201
    assert response.body == b"hello"
    assert [v for k, v in response.headers if k == "Set-Cookie"] == ["a=1", "b=2"]
    assert response.header("X-One") == "1"
    assert response.header("Content-Type") == "application/json"
    assert response.header("Content-Length") is None  # the server computes it
