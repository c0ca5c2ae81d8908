"""Shared fixtures: a migrated database on each engine (SQLite file and PostgreSQL server), reset per test."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import psycopg
import pytest
from sqlalchemy import text

import runreg.adoption.tables  # noqa: F401  (every table registered, so each test starts empty)
import runreg.certification.tables  # noqa: F401
import runreg.datasets.tables  # noqa: F401
import runreg.ingestion.tables  # noqa: F401
import runreg.luminosity.tables  # noqa: F401
import runreg.predictions.tables  # noqa: F401
import runreg.worker.tables  # noqa: F401
from runreg.configuration import service as configuration
from runreg.kernel.actors import SYSTEM
from runreg.storage import migrate
from runreg.storage.database import Database
from runreg.storage.schema import metadata
from runreg.trends import tables as _trends_tables  # noqa: F401 — registers the trends tables for _reset
from tests import profiles

HYPOTHESIS_PROFILE = profiles.load()  # before any test module builds its @settings

# Starlette's TestClient sends `Host: testserver`; the apps the tests build trust it (and the loopback names).
os.environ.setdefault("RUNREG_ALLOWED_HOSTS", "testserver,127.0.0.1,localhost")
PG_ADMIN_URL = os.environ.get("RUNREG_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")


def pytest_report_header() -> str:
    return f"hypothesis profile: {HYPOTHESIS_PROFILE} (HYPOTHESIS_PROFILE=dev|ci; CI=true selects ci)"


def _pg_admin() -> psycopg.Connection:
    try:
        return psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:  # fail, never skip: PostgreSQL is part of the contract
        pytest.fail(f"PostgreSQL is not reachable at {PG_ADMIN_URL} (run `make services`): {exc}")


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'runreg.sqlite'}"
        return
    name = f"runreg_test_{uuid.uuid4().hex[:12]}"
    with _pg_admin() as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    yield f"{base}/{name}"
    with _pg_admin() as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def migrated_database(database_url: str) -> Iterator[Database]:
    database = Database(database_url)
    migrate.upgrade(database)
    yield database
    database.dispose()


@pytest.fixture
def db(migrated_database: Database) -> Database:
    """A migrated, empty database holding only the shipped default configuration (version 1)."""
    _reset(migrated_database)
    configuration.ensure_default(migrated_database, actor=SYSTEM)
    return migrated_database


def _reset(database: Database) -> None:
    tables = [t.name for t in reversed(metadata.sorted_tables)]
    with database.transaction() as conn:
        if database.dialect == "postgresql":
            conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                conn.execute(text(f"DELETE FROM {table}"))
