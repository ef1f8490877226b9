"""The local cloud's global tables: replicates DynamoDB tables between regions through DynamoDB Streams.

moto does not emulate global tables (version 2019.11.21): `update_table(ReplicaUpdates=...)` is ignored and nothing
crosses regions. On the local cloud the tool creates the replica table itself (same name, same key schema, streams
NEW_AND_OLD_IMAGES), and this module, running in threads of the local-cloud daemon, does what DynamoDB would:

- control plane (about once a second): a table NAME that exists in two or more of the regions, with a
  NEW_AND_OLD_IMAGES stream in each and the same key schema, is a global table. New ones are picked up (their
  items copied to the regions that lack them, then every stream read from TRIM_HORIZON, so that no write made
  before the first poll is lost); vanished ones are dropped quietly.
- data plane (every `poll_interval`): read each region's stream, decide per item key which write wins (last writer
  wins by the record's ApproximateCreationDateTime; a tie goes to the region whose name sorts last, then to the
  later record of the stream), and bring every other region to the winner with BatchWriteItem.
- no ping-pong: a write this replicator made shows up in its target region's stream; it is recognised by
  (region, key, image digest) and taken as an observation of that region's state, never as a new write.

Convergence is state based: for every key the replicator keeps the winning image and the digest of the last state
it saw (or wrote) in each region, and rewrites a region whose state differs from the winner. A user write that
races with a replicated write is therefore repaired on the next poll rather than left diverged.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import math
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore.config import Config as BotoConfig
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


@dataclass
class _KeyState:
    keys: dict[str, Any]  # the key attributes, for DeleteRequest
    version: Version
    digest: str
    image: dict[str, Any] | None  # the winning NewImage; None: the item is deleted
    seen: dict[str, str] = field(default_factory=dict)  # region -> digest of its last known state of this item
    touched: float = 0.0


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


class Replicator:
    """Emulates global tables between `regions` of the moto server at `aws_endpoint`."""

    def __init__(self, aws_endpoint: str, regions: list[str], access_key_id: str, secret_access_key: str,
                 poll_interval: float = 0.1):
        self.aws_endpoint = aws_endpoint
        # Sorted, so that a region's rank (the tie-break of last writer wins) does not depend on argument order.
        self.regions = sorted(dict.fromkeys(regions))
        self.poll_interval = poll_interval
        self._rank = {region: rank for rank, region in enumerate(self.regions)}
        self._session = boto3.session.Session(aws_access_key_id=access_key_id,
                                              aws_secret_access_key=secret_access_key)
        # Account-id endpoints (AWS_ACCOUNT_ID_ENDPOINT_MODE) would send DynamoDB calls to hosts moto does not
        # know; with an explicit endpoint_url they are not used anyway, but an environment setting cannot interfere.
        self._config = BotoConfig(connect_timeout=1, read_timeout=5, retries={"mode": "standard", "max_attempts": 3},
                                  account_id_endpoint_mode="disabled")
        self._clients: dict[tuple[str, str], Any] = {}
        self._tables: dict[str, _Table] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._next_control = 0.0
        self._problems: dict[str, str] = {}  # context -> the problem last logged for it (one line per problem)

    # -- lifecycle -------------------------------------------------------------------------------------------------
    def start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._next_control = 0.0
        self._thread = threading.Thread(target=self._run, name="global-tables-replicator", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2.0)
            if self._thread.is_alive():
                logger.warning("replicator thread did not stop within 2 s")
            self._thread = None

    def status(self) -> dict:
        with self._lock:
            tables = list(self._tables.values())
        return {"tables": {table.name: {"regions": sorted(table.members), "replicated": table.replicated,
                                        "lag_seconds": table.lag_seconds} for table in tables}}

    # -- the loop ----------------------------------------------------------------------------------------------------
    def _run(self) -> None:
        # Clients up front: making one takes botocore ~0.1 s, which would otherwise delay the first replication.
        for region in self.regions:
            for service in ("dynamodb", "dynamodbstreams"):
                self._guard("creating clients", self._client, service, region)
        while not self._stop.is_set():
            if time.monotonic() >= self._next_control:
                self._next_control = time.monotonic() + CONTROL_INTERVAL_SECONDS
                self._guard("listing tables", self._refresh_tables)
            with self._lock:
                tables = list(self._tables.values())
            for table in tables:
                if self._stop.is_set():
                    break
                if time.monotonic() >= table.next_sync:
                    self._guard(f"table {table.name}", self._sync, table)
                    table.next_sync = time.monotonic() + self._interval(table)
            wake = min([table.next_sync for table in tables] + [self._next_control])
            self._stop.wait(max(0.005, wake - time.monotonic()))

    def _interval(self, table: _Table) -> float:
        if time.monotonic() - table.last_activity < IDLE_AFTER_SECONDS:
            return self.poll_interval
        return max(self.poll_interval, IDLE_POLL_SECONDS)

    def _guard(self, context: str, action: Callable[..., Any], *args: Any) -> bool:
        """Run one step; a failure is logged once per distinct problem and the step is retried on the next poll."""
        try:
            action(*args)
        except _TableGone as exc:
            logger.debug("%s: %s", context, exc)
            self._next_control = 0.0  # let the control plane drop the table now
            return False
        except Exception as exc:
            if _error_code(exc) in GONE_ERRORS:
                logger.debug("%s: table vanished: %s", context, exc)
                self._next_control = 0.0
                return False
            self._report(context, exc)
            return False
        if self._problems.pop(context, None) is not None:
            logger.info("replicator: %s works again", context)
        return True

    def _report(self, context: str, exc: Exception) -> None:
        problem = f"{type(exc).__name__}: {exc}"
        if self._problems.get(context) != problem:
            self._problems[context] = problem
            logger.warning("replicator: %s failed, retrying: %s", context, problem)

    def _client(self, service: str, region: str) -> Any:
        key = (service, region)
        if key not in self._clients:
            self._clients[key] = self._session.client(service, region_name=region, endpoint_url=self.aws_endpoint,
                                                      config=self._config)
        return self._clients[key]

    # -- control plane -------------------------------------------------------------------------------------------
    def _refresh_tables(self) -> None:
        names: dict[str, set[str]] = {}
        for region in self.regions:
            names[region] = set()
            for page in self._client("dynamodb", region).get_paginator("list_tables").paginate():
                names[region].update(page.get("TableNames", []))
        counts = Counter(name for region_names in names.values() for name in region_names)
        wanted: dict[str, tuple[Any, ...] | None] = {}
        for name in sorted(name for name, count in counts.items() if count >= 2):
            in_regions = [region for region in self.regions if name in names[region]]
            try:
                wanted[name] = self._global_spec(name, in_regions)
            except Exception as exc:
                if _error_code(exc) in GONE_ERRORS:
                    continue
                # Leave what is known of this table as it is; retry on the next control poll.
                self._report(f"describing table {name}", exc)
                with self._lock:
                    if name in self._tables:
                        wanted[name] = self._tables[name].spec
        with self._lock:
            for name, table in list(self._tables.items()):
                if wanted.get(name) != table.spec:
                    del self._tables[name]
                    for context in [context for context in self._problems if f"table {name}" in context]:
                        del self._problems[context]
                    logger.info("replicator: stopped replicating table %s", name)
            for name, spec in wanted.items():
                if spec is not None and name not in self._tables:
                    key_schema, members = spec
                    self._tables[name] = _Table(
                        name=name, spec=spec, key_names=[attribute for attribute, _ in key_schema],
                        members={region: _Member(region, arn) for region, arn in members})
                    logger.info("replicator: replicating table %s between %s", name,
                                ", ".join(region for region, _ in members))

    def _global_spec(self, name: str, regions: list[str]) -> tuple[Any, ...] | None:
        """(key schema, ((region, stream arn), ...)) if `name` is a global table, else None."""
        members: list[tuple[str, str]] = []
        schemas: set[tuple[tuple[str, str], ...]] = set()
        for region in regions:
            try:
                description = self._client("dynamodb", region).describe_table(TableName=name)["Table"]
            except ClientError as exc:
                if _error_code(exc) in GONE_ERRORS:  # deleted between ListTables and now
                    continue
                raise
            stream = description.get("StreamSpecification") or {}
            if (description.get("TableStatus") in ("DELETING", "ARCHIVED") or not stream.get("StreamEnabled")
                    or stream.get("StreamViewType") != "NEW_AND_OLD_IMAGES" or not description.get("LatestStreamArn")):
                continue
            schemas.add(tuple((key["AttributeName"], key["KeyType"]) for key in description["KeySchema"]))
            members.append((region, description["LatestStreamArn"]))
        if len(members) < 2:
            return None
        if len(schemas) != 1:
            self._report(f"table {name}", ValueError("key schemas differ between regions; not replicating it"))
            return None
        return (schemas.pop(), tuple(members))

    # -- data plane ----------------------------------------------------------------------------------------------
    def _sync(self, table: _Table) -> None:
        if not table.backfilled:
            self._backfill(table)
            table.backfilled = True
        for member in table.members.values():
            self._guard(f"table {table.name} in {member.region}", self._read_stream, table, member)
        self._reconcile(table)
        self._prune(table)

    def _backfill(self, table: _Table) -> None:
        """A new replica starts with the items it lacks, as DynamoDB copies them when a replica is added.

        Streams hold only what was written since they were enabled; an item older than that is copied here.
        Scanned states get version 0, so any stream record (read next, from TRIM_HORIZON) overrides them.
        """
        now = time.monotonic()
        for region, member in table.members.items():
            paginator = self._client("dynamodb", region).get_paginator("scan")
            for page in paginator.paginate(TableName=table.name, ConsistentRead=True):
                for item in page.get("Items", []):
                    keys = {name: item[name] for name in table.key_names}
                    key_id = _key_id(keys)
                    digest = _digest(item)
                    version = (0.0, self._rank[member.region], 0)
                    state = table.keys.get(key_id)
                    if state is None:
                        state = table.keys[key_id] = _KeyState(keys, version, digest, item, touched=now)
                    elif version > state.version:
                        state.version, state.digest, state.image = version, digest, item
                    state.seen[region] = digest
                    table.dirty.add(key_id)

    def _read_stream(self, table: _Table, member: _Member) -> None:
        started = time.time()
        streams = self._client("dynamodbstreams", member.region)
        if time.monotonic() - member.shards_checked >= SHARD_REFRESH_SECONDS:
            self._discover_shards(streams, member)
            member.shards_checked = time.monotonic()
        drained = True
        for shard in self._readable_shards(member):
            for _ in range(MAX_PAGES_PER_SHARD):
                if shard.iterator is None:
                    shard.iterator = self._shard_iterator(streams, member, shard)
                try:
                    response = streams.get_records(ShardIterator=shard.iterator, Limit=RECORDS_PER_CALL)
                except ClientError as exc:
                    if _error_code(exc) in STALE_ITERATOR_ERRORS:
                        if _error_code(exc) == "TrimmedDataAccessException":
                            shard.last_sequence = None  # what we had not read is gone: resume from the oldest
                        shard.iterator = None
                    raise
                records = response.get("Records", [])
                if records:
                    self._observe(table, member.region, records)
                    shard.last_sequence = records[-1]["dynamodb"]["SequenceNumber"]
                _release_iterator(shard.iterator)
                shard.iterator = response.get("NextShardIterator")
                if shard.iterator is None:  # the shard was closed (split); its children carry on
                    shard.closed = True
                    break
                if not records:
                    break
            else:
                drained = False
        if drained:
            # Every write made here before `started` has its record in the part of the stream just read, so an
            # unmatched pending write made none (DynamoDB writes no record for deleting an absent item).
            for pending_key in [key for key in table.pending if key[0] == member.region]:
                left = [entry for entry in table.pending[pending_key] if entry[1] >= started]
                if left:
                    table.pending[pending_key] = left
                else:
                    del table.pending[pending_key]

    def _discover_shards(self, streams: Any, member: _Member) -> None:
        # moto quirks: a stream has exactly one shard, with the same id and starting sequence number in every table
        # and region (positions are kept per member, so that is harmless); and the streams backend finds the table
        # by the name in the ARN *in the region of the client*, so each region's stream is read with its own client.
        try:
            description = streams.describe_stream(StreamArn=member.stream_arn)["StreamDescription"]
            shards = list(description.get("Shards", []))
            while description.get("LastEvaluatedShardId"):
                description = streams.describe_stream(StreamArn=member.stream_arn,
                                                      ExclusiveStartShardId=description["LastEvaluatedShardId"])[
                    "StreamDescription"]
                shards.extend(description.get("Shards", []))
        except ClientError as exc:
            if _error_code(exc) in GONE_ERRORS:
                raise _TableGone(f"stream {member.stream_arn} is gone") from exc
            raise
        for shard in shards:
            if shard["ShardId"] not in member.shards:
                member.shards[shard["ShardId"]] = _Shard(shard["ShardId"], shard.get("ParentShardId"))

    @staticmethod
    def _readable_shards(member: _Member) -> list[_Shard]:
        """Open shards whose parent has been read to its end: a key's records stay in order across a split."""
        return [shard for shard in member.shards.values() if not shard.closed and (
            shard.parent_id is None or shard.parent_id not in member.shards or member.shards[shard.parent_id].closed)]

    @staticmethod
    def _shard_iterator(streams: Any, member: _Member, shard: _Shard) -> str:
        # First sight of a shard: TRIM_HORIZON, so writes made between the table's creation and our first poll
        # are not lost (LATEST would skip them). Afterwards resume after the last record read.
        arguments = {"StreamArn": member.stream_arn, "ShardId": shard.shard_id}
        if shard.last_sequence is None:
            arguments["ShardIteratorType"] = "TRIM_HORIZON"
        else:
            arguments.update(ShardIteratorType="AFTER_SEQUENCE_NUMBER", SequenceNumber=shard.last_sequence)
        try:
            return streams.get_shard_iterator(**arguments)["ShardIterator"]
        except ClientError as exc:
            if _error_code(exc) in GONE_ERRORS:
                raise _TableGone(f"stream {member.stream_arn} is gone") from exc
            raise

    def _observe(self, table: _Table, region: str, records: list[dict[str, Any]]) -> None:
        """Fold stream records of one region into the per-key state: the winner and what each region holds."""
        now = time.monotonic()
        table.last_activity = now
        rank = self._rank[region]
        for record in records:
            data = record["dynamodb"]
            # moto quirk: every record says awsRegion "us-east-1"; the region is the stream's, not the record's.
            image = None if record.get("eventName") == "REMOVE" else data.get("NewImage")
            key_id = _key_id(data["Keys"])
            digest = _digest(image)
            state = table.keys.get(key_id)
            table.dirty.add(key_id)
            if self._is_echo(table, region, key_id, digest):
                # Our own replicated write: it tells what the region holds now, and is not a write to replicate.
                if state is not None:
                    state.seen[region] = digest
                    state.touched = now
                continue
            version = (_epoch(data["ApproximateCreationDateTime"]), rank, int(data["SequenceNumber"]))
            if state is None:
                state = table.keys[key_id] = _KeyState(data["Keys"], version, digest, image)
            elif version > state.version:
                state.version, state.digest, state.image = version, digest, image
            state.seen[region] = digest
            state.touched = now

    @staticmethod
    def _is_echo(table: _Table, region: str, key_id: str, digest: str) -> bool:
        entries = table.pending.get((region, key_id))
        if not entries:
            return False
        for index, (pending_digest, _) in enumerate(entries):
            if pending_digest == digest:
                del entries[:index + 1]  # earlier writes of the key that left no record will not leave one now
                if not entries:
                    del table.pending[(region, key_id)]
                return True
        return False

    def _reconcile(self, table: _Table) -> None:
        """Write each dirty key's winner to every region whose last known state differs from it."""
        writes: dict[str, list[str]] = {region: [] for region in table.members}
        for key_id in sorted(table.dirty):
            state = table.keys.get(key_id)
            if state is None:
                continue
            for region in table.members:
                if state.seen.get(region) != state.digest:
                    writes[region].append(key_id)
        failed: set[str] = set()
        for region, key_ids in writes.items():
            context = f"writing table {table.name} in {region}"
            for index, chunk in enumerate(_chunks(key_ids, BATCH_WRITE_LIMIT)):
                if self._stop.is_set() or not self._guard(context, self._write, table, region, chunk):
                    failed.update(key_ids[index * BATCH_WRITE_LIMIT:])  # stay dirty: retried on the next poll
                    break
        table.dirty = failed

    def _write(self, table: _Table, region: str, key_ids: list[str]) -> None:
        client = self._client("dynamodb", region)
        by_request: dict[str, dict[str, Any]] = {}
        for key_id in key_ids:
            state = table.keys[key_id]
            by_request[key_id] = ({"DeleteRequest": {"Key": state.keys}} if state.image is None
                                  else {"PutRequest": {"Item": state.image}})
        unprocessed = list(by_request.values())
        for attempt in range(BATCH_WRITE_ATTEMPTS):
            if attempt:
                time.sleep(0.05 * attempt)
            response = client.batch_write_item(RequestItems={table.name: unprocessed})
            unprocessed = (response.get("UnprocessedItems") or {}).get(table.name, [])
            if not unprocessed:
                break
        done_at = time.time()
        left = {self._request_key_id(table, request) for request in unprocessed}
        lag = None
        for key_id in key_ids:
            if key_id in left:
                continue
            state = table.keys[key_id]
            state.seen[region] = state.digest
            state.touched = time.monotonic()
            table.pending.setdefault((region, key_id), []).append((state.digest, done_at))
            table.replicated += 1
            if state.version[0] > 0:  # not a backfilled item, which has no write time
                lag = max(lag or 0.0, done_at - state.version[0])
        table.last_activity = time.monotonic()
        if lag is not None:
            table.lag_seconds = round(lag, 3)
        if left:
            raise RuntimeError(f"{len(left)} writes stayed unprocessed after {BATCH_WRITE_ATTEMPTS} attempts")

    @staticmethod
    def _request_key_id(table: _Table, request: dict[str, Any]) -> str:
        if "DeleteRequest" in request:
            return _key_id(request["DeleteRequest"]["Key"])
        item = request["PutRequest"]["Item"]
        return _key_id({name: item[name] for name in table.key_names})

    def _prune(self, table: _Table) -> None:
        """Forget keys that agree everywhere and have been quiet a while, so memory does not grow with the table."""
        now = time.monotonic()
        if now - table.pruned_at < SHARD_REFRESH_SECONDS:
            return
        table.pruned_at = now
        for key_id, state in list(table.keys.items()):
            if (key_id not in table.dirty and now - state.touched > SETTLED_KEY_TTL_SECONDS
                    and all(state.seen.get(region) == state.digest for region in table.members)
                    and not any((region, key_id) in table.pending for region in table.members)):
                del table.keys[key_id]
