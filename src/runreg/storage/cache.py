"""Per-process read caches keyed by what a row was when read, one set per database engine."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, Generic, TypeVar
from weakref import WeakKeyDictionary

from sqlalchemy import Connection
from sqlalchemy.engine import Engine

V = TypeVar("V")


class StampedCache(Generic[V]):
    """Values read from the database, each kept with the stamp (version, updated_at...) of the row it came
    from: a reader compares stamps it reads cheaply and fetches only what changed. Least recently used
    entries go beyond `max_entries`. One instance per engine (tests reset databases under new stamps)."""

    def __init__(self, max_entries: int) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[Hashable, tuple[Any, V]] = OrderedDict()

    def get(self, key: Hashable, stamp: Any) -> V | None:
        entry = self._entries.get(key)
        if entry is None or entry[0] != stamp:
            return None
        self._entries.move_to_end(key)
        return entry[1]

    def put(self, key: Hashable, stamp: Any, value: V) -> None:
        self._entries[key] = (stamp, value)
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)


def per_engine(factory: Callable[[], StampedCache[V]]) -> Callable[[Connection], StampedCache[V]]:
    """`cache_of(conn)`: the cache of the engine `conn` belongs to, made on first use."""
    caches: WeakKeyDictionary[Engine, StampedCache[V]] = WeakKeyDictionary()

    def cache_of(conn: Connection) -> StampedCache[V]:
        engine = conn.engine
        if engine not in caches:
            caches[engine] = factory()
        return caches[engine]

    return cache_of
