"""`wildrydes preflight` on target aws against a moto server, as a deployer would run it: credentials of a role
(with a path) that holds exactly the policy `wildrydes policy` prints, assumed through the AWS CLI; the behaviour
layer in the tool's process standing in for what moto lacks (SimulatePrincipalPolicy, Service Quotas' values,
Lambda's account settings, regions' opt-in status); a local dnslib server as the public DNS (--resolver).
Without a hosted zone the zone item fails and names the fix; with the zone made by the AWS CLI and the domain
delegated to it, every item passes; either way the tool makes no mutating AWS call (a botocore hook in its
process lists every call it makes)."""

from __future__ import annotations

import json

import pytest
import requests
from e2e_helpers import aws_cli, run_on_aws
from fidelity import install as fidelity
from fidelity.public_dns import public_dns

from wildrydes_mr import config as config_module
from wildrydes_mr import policy
from wildrydes_mr.aws import is_read_operation

ACCOUNT = "123456789012"  # moto's
DOMAIN = "wildrydes.example.com"
CONFIG = f'target: aws\nsite: {{facebook_app_id: "1234567890"}}\ndns: {{domain: {DOMAIN}}}\n'
# Every AWS operation preflight may make, each a read (SimulatePrincipalPolicy evaluates policies, changing none).
READS = {"sts:GetCallerIdentity", "account:GetRegionOptStatus", "route53:ListHostedZonesByName",
         "route53:GetHostedZone", "iam:GetRole", "iam:SimulatePrincipalPolicy", "service-quotas:GetServiceQuota",
         "service-quotas:GetAWSDefaultServiceQuota", "lambda:GetAccountSettings", "apigateway:GetDomainNames",
         "apigateway:GetRestApis", "acm:ListCertificates", "dynamodb:DescribeTable"}

# The real CLI, with the command added if cli.py does not register it yet, and every AWS call the process makes
# written to CALLS_LOG (a before-call hook on every botocore session, as the tool's own counter does) — but for the
# behaviour layer's own reads of moto, which stand for AWS's internals.
PROGRAM = """
import json, os, sys
import botocore.session
from fidelity import install
calls = []
def record(model=None, **_):
    harness = install.ACTIVE
    if not (harness and harness.layer and harness.layer.bypassed):
        calls.append(f"{model.service_model.service_name}:{model.name}")
original = botocore.session.Session.__init__
def init(self, *args, **kwargs):
    original(self, *args, **kwargs)
    self.register("before-call", record)
botocore.session.Session.__init__ = init
from wildrydes_mr import cli
from wildrydes_mr.commands.preflight import preflight
if "preflight" not in cli.cli.commands:
    cli.cli.add_command(preflight)
try:
    cli.main(sys.argv[1:])
finally:
    with open(os.environ["CALLS_LOG"], "w") as log:
        json.dump(calls, log)
"""


@pytest.fixture
def moto(moto_server):
    """The moto server, emptied first: moto's servers in one process share one account."""
    requests.post(f"{moto_server}/moto-api/reset", timeout=10)
    return moto_server


def deployer_credentials(endpoint: str, workdir) -> dict[str, str]:
    """A role /deployers/Deployer with the documents `wildrydes policy` prints for CONFIG, made and assumed with
    the AWS CLI: the credentials of its session."""
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                     "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}}]}
    role = aws_cli(endpoint, "iam", "create-role", "--role-name", "Deployer", "--path", "/deployers/",
                   "--assume-role-policy-document", json.dumps(trust))["Role"]["Arn"]
    config = config_module.parse(CONFIG, "aws.yaml")
    for number, document in enumerate(policy.documents(config, ACCOUNT), start=1):
        path = workdir / f"deployer-{number}.json"
        path.write_text(json.dumps(document))
        arn = aws_cli(endpoint, "iam", "create-policy", "--policy-name", f"wildrydes-deployer-{number}",
                      "--policy-document", f"file://{path}")["Policy"]["Arn"]
        aws_cli(endpoint, "iam", "attach-role-policy", "--role-name", "Deployer", "--policy-arn", arn)
    session = aws_cli(endpoint, "sts", "assume-role", "--role-arn", role, "--role-session-name", "preflight")
    credentials = session["Credentials"]
    return {"AWS_ACCESS_KEY_ID": credentials["AccessKeyId"], "AWS_SECRET_ACCESS_KEY": credentials["SecretAccessKey"],
            "AWS_SESSION_TOKEN": credentials["SessionToken"]}


