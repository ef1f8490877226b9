"""The state file: what this deployment made, per region, with ids and ARNs.

Written atomically (temp file + rename) the moment each resource exists, so a run that dies halfway leaves a
file the next run or `cleanup` completes from. A lock file beside it keeps two commands off the same state.
Secrets never enter it: records hold names, ids and ARNs only.
"""

from __future__ import annotations

import fcntl
import json
import os
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from wildrydes_mr.errors import StateError, StateLockedError

SCHEMA_VERSION = 2
# Schema 1: before tickets had owners and the site both regions. Its records read as schema 2 after
# `_migrated_from_1`; the file is written as schema 2 at the next change.
READABLE_VERSIONS = (1, SCHEMA_VERSION)


def resource_key(kind: str, region: str, name: str) -> str:
    return f"{region}/{kind}/{name}"


@dataclass
class State:
    """The in-memory state; every mutation is saved at once by `save`."""

    path: Path
    deployment: str
    target: str
    resources: dict[str, dict[str, Any]] = field(default_factory=dict)
    extras: dict[str, Any] = field(default_factory=dict)
    _sequence: int = 0
    _mutex: threading.Lock = field(default_factory=threading.Lock, repr=False)

    # --- records --------------------------------------------------------------------------------------
    def get(self, kind: str, region: str, name: str) -> dict[str, Any] | None:
        return self.resources.get(resource_key(kind, region, name))

    def put(self, kind: str, region: str, name: str, module: str, **attributes: Any) -> dict[str, Any]:
        """Records (or refreshes) a resource and saves the file. Keeps the original creation order."""
        key = resource_key(kind, region, name)
        with self._mutex:
            previous = self.resources.get(key)
            if previous is None:
                self._sequence += 1
                order = self._sequence
            else:
                order = previous["order"]
            # A resource belongs to the module that made it, whichever module converges it later.
            record = {"kind": kind, "region": region, "name": name,
                      "module": previous["module"] if previous else module, "order": order, **attributes}
            if previous == record:
                return record
            self.resources[key] = record
            self._save_locked()
        return record

    def remove(self, kind: str, region: str, name: str) -> None:
        key = resource_key(kind, region, name)
        with self._mutex:
            if self.resources.pop(key, None) is not None:
                self._save_locked()

    def set_extra(self, key: str, value: Any) -> None:
        with self._mutex:
            if value is None:
                self.extras.pop(key, None)
            else:
                self.extras[key] = value
            self._save_locked()

    def in_reverse_order(self) -> list[dict[str, Any]]:
        """Records newest first: the order to delete them in."""
        return sorted(self.resources.values(), key=lambda r: r["order"], reverse=True)

    # --- file ------------------------------------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        return {"schema_version": SCHEMA_VERSION, "deployment": self.deployment, "target": self.target,
                "sequence": self._sequence, "resources": self.resources, "extras": self.extras}

    def save(self) -> None:
        with self._mutex:
            self._save_locked()

    def _save_locked(self) -> None:
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)  # state: readable by its owner only
        text = json.dumps(self.to_json(), indent=2, sort_keys=True)
        fd, tmp = tempfile.mkstemp(prefix=self.path.name + ".", suffix=".tmp", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text + "\n")
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


def load(path: Path, deployment: str, target: str) -> State:
    """Reads the state file at `path`, or an empty state if there is none. Never guesses at a bad file."""
    if not path.exists():
        return State(path=path, deployment=deployment, target=target)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise StateError(f"state file {path} is unreadable ({exc.__class__.__name__}: {exc})",
                         hint="restore it from a backup or move it aside; nothing was changed") from None
    if not isinstance(data, dict) or data.get("schema_version") not in READABLE_VERSIONS:
        version = data.get("schema_version") if isinstance(data, dict) else None
        raise StateError(f"state file {path} has schema_version {version!r}, expected {SCHEMA_VERSION}",
                         hint="it was written by another version of wildrydes; nothing was changed")
    resources = data.get("resources")
    if not isinstance(resources, dict) or not all(_valid_record(k, r) for k, r in resources.items()):
        raise StateError(f"state file {path} is corrupted (bad resource records)",
                         hint="restore it from a backup or move it aside; nothing was changed")
    if data.get("deployment") != deployment:
        raise StateError(f"state file {path} belongs to deployment {data.get('deployment')!r}, "
                         f"not {deployment!r}", hint="pass --state for this deployment")
    if data.get("target") != target:
        raise StateError(f"state file {path} records a deployment on target {data.get('target')!r}, "
                         f"not {target!r}", hint="pass --target or --state to match it")
    if data["schema_version"] == 1:
        resources = _migrated_from_1(resources)
    sequence = data.get("sequence", 0)
    extras = data.get("extras", {})
    if not isinstance(sequence, int) or not isinstance(extras, dict):
        raise StateError(f"state file {path} is corrupted (bad header)",
                         hint="restore it from a backup or move it aside; nothing was changed")
    return State(path=path, deployment=deployment, target=target, resources=resources, extras=extras,
                 _sequence=sequence)


def _migrated_from_1(resources: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Schema 1 → 2: an identity pool's role mapping kept its roles as `roles`; every pool mapping now keeps the
    parameters of its Set call as `setting` (roles, and the principal-tag map added in schema 2). Everything
    else reads the same; what schema 2 adds (the secondary's pool and bucket, the owner index, the claim
    function) the next run converges."""
    migrated = {}
    for key, record in resources.items():
        if record.get("kind") == "cognito-pool-roles" and "roles" in record:
            record = {k: v for k, v in record.items() if k != "roles"} | {"setting": {"Roles": record["roles"]}}
        migrated[key] = record
    return migrated


def _valid_record(key: str, record: Any) -> bool:
    return (isinstance(record, dict) and isinstance(record.get("order"), int)
            and all(isinstance(record.get(f), str) for f in ("kind", "region", "name", "module"))
            and key == resource_key(record["kind"], record["region"], record["name"]))


@contextmanager
def locked(path: Path) -> Iterator[None]:
    """Holds an exclusive, non-blocking lock beside the state file for the duration of one command."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    lock_path = path.with_name(path.name + ".lock")
    handle = os.fdopen(os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600), "a+", encoding="utf-8")
    try:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "unknown"
            raise StateLockedError(f"another wildrydes command (pid {holder}) is using {path}",
                                   hint="wait for it to finish, then run this again; nothing was changed") from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        yield
    finally:
        handle.close()
