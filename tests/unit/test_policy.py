"""The policy documents made from the table (wildrydes_mr/policy.py): valid IAM JSON that the strict evaluator reads,
scoped resources except for the actions AWS authorizes on `*` only, no wildcard action, each document within IAM's
6,144 characters (white space not counted) and split when it would pass them, the deployer's and the operator's
different where their work is, and what the config changes."""

from __future__ import annotations

import json

import pytest

from wildrydes_mr import config as config_module
from wildrydes_mr import policy
from wildrydes_mr.local.iam_policy import Request, evaluate

ACCOUNT = "123456789012"
IAM_DOCUMENT_KEYS = {"Version", "Statement"}
IAM_STATEMENT_KEYS = {"Sid", "Effect", "Action", "Resource", "Condition"}


def config(text: str = "") -> config_module.Config:
    return config_module.parse("target: aws\n" + text, "t.yaml")


def statements(documents: list[dict]) -> list[dict]:
    return [statement for document in documents for statement in document["Statement"]]


def granted(documents: list[dict]) -> set[str]:
    return {action for statement in statements(documents) for action in statement["Action"]}


@pytest.mark.parametrize("role", ["deployer", "operator"])
def test_documents_are_iam_json_scoped_except_star_only_actions_and_within_the_limit(role):
    documents = policy.documents(config(), ACCOUNT, role=role)
    star_only = {item["action"] for item in policy.unscoped(config(), role)}
    assert json.loads(json.dumps(documents)) == documents
    for document in documents:
        assert set(document) == IAM_DOCUMENT_KEYS and document["Version"] == "2012-10-17"
        assert len("".join(json.dumps(document).split())) <= 6144 == policy.MAX_POLICY_CHARACTERS
    sids = [s["Sid"] for s in statements(documents)]
    assert len(sids) == len(set(sids)) and all(sid.isalnum() for sid in sids)
    for statement in statements(documents):
        assert set(statement) <= IAM_STATEMENT_KEYS and statement["Effect"] == "Allow"
        assert all("*" not in action and "?" not in action for action in statement["Action"])
        if "*" in statement["Resource"]:
            assert statement["Resource"] == ["*"] and set(statement["Action"]) <= star_only, statement
        else:
            assert all(r.startswith("arn:aws:") for r in statement["Resource"]), statement
    assert star_only and star_only <= granted(documents)
    # The strict evaluator reads every document (it refuses anything it does not know).
    evaluate(documents, Request("sts:GetCallerIdentity", "*", {}))


def test_required_is_exactly_what_the_documents_allow():
    cfg = config()
    documents = policy.documents(cfg, ACCOUNT)
    required = policy.required(cfg, ACCOUNT)
    assert {entry["action"] for entry in required} == granted(documents)
    for entry in required:
        context = {key: values[0] for key, values in entry.get("context", {}).items()}
        for resource in entry["resources"]:
            assert evaluate(documents, Request(entry["action"], resource, context)).allowed, (entry, resource)
    pass_role = [e for e in required if e["action"] == "iam:PassRole"]
    assert sorted(e["context"]["iam:PassedToService"][0] for e in pass_role) == [
        "cognito-identity.amazonaws.com", "lambda.amazonaws.com"]
    lambda_roles = next(e for e in pass_role if e["context"]["iam:PassedToService"] == ["lambda.amazonaws.com"])
    # Passing the function roles to another service is not allowed, nor the web identity role to Lambda.
    assert not evaluate(documents, Request("iam:PassRole", lambda_roles["resources"][0],
                                           {"iam:PassedToService": "ec2.amazonaws.com"})).allowed
    assert not evaluate(documents, Request("iam:PassRole", f"arn:aws:iam::{ACCOUNT}:role/wildrydes-web-identity",
                                           {"iam:PassedToService": "lambda.amazonaws.com"})).allowed


