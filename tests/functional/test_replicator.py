"""The local cloud's global-tables replicator (wildrydes_mr.local.replicator) against a moto server.

One moto server and one running Replicator (eu-west-1 + ap-southeast-1, poll 0.1 s) serve the module; each test
makes its own table pair, so tests do not see each other's items. Tests that must control when replication starts
(last writer wins over writes made before it, the copy of pre-stream items) run a private Replicator over
us-east-1 + us-west-2, regions the shared one does not watch.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

# DynamoDB Streams answer 404 in-process unless botocore leaves the account id out of the endpoint; the suite's
# conftest sets it too. The replicator pins it in its own client config.
os.environ.setdefault("AWS_ACCOUNT_ID_ENDPOINT_MODE", "disabled")

import boto3  # noqa: E402
import pytest  # noqa: E402

from wildrydes_mr.local import replicator as replicator_module  # noqa: E402
from wildrydes_mr.local.outage import Outage  # noqa: E402
from wildrydes_mr.local.replicator import Replicator  # noqa: E402

PRIMARY, SECONDARY = "eu-west-1", "ap-southeast-1"
OTHER = ("us-east-1", "us-west-2")  # watched only by the tests' private replicators
ACCOUNT = "123456789012"  # moto's default account
STREAM = {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}


@dataclass
class Cloud:
    endpoint: str
    replicator: Replicator
    tables: list[tuple[str, str]]  # (region, name) made by the running test, deleted after it

    def delete_tables(self) -> None:
        # Leaves the shared replicator only the current test's tables to poll, and no tables to later modules
        # (moto's state is process-wide). It also drops tables under a running replicator, as cleanup does.
        while self.tables:
            region, name = self.tables.pop()
            try:
                self.ddb(region).delete_table(TableName=name)
            except self.ddb(region).exceptions.ResourceNotFoundException:
                pass

    def ddb(self, region: str) -> Any:
        return boto3.client("dynamodb", region_name=region, endpoint_url=self.endpoint,
                            aws_access_key_id="testing", aws_secret_access_key="testing")

    def create(self, name: str, *regions: str, stream: bool = True) -> None:
        for region in regions:
            arguments = {"StreamSpecification": STREAM} if stream else {}
            self.ddb(region).create_table(
                TableName=name, KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST",
                **arguments)
            self.tables.append((region, name))

    def put(self, region: str, name: str, key: str, **attributes: str) -> None:
        item = {"id": {"S": key}, **{attr: {"S": value} for attr, value in attributes.items()}}
        self.ddb(region).put_item(TableName=name, Item=item)

    def get(self, region: str, name: str, key: str) -> dict | None:
        return self.ddb(region).get_item(TableName=name, Key={"id": {"S": key}}, ConsistentRead=True).get("Item")

    def items(self, region: str, name: str) -> dict[str, dict]:
        pages = self.ddb(region).get_paginator("scan").paginate(TableName=name, ConsistentRead=True)
        return {item["id"]["S"]: item for page in pages for item in page["Items"]}

    def stream_records(self, region: str, name: str) -> list[dict]:
        """Every record of the table's stream so far, read with a client of the table's own region (moto finds
        the table by the name in the ARN in the *client's* region)."""
        streams = boto3.client("dynamodbstreams", region_name=region, endpoint_url=self.endpoint,
                               aws_access_key_id="testing", aws_secret_access_key="testing")
        arn = self.ddb(region).describe_table(TableName=name)["Table"]["LatestStreamArn"]
        shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
        iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard,
                                              ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        return streams.get_records(ShardIterator=iterator)["Records"]


def eventually(check: Callable[[], Any], timeout: float = 3.0, interval: float = 0.02) -> float:
    """Seconds until check() is truthy; fails after `timeout`."""
    started = time.monotonic()
    while True:
        if check():
            return time.monotonic() - started
        if time.monotonic() - started > timeout:
            pytest.fail(f"not within {timeout} s: {getattr(check, '__doc__', None) or check}")
        time.sleep(interval)


def table_name() -> str:
    return f"rep-{uuid.uuid4().hex[:10]}"


@pytest.fixture(scope="module")
def cloud(moto_endpoint: str):
    replicator = Replicator(moto_endpoint, [PRIMARY, SECONDARY], "testing", "testing", poll_interval=0.1)
    replicator.start()
    world = Cloud(moto_endpoint, replicator, [])
    try:
        yield world
    finally:
        replicator.stop()
        world.delete_tables()


@pytest.fixture(autouse=True)
def _own_tables_only(request: pytest.FixtureRequest):
    yield
    if "cloud" in request.fixturenames:
        request.getfixturevalue("cloud").delete_tables()


@pytest.fixture
def pair(cloud: Cloud) -> str:
    """A fresh table in both regions, already picked up by the shared replicator."""
    name = table_name()
    cloud.create(name, PRIMARY, SECONDARY)
    eventually(lambda: name in cloud.replicator.status()["tables"])
    return name


@pytest.fixture
def private_replicators(moto_endpoint: str):
    made: list[Replicator] = []

    def make(**options: Any) -> Replicator:
        made.append(Replicator(moto_endpoint, list(OTHER), "testing", "testing", poll_interval=0.1, **options))
        return made[-1]
    yield make
    for replicator in made:
        replicator.stop()


def test_put_in_one_region_appears_in_the_other(cloud: Cloud, pair: str):
    cloud.put(PRIMARY, pair, "t1", text="hello")
    eventually(lambda: cloud.get(SECONDARY, pair, "t1"), timeout=2)
    assert cloud.get(SECONDARY, pair, "t1") == {"id": {"S": "t1"}, "text": {"S": "hello"}}
    # The counter moves when BatchWriteItem has returned, a moment after the item is readable.
    eventually(lambda: cloud.replicator.status()["tables"][pair]["replicated"] == 1)
    status = cloud.replicator.status()["tables"][pair]
    assert status["regions"] == sorted([PRIMARY, SECONDARY])
    assert isinstance(status["lag_seconds"], float) and status["lag_seconds"] >= 0


def test_update_in_second_region_flows_back(cloud: Cloud, pair: str):
    cloud.put(PRIMARY, pair, "t1", text="v1")
    eventually(lambda: cloud.get(SECONDARY, pair, "t1"))
    cloud.ddb(SECONDARY).update_item(TableName=pair, Key={"id": {"S": "t1"}}, UpdateExpression="SET #t = :t",
                                     ExpressionAttributeNames={"#t": "text"},
                                     ExpressionAttributeValues={":t": {"S": "v2"}})
    eventually(lambda: (cloud.get(PRIMARY, pair, "t1") or {}).get("text") == {"S": "v2"}, timeout=2)


def test_update_item_creating_an_item_is_replicated(cloud: Cloud, pair: str):
    # moto quirk: UpdateItem on an absent item writes two INSERT records (the bare key, then the full item).
    cloud.ddb(SECONDARY).update_item(TableName=pair, Key={"id": {"S": "new"}}, UpdateExpression="SET n = :n",
                                     ExpressionAttributeValues={":n": {"N": "7"}})
    eventually(lambda: cloud.get(PRIMARY, pair, "new") == {"id": {"S": "new"}, "n": {"N": "7"}}, timeout=2)


def test_delete_is_replicated(cloud: Cloud, pair: str):
    cloud.put(PRIMARY, pair, "gone", text="x")
    eventually(lambda: cloud.get(SECONDARY, pair, "gone"))
    cloud.ddb(PRIMARY).delete_item(TableName=pair, Key={"id": {"S": "gone"}})
    eventually(lambda: cloud.get(SECONDARY, pair, "gone") is None, timeout=2)


def test_a_burst_of_200_writes_is_replicated_within_2_seconds(cloud: Cloud, pair: str):
    client = cloud.ddb(PRIMARY)
    for index in range(200):
        client.put_item(TableName=pair, Item={"id": {"S": f"b{index:03}"}, "n": {"N": str(index)}})
    after_last_write = eventually(lambda: len(cloud.items(SECONDARY, pair)) == 200, timeout=2)
    assert cloud.items(SECONDARY, pair) == cloud.items(PRIMARY, pair)
    print(f"200-write burst replicated {after_last_write:.2f} s after the last write")


def test_concurrent_conflicting_writes_converge(cloud: Cloud, pair: str):
    keys = [f"c{index}" for index in range(5)]

    def writer(region: str) -> None:
        client = cloud.ddb(region)
        for round_ in range(15):
            for key in keys:
                client.put_item(TableName=pair, Item={"id": {"S": key}, "by": {"S": f"{region}-{round_}"}})

    threads = [threading.Thread(target=writer, args=(region,)) for region in (PRIMARY, SECONDARY)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    def converged() -> bool:
        primary = cloud.items(PRIMARY, pair)
        return set(primary) == set(keys) and primary == cloud.items(SECONDARY, pair)

    def settled() -> bool:
        # Equal in both regions and no replication going on. Equal alone can be momentary: a user write that landed
        # in a region just before a replicated (older) one is still repaired on the next poll.
        replicated = cloud.replicator.status()["tables"][pair]["replicated"]
        if not converged():
            return False
        time.sleep(0.5)
        return converged() and cloud.replicator.status()["tables"][pair]["replicated"] == replicated

    eventually(settled, timeout=6)
    # The survivor of each key is one of the last writes of a region.
    assert {item["by"]["S"] for item in cloud.items(PRIMARY, pair).values()} <= {f"{PRIMARY}-14", f"{SECONDARY}-14"}


def test_no_ping_pong(cloud: Cloud, pair: str):
    cloud.put(PRIMARY, pair, "once", text="x")
    eventually(lambda: cloud.replicator.status()["tables"][pair]["replicated"] == 1)
    time.sleep(1.0)
    assert cloud.replicator.status()["tables"][pair]["replicated"] == 1
    # One record each: the write in the primary, the replicated write in the secondary, and no echo back.
    assert [r["eventName"] for r in cloud.stream_records(PRIMARY, pair)] == ["INSERT"]
    assert [r["eventName"] for r in cloud.stream_records(SECONDARY, pair)] == ["INSERT"]


def test_a_table_in_one_region_only_is_not_touched(cloud: Cloud):
    name = table_name()
    cloud.create(name, PRIMARY)
    cloud.put(PRIMARY, name, "solo", text="x")
    time.sleep(1.3)  # more than one control-plane poll
    assert name not in cloud.replicator.status()["tables"]
    assert name not in cloud.ddb(SECONDARY).list_tables()["TableNames"]
    assert [r["eventName"] for r in cloud.stream_records(PRIMARY, name)] == ["INSERT"]


def test_a_table_without_a_stream_in_one_region_is_not_replicated(cloud: Cloud):
    name = table_name()
    cloud.create(name, PRIMARY)
    cloud.create(name, SECONDARY, stream=False)
    cloud.put(PRIMARY, name, "k", text="x")
    time.sleep(1.3)
    assert name not in cloud.replicator.status()["tables"]
    assert cloud.get(SECONDARY, name, "k") is None


def test_a_table_created_after_start_is_picked_up_with_its_first_writes(cloud: Cloud):
    name = table_name()
    cloud.create(name, PRIMARY, SECONDARY)
    # Written before the replicator's next control poll can have seen the table: streams are read from
    # TRIM_HORIZON on first sight, so these are not lost.
    cloud.put(PRIMARY, name, "first", text="a")
    cloud.put(SECONDARY, name, "second", text="b")
    eventually(lambda: cloud.get(SECONDARY, name, "first") and cloud.get(PRIMARY, name, "second"), timeout=3)
    assert name in cloud.replicator.status()["tables"]


def test_deleting_a_table_while_running_is_harmless(cloud: Cloud, pair: str, caplog: pytest.LogCaptureFixture):
    caplog.set_level(logging.WARNING, logger=replicator_module.__name__)
    doomed = table_name()
    cloud.create(doomed, PRIMARY, SECONDARY)
    eventually(lambda: doomed in cloud.replicator.status()["tables"])
    stop = threading.Event()

    def keep_writing() -> None:  # replication of `doomed` is in full swing when its table disappears
        client, index = cloud.ddb(PRIMARY), 0
        while not stop.is_set():
            try:
                client.put_item(TableName=doomed, Item={"id": {"S": f"w{index}"}})
            except client.exceptions.ResourceNotFoundException:
                return
            index += 1

    writer = threading.Thread(target=keep_writing)
    writer.start()
    try:
        time.sleep(0.3)
        cloud.ddb(SECONDARY).delete_table(TableName=doomed)
        eventually(lambda: doomed not in cloud.replicator.status()["tables"], timeout=2.5)
    finally:
        stop.set()
        writer.join()
    cloud.ddb(PRIMARY).delete_table(TableName=doomed)
    cloud.put(PRIMARY, pair, "still", text="works")
    eventually(lambda: cloud.get(SECONDARY, pair, "still"), timeout=2)
    assert cloud.replicator._thread is not None and cloud.replicator._thread.is_alive()
    assert not [record.getMessage() for record in caplog.records if doomed in record.getMessage()]


def test_last_writer_wins_by_write_time_not_by_region(cloud: Cloud, private_replicators):
    east, west = OTHER
    name = table_name()
    cloud.create(name, east, west)
    cloud.put(east, name, "a", by="east-old")
    cloud.put(west, name, "b", by="west-old")
    time.sleep(0.01)  # moto stamps stream records to the millisecond
    cloud.put(west, name, "a", by="west-new")
    cloud.put(east, name, "b", by="east-new")
    cloud.put(east, name, "only-east", by="east")
    replicator = private_replicators()
    replicator.start()
    expected = {"a": "west-new", "b": "east-new", "only-east": "east"}

    def converged() -> bool:
        return all({key: item["by"]["S"] for key, item in cloud.items(region, name).items()} == expected
                   for region in (east, west))

    eventually(converged, timeout=3)


def test_items_older_than_the_stream_are_copied_to_a_new_replica(cloud: Cloud, private_replicators):
    east, west = OTHER
    name = table_name()
    cloud.create(name, east, stream=False)
    cloud.put(east, name, "legacy", text="before the stream")
    cloud.ddb(east).update_table(TableName=name, StreamSpecification=STREAM)
    cloud.put(east, name, "recent", text="after the stream")
    replicator = private_replicators()
    replicator.start()
    cloud.create(name, west)  # the tool adds the replica; DynamoDB copies existing items into it
    eventually(lambda: set(cloud.items(west, name)) == {"legacy", "recent"}, timeout=3)


def test_an_outage_pauses_the_regions_side_and_replication_catches_up_once_it_ends(cloud: Cloud,
                                                                                    private_replicators):
    east, west = OTHER
    outage = Outage(OTHER)
    name = table_name()
    cloud.create(name, east, west)
    replicator = private_replicators(unavailable=outage.is_out)
    replicator.start()
    cloud.put(east, name, "before", text="v1")
    cloud.put(east, name, "doomed", text="deleted during the outage")
    eventually(lambda: cloud.get(west, name, "before") and cloud.get(west, name, "doomed"))

    outage.begin(west)
    assert replicator.status()["paused"] == [west]
    cloud.put(east, name, "during-east", text="made in east")
    cloud.put(east, name, "before", text="v2")
    cloud.ddb(east).delete_item(TableName=name, Key={"id": {"S": "doomed"}})
    cloud.put(west, name, "during-west", text="made in west")  # reached west, not yet replicated
    time.sleep(1.0)  # ten polls: nothing crosses to or from the region that is out
    assert cloud.get(west, name, "during-east") is None and cloud.get(west, name, "doomed") is not None
    assert cloud.get(west, name, "before")["text"] == {"S": "v1"}
    assert cloud.get(east, name, "during-west") is None

    outage.end()
    expected = {"before": "v2", "during-east": "made in east", "during-west": "made in west"}

    def converged() -> bool:
        return all({key: item["text"]["S"] for key, item in cloud.items(region, name).items()} == expected
                   for region in (east, west))

    eventually(converged, timeout=3)
    time.sleep(0.5)  # no echo comes back as a write of its own
    assert converged() and replicator.status()["paused"] == []
    # No write lost, none made twice: each region's stream holds each write once.
    writes = {region: Counter(record["dynamodb"]["Keys"]["id"]["S"] for record in cloud.stream_records(
        region, name)) for region in (east, west)}
    assert writes[west] == {"before": 2, "doomed": 2, "during-east": 1, "during-west": 1}
    assert writes[east] == {"before": 2, "doomed": 2, "during-east": 1, "during-west": 1}
    assert replicator.status()["tables"][name]["replicated"] == 2 + 4  # before the outage, then caught up


def test_same_instant_writes_go_to_the_region_that_sorts_last():
    """The tie rule of last writer wins, on the replicator's state alone: records stamped the same millisecond."""
    replicator = Replicator("http://127.0.0.1:9", [SECONDARY, PRIMARY], "testing", "testing")
    table = replicator_module._Table(name="t", spec=(), key_names=["id"],
                                     members={region: replicator_module._Member(region, "arn") for region in
                                              (PRIMARY, SECONDARY)})
    stamp = datetime(2026, 1, 1, tzinfo=UTC)

    def record(by: str, sequence: str) -> dict:
        return {"eventName": "MODIFY", "dynamodb": {
            "Keys": {"id": {"S": "k"}}, "NewImage": {"id": {"S": "k"}, "by": {"S": by}},
            "ApproximateCreationDateTime": stamp, "SequenceNumber": sequence}}

    replicator._observe(table, PRIMARY, [record("eu", "2")])
    replicator._observe(table, SECONDARY, [record("ap", "9")])
    (state,) = table.keys.values()
    assert state.image["by"] == {"S": "eu"}  # "eu-west-1" sorts after "ap-southeast-1"
    assert state.seen == {PRIMARY: state.digest, SECONDARY: replicator_module._digest(record("ap", "9")[
        "dynamodb"]["NewImage"])}


def test_moto_shard_iterators_do_not_pile_up(cloud: Cloud, pair: str):
    # moto keeps every shard iterator it ever handed out; the replicator drops the ones it used (moto in-process).
    from moto.dynamodbstreams.models import dynamodbstreams_backends

    iterators = dynamodbstreams_backends[ACCOUNT][PRIMARY].shard_iterators
    before = len(iterators)
    time.sleep(1.0)  # ~4-10 polls of every watched table
    assert len(iterators) - before < 3


def test_stop_returns_promptly(moto_endpoint: str):
    replicator = Replicator(moto_endpoint, [PRIMARY, SECONDARY], "testing", "testing", poll_interval=0.1)
    replicator.start()
    time.sleep(0.3)
    started = time.monotonic()
    replicator.stop()
    assert time.monotonic() - started < 2.0
    assert replicator._thread is None
    replicator.stop()  # a second stop is harmless
    assert replicator.status()["tables"] is not None
