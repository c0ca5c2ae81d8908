"""One workflow update at a time: a PostgreSQL advisory lock, or an exclusive file lock beside the SQLite
file. Both die with their holder, so a killed update never leaves the lock taken."""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url

from runreg.kernel.errors import Conflict
from runreg.storage.database import Database

ADVISORY_KEY = 0x5354415453_32  # "STATS" "2": one key, every runreg database on the server has its own


class UpdateInProgress(Conflict):
    code = "update_in_progress"


@contextmanager
def exclusive_update(db: Database, *, wait_s: float = 0.0) -> Iterator[None]:
    """Hold the update lock for the block; waits up to `wait_s` for another update to finish, then refuses."""
    if db.dialect == "postgresql":
        with _advisory(db, wait_s):
            yield
    else:
        with _file_lock(_lock_path(db), wait_s):
            yield


def _refused() -> UpdateInProgress:
    return UpdateInProgress("another workflow update is running; this one did not start")


@contextmanager
def _advisory(db: Database, wait_s: float) -> Iterator[None]:
    # Session-level and on its own connection outside any transaction, so the update's commits don't end it.
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        deadline = time.monotonic() + wait_s
        while not conn.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": ADVISORY_KEY}).scalar():
            if time.monotonic() >= deadline:
                raise _refused()
            time.sleep(0.1)
        try:
            yield
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": ADVISORY_KEY})


def _lock_path(db: Database) -> Path:
    database = make_url(db.url).database
    if not database or database == ":memory:":
        return Path(os.environ.get("TMPDIR", "/tmp")) / f"runreg-workflows-{os.getpid()}.lock"
    return Path(f"{database}.workflows-update.lock")


@contextmanager
def _file_lock(path: Path, wait_s: float) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + wait_s
        while True:
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise _refused() from None
                time.sleep(0.1)
        try:
            yield
        finally:
            fcntl.flock(descriptor, fcntl.LOCK_UN)
    finally:
        os.close(descriptor)
