"""Database engine, metadata, transactions and migrations."""
