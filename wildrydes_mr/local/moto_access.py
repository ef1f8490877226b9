"""How the local cloud's own parts read the control plane held by moto: one boto3 client factory that ignores a
person's AWS profile, and the small pieces every reader needs (paging API Gateway listings, a TTL cache of
reads in which concurrent misses on one key make one read)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from .credentials import LocalCredential

__all__ = ["TtlCache", "items", "moto_client"]


def moto_client(endpoint: str, credential: LocalCredential, service: str, region: str, **config: Any) -> Any:
    """A boto3 client for the moto server at `endpoint`, signing with `credential`, with botocore Config(**config).

    AWS_PROFILE & co are ignored: the local cloud must not depend on (or fail on) a person's profile.
    """
    import boto3
    import botocore.session
    from botocore.config import Config

    core = botocore.session.Session(session_vars={"profile": (None, None, None, None)})
    session = boto3.session.Session(
        aws_access_key_id=credential.access_key_id,
        aws_secret_access_key=credential.secret_access_key,
        aws_session_token=credential.session_token,
        region_name=region,
        botocore_session=core,
    )
    return session.client(service, endpoint_url=endpoint, config=Config(**config))


def items(call: Callable[..., dict[str, Any]], **kwargs: Any) -> Iterator[dict[str, Any]]:
    """Every item of a paged API Gateway listing (`items`, continued by `position`), page after page."""
    while True:
        page = call(**kwargs)
        yield from page.get("items", [])
        if not page.get("position"):
            return
        kwargs["position"] = page["position"]


class TtlCache:
    """A small cache of moto reads; concurrent misses on one key make one read."""

    def __init__(self, ttl: float) -> None:
        self._ttl = ttl
        self._data: dict[Any, tuple[float, Any]] = {}
        self._locks: dict[Any, threading.Lock] = {}
        self._lock = threading.Lock()
        self._generation = 0  # bumped by clear(): a read begun before it is not kept

    def get(self, key: Any, loader: Callable[[], Any]) -> Any:
        entry = self._data.get(key)
        if entry is not None and entry[0] > time.monotonic():
            return entry[1]
        with self._lock:
            key_lock = self._locks.setdefault(key, threading.Lock())
        with key_lock:
            entry = self._data.get(key)
            if entry is not None and entry[0] > time.monotonic():
                return entry[1]
            generation = self._generation
            value = loader()
            with self._lock:
                if generation == self._generation:  # not cleared while reading: what it read may be stale
                    self._data[key] = (time.monotonic() + self._ttl, value)
            return value

    def clear(self) -> None:
        with self._lock:
            self._generation += 1
            self._data.clear()
