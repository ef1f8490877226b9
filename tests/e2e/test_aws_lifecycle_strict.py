"""The whole lifecycle on the AWS code path as strictly as AWS: the real `wildrydes` on target aws against a
moto server, with the contract check and every rule of the behaviour layer in front of its calls (state shared
by all its processes, as AWS's account is). build-api, build-ui, replicate and cleanup each succeed on their
FIRST run (the second time as one `deploy`, preflight first), a game day killed with its region fault in place
(outage + FIS replication pause) is restored by --restore, the rules that a lifecycle meets are shown to have
fired, and the AWS CLI finds nothing left."""

from __future__ import annotations

import json

from e2e_helpers import aws_cli, run_on_aws
from fidelity import catalogue
from fidelity import install as fidelity
from fidelity.public_dns import public_dns

REGIONS = ("eu-west-1", "ap-southeast-1")
DOMAIN = "wildrydes.example.com"
CONFIG = f'target: aws\nsite: {{facebook_app_id: "1234567890"}}\ndns: {{domain: {DOMAIN}}}\n'

# Rules a lifecycle does not meet, each for a reason the product owns or the target decides:
NOT_MET = {
    "acm-common-name-64": "the config refuses a domain whose api.<domain> would pass 64 octets",
    "acm-idempotency-token-reuse": "each certificate request has a token of its own",
    "route53-health-check-nxdomain": "the regional record is INSYNC before its health check exists",
    "route53-cname-exclusive": "nothing else is at api.<domain>",
    "dynamodb-global-table-replicas": "on an emulator endpoint the replica is a table of its own (in-process "
                                      "tests take the AWS path)",
    "cloudfront-distribution-configs": "on an emulator endpoint the distribution's behaviour targets the primary's "
                                       "origin, which moto accepts (in-process tests take the AWS path: the group)",
    "iam-simulate-principal-policy": "the lifecycle's caller is moto's default identity, whose policies preflight "
                                     "cannot simulate (cannot-check); test_preflight_on_moto_server meets it with "
                                     "a deployer role",
}


def check_both_regions(endpoint: str, harness: dict[str, str]) -> None:
    """After replicate, by the AWS CLI: a pool and a site bucket in each region with the same files, and the
    distribution's origin group over the two buckets; the pools' principal-tag maps (moto lacks the API: an AWS
    CLI behind the same behaviour layer reads what the layer holds, as AWS would answer)."""
    buckets = sorted(b["Name"] for b in aws_cli(endpoint, "s3api", "list-buckets")["Buckets"])
    assert [b.split("-site-")[1].split("-", 1)[1] for b in buckets] == sorted(REGIONS)
    for region in REGIONS:
        (pool,) = aws_cli(endpoint, "cognito-identity", "list-identity-pools", "--max-results", "10",
                          "--region", region)["IdentityPools"]
        tags = aws_cli(endpoint, "cognito-identity", "get-principal-tag-attribute-map", "--identity-pool-id",
                       pool["IdentityPoolId"], "--identity-provider-name", "graph.facebook.com", "--region", region,
                       harness=harness)
        assert tags["PrincipalTags"] == {"owner": "sub"} and tags["UseDefaults"] is False
    (summary,) = aws_cli(endpoint, "cloudfront", "list-distributions")["DistributionList"]["Items"]
    config = aws_cli(endpoint, "cloudfront", "get-distribution-config", "--id", summary["Id"])["DistributionConfig"]
    (group,) = config["OriginGroups"]["Items"]
    origins = {o["Id"]: o["DomainName"].split(".s3.")[0] for o in config["Origins"]["Items"]}
    assert sorted(origins[m["OriginId"]] for m in group["Members"]["Items"]) == buckets
    assert origins[group["Members"]["Items"][0]["OriginId"]].endswith(REGIONS[0])  # the primary's first


