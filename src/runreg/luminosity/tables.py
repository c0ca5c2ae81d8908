"""Per-run luminosity arrays, one row per run and source, and the brilcalc imports that wrote them."""

from sqlalchemy import Column, DateTime, Float, Integer, LargeBinary, String, Table, Text

from runreg.storage.schema import metadata

# One row per (run, source): the whole run's per-LS values as little-endian float64 arrays (/pb), NaN where
# the source has none — 16 kB per array for a 2,000-LS run, against 2,000 range rows.
luminosity_series = Table(
    "luminosity_series",
    metadata,
    Column("run_number", Integer, primary_key=True, autoincrement=False),
    Column("source", String(16), primary_key=True),
    Column("normtag", String(255), nullable=False, server_default=""),
    Column("ls_count", Integer, nullable=False),
    Column("delivered", LargeBinary, nullable=False),
    Column("recorded", LargeBinary, nullable=False),
    Column("delivered_total", Float, nullable=False),
    Column("recorded_total", Float, nullable=False),
    Column("import_id", Integer, nullable=True),  # the brilcalc import that wrote it; null for OMS
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

luminosity_imports = Table(
    "luminosity_imports",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("filename", String(255), nullable=False),
    Column("normtag", String(255), nullable=False),
    Column("runs", Integer, nullable=False),
    Column("lumisections", Integer, nullable=False),
    Column("imported_by", String(255), nullable=False),
    Column("imported_at", DateTime(timezone=True), nullable=False),
    Column("comment", Text, nullable=False, server_default=""),
)
