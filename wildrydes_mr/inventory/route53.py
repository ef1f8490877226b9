"""Route 53 (global): the health checks, the hosted zone this tool created, and the record sets it writes.

- route53-health-check: ListHealthChecks + ListTagsForResources; tagged.
- route53-zone: ListHostedZones + ListTagsForResource; tagged and commented `wildrydes:<deployment>`, i.e. a
  zone the tool created. A zone given in the config is borrowed, never reported.
- route53-record: ListResourceRecordSets of this deployment's zone(s) (the configured one, any it created):
  the A records `api.<domain>.` (failover) and `<label>.<domain>.` of the configured regions that point at a
  custom domain or health check of ours, and the validation CNAMEs of this deployment's certificates. Never
  NS/SOA, nor anything else in the zone (a zone may be shared with other deployments and other owners).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from wildrydes_mr.inventory.scan import BY_NAME, BY_TAG, Scan, record, tag_dict, unless_gone
from wildrydes_mr.resources import acm, domains, route53


def find_health_checks(scan: Scan) -> list[dict[str, Any]]:
    client = scan.ctx.aws.client("route53", route53.CLIENT_REGION)
    checks = [c for page in client.get_paginator("list_health_checks").paginate() for c in page["HealthChecks"]]
    found = []
    for start in range(0, len(checks), 10):  # ListTagsForResources takes at most 10 ids
        batch = [c["Id"] for c in checks[start:start + 10]]
        tag_sets = unless_gone(lambda b=batch: client.list_tags_for_resources(
            ResourceType="healthcheck", ResourceIds=b)["ResourceTagSets"], None)
        if tag_sets is None:  # one of the batch vanished: ask one by one
            tag_sets = [unless_gone(lambda i=check_id: client.list_tags_for_resource(
                ResourceType="healthcheck", ResourceId=i)["ResourceTagSet"], {"ResourceId": check_id})
                for check_id in batch]
        for tag_set in tag_sets:
            tags = tag_dict(tag_set.get("Tags", []))
            if not scan.ours(tags):
                continue
            name = tags.get("Name") or tag_set["ResourceId"]
            region = scan.home_region(name) if name.startswith(scan.prefix) else route53.GLOBAL
            found.append(record(route53.HealthCheck.kind, region, name, BY_TAG, id=tag_set["ResourceId"]))
    return found


def find_zones(scan: Scan) -> list[dict[str, Any]]:
    """Only a zone this tool created (HostedZone.create: comment and tag); a borrowed zone is never ours."""
    client = scan.ctx.aws.client("route53", route53.CLIENT_REGION)
    found = []
    for page in client.get_paginator("list_hosted_zones").paginate():
        for zone in page["HostedZones"]:
            if zone.get("Config", {}).get("Comment") != f"wildrydes:{scan.deployment}":
                continue
            zone_id = route53.zone_id_only(zone["Id"])
            tags = unless_gone(lambda z=zone_id: client.list_tags_for_resource(
                ResourceType="hostedzone", ResourceId=z)["ResourceTagSet"].get("Tags", []), [])
            if scan.ours(tags):
                found.append(record(route53.HostedZone.kind, route53.GLOBAL, zone["Name"].rstrip("."), BY_TAG,
                                    id=zone_id, created=True))
    return found


def find_record_sets(scan: Scan, found: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Record sets in this deployment's zone(s): the configured one and any it created. Only what replicate.py
    writes, and only pointing at this deployment's resources (`found`: the rest of the inventory): never NS/SOA,
    nor anything else in the zone."""
    config = scan.ctx.config
    zones = [r for r in found if r["kind"] == route53.HostedZone.kind]
    zone_ids = [z["id"] for z in zones]
    if config.dns.hosted_zone_id:
        zone_ids.append(route53.zone_id_only(config.dns.hosted_zone_id))
    domains_ = {config.dns.domain} | {z["name"] for z in zones}
    labels = {config.dns.label(r) for r in {*config.regions.both, *scan.regions}}
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
    client = scan.ctx.aws.client("route53", route53.CLIENT_REGION)

    def record_sets(zone_id: str) -> list[dict[str, Any]]:
        pages = client.get_paginator("list_resource_record_sets").paginate(HostedZoneId=zone_id)
        return [r for page in pages for r in page["ResourceRecordSets"]]
    records = []
    for zone_id in dict.fromkeys(zone_ids):
        for live in unless_gone(lambda z=zone_id: record_sets(z), []):
            if not ours.written_by_tool(live):
                continue
            record_set = dict(live, Name=route53.fqdn(live["Name"]))
            key = f"{record_set['Name']} {record_set['Type']}" + (
                f" {record_set['SetIdentifier']}" if "SetIdentifier" in record_set else "")
            records.append(record(route53.RecordSet.kind, route53.GLOBAL, key, BY_NAME, zone_id=zone_id,
                                  record=record_set))
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
