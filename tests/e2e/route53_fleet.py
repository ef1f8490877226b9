"""A stand-in for Route 53's health checkers and DNS answers, for running the game day's AWS code path against
the local data plane: moto holds the health checks and records but always reports Success and has no
TestDNSAnswer.

Several checkers per health check (each with its own IP address and phase) probe the region's own name through
the local DNS plane every RequestInterval × time_scale, as Route 53's checkers do. Each checker turns unhealthy
after FailureThreshold consecutive failures (healthy after as many passes); a check is healthy while more than
18% of its checkers say so. GetHealthCheckStatus answers each checker's LAST result with its CheckedTime;
TestDNSAnswer answers the failover name's CNAME value as failover routing would (PRIMARY while its check is
healthy, else SECONDARY if healthy, else PRIMARY). Counting is written independently of wildrydes' observer,
so the test compares two implementations of Route 53's rules, not one with itself.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from typing import Any

from botocore.awsrequest import AWSResponse

HEALTHY_PERCENT = 18


@dataclass
class Checker:
    ip: str
    healthy: bool = True  # Route 53 starts a new health check healthy
    failures: int = 0
    passes: int = 0
    last: tuple[dt.datetime, bool] | None = None


@dataclass
class Check:
    check_id: str
    region: str
    url: str
    checkers: list[Checker] = field(default_factory=list)
    became_unhealthy: float | None = None

    def healthy(self) -> bool:
        return sum(c.healthy for c in self.checkers) * 100 > HEALTHY_PERCENT * len(self.checkers)


class Route53Fleet:
    def __init__(self, checks: dict[str, tuple[str, str]], interval: float, threshold: int,
                 failover: dict[str, tuple[str, str]], checkers: int = 6):
        """checks: region -> (health check id, URL of the region's own name); failover: PRIMARY and SECONDARY ->
        (region, the CNAME value of that failover record)."""
        self.interval, self.threshold = interval, threshold
        self.roles = {role: region for role, (region, _) in failover.items()}
        self.failover_values = {role: value for role, (_, value) in failover.items()}
        self.checks = {check_id: Check(check_id, region, url, [Checker(f"15.177.{n}.{i + 10}")
                                                               for i in range(checkers)])
                       for n, (region, (check_id, url)) in enumerate(sorted(checks.items()))}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    # --- the checkers -------------------------------------------------------------------------------------
    def start(self) -> None:
        for check in self.checks.values():
            for i, checker in enumerate(check.checkers):
                phase = self.interval * i / len(check.checkers)
                thread = threading.Thread(target=self._run, args=(check, checker, phase), daemon=True)
                thread.start()
                self._threads.append(thread)

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(5)

    def _run(self, check: Check, checker: Checker, phase: float) -> None:
        next_at = time.monotonic() + phase
        while not self._stop.wait(max(0.0, next_at - time.monotonic())):
            passed = self._probe(check.url)
            with self._lock:
                checker.last = (dt.datetime.now(dt.UTC), passed)
                checker.passes, checker.failures = (checker.passes + 1, 0) if passed else (0, checker.failures + 1)
                if checker.healthy and checker.failures >= self.threshold:
                    checker.healthy = False
                elif not checker.healthy and checker.passes >= self.threshold:
                    checker.healthy = True
                if not check.healthy() and check.became_unhealthy is None:
                    check.became_unhealthy = time.time()
            next_at += self.interval

    @staticmethod
    def _probe(url: str) -> bool:
        try:
            with urllib.request.urlopen(url.rstrip("/") + "/health", timeout=4) as response:  # Route 53: 4 s
                return 200 <= response.status < 400
        except (urllib.error.URLError, OSError):
            return False

    # --- the API answers ----------------------------------------------------------------------------------
    def install(self, events: Any) -> None:
        events.register("before-call.route-53.GetHealthCheckStatus", self._status)
        events.register("before-call.route-53.TestDNSAnswer", self._dns_answer)

    @staticmethod
    def _answer(parsed: dict[str, Any]) -> tuple[AWSResponse, dict[str, Any]]:
        return AWSResponse(None, 200, {}, None), {**parsed, "ResponseMetadata": {
            "HTTPStatusCode": 200, "RequestId": str(uuid.uuid4()), "HTTPHeaders": {}}}

    def _status(self, params: Any = None, **_: Any) -> Any:
        check = self.checks[params["url_path"].rstrip("/").split("/")[-2]]  # .../healthcheck/{Id}/status
        with self._lock:
            observations = [{"IPAddress": c.ip, "Region": "us-east-1", "StatusReport": {
                "Status": "Success: HTTP Status Code 200, OK" if c.last[1] else "Failure: HTTP Status Code 503",
                "CheckedTime": c.last[0]}} for c in check.checkers if c.last is not None]
        return self._answer({"HealthCheckObservations": observations})

    def _dns_answer(self, **_: Any) -> Any:
        by_region = {check.region: check for check in self.checks.values()}
        with self._lock:
            healthy = {role: by_region[region].healthy() for role, region in self.roles.items()}
        role = "PRIMARY" if healthy["PRIMARY"] or not healthy["SECONDARY"] else "SECONDARY"
        return self._answer({"Nameserver": "ns-1.awsdns-00.com", "RecordName": "api", "RecordType": "CNAME",
                             "RecordData": [self.failover_values[role] + "."], "ResponseCode": "NOERROR",
                             "Protocol": "UDP"})

    def unhealthy_since(self, region: str) -> float | None:
        return next(c.became_unhealthy for c in self.checks.values() if c.region == region)