def preflight(endpoint: str, workdir, credentials: dict[str, str], address: tuple[str, int]) -> tuple[int, dict,
                                                                                                     list[str]]:
    """Runs `wildrydes --output json preflight --resolver ADDRESS`: exit code, its JSON, the AWS calls it made."""
    calls_log = workdir / "calls.json"
    harness = fidelity.subprocess_environment(workdir / "aws-contract-violations.jsonl",
                                              behaviour_store=workdir / "aws-behaviour.json")
    # The variables run_on_aws adds last: the behaviour layer, the deployer's session, where to list the calls.
    environment = {**harness, **credentials, "CALLS_LOG": str(calls_log)}
    done = run_on_aws(endpoint, workdir, "preflight", "--resolver", f"{address[0]}:{address[1]}", config_text=CONFIG,
                      harness=environment, program=("-c", PROGRAM))
    assert done.returncode in (0, 1), done.stderr
    assert fidelity.read_contract_log(workdir / "aws-contract-violations.jsonl") == []
    return done.returncode, json.loads(done.stdout), json.loads(calls_log.read_text())


def assert_only_reads(calls: list[str]) -> None:
    assert calls and set(calls) <= READS, sorted(set(calls) - READS)
    mutating = [c for c in calls if not is_read_operation(c.split(":")[1]) and c != "iam:SimulatePrincipalPolicy"]
    assert mutating == []


def by_name(result: dict) -> dict[str, dict]:
    return {item["name"]: item for item in result["items"]}


def test_without_a_hosted_zone_the_zone_item_fails_with_the_fix(moto, tmp_path):
    credentials = deployer_credentials(moto, tmp_path)
    with public_dns({}) as (address, resolver):
        code, result, calls = preflight(moto, tmp_path, credentials, address)
    items = by_name(result)
    assert code == 1 and result["passed"] is False
    zone = items["hosted zone"]
    assert zone["status"] == "fail" and f"no public hosted zone for {DOMAIN}" in zone["detail"]
    assert zone["fix"] == "create it (and delegate the domain to it), or set dns.hosted_zone_id"
    assert items["domain delegated to the zone"]["status"] == "cannot-check"
    assert [item["name"] for item in result["items"] if item["status"] == "fail"] == ["hosted zone"]
    assert resolver.queries == []  # no zone, nothing to look up
    assert_only_reads(calls)


def test_with_everything_in_place_every_item_passes(moto, tmp_path):
    credentials = deployer_credentials(moto, tmp_path)
    zone_id = aws_cli(moto, "route53", "create-hosted-zone", "--name", DOMAIN, "--caller-reference",
                      "preflight")["HostedZone"]["Id"]
    servers = aws_cli(moto, "route53", "get-hosted-zone", "--id", zone_id)["DelegationSet"]["NameServers"]
    with public_dns({DOMAIN: servers}) as (address, resolver):
        code, result, calls = preflight(moto, tmp_path, credentials, address)
    assert code == 0 and result["passed"] is True, [i for i in result["items"] if i["status"] != "pass"]
    assert {item["status"] for item in result["items"]} == {"pass"}
    items = by_name(result)
    assert items["caller may make every call the tool makes"]["data"]["principal"] == \
        f"arn:aws:iam::{ACCOUNT}:role/deployers/Deployer"
    assert items["hosted zone"]["data"]["id"] == zone_id.split("/")[-1]
    assert resolver.queries == [(DOMAIN, "NS")]
    assert "iam:SimulatePrincipalPolicy" in calls and "iam:GetRole" in calls
    assert_only_reads(calls)
