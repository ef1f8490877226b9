"""What Route 53 itself sees during test-failover: each region's health-check status and the region its DNS
answer for the failover name points at.

On the local cloud: the DNS plane's status (local/dns.py), which reads the same records and checks.

On AWS, Route 53 publishes no per-poll verdict of its own, so AwsObserver rebuilds it from what the API shows,
following the Route 53 Developer Guide, "How Amazon Route 53 determines whether a health check is healthy"
(https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/dns-failover-determining-health-of-endpoints.html):

- Each of Route 53's health checkers (~15-16 of them, each with its own IP address) probes the endpoint every
  RequestInterval and considers it unhealthy only after FailureThreshold *consecutive* failed probes, healthy
  again after as many consecutive passes.
- The health check is healthy when *more than* 18% of the checkers consider the endpoint healthy, unhealthy
  when 18% or fewer do.

GetHealthCheckStatus (API reference: GetHealthCheckStatus, GET /2013-04-01/healthcheck/{Id}/status) returns,
per checker (`IPAddress`, `Region`), only that checker's *last* result: `StatusReport.Status` ("Success: HTTP
Status Code 200, OK" or "Failure: ...") and `StatusReport.CheckedTime`. So the observer keeps, per health
check and per checker (keyed by IPAddress), the results it has seen ordered by CheckedTime; a result polled
twice (same checker, same CheckedTime) counts once. A checker's state is the kind of its latest run of
FailureThreshold equal results; before such a run is seen the state is not known (Route 53 starts a *new*
check healthy, but the observer usually starts watching an existing one). Then the 18% rule, over the checkers
of the latest answer:

- "unhealthy": 18% or fewer checkers can be healthy, even counting every undetermined checker as healthy;
- "healthy": more than 18% are known healthy;
- "unknown": no observations yet, or the undetermined checkers could tip it either way.

"unhealthy" comes out exactly when it would under "a new checker starts healthy"; only "healthy" waits for
evidence. The observer sees every result only if it polls at least once per RequestInterval (10 or 30 s).
GetHealthCheckStatus is "intended for use during development ... doesn't support production use-cases with
high query rates" and Route 53's API allows 5 requests/s per account, hence `poll_interval` (5 s by default):
the game day's watcher polls AWS at that rate instead of its probe interval.

DNS: the failover name `api.<domain>` is a pair of CNAME failover records (PRIMARY/SECONDARY) whose values are
the API Gateway regional domain names (`d-xxxx.execute-api.<region>.amazonaws.com`) of the custom domain in
each region. TestDNSAnswer (API reference: TestDNSAnswer, GET /2013-04-01/testdnsanswer) with RecordType CNAME
returns the value Route 53 answers with now (`RecordData`, a list of strings; `ResponseCode` "NOERROR",
"NXDOMAIN", ...). That value is matched (trailing dot stripped, case-insensitive) to the region whose regional
domain name it is; no local resolver is involved, so client-side caching cannot hide or delay the switch.
"""

from __future__ import annotations

import bisect
import datetime as dt
from typing import Any, Protocol

HEALTHY, UNHEALTHY, UNKNOWN = "healthy", "unhealthy", "unknown"


class Observer(Protocol):
    # Seconds between observations; None: as often as the game day probes.
    poll_interval: float | None

    def health(self) -> dict[str, str]:
        """{region: "healthy" | "unhealthy" | "unknown"} by the health checks."""

    def dns_region(self) -> str | None:
        """The region Route 53 answers the failover name with now (a fresh lookup)."""

    def became_unhealthy(self, region: str, after: float) -> float | None:
        """When Route 53 itself judged `region` unhealthy, at or after `after` (epoch seconds), by the health
        check's own clock; None when the source does not say (the game day then takes the first observation)."""


class LocalObserver:
    poll_interval: float | None = None  # the local DNS plane is cheap to read: the game day's probe interval

    def __init__(self, site_root: str):
        self.site_root = site_root

    def _status(self) -> dict[str, Any]:
        from wildrydes_mr.local import cloud

        return cloud.data_plane_status(self.site_root)["dns"]

    def health(self) -> dict[str, str]:
        return dict(self._status().get("health", {}))

    def dns_region(self) -> str | None:
        return self._status().get("dns_answer")

    def became_unhealthy(self, region: str, after: float) -> float | None:
        # The DNS plane records each health transition as it makes it: exact, unlike a sampled observation.
        return next((event["time"] for event in self._status().get("events", [])
                     if event.get("kind") == "health" and event.get("region") == region
                     and event.get("state") == UNHEALTHY and event["time"] >= after), None)


