"""Each rule of the AWS behaviour layer fires: called directly with boto3 on moto in-process, it answers as AWS
would (and as moto alone would not), and stops once its time has passed on the simulated clock."""

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

REGION, OTHER = "eu-west-1", "ap-southeast-1"


@pytest.fixture
def layer(aws_behaviour):
    with mock_aws():
        yield aws_behaviour.layer


def code(exc: pytest.ExceptionInfo) -> str:
    return exc.value.response["Error"]["Code"]


def fired(layer, name: str) -> int:
    return layer.fired_counts().get(name, 0)


def test_catalogue_rules_are_named_sourced_and_unique():
    rules = catalogue.all_rules()
    assert len({r.name for r in rules}) == len(rules) >= 15
    assert all(r.summary and r.source and r.operations for r in rules)


# --- ACM --------------------------------------------------------------------------------------------------

def request(acm, domain="api.example.com", token=None, **extra):
    return acm.request_certificate(DomainName=domain, ValidationMethod="DNS",
                                   **({"IdempotencyToken": token} if token else {}), **extra)["CertificateArn"]


def test_acm_common_name_over_64_octets_is_refused(layer):
    acm = boto3.client("acm", REGION)
    with pytest.raises(ClientError) as refused:
        request(acm, "api." + "a" * 57 + ".com")  # 65
    assert code(refused) == "ValidationException" and fired(layer, "acm-common-name-64") == 1
    request(acm, "api." + "a" * 56 + ".com")  # 64: accepted


def test_acm_token_reused_within_the_hour_returns_the_deleted_certificate(layer):
    acm = boto3.client("acm", REGION)
    first = request(acm, token="deploy1")
    fidelity.sleep(30)
    acm.delete_certificate(CertificateArn=first)
    assert request(acm, token="deploy1") == first  # gone, and handed back anyway
    assert fired(layer, "acm-idempotency-token-reuse") == 1
    assert request(acm, token="deploy2") != first


def test_acm_new_certificate_is_not_describable_then_lacks_its_records_then_waits_for_dns(layer):
    acm = boto3.client("acm", REGION)
    arn = request(acm)
    with pytest.raises(ClientError) as missing:
        acm.describe_certificate(CertificateArn=arn)
    assert code(missing) == "ResourceNotFoundException"
    fidelity.sleep(6)
    options = acm.describe_certificate(CertificateArn=arn)["Certificate"]["DomainValidationOptions"]
    assert options and not any("ResourceRecord" in o for o in options)
    fidelity.sleep(300)
    certificate = acm.describe_certificate(CertificateArn=arn)["Certificate"]
    assert certificate["Status"] == "PENDING_VALIDATION"  # no validation CNAME in any zone yet
    record = certificate["DomainValidationOptions"][0]["ResourceRecord"]
    r53 = boto3.client("route53")
    zone = r53.create_hosted_zone(Name="example.com", CallerReference="z")["HostedZone"]["Id"]
    r53.change_resource_record_sets(HostedZoneId=zone, ChangeBatch={"Changes": [{"Action": "UPSERT",
        "ResourceRecordSet": {"Name": record["Name"], "Type": "CNAME", "TTL": 300,
                              "ResourceRecords": [{"Value": record["Value"]}]}}]})
    assert acm.describe_certificate(CertificateArn=arn)["Certificate"]["Status"] == "ISSUED"
    for name in ("acm-describe-after-request", "acm-validation-records-later", "acm-validation-needs-dns"):
        assert fired(layer, name) >= 1, name


def test_acm_certificate_stays_in_use_after_its_domain_is_deleted(layer):
    acm, apigw = boto3.client("acm", REGION), boto3.client("apigateway", REGION)
    arn = request(acm)
    apigw.create_domain_name(domainName="api.example.com", regionalCertificateArn=arn,
                             endpointConfiguration={"types": ["REGIONAL"]})
    fidelity.sleep(30)
    apigw.delete_domain_name(domainName="api.example.com")
    assert acm.describe_certificate(CertificateArn=arn)["Certificate"]["InUseBy"]
    with pytest.raises(ClientError) as held:
        acm.delete_certificate(CertificateArn=arn)
    assert code(held) == "ResourceInUseException"
    fidelity.sleep(600)
    assert not acm.describe_certificate(CertificateArn=arn)["Certificate"].get("InUseBy")
    acm.delete_certificate(CertificateArn=arn)


