"""runreg: data-quality bookkeeping for a collider experiment."""

__version__ = "0.1.0"
