"""Lambda-like worker processes for the local API gateway.

This module owns running a Lambda handler from `lambda_src/` outside the gateway's process: one long-lived worker
process per function configuration (name, handler, environment), as a warm Lambda execution environment would be.
Environment variables are per process, so the worker's `os.environ` is exactly the function's environment plus
the variables the Lambda runtime sets, and boto3 inside the handler talks to the local cloud (AWS_ENDPOINT_URL).

Parent side: `Worker` (one process, one request at a time) and `WorkerPool` (a few workers for one configuration).
Child side: `worker_main`, which imports the handler once and then serves invocations over a pipe.
Events and results cross the pipe as JSON text, as they cross the Lambda runtime API, so a handler that returns
something JSON cannot represent fails here as it would on Lambda.

The child must stay cheap to start: nothing here imports boto3 at module level.
"""

from __future__ import annotations

import importlib
import json
import multiprocessing
import os
import sys
import threading
import time
import traceback
import uuid
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "InvokeResult",
    "Worker",
    "WorkerPool",
    "WorkerSpec",
    "WorkerTimeout",
    "default_context",
    "worker_main",
]

# Lambda allows 10 s for the init phase (imports, module-level clients).
INIT_TIMEOUT_S = 10.0


def default_context() -> multiprocessing.context.BaseContext:
    """'forkserver' where available (fast starts, no fork of a threaded server), else 'spawn'."""
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")


@dataclass(frozen=True)
class WorkerSpec:
    """Everything that makes one worker process: a change in any of it needs a new process."""

    function_name: str
    function_arn: str
    handler: str
    src_dir: str
    environment: tuple[tuple[str, str], ...]  # the complete os.environ of the worker, sorted
    memory_mb: int = 128
    version: str = "$LATEST"

    @property
    def env(self) -> dict[str, str]:
        return dict(self.environment)


@dataclass
class InvokeResult:
    """ok=True: `payload` is the handler's return value (JSON text). ok=False: `error` is Lambda's error shape."""

    ok: bool
    payload: str | None = None
    error: dict[str, Any] = field(default_factory=dict)


class WorkerTimeout(Exception):
    """The handler did not answer in time; the worker has been killed."""


class WorkerDied(Exception):
    """The worker process exited or broke its pipe."""


# ---------------------------------------------------------------------------------------------------- child side


class _Context:
    """The Lambda context object (the attributes handlers commonly use)."""

    def __init__(self, spec: dict[str, Any], request_id: str, deadline_ms: int) -> None:
        self.function_name = spec["function_name"]
        self.function_version = spec["version"]
        self.invoked_function_arn = spec["function_arn"]
        self.memory_limit_in_mb = int(spec["memory_mb"])
        self.aws_request_id = request_id
        self.log_group_name = f"/aws/lambda/{self.function_name}"
        self.log_stream_name = f"local/[{self.function_version}]{os.getpid()}"
        self.identity = None
        self.client_context = None
        self._deadline_ms = deadline_ms

    def get_remaining_time_in_millis(self) -> int:
        return max(0, self._deadline_ms - int(time.time() * 1000))


def _error(exc: BaseException, error_type: str | None = None) -> dict[str, Any]:
    return {
        "errorMessage": str(exc),
        "errorType": error_type or type(exc).__name__,
        "stackTrace": traceback.format_tb(exc.__traceback__),
    }


def _load_handler(handler: str) -> Any:
    module_name, _, func_name = handler.replace("/", ".").rpartition(".")
    if not module_name or not func_name:
        raise ValueError(f"Bad handler '{handler}': expected 'module.function'")
    module = importlib.import_module(module_name)
    return getattr(module, func_name)


def worker_main(conn: Any, spec: dict[str, Any]) -> None:
    """Child process entry point: set up the environment, import the handler, serve invocations until EOF."""
    os.environ.clear()
    os.environ.update(spec["env"])
    if hasattr(time, "tzset"):
        time.tzset()
    sys.path.insert(0, spec["src_dir"])
    try:
        os.chdir(spec["src_dir"])  # Lambda's cwd is the task root
    except OSError:
        pass
    init_error: dict[str, Any] | None = None
    handler = None
    try:
        handler = _load_handler(spec["handler"])
    except Exception as exc:  # an import error is reported on every invocation, as Lambda does
        init_error = _error(exc, "Runtime.ImportModuleError" if isinstance(exc, ImportError) else None)
        print(f"[ERROR] {init_error['errorType']}: {init_error['errorMessage']}", file=sys.stderr, flush=True)
    conn.send(("ready", os.getpid()))
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError, KeyboardInterrupt):
            return
        if message[0] != "invoke":
            return
        _, request_id, event_json, deadline_ms = message
        if init_error is not None:
            conn.send(("error", init_error))
            continue
        try:
            event = json.loads(event_json)
            result = handler(event, _Context(spec, request_id, deadline_ms))
            try:
                payload = json.dumps(result)
            except (TypeError, ValueError) as exc:
                conn.send(("error", _error(exc, "Runtime.MarshalError")))
                continue
            conn.send(("ok", payload))
        except Exception as exc:
            err = _error(exc)
            # Lambda writes unhandled errors to the function's log; here that is the worker's stderr.
            print(f"[ERROR] {err['errorType']}: {err['errorMessage']}", file=sys.stderr, flush=True)
            conn.send(("error", err))


