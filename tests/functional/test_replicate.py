"""replicate on moto in-process: the replica, the API in the second region, certificates, custom domains,
health checks and failover records; a re-run changes nothing; a config that cannot meet its RTO is refused."""

from __future__ import annotations

import dataclasses
import json

import boto3
import pytest

from wildrydes_mr import config as config_module
from wildrydes_mr.engine import PLACEHOLDER
from wildrydes_mr.errors import ConfigError
from wildrydes_mr.targets import LOCAL_OPERATOR_USER, local_target
from wildrydes_mr.workflows import build_api, build_ui, cleanup, replicate

PRIMARY, SECONDARY = "eu-west-1", "ap-southeast-1"
DOMAIN = "wildrydes.example.com"


@pytest.fixture
def zone_config(mocked_aws):
    zone = boto3.client("route53").create_hosted_zone(Name=DOMAIN, CallerReference="test")["HostedZone"]
    zone_id = zone["Id"].split("/")[-1]
    return config_module.parse(f"target: aws\ndns: {{hosted_zone_id: {zone_id!r}}}\n", "t.yaml"), zone_id


@pytest.fixture
def deployed(make_context, zone_config):
    cfg, zone_id = zone_config
    build_api.run(make_context(cfg=cfg))
    build_ui.run(make_context(module="build-ui", cfg=cfg))
    result = replicate.run(make_context(module="replicate", cfg=cfg))
    return cfg, zone_id, result


def records(zone_id):
    return boto3.client("route53").list_resource_record_sets(HostedZoneId=zone_id)["ResourceRecordSets"]


def test_replicate_builds_second_region_and_failover_dns(deployed):
    cfg, zone_id, result = deployed
    assert result["failover_url"] == f"https://api.{DOMAIN}/"
    assert result["predicted_rto_seconds"] == 110

    # The API layer exists in the secondary region too (functions, API), built by the same code path.
    names = {f["FunctionName"] for f in boto3.client("lambda", SECONDARY).list_functions()["Functions"]}
    assert names == {"wildrydes-list-tickets", "wildrydes-create-ticket", "wildrydes-claim-tickets", "wildrydes-health"}
    assert len(boto3.client("apigateway", SECONDARY).get_rest_apis()["items"]) == 1
    # The AWS path (the endpoint is AWS's): UpdateTable(ReplicaUpdates), answered by the behaviour layer's
    # global tables, which moto lacks; the replica is ACTIVE and has point-in-time recovery of its own.
    primary_table = boto3.client("dynamodb", PRIMARY).describe_table(TableName="SXRTickets")["Table"]
    assert primary_table["Replicas"] == [{"RegionName": SECONDARY, "ReplicaStatus": "ACTIVE"}]
    for region in (PRIMARY, SECONDARY):
        backups = boto3.client("dynamodb", region).describe_continuous_backups(TableName="SXRTickets")
        assert backups["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"][
            "PointInTimeRecoveryStatus"] == "ENABLED"

    r53 = boto3.client("route53")
    checks = r53.list_health_checks()["HealthChecks"]
    assert len(checks) == 2
    targets = set()
    for check in checks:
        config = check["HealthCheckConfig"]
        assert (config["Type"], config["ResourcePath"], config["Port"]) == ("HTTPS", "/health", 443)
        assert (config["RequestInterval"], config["FailureThreshold"]) == (10, 3)
        assert config["EnableSNI"] is True
        targets.add(config["FullyQualifiedDomainName"])
    assert targets == {f"{PRIMARY}.{DOMAIN}", f"{SECONDARY}.{DOMAIN}"}  # never the failover name

    failover = [r for r in records(zone_id) if r["Name"] == f"api.{DOMAIN}."]
    assert sorted(r["Failover"] for r in failover) == ["PRIMARY", "SECONDARY"]
    by_id = {c["Id"]: c["HealthCheckConfig"]["FullyQualifiedDomainName"] for c in checks}
    for record in failover:
        region = PRIMARY if record["Failover"] == "PRIMARY" else SECONDARY
        assert by_id[record["HealthCheckId"]] == f"{region}.{DOMAIN}"
        # A CNAME with the configured TTL (an alias would take API Gateway's 60 s whatever dns.ttl said), to the
        # regional domain name of api.<domain> in that region.
        assert record["Type"] == "CNAME" and record["TTL"] == cfg.dns.ttl and "AliasTarget" not in record
        (value,) = record["ResourceRecords"]
        regional_names = {d["domainName"]: d["regionalDomainName"]
                          for d in boto3.client("apigateway", region).get_domain_names()["items"]}
        assert value["Value"] == regional_names[f"api.{DOMAIN}"]
    regional = {r["Name"] for r in records(zone_id) if r["Type"] == "A" and "Failover" not in r}
    assert regional == {f"{PRIMARY}.{DOMAIN}.", f"{SECONDARY}.{DOMAIN}."}

    for region in (PRIMARY, SECONDARY):
        acm = boto3.client("acm", region)
        (summary,) = acm.list_certificates()["CertificateSummaryList"]
        assert summary["Status"] == "ISSUED"
        api = boto3.client("apigateway", region)
        domains = {d["domainName"]: d for d in api.get_domain_names()["items"]}
        assert set(domains) == {f"api.{DOMAIN}", f"{region}.{DOMAIN}"}
        for domain in domains.values():
            assert domain["securityPolicy"] == "TLS_1_2"
            assert domain["endpointConfiguration"]["types"] == ["REGIONAL"]
            assert domain["regionalCertificateArn"] == summary["CertificateArn"]
    # Validation CNAMEs are in the zone.
    assert any(r["Type"] == "CNAME" and "acm-validations" in r["ResourceRecords"][0]["Value"]
               for r in records(zone_id))


