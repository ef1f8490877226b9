"""Route 53: the hosted zone, record sets (validation CNAMEs, regional aliases, failover aliases) and the
regional health checks. Route 53 is global; its records carry region "global" in the state file.
"""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

from wildrydes_mr.aws import ClientError, error_code
from wildrydes_mr.engine import Context, Resource
from wildrydes_mr.errors import WildrydesError

GLOBAL = "global"
CLIENT_REGION = "us-east-1"


def fqdn(name: str) -> str:
    return name if name.endswith(".") else name + "."


def zone_id_only(zone_id: str) -> str:
    return zone_id.split("/")[-1]


class HostedZone(Resource):
    """The public zone of the domain: given, looked up (aws), or created (local; then cleanup deletes it)."""

    kind = "route53-zone"

    def __init__(self, domain: str, create_when_missing: bool):
        super().__init__(GLOBAL, domain)
        self.create_when_missing = create_when_missing

    def find(self, ctx: Context) -> dict[str, Any] | None:
        r53 = ctx.aws.client("route53", CLIENT_REGION)
        zones = r53.list_hosted_zones_by_name(DNSName=self.name, MaxItems="10")["HostedZones"]
        public = [z for z in zones if z["Name"] == fqdn(self.name) and not z.get("Config", {}).get("PrivateZone")]
        if not public and not self.create_when_missing:
            raise WildrydesError(f"no public hosted zone for {self.name} in this account",
                                 hint="create it (and delegate the domain to it), or set dns.hosted_zone_id")
        return public[0] if public else None

    def create(self, ctx: Context) -> dict[str, Any]:
        zone = ctx.aws.client("route53", CLIENT_REGION).create_hosted_zone(
            Name=self.name, CallerReference=f"wildrydes-{uuid.uuid4()}",
            HostedZoneConfig={"Comment": f"wildrydes:{ctx.config.deployment}", "PrivateZone": False})["HostedZone"]
        ctx.record(self, id=zone_id_only(zone["Id"]), created=True)
        ctx.aws.client("route53", CLIENT_REGION).change_tags_for_resource(
            ResourceType="hostedzone", ResourceId=zone_id_only(zone["Id"]),
            AddTags=[{"Key": k, "Value": v} for k, v in ctx.config.tag.items()])
        return {"id": zone_id_only(zone["Id"]), "created": True}

    def attributes(self, ctx: Context, live: dict[str, Any]) -> dict[str, Any]:
        recorded = ctx.state.get(self.kind, self.region, self.name) or {}
        return {"id": zone_id_only(live["Id"]), "created": bool(recorded.get("created"))}


def delete_hosted_zone(ctx: Context, record: dict[str, Any]) -> None:
    """Only a zone the tool created is deleted; an existing zone is only ever borrowed."""
    if record.get("created"):
        ctx.aws.client("route53", CLIENT_REGION).delete_hosted_zone(Id=record["id"])


class RecordSet(Resource):
    """One record set, written with UPSERT and found by name, type and set identifier."""

    kind = "route53-record"

    def __init__(self, zone_id: str, record: dict[str, Any]):
        record = dict(record, Name=fqdn(record["Name"]))
        name = f"{record['Name']} {record['Type']}" + (f" {record['SetIdentifier']}" if "SetIdentifier" in record
                                                        else "")
        super().__init__(GLOBAL, name)
        self.zone_id = zone_id
        self.record = record

    def find(self, ctx: Context) -> dict[str, Any] | None:
        return find_record(ctx, self.zone_id, self.record)

    def changes(self, ctx: Context, live: dict[str, Any]) -> list[str]:
        wanted = _comparable(self.record)
        return [] if _comparable(live) == wanted else ["record"]

    change_id: str | None = None  # the change that wrote the record in this run, for `wait_change`

    def create(self, ctx: Context) -> dict[str, Any]:
        self.change_id = submit(ctx, self.zone_id, [("UPSERT", self.record)])
        return {"zone_id": self.zone_id, "record": self.record}

    def update(self, ctx: Context, live: dict[str, Any], changes: list[str]) -> dict[str, Any]:
        return self.create(ctx)

    def attributes(self, ctx: Context, live: dict[str, Any]) -> dict[str, Any]:
        return {"zone_id": self.zone_id, "record": self.record}


