"""Every configuration version ever made, each a whole document: nothing is edited in place."""

from sqlalchemy import Column, DateTime, ForeignKey, Integer, String, Table, Text

from runreg.storage.schema import Json, metadata

config_versions = Table(
    "config_versions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("author", String(255), nullable=False),
    Column("comment", Text, nullable=False, server_default=""),
    Column("restored_from", Integer, ForeignKey("config_versions.id"), nullable=True),
    Column("document", Json, nullable=False),
)
