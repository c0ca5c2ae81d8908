"""Run an action every so many seconds in a background thread while a block runs (heartbeats)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager


@contextmanager
def repeating(every_s: float, action: Callable[[], bool | None], *, name: str) -> Iterator[None]:
    """Call `action` every `every_s` seconds until the block ends or `action` returns False; an action that
    raises is the caller's bug: catch inside it what may fail (a database away)."""
    done = threading.Event()

    def loop() -> None:
        while not done.wait(every_s):
            if action() is False:
                return

    thread = threading.Thread(target=loop, name=name, daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join(5)
