"""The local cloud's DNS plane: Route 53 resolution, health checks and failover routing, served over HTTP.

moto holds the Route 53 control plane (hosted zones, records, health checks) but answers no DNS query, always
reports health checks as Success and has no TestDNSAnswer. This module owns that data plane, driven only by
what moto holds:

- **Names as URLs.** There is no resolver to point a browser at, so every name the local cloud serves gets an
  HTTP server on a free port of 127.0.0.1: one for the failover name (`failover_url`, standing in for
  `https://api.<domain>/`) and one per region (`regional_urls[region]`, standing in for
  `https://<label>.<domain>/`). The servers exist from `start()` on, before any record does, so the daemon can
  record their ports once; until a record resolves they answer 503 {"message": "no DNS record"}.
- **Resolution.** Zones, records and API Gateway custom domain names are re-read from moto at most once a
  second. A name resolves through simple alias/CNAME records (following records of the zone) or through its
  failover records, down to an API Gateway regional domain name (`d-xxxx.execute-api.<region>.amazonaws.com`)
  of a custom domain in some region; the request is then served by that region's LocalGateway.handle_domain
  with the name the client asked for (the Host/SNI API Gateway selects the custom domain by).
- **Health checks.** Each health check in moto is probed every RequestInterval (x time_scale) on its own
  thread, against the endpoint its FullyQualifiedDomainName resolves to (in-process, no TLS). Route 53's
  rules: 2xx/3xx is a pass; the status flips after FailureThreshold consecutive failures, and back after as
  many consecutive passes; a new check is healthy until then. Transitions are kept in `events`.
- **Failover and client caching.** The failover name answers PRIMARY while its health check is healthy, else
  SECONDARY if healthy, else PRIMARY again (Route 53's documented failover behaviour). The answer is cached
  the way a client's resolver caches it: for the record's TTL x time_scale (alias records carry the target's
  TTL: 60 s for API Gateway regional domain names), so traffic moves only when the cached answer expires.

Known differences from Route 53: one health checker instead of a fleet that votes (>18 % healthy); no IP
address endpoints, latency or weighted routing, or CloudWatch alarms (those checks take their
InsufficientDataHealthStatus); EvaluateTargetHealth is not evaluated (alias targets count as healthy).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer
from typing import Any

from .credentials import LocalCredential
from .gateway import MAX_BODY_BYTES, GatewayRequest, GatewayResponse, LocalGateway, moto_client
from .http_server import ConnectionSet, KeepAliveHandler
from .sigv4_verify import split_target

__all__ = ["DnsPlane", "DEFAULT_ALIAS_TTL_S"]

logger = logging.getLogger(__name__)

# An alias record has no TTL of its own: resolvers get the target's. API Gateway regional domain names (and
# most AWS alias targets) answer with 60 s.
DEFAULT_ALIAS_TTL_S = 60.0
# How stale the view of moto may be (records, domains, the list of health checks).
REFRESH_S = 1.0
# Route 53 wants the TCP connection within 4 s and the status line within 2 s of it. Locally the connection is
# instant but a cold Lambda worker starts slower than Lambda does, so the whole probe gets 4 s.
DEFAULT_PROBE_TIMEOUT_S = 4.0
# String-matching checks look for SearchString in the first 5120 bytes of the body.
SEARCH_WINDOW_BYTES = 5120
HEALTHY, UNHEALTHY = "healthy", "unhealthy"
MAX_EVENTS = 500
_MAX_CHAIN = 8  # alias/CNAME hops followed before giving up (Route 53 stops loops too)
_USER_AGENT = "Amazon-Route53-Health-Check-Service (ref {id}; report http://amzn.to/1vsZADi)"


def _norm(name: str | None) -> str:
    """A DNS name as compared here: lower case, no trailing dot, no dualstack. prefix (alias targets)."""
    name = (name or "").strip().rstrip(".").lower()
    return name[len("dualstack."):] if name.startswith("dualstack.") else name


def _now_iso(ts: float) -> str:
    return dt.datetime.fromtimestamp(ts, dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


# ---------------------------------------------------------------------------------------------- what moto holds


@dataclass(frozen=True)
class Endpoint:
    """An API Gateway custom domain's regional endpoint, as an alias/CNAME target."""

    region: str
    regional_domain_name: str
    domain_name: str