# --- API Gateway ------------------------------------------------------------------------------------------

def test_apigateway_domain_and_deployment_calls_are_rate_limited(layer):
    apigw = boto3.client("apigateway", REGION)
    arn = request(boto3.client("acm", REGION))
    apigw.create_domain_name(domainName="a.example.com", regionalCertificateArn=arn,
                             endpointConfiguration={"types": ["REGIONAL"]})
    with pytest.raises(ClientError) as throttled:
        boto3.client("apigateway", OTHER).create_domain_name(  # per account: another region does not help
            domainName="b.example.com", regionalCertificateArn=arn, endpointConfiguration={"types": ["REGIONAL"]})
    assert code(throttled) == "TooManyRequestsException"
    assert throttled.value.response["ResponseMetadata"]["HTTPStatusCode"] == 429
    fidelity.sleep(30)
    apigw.create_domain_name(domainName="b.example.com", regionalCertificateArn=arn,
                             endpointConfiguration={"types": ["REGIONAL"]})
    api = apigw.create_rest_api(name="x")["id"]
    root = apigw.get_resources(restApiId=api)["items"][0]["id"]
    apigw.put_method(restApiId=api, resourceId=root, httpMethod="GET", authorizationType="NONE")
    apigw.put_integration(restApiId=api, resourceId=root, httpMethod="GET", type="MOCK")
    apigw.create_deployment(restApiId=api, stageName="one")
    with pytest.raises(ClientError):
        apigw.create_deployment(restApiId=api, stageName="two")
    fidelity.sleep(5)
    apigw.create_deployment(restApiId=api, stageName="two")
    assert fired(layer, "apigateway-rate-limits") == 2


# --- DynamoDB ---------------------------------------------------------------------------------------------

def make_table(region=REGION):
    boto3.client("dynamodb", region).create_table(
        TableName="T1", KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"})


def enable_pitr(region=REGION):
    boto3.client("dynamodb", region).update_continuous_backups(
        TableName="T1", PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True})


def test_dynamodb_pitr_is_unavailable_right_after_create(layer):
    make_table()
    with pytest.raises(ClientError) as unavailable:
        enable_pitr()
    assert code(unavailable) == "ContinuousBackupsUnavailableException"
    fidelity.sleep(20)
    enable_pitr()


