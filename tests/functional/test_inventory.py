"""inventory on moto in-process: after a full deploy it finds exactly what the state file records and nothing
that is someone else's; after cleanup it finds nothing; resources the state file does not know are found by tag
(or by the one name only this deployment can have) and a sweep deletes them in the inventory's order; a second
deployment in the same account is never mixed in."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import boto3
import pytest
from botocore.exceptions import ClientError
from fidelity import install as fidelity
from function_code import zipped

from wildrydes_mr import config as config_module
from wildrydes_mr import state as state_module
from wildrydes_mr.engine import teardown
from wildrydes_mr.errors import AwsError
from wildrydes_mr.inventory import DELETE_ORDER, find_deployment_resources
from wildrydes_mr.resources import DELETERS, route53
from wildrydes_mr.workflows import build_api, build_ui, cleanup, replicate

PRIMARY, SECONDARY, THIRD = "eu-west-1", "ap-southeast-1", "us-east-1"
SCANNED = (PRIMARY, SECONDARY, THIRD)
DOMAIN = "wildrydes.example.com"
OURS = {"Key": "wildrydes:deployment", "Value": "wildrydes"}
IAM_PROPAGATION_SECONDS = 30
THEIRS = {"Key": "wildrydes:deployment", "Value": "wildrydes2"}

# State-file kinds that are parts of another resource, not resources of their own: the site's objects go with
# the bucket (delete_bucket empties it), the identity pool's principal-tag map goes with the pool (its deleter
# does nothing), as does the table's point-in-time recovery with its table. The inventory does not list them.
# It does list a pool's role mapping (GetIdentityPoolRoles, which moto lacks and the behaviour layer answers).
SUB_PARTS = {"site-files", "cognito-principal-tags", "dynamodb-pitr"}
# What a deleter needs besides kind, region and name, per kind (read from the delete functions).
DELETER_IDS = {"rest-api": ["id"], "cognito-identity-pool": ["id"], "cloudfront-distribution": ["id"],
               "cloudfront-response-headers-policy": ["id"],
               "cloudfront-oac": ["id"], "route53-health-check": ["id"], "acm-certificate": ["arn"],
               "route53-record": ["zone_id"], "dynamodb-replica": ["primary_region", "emulated"],
               "route53-zone": ["id", "created"]}


def zone_and_config(domain: str = DOMAIN, extra: str = ""):
    zone = boto3.client("route53").create_hosted_zone(Name=domain, CallerReference=f"test-{domain}")["HostedZone"]
    zone_id = route53.zone_id_only(zone["Id"])
    cfg = config_module.parse(f"target: aws\n{extra}dns: {{domain: {domain}, hosted_zone_id: {zone_id!r}}}\n",
                              "t.yaml")
    return cfg, zone_id


def context_for(make_context, cfg, state_path: Path, module: str = "build-api"):
    """A Context like make_context's (moto, instant clock, quiet reporter) on its own state file: make_context
    keeps one state file per test, and a state file belongs to one deployment."""
    base = make_context()
    return dataclasses.replace(base, config=cfg, module=module, actions=[], outputs={},
                               state=state_module.load(state_path, cfg.deployment, cfg.target))


def full_deploy(build) -> None:
    """build(module) -> Context; runs modules 1-3 like the CLI does, one fresh Context per command."""
    build_api.run(build("build-api"))
    build_ui.run(build("build-ui"))
    replicate.run(build("replicate"))


def keys(records) -> set[tuple[str, str, str]]:
    return {(r["kind"], r["region"], r["name"]) for r in records}


def make_function(region: str, name: str, tags: dict[str, str] | None = None) -> None:
    role = boto3.client("iam").get_role(RoleName="other-role")["Role"]["Arn"]
    fidelity.sleep(IAM_PROPAGATION_SECONDS)  # as on AWS, a role just made cannot be assumed by Lambda at once
    boto3.client("lambda", region).create_function(
        FunctionName=name, Runtime="python3.12", Role=role, Handler="main.handler",
        Code={"ZipFile": zipped({"main.py": "def handler(event, context):\n    return 1\n"})}, Tags=tags or {})


def make_table(region: str, name: str, tags: list[dict[str, str]] | None = None) -> None:
    boto3.client("dynamodb", region).create_table(
        TableName=name, KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST",
        **({"Tags": tags} if tags else {}))


# --- someone else's resources in the same account ---------------------------------------------------------

def make_unrelated(zone_id: str) -> dict[str, str]:
    """Resources that are not this deployment's, several of them deliberately close to ours."""
    iam = boto3.client("iam")
    trust = '{"Version": "2012-10-17", "Statement": []}'
    iam.create_role(RoleName="other-role", AssumeRolePolicyDocument=trust)
    iam.create_role(RoleName="wildrydesx-role", AssumeRolePolicyDocument=trust, Tags=[OURS])  # no "-" after
    iam.create_role(RoleName="wildrydes-ci", AssumeRolePolicyDocument=trust)  # our prefix, not our tag
    # Our table's name, in a region we scan, tagged as a replica of our primary, but another deployment's.
    make_table(THIRD, "SXRTickets", [THEIRS, {"Key": "wildrydes:replica-of", "Value": PRIMARY}])
    make_table(PRIMARY, "other-table")
    make_function(PRIMARY, "wildrydes2-thing", {THEIRS["Key"]: THEIRS["Value"]})
    make_function(PRIMARY, "other-fn")
    boto3.client("logs", PRIMARY).create_log_group(logGroupName="/aws/lambda/wildrydes-unrelated")
    s3 = boto3.client("s3", PRIMARY)
    for bucket in ("someone-elses-bucket", "wildrydes-site-backup"):  # the second: our prefix, not our name
        s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": PRIMARY})
    # Same names as ours, untagged: the tool itself does not take them for its own either.
    api_id = boto3.client("apigateway", SECONDARY).create_rest_api(name="wildrydes-tickets")["id"]
    pool_id = boto3.client("cognito-identity", PRIMARY).create_identity_pool(
        IdentityPoolName="wildrydes_tickets", AllowUnauthenticatedIdentities=False)["IdentityPoolId"]
    certificate = boto3.client("acm", THIRD).request_certificate(
        DomainName=f"api.{DOMAIN}", ValidationMethod="DNS")["CertificateArn"]
    cloudfront = boto3.client("cloudfront")
    oac = cloudfront.create_origin_access_control(OriginAccessControlConfig={
        "Name": "wildrydes2-site", "SigningProtocol": "sigv4", "SigningBehavior": "always",
        "OriginAccessControlOriginType": "s3"})["OriginAccessControl"]["Id"]
    r53 = boto3.client("route53")
    check = r53.create_health_check(CallerReference="unrelated", HealthCheckConfig={
        "Type": "HTTPS", "FullyQualifiedDomainName": "status.example.org", "Port": 443, "ResourcePath": "/health"})[
        "HealthCheck"]["Id"]
    r53.change_tags_for_resource(ResourceType="healthcheck", ResourceId=check, AddTags=[
        {"Key": "Name", "Value": f"wildrydes-{PRIMARY}"}, THEIRS])
    # A zone with our comment but without our tag, and one with our tag but not made by the tool.
    lookalike = route53.zone_id_only(r53.create_hosted_zone(
        Name="lookalike.example.com", CallerReference="lookalike",
        HostedZoneConfig={"Comment": "wildrydes:wildrydes", "PrivateZone": False})["HostedZone"]["Id"])
    tagged = route53.zone_id_only(r53.create_hosted_zone(Name="tagged.example.com", CallerReference="tagged")[
        "HostedZone"]["Id"])
    r53.change_tags_for_resource(ResourceType="hostedzone", ResourceId=tagged, AddTags=[OURS])
    # Records of someone else in the zone we borrow, two of them under our names: a TXT beside our regional alias
    # (a TXT could not sit beside the failover name, which is a CNAME: Route 53 refuses that) and a CNAME below
    # the failover name.
    r53.change_resource_record_sets(HostedZoneId=zone_id, ChangeBatch={"Changes": [
        {"Action": "CREATE", "ResourceRecordSet": record} for record in (
            {"Name": f"www.{DOMAIN}", "Type": "A", "TTL": 60, "ResourceRecords": [{"Value": "192.0.2.1"}]},
            {"Name": f"{PRIMARY}.{DOMAIN}", "Type": "TXT", "TTL": 60, "ResourceRecords": [{"Value": '"hello"'}]},
            {"Name": f"_other.api.{DOMAIN}", "Type": "CNAME", "TTL": 60,
             "ResourceRecords": [{"Value": "_x.acm-validations.aws."}]})]})
    return {"api_id": api_id, "pool_id": pool_id, "certificate": certificate, "oac": oac, "check": check,
            "lookalike": lookalike, "tagged": tagged, "zone_id": zone_id}


