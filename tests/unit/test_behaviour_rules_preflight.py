"""The behaviour rules that stand in for what preflight reads and moto lacks — SimulatePrincipalPolicy, Service
Quotas' values, Lambda's account settings, a region's opt-in status — called with boto3 on moto in-process:
each answers as AWS documents it (and moto alone would not answer at all)."""

from __future__ import annotations

import io
import json
import zipfile

import boto3
import pytest
from botocore.exceptions import ClientError
from fidelity import catalogue
from fidelity import install as fidelity
from moto import mock_aws

REGION = "eu-west-1"
TRUST = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                            "Principal": {"Service": "lambda.amazonaws.com"}}]})
TABLE = "arn:aws:dynamodb:eu-west-1:123456789012:table/SXRTickets"


@pytest.fixture
def layer(aws_behaviour):
    with mock_aws():
        yield aws_behaviour.layer


def fired(layer, name: str) -> int:
    return layer.fired_counts().get(name, 0)


def policy(*statements) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def simulate(arn: str, actions: list[str], resources: list[str] | None = None, **extra) -> list[dict]:
    pages = boto3.client("iam").get_paginator("simulate_principal_policy").paginate(
        PolicySourceArn=arn, ActionNames=actions, **({"ResourceArns": resources} if resources else {}), **extra)
    return [result for page in pages for result in page["EvaluationResults"]]


def test_the_four_rules_are_in_the_catalogue():
    assert {"iam-simulate-principal-policy", "service-quotas-defaults", "lambda-account-settings",
            "account-region-opt-status"} <= set(catalogue.rule_names())


