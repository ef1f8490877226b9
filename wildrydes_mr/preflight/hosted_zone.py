"""The hosted zone and the domain's delegation to it.

The zone is found as replicate finds it (`dns.hosted_zone_id`, else the public zone named `dns.domain`:
resources/route53.HostedZone), must be public, and must be the domain's zone or a parent of it. Then the
domain is delegated to it when the public DNS answers the zone's NS query with exactly the zone's four name
servers (its delegation set: Route 53 GetHostedZone "DelegationSet ... the name servers for the specified
hosted zone"; developer guide, "Making Route 53 the DNS service for an existing domain": update the
registrar's (or the parent zone's) NS records to the zone's). Until then ACM cannot validate the certificates
and the failover name does not resolve.

The DNS lookup goes through dnspython to the system's resolvers, or to `resolver` (HOST[:PORT]) — so tests,
and anyone behind a split-horizon resolver, can name the one to ask.
"""

from __future__ import annotations

import ipaddress
from typing import Any

import dns.exception
import dns.resolver

from wildrydes_mr.aws import ClientError, error_code
from wildrydes_mr.engine import Context
from wildrydes_mr.errors import UsageError, WildrydesError
from wildrydes_mr.preflight.checklist import READ_ERRORS, Item, cannot_check, failed, from_error, passed
from wildrydes_mr.resources import route53

GROUP = "dns"
ZONE = "hosted zone"
DELEGATION = "domain delegated to the zone"
DNS_TIMEOUT_SECONDS = 5.0


def parse_resolver(text: str) -> tuple[str, int]:
    """HOST[:PORT] (an IPv6 address in brackets when a port follows) → (address, port); port 53 by default."""
    text = text.strip()
    host, port = text, "53"
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else "53" if not rest else ""
    elif text.count(":") == 1:
        host, port = text.split(":")
    try:
        ipaddress.ip_address(host)
        number = int(port)
        if not 0 < number < 65536:
            raise ValueError
    except ValueError:
        raise UsageError(f"--resolver {text!r}: expected HOST[:PORT] with HOST an IP address, e.g. 127.0.0.1:5353"
                         ) from None
    return host, number


def _name(name: str) -> str:
    return name.lower().rstrip(".")


def find_zone(ctx: Context) -> tuple[Item, dict[str, Any] | None]:
    """The zone item, and {"id", "name", "name_servers"} of the zone when it passes."""
    r53 = ctx.aws.client("route53", route53.CLIENT_REGION)
    domain = ctx.config.dns.domain
    configured = ctx.config.dns.hosted_zone_id
    try:
        if configured:
            zone_id = route53.zone_id_only(configured)
        else:
            try:
                zone_id = route53.zone_id_only(route53.HostedZone(domain, create_when_missing=False).find(ctx)["Id"])
            except WildrydesError as missing:
                return failed(GROUP, ZONE, missing.message, missing.hint or ""), None
        found = r53.get_hosted_zone(Id=zone_id)
    except ClientError as exc:
        if error_code(exc) == "NoSuchHostedZone":
            return failed(GROUP, ZONE, f"dns.hosted_zone_id {configured}: no such hosted zone in this account",
                          "set dns.hosted_zone_id to the id of the domain's public hosted zone, or remove it to "
                          f"use the public zone named {domain}"), None
        return from_error(GROUP, ZONE, exc, "route53 GetHostedZone", "route53:GetHostedZone",
                          ctx.aws.is_emulated("route53", route53.CLIENT_REGION)), None
    except READ_ERRORS as exc:
        return from_error(GROUP, ZONE, exc, "route53 ListHostedZonesByName/GetHostedZone",
                          "route53:ListHostedZonesByName and route53:GetHostedZone",
                          ctx.aws.is_emulated("route53", route53.CLIENT_REGION)), None
    zone = found["HostedZone"]
    zone_name = _name(zone["Name"])
    if zone.get("Config", {}).get("PrivateZone"):
        return failed(GROUP, ZONE, f"hosted zone {zone_id} ({zone_name}) is private: the public DNS cannot see it",
                      f"use a public hosted zone for {domain} (dns.hosted_zone_id)"), None
    if domain != zone_name and not domain.endswith("." + zone_name):
        return failed(GROUP, ZONE, f"hosted zone {zone_id} is for {zone_name}, which cannot hold records of "
                      f"{domain}", f"set dns.hosted_zone_id to the zone of {domain} or of a parent domain"), None
    servers = sorted(_name(s) for s in found.get("DelegationSet", {}).get("NameServers", []))
    return passed(GROUP, ZONE, f"public zone {zone_id} ({zone_name})", id=zone_id, name=zone_name,
                  name_servers=servers), {"id": zone_id, "name": zone_name, "name_servers": servers}


def _resolver(address: tuple[str, int] | None) -> dns.resolver.Resolver:
    if address is None:
        resolver = dns.resolver.Resolver()  # the system's (/etc/resolv.conf)
    else:
        resolver = dns.resolver.Resolver(configure=False)
        resolver.nameservers = [address[0]]
        resolver.port = address[1]
    resolver.lifetime = DNS_TIMEOUT_SECONDS
    return resolver


def public_name_servers(zone_name: str, address: tuple[str, int] | None) -> list[str]:
    """The NS records the public DNS answers for `zone_name` (raises dnspython's errors)."""
    answer = _resolver(address).resolve(zone_name + ".", "NS", raise_on_no_answer=True)
    return sorted(_name(record.target.to_text()) for record in answer)


def check_delegation(zone: dict[str, Any] | None, address: tuple[str, int] | None) -> Item:
    if zone is None:
        return cannot_check(GROUP, DELEGATION, "no usable hosted zone to compare with (see the zone item)")
    asked = f"{address[0]}:{address[1]}" if address else "the system's resolvers"
    wanted = zone["name_servers"]
    fix = f"at the registrar of {zone['name']} (or in its parent zone) set its name servers to {', '.join(wanted)}"
    try:
        public = public_name_servers(zone["name"], address)
    except dns.resolver.NXDOMAIN:
        return failed(GROUP, DELEGATION, f"{zone['name']} does not exist in the public DNS ({asked})", fix)
    except dns.resolver.NoAnswer:
        return failed(GROUP, DELEGATION, f"{zone['name']} has no NS records in the public DNS ({asked})", fix)
    except (dns.resolver.NoNameservers, dns.exception.Timeout) as exc:
        return cannot_check(GROUP, DELEGATION, f"the DNS lookup of {zone['name']} NS through {asked} failed: "
                            f"{exc.__class__.__name__}", "pass --resolver HOST[:PORT] of a resolver that answers")
    if public == wanted:
        return passed(GROUP, DELEGATION, f"{zone['name']} NS = the zone's name servers ({asked})",
                      name_servers=public)
    others = [server for server in public if server not in wanted]
    how = "partly other name servers" if set(public) & set(wanted) else "other name servers"
    return failed(GROUP, DELEGATION, f"{zone['name']} is delegated to {how} ({', '.join(others) or 'fewer'}) "
                  f"than zone {zone['id']}'s ({asked})", fix, public=public, zone=wanted)
