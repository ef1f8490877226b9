"""The measured game day behind test-failover: a canary writer and a prober on the public failover name, a
watcher on what Route 53 sees, every moment in seconds from T0 (the fault).

- canary: creates tickets through the failover name at a steady rate, from before T0 to the end; a write
  counts once the API acknowledged it (201).
- prober: every interval, `GET /health` (unsigned) and a signed `GET /owners/operator/tickets` through the
  failover name; a probe is timed when both answers are in (a user is served when the answer arrives).
- watcher: each region's health-check status and the region Route 53 answers with (see observers.py).
Requests are signed for the region that serves (from /health); a 403 after a switch is retried once signed
for the other region, since a signature is scoped to one region.
"""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from wildrydes_mr.apiclient import TicketsApi
from wildrydes_mr.observers import Observer


@dataclass
class Write:
    seq: int
    description: str
    sent_at: float
    acked_at: float | None = None
    status: int | None = None
    ticket_id: str | None = None
    region: str | None = None  # the region that acknowledged it: a signature is valid only in its own region


@dataclass
class Probe:
    at: float  # when both answers were in
    health_status: int | None
    region: str | None
    tickets_status: int | None


@dataclass
class Recorder:
    """Everything observed, with wall-clock times; thread-safe appends."""

    writes: list[Write] = field(default_factory=list)
    probes: list[Probe] = field(default_factory=list)
    route53: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, kind: str, item: Any) -> None:
        with self.lock:
            getattr(self, kind).append(item)


class SigningRegion:
    """The region requests through the failover name are signed for: the one /health last reported."""

    def __init__(self, regions: tuple[str, str]):
        self.regions = regions
        self.current = regions[0]

    def other(self) -> str:
        return self.regions[1] if self.current == self.regions[0] else self.regions[0]


# What API Gateway answers (403) to a request signed for another region (SigV4 credential scope).
WRONG_REGION_MESSAGE = "Credential should be scoped to a valid region"


def is_wrong_region(response: Any) -> bool:
    """A 403 about the signature's region only: any other 403 (a policy that denies, say) is not retried."""
    if response.status != 403:
        return False
    body = response.body
    if isinstance(body, dict):
        body = body.get("message") or body.get("Message") or ""
    return WRONG_REGION_MESSAGE in str(body or "")