@dataclass(frozen=True)
class _Record:
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
            return _norm(self.values[0])
        return None

    @classmethod
    def parse(cls, item: dict[str, Any]) -> _Record:
        alias = item.get("AliasTarget") or {}
        return cls(
            name=_norm(item.get("Name")),
            type=str(item.get("Type") or ""),
            set_identifier=item.get("SetIdentifier"),
            failover=item.get("Failover"),
            health_check_id=item.get("HealthCheckId"),
            alias_target=_norm(alias.get("DNSName")) if alias else None,
            values=tuple(str(r.get("Value", "")) for r in item.get("ResourceRecords") or ()),
            ttl=item.get("TTL"),
        )


@dataclass
class _Snapshot:
    """Records of the public hosted zones and the custom domains of the served regions, read at `read_at`."""

    records: dict[str, list[_Record]] = field(default_factory=dict)  # name -> records (A and CNAME)
    endpoints: dict[str, Endpoint] = field(default_factory=dict)  # regional domain name -> endpoint
    read_at: float = 0.0

    def simple(self, name: str) -> _Record | None:
        """The simple-routing record of `name` (no SetIdentifier), A before CNAME."""
        found = [r for r in self.records.get(name, ()) if not r.set_identifier and r.target]
        found.sort(key=lambda r: r.type != "A")
        return found[0] if found else None

    def failover_records(self, name: str) -> tuple[_Record | None, _Record | None]:
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


# ---------------------------------------------------------------------------------------------- health checks


@dataclass
class _Checker:
    """One Route 53 health check as the local health checker sees it."""

    id: str
    config: dict[str, Any]
    healthy: bool = True  # Route 53 considers a new health check healthy until it has enough data
    failures: int = 0  # consecutive
    successes: int = 0  # consecutive
    probes: int = 0
    last: dict[str, Any] = field(default_factory=dict)
    stop: threading.Event = field(default_factory=threading.Event)
    thread: threading.Thread | None = None

    @property
    def fqdn(self) -> str:
        return _norm(self.config.get("FullyQualifiedDomainName"))

    @property
    def interval_s(self) -> float:
        return float(self.config.get("RequestInterval") or 30)

    @property
    def threshold(self) -> int:
        return max(1, int(self.config.get("FailureThreshold") or 3))

    def reported(self) -> bool:
        """The status Route 53 reports: Disabled checks are always healthy, Inverted ones flip."""
        if self.config.get("Disabled"):
            return True
        return self.healthy != bool(self.config.get("Inverted"))


# ------------------------------------------------------------------------------------------------ the plane


