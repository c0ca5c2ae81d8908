"""Each periodic worker's heartbeat row: written only by the instance holding the worker's lock."""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, insert, select, update

from runreg.storage.database import Database, as_utc
from runreg.worker.tables import worker_heartbeats as beats


@dataclass(frozen=True)
class Heartbeat:
    name: str
    host: str
    pid: int
    started_at: datetime
    beat_at: datetime
    stopped_at: datetime | None
    cycles: int
    failed_cycles: int
    last_summary: dict[str, Any] | None
    last_error: str | None

    def age_s(self, now: datetime | None = None) -> float:
        """Seconds since the last beat: an operator (or /readyz) calls a worker dead past a few intervals."""
        return ((now or datetime.now(UTC)) - self.beat_at).total_seconds()


def started(db: Database, name: str) -> None:
    now = datetime.now(UTC)
    with db.transaction() as conn:
        conn.execute(delete(beats).where(beats.c.name == name))
        conn.execute(
            insert(beats).values(
                name=name, host=socket.gethostname(), pid=os.getpid(), started_at=now, beat_at=now
            )
        )


def beat(db: Database, name: str) -> None:
    with db.transaction() as conn:
        conn.execute(update(beats).where(beats.c.name == name).values(beat_at=datetime.now(UTC)))


def cycle_done(db: Database, name: str, summary: Mapping[str, Any], error: str | None) -> None:
    with db.transaction() as conn:
        conn.execute(
            update(beats)
            .where(beats.c.name == name)
            .values(
                beat_at=datetime.now(UTC),
                cycles=beats.c.cycles + 1,
                failed_cycles=beats.c.failed_cycles + (1 if error else 0),
                last_summary=dict(summary),
                last_error=error,
            )
        )


def stopped(db: Database, name: str) -> None:
    with db.transaction() as conn:
        conn.execute(update(beats).where(beats.c.name == name).values(stopped_at=datetime.now(UTC)))


def read(db: Database, name: str) -> Heartbeat | None:
    with db.reading() as conn:
        row = conn.execute(select(beats).where(beats.c.name == name)).first()
    if row is None:
        return None
    return Heartbeat(
        row.name,
        row.host,
        row.pid,
        as_utc(row.started_at),
        as_utc(row.beat_at),
        as_utc(row.stopped_at),
        row.cycles,
        row.failed_cycles,
        row.last_summary,
        row.last_error,
    )
