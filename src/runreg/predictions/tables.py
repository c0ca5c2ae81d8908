"""ML predictions: every submission (who, when, what it covered) and the current predicted ranges, a layer of
their own beside the registry's flags, which they never change."""

from sqlalchemy import Column, DateTime, Float, ForeignKey, Index, Integer, String, Table

from runreg.kernel.limits import MAX_MODEL_CHARS, MAX_MODEL_VERSION_CHARS
from runreg.storage.schema import Json, metadata


def _series_ranges() -> list[Column]:  # type: ignore[type-arg]
    """The key of one model version's ranges on a component of a dataset, and a range's LS and status."""
    return [
        Column("run_number", Integer, primary_key=True, autoincrement=False),
        Column("dataset", String(255), primary_key=True),
        Column("component", String(128), primary_key=True),
        Column("model", String(MAX_MODEL_CHARS), primary_key=True),
        Column("version", String(MAX_MODEL_VERSION_CHARS), primary_key=True),
        Column("first_ls", Integer, primary_key=True, autoincrement=False),
        Column("last_ls", Integer, nullable=False),
        Column("status", String(32), nullable=False),
    ]


# One row per submission, kept for good: who posted which model version's predictions of which dataset when.
prediction_submissions = Table(
    "prediction_submissions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_number", Integer, nullable=False),
    Column("dataset", String(255), nullable=False),
    Column("model", String(MAX_MODEL_CHARS), nullable=False),
    Column("version", String(MAX_MODEL_VERSION_CHARS), nullable=False),
    Column("author", String(255), nullable=False),
    Column("actor_kind", String(16), nullable=False),
    Column("submitted_at", DateTime(timezone=True), nullable=False),
    Column("components", Json, nullable=False),  # the components it predicted, sorted
    Column("ranges", Integer, nullable=False),  # LS ranges sent
    Column("lumisections", Integer, nullable=False),  # LS predicted, summed over its components
)
Index(
    "ix_prediction_submissions_dataset", prediction_submissions.c.run_number, prediction_submissions.c.dataset
)
Index("ix_prediction_submissions_model", prediction_submissions.c.model, prediction_submissions.c.version)

# The predictions in force: per (run, dataset, component, model, version) maximal LS ranges of one status and
# score set by one submission. A newer submission of the same model version replaces what it covers.
prediction_ranges = Table(
    "prediction_ranges",
    metadata,
    *_series_ranges(),
    Column("score", Float, nullable=False),
    Column("submission_id", Integer, ForeignKey("prediction_submissions.id"), nullable=False),
)
Index(
    "ix_prediction_ranges_model",
    prediction_ranges.c.model,
    prediction_ranges.c.version,
    prediction_ranges.c.run_number,
)

# The same predictions by status alone (neighbouring ranges of one verdict joined, with the lowest and highest
# score they hold), rewritten with them: what the agreement and the run page read. A model scoring every LS
# keeps 2,000 rows per component and run above, and a handful here.
prediction_status_ranges = Table(
    "prediction_status_ranges",
    metadata,
    *_series_ranges(),
    Column("min_score", Float, nullable=False),
    Column("max_score", Float, nullable=False),
)
Index(
    "ix_prediction_status_ranges_model",
    prediction_status_ranges.c.model,
    prediction_status_ranges.c.version,
    prediction_status_ranges.c.run_number,
)
