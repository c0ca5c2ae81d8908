"""Metric classes by the module names configs use (basic, fits, L1T_metrics, muon_metrics, hcal_metrics)."""

from runreg.trends.metrics import basic, fits, hcal, l1t, muon  # noqa: F401 — each module registers its classes
from runreg.trends.metrics.base import REGISTRY, ArgumentError, Inputs, Metric, Undefined, build, finite

__all__ = ["REGISTRY", "ArgumentError", "Inputs", "Metric", "Undefined", "build", "finite"]
