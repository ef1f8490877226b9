"""The local replicator's replication lag, its pause of one table's replica in one region (what an FIS
pause-replication experiment asks for), and writes in flight when their region goes dark; on the moto server of
test_replicator's helpers, with private replicators over regions no other replicator watches."""

from __future__ import annotations

import threading
import time

import pytest
from test_replicator import OTHER, Cloud, eventually, table_name

from wildrydes_mr.local.outage import Outage
from wildrydes_mr.local.replicator import Replicator

EAST, WEST = OTHER


@pytest.fixture
def world(moto_endpoint: str):
    cloud = Cloud(moto_endpoint, None, [])  # type: ignore[arg-type] - the tests run their own replicators
    made: list[Replicator] = []

    def replicator(**options) -> Replicator:
        made.append(Replicator(moto_endpoint, list(OTHER), "testing", "testing", poll_interval=0.05, **options))
        made[-1].start()
        return made[-1]
    yield cloud, replicator
    for running in made:
        running.stop()
    cloud.delete_tables()


def arrival_seconds(cloud: Cloud, name: str, key: str) -> float:
    """Seconds from a put in EAST until the item is readable in WEST."""
    cloud.put(EAST, name, key, text="hello")
    return eventually(lambda: cloud.get(WEST, name, key), timeout=5, interval=0.01)


def test_a_write_reaches_the_other_region_no_earlier_than_the_lag(world):
    cloud, replicator = world
    name = table_name()
    cloud.create(name, EAST, WEST)
    running = replicator(lag_seconds=0.6)
    eventually(lambda: name in running.status()["tables"])
    assert running.status()["replication_lag_seconds"] == 0.6
    for key in ("first", "second"):
        assert 0.6 <= arrival_seconds(cloud, name, key) < 1.6
    # Nothing but the lag holds it back: the other direction is as slow, and deletes too.
    cloud.ddb(WEST).delete_item(TableName=name, Key={"id": {"S": "first"}})
    time.sleep(0.3)
    assert cloud.get(EAST, name, "first") is not None
    eventually(lambda: cloud.get(EAST, name, "first") is None, timeout=3)


def test_without_lag_a_write_arrives_at_once(world):
    cloud, replicator = world
    name = table_name()
    cloud.create(name, EAST, WEST)
    running = replicator()
    eventually(lambda: name in running.status()["tables"])
    assert arrival_seconds(cloud, name, "quick") < 0.5


def test_a_paused_tables_replica_neither_sends_nor_receives_and_catches_up_after(world):
    cloud, replicator = world
    paused, other = table_name(), table_name()
    cloud.create(paused, EAST, WEST)
    cloud.create(other, EAST, WEST)
    pauses: set[tuple[str, str]] = set()
    lock = threading.Lock()

    def is_paused(region: str, table: str) -> bool:
        with lock:
            return (region, table) in pauses
    running = replicator(paused=is_paused)
    eventually(lambda: {paused, other} <= set(running.status()["tables"]))
    cloud.put(EAST, paused, "before", text="v1")
    eventually(lambda: cloud.get(WEST, paused, "before"))

    with lock:
        pauses.add((EAST, paused))  # the table's replica in EAST, as an FIS experiment targets it
    assert running.status()["paused_tables"] == {paused: [EAST]} and running.status()["paused"] == []
    cloud.put(EAST, paused, "from-east", text="made in east")
    cloud.put(EAST, paused, "before", text="v2")
    cloud.put(WEST, paused, "from-west", text="made in west")
    cloud.put(EAST, other, "unaffected", text="other table")
    eventually(lambda: cloud.get(WEST, other, "unaffected"))  # another table replicates meanwhile
    time.sleep(0.6)  # a dozen polls: nothing of the paused table crosses either way
    assert cloud.get(WEST, paused, "from-east") is None and cloud.get(WEST, paused, "before")["text"]["S"] == "v1"
    assert cloud.get(EAST, paused, "from-west") is None

    with lock:
        pauses.clear()
    expected = {"before": "v2", "from-east": "made in east", "from-west": "made in west"}
    eventually(lambda: all({k: v["text"]["S"] for k, v in cloud.items(region, paused).items()} == expected
                           for region in OTHER), timeout=3)
    assert running.status()["paused_tables"] == {}


def test_a_write_in_flight_when_its_region_goes_dark_arrives_only_once_it_is_back(world):
    cloud, replicator = world
    name = table_name()
    cloud.create(name, EAST, WEST)
    outage = Outage(OTHER)
    running = replicator(lag_seconds=0.8, unavailable=outage.is_out,
                         dark_since=lambda region, table: outage.began_at(region))
    eventually(lambda: name in running.status()["tables"])
    cloud.put(EAST, name, "in-flight", text="acknowledged just before the region went dark")
    eventually(lambda: running.status()["tables"][name]["replicated"] == 0 and _seen(running, name), timeout=2)
    outage.begin(EAST)  # within the lag: the write has been read from EAST's stream, not yet delivered
    time.sleep(1.2)  # the lag has passed meanwhile
    assert cloud.get(WEST, name, "in-flight") is None
    outage.end()
    eventually(lambda: cloud.get(WEST, name, "in-flight"), timeout=3)


def test_without_lag_what_was_acknowledged_before_a_region_went_dark_is_delivered(world):
    cloud, replicator = world
    name = table_name()
    cloud.create(name, EAST, WEST)
    outage = Outage(OTHER)
    running = replicator(unavailable=outage.is_out, dark_since=lambda region, table: outage.began_at(region))
    eventually(lambda: name in running.status()["tables"])
    for key in ("a", "b", "c"):
        cloud.put(EAST, name, key, text="acknowledged")
    outage.begin(EAST)  # at once: before the replicator's next poll of EAST's stream
    eventually(lambda: all(cloud.get(WEST, name, key) for key in ("a", "b", "c")), timeout=2)
    cloud.put(EAST, name, "after", text="made once EAST was dark")  # (the control plane is up, its table too)
    time.sleep(0.5)
    assert outage.is_out(EAST) and cloud.get(WEST, name, "after") is None
    outage.end()
    eventually(lambda: cloud.get(WEST, name, "after"), timeout=2)


def _seen(running: Replicator, name: str) -> bool:
    """The replicator has read the write from its stream (it holds a key for it)."""
    with running._lock:
        table = running._tables.get(name)
        return bool(table and table.keys)
