"""The migrations build exactly the schema the code declares, and services refuse an outdated database."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

import runreg.adoption.tables  # noqa: F401  (registers its tables on the shared metadata)
import runreg.certification.tables  # noqa: F401
import runreg.configuration.tables  # noqa: F401
import runreg.datasets.tables  # noqa: F401
import runreg.eventlog.tables  # noqa: F401
import runreg.ingestion.tables  # noqa: F401
import runreg.predictions.tables  # noqa: F401
import runreg.registry.tables  # noqa: F401
import runreg.trends.tables  # noqa: F401
import runreg.worker.tables  # noqa: F401
import runreg.workflows.tables  # noqa: F401
from runreg.registry.tables import POSTGRESQL_ONLY_INDEXES
from runreg.storage import migrate
from runreg.storage.database import Database
from runreg.storage.schema import metadata


def _declared(obj: object, name: str | None, kind: str, reflected: bool, _compare_to: object) -> bool:
    """Everything is compared but the PostgreSQL-only expression indexes, which only their migrations hold."""
    return not (kind == "index" and reflected and name in POSTGRESQL_ONLY_INDEXES)


def test_migrated_schema_has_no_drift_from_the_tables(db: Database) -> None:
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True, "include_object": _declared})
        diff = compare_metadata(context, metadata)
    assert diff == []


def test_the_postgresql_only_indexes_exist_there(db: Database) -> None:
    with db.engine.connect() as conn:
        names = {index["name"] for index in inspect(conn).get_indexes("runs")}
    expected = POSTGRESQL_ONLY_INDEXES if db.dialect == "postgresql" else frozenset()
    assert names & POSTGRESQL_ONLY_INDEXES == expected


def test_service_refuses_an_unmigrated_database(tmp_path: Path) -> None:
    empty = Database(f"sqlite:///{tmp_path / 'empty.sqlite'}")
    with pytest.raises(migrate.SchemaOutdated, match="runreg db upgrade"):
        migrate.require_current(empty)
    migrate.upgrade(empty)
    migrate.require_current(empty)
    empty.dispose()


def test_migration_files_are_date_prefixed() -> None:
    names = [p.name for p in (migrate.MIGRATIONS / "versions").glob("*.py")]
    assert names and all(name[:8].isdigit() for name in names)
