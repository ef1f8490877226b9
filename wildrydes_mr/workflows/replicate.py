"""Workshop module 3, `replicate`: the tickets table as a global table, the API in the second region,
certificates, custom domains, Route 53 health checks and failover records; the site and identity follow.

Both regions' work runs concurrently. Within a region the certificate is requested first, so that its DNS
validation wait overlaps with the replica creation and the API deployment; custom domains wait for it.
"""

from __future__ import annotations

from typing import Any

from wildrydes_mr.aws import Clock
from wildrydes_mr.engine import PLACEHOLDER, UPDATE, Action, Context, converge, converge_one, in_parallel
from wildrydes_mr.errors import UsageError
from wildrydes_mr.objectives import predicted_failover, require_predicted_rto_within_objective
from wildrydes_mr.resources import acm, domains, dynamodb_replica, route53
from wildrydes_mr.resources.route53 import fqdn
from wildrydes_mr.workflows import build_api, build_ui

MODULE = "replicate"


def failover_name(ctx: Context) -> str:
    return f"api.{ctx.config.dns.domain}"


def regional_name(ctx: Context, region: str) -> str:
    return f"{ctx.config.dns.label(region)}.{ctx.config.dns.domain}"


def hosted_zone_id(ctx: Context) -> str:
    configured = ctx.config.dns.hosted_zone_id
    if configured:
        return route53.zone_id_only(configured)
    zone = converge_one(ctx, route53.HostedZone(ctx.config.dns.domain, create_when_missing=ctx.target.is_local))
    return zone.get("id", PLACEHOLDER)


def _validation_records(zone_id: str, certificate: dict[str, Any]) -> list[route53.RecordSet]:
    return [route53.RecordSet(zone_id, {"Name": r["name"], "Type": "CNAME", "TTL": 300,
                                        "ResourceRecords": [{"Value": r["value"]}]})
            for r in certificate.get("validation_records", [])]


def _alias(domain: dict[str, Any]) -> dict[str, Any]:
    # API Gateway targets cannot report health to Route 53; the health checks do that job instead.
    return {"HostedZoneId": domain.get("regional_hosted_zone_id", PLACEHOLDER),
            "DNSName": domain.get("regional_domain_name", PLACEHOLDER), "EvaluateTargetHealth": False}


def request_certificate(ctx: Context, region: str, zone_id: str) -> dict[str, Any]:
    """The region's certificate for both names and its DNS validation records: requested first, since its
    validation is the longest wait of a region (custom domains need it issued)."""
    certificate = converge_one(ctx, acm.Certificate(region, failover_name(ctx), [regional_name(ctx, region)]))
    converge(ctx, _validation_records(zone_id, certificate))
    return certificate


def add_replica(ctx: Context, region: str) -> dynamodb_replica.Replica:
    """The tickets table's replica in `region` (a global table); created, not awaited (see finish)."""
    replica = dynamodb_replica.Replica(ctx.config.regions.primary, region, ctx.config.api.table)
    converge_one(ctx, replica)
    return replica


def regional_endpoint(ctx: Context, region: str, zone_id: str, certificate: dict[str, Any],
                      api: dict[str, Any]) -> dict[str, Any]:
    """Once the certificate is issued: both custom domains on the region's API, the regional record, and the
    health check that probes it; returns what the failover records need."""
    config = ctx.config
    api_domain, own_domain = failover_name(ctx), regional_name(ctx, region)
    if not ctx.dry_run:
        acm.wait_issued(ctx, region, certificate["arn"])
    certificate_arn = certificate.get("arn", PLACEHOLDER)
    names = {}
    for name in (api_domain, own_domain):
        names[name] = converge_one(ctx, domains.DomainName(region, name, certificate_arn))
        converge_one(ctx, domains.BasePathMapping(region, name, api.get("api_id") or PLACEHOLDER, config.api.stage))
    # The regional name first, and propagated, before the health check that probes it: a checker that looks
    # the name up before it exists caches NXDOMAIN (for the zone's SOA minimum, 15 minutes by default).
    regional_record = route53.RecordSet(zone_id, {"Name": own_domain, "Type": "A",
                                                  "AliasTarget": _alias(names[own_domain])})
    converge_one(ctx, regional_record)
    if regional_record.change_id and not ctx.dry_run:
        route53.wait_change(ctx, regional_record.change_id, own_domain)
    check = converge_one(ctx, route53.HealthCheck(
        region, f"{config.deployment}-{region}", own_domain, config.dns.health_check.interval,
        config.dns.health_check.failure_threshold))
    return {"api_domain": names[api_domain], "health_check_id": check.get("id", PLACEHOLDER),
            "api_url": api.get("api_url")}


def replicate_region(ctx: Context, region: str, zone_id: str) -> dict[str, Any]:
    """Everything of one region, in dependency order; returns what the failover records need."""
    certificate = request_certificate(ctx, region, zone_id)
    replica = add_replica(ctx, region) if region != ctx.config.regions.primary else None
    api = build_api.build_region(ctx, region)
    return {**regional_endpoint(ctx, region, zone_id, certificate, api), "replica": replica}


