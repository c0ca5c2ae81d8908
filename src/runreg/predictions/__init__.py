"""ML agents' per-LS predictions: their own layer beside human decisions, and how often they agree."""
