"""Inventory: every resource of one deployment that exists in the account, whether the state file knows it or not.

This module owns *finding*, never deleting: `cleanup` uses it to verify that nothing is left after a teardown and,
with `--sweep`, hands its records to `engine.teardown` with `resources.DELETERS`. Each record is shaped like a
state-file record (kind, region, name and the ids its deleter needs) plus `found_by` ("tag" or "name"), and the
list is in an order in which deleting works (dependents first).

The rule that matters most: it never reports anything that is not this deployment's. So a resource that can
carry tags is reported only when it carries `wildrydes:deployment=<deployment>`; a name alone is trusted only
where the service has no tags (CloudFront origin access controls, Lambda permission statements, Route 53 record
sets, bucket policies) or where the name is one only this deployment can have (a bucket named
`<deployment>-site-<account>-<region>`, the log group of one of this deployment's functions). Name prefixes
always include the "-" that follows the deployment, so deployment "wild" never matches "wildrydes-...".

How each kind is found (regional kinds in each region asked for; global services once), and what makes it ours:
- dynamodb-table: ListTables + ListTagsOfResource; tagged (the table name comes from the config, so anyone may
  have a table of that name: never by name).
- dynamodb-replica: a tagged table tagged `wildrydes:replica-of` too (the emulator path of Replica.create), or
  a region listed in the Replicas of this deployment's table (a real global-table replica; found_by "name").
- lambda-function: ListFunctions + ListTags; tagged.
- lambda-permission: GetPolicy of each function found; the statement id `wildrydes-apigateway-invoke`.
- log-group: DescribeLogGroups under `/aws/lambda/<deployment>-` + ListTagsForResource; tagged, or the log
  group of a function of ours (found_by "name").
- iam-role (global): ListRoles named `<deployment>-...` + ListRoleTags; tagged.
- rest-api: GetRestApis (the items carry the tags); tagged.
- apigw-domain: GetDomainNames (the items carry the tags); tagged.
- apigw-base-path: GetBasePathMappings of each domain found; the root mapping "(none)", the only one the tool
  makes.
- acm-certificate: ListCertificates + ListTagsForCertificate; tagged.
- cognito-identity-pool: ListIdentityPools + DescribeIdentityPool (IdentityPoolTags); tagged.
- cognito-pool-roles: GetIdentityPoolRoles of each pool found, when it maps roles (moto lacks the call).
- s3-bucket (global): ListBuckets named `<deployment>-...` + GetBucketLocation + GetBucketTagging; tagged, or
  exactly the site bucket's name `<deployment>-site-<account>-<region>` (found_by "name").
- s3-bucket-policy: GetBucketPolicy of each bucket found.
- cloudfront-distribution: ListDistributions + ListTagsForResource; tagged.
- cloudfront-oac: ListOriginAccessControls (no tags); named `<deployment>-site`.
- route53-health-check: ListHealthChecks + ListTagsForResources; tagged.
- route53-zone: ListHostedZones + ListTagsForResource; tagged and commented `wildrydes:<deployment>`, i.e. a
  zone the tool created. A zone given in the config is borrowed, never reported.
- route53-record: ListResourceRecordSets of this deployment's zone(s) (the configured one, any it created):
  the A records `api.<domain>.` (failover) and `<label>.<domain>.` of the configured regions that point at a
  custom domain or health check of ours, and the validation CNAMEs of this deployment's certificates. Never
  NS/SOA, nor anything else in the zone (a zone may be shared with other deployments and other owners).

The resource-groups tagging API is not used: moto implements it for a few services only (see DESIGN.md).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from wildrydes_mr.aws import BotoCoreError, ClientError, error_code, error_message, is_emulator_gap, is_not_found
from wildrydes_mr.config import KNOWN_REGIONS
from wildrydes_mr.engine import Context, in_parallel
from wildrydes_mr.errors import AwsError
from wildrydes_mr.resources import (
    acm,
    apigateway,
    cloudfront,
    cognito,
    domains,
    dynamodb,
    iam,
    lambda_fn,
    logs,
    route53,
    s3,
)
from wildrydes_mr.workflows import build_api, build_ui

T = TypeVar("T")
BY_TAG, BY_NAME = "tag", "name"

# The order in which deleting works: whatever refers to something comes before it (a failover record before
# its health check, a custom domain before its certificate, a distribution before its origin access control,
# every record set before the zone, a replica before its table).
DELETE_ORDER = (
    route53.RecordSet.kind,
    route53.HealthCheck.kind,
    domains.BasePathMapping.kind,
    domains.DomainName.kind,
    acm.Certificate.kind,
    lambda_fn.InvokePermission.kind,
    apigateway.RestApi.kind,
    lambda_fn.Function.kind,
    logs.LogGroup.kind,
    iam.Role.kind,
    dynamodb.Replica.kind,
    dynamodb.Table.kind,
    cognito.PoolRoles.kind,
    cognito.IdentityPool.kind,
    cloudfront.Distribution.kind,
    cloudfront.OriginAccessControl.kind,
    s3.BucketPolicy.kind,
    s3.Bucket.kind,
    route53.HostedZone.kind,
)

# Error codes that mean "it is gone" during a scan, beyond aws.is_not_found: a resource listed a moment ago
# may be deleted before its tags or policy are read, and then it is simply absent.
GONE_CODES = {"NoSuchOriginAccessControl", "NoSuchDistribution", "NoSuchResource", "NoSuchBucketPolicy",
              "NoSuchHealthCheck", "NoSuchHostedZone", "NoSuchEntity", "NoSuchBucket", "ResourceNotFoundException",
              "NotFoundException"}


def find_deployment_resources(ctx: Context, regions: Iterable[str]) -> list[dict]:
    """Records shaped like state-file records: {"kind", "region", "name", ...ids the kind's deleter needs
    (e.g. "id", "arn", "zone_id"+"record", "primary_region"/"emulated" for replicas, "created" for zones)},
    plus "found_by": "tag" | "name". Ordered so that deleting them in list order works (dependents first:
    records → health checks → base path mappings → domains → certificates → permissions → APIs → functions →
    log groups → roles → replicas → tables → identity pool roles/pools → distribution → OAC → bucket policy → bucket
    → hosted zone (only one this tool created: tagged wildrydes:deployment and comment wildrydes:<deployment>))."""
    scan = _Scan(ctx, list(dict.fromkeys(regions)))
    tasks: dict[str, Callable[[], list[dict[str, Any]]]] = {
        region: _guarded(ctx, region, lambda r=region: scan.region(r)) for region in scan.regions}
    tasks["global"] = _guarded(ctx, "global", scan.global_services)
    found = [record for records in in_parallel(tasks).values() for record in records]
    # Record sets are recognised by what they point at (our custom domains, health checks, certificates), so
    # they come after the rest.
    found += _guarded(ctx, "global", lambda: scan.records(found))()
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


def _gone(exc: BaseException) -> bool:
    return isinstance(exc, ClientError) and (is_not_found(exc) or error_code(exc) in GONE_CODES)


def _unless_gone(call: Callable[[], T], default: T) -> T:
    """The call's answer, or `default` when the resource vanished (or never had the thing asked for)."""
    try:
        return call()
    except ClientError as exc:
        if _gone(exc):
            return default
        raise


