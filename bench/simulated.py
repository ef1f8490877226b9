"""Simulated AWS latency for the benchmark: a per-thread virtual clock, and the tests' AWS behaviour layer
(tests/fidelity) answering on it for as long as AWS would.

On the local cloud every wait is over at the first probe, so a deploy's wall time says nothing about how its
ordering overlaps AWS's slow operations. Here the product's own wait loops (`Aws.wait_until`, `Aws.retry`,
`Aws.paced`) run unchanged against `SimulatedClock`, whose `sleep()` advances only the calling thread's virtual
time, while the behaviour layer — the same rules the tests hold the product to — answers "not yet" or "not
now" until each rule's duration has passed on the calling thread's clock: certificate validation (and its
records appearing later), a replica's creation, IAM propagation, CloudFront's deployment, Route 53 changes
reaching INSYNC, API Gateway's quota windows (30 s between custom-domain calls), point-in-time recovery not yet
available, Lambda updates in progress, a certificate held by a deleted custom domain. DURATIONS below.

Threads: a thread that first touches the clock starts at the virtual time of the thread that made the clock (the
one running the workflow, blocked in `engine.in_parallel` meanwhile), and that thread, when it next reads the
clock, moves to the latest virtual time of any thread. So a workflow's virtual duration is its critical path:
the sequential parts plus the slowest of the concurrent region threads.

The local cloud is an emulator endpoint, where the product makes a replica as a table of its own; the run makes
it take its AWS path instead (UpdateTable(ReplicaUpdates), answered by the layer's global tables). Use a
throwaway local cloud for simulated runs.
"""

from __future__ import annotations

import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from fidelity.catalogue import build_layer
from fidelity.store import MemoryStore

# AWS-like durations (seconds) for the behaviour layer's rules; the others keep the layer's defaults (e.g.
# "acm-describe-after-request" 5 s, "dynamodb-pitr-unavailable" 20 s, "lambda-update-in-progress" 5 s,
# "apigateway-rate-limits" AWS's own quota windows: 30 s between custom-domain calls).
DURATIONS = {
    "acm-validation-needs-dns": 300.0,  # certificate validation: minutes
    "dynamodb-global-table-replicas": 480.0,  # a new replica: minutes, more with data
    "iam-role-propagation": 10.0,
    "cloudfront-deploying": 240.0,
    "route53-change-propagation": 30.0,  # INSYNC
    "acm-certificate-in-use": 600.0,  # released by a deleted custom domain: minutes (~20 reported)
}
# Rules whose duration is how long one AWS operation takes to be ready (the others are windows and holds).
READINESS = ("acm-validation-needs-dns", "dynamodb-global-table-replicas", "iam-role-propagation",
             "cloudfront-deploying", "route53-change-propagation", "acm-certificate-in-use",
             "dynamodb-pitr-unavailable", "lambda-update-in-progress")
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


class SimulatedWaits:
    """The test harness's AWS behaviour layer (tests/fidelity: the same rules the tests hold the product to),
    on `SimulatedClock`, with AWS-like durations; each sleep is attributed to the rule whose answer made the
    thread wait. Call `install(aws)` once per `Aws`."""

    def __init__(self, clock: SimulatedClock, durations: dict[str, float] | None = None):
        self.clock = clock
        self.durations = {**DURATIONS, **(durations or {})}
        self.layer = build_layer(MemoryStore(), clock, self.durations)
        self.layer.on_fired = self._attribute
        self.fired: list[tuple[float, str, str]] = []  # (virtual time, rule, thread)
        self._lock = threading.Lock()

    def install(self, aws: Any) -> None:
        self.layer.register(aws.events)
        aws.events.register("before-call", self._label_thread)
        # The local cloud is an emulator endpoint, on which the product makes a replica as a table of its own;
        # here it takes the AWS path (UpdateTable(ReplicaUpdates)), answered by the layer's global tables.
        emulated = aws.is_emulated
        aws.is_emulated = lambda service, region: service != "dynamodb" and emulated(service, region)

    def _attribute(self, rule: Any) -> None:
        cell = self.clock.cell()
        cell.waiting_for = f"{rule.name} ({cell.label or cell.name})"
        with self._lock:
            self.fired.append((cell.t, rule.name, cell.label or cell.name))

    def _label_thread(self, model: Any = None, context: Any = None, **_: Any) -> None:
        cell = self.clock.cell()
        if model is not None and not cell.label and model.service_model.service_name in REGIONAL_SERVICES:
            cell.label = f"{(context or {}).get('client_region')} thread"

    # --- figures ----------------------------------------------------------------------------------------

    def summary(self, since: float, until: float) -> dict[str, Any]:
        """The rules that made threads wait in [since, until) of virtual time, and the longest of those waits (a
        readiness rule's duration: how long AWS takes, e.g. to create a replica): a floor for the critical path."""
        with self._lock:
            fired = [(at, name, thread) for at, name, thread in self.fired if since <= at < until]
        durations = {rule.name: rule.duration for rule in self.layer.rules}
        rules: dict[str, dict[str, Any]] = {}
        for at, name, thread in fired:
            entry = rules.setdefault(name, {"first_s": round(at - since, 1), "answers": 0, "threads": set()})
            entry["answers"] += 1
            entry["threads"].add(thread)
        longest = max((name for name in rules if name in READINESS), key=durations.get, default="")
        return {"longest_wait_s": durations.get(longest, 0.0), "longest_wait": longest,
                "rules": {name: {**entry, "threads": sorted(entry["threads"]), "duration_s": durations[name]}
                          for name, entry in sorted(rules.items())}}


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
