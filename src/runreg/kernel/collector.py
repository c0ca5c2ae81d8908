"""Pausing Python's cyclic garbage collector around work that builds millions of long-lived objects."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_pauses = 0
_was_enabled = True


@contextmanager
def collector_paused() -> Iterator[None]:
    """Run the block with the cyclic collector off (reference counting still frees everything acyclic).

    A golden JSON over a year builds millions of ranges and tuples that live on in the per-process caches;
    while they are being built, every few thousand allocations the collector walked all of them again, over
    half of the computation's CPU time (docs/PERFORMANCE.md). Pauses nest and may overlap across threads: the
    collector comes back when the last one ends, as it was before the first."""
    global _pauses, _was_enabled
    with _lock:
        if _pauses == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _pauses += 1
    try:
        yield
    finally:
        with _lock:
            _pauses -= 1
            if _pauses == 0 and _was_enabled:
                gc.enable()