class CheckerHistory:
    """One Route 53 health checker's results for one health check, ordered by CheckedTime, each once."""

    def __init__(self) -> None:
        self.results: list[tuple[dt.datetime, bool]] = []  # (CheckedTime, passed)

    def add(self, checked_time: dt.datetime, passed: bool) -> bool:
        """Record a result; False when this CheckedTime was already seen."""
        at = bisect.bisect_left(self.results, checked_time, key=lambda result: result[0])
        if at < len(self.results) and self.results[at][0] == checked_time:
            return False
        self.results.insert(at, (checked_time, passed))
        return True

    def state(self, threshold: int) -> bool | None:
        """True/False: the kind of the latest run of `threshold` equal results; None: no such run yet."""
        run_kind, run = None, 0
        state = None
        for _, passed in self.results:
            run = run + 1 if passed == run_kind else 1
            run_kind = passed
            if run >= threshold:
                state = passed
        return state

    def turned_unhealthy(self, threshold: int, after: float) -> float | None:
        """The CheckedTime (epoch seconds) of the first result at or after `after` that ends a run of
        `threshold` failures: the moment this checker considered the endpoint unhealthy."""
        run = 0
        for checked_time, passed in self.results:
            run = 0 if passed else run + 1
            if run >= threshold and checked_time.timestamp() >= after:
                return checked_time.timestamp()
        return None


def verdict(states: list[bool | None]) -> str:
    """Route 53's 18% rule over the checkers' states (None: not determined yet)."""
    if not states:
        return UNKNOWN
    known_healthy = sum(1 for s in states if s is True)
    possibly_healthy = sum(1 for s in states if s is not False)
    # healthy when more than 18% of the checkers say so (integers: no float edge at exactly 18%)
    if possibly_healthy * 100 <= AwsObserver.HEALTHY_PERCENT * len(states):
        return UNHEALTHY
    if known_healthy * 100 > AwsObserver.HEALTHY_PERCENT * len(states):
        return HEALTHY
    return UNKNOWN


def _domain(name: str) -> str:
    return name.strip().rstrip(".").lower()


class AwsObserver:
    HEALTHY_PERCENT = 18  # Route 53: healthy while more than 18% of its checkers consider the endpoint healthy

    def __init__(self, aws: Any, zone_id: str, failover_name: str, checks: dict[str, str],
                 regional_domains: dict[str, str], *, failure_threshold: int = 3, poll_interval: float = 5.0):
        """checks: region -> health check id; regional_domains: region -> API Gateway regional domain name of
        api.<domain> in that region; failure_threshold: the checks' FailureThreshold (Route 53's default is 3);
        poll_interval: seconds between observations (Route 53 API rate limits)."""
        if failure_threshold < 1:
            raise ValueError(f"failure_threshold must be at least 1, not {failure_threshold}")
        if poll_interval <= 0:
            raise ValueError(f"poll_interval must be positive, not {poll_interval}")
        self.route53 = aws.client("route53", "us-east-1")
        self.zone_id = zone_id
        self.failover_name = failover_name
        self.checks = checks
        self.regional_domains = regional_domains
        self.failure_threshold = failure_threshold
        self.poll_interval: float | None = poll_interval
        self.history: dict[str, dict[str, CheckerHistory]] = {}  # health check id -> checker IP -> results

    def observe(self, check_id: str) -> list[bool | None]:
        """Poll one health check; the states of the checkers in Route 53's answer."""
        answer = self.route53.get_health_check_status(HealthCheckId=check_id)
        checkers = self.history.setdefault(check_id, {})
        states = []
        for observation in answer.get("HealthCheckObservations", []):
            report = observation.get("StatusReport") or {}
            checker = observation.get("IPAddress") or observation.get("Region")
            if not checker or "CheckedTime" not in report or "Status" not in report:
                continue
            history = checkers.setdefault(checker, CheckerHistory())
            history.add(report["CheckedTime"], report["Status"].startswith("Success"))
            states.append(history.state(self.failure_threshold))
        return states

    def health(self) -> dict[str, str]:
        return {region: verdict(self.observe(check_id)) for region, check_id in self.checks.items()}

    def became_unhealthy(self, region: str, after: float) -> float | None:
        """From the results seen (each checker's CheckedTime), the moment the 18% rule turned: when enough
        checkers had each seen FailureThreshold consecutive failures that 18% or fewer could still be healthy.
        Exact only for the results seen: the observer must poll at least once per RequestInterval."""
        checkers = list(self.history.get(self.checks.get(region, ""), {}).values())
        turned = sorted(t for c in checkers if (t := c.turned_unhealthy(self.failure_threshold, after)) is not None)
        for count, moment in enumerate(turned, start=1):
            # The others counted as possibly healthy, as `verdict` counts an undetermined checker.
            if verdict([False] * count + [None] * (len(checkers) - count)) == UNHEALTHY:
                return moment
        return None

    def dns_region(self) -> str | None:
        answer = self.route53.test_dns_answer(HostedZoneId=self.zone_id, RecordName=self.failover_name,
                                              RecordType="CNAME")
        if answer.get("ResponseCode") != "NOERROR":
            return None
        regions = {_domain(domain): region for region, domain in self.regional_domains.items()}
        for value in answer.get("RecordData", []):
            region = regions.get(_domain(value))
            if region is not None:
                return region
        return None
