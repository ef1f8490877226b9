"""What the local global-tables replicator knows: the tables it replicates, their members (a region's stream and
its shards), the per-key state it converges (the winning image, what each region holds), and the small helpers
for comparing DynamoDB images (plain values, key ids, digests) and streams' timestamps."""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import math
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

logger = logging.getLogger(__name__)

CONTROL_INTERVAL_SECONDS = 1.0
# After this long without stream activity a table is polled at IDLE_POLL_SECONDS (if poll_interval is shorter):
# each empty GetRecords costs moto ~5 ms of the daemon's CPU; 0.25 s keeps a first write's latency well under 0.5 s.
IDLE_AFTER_SECONDS = 2.0
IDLE_POLL_SECONDS = 0.25
SHARD_REFRESH_SECONDS = 1.0
# A key whose state agrees in every region is forgotten after this long; a stream record older than a forgotten
# winner (only possible if the replicator lagged by more than this) would then win.
SETTLED_KEY_TTL_SECONDS = 60.0
RECORDS_PER_CALL = 1000
MAX_PAGES_PER_SHARD = 20
BATCH_WRITE_LIMIT = 25
BATCH_WRITE_ATTEMPTS = 3
REMOVED = "<removed>"
GONE_ERRORS = frozenset({"ResourceNotFoundException", "TableNotFoundException"})
STALE_ITERATOR_ERRORS = frozenset({"ExpiredIteratorException", "TrimmedDataAccessException"})

Version = tuple[float, int, int]  # (write time, region rank, stream sequence number): larger wins



class _TableGone(Exception):
    """The table vanished in some region (cleanup deletes it): not a problem, the next control poll drops it."""


@dataclass
class _Shard:
    shard_id: str
    parent_id: str | None
    iterator: str | None = None
    last_sequence: str | None = None
    closed: bool = False


@dataclass
class _Member:
    """The table in one region, and how far its stream has been read."""

    region: str
    stream_arn: str
    shards: dict[str, _Shard] = field(default_factory=dict)
    shards_checked: float = -math.inf
    dark_since: float | None = None  # wall time its side went dark (an outage or a pause); None while it runs


@dataclass
class _KeyState:
    keys: dict[str, Any]  # the key attributes, for DeleteRequest
    version: Version
    digest: str
    image: dict[str, Any] | None  # the winning NewImage; None: the item is deleted
    seen: dict[str, str] = field(default_factory=dict)  # region -> digest of its last known state of this item
    touched: float = 0.0
    ready_at: float = 0.0  # monotonic time before which the winner is not written elsewhere (replication lag)
    origin: str = ""  # the region the winning write was made in ("" for a backfilled item)


@dataclass
class _Table:
    name: str
    spec: tuple[Any, ...]  # (key schema, ((region, stream arn), ...)): a change of it restarts replication
    key_names: list[str]
    members: dict[str, _Member]
    keys: dict[str, _KeyState] = field(default_factory=dict)
    # (region, key) -> [(digest, time the write returned)] for writes made here whose stream record is not read yet
    pending: dict[tuple[str, str], list[tuple[str, float]]] = field(default_factory=dict)
    dirty: set[str] = field(default_factory=set)
    backfilled: bool = False
    replicated: int = 0
    lag_seconds: float | None = None
    last_activity: float = -math.inf
    next_sync: float = 0.0
    pruned_at: float = 0.0


def _plain(value: Any) -> Any:
    """An attribute value as JSON-able data; set members sorted, since their order carries no meaning."""
    if isinstance(value, dict):
        out = {}
        for name, inner in value.items():
            if name in ("SS", "NS", "BS"):
                out[name] = sorted(_plain(member) for member in inner)
            else:
                out[name] = _plain(inner)
        return out
    if isinstance(value, list):
        return [_plain(member) for member in value]
    if isinstance(value, bytes | bytearray):
        return "b64:" + base64.b64encode(value).decode("ascii")
    return value


def _key_id(keys: dict[str, Any]) -> str:
    return json.dumps(_plain(keys), sort_keys=True, separators=(",", ":"))


def _digest(image: dict[str, Any] | None) -> str:
    if image is None:
        return REMOVED
    canonical = json.dumps(_plain(image), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _epoch(value: Any) -> float:
    # botocore parses ApproximateCreationDateTime into a datetime. moto stamps records with millisecond precision
    # (AWS rounds to the second), so same-instant writes in two regions do happen: see the tie rule in Version.
    return value.timestamp() if hasattr(value, "timestamp") else float(value)


def _chunks(items: list[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _error_code(exc: BaseException) -> str:
    return exc.response.get("Error", {}).get("Code", "") if isinstance(exc, ClientError) else ""


def _release_iterator(iterator: str | None) -> None:
    """moto quirk: every GetShardIterator and GetRecords stores a new iterator in the backend and never drops it
    (~1.8 KB each: ~130 MB an hour for one table polled 10 times a second in two regions), where AWS lets them
    expire after 15 minutes. When moto runs in this process (the local-cloud daemon, the tests), forget the iterators
    this replicator is done with. Best effort: with moto elsewhere, or a moto that changed shape, it does nothing."""
    models = sys.modules.get("moto.dynamodbstreams.models")
    if models is None or not iterator:
        return
    try:
        _, _, _, region, account = iterator.split("|", 1)[0].split(":")[:5]
        # dict.get, not [...]: moto's backend dicts create a backend on a missed lookup.
        per_account = dict.get(models.dynamodbstreams_backends, account)
        backend = dict.get(per_account, region) if per_account is not None else None
        if backend is not None:
            backend.shard_iterators.pop(iterator, None)
    except Exception as exc:  # never let housekeeping break replication
        logger.debug("could not release a moto shard iterator: %s", exc)