# --------------------------------------------------------------------------------------------------- parent side


class Worker:
    """One worker process for one WorkerSpec. Not thread-safe: a pool hands it to one caller at a time."""

    def __init__(self, spec: WorkerSpec, ctx: multiprocessing.context.BaseContext | None = None) -> None:
        ctx = ctx or default_context()
        self.spec = spec
        self._conn, child_conn = ctx.Pipe(duplex=True)
        child_spec = {
            "function_name": spec.function_name,
            "function_arn": spec.function_arn,
            "handler": spec.handler,
            "src_dir": spec.src_dir,
            "env": spec.env,
            "memory_mb": spec.memory_mb,
            "version": spec.version,
        }
        self.process = ctx.Process(
            target=worker_main,
            args=(child_conn, child_spec),
            name=f"lambda-{spec.function_name}",
            daemon=True,
        )
        self.process.start()
        child_conn.close()
        if not self._conn.poll(INIT_TIMEOUT_S):
            self.kill()
            raise WorkerTimeout(f"worker for {spec.function_name} did not start in {INIT_TIMEOUT_S:.0f} s")
        try:
            self._conn.recv()
        except (EOFError, OSError) as exc:
            self.kill()
            raise WorkerDied(f"worker for {spec.function_name} exited during init") from exc

    @property
    def alive(self) -> bool:
        return self.process.is_alive()

    def invoke(self, event: dict[str, Any], timeout_s: float, request_id: str | None = None) -> InvokeResult:
        """Run the handler once. Raises WorkerTimeout (worker killed) or WorkerDied."""
        request_id = request_id or str(uuid.uuid4())
        deadline_ms = int((time.time() + timeout_s) * 1000)
        try:
            self._conn.send(("invoke", request_id, json.dumps(event), deadline_ms))
            if not self._conn.poll(timeout_s):
                self.kill()
                raise WorkerTimeout(f"{self.spec.function_name} timed out after {timeout_s:.2f} seconds")
            kind, value = self._conn.recv()
        except (EOFError, OSError, BrokenPipeError) as exc:
            self.kill()
            raise WorkerDied(f"worker for {self.spec.function_name} died") from exc
        if kind == "ok":
            return InvokeResult(ok=True, payload=value)
        return InvokeResult(ok=False, error=value)

    def stop(self, grace_s: float = 0.5) -> None:
        try:
            self._conn.send(("stop",))
        except (OSError, ValueError):
            pass
        self.process.join(grace_s)
        if self.process.is_alive():
            self.kill()
        self._close()

    def kill(self) -> None:
        if self.process.is_alive():
            self.process.kill()
        self.process.join(2.0)
        self._close()

    def _close(self) -> None:
        try:
            self._conn.close()
        except OSError:
            pass


class PoolClosed(Exception):
    """The pool was retired (its function's configuration changed) while waiting for a worker."""


class WorkerPool:
    """Up to `max_workers` warm workers for one WorkerSpec; callers borrow one worker per invocation."""

    def __init__(
        self,
        spec: WorkerSpec,
        max_workers: int = 4,
        ctx: multiprocessing.context.BaseContext | None = None,
    ) -> None:
        self.spec = spec
        self.max_workers = max(1, max_workers)
        self._ctx = ctx or default_context()
        self._cond = threading.Condition()
        self._idle: list[Worker] = []
        self._count = 0  # workers alive or starting, idle or busy
        self._closed = False

    def acquire(self, wait_s: float) -> Worker | None:
        """Borrow a worker, starting one if below max; None if none frees up within `wait_s`."""
        deadline = time.monotonic() + wait_s
        with self._cond:
            while True:
                if self._closed:
                    raise PoolClosed(self.spec.function_name)
                while self._idle:
                    worker = self._idle.pop()
                    if worker.alive:
                        return worker
                    self._count -= 1
                if self._count < self.max_workers:
                    self._count += 1
                    break
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return None
                self._cond.wait(remaining)
        try:
            return Worker(self.spec, self._ctx)  # started outside the lock: other workers stay usable
        except BaseException:
            with self._cond:
                self._count -= 1
                self._cond.notify()
            raise

    def release(self, worker: Worker, healthy: bool = True) -> None:
        with self._cond:
            if healthy and worker.alive and not self._closed:
                self._idle.append(worker)
                worker = None  # type: ignore[assignment]
            else:
                self._count -= 1
            self._cond.notify()
        if worker is not None:
            worker.stop()

    def close(self) -> None:
        """Stop idle workers now; busy ones are stopped when released."""
        with self._cond:
            self._closed = True
            idle, self._idle = self._idle, []
            self._count -= len(idle)
            self._cond.notify_all()
        for worker in idle:
            worker.stop()

    @property
    def size(self) -> int:
        with self._cond:
            return self._count