def failover_records(ctx: Context, zone_id: str, regions: dict[str, dict[str, Any]]) -> list[route53.RecordSet]:
    """`api.<domain>` as a PRIMARY/SECONDARY pair of CNAME failover records to the regional domain names, each
    guarded by its region's health check. A CNAME carries its own TTL (`dns.ttl`), which is what clients keep
    their answer for; an alias record would take API Gateway's 60 s instead, whatever the config said."""
    primary, secondary = ctx.config.regions.both
    return [route53.RecordSet(zone_id, {
        "Name": failover_name(ctx), "Type": "CNAME", "SetIdentifier": _set_identifier(ctx, region, role),
        "Failover": role, "HealthCheckId": regions[region]["health_check_id"], "TTL": ctx.config.dns.ttl,
        "ResourceRecords": [{"Value": regions[region]["api_domain"].get("regional_domain_name", PLACEHOLDER)}]})
        for role, region in (("PRIMARY", primary), ("SECONDARY", secondary))]


def _await_local_dns(ctx: Context) -> None:
    """On AWS the run ends once Route 53 is INSYNC; locally, once the DNS plane serves what was made: it answers
    the failover name and has probed both regions' health checks (it re-reads moto about once a second)."""
    from wildrydes_mr.local import cloud

    name = failover_name(ctx)

    def served() -> bool:
        dns = cloud.data_plane_status(ctx.target.site_root)["dns"]
        return dns.get("failover_name") == name and set(ctx.config.regions.both) <= set(dns.get("health", {}))
    ctx.aws.wait_until(served, what=f"the local DNS plane to serve {name}", timeout=60, interval=0.2,
                       progress=ctx.progress, clock=Clock())


def _set_identifier(ctx: Context, region: str, role: str) -> str:
    return f"{ctx.config.deployment}-{region}-{role.lower()}"


def _migrate_failover_aliases(ctx: Context, zone_id: str, records: list[route53.RecordSet]) -> None:
    """Deployments made before the failover records became CNAMEs have alias A records there: both pairs are
    swapped in one atomic change batch, so `api.<domain>` never goes without an answer."""
    if PLACEHOLDER in zone_id:
        return  # a dry run of a zone still to be created: there is nothing to migrate
    old = [live for record in records if (live := route53.find_record(ctx, zone_id, dict(record.record, Type="A")))]
    if not old:
        return
    action = Action(UPDATE, route53.RecordSet.kind, route53.GLOBAL, f"{fqdn(failover_name(ctx))} A",
                    f"failover alias records become CNAME records (TTL {ctx.config.dns.ttl} s)")
    ctx.actions.append(action)
    ctx.reporter.action(action, ctx.dry_run)
    if not ctx.dry_run:
        route53.replace_records(ctx, zone_id, old, [record.record for record in records])


def finish(ctx: Context, zone_id: str, regions: dict[str, dict[str, Any]], parallel: bool = True) -> dict[str, Any]:
    """The failover records over both regions' endpoints, then the ends of the replica and of the records'
    propagation, awaited together; the operator's access; returns the module's result."""
    primary, secondary = ctx.config.regions.both
    records = failover_records(ctx, zone_id, regions)
    _migrate_failover_aliases(ctx, zone_id, records)
    converge(ctx, records)
    if not ctx.dry_run:
        # The replica has been building while everything above ran, and the records propagating: only now
        # are their ends awaited, together.
        in_parallel({"replica": lambda: [r["replica"].wait_active(ctx) for r in regions.values() if r["replica"]],
                     "dns": lambda: route53.wait_in_sync(ctx)}, parallel=parallel)
    build_api.operator_access(ctx)
    if ctx.target.is_local and not ctx.dry_run:
        _await_local_dns(ctx)
    for retired in ctx.outputs.pop("retired_health_checks", []):
        if not ctx.dry_run:
            route53.delete_health_check(ctx, {"id": retired})

    failover_url = ctx.target.failover_url(ctx.config.dns.domain)
    result: dict[str, Any] = {
        "failover_url": failover_url, "hosted_zone_id": zone_id,
        "regional_urls": {r: ctx.target.regional_url(r, regional_name(ctx, r)) for r in (primary, secondary)},
        "api_urls": {r: regions[r]["api_url"] for r in (primary, secondary)},
        **predicted_failover(ctx.config),  # checked against the objective before anything was made
        "objectives": {"rto_seconds": ctx.config.objectives.rto_seconds,
                       "rpo_seconds": ctx.config.objectives.rpo_seconds}}
    if not ctx.dry_run:
        ctx.state.set_extra("failover_api_url", failover_url)
    return result


def site_follows(ctx: Context) -> str | None:
    """Once the failover name exists, the site calls it and its users may invoke the API in both regions:
    build-ui again (nothing to do when it is already so); the site URL, or None without a site."""
    if any(r["kind"] == "cognito-identity-pool" for r in ctx.state.resources.values()):
        return build_ui.run(ctx.for_module(build_ui.MODULE))["site_url"]
    return None


def run(ctx: Context, parallel: bool = True) -> dict[str, Any]:
    require_predicted_rto_within_objective(ctx.config)
    primary, secondary = ctx.config.regions.both
    if primary not in build_api.deployed_apis(ctx):
        raise UsageError(f"no API recorded in {primary} for deployment {ctx.config.deployment}: "
                         "build-api must run first", hint="run `wildrydes build-api`")
    zone_id = hosted_zone_id(ctx)
    regions = in_parallel({region: (lambda r=region: replicate_region(ctx, r, zone_id))
                           for region in (primary, secondary)}, parallel=parallel)
    result = finish(ctx, zone_id, regions, parallel)
    site_url = site_follows(ctx)
    if site_url:
        result["site_url"] = site_url
    return result