def test_a_policy_that_would_pass_the_limit_is_split_with_nothing_lost(monkeypatch):
    cfg = config()
    whole = policy.documents(cfg, ACCOUNT)
    monkeypatch.setattr(policy, "MAX_POLICY_CHARACTERS", 1200)
    split = policy.documents(cfg, ACCOUNT)
    assert len(split) > len(whole)
    assert all(policy.policy_size(document) <= 1200 for document in split)

    def pairs(documents):
        return {(a, r, json.dumps(s.get("Condition"), sort_keys=True)) for s in statements(documents)
                for a in s["Action"] for r in s["Resource"]}
    assert pairs(split) == pairs(whole)


def test_the_operator_gets_the_game_day_and_the_deployer_the_deployment():
    deployer = policy.documents(config(), ACCOUNT, role="deployer")
    operator = policy.documents(config(), ACCOUNT, role="operator")
    for action in ("lambda:PutFunctionConcurrency", "fis:StartExperiment", "fis:CreateExperimentTemplate",
                   "execute-api:Invoke", "route53:GetHealthCheckStatus"):
        assert action in granted(operator)
    for action in ("lambda:PutFunctionConcurrency", "fis:StartExperiment", "fis:CreateExperimentTemplate",
                   "execute-api:Invoke"):
        assert action not in granted(deployer)
    for action in ("lambda:CreateFunction", "iam:DeleteRole", "cloudfront:CreateDistribution", "dynamodb:CreateTable",
                   "apigateway:POST", "acm:RequestCertificate", "s3:PutObject", "fis:DeleteExperimentTemplate"):
        assert action in granted(deployer) and action not in granted(operator)
    # The operator's faults are in the primary region only, and its role is only the FIS role.
    put = next(s for s in statements(operator) if "lambda:PutFunctionConcurrency" in s["Action"])
    assert all(":eu-west-1:" in r for r in put["Resource"])
    create_role = next(s for s in statements(operator) if "iam:CreateRole" in s["Action"])
    assert create_role["Resource"] == [f"arn:aws:iam::{ACCOUNT}:role/wildrydes-fis-pause-eu-west-1"]
    invoke = next(s for s in statements(operator) if "execute-api:Invoke" in s["Action"])
    assert evaluate(operator, Request("execute-api:Invoke", f"arn:aws:execute-api:eu-west-1:{ACCOUNT}:a1b2c3/prod/"
                                      "POST/owners/operator/tickets", {})).allowed
    assert not evaluate([{"Version": "2012-10-17", "Statement": [invoke]}], Request(
        "execute-api:Invoke", f"arn:aws:execute-api:eu-west-1:{ACCOUNT}:a1b2c3/prod/POST/owners/1/claims", {})).allowed


def test_what_the_config_changes():
    named_zone = policy.documents(config("dns: {hosted_zone_id: Z0123456789ABC}\n"), ACCOUNT)
    found_zone = policy.documents(config(), ACCOUNT)
    assert "route53:ListHostedZonesByName" in granted(found_zone) - granted(named_zone)
    change = next(s for s in statements(named_zone) if "route53:ChangeResourceRecordSets" in s["Action"])
    assert change["Resource"] == ["arn:aws:route53:::hostedzone/Z0123456789ABC"]
    assert "s3:PutBucketWebsite" in granted(policy.documents(config("site: {https: false}\n"), ACCOUNT))
    assert "s3:PutBucketWebsite" not in granted(found_zone)
    shop = config("deployment: shop\napi: {table: Orders}\ndns: {domain: shop.example.org}\n")
    other = json.dumps(policy.documents(shop, "111122223333"))
    assert "function:shop-health" in other and "table/Orders" in other and ACCOUNT not in other
    assert "wildrydes" not in other


def test_unscoped_says_why_for_every_star_action():
    for role in ("deployer", "operator"):
        items = policy.unscoped(config(), role)
        assert items and all(item["why"] for item in items)
        assert [item["action"] for item in items] == sorted(item["action"] for item in items)
