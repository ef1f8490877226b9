"""The world the local API gateway's tests share (test_gateway.py, test_gateway_functions.py): on the module's
moto server, a role, a DynamoDB table, Lambda functions whose handlers are written to a temporary lambda_src
directory (the project's own handlers are tested elsewhere), a REST API deployed to stage "prod", the callers'
IAM policies, and one gateway serving it; `World` calls the API, signing with botocore where the method is
AWS_IAM. Each test module's `world` fixture builds its own from `build_world` (moto_endpoint is per module)."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from function_code import placeholder_package

from wildrydes_mr.local.credentials import CredentialStore, LocalCredential
from wildrydes_mr.local.gateway import LocalGateway
from wildrydes_mr.local.gateway.authorization import IamPrincipals

REGION = "eu-west-1"
ACCOUNT = "123456789012"  # moto's default account
OPERATOR = "gw-test-operator"
ADMIN = LocalCredential("AKIAGWTESTADMIN00001", "gateway-test-admin-secret",
                        principal_arn=f"arn:aws:iam::123456789012:user/{OPERATOR}", principal_id="AIDAGWTESTOPERATOR")
POOL = f"{REGION}:11111111-2222-3333-4444-555555555555"
USER = LocalCredential(
    "ASIAGWTESTUSER000001",
    "gateway-test-user-secret",
    session_token="gateway-test-session-token",
    cognito_identity_id=f"{REGION}:0f0f0f0f-1111-2222-3333-444444444444",
    cognito_identity_pool_id=POOL,
)
CALLER_ROLE = "gateway-test-caller"
TABLE = "gateway-test-tickets"
CORS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Headers": "Content-Type,X-Amz-Date,Authorization,X-Amz-Security-Token",
    "Access-Control-Allow-Methods": "GET,POST,OPTIONS",
}

HANDLERS = {
    "echo.py": """
        import json, os

        def handler(event, context):
            if (event.get("queryStringParameters") or {}).get("sleep"):
                import time
                time.sleep(float(event["queryStringParameters"]["sleep"]))
            names = ("GREETING", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID",
                     "AWS_LAMBDA_FUNCTION_NAME", "HOME_TOWN")
            return {
                "statusCode": 200,
                "headers": {"Content-Type": "application/json", "X-Echo": "yes"},
                "multiValueHeaders": {"Set-Cookie": ["a=1", "b=2"]},
                "body": json.dumps({
                    "event": event,
                    "env": {name: os.environ.get(name) for name in names},
                    "context": {
                        "function_name": context.function_name,
                        "aws_request_id": context.aws_request_id,
                        "memory_limit_in_mb": context.memory_limit_in_mb,
                        "remaining_ms": context.get_remaining_time_in_millis(),
                    },
                    "pid": os.getpid(),
                    "cwd": os.getcwd(),
                }),
            }
    """,
    "tickets.py": """
        import json, os
        import boto3

        _table = boto3.resource("dynamodb").Table(os.environ["TABLE_NAME"])

        def create(event, context):
            item = json.loads(event["body"])
            _table.put_item(Item=item)
            stored = _table.get_item(Key={"id": item["id"]}, ConsistentRead=True)["Item"]
            return {"statusCode": 201, "body": json.dumps(stored)}

        def get(event, context):
            item = _table.get_item(Key={"id": event["queryStringParameters"]["id"]}).get("Item")
            return {"statusCode": 200 if item else 404, "body": json.dumps(item)}
    """,
    "faults.py": """
        import time

        def boom(event, context):
            raise ValueError("the unicorn kicked the server")

        def sleepy(event, context):
            time.sleep(30)

        def malformed(event, context):
            return {"statusCode": 200, "body": {"a dict": "is not a string"}}

        def unserialisable(event, context):
            return {"statusCode": 200, "body": object()}
    """,
}


# ------------------------------------------------------------------------------------------------ the world




class World:
    """What the module fixture built: endpoints, ids and clients."""

    def __init__(self, endpoint: str, gateway: LocalGateway, api_id: str, src_dir: Path) -> None:
        self.endpoint = endpoint
        self.gateway = gateway
        self.api_id = api_id
        self.src_dir = src_dir
        self.http = requests.Session()
        self.lam = _client("lambda", endpoint)
        self.ddb = _client("dynamodb", endpoint)
        self.apigw = _client("apigateway", endpoint)

    def url(self, path: str, api_id: str | None = None, stage: str = "prod") -> str:
        return f"{self.gateway.url}/{api_id or self.api_id}/{stage}{path}"

    def call(self, method: str, path: str, body: bytes | None = None, **kwargs: Any) -> requests.Response:
        return self.http.request(method, self.url(path), data=body, timeout=40, **kwargs)

    def signed(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        cred: LocalCredential = USER,
        headers: dict[str, str] | None = None,
    ) -> requests.Response:
        """Sign with botocore's SigV4Auth (service execute-api), as the api client and browsers' SDKs do."""
        url = self.url(path)
        request = AWSRequest(method=method, url=url, data=body or b"", headers=dict(headers or {}))
        creds = Credentials(cred.access_key_id, cred.secret_access_key, cred.session_token)
        SigV4Auth(creds, "execute-api", REGION).add_auth(request)
        return self.http.request(method, url, data=body, headers=dict(request.headers.items()), timeout=40)


def _client(service: str, endpoint: str) -> Any:
    return boto3.client(
        service,
        region_name=REGION,
        endpoint_url=endpoint,
        aws_access_key_id=ADMIN.access_key_id,
        aws_secret_access_key=ADMIN.secret_access_key,
    )


def _build_api(endpoint: str, role_arn: str) -> str:
    lam = _client("lambda", endpoint)
    apigw = _client("apigateway", endpoint)
    functions = {
        # name: (handler, environment, timeout)
        "gw-echo": ("echo.handler", {"GREETING": "hello"}, 5),
        "gw-env": ("echo.handler", {"GREETING": "hello", "HOME_TOWN": "Ghent"}, 5),
        "gw-tickets-create": ("tickets.create", {"TABLE_NAME": TABLE}, 5),
        "gw-tickets-get": ("tickets.get", {"TABLE_NAME": TABLE}, 5),
        "gw-boom": ("faults.boom", {}, 3),
        "gw-sleepy": ("echo.handler", {}, 3),
        "gw-sleepy-long": ("faults.sleepy", {}, 60),
        "gw-malformed": ("faults.malformed", {}, 3),
        "gw-unserialisable": ("faults.unserialisable", {}, 3),
        "gw-bad-import": ("no_such_module.handler", {}, 3),
        "gw-throttled": ("echo.handler", {}, 3),
        "gw-no-permission": ("echo.handler", {}, 3),
    }
    arns = {}
    for name, (handler, env, timeout) in functions.items():
        arns[name] = lam.create_function(
            FunctionName=name,
            Runtime="python3.12",
            Role=role_arn,
            Handler=handler,
            Code={"ZipFile": placeholder_package()},
            Timeout=timeout,
            MemorySize=256,
            Environment={"Variables": env},
        )["FunctionArn"]
    arns["gw-ghost"] = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:gw-ghost"  # never created

    api_id = apigw.create_rest_api(name="gateway-test", endpointConfiguration={"types": ["REGIONAL"]})["id"]
    root = next(r["id"] for r in apigw.get_resources(restApiId=api_id)["items"] if r["path"] == "/")
    ids = {"/": root}

    def resource(path: str) -> str:
        if path not in ids:
            parent, _, part = path.rpartition("/")
            ids[path] = apigw.create_resource(
                restApiId=api_id, parentId=resource(parent or "/"), pathPart=part
            )["id"]
        return ids[path]

    def lambda_method(path: str, method: str, function: str, auth: str = "NONE", **integration: Any) -> None:
        rid = resource(path)
        apigw.put_method(restApiId=api_id, resourceId=rid, httpMethod=method, authorizationType=auth)
        apigw.put_integration(
            restApiId=api_id,
            resourceId=rid,
            httpMethod=method,
            type="AWS_PROXY",
            integrationHttpMethod="POST",
            uri=f"arn:aws:apigateway:{REGION}:lambda:path/2015-03-31/functions/{arns[function]}/invocations",
            **integration,
        )

    lambda_method("/ticket", "GET", "gw-echo", "AWS_IAM")
    lambda_method("/ticket", "POST", "gw-tickets-create", "AWS_IAM")
    lambda_method("/item", "GET", "gw-tickets-get", "AWS_IAM")
    lambda_method("/health", "GET", "gw-echo")
    lambda_method("/env", "GET", "gw-env")
    lambda_method("/items/{id}", "GET", "gw-echo")
    lambda_method("/files/{proxy+}", "ANY", "gw-echo")
    lambda_method("/boom", "GET", "gw-boom")
    lambda_method("/slow", "GET", "gw-sleepy")
    lambda_method("/slow-gateway", "GET", "gw-sleepy-long", timeoutInMillis=1000)
    lambda_method("/malformed", "GET", "gw-malformed")
    lambda_method("/unserialisable", "GET", "gw-unserialisable")
    lambda_method("/bad-import", "GET", "gw-bad-import")
    lambda_method("/throttled", "GET", "gw-throttled")
    lambda_method("/ghost", "GET", "gw-ghost")
    lambda_method("/no-permission", "GET", "gw-no-permission")

    # CORS preflight, as the project builds it: MOCK integration, static header values in single quotes.
    rid = resource("/ticket")
    params = {f"method.response.header.{name}": f"'{value}'" for name, value in CORS.items()}
    apigw.put_method(restApiId=api_id, resourceId=rid, httpMethod="OPTIONS", authorizationType="NONE")
    apigw.put_integration(
        restApiId=api_id,
        resourceId=rid,
        httpMethod="OPTIONS",
        type="MOCK",
        requestTemplates={"application/json": '{"statusCode": 200}'},
    )
    apigw.put_method_response(
        restApiId=api_id,
        resourceId=rid,
        httpMethod="OPTIONS",
        statusCode="200",
        responseParameters={name: False for name in params},
    )
    apigw.put_integration_response(
        restApiId=api_id,
        resourceId=rid,
        httpMethod="OPTIONS",
        statusCode="200",
        responseParameters=params,
        responseTemplates={"application/json": ""},
    )

    apigw.create_deployment(restApiId=api_id, stageName="prod", variables={"colour": "blue"})
    for name in arns:
        if name in ("gw-ghost", "gw-no-permission"):
            continue
        lam.add_permission(
            FunctionName=name,
            StatementId="apigateway-invoke",
            Action="lambda:InvokeFunction",
            Principal="apigateway.amazonaws.com",
            SourceArn=f"arn:aws:execute-api:{REGION}:{ACCOUNT}:{api_id}/*/*/*",
        )
    # A permission for another API only: API Gateway may not invoke this function for ours.
    lam.add_permission(
        FunctionName="gw-no-permission",
        StatementId="apigateway-invoke",
        Action="lambda:InvokeFunction",
        Principal="apigateway.amazonaws.com",
        SourceArn=f"arn:aws:execute-api:{REGION}:{ACCOUNT}:otherapi99/*/GET/no-permission",
    )
    lam.put_function_concurrency(FunctionName="gw-throttled", ReservedConcurrentExecutions=0)
    return api_id


def build_world(moto_endpoint: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """The API and its gateway on `moto_endpoint`, for a module-scoped `world` fixture (`yield from` it)."""
    src_dir = tmp_path_factory.mktemp("lambda_src")
    for name, code in HANDLERS.items():
        (src_dir / name).write_text(textwrap.dedent(code), encoding="utf-8")

    endpoint = moto_endpoint
    # moto's state is the process's, shared by every module's server: both gateway modules make these names.
    requests.post(f"{endpoint}/moto-api/reset", timeout=10)
    requests.post(f"{endpoint}/moto-api/config", json={"lambda": {"use_docker": False}}, timeout=10)
    iam = _client("iam", endpoint)
    role_arn = iam.create_role(
        RoleName="gateway-test-role",
        AssumeRolePolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "lambda.amazonaws.com"},
                        "Action": "sts:AssumeRole",
                    }
                ],
            }
        ),
    )["Role"]["Arn"]
    _client("dynamodb", endpoint).create_table(
        TableName=TABLE,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    api_id = _build_api(endpoint, role_arn)
    # The Cognito identity's role (what SetIdentityPoolRoles maps the pool to) may invoke this API's methods.
    caller_role = iam.create_role(RoleName=CALLER_ROLE, AssumeRolePolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": []}))["Role"]["Arn"]
    iam.put_role_policy(RoleName=CALLER_ROLE, PolicyName="invoke", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "execute-api:Invoke",
                                                "Resource": f"arn:aws:execute-api:{REGION}:{ACCOUNT}:{api_id}/*"}]}))
    # The operator (an IAM user, the admin keys' owner) may invoke only GET /ticket.
    iam.create_user(UserName=OPERATOR)
    get_only = f"arn:aws:execute-api:{REGION}:{ACCOUNT}:{api_id}/prod/GET/*"
    iam.put_user_policy(UserName=OPERATOR, PolicyName="invoke", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "execute-api:Invoke",
                                                "Resource": get_only}]}))
    principals = IamPrincipals(lambda: iam, {POOL: caller_role}.get, lambda: ACCOUNT)
    gateway = LocalGateway(REGION, endpoint, CredentialStore([ADMIN, USER]), src_dir, ADMIN,
                           principals=principals)
    gateway.start()
    try:
        yield World(endpoint, gateway, api_id, src_dir)
    finally:
        gateway.stop()


def body_of(response: requests.Response) -> dict[str, Any]:
    return response.json()