UNRELATED_NAMES = {"other-role", "wildrydesx-role", "wildrydes-ci", "other-table", "wildrydes2-thing", "other-fn",
                   "/aws/lambda/wildrydes-unrelated", "someone-elses-bucket", "wildrydes-site-backup",
                   "wildrydes2-site", "lookalike.example.com", "tagged.example.com", f"www.{DOMAIN}. A",
                   f"{PRIMARY}.{DOMAIN}. TXT", f"_other.api.{DOMAIN}. CNAME"}


def assert_unrelated_exist(ids: dict[str, str]) -> None:
    iam = boto3.client("iam")
    for role in ("other-role", "wildrydesx-role", "wildrydes-ci"):
        iam.get_role(RoleName=role)
    assert boto3.client("dynamodb", THIRD).describe_table(TableName="SXRTickets")["Table"]
    assert boto3.client("dynamodb", PRIMARY).describe_table(TableName="other-table")["Table"]
    for function in ("wildrydes2-thing", "other-fn"):
        boto3.client("lambda", PRIMARY).get_function(FunctionName=function)
    assert boto3.client("logs", PRIMARY).describe_log_groups(
        logGroupNamePrefix="/aws/lambda/wildrydes-unrelated")["logGroups"]
    buckets = {b["Name"] for b in boto3.client("s3").list_buckets()["Buckets"]}
    assert {"someone-elses-bucket", "wildrydes-site-backup"} <= buckets
    boto3.client("apigateway", SECONDARY).get_rest_api(restApiId=ids["api_id"])
    boto3.client("cognito-identity", PRIMARY).describe_identity_pool(IdentityPoolId=ids["pool_id"])
    boto3.client("acm", THIRD).describe_certificate(CertificateArn=ids["certificate"])
    boto3.client("cloudfront").get_origin_access_control(Id=ids["oac"])
    r53 = boto3.client("route53")
    r53.get_health_check(HealthCheckId=ids["check"])
    for zone in ("lookalike", "tagged", "zone_id"):
        r53.get_hosted_zone(Id=ids[zone])
    names = {f"{r['Name']} {r['Type']}" for r in r53.list_resource_record_sets(HostedZoneId=ids["zone_id"])[
        "ResourceRecordSets"]}
    assert {f"www.{DOMAIN}. A", f"{PRIMARY}.{DOMAIN}. TXT", f"_other.api.{DOMAIN}. CNAME"} <= names


