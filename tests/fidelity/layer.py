"""The AWS behaviour layer: rules for what AWS does over time that moto does not, injected at the botocore
boundary in front of moto (in-process or a moto server).

A rule sees each call before it is sent (`before`: it may answer in AWS's place, e.g. ResourceNotFound for a
certificate requested a second ago, or TooManyRequests inside a rate-limit window) and each answer after it
came back (`after`: it may rewrite it, e.g. LastUpdateStatus InProgress for a function updated a second ago).
Rules keep what AWS would remember in the layer's store (shared by every process of a lifecycle, see store.py)
and read the time from the layer's clock (simulated, see clock.py), and they count each time they fire, so a
test can show that every rule fired and that the product still succeeded.

Each rule names the AWS behaviour it stands for and its source; docs/aws-behaviour.md lists them all.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from botocore.awsrequest import AWSResponse

Response = tuple[AWSResponse, dict[str, Any]]
MADE_HERE = "fidelity_answered"  # context key: this answer came from a rule, not from moto


@dataclass
class Call:
    """One AWS call as a rule sees it: service (botocore's service name), operation, region, the caller's
    parameters, and the layer it goes through."""

    service: str
    operation: str
    region: str
    params: dict[str, Any]
    layer: BehaviourLayer
    endpoint_url: str | None = None
    forwarded: bool = False

    @property
    def now(self) -> float:
        return self.layer.clock.now()

    def error(self, code: str, message: str, status: int = 400, **members: Any) -> Response:
        """AWS's error answer, as botocore would parse it (it raises the modeled exception class)."""
        parsed = {"Error": {"Code": code, "Message": message}, **members,
                  "ResponseMetadata": {"HTTPStatusCode": status, "RequestId": str(uuid.uuid4()), "HTTPHeaders": {}}}
        return AWSResponse(None, status, {}, None), parsed

    def forward(self, **params: Any) -> Response:
        """Sends the call to moto with other parameters (what AWS would accept and moto refuses, reshaped for
        moto); the answer is moto's, so the other rules' `after` still see it (and the forwarding rule's own
        `after` can put back what it reshaped)."""
        self.forwarded = True
        parsed = self.layer.raw_call(self, self.service, self.operation, self.region, **params)
        return AWSResponse(None, 200, {}, None), parsed

    def answer(self, parsed: dict[str, Any]) -> Response:
        """A successful answer made by the rule instead of moto."""
        parsed = {**parsed, "ResponseMetadata": {"HTTPStatusCode": 200, "RequestId": str(uuid.uuid4()),
                                                 "HTTPHeaders": {}}}
        return AWSResponse(None, 200, {}, None), parsed


class Rule:
    """One AWS behaviour. Subclasses set the class attributes and override `before` and/or `after`.

    `operations` are "service:Operation" names the rule looks at; `duration` is the rule's time constant in
    seconds (a window, a delay, a hold), replaceable per layer."""

    name = "rule"
    summary = ""
    source = ""
    operations: frozenset[str] = frozenset()
    duration = 0.0

    def before(self, call: Call) -> Response | None:
        return None

    def after(self, call: Call, parsed: dict[str, Any]) -> None:
        return None


@dataclass
class BehaviourLayer:
    """Dispatches calls to rules; owns the store, the clock and the harness's own (unchecked) clients."""

    rules: list[Rule]
    store: Any
    clock: Any
    durations: dict[str, float] = field(default_factory=dict)
    on_fired: Callable[[Rule], None] | None = None  # e.g. the benchmark's attribution of waits to rules
    _local: threading.local = field(default_factory=threading.local)

    def __post_init__(self) -> None:
        for rule in self.rules:
            if rule.name in self.durations:
                rule.duration = float(self.durations[rule.name])
        self._by_operation: dict[str, list[Rule]] = {}
        for rule in self.rules:
            for operation in rule.operations:
                self._by_operation.setdefault(operation, []).append(rule)
        self._raw_clients: dict[tuple[str, str, str | None], Any] = {}
        self._raw_lock = threading.Lock()

    # --- what rules use -----------------------------------------------------------------------------------
    def fired(self, rule: Rule) -> None:
        def count(data: dict[str, Any]) -> None:
            fired = data.setdefault("fired", {})
            fired[rule.name] = fired.get(rule.name, 0) + 1
        self.store.update(count)
        if self.on_fired is not None:
            self.on_fired(rule)

    def fired_counts(self) -> dict[str, int]:
        return dict(self.store.read().get("fired", {}))

    def memory(self, rule: Rule, change: Callable[[dict[str, Any]], Any]) -> Any:
        """Atomically reads and changes the rule's own part of the store."""
        return self.store.update(lambda data: change(data.setdefault("rules", {}).setdefault(rule.name, {})))

    def recall(self, rule: Rule) -> dict[str, Any]:
        return self.store.read().get("rules", {}).get(rule.name, {})

    @property
    def bypassed(self) -> bool:
        return bool(getattr(self._local, "bypass", False))

    def raw_call(self, call: Call, service: str, operation: str, region: str | None = None, **params: Any) -> Any:
        """Calls moto directly (no rule, no contract check): for rules that must look at or change what moto
        holds, e.g. the replica table that global tables would have made."""
        region = region or call.region
        key = (service, region, call.endpoint_url)
        with self._raw_lock:
            client = self._raw_clients.get(key)
            if client is None:
                import boto3

                # moto takes any credentials (and the same account for all of these): no chain is needed.
                client = boto3.session.Session().client(
                    service, region_name=region, endpoint_url=call.endpoint_url,
                    aws_access_key_id="AKIAFIDELITYHARNESS0", aws_secret_access_key="fidelity-harness")
                self._raw_clients[key] = client
        self._local.bypass = True
        try:
            return getattr(client, _snake(operation))(**params)
        finally:
            self._local.bypass = False

    # --- botocore hooks -----------------------------------------------------------------------------------
    def register(self, events: Any) -> None:
        """Hooks this layer into one event emitter (an `Aws`'s, say). The test harness hooks every botocore
        session instead (install.py); the benchmark uses this."""
        events.register("before-parameter-build", self.remember_params)
        events.register_last("before-call", self.before_call)
        events.register("after-call", self.after_call)

    @staticmethod
    def remember_params(params: Any = None, context: Any = None, **_: Any) -> None:
        if context is not None and isinstance(params, dict):
            context["fidelity_params"] = params

    def _call(self, model: Any, context: dict[str, Any], request: Any = None) -> Call:
        endpoint = None
        url = (request or {}).get("url") if isinstance(request, dict) else None
        if url and ".amazonaws.com" not in url:
            from urllib.parse import urlsplit

            parts = urlsplit(url)
            endpoint = f"{parts.scheme}://{parts.netloc}"
        elif context.get("fidelity_endpoint"):
            endpoint = context["fidelity_endpoint"]
        context["fidelity_endpoint"] = endpoint
        return Call(model.service_model.service_name, model.name, context.get("client_region") or "us-east-1",
                    context.get("fidelity_params") or {}, self, endpoint)

    def before_call(self, model: Any = None, params: Any = None, context: Any = None, **_: Any) -> Response | None:
        if model is None or context is None or self.bypassed:
            return None
        rules = self._by_operation.get(f"{model.service_model.service_name}:{model.name}")
        if not rules:
            return None
        call = self._call(model, context, params)
        for rule in rules:
            response = rule.before(call)
            if response is not None:
                if not call.forwarded:
                    context[MADE_HERE] = rule.name
                return response
        return None

    def after_call(self, model: Any = None, parsed: Any = None, context: Any = None, http_response: Any = None,
                   **_: Any) -> None:
        if model is None or context is None or self.bypassed or context.get(MADE_HERE):
            return
        if not isinstance(parsed, dict) or "Error" in parsed:
            return
        if http_response is not None and getattr(http_response, "status_code", 200) >= 300:
            return
        rules = self._by_operation.get(f"{model.service_model.service_name}:{model.name}")
        if not rules:
            return
        call = self._call(model, context)
        for rule in rules:
            rule.after(call, parsed)


def _snake(operation: str) -> str:
    """CreateHealthCheck -> create_health_check (botocore's method names)."""
    from botocore import xform_name

    return xform_name(operation)
