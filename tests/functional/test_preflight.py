"""preflight as a whole on moto in-process behind the behaviour layer, as an assumed-role deployer: what fails
when the role lacks part of the policy `wildrydes policy` prints, a region is an opt-in one not enabled, or
Lambda's concurrency quota leaves less than the unreserved minimum — and that the same checks pass once fixed."""

from __future__ import annotations

import json

import boto3
import pytest
from context_helpers import build_context_factory
from fidelity import catalogue
from fidelity.public_dns import public_dns

from wildrydes_mr import config as config_module
from wildrydes_mr import policy, preflight

ACCOUNT = "123456789012"
DOMAIN = "wildrydes.example.com"
CONFIG = f'target: aws\nregions: {{primary: eu-west-1, secondary: me-south-1}}\n' \
         f'site: {{facebook_app_id: "1234567890"}}\ndns: {{domain: {DOMAIN}}}\n'


def assume_deployer(monkeypatch, documents: list[dict]) -> None:
    """A role /deployers/Deployer holding `documents`; this process's credentials become a session of it."""
    iam = boto3.client("iam")
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                     "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}}]}
    role = iam.create_role(RoleName="Deployer", Path="/deployers/",
                           AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    for number, document in enumerate(documents):
        iam.put_role_policy(RoleName="Deployer", PolicyName=f"deployer-{number}",
                            PolicyDocument=json.dumps(document))
    credentials = boto3.client("sts").assume_role(RoleArn=role, RoleSessionName="ci")["Credentials"]
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", credentials["AccessKeyId"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", credentials["SecretAccessKey"])
    monkeypatch.setenv("AWS_SESSION_TOKEN", credentials["SessionToken"])


@pytest.fixture
def account(make_context, aws_behaviour, monkeypatch, tmp_path):
    """The deployer's policy without lambda:CreateFunction, a zone for the domain: (context factory, layer, the
    zone's name servers)."""
    config = config_module.parse(CONFIG, "aws.yaml")
    documents = policy.documents(config, ACCOUNT)
    for document in documents:
        for statement in document["Statement"]:
            statement["Action"] = [a for a in statement["Action"] if a != "lambda:CreateFunction"]
        document["Statement"] = [s for s in document["Statement"] if s["Action"]]
    assume_deployer(monkeypatch, documents)
    r53 = boto3.client("route53")
    zone = r53.create_hosted_zone(Name=DOMAIN, CallerReference="preflight")
    build = build_context_factory(tmp_path)
    return (lambda: build(module="preflight", cfg=config)), aws_behaviour.layer, zone["DelegationSet"]["NameServers"]


def statuses(result: dict) -> dict[str, str]:
    return {item["name"]: item["status"] for item in result["items"]}


def test_missing_permissions_a_disabled_region_and_a_small_quota_fail_until_fixed(account, monkeypatch):
    build, layer, servers = account
    catalogue.rule(layer, "service-quotas-defaults").apply(layer, "me-south-1", "lambda", "L-B99A9384", 5)
    with public_dns({DOMAIN: servers}) as (address, _):
        result = preflight.run(build(), address)
        failing = {item["name"]: item for item in result["items"] if item["status"] == "fail"}
        assert set(failing) == {"region me-south-1 enabled", "caller may make every call the tool makes",
                                "Lambda concurrency (me-south-1)"} and result["passed"] is False
        permissions = failing["caller may make every call the tool makes"]
        assert permissions["data"]["principal"] == f"arn:aws:iam::{ACCOUNT}:role/deployers/Deployer"
        assert {d["action"] for d in permissions["data"]["denied"]} == {"lambda:CreateFunction"}
        assert "aws account enable-region --region-name me-south-1" in failing["region me-south-1 enabled"]["fix"]
        assert "L-B99A9384" in failing["Lambda concurrency (me-south-1)"]["fix"]

        # The fixes: the whole policy, the region enabled, the quota raised.
        boto3.client("iam").put_role_policy(RoleName="Deployer", PolicyName="lambda", PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "lambda:CreateFunction",
                                                     "Resource": "*"}]}))
        catalogue.rule(layer, "account-region-opt-status").set_status(layer, "me-south-1", "ENABLED")
        catalogue.rule(layer, "service-quotas-defaults").apply(layer, "me-south-1", "lambda", "L-B99A9384", 1000)
        again = preflight.run(build(), address)
    assert set(statuses(again).values()) == {"pass"}, [i for i in again["items"] if i["status"] != "pass"]
