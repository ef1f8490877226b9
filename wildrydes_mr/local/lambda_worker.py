"""Lambda-like worker processes for the local API gateway.

This module owns running a Lambda handler from `lambda_src/` outside the gateway's process: one long-lived
worker process per function configuration (name, handler, environment), as a warm Lambda execution environment
would be. Environment variables are per process, so each worker is started with exactly the function's
environment plus the variables the Lambda runtime sets, and boto3 inside the handler talks to the local cloud
(AWS_ENDPOINT_URL).

A worker is a fresh interpreter running this file as a script (`python -I lambda_worker.py <fd>`), started
with subprocess (fork+exec in C, safe from a threaded server). Unlike multiprocessing's spawn/forkserver, this
never re-imports the parent's `__main__` in the child, so a gateway started from any script (guarded by
`if __name__ == "__main__"` or not) works, and the environment is the process's from its first instruction.
Parent and child talk over a private socketpair, one JSON message per frame: the event and the result cross it
as JSON text, as they cross the Lambda runtime API, so a handler that returns something JSON cannot represent
fails here as it would on Lambda. Handler output (print, logging) goes to the gateway's stdout/stderr.

Parent side: `Worker` (one process, one request at a time) and `WorkerPool` (a few workers for one
configuration). Child side: `_child_main`. Only the standard library is imported here, so the child starts
fast and needs nothing of this package.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import socket
import subprocess
import sys
import threading
import time
import traceback
import uuid
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

__all__ = [
    "InvokeResult",
    "PoolClosed",
    "Worker",
    "WorkerDied",
    "WorkerPool",
    "WorkerSpec",
    "WorkerTimeout",
]

# Lambda allows 10 s for the init phase (imports, module-level clients).
INIT_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class WorkerSpec:
    """Everything that makes one worker process: a change in any of it needs a new process."""

    function_name: str
    function_arn: str
    handler: str
    src_dir: str
    # The complete environment of the worker, sorted. It holds keys: kept out of repr (and so out of logs).
    environment: tuple[tuple[str, str], ...] = field(repr=False)
    memory_mb: int = 128
    version: str = "$LATEST"

    @property
    def env(self) -> dict[str, str]:
        return dict(self.environment)


@dataclass
class InvokeResult:
    """ok: `payload` is the handler's return value (JSON text); not ok: `error` is Lambda's error shape."""

    ok: bool
    payload: str | None = None
    error: dict[str, Any] = field(default_factory=dict)


class WorkerTimeout(Exception):
    """The handler did not answer in time; the worker has been killed."""


class WorkerDied(Exception):
    """The worker process exited or broke its connection."""


class PoolClosed(Exception):
    """The pool was retired (its function's configuration changed, or the gateway stopped)."""


def _send(conn: Connection, message: Any) -> None:
    conn.send_bytes(json.dumps(message).encode())


def _recv(conn: Connection) -> Any:
    return json.loads(conn.recv_bytes())


# ------------------------------------------------------------------------------------------------- child side


class _Context:
    """The Lambda context object (the attributes handlers commonly use)."""

    def __init__(self, setup: dict[str, Any], request_id: str, deadline_ms: int) -> None:
        self.function_name = setup["function_name"]
        self.function_version = setup["version"]
        self.invoked_function_arn = setup["function_arn"]
        self.memory_limit_in_mb = int(setup["memory_mb"])
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


_DOTTED = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_."


def _load_handler(handler: str, src_dir: str) -> Any:
    """The handler function, from a module of the task root only: a function's Handler must not name any other
    module this interpreter could import (`os.system`, or a module that runs code when imported)."""
    module_name, _, func_name = handler.replace("/", ".").rpartition(".")
    if not module_name or not func_name or not all(c in _DOTTED for c in handler.replace("/", ".")) \
            or ".." in module_name or module_name.startswith("."):
        raise ValueError(f"Bad handler '{handler}': expected 'module.function'")
    spec = importlib.util.find_spec(module_name.split(".", 1)[0])
    root = os.path.realpath(src_dir)
    origin = os.path.realpath(spec.origin) if spec is not None and spec.origin else ""
    if not origin.startswith(root + os.sep):
        raise ImportError(f"Unable to import module '{module_name}': No module named '{module_name}' in the "
                          "task root")
    return getattr(importlib.import_module(module_name), func_name)


def _child_main(fd: int) -> None:
    """Worker process: import the handler once (the init phase), then serve invocations until EOF or stop."""
    conn = Connection(fd)
    setup = _recv(conn)
    # The task root comes first, as on Lambda; this file's directory is never searched (-I implies -P).
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path[:] = [setup["src_dir"]] + [p for p in sys.path if p and os.path.abspath(p) != here]
    init_error: dict[str, Any] | None = None
    handler = None
    try:
        handler = _load_handler(setup["handler"], setup["src_dir"])
    except Exception as exc:  # an init error is answered on every invocation, as Lambda does
        init_error = _error(exc, "Runtime.ImportModuleError" if isinstance(exc, ImportError) else None)
        print(f"[ERROR] {init_error['errorType']}: {init_error['errorMessage']}", file=sys.stderr, flush=True)
    _send(conn, ["ready", os.getpid()])
    while True:
        try:
            message = _recv(conn)
        except (EOFError, OSError, KeyboardInterrupt):
            return
        if message[0] != "invoke":
            return
        _, request_id, event_json, deadline_ms = message
        if init_error is not None:
            _send(conn, ["error", init_error])
            continue
        try:
            result = handler(json.loads(event_json), _Context(setup, request_id, deadline_ms))
        except Exception as exc:
            err = _error(exc)
            # Lambda writes unhandled errors to the function's log; here that is the worker's stderr.
            print(f"[ERROR] {err['errorType']}: {err['errorMessage']}", file=sys.stderr, flush=True)
            _send(conn, ["error", err])
            continue
        try:
            payload = json.dumps(result)
        except (TypeError, ValueError) as exc:
            _send(conn, ["error", _error(exc, "Runtime.MarshalError")])
            continue
        _send(conn, ["ok", payload])


# ------------------------------------------------------------------------------------------------ parent side


class Worker:
    """One worker process for one WorkerSpec. Not thread-safe: a pool hands it to one caller at a time."""

    def __init__(self, spec: WorkerSpec) -> None:
        self.spec = spec
        parent_sock, child_sock = socket.socketpair()
        try:
            self.process = subprocess.Popen(
                # -I (isolated): no PYTHON* variable, no user site-packages, this file's directory not on
                # sys.path — what a function's configuration says cannot change how the interpreter starts.
                [sys.executable, "-I", os.path.abspath(__file__), str(child_sock.fileno())],
                pass_fds=(child_sock.fileno(),),
                env=spec.env,
                cwd=spec.src_dir,  # Lambda's working directory is the task root
                stdin=subprocess.DEVNULL,
                close_fds=True,
            )
        except BaseException:
            parent_sock.close()
            raise
        finally:
            child_sock.close()
        self._conn = Connection(parent_sock.detach())
        try:
            setup = {
                "function_name": spec.function_name,
                "function_arn": spec.function_arn,
                "handler": spec.handler,
                "src_dir": spec.src_dir,
                "memory_mb": spec.memory_mb,
                "version": spec.version,
            }
            _send(self._conn, setup)
            if not self._conn.poll(INIT_TIMEOUT_S):
                self.kill()
                raise WorkerTimeout(
                    f"worker for {spec.function_name} did not start in {INIT_TIMEOUT_S:.0f} s"
                )
            _recv(self._conn)
        except (EOFError, OSError) as exc:
            self.kill()
            raise WorkerDied(f"worker for {spec.function_name} exited during init") from exc

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def invoke(self, event: dict[str, Any], timeout_s: float, request_id: str | None = None) -> InvokeResult:
        """Run the handler once. Raises WorkerTimeout (worker killed) or WorkerDied."""
        request_id = request_id or str(uuid.uuid4())
        deadline_ms = int((time.time() + timeout_s) * 1000)
        try:
            _send(self._conn, ["invoke", request_id, json.dumps(event), deadline_ms])
            if not self._conn.poll(timeout_s):
                self.kill()
                raise WorkerTimeout(f"{self.spec.function_name} timed out after {timeout_s:.2f} seconds")
            kind, value = _recv(self._conn)
        except (EOFError, OSError, ValueError) as exc:
            self.kill()
            raise WorkerDied(f"worker for {self.spec.function_name} died") from exc
        if kind == "ok":
            return InvokeResult(ok=True, payload=value)
        return InvokeResult(ok=False, error=value)

    def stop(self, grace_s: float = 1.0) -> None:
        try:
            _send(self._conn, ["stop"])
        except (OSError, ValueError):
            pass
        try:
            self.process.wait(grace_s)
        except subprocess.TimeoutExpired:
            pass
        self.kill()

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        try:
            self.process.wait(5)
        except subprocess.TimeoutExpired:
            pass
        try:
            self._conn.close()
        except (OSError, AttributeError):
            pass


class WorkerPool:
    """Up to `max_workers` warm workers for one WorkerSpec; callers borrow one worker per invocation."""

    def __init__(self, spec: WorkerSpec, max_workers: int = 4) -> None:
        self.spec = spec
        self.max_workers = max(1, max_workers)
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
            return Worker(self.spec)  # started outside the lock: the other workers stay usable
        except BaseException:
            with self._cond:
                self._count -= 1
                self._cond.notify()
            raise

    def release(self, worker: Worker, healthy: bool = True) -> None:
        keep = False
        with self._cond:
            if healthy and worker.alive and not self._closed:
                self._idle.append(worker)
                keep = True
            else:
                self._count -= 1
            self._cond.notify()
        if not keep:
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


if __name__ == "__main__":
    _child_main(int(sys.argv[1]))