def _tag_dict(tags: Any) -> dict[str, str]:
    """Services answer tags as a dict or as a list of {"Key", "Value"}; both become a dict."""
    if isinstance(tags, dict):
        return {str(k): str(v) for k, v in tags.items()}
    return {t["Key"]: t["Value"] for t in tags or []}


def _record(kind: str, region: str, name: str, found_by: str, **ids: Any) -> dict[str, Any]:
    return {"kind": kind, "region": region, "name": name, **ids, "found_by": found_by}


class _Scan:
    """One inventory run: the deployment's names, and one method per service."""

    def __init__(self, ctx: Context, regions: list[str]):
        self.ctx = ctx
        self.regions = regions
        self.deployment = ctx.config.deployment
        self.prefix = f"{self.deployment}-"
        self.primary = ctx.config.regions.primary

    def ours(self, tags: Any) -> bool:
        """Tagged `wildrydes:deployment=<deployment>` (Config.tag, the tag every resource of the tool carries)."""
        tags = _tag_dict(tags)
        return all(tags.get(key) == value for key, value in self.ctx.config.tag.items())

    # --- regional services -----------------------------------------------------------------------------
    def region(self, region: str) -> list[dict[str, Any]]:
        functions = self.functions(region)
        return [*self.tables(region), *functions, *self.permissions(region, functions),
                *self.log_groups(region, functions), *self.rest_apis(region), *self.domains(region),
                *self.certificates(region), *self.identity_pools(region)]

    def tables(self, region: str) -> list[dict[str, Any]]:
        client = self.ctx.aws.client("dynamodb", region)
        found = []
        for page in client.get_paginator("list_tables").paginate():
            for name in page["TableNames"]:
                arn = dynamodb.table_arn(self.ctx, region, name)
                tags = _tag_dict(_unless_gone(lambda a=arn: client.list_tags_of_resource(ResourceArn=a)["Tags"], []))
                # The table name comes from the config (default "SXRTickets"), so anyone may have one: only
                # the tag makes it ours.
                if not self.ours(tags):
                    continue
                table = _unless_gone(lambda n=name: client.describe_table(TableName=n)["Table"], None)
                if table is None:
                    continue
                found += self._table_records(region, name, tags, table)
        return found

    def _table_records(self, region: str, name: str, tags: dict[str, str],
                       table: dict[str, Any]) -> list[dict[str, Any]]:
        replica_regions = {r["RegionName"] for r in table.get("Replicas") or []} - {region}
        if dynamodb.Replica.REPLICA_OF_TAG in tags:
            # The emulator path of Replica.create: a table of its own in the replica region, tagged with the
            # primary's region; its deleter deletes that table.
            return [_record(dynamodb.Replica.kind, region, name, BY_TAG, arn=table["TableArn"],
                            primary_region=tags[dynamodb.Replica.REPLICA_OF_TAG], emulated=True)]
        if region != self.primary and self.primary in replica_regions:
            # A real global-table replica that happens to carry our tag (AWS does not copy tags to replicas).
            return [_record(dynamodb.Replica.kind, region, name, BY_TAG, primary_region=self.primary,
                            emulated=False)]
        records = [_record(dynamodb.Table.kind, region, name, BY_TAG, arn=table["TableArn"])]
        # Real replicas (global tables 2019.11.21) are listed by the table they replicate; in their own region
        # they are untagged tables of the same name.
        records += [_record(dynamodb.Replica.kind, replica, name, BY_NAME, primary_region=region, emulated=False)
                    for replica in sorted(replica_regions)]
        return records

    def functions(self, region: str) -> list[dict[str, Any]]:
        client = self.ctx.aws.client("lambda", region)
        found = []
        for page in client.get_paginator("list_functions").paginate():
            for function in page["Functions"]:
                # ListFunctions carries no tags; ListTags answers NotFound for a function deleted meanwhile.
                tags = _unless_gone(lambda a=function["FunctionArn"]: client.list_tags(Resource=a)["Tags"], {})
                if self.ours(tags):
                    found.append(_record(lambda_fn.Function.kind, region, function["FunctionName"], BY_TAG,
                                         arn=function["FunctionArn"]))
        return found

    def permissions(self, region: str, functions: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Resource-policy statements have no tags: the tool's statement id on a function of ours."""
        client = self.ctx.aws.client("lambda", region)
        found = []
        for function in functions:
            policy = _unless_gone(lambda n=function["name"]: client.get_policy(FunctionName=n)["Policy"], None)
            statements = json.loads(policy).get("Statement", []) if policy else []
            if any(s.get("Sid") == lambda_fn.InvokePermission.STATEMENT_ID for s in statements):
                found.append(_record(lambda_fn.InvokePermission.kind, region, function["name"], BY_NAME))
        return found

    def log_groups(self, region: str, functions: list[dict[str, Any]]) -> list[dict[str, Any]]:
        client = self.ctx.aws.client("logs", region)
        # The log group of a function of ours is ours even untagged: Lambda itself creates `/aws/lambda/<name>`
        # (without tags) when a function logs and its group is missing.
        own = {f"/aws/lambda/{f['name']}" for f in functions}
        own |= {f"/aws/lambda/{build_api.function_name(self.ctx, spec)}" for spec in build_api.FUNCTIONS}
        found = []
        pages = client.get_paginator("describe_log_groups").paginate(logGroupNamePrefix=f"/aws/lambda/{self.prefix}")
        for page in pages:
            for group in page["logGroups"]:
                name = group["logGroupName"]
                # `arn` ends in ":*"; ListTagsForResource wants the ARN without it (AWS also gives logGroupArn).
                arn = group.get("logGroupArn") or group.get("arn", "").removesuffix(":*")
                tags = _unless_gone(lambda a=arn: client.list_tags_for_resource(resourceArn=a).get("tags", {}), {})
                if self.ours(tags):
                    found.append(_record(logs.LogGroup.kind, region, name, BY_TAG))
                elif name in own:
                    found.append(_record(logs.LogGroup.kind, region, name, BY_NAME))
        return found

    def rest_apis(self, region: str) -> list[dict[str, Any]]:
        client = self.ctx.aws.client("apigateway", region)
        # REST API names are not unique, so only the tag (included in GetRestApis items) identifies ours.
        return [_record(apigateway.RestApi.kind, region, api["name"], BY_TAG, id=api["id"])
                for page in client.get_paginator("get_rest_apis").paginate()
                for api in page["items"] if self.ours(api.get("tags"))]

    def domains(self, region: str) -> list[dict[str, Any]]:
        client = self.ctx.aws.client("apigateway", region)
        found = []
        for page in client.get_paginator("get_domain_names").paginate():
            for domain in page["items"]:
                name = domain["domainName"]
                tags = domain.get("tags")
                if tags is None:
                    arn = f"arn:{self.ctx.aws.partition(region)}:apigateway:{region}::/domainnames/{name}"
                    tags = _unless_gone(lambda a=arn: client.get_tags(resourceArn=a).get("tags", {}), {})
                if not self.ours(tags):
                    continue
                found.append(_record(domains.DomainName.kind, region, name, BY_TAG,
                                     regional_domain_name=domain.get("regionalDomainName")))
                if self._has_root_mapping(region, name):
                    found.append(_record(domains.BasePathMapping.kind, region, name, BY_NAME))
        return found

    def _has_root_mapping(self, region: str, domain: str) -> bool:
        """The tool maps only the root path ("(none)"); its deleter deletes exactly that mapping."""
        emulated = self.ctx.aws.is_emulated("apigateway", region)
        client = self.ctx.aws.client("apigateway", region, retries=not emulated)
        try:
            mappings = [m for page in client.get_paginator("get_base_path_mappings").paginate(domainName=domain)
                        for m in page.get("items", [])]
        except Exception as exc:
            # moto has answered mapping lookups on a domain without mappings with a KeyError (HTTP 500 in server
            # mode) instead of NotFound; see domains.BasePathMapping.find.
            if _gone(exc) or is_emulator_gap(exc, emulated):
                return False
            raise
        return any(m.get("basePath") == domains.NO_BASE_PATH for m in mappings)

    def certificates(self, region: str) -> list[dict[str, Any]]:
        client = self.ctx.aws.client("acm", region)
        found = []
        for page in client.get_paginator("list_certificates").paginate():
            for summary in page["CertificateSummaryList"]:
                arn = summary["CertificateArn"]
                tags = _unless_gone(lambda a=arn: client.list_tags_for_certificate(CertificateArn=a).get("Tags"),
                                    [])
                if not self.ours(tags):
                    continue
                described = _unless_gone(
                    lambda a=arn: client.describe_certificate(CertificateArn=a)["Certificate"], None)
                if described is None:
                    continue
                validation = sorted({(o["ResourceRecord"]["Name"], o["ResourceRecord"]["Value"])
                                     for o in described.get("DomainValidationOptions", []) if "ResourceRecord" in o})
                found.append(_record(acm.Certificate.kind, region, summary["DomainName"], BY_TAG, arn=arn,
                                     validation_records=[{"name": n, "value": v} for n, v in validation]))
        return found

    def identity_pools(self, region: str) -> list[dict[str, Any]]:
        client = self.ctx.aws.client("cognito-identity", region)
        found = []
        for page in client.get_paginator("list_identity_pools").paginate(MaxResults=60):
            for summary in page["IdentityPools"]:
                pool_id = summary["IdentityPoolId"]
                pool = _unless_gone(lambda p=pool_id: client.describe_identity_pool(IdentityPoolId=p), None)
                if pool is None or not self.ours(pool.get("IdentityPoolTags")):
                    continue
                found.append(_record(cognito.IdentityPool.kind, region, pool["IdentityPoolName"], BY_TAG,
                                     id=pool_id))
                roles = self._pool_roles(region, pool_id)
                if roles:
                    found.append(_record(cognito.PoolRoles.kind, region, pool_id, BY_NAME, roles=roles))
        return found

    def _pool_roles(self, region: str, pool_id: str) -> dict[str, str]:
        # moto implements no GetIdentityPoolRoles (NotImplementedError in-process, a bare 500 in server mode,
        # which botocore would retry for a minute): one attempt on an emulator, and "unknown" counts as none.
        # The mapping goes with its pool anyway (its deleter does nothing).
        emulated = self.ctx.aws.is_emulated("cognito-identity", region)
        client = self.ctx.aws.client("cognito-identity", region, retries=not emulated)
        try:
            answer = client.get_identity_pool_roles(IdentityPoolId=pool_id)
        except Exception as exc:
            if _gone(exc) or is_emulator_gap(exc, emulated):
                return {}
            raise
        return answer.get("Roles") or {}

    # --- global services -------------------------------------------------------------------------------
    def global_services(self) -> list[dict[str, Any]]:
        return [*self.roles(), *self.buckets(), *self.distributions(), *self.origin_access_controls(),
                *self.health_checks(), *self.zones()]

    def _home_region(self, name: str) -> str:
        """The region a global resource was recorded under: role and health check names end in the region they
        serve; the others (the web identity role, CloudFront) are recorded under the primary region."""
        return next((r for r in KNOWN_REGIONS if name.endswith(f"-{r}")), self.primary)

    def roles(self) -> list[dict[str, Any]]:
        client = self.ctx.aws.client("iam", self.primary)
        found = []
        for page in client.get_paginator("list_roles").paginate():
            for role in page["Roles"]:
                name = role["RoleName"]
                # Every role the tool makes is named `<deployment>-...`; only those are worth a tag read
                # (ListRoles carries no tags, and IAM is slow for accounts with many roles).
                if not name.startswith(self.prefix):
                    continue
                tags = _unless_gone(lambda n=name: client.list_role_tags(RoleName=n)["Tags"], [])
                if self.ours(tags):
                    found.append(_record(iam.Role.kind, self._home_region(name), name, BY_TAG, arn=role["Arn"]))
        return found

    def buckets(self) -> list[dict[str, Any]]:
        client = self.ctx.aws.client("s3", "us-east-1")
        found = []
        for page in client.get_paginator("list_buckets").paginate():
            for bucket in page.get("Buckets", []):
                name = bucket["Name"]
                if not name.startswith(self.prefix):
                    continue
                location = _unless_gone(lambda n=name: client.get_bucket_location(Bucket=n), None)
                if location is None:
                    continue
                # LocationConstraint is None in us-east-1 and the legacy "EU" for eu-west-1.
                region = {None: "us-east-1", "": "us-east-1", "EU": "eu-west-1"}.get(
                    location.get("LocationConstraint"), location.get("LocationConstraint"))
                regional = self.ctx.aws.client("s3", region)
                try:
                    tags = regional.get_bucket_tagging(Bucket=name)["TagSet"]
                except ClientError as exc:
                    if error_code(exc) in {"NoSuchTagSet", "NoSuchTagSetError"}:
                        tags = []
                    elif _gone(exc):
                        continue
                    else:
                        raise
                if self.ours(tags):
                    found_by = BY_TAG
                elif name == build_ui.bucket_name(self.ctx, region):
                    # Bucket.create tags the bucket only after creating it: a crash in between leaves an untagged
                    # bucket whose name (deployment, account and region) only this deployment can have.
                    found_by = BY_NAME
                else:
                    continue
                found.append(_record(s3.Bucket.kind, region, name, found_by))
                policy = _unless_gone(lambda c=regional, n=name: c.get_bucket_policy(Bucket=n)["Policy"], None)
                if policy:
                    found.append(_record(s3.BucketPolicy.kind, region, name, BY_NAME))
        return found

    def distributions(self) -> list[dict[str, Any]]:
        client = self.ctx.aws.client("cloudfront", "us-east-1")
        found = []
        for page in client.get_paginator("list_distributions").paginate():
            for item in page["DistributionList"].get("Items", []) or []:
                tags = _unless_gone(lambda a=item["ARN"]: client.list_tags_for_resource(Resource=a)["Tags"], {})
                if not self.ours(tags.get("Items", [])):
                    continue
                # The tool names the distribution in its comment, `wildrydes:<name>`, and records it under the
                # primary region (CloudFront itself is global).
                comment = item.get("Comment") or ""
                name = comment.removeprefix("wildrydes:") if comment.startswith("wildrydes:") else item["Id"]
                found.append(_record(cloudfront.Distribution.kind, self.primary, name, BY_TAG, id=item["Id"],
                                     arn=item["ARN"], domain=item.get("DomainName")))
        return found

    def origin_access_controls(self) -> list[dict[str, Any]]:
        # Origin access controls carry no tags: the name build-ui gives them is all there is.
        client = self.ctx.aws.client("cloudfront", "us-east-1")
        wanted = f"{self.deployment}-site"
        found, marker = [], None
        while True:
            page = client.list_origin_access_controls(**({"Marker": marker} if marker else {}))[
                "OriginAccessControlList"]
            found += [_record(cloudfront.OriginAccessControl.kind, self.primary, item["Name"], BY_NAME,
                              id=item["Id"]) for item in page.get("Items", []) or [] if item["Name"] == wanted]
            marker = page.get("NextMarker")
            if not page.get("IsTruncated") or not marker:
                return found

    def health_checks(self) -> list[dict[str, Any]]:
        client = self.ctx.aws.client("route53", route53.CLIENT_REGION)
        checks = [c for page in client.get_paginator("list_health_checks").paginate() for c in page["HealthChecks"]]
        found = []
        for start in range(0, len(checks), 10):  # ListTagsForResources takes at most 10 ids
            batch = [c["Id"] for c in checks[start:start + 10]]
            tag_sets = _unless_gone(lambda b=batch: client.list_tags_for_resources(
                ResourceType="healthcheck", ResourceIds=b)["ResourceTagSets"], None)
            if tag_sets is None:  # one of the batch vanished: ask one by one
                tag_sets = [_unless_gone(lambda i=check_id: client.list_tags_for_resource(
                    ResourceType="healthcheck", ResourceId=i)["ResourceTagSet"], {"ResourceId": check_id})
                    for check_id in batch]
            for tag_set in tag_sets:
                tags = _tag_dict(tag_set.get("Tags", []))
                if not self.ours(tags):
                    continue
                name = tags.get("Name") or tag_set["ResourceId"]
                region = self._home_region(name) if name.startswith(self.prefix) else route53.GLOBAL
                found.append(_record(route53.HealthCheck.kind, region, name, BY_TAG, id=tag_set["ResourceId"]))
        return found

    def zones(self) -> list[dict[str, Any]]:
        """Only a zone this tool created (HostedZone.create: comment and tag); a borrowed zone is never ours."""
        client = self.ctx.aws.client("route53", route53.CLIENT_REGION)
        found = []
        for page in client.get_paginator("list_hosted_zones").paginate():
            for zone in page["HostedZones"]:
                if zone.get("Config", {}).get("Comment") != f"wildrydes:{self.deployment}":
                    continue
                zone_id = route53.zone_id_only(zone["Id"])
                tags = _unless_gone(lambda z=zone_id: client.list_tags_for_resource(
                    ResourceType="hostedzone", ResourceId=z)["ResourceTagSet"].get("Tags", []), [])
                if self.ours(tags):
                    found.append(_record(route53.HostedZone.kind, route53.GLOBAL, zone["Name"].rstrip("."),
                                         BY_TAG, id=zone_id, created=True))
        return found

    # --- record sets ------------------------------------------------------------------------------------
    def records(self, found: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Record sets in this deployment's zone(s): the configured one and any it created. Only what replicate.py
        writes, and only pointing at this deployment's resources: never NS/SOA, nor anything else in the zone."""
        zones = [r for r in found if r["kind"] == route53.HostedZone.kind]
        zone_ids = [z["id"] for z in zones]
        if self.ctx.config.dns.hosted_zone_id:
            zone_ids.append(route53.zone_id_only(self.ctx.config.dns.hosted_zone_id))
        domains_ = {self.ctx.config.dns.domain} | {z["name"] for z in zones}
        labels = {self.ctx.config.dns.label(r) for r in {*self.ctx.config.regions.both, *self.regions}}
        ours = _OwnTargets(
            alias_names={route53.fqdn(f"{label}.{domain}").lower() for label in labels for domain in domains_},
            failover_names={route53.fqdn(f"api.{domain}").lower() for domain in domains_},
            # Names alone are not enough: another deployment may be configured with the same domain and zone.
            # A record is ours only if it points at our custom domains or is guarded by our health checks.
            alias_targets={route53.fqdn(r["regional_domain_name"]).lower() for r in found
                           if r["kind"] == domains.DomainName.kind and r.get("regional_domain_name")},
            health_checks={r["id"] for r in found if r["kind"] == route53.HealthCheck.kind},
            validation={(route53.fqdn(v["name"]).lower(), route53.fqdn(v["value"]).lower())
                        for r in found if r["kind"] == acm.Certificate.kind for v in r["validation_records"]})
        client = self.ctx.aws.client("route53", route53.CLIENT_REGION)
        records = []
        for zone_id in dict.fromkeys(zone_ids):
            try:
                record_sets = [r for page in client.get_paginator("list_resource_record_sets").paginate(
                    HostedZoneId=zone_id) for r in page["ResourceRecordSets"]]
            except ClientError as exc:
                if _gone(exc):
                    continue
                raise
            for live in record_sets:
                if not ours.written_by_tool(live):
                    continue
                record = dict(live, Name=route53.fqdn(live["Name"]))
                key = f"{record['Name']} {record['Type']}" + (
                    f" {record['SetIdentifier']}" if "SetIdentifier" in record else "")
                records.append(_record(route53.RecordSet.kind, route53.GLOBAL, key, BY_NAME, zone_id=zone_id,
                                       record=record))
        return records


@dataclass(frozen=True)
class _OwnTargets:
    """What this deployment's record sets are named and point at."""

    alias_names: set[str]
    failover_names: set[str]
    alias_targets: set[str]
    health_checks: set[str]
    validation: set[tuple[str, str]]

    def written_by_tool(self, live: dict[str, Any]) -> bool:
        """A record set replicate.py writes for this deployment: a regional alias to one of our custom domains, a
        failover record (CNAME, or the alias of earlier versions) to one of them or guarded by one of our health
        checks, or a validation CNAME of one of our certificates."""
        name = route53.fqdn(live["Name"]).lower()
        guarded = live.get("HealthCheckId") in self.health_checks
        if live["Type"] == "A":
            target = route53.fqdn(live.get("AliasTarget", {}).get("DNSName", "")).lower()
            points_at_ours = target in self.alias_targets or guarded
            return points_at_ours and (name in self.alias_names or (name in self.failover_names
                                                                    and "Failover" in live))
        if live["Type"] == "CNAME":
            values = {route53.fqdn(v["Value"]).lower() for v in live.get("ResourceRecords", [])}
            if name in self.failover_names and "Failover" in live:
                return guarded or bool(values & self.alias_targets)
            return any((name, value) in self.validation for value in values)
        return False
