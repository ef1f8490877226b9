"""Simulated AWS latency for the benchmark: a per-thread virtual clock and botocore hooks that make the local
cloud answer "not ready yet" for as long as the real AWS operation would take.

On the local cloud every wait is over at the first probe, so a deploy's wall time says nothing about how its
ordering overlaps AWS's slow operations. Here the product's own wait loops (`Aws.wait_until`, `Aws.retry`) run
unchanged against `SimulatedClock`, whose `sleep()` advances only the calling thread's virtual time, while
`SimulatedWaits` rewrites the probe answers until the simulated duration has passed since the operation started:

    certificate validation   acm DescribeCertificate: PENDING_VALIDATION     5 min after RequestCertificate
    replica creation         dynamodb DescribeTable: Replicas[r] CREATING   8 min after UpdateTable(ReplicaUpdates)
    IAM propagation          lambda CreateFunction: "cannot be assumed"    10 s after CreateRole
    CloudFront               cloudfront GetDistribution: InProgress         4 min after CreateDistribution
    Route 53                 route53 GetChange: PENDING                    30 s after ChangeResourceRecordSets

Threads: a thread that first touches the clock starts at the virtual time of the thread that made the clock (the
one running the workflow, blocked in `engine.in_parallel` meanwhile), and that thread, when it next reads the
clock, moves to the latest virtual time of any thread. So a workflow's virtual duration is its critical path:
the sequential parts plus the slowest of the concurrent region threads.

moto ignores ReplicaUpdates; with these hooks the primary's DescribeTable shows the replica, so the product takes
its real-AWS path (no emulated replica table is made). Use a throwaway local cloud for simulated runs.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

# Simulated duration of each slow AWS operation, in seconds.
DURATIONS = {
    "certificate validation": 300.0,
    "replica creation": 480.0,
    "IAM propagation": 10.0,
    "CloudFront deployment": 240.0,
    "Route 53 change INSYNC": 30.0,
}
REGIONAL_SERVICES = {"acm", "dynamodb", "lambda", "apigateway", "logs"}


@dataclass
class ThreadTime:
    """One thread's virtual time and what it spent it on."""

    name: str
    base: float
    t: float
    label: str = ""
    waiting_for: str = ""
    segments: list[list[Any]] = field(default_factory=list)  # [start, end, what], consecutive same `what` merged

    def spend(self, seconds: float) -> None:
        what = self.waiting_for or "other sleeps"
        if self.segments and self.segments[-1][2] == what and self.segments[-1][1] == self.t:
            self.segments[-1][1] = self.t + seconds
        else:
            self.segments.append([self.t, self.t + seconds, what])
        self.t += seconds


class SimulatedClock:
    """`aws.Clock` with per-thread virtual time; sleeping costs no real time."""

    EPOCH = 1_800_000_000.0

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._local = threading.local()
        self.main = ThreadTime(threading.current_thread().name, 0.0, 0.0, label="main")
        self._local.cell = self.main
        self.threads: list[ThreadTime] = [self.main]

    def cell(self) -> ThreadTime:
        cell = getattr(self._local, "cell", None)
        with self._lock:
            if cell is None:
                # A new thread forks from the main thread, which is blocked waiting for it.
                cell = ThreadTime(threading.current_thread().name, self.main.t, self.main.t)
                self.threads.append(cell)
                self._local.cell = cell
            elif cell is self.main:
                latest = max(other.t for other in self.threads)
                if latest > cell.t:  # joined: the main thread continues when the slowest thread is done
                    cell.segments.append([cell.t, latest, "waiting for concurrent threads"])
                    cell.t = latest
        return cell

    def now(self) -> float:
        return self.EPOCH + self.cell().t

    def monotonic(self) -> float:
        return self.cell().t

    def sleep(self, seconds: float) -> None:
        cell = self.cell()
        with self._lock:
            cell.spend(seconds)
            cell.waiting_for = ""  # the next probe says again what the thread waits for


@dataclass
class Operation:
    """One simulated slow operation: started by a thread at a virtual time, ready `duration` later."""

    kind: str
    key: str
    thread: str
    started: float
    duration: float
    ready_seen_at: float | None = None  # virtual time at which a probe first saw it ready
    seen_by: str = ""

    @property
    def ready(self) -> float:
        return self.started + self.duration