# A game day killed the moment its region fault is in place (moto has no data plane to run one through): the
# fault as the tool applies it on AWS, application-tier outage and replication paused through FIS, then SIGKILL.
KILLED_GAME_DAY = """
import os, signal, sys
from pathlib import Path
from wildrydes_mr import faults, session
options = session.Options(Path(sys.argv[2]), None, None, "json", False)
with session.run(options, "test-failover") as ctx:
    faults.inject(ctx, faults.REGION, ctx.config.regions.primary, pause_seconds=1800)
    os.kill(os.getpid(), signal.SIGKILL)
"""


def check_killed_region_fault_is_restored(endpoint: str, workdir, harness: dict[str, str]) -> None:
    """By the AWS CLI: the FIS template pauses the tickets table's replication for the duration asked, its role
    is FIS's alone, the experiment runs while the killed run's record says so, and --restore stops it."""
    killed = run_on_aws(endpoint, workdir, config_text=CONFIG, harness=harness, program=("-c", KILLED_GAME_DAY))
    assert killed.returncode == -9, killed.stderr
    state = json.loads((workdir / ".wildrydes" / "wildrydes.json").read_text())
    recorded = state["extras"]["fault"]
    assert recorded["kind"] == "region" and recorded["fis"]["experiment_id"]
    region = REGIONS[0]
    template = aws_cli(endpoint, "fis", "get-experiment-template", "--id", recorded["fis"]["template_id"],
                       "--region", region, harness=harness)["experimentTemplate"]
    (action,) = template["actions"].values()
    assert action["actionId"] == "aws:dynamodb:global-table-pause-replication"
    assert action["parameters"]["duration"] == "PT30M"
    (target,) = template["targets"].values()
    table = aws_cli(endpoint, "dynamodb", "describe-table", "--table-name", "SXRTickets", "--region", region)
    assert target["resourceType"] == "aws:dynamodb:global-table"
    assert target["resourceArns"] == [table["Table"]["TableArn"]]
    assert template["stopConditions"] == [{"source": "none"}]  # FIS's "no stop condition" (not aws:none)
    role = aws_cli(endpoint, "iam", "get-role", "--role-name", template["roleArn"].split("/")[-1])["Role"]
    trusted = {s["Principal"]["Service"] for s in role["AssumeRolePolicyDocument"]["Statement"]}
    assert trusted == {"fis.amazonaws.com"}

    def experiment() -> dict:
        return aws_cli(endpoint, "fis", "get-experiment", "--id", recorded["fis"]["experiment_id"],
                       "--region", region, harness=harness)["experiment"]
    assert experiment()["state"]["status"] == "running"
    restored = run_on_aws(endpoint, workdir, "test-failover", "--restore", config_text=CONFIG, harness=harness)
    assert restored.returncode == 0, restored.stderr
    assert experiment()["state"]["status"] == "stopped"
    assert "fault" not in json.loads((workdir / ".wildrydes" / "wildrydes.json").read_text())["extras"]
    lam = aws_cli(endpoint, "lambda", "get-function-concurrency", "--function-name", "wildrydes-health",
                  "--region", region)
    assert "ReservedConcurrentExecutions" not in lam


def lifecycle(endpoint: str, workdir, harness: dict[str, str], game_day: bool = False,
              resolver: str | None = None) -> dict[str, str]:
    """build-api, build-ui, replicate — or, given the public DNS's `resolver`, `deploy` (preflight first) —, status,
    (a killed game day restored), cleanup: each must succeed on its first run. Returns the certificates made, by
    region."""
    certificates = {}
    deploying = [["deploy", "--resolver", resolver]] if resolver else [["build-api"], ["build-ui"], ["replicate"]]
    for command in (*deploying, ["status"], ["cleanup", "--yes"]):
        if command[0] == "cleanup" and game_day:
            check_killed_region_fault_is_restored(endpoint, workdir, harness)
        result = run_on_aws(endpoint, workdir, *command, config_text=CONFIG, harness=harness, timeout=900)
        assert result.returncode == 0, f"wildrydes {' '.join(command)} failed on its first run:\n{result.stderr}"
        if command == ["status"]:
            assert not [r for r in json.loads(result.stdout)["resources"] if r["status"] != "present"]
        if command[0] in ("replicate", "deploy"):
            check_both_regions(endpoint, harness)
            state = json.loads((workdir / ".wildrydes" / "wildrydes.json").read_text())
            certificates = {r["region"]: r["arn"] for r in state["resources"].values()
                            if r["kind"] == "acm-certificate"}
    assert json.loads(result.stdout)["remaining"] == []
    return certificates


