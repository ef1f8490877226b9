"""Changes made by hand to a deployment (boto3, outside the tool), one for each update path a re-run of the tool
takes to repair them: new code for a function, a role's trust policy (`trust_elsewhere`), a managed policy attached
to a role (cleanup detaches it), a stale API resource, a base path mapping to another stage, an identity pool that
allows guests, a stale site object and website hosting, a health check's threshold, the origin access control's
signing and the security headers policy."""

from __future__ import annotations

import json

import boto3
from deploy_helpers import REGIONS
from function_code import zipped

from wildrydes_mr.config import Config

PRIMARY = REGIONS[0]


def _by_name(items: list[dict], key: str, value: str) -> dict:
    return next(item for item in items if item[key] == value)


def trust_elsewhere(role: str) -> None:
    """The role's trust policy, changed to trust another service."""
    boto3.client("iam").update_assume_role_policy(RoleName=role, PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"},
                                                "Action": "sts:AssumeRole"}]}))


def make_drift(config: Config, apis: dict[str, str]) -> None:
    deployment = config.deployment
    broken = zipped({"health.py": "def handler(event, context):\n    return {'statusCode': 500}\n"})
    boto3.client("lambda", PRIMARY).update_function_code(FunctionName=f"{deployment}-health", ZipFile=broken)
    trust_elsewhere(f"{deployment}-health-{PRIMARY}")
    iam = boto3.client("iam")
    managed = iam.create_policy(PolicyName="someone-elses", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:ListAllMyBuckets",
                                                "Resource": "*"}]}))["Policy"]["Arn"]
    iam.attach_role_policy(RoleName=f"{deployment}-list-tickets-{PRIMARY}", PolicyArn=managed)

    api = boto3.client("apigateway", PRIMARY)
    root = _by_name(api.get_resources(restApiId=apis[PRIMARY])["items"], "path", "/")
    api.create_resource(restApiId=apis[PRIMARY], parentId=root["id"], pathPart="stale")
    api.create_deployment(restApiId=apis[PRIMARY], stageName="elsewhere")
    api.update_base_path_mapping(domainName=f"api.{config.dns.domain}", basePath="(none)", patchOperations=[
        {"op": "replace", "path": "/stage", "value": "elsewhere"}])

    identity = boto3.client("cognito-identity", PRIMARY)
    pool = identity.list_identity_pools(MaxResults=10)["IdentityPools"][0]
    described = identity.describe_identity_pool(IdentityPoolId=pool["IdentityPoolId"])
    described.pop("ResponseMetadata")
    identity.update_identity_pool(**dict(described, AllowUnauthenticatedIdentities=True))

    s3 = boto3.client("s3", PRIMARY)
    bucket = next(b["Name"] for b in s3.list_buckets()["Buckets"] if b["Name"].endswith(PRIMARY))
    s3.put_object(Bucket=bucket, Key="stale.txt", Body=b"left by hand")
    s3.put_bucket_website(Bucket=bucket, WebsiteConfiguration={"IndexDocument": {"Suffix": "index.html"}})

    route53 = boto3.client("route53")
    check = next(c for c in route53.list_health_checks()["HealthChecks"]
                 if c["HealthCheckConfig"]["FullyQualifiedDomainName"].startswith(f"{config.dns.label(PRIMARY)}."))
    route53.update_health_check(HealthCheckId=check["Id"], FailureThreshold=5)

    cloudfront = boto3.client("cloudfront")
    oac = cloudfront.list_origin_access_controls()["OriginAccessControlList"]["Items"][0]
    current = cloudfront.get_origin_access_control(Id=oac["Id"])
    cloudfront.update_origin_access_control(Id=oac["Id"], IfMatch=current["ETag"], OriginAccessControlConfig=dict(
        current["OriginAccessControl"]["OriginAccessControlConfig"], SigningBehavior="no-override"))
    (summary,) = cloudfront.list_response_headers_policies(Type="custom")["ResponseHeadersPolicyList"]["Items"]
    policy = summary["ResponseHeadersPolicy"]
    etag = cloudfront.get_response_headers_policy(Id=policy["Id"])["ETag"]
    changed = json.loads(json.dumps(policy["ResponseHeadersPolicyConfig"]))
    changed["SecurityHeadersConfig"]["ContentSecurityPolicy"]["ContentSecurityPolicy"] = "default-src *"
    cloudfront.update_response_headers_policy(Id=policy["Id"], IfMatch=etag, ResponseHeadersPolicyConfig=changed)