def assert_none_unrelated(found) -> None:
    names = {r["name"] for r in found}
    assert not names & UNRELATED_NAMES, names & UNRELATED_NAMES
    assert not [r for r in found if r["region"] == THIRD]
    assert not [r for r in found if "other" in r["name"] or "wildrydes2" in r["name"]]


@pytest.fixture
def deployed(make_context, tmp_path):
    """Someone else's resources first, then a full deploy of "wildrydes" into the same account."""
    cfg, zone_id = zone_and_config()
    unrelated = make_unrelated(zone_id)
    full_deploy(lambda module: make_context(module=module, cfg=cfg))
    return cfg, unrelated


# --- tests ---------------------------------------------------------------------------------------------------

def test_finds_what_the_state_file_records_and_nothing_after_cleanup(deployed, make_context):
    cfg, unrelated = deployed
    ctx = make_context(module="cleanup", cfg=cfg)
    found = find_deployment_resources(ctx, SCANNED)

    recorded = keys(ctx.state.resources.values())
    assert keys(found) == {k for k in recorded if k[0] not in SUB_PARTS}
    pools = {r["region"]: r["id"] for r in ctx.state.resources.values() if r["kind"] == "cognito-identity-pool"}
    assert set(pools) == {PRIMARY, SECONDARY}
    assert recorded - keys(found) == {("dynamodb-pitr", PRIMARY, "SXRTickets")} | {
        ("site-files", region, build_ui.bucket_name(ctx, region)) for region in pools} | {
        ("cognito-principal-tags", region, pool_id) for region, pool_id in pools.items()}
    assert len(found) == len(keys(found))  # no duplicates
    assert_none_unrelated(found)

    # Each record carries what its deleter needs, with the same values the state file holds.
    for record in found:
        state_record = ctx.state.get(record["kind"], record["region"], record["name"])
        for key in DELETER_IDS.get(record["kind"], []):
            assert record[key] == state_record[key], (record, key)
        if record["kind"] == "route53-record":
            assert {k: record["record"].get(k) for k in ("Name", "Type", "SetIdentifier")} == {
                k: state_record["record"].get(k) for k in ("Name", "Type", "SetIdentifier")}

    # Found by tag where the service has tags; by name where it has none (or for sub-resources of ours).
    by_name = {r["kind"] for r in found if r["found_by"] == "name"}
    # A global-table replica is listed by the table it replicates (AWS copies no tags to replicas).
    assert by_name == {"route53-record", "apigw-base-path", "lambda-permission", "cloudfront-oac",
                       "s3-bucket-policy", "dynamodb-replica", "cloudfront-response-headers-policy",
                       "cognito-pool-roles"}
    assert {r["found_by"] for r in found} == {"tag", "name"}

    # Dependents first: the list is sorted by DELETE_ORDER.
    ranks = [DELETE_ORDER.index(r["kind"]) for r in found]
    assert ranks == sorted(ranks)
    # The replica AWS made (global tables, through the AWS path): found in the primary's Replicas list.
    assert [r for r in found if r["kind"] == "dynamodb-replica"] == [{
        "kind": "dynamodb-replica", "region": SECONDARY, "name": "SXRTickets", "found_by": "name",
        "primary_region": PRIMARY, "emulated": False}]

    # After cleanup nothing of ours is left, and nothing of anyone else's was touched.
    result = cleanup.run(make_context(module="cleanup", cfg=cfg))
    assert result["remaining"] == [] and result["failures"] == []
    assert find_deployment_resources(make_context(module="cleanup", cfg=cfg), SCANNED) == []
    assert_unrelated_exist(unrelated)


