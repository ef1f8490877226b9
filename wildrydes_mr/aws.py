"""AWS access: the only module that imports boto3.

One `Aws` per command: clients cached per (service, region), the standard credential chain (AWS_PROFILE,
AWS_ENDPOINT_URL honoured by botocore itself) or the local cloud's endpoint and fake credentials, botocore's
`standard` retry mode, a counter of calls (mutating / read) fed by a botocore event hook, and an injectable
clock so waits are testable.
"""

from __future__ import annotations

import threading
import time
import urllib.parse
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import boto3
import botocore.config
import botocore.exceptions
import botocore.loaders
import botocore.session

from wildrydes_mr import __version__
from wildrydes_mr.errors import WildrydesError
from wildrydes_mr.targets import Endpoint

T = TypeVar("T")
ClientError = botocore.exceptions.ClientError
BotoCoreError = botocore.exceptions.BotoCoreError

# SimulatePrincipalPolicy (preflight) evaluates policies and changes nothing.
READ_PREFIXES = ("Get", "List", "Describe", "Head", "Test", "Query", "Scan", "BatchGet", "Lookup", "Search",
                 "Select", "Simulate")


def is_read_operation(operation: str) -> bool:
    return operation.startswith(READ_PREFIXES)


class Clock:
    """Wall time and sleeping; tests and benchmarks replace it to make waits instant or simulated."""

    def now(self) -> float:
        return time.time()

    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


@dataclass
class CallCounter:
    """AWS calls made through this `Aws`, counted by a botocore `before-call` hook."""

    mutating: int = 0
    read: int = 0
    operations: Counter = field(default_factory=Counter)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def record(self, service: str, operation: str) -> None:
        with self._lock:
            if is_read_operation(operation):
                self.read += 1
            else:
                self.mutating += 1
            self.operations[f"{service}:{operation}"] += 1

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return {"mutating": self.mutating, "read": self.read}


_shared_loader = None
_shared_loader_lock = threading.Lock()


def _new_session() -> boto3.session.Session:
    """A session whose service models come from one loader per process: parsing them is most of the cost of
    creating clients, and the models never change while we run."""
    global _shared_loader
    with _shared_loader_lock:
        if _shared_loader is None:
            _shared_loader = botocore.loaders.create_loader()
        core = botocore.session.get_session()
        core.register_component("data_loader", _shared_loader)
    return boto3.session.Session(botocore_session=core)