class GameDay:
    def __init__(self, failover_url: str, regions: tuple[str, str], credentials: Any, observer: Observer,
                 probe_interval: float, write_rate: float, run_id: str | None = None):
        self.failover_url = failover_url
        self.regions = regions
        self.credentials = credentials
        self.observer = observer
        self.probe_interval = probe_interval
        self.write_interval = 1.0 / write_rate
        self.run_id = run_id or uuid.uuid4().hex[:8]
        self.signing = SigningRegion(regions)
        self.recorder = Recorder()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    # --- requests through the failover name -------------------------------------------------------------
    def _api(self, region: str) -> TicketsApi:
        return TicketsApi(self.failover_url, region, self.credentials, timeout=5.0)

    def _signed(self, call) -> Any:
        return self._signed_in(call)[0]

    def _signed_in(self, call) -> tuple[Any, str]:
        """The response and the region its request was signed for, which is the region that answered it: API
        Gateway refuses (403) a signature scoped to another region."""
        region = self.signing.current
        response = call(self._api(region))
        if is_wrong_region(response):
            # After a switch the other region answers and refuses a signature scoped to the old one.
            region = self.signing.other()
            response = call(self._api(region))
            if not is_wrong_region(response):
                self.signing.current = region
        return response, region

    def _safe(self, call) -> Any:
        try:
            return call()
        except OSError:
            return None  # unreachable / timed out: recorded as no answer

    # --- the three loops ---------------------------------------------------------------------------------
    def _canary(self) -> None:
        seq = 0
        next_at = time.monotonic()
        while not self._stop.is_set():
            seq += 1
            write = Write(seq, f"canary {self.run_id} #{seq:05d} written through the failover name", time.time())
            # The canary names each ticket's id, as the web app does, so that the RPO check knows what to look for.
            ticket = {"id": str(uuid.uuid4()), "description": write.description, "assigned": "game-day canary",
                      "priority": "low", "status": "open"}
            answer = self._safe(lambda t=ticket: self._signed_in(lambda api: api.create_ticket(t)))
            if answer is not None:
                response, write.region = answer
                write.status = response.status
                if response.status == 201:
                    write.acked_at = time.time()
                    write.ticket_id = ticket["id"]
            self.recorder.add("writes", write)
            next_at += self.write_interval
            self._stop.wait(max(0.0, next_at - time.monotonic()))

    def _prober(self) -> None:
        while not self._stop.is_set():
            health = self._safe(lambda: self._api(self.signing.current).health())
            region = health.body.get("region") if health is not None and isinstance(health.body, dict) else None
            if health is not None and health.status == 200 and region in self.regions:
                self.signing.current = region
            tickets = self._safe(lambda: self._signed(lambda api: api.list_tickets(limit=1)))
            self.recorder.add("probes", Probe(time.time(), health.status if health else None, region,
                                              tickets.status if tickets else None))
            self._stop.wait(self.probe_interval)

    def _watcher(self) -> None:
        while not self._stop.is_set():
            try:
                health, dns = self.observer.health(), self.observer.dns_region()
                # Timed when the answers are in: what they show was true by then (not necessarily at the start).
                self.recorder.add("route53", {"at": time.time(), "health": health, "dns": dns})
            except Exception as exc:  # noqa: BLE001 - an observation gap is recorded, not fatal
                self.recorder.add("route53", {"at": time.time(), "error": str(exc)})
            # Route 53's GetHealthCheckStatus is "not for high query rates": the AWS observer polls less often.
            self._stop.wait(self.observer.poll_interval or self.probe_interval)

    def start(self) -> None:
        for target in (self._canary, self._prober, self._watcher):
            thread = threading.Thread(target=target, name=f"gameday-{target.__name__}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=15)

    # --- questions about what was seen ---------------------------------------------------------------
    def serving(self, after: float, region: str) -> float | None:
        """Wall time of the first correct response from `region` through the failover name after `after`:
        /health 200 from that region and a signed GET of the canary's tickets that succeeded."""
        with self.recorder.lock:
            for probe in self.recorder.probes:
                if probe.at >= after and probe.health_status == 200 and probe.region == region \
                        and probe.tickets_status == 200:
                    return probe.at
        return None

    def last_region_before(self, moment: float) -> str | None:
        with self.recorder.lock:
            regions = [p.region for p in self.recorder.probes if p.at < moment and p.health_status == 200]
        return regions[-1] if regions else None

    def detected(self, after: float, region: str) -> float | None:
        """When Route 53 judged `region` unhealthy after `after`: by the health check's own clock where the
        observer can tell, else the first observation that showed it."""
        exact = self._safe(lambda: self.observer.became_unhealthy(region, after))
        return exact or self.route53_moment(after, lambda o: o["health"].get(region) == "unhealthy")

    def route53_moment(self, after: float, test) -> float | None:
        with self.recorder.lock:
            for observation in self.recorder.route53:
                if observation["at"] >= after and "error" not in observation and test(observation):
                    return observation["at"]
        return None

    def writes(self) -> list[Write]:
        """A copy of the canary's writes so far."""
        with self.recorder.lock:
            return list(self.recorder.writes)

    def acknowledged_before(self, moment: float) -> list[Write]:
        with self.recorder.lock:
            return [w for w in self.recorder.writes if w.acked_at is not None and w.acked_at < moment]

    def wait_for(self, predicate, timeout: float, poll: float = 0.2, on_tick=None, tick_every: float = 5.0) -> bool:
        deadline = time.monotonic() + timeout
        next_tick = time.monotonic() + tick_every
        while time.monotonic() < deadline:
            if predicate():
                return True
            if on_tick is not None and time.monotonic() >= next_tick:
                on_tick()
                next_tick += tick_every
            time.sleep(poll)
        return predicate()