def test_unknown_resources_are_found_and_a_sweep_deletes_everything_in_order(deployed, make_context, tmp_path):
    cfg, unrelated = deployed
    # Resources of this deployment the state file does not know: tagged ones, a site bucket left untagged by a
    # crash between CreateBucket and PutBucketTagging, and a zone the tool created (recorded elsewhere).
    make_table(SECONDARY, "wildrydes-stray", [OURS])
    make_function(PRIMARY, "wildrydes-extra", {OURS["Key"]: OURS["Value"]})
    ctx = make_context(module="cleanup", cfg=cfg)
    # (Both deployed regions have their site buckets: the stray one is in the third region scanned.)
    untagged_bucket = build_ui.bucket_name(ctx, THIRD)
    boto3.client("s3", THIRD).create_bucket(Bucket=untagged_bucket)
    elsewhere = context_for(make_context, cfg, tmp_path / "elsewhere.json", module="replicate")
    zone_id = route53.HostedZone("stray.example.com", create_when_missing=True).create(elsewhere)["id"]

    found = find_deployment_resources(ctx, SCANNED)
    unknown = {(r["kind"], r["region"], r["name"]): r for r in found
               if ctx.state.get(r["kind"], r["region"], r["name"]) is None}
    assert {k: r["found_by"] for k, r in unknown.items()} == {
        ("dynamodb-table", SECONDARY, "wildrydes-stray"): "tag",
        ("lambda-function", PRIMARY, "wildrydes-extra"): "tag",
        ("s3-bucket", THIRD, untagged_bucket): "name",
        ("route53-zone", "global", "stray.example.com"): "tag"}
    assert unknown[("route53-zone", "global", "stray.example.com")]["created"] is True
    assert unknown[("route53-zone", "global", "stray.example.com")]["id"] == zone_id
    assert_none_unrelated([r for r in found if r["name"] != untagged_bucket])

    # The sweep: no state needed, only the inventory's records in its order.
    deleted, failures = teardown(ctx, found, DELETERS)
    assert failures == [] and len(deleted) == len(found)
    assert find_deployment_resources(make_context(module="cleanup", cfg=cfg), SCANNED) == []
    assert_unrelated_exist(unrelated)
    assert sorted(r["Type"] for r in boto3.client("route53").list_resource_record_sets(
        HostedZoneId=unrelated["zone_id"])["ResourceRecordSets"]) == ["A", "CNAME", "NS", "SOA", "TXT"]