class Aws:
    """Clients per (service, region), call counting, retries of named transient errors."""

    def __init__(self, endpoint: Endpoint | None = None, clock: Clock | None = None,
                 session: boto3.session.Session | None = None):
        self.endpoint = endpoint or Endpoint()
        self.clock = clock or Clock()
        self.calls = CallCounter()
        self._session = session or _new_session()
        self._session.events.register("before-call", self._count_call)
        self._clients: dict[tuple[str, str, bool], Any] = {}
        self._lock = threading.Lock()
        self._account_id: str | None = None
        self._last_paced: dict[str, float] = {}
        self._pace_locks: dict[str, threading.Lock] = {}
        self._config = botocore.config.Config(
            retries={"mode": "standard", "max_attempts": 10},
            connect_timeout=10, read_timeout=60,
            user_agent_extra=f"wildrydes-mr/{__version__}",
        )

    @property
    def events(self) -> Any:
        """botocore's event system for every client of this Aws (tests and benchmarks hook in here)."""
        return self._session.events

    def _count_call(self, model: Any = None, **_: Any) -> None:
        if model is not None:
            self.calls.record(model.service_model.service_name, model.name)

    def client(self, service: str, region: str, retries: bool = True) -> Any:
        """A cached client; creation is locked because boto3 sessions are not thread-safe. `retries=False` gives
        one attempt per call, for probing what an emulator implements."""
        key = (service, region, retries)
        client = self._clients.get(key)
        if client is None:
            with self._lock:
                client = self._clients.get(key)
                if client is None:
                    config = self._config if retries else self._config.merge(
                        botocore.config.Config(retries={"mode": "standard", "max_attempts": 1}))
                    kwargs: dict[str, Any] = {"region_name": region, "config": config}
                    if self.endpoint.url:
                        kwargs["endpoint_url"] = self.endpoint.url
                    if self.endpoint.access_key_id:
                        kwargs["aws_access_key_id"] = self.endpoint.access_key_id
                        kwargs["aws_secret_access_key"] = self.endpoint.secret_access_key
                    client = self._session.client(service, **kwargs)
                    self._clients[key] = client
        return client

    def is_emulated(self, service: str, region: str) -> bool:
        """True when calls go to an emulator (the local cloud, or AWS_ENDPOINT_URL at moto), not to AWS."""
        host = urllib.parse.urlsplit(self.client(service, region).meta.endpoint_url).hostname or ""
        return not host.endswith((".amazonaws.com", ".amazonaws.com.cn", ".api.aws"))

    def credentials(self) -> Any:
        """The caller's credentials from the standard chain (for signing API calls, e.g. execute-api)."""
        credentials = self._session.get_credentials()
        if credentials is None:
            raise WildrydesError("no AWS credentials found",
                                 hint="set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY")
        return credentials

    def account_id(self, region: str) -> str:
        if self._account_id is None:
            try:
                self._account_id = self.client("sts", region).get_caller_identity()["Account"]
            except botocore.exceptions.NoCredentialsError:
                raise WildrydesError("no AWS credentials found",
                                     hint="set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY") from None
        return self._account_id

    def partition(self, region: str) -> str:
        return self._session.get_partition_for_region(region) if hasattr(
            self._session, "get_partition_for_region") else "aws"

    def retry(self, action: Callable[[], T], transient: Callable[[Exception], bool], *,
              timeout: float, first_delay: float = 1.0, max_delay: float = 10.0) -> T:
        """Runs `action`, retrying errors that `transient` names, with backoff, for at most `timeout` seconds."""
        deadline = self.clock.monotonic() + timeout
        delay = first_delay
        while True:
            try:
                return action()
            except Exception as exc:  # noqa: BLE001 - filtered by the predicate, re-raised otherwise
                if not transient(exc) or self.clock.monotonic() + delay > deadline:
                    raise
            self.clock.sleep(delay)
            delay = min(delay * 2, max_delay)

    def paced(self, key: str, window: float, action: Callable[[], T], *, timeout: float,
              progress: Callable[[str], None] | None = None) -> T:
        """Runs `action` at least `window` seconds after the last paced call with the same `key` in this process,
        and retries it while AWS answers TooManyRequestsException (another process, or an earlier command,
        may have used the window), for at most `timeout` seconds. For API Gateway's fixed control-plane quotas
        ("1 request every 30 s per account"), where botocore's few jittered retries are not enough."""
        with self._lock:
            pace_lock = self._pace_locks.setdefault(key, threading.Lock())
        with pace_lock:  # one paced call at a time per key: the window is the account's, not the thread's
            deadline = self.clock.monotonic() + timeout
            while True:
                last = self._last_paced.get(key)
                wait = 0.0 if last is None else last + window - self.clock.monotonic()
                if wait > 0:
                    if progress:
                        progress(f"waiting {wait:.0f} s: AWS allows {key} once every {window:.0f} s")
                    self.clock.sleep(wait)
                # The window counts from when AWS answered (success or error), not from when the request left: a
                # request slow to arrive (a slow connection, botocore's own retries) was accepted late, and the next
                # one must not arrive inside its window. A throttled answer moves the window to AWS's Retry-After.
                try:
                    return action()
                except ClientError as exc:
                    if error_code(exc) != "TooManyRequestsException" or self.clock.monotonic() >= deadline:
                        raise
                    retry_after = exc.response.get("retryAfterSeconds") or \
                        exc.response.get("ResponseMetadata", {}).get("HTTPHeaders", {}).get("retry-after")
                    try:
                        pause = float(retry_after) if retry_after else window
                    except ValueError:
                        pause = window
                    if progress:
                        progress(f"{key}: AWS asks to retry in {pause:.0f} s (account rate limit)")
                finally:
                    answered = self._last_paced[key] = self.clock.monotonic()
                # Only a throttled answer gets here.
                self._last_paced[key] = answered + pause - window

    def wait_until(self, probe: Callable[[], bool], *, what: str, timeout: float, interval: float,
                   progress: Callable[[str], None] | None = None, clock: Clock | None = None) -> None:
        """Polls `probe` until it is true; a bounded wait that reports progress and times out clearly.
        `clock`: another clock than AWS's (a wait on the local data plane runs in real time, even when a test or
        benchmark simulates AWS's)."""
        clock = clock or self.clock
        started = clock.monotonic()
        while not probe():
            waited = clock.monotonic() - started
            if waited + interval > timeout:
                raise WildrydesError(f"timed out after {waited:.0f} s waiting for {what}",
                                     hint="run the same command again: it continues where it stopped")
            if progress:
                progress(f"waiting for {what} ({waited:.0f} s)")
            clock.sleep(interval)


def error_code(exc: BaseException) -> str:
    if isinstance(exc, ClientError):
        return exc.response.get("Error", {}).get("Code", "")
    return ""


def error_message(exc: BaseException) -> str:
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        return f"{error.get('Code', 'Error')}: {error.get('Message', '')}".strip()
    return str(exc)


def is_not_found(exc: BaseException) -> bool:
    code = error_code(exc)
    return code in {"ResourceNotFoundException", "NoSuchEntity", "NotFoundException", "NoSuchBucket",
                    "NoSuchHostedZone", "NoSuchHealthCheck", "NoSuchDistribution", "TableNotFoundException"}


def none_if_missing(call: Callable[[], T]) -> T | None:
    """`call()`, or None when AWS answers that what it reads does not exist (`is_not_found`); any other error
    is raised."""
    try:
        return call()
    except ClientError as exc:
        if is_not_found(exc):
            return None
        raise


def is_iam_propagation_error(exc: BaseException) -> bool:
    """Lambda rejects a role it cannot assume yet; IAM is eventually consistent and botocore does not retry it."""
    return (error_code(exc) == "InvalidParameterValueException"
            and "cannot be assumed by Lambda" in error_message(exc))


def is_emulator_gap(exc: BaseException, emulated: bool) -> bool:
    """moto answers what it lacks (unimplemented calls, some empty lookups) with NotImplementedError or KeyError
    in-process, or a bare HTTP 500 (a bare 404 for a route it has none for) in server mode. Only on an emulator
    endpoint is such an answer read that way."""
    if isinstance(exc, NotImplementedError | KeyError):
        return True
    if not (emulated and isinstance(exc, ClientError)):
        return False
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    # A route moto does not know at all is a bare 404 (no error code of the service's own).
    return "has not been implemented" in error_message(exc) or status == 500 or (
        status == 404 and error_code(exc) in {"404", "NotFound", ""})