def _comparable(record: dict[str, Any]) -> dict[str, Any]:
    keep = {k: v for k, v in record.items() if k in {"Name", "Type", "SetIdentifier", "Failover", "HealthCheckId",
                                                     "TTL", "ResourceRecords", "AliasTarget"}}
    if "AliasTarget" in keep:
        alias = keep["AliasTarget"]
        keep["AliasTarget"] = {"HostedZoneId": alias["HostedZoneId"], "DNSName": fqdn(alias["DNSName"]).lower(),
                               "EvaluateTargetHealth": alias.get("EvaluateTargetHealth", False)}
    return keep


def find_record(ctx: Context, zone_id: str, record: dict[str, Any]) -> dict[str, Any] | None:
    r53 = ctx.aws.client("route53", CLIENT_REGION)
    kwargs = {"HostedZoneId": zone_id, "StartRecordName": record["Name"], "StartRecordType": record["Type"],
              "MaxItems": "10"}
    if "SetIdentifier" in record:
        kwargs["StartRecordIdentifier"] = record["SetIdentifier"]
    try:
        page = r53.list_resource_record_sets(**kwargs)["ResourceRecordSets"]
    except ClientError as exc:
        if error_code(exc) == "NoSuchHostedZone":
            return None
        raise
    for live in page:
        if fqdn(live["Name"]).lower() == record["Name"].lower() and live["Type"] == record["Type"] \
                and live.get("SetIdentifier") == record.get("SetIdentifier"):
            return live
    return None


PENDING_CHANGES = "route53_pending_changes"


def submit(ctx: Context, zone_id: str, changes: list[tuple[str, dict[str, Any]]]) -> str:
    """Submits one change batch (Route 53 applies it atomically, in order) and returns its change id. Most of a
    run needs no change propagated, so the run waits for all its changes together at the end (`wait_in_sync`)
    instead of once per record; `wait_change` waits for one where it matters."""
    r53 = ctx.aws.client("route53", CLIENT_REGION)
    change = r53.change_resource_record_sets(HostedZoneId=zone_id, ChangeBatch={
        "Comment": f"wildrydes:{ctx.config.deployment}",
        "Changes": [{"Action": action, "ResourceRecordSet": record} for action, record in changes]})
    change_id = change["ChangeInfo"]["Id"]
    ctx.outputs.setdefault(PENDING_CHANGES, []).append((change_id, changes[0][1]["Name"]))
    return change_id


def wait_change(ctx: Context, change_id: str, name: str) -> None:
    """Waits until one change has reached all Route 53 name servers (GetChange INSYNC), bounded."""
    r53 = ctx.aws.client("route53", CLIENT_REGION)
    ctx.aws.wait_until(lambda: r53.get_change(Id=change_id)["ChangeInfo"]["Status"] == "INSYNC",
                       what=f"Route 53 change for {name} to propagate", timeout=600, interval=5,
                       progress=ctx.progress)


def wait_in_sync(ctx: Context) -> None:
    """Waits until every change this run submitted has reached all Route 53 name servers."""
    for change_id, name in ctx.outputs.pop(PENDING_CHANGES, []):
        wait_change(ctx, change_id, name)


def replace_records(ctx: Context, zone_id: str, old: list[dict[str, Any]], new: list[dict[str, Any]]) -> None:
    """Replaces live records by others in ONE change batch, deletions first. A CNAME may not share its name with
    a record of another type, so the new records cannot be added before the old ones go; a batch is applied
    atomically, so the name answers throughout. The old records leave the state file."""
    submit(ctx, zone_id, [("DELETE", record) for record in old] + [("UPSERT", record) for record in new])
    for record in old:
        ctx.state.remove(RecordSet.kind, GLOBAL, RecordSet(zone_id, record).name)


def delete_record(ctx: Context, record: dict[str, Any]) -> None:
    """Deletes the record as it is now (Route 53 wants the exact live record); absent counts as done."""
    live = find_record(ctx, record["zone_id"], record["record"])
    if live is not None:
        submit(ctx, record["zone_id"], [("DELETE", live)])