def test_dynamodb_global_table_replica_appears_late_then_creating_then_active(layer):
    make_table()
    ddb = boto3.client("dynamodb", REGION)
    answer = ddb.update_table(TableName="T1", ReplicaUpdates=[{"Create": {"RegionName": OTHER}}])
    assert answer["TableDescription"]["Replicas"] == [{"RegionName": OTHER, "ReplicaStatus": "CREATING"}]
    assert "Replicas" not in ddb.describe_table(TableName="T1")["Table"]  # eventually consistent
    fidelity.sleep(5)
    assert ddb.describe_table(TableName="T1")["Table"]["Replicas"][0]["ReplicaStatus"] == "CREATING"
    fidelity.sleep(180)
    assert ddb.describe_table(TableName="T1")["Table"]["Replicas"][0]["ReplicaStatus"] == "ACTIVE"
    # The replica is a table in its region, without the source's point-in-time recovery (per replica).
    other = boto3.client("dynamodb", OTHER)
    assert other.describe_table(TableName="T1")["Table"]["Replicas"] == [
        {"RegionName": REGION, "ReplicaStatus": "ACTIVE"}]
    pitr = other.describe_continuous_backups(TableName="T1")["ContinuousBackupsDescription"]
    assert pitr["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "DISABLED"
    with pytest.raises(ClientError):
        enable_pitr(OTHER)  # not at once: the new replica's backups are not available yet either
    fidelity.sleep(20)
    enable_pitr(OTHER)
    catalogue.rule(layer, "dynamodb-global-table-replicas").force_status(layer, REGION, "T1", OTHER,
                                                                         "REGION_DISABLED")
    assert ddb.describe_table(TableName="T1")["Table"]["Replicas"][0]["ReplicaStatus"] == "REGION_DISABLED"
    ddb.update_table(TableName="T1", ReplicaUpdates=[{"Delete": {"RegionName": OTHER}}])
    assert ddb.describe_table(TableName="T1")["Table"]["Replicas"][0]["ReplicaStatus"] == "DELETING"
    fidelity.sleep(30)
    assert "Replicas" not in ddb.describe_table(TableName="T1")["Table"]
    assert other.list_tables()["TableNames"] == []
    assert fired(layer, "dynamodb-global-table-replicas") >= 2


# --- Lambda and IAM ---------------------------------------------------------------------------------------

def function_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("main.py", "def handler(event, context):\n    return 1\n")
    return buffer.getvalue()


def test_lambda_role_propagation_then_pending_then_update_in_progress(layer):
    role = boto3.client("iam").create_role(RoleName="fn-role", AssumeRolePolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": []}))["Role"]["Arn"]
    lam = boto3.client("lambda", REGION)

    def create():
        lam.create_function(FunctionName="fn", Runtime="python3.12", Role=role, Handler="main.handler",
                            Code={"ZipFile": function_zip()})
    with pytest.raises(ClientError, match="cannot be assumed by Lambda"):
        create()
    fidelity.sleep(8)
    create()
    assert lam.get_function_configuration(FunctionName="fn")["State"] == "Pending"
    with pytest.raises(ClientError) as conflict:
        lam.update_function_configuration(FunctionName="fn", Timeout=5)
    assert code(conflict) == "ResourceConflictException"
    fidelity.sleep(5)
    lam.update_function_configuration(FunctionName="fn", Timeout=5)
    assert lam.get_function(FunctionName="fn")["Configuration"]["LastUpdateStatus"] == "InProgress"
    with pytest.raises(ClientError, match="update is in progress"):
        lam.update_function_code(FunctionName="fn", ZipFile=function_zip())
    fidelity.sleep(5)
    assert lam.get_function_configuration(FunctionName="fn").get("LastUpdateStatus", "Successful") == "Successful"
    assert fired(layer, "iam-role-propagation") == 1 and fired(layer, "lambda-update-in-progress") >= 4


# --- Route 53 and CloudFront ------------------------------------------------------------------------------

def upsert(r53, zone, record, action="UPSERT"):
    return r53.change_resource_record_sets(HostedZoneId=zone, ChangeBatch={"Changes": [
        {"Action": action, "ResourceRecordSet": record}]})["ChangeInfo"]["Id"]


def test_route53_changes_propagate_with_unique_ids(layer):
    r53 = boto3.client("route53")
    zone = r53.create_hosted_zone(Name="example.com", CallerReference="z")["HostedZone"]["Id"]
    first = upsert(r53, zone, {"Name": "a.example.com", "Type": "A", "TTL": 60,
                               "ResourceRecords": [{"Value": "192.0.2.1"}]})
    second = upsert(r53, zone, {"Name": "b.example.com", "Type": "A", "TTL": 60,
                                "ResourceRecords": [{"Value": "192.0.2.2"}]})
    assert first != second
    assert r53.get_change(Id=first)["ChangeInfo"]["Status"] == "PENDING"
    fidelity.sleep(30)
    assert r53.get_change(Id=first)["ChangeInfo"]["Status"] == "INSYNC"


def test_route53_cname_may_not_share_its_name(layer):
    r53 = boto3.client("route53")
    zone = r53.create_hosted_zone(Name="example.com", CallerReference="z")["HostedZone"]["Id"]
    alias = {"Name": "api.example.com.", "Type": "A", "TTL": 60, "ResourceRecords": [{"Value": "192.0.2.1"}]}
    cname = {"Name": "api.example.com.", "Type": "CNAME", "TTL": 60, "ResourceRecords": [{"Value": "x.example.net"}]}
    upsert(r53, zone, alias)
    with pytest.raises(ClientError) as conflict:
        upsert(r53, zone, cname)
    assert code(conflict) == "InvalidChangeBatch"
    # Deleting the A record and adding the CNAME in one batch, in that order, is accepted.
    r53.change_resource_record_sets(HostedZoneId=zone, ChangeBatch={"Changes": [
        {"Action": "DELETE", "ResourceRecordSet": alias}, {"Action": "UPSERT", "ResourceRecordSet": cname}]})
    assert fired(layer, "route53-cname-exclusive") == 1


def test_route53_health_check_before_its_name_resolves_fails_for_the_negative_ttl(layer):
    r53 = boto3.client("route53")
    zone = r53.create_hosted_zone(Name="example.com", CallerReference="z")["HostedZone"]["Id"]

    def check(name):
        return r53.create_health_check(CallerReference=name, HealthCheckConfig={
            "Type": "HTTPS", "FullyQualifiedDomainName": name, "Port": 443, "ResourcePath": "/health",
            "RequestInterval": 10, "FailureThreshold": 3})["HealthCheck"]["Id"]

    def statuses(check_id):
        return {o["StatusReport"]["Status"].split(":")[0] for o in r53.get_health_check_status(
            HealthCheckId=check_id)["HealthCheckObservations"]}
    early = check("early.example.com")
    upsert(r53, zone, {"Name": "late.example.com", "Type": "A", "TTL": 60, "ResourceRecords": [{"Value": "192.0.2.1"}]})
    fidelity.sleep(30)
    late = check("late.example.com")
    assert statuses(early) == {"Failure"} and statuses(late) == {"Success"}
    fidelity.sleep(900)
    assert statuses(early) == {"Success"}
    assert fired(layer, "route53-health-check-nxdomain") == 1


def test_cloudfront_distribution_deploys_for_minutes(layer):
    cloudfront = boto3.client("cloudfront")
    distribution = cloudfront.create_distribution(DistributionConfig={
        "CallerReference": "d", "Comment": "", "Enabled": True,
        "Origins": {"Quantity": 1, "Items": [{"Id": "o", "DomainName": "b.s3.eu-west-1.amazonaws.com",
                                              "S3OriginConfig": {"OriginAccessIdentity": ""}}]},
        "DefaultCacheBehavior": {"TargetOriginId": "o", "ViewerProtocolPolicy": "redirect-to-https",
                                 "CachePolicyId": "658327ea-f89d-4fab-a63d-7e88639e58f6"}})["Distribution"]
    assert cloudfront.get_distribution(Id=distribution["Id"])["Distribution"]["Status"] == "InProgress"
    fidelity.sleep(240)
    assert cloudfront.get_distribution(Id=distribution["Id"])["Distribution"]["Status"] == "Deployed"


def site_config(target: str, groups: list[dict] | None = None, methods=("GET", "HEAD")) -> dict:
    origins = [{"Id": origin, "DomainName": f"{origin}.s3.eu-west-1.amazonaws.com", "OriginAccessControlId": "OAC1",
                "S3OriginConfig": {"OriginAccessIdentity": ""}} for origin in ("primary", "secondary")]
    return {"CallerReference": "d", "Comment": "", "Enabled": True, "Origins": {"Quantity": 2, "Items": origins},
            "OriginGroups": {"Quantity": len(groups or []), **({"Items": groups} if groups else {})},
            "DefaultCacheBehavior": {"TargetOriginId": target, "ViewerProtocolPolicy": "redirect-to-https",
                                     "CachePolicyId": "658327ea-f89d-4fab-a63d-7e88639e58f6",
                                     "AllowedMethods": {"Quantity": len(methods), "Items": list(methods)}}}


def group(codes=(403, 404, 500, 502, 503, 504), members=("primary", "secondary")) -> dict:
    return {"Id": "both", "FailoverCriteria": {"StatusCodes": {"Quantity": len(codes), "Items": list(codes)}},
            "Members": {"Quantity": len(members), "Items": [{"OriginId": m} for m in members]}}


def test_cloudfront_keeps_an_origin_group_target_and_the_access_control_moto_drops(layer):
    cloudfront = boto3.client("cloudfront")
    created = cloudfront.create_distribution(DistributionConfig=site_config("both", [group()]))["Distribution"]
    assert fired(layer, "cloudfront-distribution-configs") == 1
    config = cloudfront.get_distribution_config(Id=created["Id"])["DistributionConfig"]
    assert config["DefaultCacheBehavior"]["TargetOriginId"] == "both"
    assert [o["OriginAccessControlId"] for o in config["Origins"]["Items"]] == ["OAC1", "OAC1"]
    # The other rules still see moto's answer: the distribution deploys for minutes.
    assert cloudfront.get_distribution(Id=created["Id"])["Distribution"]["Status"] == "InProgress"
    layer._local.bypass = True  # what moto itself stored: the group's first member as the target
    try:
        raw = boto3.client("cloudfront").get_distribution_config(Id=created["Id"])["DistributionConfig"]
    finally:
        layer._local.bypass = False
    assert raw["DefaultCacheBehavior"]["TargetOriginId"] == "primary"


@pytest.mark.parametrize(("config", "error"), [
    (site_config("both", [group(members=("primary", "primary"))]), "InvalidArgument"),
    (site_config("both", [group(members=("primary", "nowhere"))]), "NoSuchOrigin"),
    (site_config("both", [group(codes=(429,))]), "InvalidArgument"),
    (site_config("both", [group()], methods=("GET", "HEAD", "OPTIONS", "PUT", "PATCH", "POST", "DELETE")),
     "InvalidArgument"),
    (site_config("nothing", [group()]), "NoSuchOrigin"),
], ids=["one-origin-twice", "unknown-member", "bad-status-code", "writes-through-a-group", "unknown-target"])
def test_cloudfront_refuses_origin_groups_as_cloudfront_does(layer, config, error):
    with pytest.raises(ClientError) as refused:
        boto3.client("cloudfront").create_distribution(DistributionConfig=config)
    assert code(refused) == error


def test_cognito_pool_mappings_are_held_for_pools_that_exist(layer):
    ci = boto3.client("cognito-identity", REGION)
    pool = ci.create_identity_pool(IdentityPoolName="p", AllowUnauthenticatedIdentities=False)["IdentityPoolId"]
    role = "arn:aws:iam::123456789012:role/web"
    ci.set_identity_pool_roles(IdentityPoolId=pool, Roles={"authenticated": role})
    assert ci.get_identity_pool_roles(IdentityPoolId=pool)["Roles"] == {"authenticated": role}
    request = {"IdentityPoolId": pool, "IdentityProviderName": "graph.facebook.com"}
    with pytest.raises(ClientError) as unset:
        ci.get_principal_tag_attribute_map(**request)
    assert code(unset) == "ResourceNotFoundException"
    ci.set_principal_tag_attribute_map(**request, UseDefaults=True)
    assert ci.get_principal_tag_attribute_map(**request)["PrincipalTags"] == {"username": "sub", "client": "aud"}
    ci.set_principal_tag_attribute_map(**request, UseDefaults=False, PrincipalTags={"owner": "sub"})
    assert ci.get_principal_tag_attribute_map(**request)["PrincipalTags"] == {"owner": "sub"}
    missing = "eu-west-1:00000000-0000-0000-0000-000000000000"
    with pytest.raises(ClientError) as gone:
        ci.set_identity_pool_roles(IdentityPoolId=missing, Roles={"authenticated": role})
    assert code(gone) == "ResourceNotFoundException"
    ci.delete_identity_pool(IdentityPoolId=pool)  # its mappings go with it
    assert fired(layer, "cognito-pool-mappings") >= 6
