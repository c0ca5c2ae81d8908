"""Versioned JSON-logic rules: evaluate and validate classifiers."""
