"""The local DNS plane's health checker: each Route 53 health check held by moto is probed every RequestInterval
(× time_scale) on a thread of its own, against the endpoint its FullyQualifiedDomainName resolves to (in-process,
no TLS). Route 53's rules: 2xx/3xx is a pass; the status flips after FailureThreshold consecutive failures, and
back after as many consecutive passes; a new check is healthy until then; Disabled checks are healthy and
Inverted ones flip. One checker stands for Route 53's fleet (which votes: > 18 % healthy)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..gateway import GatewayRequest, GatewayResponse
from .records import HEALTHY, REFRESH_S, UNHEALTHY, norm

logger = logging.getLogger(__name__)

# Route 53 wants the TCP connection within 4 s and the status line within 2 s of it. Locally the connection is
# instant but a cold Lambda worker starts slower than Lambda does, so the whole probe gets 4 s.
DEFAULT_PROBE_TIMEOUT_S = 4.0
# String-matching checks look for SearchString in the first 5120 bytes of the body.
SEARCH_WINDOW_BYTES = 5120
_USER_AGENT = "Amazon-Route53-Health-Check-Service (ref {id}; report http://amzn.to/1vsZADi)"


@dataclass
class Checker:
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
        return norm(self.config.get("FullyQualifiedDomainName"))

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


class HealthChecking:
    """The DnsPlane's health checks (a mixin: it shares the plane's moto clients, snapshot and events)."""

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
                    checker = Checker(check_id, config)
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

    def _run_checker(self, checker: Checker) -> None:
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

    def _check_once(self, checker: Checker) -> None:
        config = checker.config
        kind = str(config.get("Type") or "")
        before = checker.reported()
        # The moment of the verdict, taken before it shows in any answer (a client must not be served by the new
        # verdict before the time the event records).
        decided_at = time.time()
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
            decided_at = time.time()
            checker.last = {"time": decided_at, "ok": ok, "reason": reason, "status": status}
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
            self._event(when=decided_at, kind="health", health_check_id=checker.id, fqdn=checker.fqdn or None,
                        region=endpoint.region if endpoint else None, state=HEALTHY if after else UNHEALTHY,
                        reason=checker.last.get("reason"))

    def _probe(self, check_id: str, config: dict[str, Any]) -> tuple[bool, str, int | None]:
        """One request of one health checker: (passed, reason, HTTP status)."""
        kind = str(config.get("Type") or "")
        if config.get("IPAddress"):
            return False, "IP address endpoints are not reachable in the local cloud", None
        fqdn = norm(config.get("FullyQualifiedDomainName"))
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