def test_site_and_identity_follow(deployed):
    cfg, zone_id, result = deployed
    iam = boto3.client("iam")
    (statement,) = iam.get_role_policy(RoleName="wildrydes-web-identity",
                                       PolicyName="wildrydes-web-identity")["PolicyDocument"]["Statement"]
    regions = {arn.split(":")[3] for arn in statement["Resource"]}
    assert regions == {PRIMARY, SECONDARY}
    # Sign-in and the site in both regions: a pool each (one role trusting both), a bucket each with the same
    # files, and CloudFront failing over from the primary's bucket to the secondary's.
    pools = {region: boto3.client("cognito-identity", region).list_identity_pools(MaxResults=10)["IdentityPools"]
             for region in (PRIMARY, SECONDARY)}
    pool_ids = {region: pool["IdentityPoolId"] for region, (pool,) in pools.items()}
    trust = iam.get_role(RoleName="wildrydes-web-identity")["Role"]["AssumeRolePolicyDocument"]["Statement"][0]
    assert sorted(trust["Condition"]["StringEquals"]["cognito-identity.amazonaws.com:aud"]) == sorted(
        pool_ids.values())
    buckets = sorted(b["Name"] for b in boto3.client("s3").list_buckets()["Buckets"] if "-site-" in b["Name"])
    assert [b.rsplit("-", 3)[-3:] for b in buckets] == [["ap", "southeast", "1"], ["eu", "west", "1"]]
    contents = {}
    for name in buckets:
        region = SECONDARY if name.endswith(SECONDARY) else PRIMARY
        s3 = boto3.client("s3", region)
        contents[region] = s3.get_object(Bucket=name, Key="config.js")["Body"].read()
        (statement_,) = json.loads(s3.get_bucket_policy(Bucket=name)["Policy"])["Statement"]
        assert statement_["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    assert contents[PRIMARY] == contents[SECONDARY]
    config_js = contents[PRIMARY].decode()
    page = json.loads(config_js.split("window.WILDRYDES_CONFIG = ", 1)[1].rstrip().rstrip(";"))
    assert page["regions"] == [PRIMARY, SECONDARY] and page["identityPools"] == pool_ids
    assert set(page["apiUrls"]) == {PRIMARY, SECONDARY} and page["apiUrl"] == f"https://api.{DOMAIN}/"
    cloudfront = boto3.client("cloudfront")
    (item,) = cloudfront.list_distributions()["DistributionList"]["Items"]
    distribution = cloudfront.get_distribution_config(Id=item["Id"])["DistributionConfig"]
    (group,) = distribution["OriginGroups"]["Items"]
    assert distribution["DefaultCacheBehavior"]["TargetOriginId"] == group["Id"]
    assert sorted(group["FailoverCriteria"]["StatusCodes"]["Items"]) == [403, 404, 500, 502, 503, 504]
    origins = {o["Id"]: o for o in distribution["Origins"]["Items"]}
    assert [origins[m["OriginId"]]["DomainName"].split(".s3.")[0] for m in group["Members"]["Items"]] == \
        sorted(buckets, key=lambda b: not b.endswith(PRIMARY))
    assert all(o["OriginAccessControlId"] for o in origins.values())
    for statement_arn in (json.loads(boto3.client("s3", PRIMARY).get_bucket_policy(Bucket=b)["Policy"])[
            "Statement"][0]["Condition"]["StringEquals"]["AWS:SourceArn"] for b in buckets):
        assert statement_arn == item["ARN"]
    # CORS allows the site's origin (CloudFront) rather than any.
    env = boto3.client("lambda", SECONDARY).get_function_configuration(FunctionName="wildrydes-health")[
        "Environment"]["Variables"]
    assert env["ALLOWED_ORIGIN"].startswith("https://") and env["ALLOWED_ORIGIN"].endswith(".cloudfront.net")


def test_second_replicate_changes_nothing(deployed, make_context):
    cfg, _, _ = deployed
    ctx = make_context(module="replicate", cfg=cfg)
    replicate.run(ctx)
    from wildrydes_mr.aws import is_read_operation
    assert ctx.aws.calls.mutating == 0, [op for op in ctx.aws.calls.operations
                                         if not is_read_operation(op.split(":")[1])]
    assert {a.verb for a in ctx.actions} == {"nothing"}


def test_sequential_and_parallel_runs_make_the_same_plan(make_context, zone_config):
    cfg, _ = zone_config
    build_api.run(make_context(cfg=cfg))
    planned = make_context(module="replicate", cfg=cfg, dry_run=True)
    replicate.run(planned, parallel=False)
    assert planned.aws.calls.mutating == 0
    kinds = sorted(a.kind for a in planned.actions if a.verb == "create")
    assert kinds.count("acm-certificate") == 2 and kinds.count("route53-health-check") == 2
    assert kinds.count("dynamodb-replica") == 1 and kinds.count("apigw-domain") == 4


def test_config_that_cannot_meet_its_rto_is_refused_before_anything(make_context, zone_config):
    _, zone_id = zone_config
    cfg = config_module.parse(
        f"target: aws\ndns: {{hosted_zone_id: {zone_id!r}, health_check: {{interval: 30, failure_threshold: 10}}}}\n"
        "objectives: {rto_seconds: 60}\n", "slow.yaml")
    ctx = make_context(module="replicate", cfg=cfg)
    with pytest.raises(ConfigError, match="predicts a worst-case failover of 400 s") as raised:
        replicate.run(ctx)
    assert raised.value.exit_code == 2
    assert ctx.aws.calls.mutating == 0 and ctx.aws.calls.read == 0


def test_cleanup_removes_replicate_resources_but_not_a_borrowed_zone(deployed, make_context):
    cfg, zone_id, _ = deployed
    result = cleanup.run(make_context(module="cleanup", cfg=cfg))
    assert result["remaining"] == [] and result["failures"] == []
    assert boto3.client("route53").list_health_checks()["HealthChecks"] == []
    assert sorted(r["Type"] for r in records(zone_id)) == ["NS", "SOA"]
    for region in (PRIMARY, SECONDARY):
        assert boto3.client("apigateway", region).get_domain_names()["items"] == []
        assert boto3.client("acm", region).list_certificates()["CertificateSummaryList"] == []
        assert boto3.client("dynamodb", region).list_tables()["TableNames"] == []
        assert boto3.client("lambda", region).list_functions()["Functions"] == []
    # The zone was given in the config, not made by the tool: it stays.
    assert boto3.client("route53").get_hosted_zone(Id=zone_id)["HostedZone"]["Name"] == f"{DOMAIN}."


def test_dry_run_before_the_zone_exists_asks_aws_nothing_it_would_refuse(make_context):
    # On the local target the zone is made by replicate itself; a dry run before that must not look anything
    # up by the zone id it does not have yet (AWS refuses "(known after create)" as a HostedZoneId).
    cfg = config_module.parse("target: local\n", "t.yaml")
    boto3.client("iam").create_user(UserName=LOCAL_OPERATOR_USER)  # what the local cloud starts with
    build_api.run(dataclasses.replace(make_context(cfg=cfg), target=local_target("", {})))
    planned = dataclasses.replace(make_context(module="replicate", cfg=cfg, dry_run=True),
                                  target=local_target("", {}))
    zone_ids = []
    planned.aws.events.register("provide-client-params.route-53", lambda params=None, **_: zone_ids.append(
        params.get("HostedZoneId")))
    replicate.run(planned)
    assert not [z for z in zone_ids if z and PLACEHOLDER in z]
    assert planned.aws.calls.mutating == 0
    assert {a.verb for a in planned.actions if a.kind.startswith("route53")} == {"create"}
