"""Route 53 behaviours moto does not have: changes that take a while to reach every name server, CNAME records
that may not share a name with any other record, and health checks that negatively cache a name which did not
resolve when they started probing it."""

from __future__ import annotations

import uuid
from typing import Any

from fidelity.layer import Call, Response, Rule

NEGATIVE_CACHE_SECONDS = 900.0  # Route 53's default SOA minimum TTL: how long resolvers keep an NXDOMAIN


def _norm(name: str) -> str:
    return name.rstrip(".").lower()


class ChangePropagation(Rule):
    name = "route53-change-propagation"
    summary = "a record change is PENDING for a while before GetChange reports INSYNC (moto: INSYNC at once, " \
              "and the same change id for every change)"
    source = "Route 53 API reference, GetChange ('INSYNC: the changes have propagated to all Route 53 DNS " \
             "servers'; typically within 60 seconds)"
    operations = frozenset({"route53:ChangeResourceRecordSets", "route53:GetChange"})
    duration = 30.0

    def after(self, call: Call, parsed: dict[str, Any]) -> None:
        info = parsed.get("ChangeInfo", {})
        if call.operation == "ChangeResourceRecordSets":
            change_id = f"C{uuid.uuid4().hex[:13].upper()}"
            names = sorted({_norm(c["ResourceRecordSet"]["Name"]) for c in
                            call.params.get("ChangeBatch", {}).get("Changes", [])})
            entry = {"at": call.now, "names": names}
            call.layer.memory(self, lambda memory: memory.__setitem__(change_id, entry))
            info.update(Id=f"/change/{change_id}", Status="PENDING")
        elif call.operation == "GetChange":
            entry = call.layer.recall(self).get(info.get("Id", "").rsplit("/", 1)[-1])
            if entry is not None and call.now - entry["at"] < self.duration:
                call.layer.fired(self)
                info["Status"] = "PENDING"
            elif entry is not None:
                info["Status"] = "INSYNC"

    def in_sync(self, call: Call, name: str) -> bool:
        """Whether every change this layer saw for `name` has propagated."""
        now = call.now
        return all(now - entry["at"] >= self.duration for entry in call.layer.recall(self).values()
                   if _norm(name) in entry["names"])


def _zone_records(call: Call, zone_id: str) -> list[dict[str, Any]]:
    records, kwargs = [], {"HostedZoneId": zone_id}
    while True:
        page = call.layer.raw_call(call, "route53", "ListResourceRecordSets", "us-east-1", **kwargs)
        records += page["ResourceRecordSets"]
        if not page.get("IsTruncated"):
            return records
        kwargs.update(StartRecordName=page["NextRecordName"], StartRecordType=page["NextRecordType"])


class CnameExclusive(Rule):
    name = "route53-cname-exclusive"
    summary = "a CNAME may not share its name with a record of another type (changes of a batch apply in " \
              "order, atomically): InvalidChangeBatch"
    source = "Route 53 developer guide, 'Supported DNS record types' (CNAME); RFC 1034 section 3.6.2"
    operations = frozenset({"route53:ChangeResourceRecordSets"})

    def before(self, call: Call) -> Response | None:
        zone_id = call.params.get("HostedZoneId", "")
        present = {(_norm(r["Name"]), r["Type"], r.get("SetIdentifier")) for r in _zone_records(call, zone_id)}
        for change in call.params.get("ChangeBatch", {}).get("Changes", []):
            record = change["ResourceRecordSet"]
            key = (_norm(record["Name"]), record["Type"], record.get("SetIdentifier"))
            if change["Action"] == "DELETE":
                present.discard(key)
                continue
            others = {kind for name, kind, _ in present if name == key[0] and kind != key[1]}
            if (key[1] == "CNAME" and others) or (key[1] != "CNAME" and "CNAME" in others):
                call.layer.fired(self)
                conflict = "CNAME" if key[1] != "CNAME" else sorted(others)[0]
                return call.error("InvalidChangeBatch", f"[RRSet of type {key[1]} with DNS name {key[0]}. is not "
                                  f"permitted because a conflicting RRSet of type {conflict} with the same DNS name "
                                  "already exists in the zone]")
            present.add(key)
        return None


class HealthCheckNegativeCache(Rule):
    name = "route53-health-check-nxdomain"
    summary = "a health check created before the name it probes resolves (record not yet INSYNC) sees NXDOMAIN, " \
              "which resolvers cache for the SOA minimum: the check fails for ~15 minutes"
    source = "RFC 2308 (negative caching); Route 53 default SOA minimum 900 s (Route 53 developer guide, 'NS " \
             "and SOA records'); inferred, not stated by AWS for health checkers"
    operations = frozenset({"route53:CreateHealthCheck", "route53:GetHealthCheckStatus"})
    duration = NEGATIVE_CACHE_SECONDS

    def __init__(self, propagation: ChangePropagation):
        self.propagation = propagation

    def after(self, call: Call, parsed: dict[str, Any]) -> None:
        if call.operation == "CreateHealthCheck":
            check = parsed.get("HealthCheck", {})
            fqdn = check.get("HealthCheckConfig", {}).get("FullyQualifiedDomainName")
            if fqdn and not (self._exists(call, fqdn) and self.propagation.in_sync(call, fqdn)):
                call.layer.fired(self)
                until = call.now + self.duration
                call.layer.memory(self, lambda memory: memory.__setitem__(check["Id"], until))
            return
        until = call.layer.recall(self).get(call.params.get("HealthCheckId", ""))
        if until is not None and call.now < until:
            for observation in parsed.get("HealthCheckObservations", []):
                observation["StatusReport"]["Status"] = "Failure: DNS resolution failed: Rcode NXDomain(3)"

    @staticmethod
    def _exists(call: Call, fqdn: str) -> bool:
        zones = call.layer.raw_call(call, "route53", "ListHostedZones", "us-east-1")["HostedZones"]
        for zone in zones:
            if _norm(fqdn).endswith(_norm(zone["Name"])):
                if any(_norm(r["Name"]) == _norm(fqdn) for r in _zone_records(call, zone["Id"])):
                    return True
        return False
