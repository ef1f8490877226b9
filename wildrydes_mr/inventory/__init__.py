"""Inventory: every resource of one deployment that exists in the account, whether the state file knows it or not.

This package owns *finding*, never deleting: `cleanup` uses it to verify that nothing is left after a teardown and,
with `--sweep`, hands its records to `engine.teardown` with `resources.DELETERS`. Each record is shaped like a
state-file record (kind, region, name and the ids its deleter needs) plus `found_by` ("tag" or "name"), and the
list is in an order in which deleting works (dependents first).

The rule that matters most: it never reports anything that is not this deployment's. So a resource that can
carry tags is reported only when it carries `wildrydes:deployment=<deployment>`; a name alone is trusted only
where the service has no tags (CloudFront origin access controls, Lambda permission statements, Route 53 record
sets, bucket policies) or where the name is one only this deployment can have (a bucket named
`<deployment>-site-<account>-<region>`, the log group of one of this deployment's functions). Name prefixes
always include the "-" that follows the deployment, so deployment "wild" never matches "wildrydes-...".

How each kind is found (regional kinds in each region asked for; global services once), and what makes it ours,
is documented in the scanner of its service, one module each: dynamodb, lambda_fn, logs, iam, apigateway (REST
APIs, custom domains, base path mappings), acm, cognito, s3, cloudfront, route53 (health checks, zones, record
sets), fis (experiment templates). What they share (the scan context, the record shape, the ownership test) is
in scan.py.

The resource-groups tagging API is not used: moto implements it for a few services only (see DESIGN.md).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from wildrydes_mr import resources
from wildrydes_mr.aws import BotoCoreError, ClientError, error_message
from wildrydes_mr.engine import Context, in_parallel
from wildrydes_mr.errors import AwsError
from wildrydes_mr.inventory import (
    acm,
    apigateway,
    cloudfront,
    cognito,
    dynamodb,
    fis,
    iam,
    lambda_fn,
    logs,
    route53,
    s3,
)
from wildrydes_mr.inventory.scan import Scan, T

__all__ = ["DELETE_ORDER", "find_deployment_resources"]

# The order in which deleting works: whatever refers to something comes before it (a failover record before
# its health check, a custom domain before its certificate, a distribution before its origin access control,
# every record set before the zone, a replica before its table, an FIS template before its role).
DELETE_ORDER = (
    resources.route53.RecordSet.kind,
    resources.route53.HealthCheck.kind,
    resources.domains.BasePathMapping.kind,
    resources.domains.DomainName.kind,
    resources.acm.Certificate.kind,
    resources.lambda_fn.InvokePermission.kind,
    resources.apigateway.RestApi.kind,
    resources.lambda_fn.Function.kind,
    resources.logs.LogGroup.kind,
    resources.fis.PauseTemplate.kind,
    resources.iam.Role.kind,
    resources.dynamodb_replica.Replica.kind,
    resources.dynamodb.Table.kind,
    resources.cognito.PoolRoles.kind,
    resources.cognito.IdentityPool.kind,
    resources.cloudfront.Distribution.kind,
    resources.cloudfront.OriginAccessControl.kind,
    resources.cloudfront_headers.ResponseHeadersPolicy.kind,
    resources.s3.BucketPolicy.kind,
    resources.s3.Bucket.kind,
    resources.route53.HostedZone.kind,
)


def find_deployment_resources(ctx: Context, regions: Iterable[str]) -> list[dict]:
    """Records shaped like state-file records: {"kind", "region", "name", ...ids the kind's deleter needs
    (e.g. "id", "arn", "zone_id"+"record", "primary_region"/"emulated" for replicas, "created" for zones)},
    plus "found_by": "tag" | "name". Ordered so that deleting them in list order works (dependents first:
    records → health checks → base path mappings → domains → certificates → permissions → APIs → functions →
    log groups → FIS templates → roles → replicas → tables → identity pool roles/pools → distribution → OAC →
    bucket policy → bucket → hosted zone (only one this tool created: tagged wildrydes:deployment and comment
    wildrydes:<deployment>))."""
    scan = Scan(ctx, list(dict.fromkeys(regions)))
    tasks: dict[str, Callable[[], list[dict[str, Any]]]] = {
        region: _guarded(ctx, region, lambda r=region: _regional_resources(scan, r)) for region in scan.regions}
    tasks["global"] = _guarded(ctx, "global", lambda: _global_resources(scan))
    found = [record for records in in_parallel(tasks).values() for record in records]
    # Record sets are recognised by what they point at (our custom domains, health checks, certificates), so
    # they come after the rest.
    found += _guarded(ctx, "global", lambda: route53.find_record_sets(scan, found))()
    unique: dict[tuple[str, str, str], dict[str, Any]] = {}
    for record in found:
        unique.setdefault((record["kind"], record["region"], record["name"]), record)
    rank = {kind: index for index, kind in enumerate(DELETE_ORDER)}
    return sorted(unique.values(), key=lambda r: (rank[r["kind"]], r["region"], r["name"]))


def _guarded(ctx: Context, region: str, scan: Callable[[], T]) -> Callable[[], T]:
    """The scan, with an AWS failure (access denied, say) turned into one message naming the region."""
    def run() -> T:
        try:
            return scan()
        except (ClientError, BotoCoreError) as exc:
            raise AwsError(f"inventory of deployment {ctx.config.deployment}", region, error_message(exc),
                           hint="the inventory needs read access (List/Describe/Get and tag reads) to every "
                                "service the tool uses; fix the cause and run the same command again") from exc
    return run


def _regional_resources(scan: Scan, region: str) -> list[dict[str, Any]]:
    functions = lambda_fn.find_functions(scan, region)
    return [*dynamodb.find_tables(scan, region), *functions, *lambda_fn.find_permissions(scan, region, functions),
            *logs.find_log_groups(scan, region, functions), *apigateway.find_rest_apis(scan, region),
            *apigateway.find_domains(scan, region), *acm.find_certificates(scan, region),
            *cognito.find_identity_pools(scan, region), *fis.find_templates(scan, region)]


def _global_resources(scan: Scan) -> list[dict[str, Any]]:
    return [*iam.find_roles(scan), *s3.find_buckets(scan), *cloudfront.find_distributions(scan),
            *cloudfront.find_origin_access_controls(scan),
            *cloudfront.find_response_headers_policies(scan), *route53.find_health_checks(scan),
            *route53.find_zones(scan)]
