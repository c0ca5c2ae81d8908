"""Historic DQM: metric configs, DQM ROOT file extraction, per-run trends of monitor elements."""
