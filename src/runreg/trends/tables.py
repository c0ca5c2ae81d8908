"""Tables of the trends domain: datasets, configs, trends, normalised points, the file ledger, the stored
histograms metrics are recomputed from, and the directory marks of incremental discovery."""

from __future__ import annotations

import sqlalchemy as sa

from runreg.storage.schema import Json, metadata

trend_datasets = sa.Table(
    "trend_datasets",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("primary_dataset", sa.String(200), nullable=False),
    sa.Column("processing_string", sa.String(200), nullable=False),
    sa.UniqueConstraint("primary_dataset", "processing_string", name="uq_trend_datasets_pd_ps"),
)

trend_configs = sa.Table(
    "trend_configs",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("subsystem", sa.String(100), nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("metric", sa.Text, nullable=False),
    sa.Column("relative_path", sa.Text, nullable=False),
    sa.Column("histo1_path", sa.Text),
    sa.Column("histo2_path", sa.Text),
    sa.Column("reference_path", sa.Text),
    sa.Column("threshold", sa.Integer),
    sa.Column("y_title", sa.Text, nullable=False),
    sa.Column("plot_title", sa.Text, nullable=False),
    sa.Column("source", sa.Text, nullable=False),
    sa.Column("computation_hash", sa.String(64), nullable=False),
    sa.Column("active", sa.Boolean, nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.UniqueConstraint("subsystem", "name", name="uq_trend_configs_subsystem_name"),
)

trends = sa.Table(
    "trends",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("dataset_id", sa.Integer, sa.ForeignKey("trend_datasets.id"), nullable=False),
    sa.Column("config_id", sa.Integer, sa.ForeignKey("trend_configs.id"), nullable=False),
    # The computation_hash of the config the points were computed with: a mismatch means "recompute".
    sa.Column("computed_hash", sa.String(64)),
    sa.UniqueConstraint("dataset_id", "config_id", name="uq_trends_dataset_config"),
    sa.Index("ix_trends_config_id", "config_id"),
)

trend_points = sa.Table(
    "trend_points",
    metadata,
    sa.Column("trend_id", sa.Integer, sa.ForeignKey("trends.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("run_number", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("value", sa.Float, nullable=False),
    sa.Column("error", sa.Float, nullable=False),
    sa.Index("ix_trend_points_run_number", "run_number"),
)

#: Why a trend has no point for a run (ME missing, fit failed, NaN...): shown, never silently dropped.
trend_rejections = sa.Table(
    "trend_rejections",
    metadata,
    sa.Column("trend_id", sa.Integer, sa.ForeignKey("trends.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("run_number", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("reason", sa.Text, nullable=False),
)

trend_files = sa.Table(
    "trend_files",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("path", sa.Text, nullable=False, unique=True),
    sa.Column("dataset_id", sa.Integer, sa.ForeignKey("trend_datasets.id"), nullable=False),
    sa.Column("run_number", sa.Integer, nullable=False),
    sa.Column("era", sa.String(100), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("processing_version", sa.Integer, nullable=False),
    sa.Column("dataset_name", sa.Text, nullable=False),  # /PD/Era-PS-vN/DQMIO, for DQM GUI links
    sa.Column("status", sa.String(16), nullable=False),  # pending | done | failed | superseded
    sa.Column("reason", sa.Text),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("discovered_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("processed_at", sa.DateTime(timezone=True)),
    sa.Index("ix_trend_files_dataset_id", "dataset_id", "run_number"),
    sa.Index("ix_trend_files_status", "status"),
)

#: The MEs of the file whose points a (dataset, run) holds, as compact bytes (runreg.trends.histogram).
trend_histograms = sa.Table(
    "trend_histograms",
    metadata,
    sa.Column("dataset_id", sa.Integer, sa.ForeignKey("trend_datasets.id"), primary_key=True),
    sa.Column("run_number", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("me_path", sa.String(500), primary_key=True),
    sa.Column("file_id", sa.Integer, sa.ForeignKey("trend_files.id"), nullable=False),
    sa.Column("data", sa.LargeBinary, nullable=False),
)

trend_directories = sa.Table(
    "trend_directories",
    metadata,
    sa.Column("path", sa.String(1000), primary_key=True),
    sa.Column("mtime_ns", sa.BigInteger, nullable=False),
    sa.Column("subdirectories", Json, nullable=False),
)