class HealthCheck(Resource):
    """An HTTPS health check on `/health` of one region's own name (never the failover name)."""

    kind = "route53-health-check"

    def __init__(self, region: str, name: str, target_fqdn: str, interval: int, threshold: int):
        super().__init__(region, name)
        self.config = {"Type": "HTTPS", "FullyQualifiedDomainName": target_fqdn, "Port": 443,
                       "ResourcePath": "/health", "RequestInterval": interval, "FailureThreshold": threshold,
                       "EnableSNI": True}

    def find(self, ctx: Context) -> dict[str, Any] | None:
        r53 = ctx.aws.client("route53", CLIENT_REGION)
        recorded = (ctx.state.get(self.kind, self.region, self.name) or {}).get("id")
        found = []
        for page in r53.get_paginator("list_health_checks").paginate():
            for check in page["HealthChecks"]:
                config = check["HealthCheckConfig"]
                if config.get("FullyQualifiedDomainName") == self.config["FullyQualifiedDomainName"] and \
                        config.get("ResourcePath") == "/health":
                    found.append(check)
        for check in sorted(found, key=lambda c: c["Id"] != recorded):
            tags = r53.list_tags_for_resource(ResourceType="healthcheck", ResourceId=check["Id"])[
                "ResourceTagSet"]["Tags"]
            owner = {t["Key"]: t["Value"] for t in tags}.get("wildrydes:deployment")
            # Tags come in a second call after CreateHealthCheck; the caller reference names the deployment, so
            # a check whose run died before tagging is still recognised (and tagged now).
            if owner == ctx.config.deployment or (owner is None and check["CallerReference"].startswith(
                    (self.reference_prefix(ctx), f"wildrydes-{ctx.config.deployment}-{self.region}-"))):
                return dict(check, _tagged=owner is not None)
        return None

    def reference_prefix(self, ctx: Context) -> str:
        """`wr-` and a hash of deployment and region: Route 53 caps CallerReference at 64 characters
        (HealthCheckNonce), too few for the names themselves plus a unique part. (Checks made by earlier
        versions, on emulators, carry `wildrydes-<deployment>-<region>-`, and are recognised too.)"""
        digest = hashlib.sha256(f"{ctx.config.deployment}/{self.region}".encode()).hexdigest()[:16]
        return f"wr-{digest}-"

    def changes(self, ctx: Context, live: dict[str, Any]) -> list[str]:
        config = live["HealthCheckConfig"]
        changes = [key for key in ("Port", "FailureThreshold", "EnableSNI") if config.get(key) != self.config[key]]
        if not live.get("_tagged", True):
            changes.append("tags")
        # UpdateHealthCheck can change neither the type nor the interval of a check: those need a new one.
        changes += [f"{key} (replace)" for key in ("Type", "RequestInterval") if config.get(key) != self.config[key]]
        return changes

    def create(self, ctx: Context) -> dict[str, Any]:
        r53 = ctx.aws.client("route53", CLIENT_REGION)
        check = r53.create_health_check(CallerReference=f"{self.reference_prefix(ctx)}{uuid.uuid4().hex}",
                                        HealthCheckConfig=self.config)["HealthCheck"]
        ctx.record(self, id=check["Id"])
        self._tag(ctx, check["Id"])
        return {"id": check["Id"]}

    def _tag(self, ctx: Context, check_id: str) -> None:
        ctx.aws.client("route53", CLIENT_REGION).change_tags_for_resource(
            ResourceType="healthcheck", ResourceId=check_id, AddTags=[
                {"Key": "Name", "Value": self.name}, *({"Key": k, "Value": v} for k, v in ctx.config.tag.items())])

    def update(self, ctx: Context, live: dict[str, Any], changes: list[str]) -> dict[str, Any]:
        if any(change.endswith("(replace)") for change in changes):
            # Make a new check; the old one is deleted once no failover record refers to it any more (see
            # workflows/replicate.py).
            ctx.outputs.setdefault("retired_health_checks", []).append(live["Id"])
            return self.create(ctx)
        if set(changes) - {"tags"}:
            ctx.aws.client("route53", CLIENT_REGION).update_health_check(
                HealthCheckId=live["Id"], Port=self.config["Port"], FailureThreshold=self.config["FailureThreshold"],
                EnableSNI=self.config["EnableSNI"])
        if "tags" in changes:
            self._tag(ctx, live["Id"])
        return {"id": live["Id"]}

    def attributes(self, ctx: Context, live: dict[str, Any]) -> dict[str, Any]:
        return {"id": live["Id"]}


def delete_health_check(ctx: Context, record: dict[str, Any]) -> None:
    try:
        ctx.aws.client("route53", CLIENT_REGION).delete_health_check(HealthCheckId=record["id"])
    except ClientError as exc:
        if error_code(exc) != "NoSuchHealthCheck":
            raise
