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
  many consecutive passes; a new check is healthy until then. Transitions are kept in `events`. During a local
  outage of a region (outage.py) its gateway answers 503, so its checks fail by themselves.
- **Failover and client caching.** The failover name answers PRIMARY while its health check is healthy, else
  SECONDARY if healthy, else PRIMARY again (Route 53's documented failover behaviour). The answer is cached
  the way a client's resolver caches it: for the record's TTL x time_scale (alias records carry the target's
  TTL: 60 s for API Gateway regional domain names), so traffic moves only when the cached answer expires.

Known differences from Route 53: one health checker instead of a fleet that votes (>18 % healthy); no IP
address endpoints, latency or weighted routing, or CloudWatch alarms (those checks take their
InsufficientDataHealthStatus); EvaluateTargetHealth is not evaluated (alias targets count as healthy).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import deque
from typing import Any

from ..credentials import LocalCredential
from ..gateway import MAX_BODY_BYTES, GatewayRequest, GatewayResponse, LocalGateway
from ..http_server import LocalHttpServer
from ..sigv4_verify import split_target
from .health import DEFAULT_PROBE_TIMEOUT_S, Checker, HealthChecking
from .records import DEFAULT_ALIAS_TTL_S, HEALTHY, UNHEALTHY, Endpoint, Record, Snapshot, now_iso
from .resolution import Resolution

__all__ = ["DEFAULT_ALIAS_TTL_S", "DnsPlane"]

logger = logging.getLogger(__name__)
MAX_EVENTS = 500


class DnsPlane(Resolution, HealthChecking):
    """Route 53's data plane for the local cloud. See the package docstring.

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
        self._servers: dict[str | None, LocalHttpServer] = {}  # None: the failover name; else a region
        self._threads: list[threading.Thread] = []

        self._snapshot = Snapshot()
        self._snapshot_lock = threading.Lock()
        self._checkers: dict[str, Checker] = {}
        self._checkers_lock = threading.Lock()
        self._events: deque[dict[str, Any]] = deque(maxlen=MAX_EVENTS)
        self._events_lock = threading.Lock()
        # The failover name's answer as a client's resolver caches it: (expires monotonic, name, record, endpoint)
        self._cached: tuple[float, str, Record, Endpoint] | None = None
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
            server = LocalHttpServer(f"dns-{key or 'failover'}", lambda request, k=key: self.dispatch(k, request),
                                     max_body_bytes=MAX_BODY_BYTES, too_large=_too_large,
                                     log_served=lambda request, response, started, k=key: _log_served(
                                         k, request, response, started), host=self.host)
            server.start()
            self._servers[key] = server
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
            server.stop()
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
        return f"{server.url}/" if server else None

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

    def _event(self, when: float | None = None, **fields: Any) -> None:
        now = time.time() if when is None else when
        event = {"time": now, "at": now_iso(now), **fields}
        with self._events_lock:
            self._events.append(event)
        logger.info("local DNS event: %s", json.dumps(event, sort_keys=True))

    def _warn_once(self, key: str, message: str, *args: Any) -> None:
        if key not in self._logged:
            self._logged.add(key)
            logger.warning(message, *args)


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


def _no_record() -> GatewayResponse:
    # What a client would see as NXDOMAIN / no answer: there is nothing to connect to.
    return GatewayResponse(503, [("Content-Type", "application/json")],
                           json.dumps({"message": "no DNS record"}).encode(), "no DNS record")



def _too_large() -> GatewayResponse:
    return GatewayResponse(413, [("Content-Type", "application/json")], b'{"message": "Request Too Long"}',
                           "body too large")


def _log_served(route: str | None, request: GatewayRequest, response: GatewayResponse, started: float) -> None:
    # Never the query (it may carry presigned credentials) or any header value.
    logger.info("dns %s %s %s %d %.1fms %s", route or "failover", request.method, split_target(request.target)[0],
                response.status, (time.perf_counter() - started) * 1000, getattr(response, "note", ""))
