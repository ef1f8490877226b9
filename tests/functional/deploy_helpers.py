"""A full deploy (build-api, build-ui, replicate) on moto in-process, and a snapshot of what exists in the
account to compare deploys by (resource names with their counts, so duplicates show)."""

from __future__ import annotations

from collections import Counter

import boto3

from wildrydes_mr import config as config_module
from wildrydes_mr.workflows import build_api, build_ui, replicate

REGIONS = ("eu-west-1", "ap-southeast-1")
DOMAIN = "wildrydes.example.com"


def zone_config():
    """Creates the hosted zone (moto in-process has none to look up) and returns a config naming it."""
    zone = boto3.client("route53").create_hosted_zone(Name=DOMAIN, CallerReference="test-zone")["HostedZone"]
    zone_id = zone["Id"].split("/")[-1]
    return config_module.parse(f"target: aws\ndns: {{hosted_zone_id: {zone_id!r}}}\n", "t.yaml"), zone_id


def full_deploy(make_context, cfg):
    """build-api, build-ui and replicate in one context (one set of clients); returns the context."""
    ctx = make_context(cfg=cfg)
    build_api.run(ctx)
    build_ui.run(ctx.for_module(build_ui.MODULE))
    replicate.run(ctx.for_module(replicate.MODULE))
    return ctx


def snapshot(zone_id: str) -> Counter:
    """Every resource in the account by (service, region, name), counted."""
    seen: Counter = Counter()
    for region in REGIONS:
        seen.update(("table", region, t) for t in boto3.client("dynamodb", region).list_tables()["TableNames"])
        seen.update(("function", region, f["FunctionName"])
                    for f in boto3.client("lambda", region).list_functions()["Functions"])
        seen.update(("api", region, a["name"]) for a in boto3.client("apigateway", region).get_rest_apis()["items"])
        seen.update(("domain", region, d["domainName"])
                    for d in boto3.client("apigateway", region).get_domain_names()["items"])
        seen.update(("certificate", region, c["DomainName"])
                    for c in boto3.client("acm", region).list_certificates()["CertificateSummaryList"])
        seen.update(("log-group", region, g["logGroupName"])
                    for g in boto3.client("logs", region).describe_log_groups()["logGroups"])
        seen.update(("identity-pool", region, p["IdentityPoolName"]) for p in boto3.client(
            "cognito-identity", region).list_identity_pools(MaxResults=60)["IdentityPools"])
    seen.update(("role", "global", r["RoleName"]) for r in boto3.client("iam").list_roles()["Roles"])
    seen.update(("bucket", "global", b["Name"]) for b in boto3.client("s3").list_buckets()["Buckets"])
    cloudfront = boto3.client("cloudfront")
    seen.update(("distribution", "global", d["Comment"])
                for d in cloudfront.list_distributions()["DistributionList"].get("Items", []) or [])
    seen.update(("oac", "global", o["Name"])
                for o in cloudfront.list_origin_access_controls()["OriginAccessControlList"].get("Items", []) or [])
    r53 = boto3.client("route53")
    seen.update(("health-check", "global", c["HealthCheckConfig"]["FullyQualifiedDomainName"])
                for c in r53.list_health_checks()["HealthChecks"])
    seen.update(("record", "global", f"{r['Name']} {r['Type']} {r.get('SetIdentifier', '')}")
                for r in r53.list_resource_record_sets(HostedZoneId=zone_id)["ResourceRecordSets"])
    return seen