def test_simulation_evaluates_a_roles_inline_and_attached_policies_per_resource(layer):
    iam = boto3.client("iam")
    role = iam.create_role(RoleName="deployer", Path="/teams/ops/", AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
    iam.put_role_policy(RoleName="deployer", PolicyName="tables", PolicyDocument=policy(
        {"Effect": "Allow", "Action": "dynamodb:*", "Resource": TABLE},
        {"Effect": "Deny", "Action": "dynamodb:DeleteTable", "Resource": "*"}))
    managed = iam.create_policy(PolicyName="lambda-read", PolicyDocument=policy(
        {"Effect": "Allow", "Action": ["lambda:Get*"], "Resource": "*"}))["Policy"]["Arn"]
    iam.attach_role_policy(RoleName="deployer", PolicyArn=managed)

    other = "arn:aws:dynamodb:eu-west-1:123456789012:table/Other"
    results = {r["EvalActionName"]: r for r in simulate(role, ["dynamodb:CreateTable", "dynamodb:DeleteTable",
                                                               "lambda:GetFunction"], [TABLE, other])}
    assert len(results) == 3 and fired(layer, "iam-simulate-principal-policy") == 1  # one result per action
    create = results["dynamodb:CreateTable"]
    assert create["EvalDecision"] == "implicitDeny"  # the most restrictive across the resources
    assert {r["EvalResourceName"]: r["EvalResourceDecision"] for r in create["ResourceSpecificResults"]} == {
        TABLE: "allowed", other: "implicitDeny"}
    assert create["ResourceSpecificResults"][0]["MatchedStatements"] == [
        {"SourcePolicyId": "tables", "SourcePolicyType": "role"}]
    assert results["dynamodb:DeleteTable"]["EvalDecision"] == "explicitDeny"
    assert results["lambda:GetFunction"]["EvalDecision"] == "allowed"
    assert results["lambda:GetFunction"]["MatchedStatements"] == [
        {"SourcePolicyId": "lambda-read", "SourcePolicyType": "user-managed"}]


def test_simulation_of_a_user_includes_its_groups_and_a_boundary_limits_a_role(layer):
    iam = boto3.client("iam")
    user = iam.create_user(UserName="dev")["User"]["Arn"]
    assert simulate(user, ["s3:CreateBucket"])[0]["EvalDecision"] == "implicitDeny"
    iam.create_group(GroupName="deployers")
    iam.add_user_to_group(GroupName="deployers", UserName="dev")
    iam.put_group_policy(GroupName="deployers", PolicyName="all", PolicyDocument=policy(
        {"Effect": "Allow", "Action": "*", "Resource": "*"}))
    (everything,) = simulate(user, ["s3:CreateBucket"])
    assert everything["EvalDecision"] == "allowed" and everything["EvalResourceName"] == "*"
    assert everything["MatchedStatements"] == [{"SourcePolicyId": "all", "SourcePolicyType": "group"}]

    boundary = iam.create_policy(PolicyName="only-dynamodb", PolicyDocument=policy(
        {"Effect": "Allow", "Action": "dynamodb:*", "Resource": "*"}))["Policy"]["Arn"]
    role = iam.create_role(RoleName="bounded", AssumeRolePolicyDocument=TRUST,
                           PermissionsBoundary=boundary)["Role"]["Arn"]
    iam.put_role_policy(RoleName="bounded", PolicyName="admin", PolicyDocument=policy(
        {"Effect": "Allow", "Action": "*", "Resource": "*"}))
    decisions = {r["EvalActionName"]: r["EvalDecision"] for r in simulate(role, ["s3:CreateBucket",
                                                                                "dynamodb:Query"])}
    assert decisions == {"s3:CreateBucket": "implicitDeny", "dynamodb:Query": "allowed"}


def test_simulation_lists_condition_keys_it_was_not_given_and_uses_those_it_was(layer):
    iam = boto3.client("iam")
    role = iam.create_role(RoleName="deployer", AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
    iam.put_role_policy(RoleName="deployer", PolicyName="pass", PolicyDocument=policy(
        {"Effect": "Allow", "Action": "iam:PassRole", "Resource": "*",
         "Condition": {"StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}}}))
    target = "arn:aws:iam::123456789012:role/fn"
    (without,) = simulate(role, ["iam:PassRole"], [target])
    assert without["EvalDecision"] == "implicitDeny"
    assert without["ResourceSpecificResults"][0]["MissingContextValues"] == ["iam:PassedToService"]
    (given,) = simulate(role, ["iam:PassRole"], [target], ContextEntries=[{
        "ContextKeyName": "iam:PassedToService", "ContextKeyValues": ["lambda.amazonaws.com"],
        "ContextKeyType": "stringList"}])
    assert given["EvalDecision"] == "allowed"


def test_simulation_pages_by_max_items_and_refuses_an_unknown_principal(layer):
    iam = boto3.client("iam")
    role = iam.create_role(RoleName="deployer", Path="/ops/", AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
    actions = [f"lambda:Get{n}" for n in ("Function", "Alias", "Policy", "Layer", "Account")]
    first = iam.simulate_principal_policy(PolicySourceArn=role, ActionNames=actions, MaxItems=2)
    assert len(first["EvaluationResults"]) == 2 and first["IsTruncated"]
    assert len(simulate(role, actions)) == 5
    with pytest.raises(ClientError) as missing:  # the path is part of the role's ARN
        iam.simulate_principal_policy(PolicySourceArn="arn:aws:iam::123456789012:role/deployer",
                                      ActionNames=actions)
    assert missing.value.response["Error"]["Code"] == "NoSuchEntity"


def test_service_quotas_answer_documented_defaults_and_applied_values(layer):
    quotas = boto3.client("service-quotas", REGION)
    applied = quotas.get_service_quota(ServiceCode="lambda", QuotaCode="L-B99A9384")["Quota"]
    assert (applied["QuotaName"], applied["Value"]) == ("Concurrent executions", 1000.0)
    assert quotas.get_aws_default_service_quota(ServiceCode="acm", QuotaCode="L-F141DD1D")["Quota"]["Value"] == 2500
    assert quotas.get_service_quota(ServiceCode="apigateway", QuotaCode="L-A93447B8")["Quota"]["Value"] == 120
    catalogue.rule(layer, "service-quotas-defaults").apply(layer, REGION, "lambda", "L-B99A9384", 10)
    assert quotas.get_service_quota(ServiceCode="lambda", QuotaCode="L-B99A9384")["Quota"]["Value"] == 10
    assert quotas.get_aws_default_service_quota(ServiceCode="lambda", QuotaCode="L-B99A9384")["Quota"]["Value"] \
        == 1000
    with pytest.raises(ClientError) as unknown:  # a quota the rule does not stand in for is moto's to answer
        quotas.get_service_quota(ServiceCode="lambda", QuotaCode="L-00000000")
    assert unknown.value.response["Error"]["Code"] == "NoSuchResourceException"
    assert fired(layer, "service-quotas-defaults") == 5


def test_lambda_account_settings_subtract_reserved_concurrency(layer):
    iam, lam = boto3.client("iam"), boto3.client("lambda", REGION)
    role = iam.create_role(RoleName="fn", AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
    fidelity.sleep(60)  # until Lambda can assume the new role
    package = io.BytesIO()
    with zipfile.ZipFile(package, "w") as archive:
        archive.writestr("h.py", "def handler(e, c):\n    return 1\n")
    for name in ("a", "b"):
        lam.create_function(FunctionName=name, Runtime="python3.12", Role=role, Handler="h.handler",
                            Code={"ZipFile": package.getvalue()})
    lam.put_function_concurrency(FunctionName="a", ReservedConcurrentExecutions=100)
    settings = lam.get_account_settings()
    assert settings["AccountLimit"]["ConcurrentExecutions"] == 1000
    assert settings["AccountLimit"]["UnreservedConcurrentExecutions"] == 900
    assert settings["AccountUsage"]["FunctionCount"] == 2
    catalogue.rule(layer, "service-quotas-defaults").apply(layer, REGION, "lambda", "L-B99A9384", 105)
    assert lam.get_account_settings()["AccountLimit"]["UnreservedConcurrentExecutions"] == 5
    assert fired(layer, "lambda-account-settings") == 2


def test_region_opt_status_is_enabled_by_default_or_disabled_for_opt_in_regions(layer):
    account = boto3.client("account", "us-east-1")
    assert account.get_region_opt_status(RegionName="eu-west-1")["RegionOptStatus"] == "ENABLED_BY_DEFAULT"
    assert account.get_region_opt_status(RegionName="me-south-1")["RegionOptStatus"] == "DISABLED"
    catalogue.rule(layer, "account-region-opt-status").set_status(layer, "me-south-1", "ENABLED")
    assert account.get_region_opt_status(RegionName="me-south-1")["RegionOptStatus"] == "ENABLED"
    assert fired(layer, "account-region-opt-status") == 3
