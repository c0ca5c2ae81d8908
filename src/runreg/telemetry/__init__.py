"""Telemetry every process shares: JSON log configuration and the Prometheus metrics domains increment."""
