"""The local cloud's cache of moto reads (moto_access.TtlCache): a value is kept for its TTL, concurrent misses make
one read, and a clear() while a read is in flight keeps that (possibly stale) read out of the cache."""

from __future__ import annotations

import threading
import time

from wildrydes_mr.local.moto_access import TtlCache


def test_a_value_is_read_once_within_its_ttl_and_again_after():
    cache, reads = TtlCache(0.2), []
    assert cache.get("k", lambda: reads.append(1) or len(reads)) == 1
    assert cache.get("k", lambda: reads.append(1) or len(reads)) == 1
    time.sleep(0.25)
    assert cache.get("k", lambda: reads.append(1) or len(reads)) == 2


def test_concurrent_misses_on_one_key_make_one_read():
    cache, reads, release = TtlCache(10), [], threading.Event()

    def slow_read():
        reads.append(1)
        release.wait(5)
        return "value"
    threads = [threading.Thread(target=cache.get, args=("k", slow_read)) for _ in range(5)]
    for thread in threads:
        thread.start()
    time.sleep(0.1)
    release.set()
    for thread in threads:
        thread.join(5)
    assert reads == [1]


def test_a_read_in_flight_when_the_cache_is_cleared_is_not_kept():
    # The control plane clears a gateway's cache once moto applied a change; a read that began before it may have
    # seen the old definition, and keeping it would hide the change for a whole TTL.
    cache, started, release = TtlCache(10), threading.Event(), threading.Event()

    def read_before_the_change():
        started.set()
        release.wait(5)
        return "old"
    reader = threading.Thread(target=cache.get, args=("fn", read_before_the_change))
    reader.start()
    assert started.wait(5)
    cache.clear()  # the change has been applied meanwhile
    release.set()
    reader.join(5)
    assert cache.get("fn", lambda: "new") == "new"
