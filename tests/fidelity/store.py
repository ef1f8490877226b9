"""Where the behaviour layer keeps what AWS would remember between calls: rate-limit windows, certificates still
held by a deleted custom domain, replicas being built, tokens already used, the simulated clock's offset, and how
often each rule fired.

AWS's limits are per account and outlive one command, so a lifecycle of several `wildrydes` processes shares one
`FileStore` (a JSON file beside the state file, changed under an flock). A test in one process uses a
`MemoryStore`. Both offer the same two calls: `read()` (a copy) and `update(change)` (atomic read-modify-write).
"""

from __future__ import annotations

import copy
import fcntl
import json
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")


class MemoryStore:
    """The store of one process."""

    def __init__(self) -> None:
        self._data: dict[str, Any] = {}
        self._lock = threading.RLock()

    def read(self) -> dict[str, Any]:
        with self._lock:
            return copy.deepcopy(self._data)

    def update(self, change: Callable[[dict[str, Any]], T]) -> T:
        with self._lock:
            return change(self._data)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()


class FileStore:
    """The store shared by every process of one lifecycle: a JSON file, each update under an exclusive flock."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock_path = self.path.with_name(self.path.name + ".lock")
        self._thread_lock = threading.RLock()  # flock is per open file, not per thread

    def _load(self) -> dict[str, Any]:
        try:
            return json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}

    def read(self) -> dict[str, Any]:
        with self._thread_lock, open(self._lock_path, "a+") as lock:
            fcntl.flock(lock, fcntl.LOCK_SH)
            return self._load()

    def update(self, change: Callable[[dict[str, Any]], T]) -> T:
        with self._thread_lock, open(self._lock_path, "a+") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            data = self._load()
            before = json.dumps(data, sort_keys=True)
            result = change(data)
            if json.dumps(data, sort_keys=True) != before:
                tmp = self.path.with_name(f"{self.path.name}.{os.getpid()}.tmp")
                tmp.write_text(json.dumps(data), encoding="utf-8")
                os.replace(tmp, self.path)
            return result

    def clear(self) -> None:
        self.update(lambda data: data.clear())
