"""One instance of a worker at a time: a PostgreSQL advisory lock, or a file lock beside the SQLite file."""

from __future__ import annotations

import fcntl
import hashlib
import os
import socket
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Protocol

from sqlalchemy import Connection, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from runreg.kernel.errors import RunregError
from runreg.storage.database import Database


class AlreadyRunning(RunregError):
    code = "worker_already_running"


class InstanceLock(Protocol):
    def held(self) -> bool:
        """Whether the lock is still ours (a PostgreSQL session can be cut under us)."""
        ...


@contextmanager
def single_instance(db: Database, name: str) -> Iterator[InstanceLock]:
    """Hold the lock of worker `name` for the block, or raise AlreadyRunning at once (never wait)."""
    lock = _AdvisoryLock(db, name) if db.dialect == "postgresql" else _FileLock(db, name)
    with lock:
        yield lock


class _AdvisoryLock:
    """`pg_try_advisory_lock` on a connection of its own, outside any pool: when the process dies, PostgreSQL
    ends the session and the lock goes with it."""

    def __init__(self, db: Database, name: str) -> None:
        self.name = name
        digest = hashlib.blake2b(f"runreg-worker:{name}".encode(), digest_size=8).digest()
        self.key = int.from_bytes(digest, "big", signed=True)  # advisory lock keys are signed 64-bit
        self._engine = create_engine(db.url, poolclass=NullPool)
        self._conn: Connection | None = None

    def __enter__(self) -> _AdvisoryLock:
        conn = self._engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        if not conn.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": self.key}).scalar_one():
            conn.close()
            self._engine.dispose()
            raise AlreadyRunning(
                f"another {self.name} worker holds its PostgreSQL advisory lock: only one may run at a time",
                details={"worker": self.name, "lock": self.key},
            )
        self._conn = conn
        return self

    def held(self) -> bool:
        try:
            return self._conn is not None and self._conn.execute(text("SELECT 1")).scalar_one() == 1
        except Exception:  # noqa: BLE001 — a cut session has lost the lock, whatever the error
            return False

    def __exit__(self, *exc: object) -> None:
        if self._conn is not None:
            try:
                self._conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": self.key})
            finally:
                self._conn.close()
                self._conn = None
        self._engine.dispose()


class _FileLock:
    """`flock` on `<database file>.<worker>.lock`: the kernel drops it when the process dies, however."""

    def __init__(self, db: Database, name: str) -> None:
        self.name = name
        database = make_url(db.url).database
        if database and database != ":memory:":
            self.path = Path(f"{database}.{name}.lock")
        else:
            self.path = Path(tempfile.gettempdir()) / f"runreg-{name}.lock"
        self._file: IO[str] | None = None

    def __enter__(self) -> _FileLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(self.path, "a+")  # noqa: SIM115 — held open for the life of the worker
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "unknown"
            handle.close()
            raise AlreadyRunning(
                f"another {self.name} worker holds {self.path} ({holder}): only one may run at a time",
                details={"worker": self.name, "lock": str(self.path), "holder": holder},
            ) from None
        handle.truncate(0)
        handle.write(f"pid {os.getpid()} on {socket.gethostname()}\n")
        handle.flush()
        self._file = handle
        return self

    def held(self) -> bool:
        return self._file is not None

    def __exit__(self, *exc: object) -> None:
        if self._file is not None:
            # The file stays: removing it would let a third process lock a new file while a second waits on
            # the old one.
            fcntl.flock(self._file.fileno(), fcntl.LOCK_UN)
            self._file.close()
            self._file = None