def test_lifecycle_succeeds_first_time_with_every_rule_on(moto_server, tmp_path):
    aws_cli(moto_server, "route53", "create-hosted-zone", "--name", DOMAIN, "--caller-reference", "lifecycle")
    store = tmp_path / "aws-behaviour.json"
    harness = fidelity.subprocess_environment(tmp_path / "aws-contract-violations.jsonl", behaviour_store=store)

    first = lifecycle(moto_server, tmp_path, harness, game_day=True)
    assert json.loads(store.read_text())["clock_offset"] < 3600  # the whole first lifecycle took under an hour
    # Again, within the hour in which ACM would hand back a deleted certificate for a reused idempotency token:
    # the second deploy gets certificates of its own.
    # The second time as one `deploy`, preflight first (its reads meet their rules), the domain delegated to the
    # zone in a public DNS stand-in.
    zone = aws_cli(moto_server, "route53", "list-hosted-zones")["HostedZones"][0]
    servers = aws_cli(moto_server, "route53", "get-hosted-zone", "--id", zone["Id"])["DelegationSet"]["NameServers"]
    with public_dns({DOMAIN: servers}) as (address, resolver):
        second = lifecycle(moto_server, tmp_path, harness, resolver=f"{address[0]}:{address[1]}")
    assert resolver.queries  # preflight looked the delegation up
    assert set(first) == set(second) == set(REGIONS)
    assert not set(first.values()) & set(second.values())

    fired = json.loads(store.read_text())["fired"]
    expected = set(catalogue.rule_names()) - set(NOT_MET)
    assert expected <= set(fired), f"rules that never fired: {sorted(expected - set(fired))}"
    assert not set(fired) & set(NOT_MET), fired
    assert fidelity.read_contract_log(tmp_path / "aws-contract-violations.jsonl") == []

    # Nothing is left, by the AWS CLI's account.
    for region in REGIONS:
        assert aws_cli(moto_server, "dynamodb", "list-tables", "--region", region)["TableNames"] == []
        assert aws_cli(moto_server, "lambda", "list-functions", "--region", region)["Functions"] == []
        assert not aws_cli(moto_server, "apigateway", "get-rest-apis", "--region", region).get("items")
        assert not aws_cli(moto_server, "apigateway", "get-domain-names", "--region", region).get("items")
        assert aws_cli(moto_server, "acm", "list-certificates", "--region", region)["CertificateSummaryList"] == []
        assert aws_cli(moto_server, "cognito-identity", "list-identity-pools", "--max-results", "10",
                       "--region", region)["IdentityPools"] == []
    assert aws_cli(moto_server, "route53", "list-health-checks")["HealthChecks"] == []
    (zone,) = aws_cli(moto_server, "route53", "list-hosted-zones")["HostedZones"]
    records = aws_cli(moto_server, "route53", "list-resource-record-sets", "--hosted-zone-id", zone["Id"])
    assert sorted(r["Type"] for r in records["ResourceRecordSets"]) == ["NS", "SOA"]
    assert aws_cli(moto_server, "s3api", "list-buckets")["Buckets"] == []
    assert not aws_cli(moto_server, "cloudfront", "list-distributions").get("DistributionList", {}).get("Items")
    assert not [r for r in aws_cli(moto_server, "iam", "list-roles")["Roles"] if r["RoleName"].startswith("wildrydes")]
    assert aws_cli(moto_server, "fis", "list-experiment-templates", "--region", REGIONS[0],
                   harness=harness)["experimentTemplates"] == []
