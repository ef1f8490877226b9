"""How the local replicator reads DynamoDB Streams: each member's shards discovered and re-listed about once a
second, iterators kept per shard (a stale one re-opened), records read in pages, and each record observed as
either a new write (which may win) or an echo of the replicator's own write (which only confirms a region's
state)."""

from __future__ import annotations

import logging
import time
from typing import Any

from botocore.exceptions import ClientError

from .model import (
    GONE_ERRORS,
    MAX_PAGES_PER_SHARD,
    RECORDS_PER_CALL,
    SHARD_REFRESH_SECONDS,
    STALE_ITERATOR_ERRORS,
    _digest,
    _epoch,
    _error_code,
    _key_id,
    _KeyState,
    _Member,
    _release_iterator,
    _Shard,
    _Table,
    _TableGone,
)

logger = logging.getLogger(__name__)


class StreamReading:
    """The Replicator's stream reading (a mixin: it shares the replicator's clients and tables)."""

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
                state = table.keys[key_id] = _KeyState(data["Keys"], version, digest, image,
                                                       ready_at=now + self.lag_seconds, origin=region)
            elif version > state.version:
                state.version, state.digest, state.image = version, digest, image
                state.ready_at = now + self.lag_seconds  # a new write: the lag runs from its first sight
                state.origin = region
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

