"""build-api on moto in-process: creates what module 1 promises, a re-run changes nothing, cleanup removes it."""

from __future__ import annotations

import json

import boto3

from wildrydes_mr.workflows import build_api, cleanup

REGION = "eu-west-1"


def test_build_api_creates_every_resource(make_context):
    ctx = make_context()
    result = build_api.run(ctx)
    assert result["api_url"] == f"https://{result['api_id']}.execute-api.{REGION}.amazonaws.com/prod/"

    table = boto3.client("dynamodb", REGION).describe_table(TableName="SXRTickets")["Table"]
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert table["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}
    (index,) = table["GlobalSecondaryIndexes"]
    assert index["IndexName"] == "owner-createdOn"
    assert [(k["AttributeName"], k["KeyType"]) for k in index["KeySchema"]] == [("owner", "HASH"),
                                                                                ("createdOn", "RANGE")]
    pitr = boto3.client("dynamodb", REGION).describe_continuous_backups(TableName="SXRTickets")
    assert pitr["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] \
        == "ENABLED"

    lam = boto3.client("lambda", REGION)
    names = sorted(f["FunctionName"] for f in lam.list_functions()["Functions"])
    assert names == ["wildrydes-claim-tickets", "wildrydes-create-ticket", "wildrydes-health",
                     "wildrydes-list-tickets"]
    routes = {"wildrydes-claim-tickets": "POST/owners/*/claims", "wildrydes-create-ticket": "POST/owners/*/tickets",
              "wildrydes-list-tickets": "GET/owners/*/tickets", "wildrydes-health": "GET/health"}
    for name in names:
        config = lam.get_function_configuration(FunctionName=name)
        assert config["Runtime"] == "python3.12"
        assert config["Environment"]["Variables"]["TABLE_NAME"] == "SXRTickets"
        policy = json.loads(lam.get_policy(FunctionName=name)["Policy"])
        (statement,) = policy["Statement"]
        assert statement["Principal"] == {"Service": "apigateway.amazonaws.com"}
        # Scoped to this API, its configured stage, and the function's own method and path (any owner in it).
        source = statement["Condition"]["ArnLike"]["AWS:SourceArn"]
        assert source.split(":")[-1] == f"{result['api_id']}/prod/{routes[name]}"

    api = boto3.client("apigateway", REGION)
    (rest_api,) = api.get_rest_apis()["items"]
    assert rest_api["endpointConfiguration"]["types"] == ["REGIONAL"]
    methods = {(r["path"], m): v for r in api.get_resources(restApiId=rest_api["id"], embed=["methods"])["items"]
               for m, v in r.get("resourceMethods", {}).items()}
    tickets, claims = "/owners/{owner}/tickets", "/owners/{owner}/claims"
    assert methods[(tickets, "GET")]["authorizationType"] == "AWS_IAM"
    assert methods[(tickets, "POST")]["authorizationType"] == "AWS_IAM"
    assert methods[(claims, "POST")]["authorizationType"] == "AWS_IAM"
    assert methods[("/health", "GET")]["authorizationType"] == "NONE"
    assert methods[(tickets, "OPTIONS")]["methodIntegration"]["type"] == "MOCK"
    assert methods[(tickets, "GET")]["methodIntegration"]["type"] == "AWS_PROXY"
    assert {path for path, _ in methods} == {tickets, claims, "/health"}
    assert api.get_stage(restApiId=rest_api["id"], stageName="prod")["deploymentId"]
    for response_type in ("DEFAULT_4XX", "DEFAULT_5XX"):
        parameters = api.get_gateway_response(restApiId=rest_api["id"], responseType=response_type)[
            "responseParameters"]
        assert parameters["gatewayresponse.header.Access-Control-Allow-Origin"] == "'*'"


def test_roles_are_least_privilege(make_context):
    build_api.run(make_context())
    iam = boto3.client("iam")
    roles = [r for r in iam.list_roles()["Roles"] if r["RoleName"].startswith("wildrydes-")]
    assert len(roles) == 4
    for role in roles:
        (policy_name,) = iam.list_role_policies(RoleName=role["RoleName"])["PolicyNames"]
        document = iam.get_role_policy(RoleName=role["RoleName"], PolicyName=policy_name)["PolicyDocument"]
        for statement in document["Statement"]:
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            assert all("*" not in action for action in actions), statement
            assert statement["Resource"].startswith("arn:aws:"), statement
            assert statement["Resource"] != "*"
        assert not iam.list_attached_role_policies(RoleName=role["RoleName"])["AttachedPolicies"]
    health = iam.get_role_policy(RoleName=f"wildrydes-health-{REGION}", PolicyName=f"wildrydes-health-{REGION}")
    assert health["PolicyDocument"]["Statement"][0]["Action"] == ["dynamodb:GetItem"]


def test_second_run_makes_no_mutating_call(make_context):
    build_api.run(make_context())
    lam = boto3.client("lambda", REGION)
    before = {f["FunctionName"]: (f["CodeSha256"], f["LastModified"]) for f in lam.list_functions()["Functions"]}
    api = boto3.client("apigateway", REGION)
    api_id = api.get_rest_apis()["items"][0]["id"]
    deployments_before = len(api.get_deployments(restApiId=api_id)["items"])

    ctx = make_context()
    build_api.run(ctx)
    assert ctx.aws.calls.mutating == 0, ctx.aws.calls.operations
    assert ctx.aws.calls.read > 0
    assert {a.verb for a in ctx.actions} == {"nothing"}
    after = {f["FunctionName"]: (f["CodeSha256"], f["LastModified"]) for f in lam.list_functions()["Functions"]}
    assert after == before
    assert len(api.get_deployments(restApiId=api_id)["items"]) == deployments_before


def test_dry_run_on_empty_account_plans_create_and_creates_nothing(make_context, tmp_path):
    ctx = make_context(dry_run=True)
    build_api.run(ctx)
    assert ctx.aws.calls.mutating == 0
    assert ctx.actions and {a.verb for a in ctx.actions} == {"create"}
    kinds = {a.kind for a in ctx.actions}
    assert kinds == {"dynamodb-table", "log-group", "iam-role", "lambda-function", "rest-api", "lambda-permission",
                     "dynamodb-pitr"}
    assert boto3.client("lambda", REGION).list_functions()["Functions"] == []
    assert not (tmp_path / "state.json").exists()


def test_state_records_each_resource_with_ids(make_context, tmp_path):
    build_api.run(make_context())
    data = json.loads((tmp_path / "state.json").read_text())
    assert data["schema_version"] == 2
    kinds = sorted(r["kind"] for r in data["resources"].values())
    assert kinds.count("lambda-function") == 4 and kinds.count("iam-role") == 4
    api = next(r for r in data["resources"].values() if r["kind"] == "rest-api")
    assert api["id"] and api["url"].startswith("https://")
    assert "secret" not in json.dumps(data).lower()


def test_changed_definition_is_updated_and_redeployed(make_context):
    build_api.run(make_context())
    lam = boto3.client("lambda", REGION)
    lam.update_function_configuration(FunctionName="wildrydes-health", Environment={"Variables": {"DRIFTED": "1"}})
    api = boto3.client("apigateway", REGION)
    api_id = api.get_rest_apis()["items"][0]["id"]
    health = next(r for r in api.get_resources(restApiId=api_id)["items"] if r["path"] == "/health")
    api.delete_method(restApiId=api_id, resourceId=health["id"], httpMethod="OPTIONS")
    deployments_before = len(api.get_deployments(restApiId=api_id)["items"])

    ctx = make_context()
    build_api.run(ctx)
    updated = {(a.kind, a.name) for a in ctx.actions if a.verb == "update"}
    assert updated == {("lambda-function", "wildrydes-health"), ("rest-api", "wildrydes-tickets")}
    assert lam.get_function_configuration(FunctionName="wildrydes-health")["Environment"]["Variables"][
        "TABLE_NAME"] == "SXRTickets"
    assert len(api.get_deployments(restApiId=api_id)["items"]) == deployments_before + 1


def test_cleanup_removes_everything_and_empties_state(make_context):
    build_api.run(make_context())
    ctx = make_context(module="cleanup")
    result = cleanup.run(ctx)
    assert result["remaining"] == []
    assert len(result["deleted"]) == 19  # table (and its PITR), 4 log groups, 4 roles, 4 functions, API, 4 permissions
    assert boto3.client("lambda", REGION).list_functions()["Functions"] == []
    assert boto3.client("dynamodb", REGION).list_tables()["TableNames"] == []
    assert boto3.client("apigateway", REGION).get_rest_apis()["items"] == []
    assert not [r for r in boto3.client("iam").list_roles()["Roles"] if r["RoleName"].startswith("wildrydes-")]
    logs = boto3.client("logs", REGION).describe_log_groups()["logGroups"]
    assert not [g for g in logs if g["logGroupName"].startswith("/aws/lambda/wildrydes-")]
    assert ctx.state.resources == {}
    # A second cleanup has nothing to do and makes no call that changes anything.
    again = make_context(module="cleanup")
    assert cleanup.run(again)["deleted"] == [] and again.aws.calls.mutating == 0


def test_cleanup_treats_already_deleted_resources_as_done(make_context):
    build_api.run(make_context())
    boto3.client("lambda", REGION).delete_function(FunctionName="wildrydes-health")
    ctx = make_context(module="cleanup")
    assert cleanup.run(ctx)["remaining"] == []
