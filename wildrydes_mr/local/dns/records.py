"""What the local DNS plane reads from moto: the records of the public hosted zones and the API Gateway custom
domains they point at, as one snapshot (`Snapshot`), and the names in it that matter — the failover name, its
PRIMARY/SECONDARY records, a region's own name — plus the plane's shared constants."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

# An alias record has no TTL of its own: resolvers get the target's. API Gateway regional domain names (and
# most AWS alias targets) answer with 60 s.
DEFAULT_ALIAS_TTL_S = 60.0
# How stale the view of moto may be (records, domains, the list of health checks).
REFRESH_S = 1.0
HEALTHY, UNHEALTHY = "healthy", "unhealthy"
MAX_CHAIN = 8  # alias/CNAME hops followed before giving up (Route 53 stops loops too)


def norm(name: str | None) -> str:
    """A DNS name as compared here: lower case, no trailing dot, no dualstack. prefix (alias targets)."""
    name = (name or "").strip().rstrip(".").lower()
    return name[len("dualstack."):] if name.startswith("dualstack.") else name


def now_iso(ts: float) -> str:
    return dt.datetime.fromtimestamp(ts, dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")



@dataclass(frozen=True)
class Endpoint:
    """An API Gateway custom domain's regional endpoint, as an alias/CNAME target."""

    region: str
    regional_domain_name: str
    domain_name: str


@dataclass(frozen=True)
class Record:
    name: str
    type: str
    set_identifier: str | None
    failover: str | None  # PRIMARY | SECONDARY
    health_check_id: str | None
    alias_target: str | None  # normalised DNSName of an alias record
    values: tuple[str, ...]
    ttl: int | None

    @property
    def target(self) -> str | None:
        """The one name this record points at (alias target, or a CNAME's value)."""
        if self.alias_target:
            return self.alias_target
        if self.type == "CNAME" and self.values:
            return norm(self.values[0])
        return None

    @classmethod
    def parse(cls, item: dict[str, Any]) -> Record:
        alias = item.get("AliasTarget") or {}
        return cls(
            name=norm(item.get("Name")),
            type=str(item.get("Type") or ""),
            set_identifier=item.get("SetIdentifier"),
            failover=item.get("Failover"),
            health_check_id=item.get("HealthCheckId"),
            alias_target=norm(alias.get("DNSName")) if alias else None,
            values=tuple(str(r.get("Value", "")) for r in item.get("ResourceRecords") or ()),
            ttl=item.get("TTL"),
        )


@dataclass
class Snapshot:
    """Records of the public hosted zones and the custom domains of the served regions, read at `read_at`."""

    records: dict[str, list[Record]] = field(default_factory=dict)  # name -> records (A and CNAME)
    endpoints: dict[str, Endpoint] = field(default_factory=dict)  # regional domain name -> endpoint
    read_at: float = 0.0

    def simple(self, name: str) -> Record | None:
        """The simple-routing record of `name` (no SetIdentifier), A before CNAME."""
        found = [r for r in self.records.get(name, ()) if not r.set_identifier and r.target]
        found.sort(key=lambda r: r.type != "A")
        return found[0] if found else None

    def failover_records(self, name: str) -> tuple[Record | None, Record | None]:
        records = [r for r in self.records.get(name, ()) if r.failover and r.target]
        records.sort(key=lambda r: (r.type != "A", r.set_identifier or ""))
        primary = next((r for r in records if r.failover == "PRIMARY"), None)
        secondary = next((r for r in records if r.failover == "SECONDARY"), None)
        return primary, secondary

    def failover_name(self) -> str | None:
        """The name that has failover records (`api.` first should a zone hold several)."""
        names = sorted({name for name, records in self.records.items() if any(r.failover for r in records)})
        names.sort(key=lambda n: not n.startswith("api."))
        return names[0] if names else None

    def regional_name(self, region: str) -> str | None:
        """The simple record whose target is a custom domain's regional endpoint in `region`.

        A record named like its custom domain (eu-west-1.example.com -> the regional name of custom domain
        eu-west-1.example.com) wins over one that borrows another domain's endpoint.
        """
        candidates = []
        for name in self.records:
            record = self.simple(name)
            endpoint = self.endpoints.get(record.target or "") if record else None
            if endpoint is not None and endpoint.region == region:
                candidates.append((endpoint.domain_name != name, name))
        return min(candidates)[1] if candidates else None

