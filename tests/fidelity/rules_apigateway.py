"""API Gateway's fixed control-plane rate limits, which moto does not have: a request inside the window of the
previous accepted one is answered 429 TooManyRequestsException (botocore would retry it a few times, with
jitter; the product must not depend on those retries lasting long enough)."""

from __future__ import annotations

from fidelity.layer import Call, Response, Rule

# Seconds between requests, per account ("API Gateway quotas for creating, deploying and managing an API";
# these cannot be increased). Modelled per account across regions: the strictest reading of "per account".
WINDOWS = {
    "CreateDomainName": 30.0,
    "UpdateDomainName": 30.0,
    "DeleteDomainName": 30.0,
    "DeleteRestApi": 30.0,
    "CreateDeployment": 5.0,
    "CreateRestApi": 3.0,
}


class ControlPlaneRateLimits(Rule):
    name = "apigateway-rate-limits"
    summary = "CreateDomainName / UpdateDomainName / DeleteDomainName / DeleteRestApi: 1 request every 30 s; " \
              "CreateDeployment every 5 s; CreateRestApi (regional) every 3 s — else 429 TooManyRequestsException"
    source = "Amazon API Gateway developer guide, 'Amazon API Gateway quotas' (quotas for creating, deploying " \
             "and managing an API)"
    operations = frozenset(f"apigateway:{operation}" for operation in WINDOWS)
    duration = 1.0  # a scale on WINDOWS: 1.0 is AWS's

    def before(self, call: Call) -> Response | None:
        window = WINDOWS[call.operation] * self.duration
        now = call.now

        def admit(memory: dict[str, float]) -> float | None:
            last = memory.get(call.operation)
            if last is not None and now - last < window:
                return window - (now - last)
            memory[call.operation] = now
            return None
        wait = call.layer.memory(self, admit)
        if wait is None:
            return None
        call.layer.fired(self)
        return call.error("TooManyRequestsException", "Too Many Requests", status=429,
                          retryAfterSeconds=str(max(1, round(wait))))
