"""Alembic environment: runs migrations on the connection runreg hands it (see runreg.storage.migrate)."""

from alembic import context

# Every domain's tables register on the shared metadata when imported.
import runreg.adoption.tables  # noqa: F401
import runreg.certification.tables  # noqa: F401
import runreg.configuration.tables  # noqa: F401
import runreg.datasets.tables  # noqa: F401
import runreg.eventlog.tables  # noqa: F401
import runreg.ingestion.tables  # noqa: F401
import runreg.luminosity.tables  # noqa: F401
import runreg.predictions.tables  # noqa: F401
import runreg.registry.tables  # noqa: F401
import runreg.trends.tables  # noqa: F401
import runreg.worker.tables  # noqa: F401
import runreg.workflows.tables  # noqa: F401
from runreg.storage.schema import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True, compare_type=True)
with context.begin_transaction():
    context.run_migrations()
