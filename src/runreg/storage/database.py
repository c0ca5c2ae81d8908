"""Engine creation and the unit of work: one transaction per change."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import JSON, Connection, Engine, create_engine, event, insert
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError


def normalise_url(url: str) -> str:
    """Use the psycopg 3 driver for plain postgresql:// URLs."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def make_engine(url: str) -> Engine:
    url = normalise_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30}, json_serializer=_json_text)
        event.listen(engine, "connect", _sqlite_pragmas)
        # SQLite's driver opens transactions lazily and lets SELECTs escape them; BEGIN IMMEDIATE makes a
        # change take the write lock up front, so two writers serialise instead of failing half-way.
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    from psycopg.types.json import set_json_loads

    set_json_loads(orjson.loads)  # JSONB values decoded in C: range tables hold hundreds of thousands of them
    # 20 kept connections: a worker's threads under load need that many, and an overflow connection is closed
    # on return — a new PostgreSQL backend (fork, authentication, catalogue caches) for every burst above it.
    # Custom plans always: psycopg prepares a statement on its fifth use, and PostgreSQL then switches to a
    # generic plan that cannot see the parameters — for the skewed JSON filters of the tables (a workspace's
    # state, a run's class) that plan was 10× slower (the offline page's count: 12 → 115 ms). Decision 0032.
    return create_engine(
        url,
        pool_size=20,
        max_overflow=10,
        pool_recycle=1800,
        json_serializer=_json_text,
        connect_args={"options": "-c plan_cache_mode=force_custom_plan"},
    )


def _json_text(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    dbapi_connection.isolation_level = None  # let the "begin" listener issue BEGIN itself
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _sqlite_begin(conn: Connection) -> None:
    conn.exec_driver_sql("BEGIN" if conn.get_execution_options().get("read_only") else "BEGIN IMMEDIATE")


class Database:
    """The one way services reach storage: `with db.transaction() as conn:` commits or rolls back whole."""

    def __init__(self, url: str) -> None:
        self.url = normalise_url(url)
        self.engine = make_engine(self.url)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        with self.engine.begin() as conn:
            yield conn

    @contextmanager
    def reading(self) -> Iterator[Connection]:
        # PostgreSQL reads run in autocommit: under READ COMMITTED a transaction gives its statements no
        # common snapshot anyway, and BEGIN + ROLLBACK were two of a listing's three round trips. SQLite keeps
        # its deferred BEGIN, which does give the reads one snapshot.
        options: dict[str, Any] = {"read_only": True}
        if self.engine.dialect.name == "postgresql":
            options["isolation_level"] = "AUTOCOMMIT"
        with self.engine.connect().execution_options(**options) as conn:
            yield conn

    def dispose(self) -> None:
        self.engine.dispose()


def database_from_settings() -> Database:
    from runreg.settings import get_settings

    return Database(get_settings().database_url)


def bulk_insert(conn: Connection, table: Any, rows: list[dict[str, Any]]) -> None:
    """Insert many rows at once: COPY on PostgreSQL (one stream instead of one statement per row),
    executemany on SQLite (already in-process)."""
    if not rows:
        return
    if conn.dialect.name != "postgresql":
        conn.execute(insert(table), rows)
        return
    import psycopg
    from psycopg.types.json import Jsonb, set_json_dumps

    set_json_dumps(orjson.dumps)

    columns = list(rows[0])
    json_columns = {c.name for c in table.columns if isinstance(c.type, JSON)}
    cursor = conn.connection.driver_connection.cursor()
    names = ", ".join(f'"{name}"' for name in columns)
    statement = f'COPY "{table.name}" ({names}) FROM STDIN'
    try:
        with cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row([Jsonb(row[c]) if c in json_columns else row[c] for c in columns])
    except psycopg.IntegrityError as exc:
        # Callers handle constraint violations the same way on every engine.
        raise IntegrityError(statement, None, exc) from exc


def as_utc(moment: datetime | None) -> datetime | None:
    """SQLite hands timestamps back naive; everything runreg stores is UTC."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)