class DnsPlane:
    """Route 53's data plane for the local cloud. See the module docstring.

    `gateways` maps region -> LocalGateway (started or not: only `handle_domain` is used). `time_scale`
    multiplies health check intervals and the client-side TTL (0.05: a 10 s interval probes every 0.5 s).
    `ttl_seconds` overrides the TTL assumed for alias records (default 60 s, API Gateway's).
    """

    def __init__(
        self,
        aws_endpoint: str,
        gateways: dict[str, LocalGateway],
        access_key_id: str,
        secret_access_key: str,
        time_scale: float = 1.0,
        host: str = "127.0.0.1",
        *,
        ttl_seconds: float | None = None,
        probe_timeout: float = DEFAULT_PROBE_TIMEOUT_S,
        session_token: str | None = None,
    ) -> None:
        if time_scale <= 0:
            raise ValueError("time_scale must be positive")
        self.aws_endpoint = aws_endpoint
        self.gateways = dict(gateways)
        self.time_scale = float(time_scale)
        self.host = host
        self.ttl_seconds = DEFAULT_ALIAS_TTL_S if ttl_seconds is None else float(ttl_seconds)
        self.probe_timeout = float(probe_timeout)
        self._credential = LocalCredential(access_key_id, secret_access_key, session_token)
        self._clients: dict[tuple[str, str], Any] = {}
        self._clients_lock = threading.Lock()

        self._stop = threading.Event()
        self._servers: dict[str | None, ThreadingHTTPServer] = {}  # None: the failover name; else a region
        self._threads: list[threading.Thread] = []
        self._connections = ConnectionSet()

        self._snapshot = _Snapshot()
        self._snapshot_lock = threading.Lock()
        self._checkers: dict[str, _Checker] = {}
        self._checkers_lock = threading.Lock()
        self._events: deque[dict[str, Any]] = deque(maxlen=MAX_EVENTS)
        self._events_lock = threading.Lock()
        # The failover name's answer as a client's resolver caches it: (expires monotonic, name, record, endpoint)
        self._cached: tuple[float, str, _Record, Endpoint] | None = None
        self._cache_lock = threading.Lock()
        self._last_route: tuple[str, str | None] | None = None  # (region, failover role) last answered
        self._logged: set[str] = set()

    # ---------------------------------------------------------------------------------------------- lifecycle

    def start(self) -> None:
        """Bind the failover and regional servers, then start the health checker; returns at once."""
        if self._servers:
            return
        self._stop.clear()
        for key in [None, *self.gateways]:
            handler = type("_BoundDnsHandler", (_DnsHandler,),
                           {"plane": self, "route": key, "connections": self._connections})
            server = ThreadingHTTPServer((self.host, 0), handler)
            server.daemon_threads = True
            self._servers[key] = server
            thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2},
                                      name=f"local-dns-{key or 'failover'}", daemon=True)
            thread.start()
            self._threads.append(thread)
        supervisor = threading.Thread(target=self._supervise, name="local-dns-health", daemon=True)
        supervisor.start()
        self._threads.append(supervisor)
        logger.info("local DNS: failover name on %s, regions on %s", self.failover_url,
                    ", ".join(f"{r} {u}" for r, u in self.regional_urls.items()))

    def stop(self) -> None:
        """Stop serving and probing; returns within about a second."""
        self._stop.set()
        with self._checkers_lock:
            checkers, self._checkers = list(self._checkers.values()), {}
        for checker in checkers:
            checker.stop.set()
        servers, self._servers = list(self._servers.values()), {}
        for server in servers:
            server.shutdown()
            server.server_close()
        self._connections.close_all()
        for thread in [*self._threads, *(c.thread for c in checkers if c.thread)]:
            thread.join(1.0)
        self._threads = []

    def __enter__(self) -> DnsPlane:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _url(self, key: str | None) -> str | None:
        server = self._servers.get(key)
        return f"http://{self.host}:{server.server_address[1]}/" if server else None

    @property
    def failover_url(self) -> str | None:
        return self._url(None)

    @property
    def regional_urls(self) -> dict[str, str]:
        return {r: u for r in self.gateways if (u := self._url(r))}

    # ------------------------------------------------------------------------------------------------ status

    def status(self) -> dict[str, Any]:
        """Where the names are served, health per region, the region serving the failover name, transitions."""
        snapshot = self._current_snapshot()
        with self._checkers_lock:
            checkers = list(self._checkers.values())
        failover_name = snapshot.failover_name()
        referenced = {r.health_check_id for r in snapshot.failover_records(failover_name or "") if r}
        checks: dict[str, Any] = {}
        health: dict[str, str] = {}
        # A check the failover records use wins over any other check of the same region.
        for checker in sorted(checkers, key=lambda c: c.id in referenced):
            endpoint = self._resolve(snapshot, checker.fqdn) if checker.fqdn else None
            state = HEALTHY if checker.reported() else UNHEALTHY
            checks[checker.id] = {
                "fqdn": checker.fqdn or None,
                "type": checker.config.get("Type"),
                "region": endpoint.region if endpoint else None,
                "status": state,
                "consecutive_failures": checker.failures,
                "consecutive_successes": checker.successes,
                "probes": checker.probes,
                "last_probe": dict(checker.last),
            }
            if endpoint is not None:
                health[endpoint.region] = state
        with self._cache_lock:
            cached = self._cached
        now = time.monotonic()
        client_cache = None
        if cached is not None and cached[0] > now:
            # What clients of the failover name keep getting until their cached answer expires.
            serving: str | None = cached[3].region
            client_cache = {"name": cached[1], "region": cached[3].region, "record": cached[2].failover,
                            "expires_in": round(cached[0] - now, 3)}
        fresh = self._failover_answer(snapshot)
        # What Route 53 itself answers now (a fresh lookup), as opposed to what cached clients still use.
        dns_answer = fresh[2].region if fresh else None
        if client_cache is None:
            serving = dns_answer
        with self._events_lock:
            events = [dict(e) for e in self._events]
        return {
            "failover_url": self.failover_url,
            "regional_urls": self.regional_urls,
            "health": health,
            "serving_region": serving,
            "dns_answer": dns_answer,
            "events": events,
            "failover_name": failover_name,
            "regional_names": {r: n for r in self.gateways if (n := snapshot.regional_name(r))},
            "health_checks": checks,
            "client_cache": client_cache,
            "ttl_seconds": self.ttl_seconds,
            "time_scale": self.time_scale,
        }

    def _event(self, **fields: Any) -> None:
        now = time.time()
        event = {"time": now, "at": _now_iso(now), **fields}
        with self._events_lock:
            self._events.append(event)
        logger.info("local DNS event: %s", json.dumps(event, sort_keys=True))

    def _warn_once(self, key: str, message: str, *args: Any) -> None:
        if key not in self._logged:
            self._logged.add(key)
            logger.warning(message, *args)

    # ------------------------------------------------------------------------------------------- moto reads

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

    def _read_snapshot(self) -> _Snapshot:
        route53 = self._client("route53")
        records: dict[str, list[_Record]] = {}
        for page in route53.get_paginator("list_hosted_zones").paginate():
            for zone in page.get("HostedZones", []):
                if (zone.get("Config") or {}).get("PrivateZone"):
                    continue  # a private zone answers only inside its VPCs, never to our clients
                for rpage in route53.get_paginator("list_resource_record_sets").paginate(HostedZoneId=zone["Id"]):
                    for item in rpage.get("ResourceRecordSets", []):
                        if item.get("Type") in ("A", "CNAME"):
                            record = _Record.parse(item)
                            records.setdefault(record.name, []).append(record)
        endpoints: dict[str, Endpoint] = {}
        for region in self.gateways:
            apigw = self._client("apigateway", region)
            kwargs: dict[str, Any] = {"limit": 500}
            while True:
                page = apigw.get_domain_names(**kwargs)
                for item in page.get("items", []):
                    regional = _norm(item.get("regionalDomainName"))
                    if regional:
                        endpoints[regional] = Endpoint(region, regional, _norm(item.get("domainName")))
                if not page.get("position"):
                    break
                kwargs["position"] = page["position"]
        return _Snapshot(records, endpoints, time.monotonic())

    def _current_snapshot(self) -> _Snapshot:
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

    def _choose_failover(self, snapshot: _Snapshot, name: str) -> _Record | None:
        """Route 53's failover rule (ResourceRecordSet.Failover in the API reference):
        primary healthy -> primary; primary unhealthy and secondary healthy -> secondary; secondary unhealthy
        -> primary, whatever its health. A record without HealthCheckId counts as healthy."""
        primary, secondary = snapshot.failover_records(name)
        if primary is not None and self._check_healthy(primary.health_check_id):
            return primary
        if secondary is not None and self._check_healthy(secondary.health_check_id):
            return secondary
        return primary or secondary

    def _resolve(self, snapshot: _Snapshot, name: str, depth: int = 0) -> Endpoint | None:
        """Follow alias/CNAME records from `name` to a custom domain's regional endpoint (fresh, no caching)."""
        if depth > _MAX_CHAIN:
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

    def _failover_answer(self, snapshot: _Snapshot) -> tuple[str, _Record, Endpoint] | None:
        name = snapshot.failover_name()
        record = self._choose_failover(snapshot, name) if name else None
        if name is None or record is None or record.target is None:
            return None
        endpoint = self._resolve(snapshot, record.target, 1)
        return (name, record, endpoint) if endpoint else None

    def _ttl_s(self, record: _Record) -> float:
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

    def dispatch(self, route: str | None, request: GatewayRequest) -> GatewayResponse:
        """Serve a request sent to the failover name (route None) or to `route`'s regional name."""
        try:
            answer = self._resolve_failover_cached() if route is None else self._resolve_regional(route)
        except Exception:  # noqa: BLE001 - never let a request kill the server thread
            logger.exception("local DNS: resolution failed")
            answer = None
        if answer is None:
            return _no_record()
        name, endpoint = answer
        gateway = self.gateways.get(endpoint.region)
        if gateway is None:
            self._warn_once(f"region:{endpoint.region}", "local DNS: %s resolves to %s, not served locally",
                            name, endpoint.region)
            return _no_record()
        response = gateway.handle_domain(name, request)
        response.note = f"{name}->{endpoint.region} {response.note}".strip()
        return response

    # ------------------------------------------------------------------------------------------ health checker

    def _supervise(self) -> None:
        """Every second: pick up new health checks, drop deleted ones, refresh configs; warm the snapshot."""
        while not self._stop.is_set():
            try:
                self._sync_checks()
                self._current_snapshot()
            except Exception:  # noqa: BLE001 - moto down or a bug: log once, retry
                self._warn_once("sync", "local DNS: listing health checks in moto failed", exc_info=True)
            else:
                self._logged.discard("sync")
            self._stop.wait(REFRESH_S)

    def _sync_checks(self) -> None:
        found: dict[str, dict[str, Any]] = {}
        for page in self._client("route53").get_paginator("list_health_checks").paginate():
            for item in page.get("HealthChecks", []):
                found[item["Id"]] = dict(item.get("HealthCheckConfig") or {})
        started = []
        with self._checkers_lock:
            if self._stop.is_set():
                return
            for check_id, config in found.items():
                checker = self._checkers.get(check_id)
                if checker is None:
                    checker = _Checker(check_id, config)
                    self._checkers[check_id] = checker
                    started.append(checker)
                else:
                    checker.config = config  # UpdateHealthCheck: the next probe uses the new settings
            gone = [self._checkers.pop(check_id) for check_id in list(self._checkers) if check_id not in found]
        for checker in gone:
            checker.stop.set()
            logger.info("local DNS: health check %s deleted, no longer probed", checker.id)
        for checker in started:
            checker.thread = threading.Thread(target=self._run_checker, args=(checker,),
                                              name=f"local-dns-check-{checker.id[:8]}", daemon=True)
            checker.thread.start()
            logger.info("local DNS: probing health check %s (%s %s)", checker.id, checker.config.get("Type"),
                        checker.fqdn or checker.config.get("IPAddress"))

    def _run_checker(self, checker: _Checker) -> None:
        next_at = time.monotonic()
        while not (checker.stop.is_set() or self._stop.is_set()):
            try:
                self._check_once(checker)
            except Exception:  # noqa: BLE001 - a bug in one probe must not end the checker
                logger.exception("local DNS: health check %s failed to run", checker.id)
            next_at += max(checker.interval_s * self.time_scale, 0.01)
            delay = next_at - time.monotonic()
            if delay < 0:  # a probe slower than the interval: start the next one now, do not catch up
                next_at, delay = time.monotonic(), 0.0
            checker.stop.wait(delay)

    def _check_once(self, checker: _Checker) -> None:
        config = checker.config
        kind = str(config.get("Type") or "")
        before = checker.reported()
        if config.get("Disabled"):
            pass  # Route 53 stops probing and considers the check healthy
        elif kind == "CALCULATED":
            # Healthy when at least HealthThreshold children are healthy; no threshold counting of its own.
            children = config.get("ChildHealthChecks") or []
            healthy_children = sum(self._check_healthy(child) for child in children)
            checker.healthy = healthy_children >= int(config.get("HealthThreshold") or 0)
            checker.probes += 1
        elif kind in ("CLOUDWATCH_METRIC", "RECOVERY_CONTROL"):
            # No CloudWatch alarms or routing controls locally: the status for insufficient data applies.
            self._warn_once(f"kind:{checker.id}", "local DNS: health check %s (%s) is not evaluated locally",
                            checker.id, kind)
            wanted = config.get("InsufficientDataHealthStatus") or "Healthy"
            if wanted in ("Healthy", "Unhealthy"):
                checker.healthy = wanted == "Healthy"
        else:
            ok, reason, status = self._probe(checker.id, config)
            checker.probes += 1
            checker.last = {"time": time.time(), "ok": ok, "reason": reason, "status": status}
            if ok:
                checker.successes, checker.failures = checker.successes + 1, 0
            else:
                checker.failures, checker.successes = checker.failures + 1, 0
            # Route 53: FailureThreshold consecutive results, either way, change the status.
            if checker.healthy and checker.failures >= checker.threshold:
                checker.healthy = False
            elif not checker.healthy and checker.successes >= checker.threshold:
                checker.healthy = True
        after = checker.reported()
        if after != before:
            endpoint = self._resolve(self._current_snapshot(), checker.fqdn) if checker.fqdn else None
            self._event(kind="health", health_check_id=checker.id, fqdn=checker.fqdn or None,
                        region=endpoint.region if endpoint else None, state=HEALTHY if after else UNHEALTHY,
                        reason=checker.last.get("reason"))

    def _probe(self, check_id: str, config: dict[str, Any]) -> tuple[bool, str, int | None]:
        """One request of one health checker: (passed, reason, HTTP status)."""
        kind = str(config.get("Type") or "")
        if config.get("IPAddress"):
            return False, "IP address endpoints are not reachable in the local cloud", None
        fqdn = _norm(config.get("FullyQualifiedDomainName"))
        endpoint = self._resolve(self._current_snapshot(), fqdn) if fqdn else None
        if endpoint is None:
            return False, f"Failure: DNS resolution failed for {fqdn or '(no name)'}", None
        gateway = self.gateways.get(endpoint.region)
        if gateway is None:
            return False, f"{fqdn} resolves to {endpoint.region}, not served locally", None
        port = int(config.get("Port") or 0)
        if kind in ("HTTP", "HTTP_STR_MATCH"):
            # API Gateway serves HTTPS only: a plain HTTP check never gets a connection.
            return False, "Failure: Connection timed out (API Gateway does not serve plain HTTP)", None
        if kind in ("HTTPS", "HTTPS_STR_MATCH") and port == 80:
            # moto reports Port 80 for a check created without one; Route 53's default for HTTPS is 443.
            port = 443
        if port != 443:
            return False, f"Failure: Connection timed out (API Gateway listens on 443, not {port})", None
        if kind == "TCP":
            return True, "Success: TCP connection established", None
        if kind not in ("HTTPS", "HTTPS_STR_MATCH"):
            return False, f"health check type {kind} is not probed locally", None
        # HTTPS: TLS is not emulated; EnableSNI is not checked (moto reports false for a check created without
        # it, while Route 53 defaults to true for HTTPS, and API Gateway needs SNI).
        path = str(config.get("ResourcePath") or "/")
        request = GatewayRequest(
            method="GET",
            target=path if path.startswith("/") else "/" + path,
            headers=[("Host", fqdn), ("User-Agent", _USER_AGENT.format(id=check_id)), ("Accept", "*/*")],
        )
        response = self._call_with_timeout(lambda: gateway.handle_domain(fqdn, request))
        if response is None:
            return False, f"Failure: no response within {self.probe_timeout:g} s", None
        status = response.status
        if not 200 <= status < 400:  # Route 53 passes 2xx and 3xx
            return False, f"Failure: HTTP Status Code {status}", status
        if kind == "HTTPS_STR_MATCH":
            wanted = str(config.get("SearchString") or "").encode()
            if wanted not in response.body[:SEARCH_WINDOW_BYTES]:
                return False, "Failure: the response body does not contain the search string", status
        return True, f"Success: HTTP Status Code {status}", status

    def _call_with_timeout(self, call: Callable[[], GatewayResponse]) -> GatewayResponse | None:
        """Run a probe on a thread of its own; None when it does not answer within probe_timeout (or on stop)."""
        box: list[GatewayResponse] = []
        done = threading.Event()

        def run() -> None:
            try:
                box.append(call())
            except Exception:  # noqa: BLE001 - handle_domain never raises; belt and braces
                logger.exception("local DNS: probe failed")
            finally:
                done.set()

        threading.Thread(target=run, name="local-dns-probe", daemon=True).start()
        deadline = time.monotonic() + self.probe_timeout
        while not done.wait(0.05):
            if self._stop.is_set() or time.monotonic() > deadline:
                return None
        return box[0] if box else None


