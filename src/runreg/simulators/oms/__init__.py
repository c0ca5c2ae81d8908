"""A simulated CMS Online Monitoring System: a deterministic world of runs and the OMS API v1 serving it."""