def test_a_second_deployment_in_the_same_account_is_never_listed(make_context, tmp_path):
    cfg, zone_id = zone_and_config()
    # "other" shares the account, a region and even the hosted zone (under a subdomain of ours). Its regions
    # differ from ours so that its failover records' set identifiers ("<region>-primary") do too: moto's DELETE
    # of a record set with a SetIdentifier removes every record set with that identifier, whatever its name.
    other_cfg = config_module.parse(
        f"deployment: other\ntarget: aws\nregions: {{primary: {THIRD}, secondary: {PRIMARY}}}\n"
        f"api: {{table: OtherTickets}}\ndns: {{domain: other.{DOMAIN}, hosted_zone_id: {zone_id!r}}}\n",
        "other.yaml")
    other_state = tmp_path / "other.json"
    full_deploy(lambda module: make_context(module=module, cfg=cfg))
    full_deploy(lambda module: context_for(make_context, other_cfg, other_state, module))

    ours_ctx = make_context(module="cleanup", cfg=cfg)
    other_ctx = context_for(make_context, other_cfg, other_state, "cleanup")
    ours = find_deployment_resources(ours_ctx, SCANNED)
    theirs = find_deployment_resources(other_ctx, SCANNED)
    assert keys(ours) == {k for k in keys(ours_ctx.state.resources.values()) if k[0] not in SUB_PARTS}
    assert keys(theirs) == {k for k in keys(other_ctx.state.resources.values()) if k[0] not in SUB_PARTS}
    assert not keys(ours) & keys(theirs)
    assert not [r for r in ours if "other" in r["name"].lower()]
    # (A pool's role mapping is named by the pool's id.)
    assert all("other" in r["name"].lower() for r in theirs if r["kind"] != "cognito-pool-roles"), keys(theirs)

    # A deployment whose name is a prefix of ours ("wild" vs "wildrydes-...") owns nothing here.
    wild = dataclasses.replace(cfg, deployment="wild")
    assert find_deployment_resources(context_for(make_context, wild, tmp_path / "wild.json"), SCANNED) == []

    # Removing one deployment leaves the other whole.
    assert cleanup.run(other_ctx)["failures"] == []
    assert find_deployment_resources(context_for(make_context, other_cfg, other_state, "cleanup"), SCANNED) == []
    assert keys(find_deployment_resources(make_context(module="cleanup", cfg=cfg), SCANNED)) == keys(ours)


def test_a_resource_vanishing_during_the_scan_counts_as_absent(make_context):
    boto3.client("iam").create_role(RoleName="other-role",
                                    AssumeRolePolicyDocument='{"Version": "2012-10-17", "Statement": []}')
    make_function(PRIMARY, "wildrydes-gone", {OURS["Key"]: OURS["Value"]})
    make_function(PRIMARY, "wildrydes-kept", {OURS["Key"]: OURS["Value"]})
    make_table(PRIMARY, "wildrydes-gone", [OURS])
    ctx = make_context(module="cleanup")

    # Delete each "-gone" resource right after it is listed and before its tags are read.
    vanished = []

    def vanish_function(params, **_):
        if params.get("Resource", "").endswith(":wildrydes-gone"):
            boto3.client("lambda", PRIMARY).delete_function(FunctionName="wildrydes-gone")
            vanished.append("function")

    def vanish_table(params, **_):
        if params.get("ResourceArn", "").endswith("/wildrydes-gone"):
            boto3.client("dynamodb", PRIMARY).delete_table(TableName="wildrydes-gone")
            vanished.append("table")
    ctx.aws.client("lambda", PRIMARY).meta.events.register("before-parameter-build.lambda.ListTags",
                                                           vanish_function)
    ctx.aws.client("dynamodb", PRIMARY).meta.events.register(
        "before-parameter-build.dynamodb.ListTagsOfResource", vanish_table)

    found = find_deployment_resources(ctx, [PRIMARY])
    assert sorted(vanished) == ["function", "table"]
    assert keys(found) == {("lambda-function", PRIMARY, "wildrydes-kept")}


def test_a_failing_listing_is_one_message_naming_the_region(make_context):
    ctx = make_context(module="cleanup")

    def deny(**_):
        raise ClientError({"Error": {"Code": "AccessDeniedException", "Message": "no"}}, "ListFunctions")
    ctx.aws.client("lambda", SECONDARY).meta.events.register("before-call.lambda.ListFunctions", deny)
    with pytest.raises(AwsError, match=f"inventory of deployment wildrydes in {SECONDARY}: AccessDeniedException"):
        find_deployment_resources(ctx, [PRIMARY, SECONDARY])