def _no_record() -> GatewayResponse:
    # What a client would see as NXDOMAIN / no answer: there is nothing to connect to.
    return GatewayResponse(503, [("Content-Type", "application/json")],
                           json.dumps({"message": "no DNS record"}).encode(), "no DNS record")


# ------------------------------------------------------------------------------------------------- HTTP layer


class _DnsHandler(KeepAliveHandler):
    server_version = "LocalRoute53/1.0"
    max_body_bytes = MAX_BODY_BYTES
    plane: DnsPlane
    route: str | None  # None: the failover name; else the region whose regional name this server stands for

    def respond(self, body: bytes) -> GatewayResponse:
        return self.plane.dispatch(self.route, GatewayRequest(
            method=self.command, target=self.path, headers=list(self.headers.items()), body=body,
            client_ip=self.client_address[0]))

    def too_large(self) -> GatewayResponse:
        return GatewayResponse(413, [("Content-Type", "application/json")],
                               b'{"message": "Request Too Long"}', "body too large")

    def log_served(self, response: GatewayResponse, started: float) -> None:
        # Never the query (it may carry presigned credentials) or any header value.
        logger.info("dns %s %s %s %d %.1fms %s", self.route or "failover", self.command,
                    split_target(self.path)[0], response.status, (time.perf_counter() - started) * 1000,
                    response.note)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - http.server's signature
        logger.debug("local DNS: " + format, *args)
