"""Runs arrive by themselves: poll OMS, classify, and record only what changed."""
