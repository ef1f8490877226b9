"""AwsObserver rebuilds Route 53's verdict from GetHealthCheckStatus (per-checker FailureThreshold, then the 18%
rule) and reads the failover answer from TestDNSAnswer's CNAME, against a simulated fleet of health checkers.
Never real AWS: a fake client, or botocore's Stubber on a client with the suite's fake credentials."""

from __future__ import annotations

import datetime as dt
import math
import socket

import boto3
import pytest
from botocore.stub import Stubber

from wildrydes_mr.observers import AwsObserver, CheckerHistory, LocalObserver, verdict

PRIMARY, SECONDARY = "eu-west-1", "eu-central-1"
CHECK = "11111111-2222-3333-4444-555555555555"
ZONE = "Z0123456789ABCDEFGHIJ"
NAME = "api.example.com"
REGIONAL = {PRIMARY: "d-abc123.execute-api.eu-west-1.amazonaws.com",
            SECONDARY: "d-def456.execute-api.eu-central-1.amazonaws.com"}
EPOCH = dt.datetime(2024, 5, 1, 12, 0, tzinfo=dt.UTC)
POLL = 5.0
FAIL_AT = 100.3  # endpoint fails from here on (not aligned with the polls or the probes)


class Checkers:
    """Route 53's health checkers for one check: each probes every `interval` s from its own phase, and
    GetHealthCheckStatus shows each one's last result with its CheckedTime."""

    def __init__(self, passes, n: int = 16, interval: float = 10.0):
        self.passes = passes  # (checker index, probe time) -> passed
        self.interval = interval
        self.phases = [i * interval / n for i in range(n)]  # spread over one interval
        self.now = 0.0

    def last_probe(self, i: int) -> float | None:
        k = math.floor((self.now - self.phases[i]) / self.interval)
        return None if k < 0 else self.phases[i] + k * self.interval

    def observations(self) -> list[dict]:
        result = []
        for i in range(len(self.phases)):
            at = self.last_probe(i)
            if at is None:
                continue
            status = "Success: HTTP Status Code 200, OK" if self.passes(i, at) else \
                "Failure: HTTP Status Code 503, Service Unavailable. Resolved IP: 203.0.113.7"
            result.append({"Region": ["us-east-1", "eu-west-1", "ap-southeast-1", "sa-east-1"][i % 4],
                           "IPAddress": f"15.177.{i}.{10 + i}",
                           "StatusReport": {"Status": status, "CheckedTime": EPOCH + dt.timedelta(seconds=at)}})
        return result


class FakeRoute53:
    def __init__(self, checkers: Checkers | None = None, dns: dict | None = None):
        self.checkers = checkers
        self.dns = dns or {}
        self.calls: list[tuple[str, dict]] = []

    def get_health_check_status(self, **kwargs):
        self.calls.append(("get_health_check_status", kwargs))
        assert kwargs == {"HealthCheckId": CHECK}
        return {"HealthCheckObservations": self.checkers.observations() if self.checkers else []}

    def test_dns_answer(self, **kwargs):
        self.calls.append(("test_dns_answer", kwargs))
        return {"Nameserver": "ns-1.awsdns-01.org", "RecordName": kwargs["RecordName"],
                "RecordType": kwargs["RecordType"], "Protocol": "UDP", **self.dns}


class FakeAws:
    def __init__(self, client):
        self._client = client

    def client(self, service: str, region: str):
        assert (service, region) == ("route53", "us-east-1")
        return self._client


def make(route53, **kwargs) -> AwsObserver:
    return AwsObserver(FakeAws(route53), ZONE, NAME, {PRIMARY: CHECK}, REGIONAL, **kwargs)


def endpoint_fails_at(fail_at: float, recover_at: float = math.inf):
    return lambda i, t: not fail_at <= t < recover_at


def naive(observations: list[dict]) -> str:
    """The old code: the share of *last* results that are successes, no threshold."""
    ok = sum(1 for o in observations if o["StatusReport"]["Status"].startswith("Success"))
    return "healthy" if observations and ok / len(observations) > 0.18 else "unhealthy"


