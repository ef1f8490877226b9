"""Aws.paced: API Gateway's "1 request every 30 s per account" quotas, spaced within a process and retried when
another process (or an earlier command) used the window."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from wildrydes_mr.aws import Aws


class Clock:
    def __init__(self):
        self.t = 0.0
        self.sleeps: list[float] = []

    def now(self) -> float:
        return self.t

    def monotonic(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.t += seconds


def throttled(retry_after: str | None = "30") -> ClientError:
    response = {"Error": {"Code": "TooManyRequestsException", "Message": "Too Many Requests"},
                "ResponseMetadata": {"HTTPStatusCode": 429}}
    if retry_after:
        response["retryAfterSeconds"] = retry_after
    return ClientError(response, "CreateDomainName")


def test_calls_with_one_key_are_spaced_by_the_window():
    aws = Aws(clock=Clock())
    times = []
    for _ in range(3):
        aws.paced("apigateway:CreateDomainName", 30, lambda: times.append(aws.clock.t), timeout=300)
    assert times == [0.0, 30.0, 60.0]
    aws.paced("apigateway:CreateDeployment", 5, lambda: times.append(aws.clock.t), timeout=300)
    assert times[-1] == 60.0  # another operation has a window of its own


def test_throttled_call_is_retried_after_aws_says_and_gives_up_at_the_bound():
    aws = Aws(clock=Clock())
    answers = [throttled("12"), throttled(None), "created"]

    def call():
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer
    progress = []
    assert aws.paced("apigateway:CreateDomainName", 30, call, timeout=300, progress=progress.append) == "created"
    assert aws.clock.sleeps == [12.0, 30.0]  # Retry-After, then the window
    assert any("retry in 12 s" in line for line in progress)

    def always():
        raise throttled()
    with pytest.raises(ClientError, match="TooManyRequests"):
        aws.paced("apigateway:DeleteDomainName", 30, always, timeout=100)
    assert aws.clock.t <= 42 + 100 + 30


def test_other_errors_are_not_retried():
    aws = Aws(clock=Clock())

    def denied():
        raise ClientError({"Error": {"Code": "AccessDeniedException", "Message": "no"}}, "CreateDomainName")
    with pytest.raises(ClientError, match="AccessDenied"):
        aws.paced("apigateway:CreateDomainName", 30, denied, timeout=300)
    assert aws.clock.sleeps == []


def test_a_wait_on_another_clock_leaves_awss_clock_alone():
    """A wait on the local data plane runs on the real clock even when AWS's clock is simulated: on the simulated
    one a 60 s bound would pass in an instant (it did, in the simulated-latency benchmark)."""
    import time

    from wildrydes_mr.aws import Clock as RealClock
    aws = Aws(clock=Clock())
    started = time.monotonic()
    ready_at = started + 0.3
    aws.wait_until(lambda: time.monotonic() >= ready_at, what="the data plane", timeout=5, interval=0.05,
                   clock=RealClock())
    assert aws.clock.sleeps == [] and time.monotonic() >= ready_at
    with pytest.raises(Exception, match="timed out after 60 s"):
        aws.wait_until(lambda: False, what="AWS", timeout=60, interval=10)  # AWS's clock: instant, simulated


def test_the_window_counts_from_the_answer_so_a_request_slow_to_arrive_keeps_the_next_one_out_of_its_window():
    """Two regions' threads share the account's window: a request that took 10 s to reach AWS (a slow
    connection, botocore's own retries) was accepted 10 s after it left; the next must arrive 30 s after that."""
    aws = Aws(clock=Clock())
    arrivals = []

    def slow_to_arrive():
        aws.clock.t += 10
        arrivals.append(aws.clock.t)

    aws.paced("apigateway:CreateDomainName", 30, slow_to_arrive, timeout=300)
    aws.paced("apigateway:CreateDomainName", 30, lambda: arrivals.append(aws.clock.t), timeout=300)
    assert arrivals[1] - arrivals[0] >= 30, arrivals

    def fails():
        aws.clock.t += 5
        raise ConnectionError("reset")
    with pytest.raises(ConnectionError):  # a request that failed in flight may still have been accepted
        aws.paced("apigateway:CreateDomainName", 30, fails, timeout=300)
    aws.paced("apigateway:CreateDomainName", 30, lambda: arrivals.append(aws.clock.t), timeout=300)
    assert arrivals[2] - (arrivals[1] + 30 + 5) >= 30 - 1e-9, arrivals
