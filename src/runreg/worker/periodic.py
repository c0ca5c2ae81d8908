"""The skeleton of every periodic worker: single instance, --once, clean stop, heartbeat, a line per cycle."""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import Any

from runreg.kernel.repeating import repeating
from runreg.storage.database import Database
from runreg.worker import heartbeats
from runreg.worker.locks import AlreadyRunning, InstanceLock, single_instance

log = logging.getLogger("runreg.worker")

#: One unit of work. It should look at the event between the pieces of a long unit (runs of a cycle) and
#: return early when it is set; what it returns is the cycle's summary (counters, logged and kept).
Cycle = Callable[[threading.Event], Mapping[str, Any]]


@dataclass(frozen=True)
class Periodic:
    name: str
    cycle: Cycle
    interval_s: float


def run(
    db: Database,
    worker: Periodic,
    *,
    once: bool = False,
    stop: threading.Event | None = None,
    beat_every_s: float = 30.0,
) -> bool:
    """Run `worker` every `interval_s` seconds until stopped (SIGTERM, SIGINT or `stop`), or one cycle with
    `once`. Raises `AlreadyRunning` when another instance holds the worker's lock. Returns whether the last
    cycle succeeded. A failed cycle is logged and the next one comes at the usual time."""
    stop = stop or threading.Event()
    with _refusing_a_second(db, worker.name) as lock:
        heartbeats.started(db, worker.name)
        ok = True
        with _stopping_on_signals(stop), _beating(db, worker.name, lock, stop, beat_every_s):
            while not stop.is_set():
                started = time.monotonic()
                ok = _one_cycle(db, worker, stop)
                if once:
                    break
                stop.wait(max(0.0, worker.interval_s - (time.monotonic() - started)))
        heartbeats.stopped(db, worker.name)
        if not once:
            log.info("%s worker stopped", worker.name)
        return ok


def _one_cycle(db: Database, worker: Periodic, stop: threading.Event) -> bool:
    """Exactly one log line per cycle: its summary, or why it failed."""
    started = time.monotonic()
    error: str | None = None
    try:
        summary = dict(worker.cycle(stop))
    except Exception as exc:  # noqa: BLE001 — OMS down, database away: try again next cycle
        error = getattr(exc, "message", None) or f"{type(exc).__name__}: {exc}"
        summary = {"errors": 1}
    summary["duration_s"] = round(time.monotonic() - started, 3)
    line = " ".join(f"{key}={value}" for key, value in summary.items())
    if error is None:
        log.info("%s cycle: %s", worker.name, line, extra={"worker": worker.name, "cycle": summary})
    else:
        log.error("%s cycle failed: %s %s", worker.name, error, line, extra={"worker": worker.name})
    try:
        heartbeats.cycle_done(db, worker.name, summary, error)
    except Exception:  # noqa: BLE001 — the database may be what failed; the next beat says so again
        log.warning("%s: could not record the cycle in the heartbeat", worker.name, exc_info=True)
    return error is None


@contextmanager
def _refusing_a_second(db: Database, name: str) -> Iterator[InstanceLock]:
    """The lock, or AlreadyRunning naming the instance that holds it (from its heartbeat)."""
    try:
        with single_instance(db, name) as lock:
            yield lock
    except AlreadyRunning as refused:
        holder = heartbeats.read(db, name)
        if holder is None or holder.stopped_at is not None:
            raise
        raise AlreadyRunning(
            f"{refused.message}; it is pid {holder.pid} on {holder.host}, running since "
            f"{holder.started_at:%Y-%m-%d %H:%M:%S} UTC, last beat {holder.age_s():.0f} s ago",
            details={**refused.details, "pid": holder.pid, "host": holder.host},
        ) from None


@contextmanager
def _stopping_on_signals(stop: threading.Event) -> Iterator[None]:
    """A first SIGTERM/SIGINT lets the current unit finish, then the worker exits; a second one stops now."""
    if threading.current_thread() is not threading.main_thread():
        yield  # a worker inside another program (the demo) is stopped through its event
        return

    def finish(signum: int, _frame: object) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        log.info("%s received: finishing the current unit, then exiting", signal.Signals(signum).name)
        stop.set()

    previous = {sig: signal.signal(sig, finish) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _beating(
    db: Database, name: str, lock: InstanceLock, stop: threading.Event, every_s: float
) -> AbstractContextManager[None]:
    """Beat every `every_s` seconds, also during a long cycle; a worker whose lock is gone (its PostgreSQL
    session cut) stops after its current unit, since another instance may now take over."""

    def beat() -> bool:
        if not lock.held():
            log.error("%s worker lost its single-instance lock: stopping", name)
            stop.set()
            return False
        try:
            heartbeats.beat(db, name)
        except Exception:  # noqa: BLE001 — keep beating; the database may come back
            log.warning("%s: heartbeat not written", name, exc_info=True)
        return True

    return repeating(every_s, beat, name=f"{name}-heartbeat")