def timeline(checkers: Checkers, judge, until: float, poll: float = POLL) -> list[tuple[float, str]]:
    """Poll every `poll` s of simulated time from 0 to `until`: [(t, judge())]."""
    seen = []
    for k in range(int(until / poll) + 1):
        checkers.now = k * poll
        seen.append((checkers.now, judge()))
    return seen


def first(seen: list[tuple[float, str]], value: str, after: float = 0.0) -> float | None:
    return next((t for t, v in seen if v == value and t >= after), None)


@pytest.fixture(autouse=True)
def no_resolver(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("AwsObserver must not resolve names itself")

    for name in ("gethostbyname_ex", "gethostbyname", "getaddrinfo"):
        monkeypatch.setattr(socket, name, refuse)


def test_detection_takes_failure_threshold_intervals_not_one():
    interval = 10.0
    checkers = Checkers(endpoint_fails_at(FAIL_AT), interval=interval)
    observer = make(FakeRoute53(checkers), failure_threshold=3)

    seen = timeline(checkers, lambda: (observer.health()[PRIMARY], naive(checkers.observations())), FAIL_AT + 100)
    ours = [(t, v[0]) for t, v in seen]
    old = [(t, v[1]) for t, v in seen]
    assert first(ours, "healthy") < FAIL_AT and first(ours, "unhealthy") > FAIL_AT

    delay = first(ours, "unhealthy") - FAIL_AT
    assert 2 * interval < delay <= 3.5 * interval + POLL, delay
    # the old last-result count says unhealthy after about one interval: this test fails on the old code
    naive_delay = first(old, "unhealthy") - FAIL_AT
    assert naive_delay <= interval + POLL < 2 * interval


def test_failure_threshold_one_detects_after_about_one_interval():
    interval = 10.0
    checkers = Checkers(endpoint_fails_at(FAIL_AT), interval=interval)
    observer = make(FakeRoute53(checkers), failure_threshold=1)

    seen = timeline(checkers, lambda: observer.health()[PRIMARY], FAIL_AT + 100)
    assert first(seen, "healthy") < FAIL_AT
    assert 0 < first(seen, "unhealthy") - FAIL_AT <= interval + POLL


@pytest.mark.parametrize(("still_passing", "expected"), [(0, "unhealthy"), (2, "unhealthy"), (3, "healthy"),
                                                         (16, "healthy")])
def test_healthy_only_while_more_than_18_percent_of_checkers_say_so(still_passing, expected):
    # checkers 0..still_passing-1 still reach the endpoint (12.5% of 16 is too few, 18.75% enough)
    checkers = Checkers(lambda i, t: i < still_passing or t < FAIL_AT)
    observer = make(FakeRoute53(checkers), failure_threshold=3)

    seen = timeline(checkers, observer.health, FAIL_AT + 100)
    assert seen[-1][1] == {PRIMARY: expected}


def test_recovery_needs_threshold_consecutive_successes_per_checker():
    interval, recover_at = 10.0, 200.3
    checkers = Checkers(endpoint_fails_at(FAIL_AT, recover_at), interval=interval)
    observer = make(FakeRoute53(checkers), failure_threshold=3)

    seen = timeline(checkers, lambda: (observer.health()[PRIMARY], naive(checkers.observations())), recover_at + 100)
    ours = [(t, v[0]) for t, v in seen]
    old = [(t, v[1]) for t, v in seen]
    assert FAIL_AT < first(ours, "unhealthy") < recover_at
    # Route 53 is healthy again only after 3 passes in a row on more than 18% of the checkers
    assert 2 * interval < first(ours, "healthy", recover_at) - recover_at <= 3.5 * interval + POLL
    assert first(old, "healthy", recover_at) - recover_at <= interval + POLL


def test_flapping_results_do_not_bring_an_unhealthy_check_back():
    # after t=200 each checker passes two probes out of three: never 3 passes in a row
    def passes(i, t):
        return t < FAIL_AT or (t > 200 and round((t - i * 10 / 16) / 10) % 3 != 0)

    checkers = Checkers(passes)
    observer = make(FakeRoute53(checkers), failure_threshold=3)
    seen = timeline(checkers, lambda: observer.health()[PRIMARY], 500)
    assert FAIL_AT < first(seen, "unhealthy") < 200
    assert first(seen, "healthy", 200) is None
    assert naive(checkers.observations()) == "healthy"  # most last results are passes


def test_a_result_polled_twice_counts_once():
    checkers = Checkers(lambda i, t: not 100 <= t < 110)  # exactly one failed probe per checker
    observer = make(FakeRoute53(checkers), failure_threshold=3)
    for t in range(0, 100, 5):
        checkers.now = t
        assert observer.health()[PRIMARY] in ("healthy", "unknown")
    assert observer.health()[PRIMARY] == "healthy"

    checkers.now = 110  # every checker's last result is its one failure; poll it many times
    for _ in range(5):
        assert observer.health() == {PRIMARY: "healthy"}
    history = next(iter(observer.history[CHECK].values()))
    assert len(history.results) == len({at for at, _ in history.results})


def test_detection_is_the_same_when_polling_faster_than_the_checkers():
    checkers = Checkers(endpoint_fails_at(FAIL_AT))
    observer = make(FakeRoute53(checkers), failure_threshold=3)
    seen = timeline(checkers, lambda: observer.health()[PRIMARY], FAIL_AT + 100, poll=1.0)
    assert 20 < first(seen, "unhealthy") - FAIL_AT <= 35


def test_results_are_ordered_by_checked_time_and_deduplicated():
    history = CheckerHistory()
    t = [EPOCH + dt.timedelta(seconds=10 * k) for k in range(4)]
    assert history.add(t[2], False) and history.add(t[0], False) and history.add(t[1], False)
    assert not history.add(t[1], False)
    assert [at for at, _ in history.results] == t[:3]
    assert history.state(3) is False and history.state(4) is None
    history.add(t[3], True)
    assert history.state(1) is True and history.state(3) is False


def test_no_observations_is_unknown_not_unhealthy():
    observer = make(FakeRoute53(None), failure_threshold=3)
    assert observer.health() == {PRIMARY: "unknown"}
    assert verdict([]) == "unknown"


def test_undetermined_checkers_are_unknown_until_a_threshold_run():
    checkers = Checkers(lambda i, t: True)
    observer = make(FakeRoute53(checkers), failure_threshold=3)
    seen = dict(timeline(checkers, lambda: observer.health()[PRIMARY], 25))
    assert seen[15] == "unknown"  # two passes per checker so far: Route 53 may still consider it unhealthy
    assert seen[25] == "healthy"  # 9 of 16 checkers have passed three probes in a row
    assert verdict([None] * 2 + [False] * 14) == "unhealthy"  # even if both undetermined ones are healthy
    assert verdict([True] * 2 + [None] + [False] * 13) == "unknown"
    assert verdict([True] * 3 + [False] * 13) == "healthy"


@pytest.mark.parametrize(("dns", "region"), [
    ({"ResponseCode": "NOERROR", "RecordData": ["D-ABC123.Execute-API.eu-west-1.amazonaws.com."]}, PRIMARY),
    ({"ResponseCode": "NOERROR", "RecordData": ["d-def456.execute-api.eu-central-1.amazonaws.com"]}, SECONDARY),
    ({"ResponseCode": "NOERROR", "RecordData": ["d-zzz999.execute-api.us-east-1.amazonaws.com."]}, None),
    ({"ResponseCode": "NOERROR", "RecordData": []}, None),
    ({"ResponseCode": "NXDOMAIN", "RecordData": []}, None),
    ({"ResponseCode": "SERVFAIL", "RecordData": [REGIONAL[PRIMARY]]}, None),
])
def test_dns_region_maps_the_cname_answer_to_a_region(dns, region):
    route53 = FakeRoute53(dns=dns)
    assert make(route53).dns_region() == region
    assert route53.calls == [("test_dns_answer", {"HostedZoneId": ZONE, "RecordName": NAME, "RecordType": "CNAME"})]


def test_requests_and_answers_match_the_route53_api_model():
    client = boto3.client("route53", region_name="us-east-1")
    observer = AwsObserver(FakeAws(client), ZONE, NAME, {PRIMARY: CHECK}, REGIONAL, failure_threshold=1)
    checkers = Checkers(lambda i, t: True)
    checkers.now = 30
    with Stubber(client) as stub:  # validates our parameters and these answers against botocore's model
        stub.add_response("get_health_check_status", {"HealthCheckObservations": checkers.observations()},
                          {"HealthCheckId": CHECK})
        stub.add_response("test_dns_answer", {"Nameserver": "ns-1.awsdns-01.org", "RecordName": NAME,
                                              "RecordType": "CNAME", "RecordData": [REGIONAL[SECONDARY] + "."],
                                              "ResponseCode": "NOERROR", "Protocol": "UDP"},
                          {"HostedZoneId": ZONE, "RecordName": NAME, "RecordType": "CNAME"})
        assert observer.health() == {PRIMARY: "healthy"}
        assert observer.dns_region() == SECONDARY
        stub.assert_no_pending_responses()


def test_poll_intervals_and_arguments():
    assert make(FakeRoute53()).poll_interval == 5.0
    assert make(FakeRoute53(), poll_interval=2.5).poll_interval == 2.5
    assert make(FakeRoute53()).failure_threshold == 3
    assert LocalObserver("/nowhere").poll_interval is None
    with pytest.raises(TypeError):
        AwsObserver(FakeAws(FakeRoute53()), ZONE, NAME, {}, {}, 3)  # failure_threshold is keyword-only
    with pytest.raises(ValueError):
        make(FakeRoute53(), failure_threshold=0)
    with pytest.raises(ValueError):
        make(FakeRoute53(), poll_interval=0)


def test_the_moment_of_detection_is_the_checked_time_that_tipped_the_18_percent_rule():
    interval = 10.0
    checkers = Checkers(endpoint_fails_at(FAIL_AT), interval=interval)
    observer = make(FakeRoute53(checkers), failure_threshold=3)
    seen = timeline(checkers, lambda: observer.health()[PRIMARY], FAIL_AT + 100)

    # Each checker turns unhealthy at its third failed probe; with 16 checkers at most 2 (12.5%) may stay
    # healthy, so the check turns when the 14th checker does.
    third_failures = sorted(phase + math.ceil((FAIL_AT - phase) / interval) * interval + 2 * interval
                            for phase in checkers.phases)
    exact = observer.became_unhealthy(PRIMARY, EPOCH.timestamp())
    assert exact == pytest.approx(EPOCH.timestamp() + third_failures[13])
    # The polls saw it later (every 5 s), never earlier.
    assert exact <= EPOCH.timestamp() + first(seen, "unhealthy") < exact + POLL
    # A moment asked for after the whole failure: none yet; an unknown region: none.
    assert observer.became_unhealthy(PRIMARY, EPOCH.timestamp() + FAIL_AT + 100) is None
    assert observer.became_unhealthy(SECONDARY, EPOCH.timestamp()) is None


def test_a_check_not_unhealthy_enough_has_no_moment_of_detection():
    checkers = Checkers(lambda i, t: i < 3 or t < FAIL_AT)  # 3 of 16 (18.75%) keep passing: still healthy
    observer = make(FakeRoute53(checkers), failure_threshold=3)
    timeline(checkers, observer.health, FAIL_AT + 100)
    assert observer.health() == {PRIMARY: "healthy"}
    assert observer.became_unhealthy(PRIMARY, EPOCH.timestamp()) is None


def test_the_local_observer_takes_the_dns_planes_own_transition_time(monkeypatch):
    events = [{"kind": "health", "region": PRIMARY, "state": "unhealthy", "time": 90.0},
              {"kind": "route", "region": SECONDARY, "time": 101.0},
              {"kind": "health", "region": SECONDARY, "state": "unhealthy", "time": 102.0},
              {"kind": "health", "region": PRIMARY, "state": "healthy", "time": 103.0},
              {"kind": "health", "region": PRIMARY, "state": "unhealthy", "time": 104.5}]
    observer = LocalObserver("/nowhere")
    monkeypatch.setattr(observer, "_status", lambda: {"events": events})
    assert observer.became_unhealthy(PRIMARY, 100.0) == 104.5
    assert observer.became_unhealthy(PRIMARY, 80.0) == 90.0
    assert observer.became_unhealthy(PRIMARY, 105.0) is None
