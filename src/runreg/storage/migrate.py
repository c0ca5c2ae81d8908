"""Schema migrations: upgrade to head, tell the current revision, refuse to serve an old schema."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from runreg.kernel.errors import RunregError
from runreg.storage.database import Database

MIGRATIONS = Path(__file__).parent / "migrations"


class SchemaOutdated(RunregError):
    code = "schema_outdated"


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("file_template", "%%(year)d%%(month).2d%%(day).2d_%%(rev)s_%%(slug)s")
    return config


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(db: Database) -> str | None:
    with db.engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(db: Database, revision: str = "head") -> None:
    config = alembic_config()
    with db.engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, revision)


def require_current(db: Database) -> None:
    """Services call this at start-up: running on an unmigrated database would corrupt it."""
    current, head = current_revision(db), head_revision()
    if current != head:
        raise SchemaOutdated(
            f"the database is at schema revision {current or 'none'} but this runreg needs {head}: "
            "run `runreg db upgrade` first"
        )
