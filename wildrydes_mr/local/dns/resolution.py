"""How the local DNS plane answers a name as Route 53 would: the view of moto (zones, records, custom domains)
re-read at most once a second, a name followed through simple alias/CNAME records or its failover records down
to an API Gateway regional domain name, Route 53's failover rule, and the client-side cache of the failover
name's answer for the record's TTL (× time_scale)."""

from __future__ import annotations

import logging
import time
from typing import Any

from ..moto_access import moto_client
from .records import DEFAULT_ALIAS_TTL_S, MAX_CHAIN, REFRESH_S, Endpoint, Record, Snapshot, norm

logger = logging.getLogger(__name__)
__all__ = ["DEFAULT_ALIAS_TTL_S", "Resolution"]


class Resolution:
    """The DnsPlane's resolution (a mixin: it shares the plane's clients, caches and events)."""

    def _client(self, service: str, region: str = "us-east-1") -> Any:
        key = (service, region)
        client = self._clients.get(key)
        if client is not None:
            return client
        with self._clients_lock:
            if key not in self._clients:
                self._clients[key] = moto_client(self.aws_endpoint, self._credential, service, region,
                                                 retries={"max_attempts": 2, "mode": "standard"}, connect_timeout=5,
                                                 read_timeout=15)
            return self._clients[key]

    def _read_snapshot(self) -> Snapshot:
        route53 = self._client("route53")
        records: dict[str, list[Record]] = {}
        for page in route53.get_paginator("list_hosted_zones").paginate():
            for zone in page.get("HostedZones", []):
                if (zone.get("Config") or {}).get("PrivateZone"):
                    continue  # a private zone answers only inside its VPCs, never to our clients
                for rpage in route53.get_paginator("list_resource_record_sets").paginate(HostedZoneId=zone["Id"]):
                    for item in rpage.get("ResourceRecordSets", []):
                        if item.get("Type") in ("A", "CNAME"):
                            record = Record.parse(item)
                            records.setdefault(record.name, []).append(record)
        endpoints: dict[str, Endpoint] = {}
        for region in self.gateways:
            apigw = self._client("apigateway", region)
            kwargs: dict[str, Any] = {"limit": 500}
            while True:
                page = apigw.get_domain_names(**kwargs)
                for item in page.get("items", []):
                    regional = norm(item.get("regionalDomainName"))
                    if regional:
                        endpoints[regional] = Endpoint(region, regional, norm(item.get("domainName")))
                if not page.get("position"):
                    break
                kwargs["position"] = page["position"]
        return Snapshot(records, endpoints, time.monotonic())

    def _current_snapshot(self) -> Snapshot:
        """The view of moto, re-read when older than REFRESH_S; the last good one while moto fails."""
        snapshot = self._snapshot
        if time.monotonic() - snapshot.read_at < REFRESH_S:
            return snapshot
        with self._snapshot_lock:
            snapshot = self._snapshot
            if time.monotonic() - snapshot.read_at < REFRESH_S:
                return snapshot
            try:
                self._snapshot = self._read_snapshot()
                self._logged.discard("snapshot")
            except Exception:  # noqa: BLE001 - moto down or a bug: keep serving the last view
                self._warn_once("snapshot", "local DNS: reading Route 53/API Gateway from moto failed",
                                exc_info=True)
                snapshot.read_at = time.monotonic()  # retry in a second, not on every request
            return self._snapshot

    # ------------------------------------------------------------------------------------------- resolution

    def _check_healthy(self, health_check_id: str | None) -> bool:
        if not health_check_id:
            return True  # a record without a health check is always healthy
        with self._checkers_lock:
            checker = self._checkers.get(health_check_id)
        # A deleted check still named by a record: Route 53 calls its status unpredictable; we say healthy.
        return True if checker is None else checker.reported()

    def _choose_failover(self, snapshot: Snapshot, name: str) -> Record | None:
        """Route 53's failover rule (ResourceRecordSet.Failover in the API reference):
        primary healthy -> primary; primary unhealthy and secondary healthy -> secondary; secondary unhealthy
        -> primary, whatever its health. A record without HealthCheckId counts as healthy."""
        primary, secondary = snapshot.failover_records(name)
        if primary is not None and self._check_healthy(primary.health_check_id):
            return primary
        if secondary is not None and self._check_healthy(secondary.health_check_id):
            return secondary
        return primary or secondary

    def _resolve(self, snapshot: Snapshot, name: str, depth: int = 0) -> Endpoint | None:
        """Follow alias/CNAME records from `name` to a custom domain's regional endpoint (fresh, no caching)."""
        if depth > MAX_CHAIN:
            return None
        endpoint = snapshot.endpoints.get(name)
        if endpoint is not None:
            return endpoint
        record = snapshot.simple(name)
        if record is None and snapshot.failover_records(name) != (None, None):
            record = self._choose_failover(snapshot, name)
        if record is None or record.target is None:
            return None
        return self._resolve(snapshot, record.target, depth + 1)

    def _failover_answer(self, snapshot: Snapshot) -> tuple[str, Record, Endpoint] | None:
        name = snapshot.failover_name()
        record = self._choose_failover(snapshot, name) if name else None
        if name is None or record is None or record.target is None:
            return None
        endpoint = self._resolve(snapshot, record.target, 1)
        return (name, record, endpoint) if endpoint else None

    def _ttl_s(self, record: Record) -> float:
        ttl = self.ttl_seconds if record.alias_target or record.ttl is None else float(record.ttl)
        return ttl * self.time_scale

    def _resolve_failover_cached(self) -> tuple[str, Endpoint] | None:
        """The failover name's answer as a client sees it: cached for the record's TTL (x time_scale)."""
        with self._cache_lock:
            cached = self._cached
            if cached is not None and cached[0] > time.monotonic():
                return cached[1], cached[3]
            answer = self._failover_answer(self._current_snapshot())
            if answer is None:
                self._cached = None  # no negative caching: a record created now is seen within a second
                return None
            name, record, endpoint = answer
            self._cached = (time.monotonic() + self._ttl_s(record), name, record, endpoint)
            route = (endpoint.region, record.failover)
            if route != self._last_route:
                self._last_route = route
                self._event(kind="route", name=name, region=endpoint.region, record=record.failover,
                            set_identifier=record.set_identifier)
            return name, endpoint

    def _resolve_regional(self, region: str) -> tuple[str, Endpoint] | None:
        snapshot = self._current_snapshot()
        name = snapshot.regional_name(region)
        endpoint = self._resolve(snapshot, name) if name else None
        return (name, endpoint) if name and endpoint else None
