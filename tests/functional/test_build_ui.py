"""build-ui on moto in-process: identity pool, least-privilege identity role, private bucket behind CloudFront,
the site files with the right headers; a re-run uploads nothing; cleanup removes it all."""

from __future__ import annotations

import dataclasses
import json

import boto3
import pytest

from wildrydes_mr import config as config_module
from wildrydes_mr.errors import UsageError
from wildrydes_mr.workflows import build_api, build_ui, cleanup

REGION = "eu-west-1"


@pytest.fixture
def built_api(make_context):
    return build_api.run(make_context())


def test_build_ui_needs_build_api_first(make_context):
    with pytest.raises(UsageError, match="build-api"):
        build_ui.run(make_context(module="build-ui"))


def test_build_ui_creates_pool_role_bucket_distribution_and_site(make_context, built_api):
    result = build_ui.run(make_context(module="build-ui"))
    assert result["site_url"].startswith("https://") and result["site_url"].endswith(".cloudfront.net/")

    ci = boto3.client("cognito-identity", REGION)
    pool = ci.describe_identity_pool(IdentityPoolId=result["identity_pool_id"])
    assert pool["AllowUnauthenticatedIdentities"] is False
    assert set(pool["SupportedLoginProviders"]) <= {"graph.facebook.com"}

    iam = boto3.client("iam")
    role = iam.get_role(RoleName="wildrydes-web-identity")["Role"]
    trust = role["AssumeRolePolicyDocument"]["Statement"][0]
    assert trust["Principal"] == {"Federated": "cognito-identity.amazonaws.com"}
    # Cognito passes the owner as a session tag, which needs sts:TagSession besides the web-identity assume.
    assert sorted(trust["Action"]) == ["sts:AssumeRoleWithWebIdentity", "sts:TagSession"]
    assert trust["Condition"]["StringEquals"]["cognito-identity.amazonaws.com:aud"] == [result["identity_pool_id"]]
    assert trust["Condition"]["ForAnyValue:StringLike"]["cognito-identity.amazonaws.com:amr"] == "authenticated"
    policy = iam.get_role_policy(RoleName="wildrydes-web-identity", PolicyName="wildrydes-web-identity")
    assert policy["PolicyDocument"]["Version"] == "2012-10-17"  # without it IAM reads ${...} literally
    (statement,) = policy["PolicyDocument"]["Statement"]
    assert statement["Action"] == "execute-api:Invoke"
    stage = f"arn:aws:execute-api:{REGION}:123456789012:{built_api['api_id']}/prod"
    owner = stage + "/%s/owners/${aws:PrincipalTag/owner}"
    assert sorted(statement["Resource"]) == sorted([
        f"{owner % 'GET'}/tickets", f"{owner % 'POST'}/tickets", f"{owner % 'POST'}/claims"])
    tags = ci.get_principal_tag_attribute_map(IdentityPoolId=result["identity_pool_id"],
                                              IdentityProviderName="graph.facebook.com")
    assert tags["PrincipalTags"] == {"owner": "sub"} and tags["UseDefaults"] is False

    s3 = boto3.client("s3", REGION)
    bucket = result["bucket"]
    assert all(s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"].values())
    bucket_policy = json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])
    assert bucket_policy["Statement"][0]["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]}
    assert {"index.html", "config.js"} <= keys and "config.example.js" not in keys
    config_js = s3.get_object(Bucket=bucket, Key="config.js")
    assert config_js["CacheControl"].startswith("no-store")
    assert config_js["ContentType"].startswith(("application/javascript", "text/javascript"))
    text = config_js["Body"].read().decode()
    assert built_api["api_url"] in text and result["identity_pool_id"] in text
    page_config = json.loads(text.split("window.WILDRYDES_CONFIG = ", 1)[1].rstrip().rstrip(";"))
    assert page_config["regions"] == [REGION] and page_config["identityPools"] == {REGION: result["identity_pool_id"]}
    assert page_config["apiUrls"] == {REGION: built_api["api_url"]} and "facebookStandIn" not in page_config
    assert s3.head_object(Bucket=bucket, Key="index.html")["ContentType"].startswith("text/html")

    cf = boto3.client("cloudfront")
    (item,) = cf.list_distributions()["DistributionList"]["Items"]
    config = cf.get_distribution_config(Id=item["Id"])["DistributionConfig"]
    assert config["DefaultRootObject"] == "index.html"
    assert config["DefaultCacheBehavior"]["ViewerProtocolPolicy"] == "redirect-to-https"
    # Every answer carries the security headers of a response-headers policy (the behaviour layer stands in
    # for CloudFront's API, which moto lacks): a CSP naming exactly the API, Cognito and Facebook's SDK.
    headers = cf.get_response_headers_policy(Id=config["DefaultCacheBehavior"]["ResponseHeadersPolicyId"])[
        "ResponseHeadersPolicy"]["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"]
    csp = headers["ContentSecurityPolicy"]["ContentSecurityPolicy"]
    api_origin = built_api["api_url"].split("/prod/")[0]
    connect = next(d for d in csp.split("; ") if d.startswith("connect-src ")).split()[1:]
    assert sorted(connect) == sorted(["'self'", api_origin, f"https://cognito-identity.{REGION}.amazonaws.com",
                                      "https://graph.facebook.com", "https://*.facebook.com"])
    assert "frame-ancestors 'none'" in csp and "script-src 'self' https://connect.facebook.net;" in csp
    assert "*" not in csp.replace("https://*.facebook.com", "")
    assert headers["StrictTransportSecurity"]["AccessControlMaxAgeSec"] >= 31536000
    assert headers["FrameOptions"]["FrameOption"] == "DENY" and headers["ContentTypeOptions"]["Override"]


def test_build_ui_narrows_the_apis_cors_to_the_site_at_once(make_context, built_api):
    # Before build-ui there is no site, and module 1 allows any origin; build-ui narrows it then, not only when
    # some later module runs.
    lam = boto3.client("lambda", REGION)
    assert lam.get_function_configuration(FunctionName="wildrydes-health")["Environment"]["Variables"][
        "ALLOWED_ORIGIN"] == "*"
    site = build_ui.run(make_context(module="build-ui"))["site_url"]
    origin = site.rstrip("/")
    for name in ("wildrydes-health", "wildrydes-list-tickets", "wildrydes-create-ticket", "wildrydes-claim-tickets"):
        assert lam.get_function_configuration(FunctionName=name)["Environment"]["Variables"][
            "ALLOWED_ORIGIN"] == origin
    api = boto3.client("apigateway", REGION)
    resources = api.get_resources(restApiId=built_api["api_id"], embed=["methods"])["items"]
    ticket = next(r for r in resources if r["path"] == "/owners/{owner}/tickets")
    options = api.get_integration_response(restApiId=built_api["api_id"], resourceId=ticket["id"],
                                           httpMethod="OPTIONS", statusCode="200")
    assert options["responseParameters"]["method.response.header.Access-Control-Allow-Origin"] == f"'{origin}'"
    response = api.get_gateway_response(restApiId=built_api["api_id"], responseType="DEFAULT_4XX")
    assert response["responseParameters"]["gatewayresponse.header.Access-Control-Allow-Origin"] == f"'{origin}'"


def test_second_build_ui_uploads_nothing_and_changes_nothing(make_context, built_api):
    build_ui.run(make_context(module="build-ui"))
    ctx = make_context(module="build-ui")
    build_ui.run(ctx)
    assert ctx.aws.calls.mutating == 0, ctx.aws.calls.operations
    assert {a.verb for a in ctx.actions} == {"nothing"}


def test_changed_file_is_uploaded_and_only_its_path_invalidated(make_context, built_api, monkeypatch):
    build_ui.run(make_context(module="build-ui"))
    original = build_ui.site_files

    def changed(ctx, pool_id):
        files = original(ctx, pool_id)
        target = next(f.key for f in files if f.key.endswith(".css"))
        return [f if f.key != target else dataclasses.replace(f, body=f.body + b"\n/* v2 */") for f in files]
    monkeypatch.setattr(build_ui, "site_files", changed)
    ctx = make_context(module="build-ui")
    build_ui.run(ctx)
    ops = ctx.aws.calls.operations
    assert ops["s3:PutObject"] == 1 and ops["cloudfront:CreateInvalidation"] == 1
    assert ctx.aws.calls.mutating == 2


def test_https_false_makes_a_public_read_website_and_warns(make_context, built_api):
    cfg = config_module.parse("target: aws\nsite: {https: false}\n", "t.yaml")
    ctx = make_context(module="build-ui", cfg=cfg)
    result = build_ui.run(ctx)
    assert result["site_url"] == f"http://{result['bucket']}.s3-website-{REGION}.amazonaws.com/"
    assert any("Facebook login needs HTTPS" in line for line in ctx.reporter.lines)
    s3 = boto3.client("s3", REGION)
    (statement,) = json.loads(s3.get_bucket_policy(Bucket=result["bucket"])["Policy"])["Statement"]
    assert statement["Action"] == "s3:GetObject" and statement["Resource"].endswith("/*")
    assert s3.get_bucket_website(Bucket=result["bucket"])["IndexDocument"]["Suffix"] == "index.html"
    assert not boto3.client("cloudfront").list_distributions()["DistributionList"].get("Items")


def test_dry_run_plans_every_ui_resource_as_create(make_context, built_api):
    ctx = make_context(module="build-ui", dry_run=True)
    build_ui.run(ctx)
    assert ctx.aws.calls.mutating == 0
    assert {a.verb for a in ctx.actions} == {"create"}
    assert [a.kind for a in ctx.actions] == ["cognito-identity-pool", "iam-role", "cognito-principal-tags",
                                             "cognito-pool-roles", "s3-bucket",
                                             "cloudfront-oac", "cloudfront-response-headers-policy",
                                             "cloudfront-distribution", "s3-bucket-policy", "site-files"]


def test_cleanup_removes_ui_and_api(make_context, built_api):
    result = build_ui.run(make_context(module="build-ui"))
    s3 = boto3.client("s3", REGION)
    assert cleanup.run(make_context(module="cleanup"))["remaining"] == []
    assert result["bucket"] not in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    assert not boto3.client("cloudfront").list_distributions()["DistributionList"].get("Items")
    assert boto3.client("cloudfront").list_origin_access_controls()["OriginAccessControlList"]["Quantity"] == 0
    assert boto3.client("cognito-identity", REGION).list_identity_pools(MaxResults=60)["IdentityPools"] == []
    assert not [r for r in boto3.client("iam").list_roles()["Roles"] if r["RoleName"].startswith("wildrydes")]