class SimulatedWaits:
    """botocore hooks for every `Aws` of a simulated run (call `install(aws)` once per Aws)."""

    def __init__(self, clock: SimulatedClock, durations: dict[str, float] | None = None):
        self.clock = clock
        self.durations = dict(durations or DURATIONS)
        self.operations: list[Operation] = []
        self._by_key: dict[tuple[str, str], Operation] = {}
        self._lock = threading.Lock()

    def install(self, aws: Any) -> None:
        aws.events.register("before-parameter-build", self._remember_params)
        aws.events.register("before-call", self._before_call)
        aws.events.register("after-call", self._after_call)

    # --- bookkeeping -------------------------------------------------------------------------------------

    def _start(self, kind: str, key: str) -> None:
        cell = self.clock.cell()
        operation = Operation(kind, key, cell.label or cell.name, cell.t, self.durations[kind])
        with self._lock:
            self.operations.append(operation)
            self._by_key[(kind, key)] = operation

    def _pending(self, kind: str, key: str) -> bool:
        """True while the operation is not done yet at the calling thread's virtual time; remembers what the
        thread is waiting for, so that its sleeps are attributed."""
        operation = self._by_key.get((kind, key))
        if operation is None:
            return False
        cell = self.clock.cell()
        if cell.t < operation.ready:
            cell.waiting_for = f"{kind} ({operation.thread})"
            return True
        if operation.ready_seen_at is None:
            operation.ready_seen_at, operation.seen_by = cell.t, cell.label or cell.name
        cell.waiting_for = ""
        return False

    def _label_thread(self, model: Any, context: dict[str, Any]) -> None:
        cell = self.clock.cell()
        if not cell.label and model.service_model.service_name in REGIONAL_SERVICES:
            cell.label = f"{context.get('client_region')} thread"

    # --- hooks ------------------------------------------------------------------------------------------

    @staticmethod
    def _remember_params(params: Any = None, context: Any = None, **_: Any) -> None:
        if context is not None and isinstance(params, dict):
            context["simulated_params"] = params

    def _before_call(self, model: Any = None, context: Any = None, **_: Any) -> None:
        if model is None or context is None:
            return
        self._label_thread(model, context)
        if model.service_model.service_name == "lambda" and model.name == "CreateFunction":
            role = str(context.get("simulated_params", {}).get("Role", "")).rsplit("/", 1)[-1]
            if self._pending("IAM propagation", role):
                raise ClientError({"Error": {"Code": "InvalidParameterValueException",
                                             "Message": "The role defined for the function cannot be assumed by "
                                                        "Lambda."}}, "CreateFunction")

    def _after_call(self, model: Any = None, parsed: Any = None, context: Any = None, http_response: Any = None,
                    **_: Any) -> None:
        if model is None or not isinstance(parsed, dict) or "Error" in parsed:
            return
        if http_response is not None and getattr(http_response, "status_code", 200) >= 300:
            return
        service, operation = model.service_model.service_name, model.name
        params = (context or {}).get("simulated_params", {})
        region = (context or {}).get("client_region", "")
        handler = getattr(self, f"_on_{service.replace('-', '_')}_{operation}", None)
        if handler is not None:
            handler(parsed, params, region)

    # acm
    def _on_acm_RequestCertificate(self, parsed: dict, params: dict, region: str) -> None:
        self._start("certificate validation", parsed["CertificateArn"])

    def _on_acm_DescribeCertificate(self, parsed: dict, params: dict, region: str) -> None:
        certificate = parsed.get("Certificate", {})
        if certificate.get("Status") == "ISSUED" and self._pending("certificate validation",
                                                                   certificate.get("CertificateArn", "")):
            certificate["Status"] = "PENDING_VALIDATION"

    # dynamodb
    def _on_dynamodb_UpdateTable(self, parsed: dict, params: dict, region: str) -> None:
        for update in params.get("ReplicaUpdates", []):
            if "Create" in update:
                self._start("replica creation", f"{params['TableName']} {region}>{update['Create']['RegionName']}")

    def _on_dynamodb_DescribeTable(self, parsed: dict, params: dict, region: str) -> None:
        table = parsed.get("Table", {})
        replicas = list(table.get("Replicas", []))
        for operation in [o for o in self.operations if o.kind == "replica creation"]:
            name, regions = operation.key.split(" ")
            source, target = regions.split(">")
            if name != table.get("TableName") or source != region:
                continue
            status = "CREATING" if self._pending("replica creation", operation.key) else "ACTIVE"
            existing = next((r for r in replicas if r.get("RegionName") == target), None)
            if existing is None:
                replicas.append({"RegionName": target, "ReplicaStatus": status})
            else:
                existing["ReplicaStatus"] = status
        if replicas:
            table["Replicas"] = replicas

    # iam
    def _on_iam_CreateRole(self, parsed: dict, params: dict, region: str) -> None:
        self._start("IAM propagation", parsed["Role"]["RoleName"])

    # cloudfront
    def _on_cloudfront_CreateDistribution(self, parsed: dict, params: dict, region: str) -> None:
        self._start("CloudFront deployment", parsed["Distribution"]["Id"])

    _on_cloudfront_CreateDistributionWithTags = _on_cloudfront_CreateDistribution

    def _on_cloudfront_GetDistribution(self, parsed: dict, params: dict, region: str) -> None:
        distribution = parsed.get("Distribution", {})
        if self._pending("CloudFront deployment", distribution.get("Id", "")):
            distribution["Status"] = "InProgress"
        elif distribution.get("Id") and ("CloudFront deployment", distribution["Id"]) in self._by_key:
            distribution["Status"] = "Deployed"

    # route53
    def _on_route53_ChangeResourceRecordSets(self, parsed: dict, params: dict, region: str) -> None:
        # moto answers every change with the same id (and GetChange echoes any id): make each one unique.
        with self._lock:
            change_id = f"SIMULATED{len(self.operations) + 1}"
        parsed["ChangeInfo"]["Id"] = f"/change/{change_id}"
        self._start("Route 53 change INSYNC", change_id)

    def _on_route53_GetChange(self, parsed: dict, params: dict, region: str) -> None:
        info = parsed.get("ChangeInfo", {})
        if self._pending("Route 53 change INSYNC", info.get("Id", "").rsplit("/", 1)[-1]):
            info["Status"] = "PENDING"
        elif info:
            info["Status"] = "INSYNC"

    # --- figures ----------------------------------------------------------------------------------------

    def summary(self, since: float, until: float) -> dict[str, Any]:
        """Operations started in [since, until) of virtual time: their sum, the longest, and each of them."""
        started = [o for o in self.operations if since <= o.started < until]
        longest = max(started, key=lambda o: o.duration, default=None)
        return {
            "sum_of_waits_s": sum(o.duration for o in started),
            "longest_wait_s": longest.duration if longest else 0.0,
            "longest_wait": f"{longest.kind} ({longest.thread})" if longest else "",
            "operations": [{"kind": o.kind, "thread": o.thread, "started_s": round(o.started - since, 1),
                            "ready_s": round(o.ready - since, 1),
                            "seen_ready_s": None if o.ready_seen_at is None else round(o.ready_seen_at - since, 1),
                            "seen_by": o.seen_by} for o in started],
        }


def timelines(clock: SimulatedClock, since: float, until: float) -> list[dict[str, Any]]:
    """Each thread active in [since, until]: its virtual start and end and what it slept on, relative to `since`."""
    rows = []
    for cell in clock.threads:
        segments = [s for s in cell.segments if since <= s[0] < until]
        if cell is not clock.main and not (since <= cell.base < until):
            continue
        start = since if cell is clock.main else cell.base
        end = until if cell is clock.main else cell.t
        rows.append({"thread": cell.label or cell.name, "start_s": round(start - since, 1),
                     "end_s": round(end - since, 1), "elapsed_s": round(end - start, 1),
                     "waits": [{"from_s": round(a - since, 1), "to_s": round(b - since, 1), "on": what}
                               for a, b, what in segments]})
    return rows
