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

A local outage (`unavailable(region)`, see outage.py) pauses a region's side: its stream is not read and nothing is
written to it, so nothing crosses to or from it. An AWS FIS `aws:dynamodb:global-table-pause-replication`
experiment (`paused(region, table)`, see ../fis.py) pauses exactly one table's replica in one region the same way;
other tables, and the table's other replicas between themselves, carry on. The keys it lacks stay dirty and its
stream keeps its position: once the outage (or pause) ends, the region's stream is read on from where it stopped
and the region is brought to the winners, so no write is lost and none is made twice. A table first seen during
an outage of one of its regions is picked up (and backfilled) once it ends.

Replication lag (`lag_seconds`, the config's local.replication_lag_ms × time_scale): a write read from a stream is
written to the other regions no earlier than that long after the replicator first saw it (DynamoDB's is "typically
within a second", no SLA). When a region goes dark (an outage or a pause begins, at `dark_since`), its stream is read
one last time; a write made so late that its lag had not passed by then is in flight, and reaches the other regions
only once the region is back (with no lag, everything acknowledged before the region went dark is delivered).

Convergence is state based: for every key the replicator keeps the winning image and the digest of the last state
it saw (or wrote) in each region, and rewrites a region whose state differs from the winner. A user write that
races with a replicated write is therefore repaired on the next poll rather than left diverged.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import boto3
from botocore.config import Config as BotoConfig
from botocore.exceptions import ClientError

from .model import (
    BATCH_WRITE_ATTEMPTS,
    BATCH_WRITE_LIMIT,
    CONTROL_INTERVAL_SECONDS,
    GONE_ERRORS,
    IDLE_AFTER_SECONDS,
    IDLE_POLL_SECONDS,
    SETTLED_KEY_TTL_SECONDS,
    SHARD_REFRESH_SECONDS,
    _chunks,
    _digest,
    _error_code,
    _key_id,
    _KeyState,
    _Member,
    _Table,
    _TableGone,
)
from .streams import StreamReading

logger = logging.getLogger(__name__)


class Replicator(StreamReading):
    """Emulates global tables between `regions` of the moto server at `aws_endpoint`."""

    def __init__(self, aws_endpoint: str, regions: list[str], access_key_id: str, secret_access_key: str,
                 poll_interval: float = 0.1, unavailable: Callable[[str], bool] | None = None,
                 paused: Callable[[str, str], bool] | None = None, lag_seconds: float = 0.0,
                 dark_since: Callable[[str, str], float | None] | None = None):
        """`unavailable(region)`: True while the region is out (a local outage); its side of replication pauses.
        `paused(region, table)`: True while replication of that table's replica in that region is paused (FIS).
        `lag_seconds`: the least time between first seeing a write and writing it to the other regions.
        `dark_since(region, table)`: when (wall time) that side's outage or pause began, if known."""
        self.aws_endpoint = aws_endpoint
        self._unavailable = unavailable or (lambda region: False)
        self._paused = paused or (lambda region, table: False)
        self.lag_seconds = max(0.0, float(lag_seconds))
        self._dark_since = dark_since or (lambda region, table: None)
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
        paused_tables = {table.name: regions for table in tables
                         if (regions := [region for region in sorted(table.members) if self._halted(table, region)])}
        return {"tables": {table.name: {"regions": sorted(table.members), "replicated": table.replicated,
                                        "lag_seconds": table.lag_seconds} for table in tables},
                "paused": [region for region in self.regions if self._unavailable(region)],
                "paused_tables": paused_tables, "replication_lag_seconds": self.lag_seconds}

    def members(self, name: str) -> list[str]:
        """The regions between which table `name` is replicated (empty: it is not a global table here)."""
        with self._lock:
            table = self._tables.get(name)
            return sorted(table.members) if table is not None else []

    def _halted(self, table: _Table, region: str) -> bool:
        """True while `table`'s side in `region` is paused: the region is out, or an experiment pauses it."""
        return self._unavailable(region) or self._paused(region, table.name)

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
        now = time.monotonic()
        interval = self.poll_interval if now - table.last_activity < IDLE_AFTER_SECONDS else max(
            self.poll_interval, IDLE_POLL_SECONDS)
        # A write held back by the lag is written as soon as its time comes, not a poll later.
        held = [state.ready_at for key_id in table.dirty if (state := table.keys.get(key_id)) and state.ready_at > now]
        return min([interval, *(ready - now for ready in held)])

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
            if any(self._halted(table, region) for region in table.members):
                return  # the backfill scans every region: it waits for the outage (or pause) to end
            self._backfill(table)
            table.backfilled = True
        for member in table.members.values():
            context = f"table {table.name} in {member.region}"
            if self._halted(table, member.region):
                if member.dark_since is None:
                    # It has just gone dark. Knowing when, its stream is read one last time: a write made before then
                    # whose lag had passed by then is delivered; the others are in flight (see _reconcile).
                    since = self._dark_since(member.region, table.name)
                    if since is not None:
                        self._guard(context, self._read_stream, table, member)
                    member.dark_since = since if since is not None else time.time()
                continue  # its stream is read on from here once the outage (or pause) ends
            member.dark_since = None
            self._guard(context, self._read_stream, table, member)
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

    def _reconcile(self, table: _Table) -> None:
        """Write each dirty key's winner to every region whose last known state differs from it."""
        writes: dict[str, list[str]] = {region: [] for region in table.members}
        now = time.monotonic()
        failed: set[str] = set()
        for key_id in sorted(table.dirty):
            state = table.keys.get(key_id)
            if state is None:
                continue
            origin = table.members.get(state.origin)
            # Made (version[0]: the record's creation time) too late for its lag to pass before its region went dark.
            in_flight = origin is not None and origin.dark_since is not None and \
                state.version[0] + self.lag_seconds > origin.dark_since
            if state.ready_at > now or in_flight:
                # Still within the replication lag, or on its way from a region that went dark before the lag had
                # passed (a write in flight stays there until the region is back): written once that has passed.
                failed.add(key_id)
                continue
            for region in table.members:
                if state.seen.get(region) != state.digest:
                    writes[region].append(key_id)
        for region, key_ids in writes.items():
            if self._halted(table, region):
                failed.update(key_ids)  # written once the outage (or pause) ends
                continue
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

