"""Cleanup on the local cloud through the real command, after a full deploy that was killed with SIGKILL at a
random moment and re-run: everything of ours goes in both regions (checked by listing every service), resources
that are not ours survive, and --sweep finds and removes a tagged resource the state file did not know."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time

from e2e_helpers import PRIMARY, ROOT, moto_client, wildrydes, wildrydes_json

SECONDARY = "ap-southeast-1"
OURS = "wildrydes"


def everything(endpoint: str) -> set[tuple[str, str, str]]:
    """Every resource in the local account, listed service by service."""
    seen = set()
    for region in (PRIMARY, SECONDARY):
        client = lambda service, r=region: moto_client(endpoint, service, r)  # noqa: E731
        seen |= {("table", region, t) for t in client("dynamodb").list_tables()["TableNames"]}
        seen |= {("function", region, f["FunctionName"]) for f in client("lambda").list_functions()["Functions"]}
        seen |= {("api", region, a["name"]) for a in client("apigateway").get_rest_apis()["items"]}
        seen |= {("domain", region, d["domainName"]) for d in client("apigateway").get_domain_names()["items"]}
        seen |= {("certificate", region, c["DomainName"])
                 for c in client("acm").list_certificates()["CertificateSummaryList"]}
        seen |= {("log-group", region, g["logGroupName"]) for g in client("logs").describe_log_groups()["logGroups"]}
        seen |= {("pool", region, p["IdentityPoolName"])
                 for p in client("cognito-identity").list_identity_pools(MaxResults=60)["IdentityPools"]}
    seen |= {("role", "global", r["RoleName"]) for r in moto_client(endpoint, "iam").list_roles()["Roles"]}
    seen |= {("bucket", "global", b["Name"]) for b in moto_client(endpoint, "s3").list_buckets()["Buckets"]}
    cloudfront = moto_client(endpoint, "cloudfront")
    seen |= {("distribution", "global", d["Id"])
             for d in cloudfront.list_distributions()["DistributionList"].get("Items", []) or []}
    seen |= {("oac", "global", o["Name"])
             for o in cloudfront.list_origin_access_controls()["OriginAccessControlList"].get("Items", []) or []}
    route53 = moto_client(endpoint, "route53")
    seen |= {("health-check", "global", c["Id"]) for c in route53.list_health_checks()["HealthChecks"]}
    seen |= {("zone", "global", z["Name"]) for z in route53.list_hosted_zones()["HostedZones"]}
    return seen


def killed_then_rerun(workdir, command: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing")
    process = subprocess.Popen([sys.executable, "-m", "wildrydes_mr", "--config", str(ROOT / "config" /
                                "wildrydes.yaml"), command], cwd=workdir, env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    time.sleep(random.Random().uniform(0.3, 2.0))
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)
    wildrydes_json(workdir, command)  # the re-run completes from the state the killed run left


def test_killed_deploy_converges_and_cleanup_leaves_only_what_is_not_ours(local_cloud):
    workdir, started = local_cloud
    endpoint = started["aws_endpoint"]
    # Resources that are not ours, made before the deploy.
    moto_client(endpoint, "dynamodb").create_table(
        TableName="someone-elses-table", BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}])
    moto_client(endpoint, "s3").create_bucket(Bucket="someone-elses-bucket",
                                              CreateBucketConfiguration={"LocationConstraint": PRIMARY})
    before = everything(endpoint)

    for command in ("build-api", "build-ui", "replicate"):
        killed_then_rerun(workdir, command)
    # Converged: every module re-run changes nothing.
    for command in ("build-api", "build-ui", "replicate"):
        again = wildrydes_json(workdir, command)
        assert {a["action"] for a in again["actions"]} == {"nothing"}, (command, again["actions"])
    deployed = everything(endpoint)
    assert len([r for r in deployed if r[0] == "api"]) == 2  # one per region, no duplicates
    assert len([r for r in deployed if r[0] == "distribution"]) == 1
    assert len([r for r in deployed if r[0] == "health-check"]) == 2

    # A resource of ours that the state file does not know.
    moto_client(endpoint, "dynamodb", SECONDARY).create_table(
        TableName=f"{OURS}-stray", BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
        Tags=[{"Key": "wildrydes:deployment", "Value": OURS}])

    plain = wildrydes(workdir, "cleanup", "--yes", check=False)
    assert plain.returncode == 1  # verification found the stray
    remaining = json.loads(plain.stdout)["remaining"]
    assert remaining == [{"kind": "dynamodb-table", "region": SECONDARY, "name": f"{OURS}-stray"}]

    swept = wildrydes_json(workdir, "cleanup", "--yes", "--sweep")
    assert [(a["kind"], a["name"]) for a in swept["swept"]] == [("dynamodb-table", f"{OURS}-stray")]
    assert swept["remaining"] == []

    assert everything(endpoint) == before  # nothing of ours left; what was not ours untouched
    state = json.loads((workdir / ".wildrydes" / "wildrydes.json").read_text())
    assert state["resources"] == {}
