"""Append-only change sets and events, with optimistic concurrency per run stream."""
