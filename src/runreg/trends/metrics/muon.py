"""The `muon_metrics` (hdqm §4.4)."""

from __future__ import annotations

from dataclasses import dataclass

from runreg.trends.metrics.base import Inputs, Metric, Undefined, bin_or_label, register, require_2d

muon = register("muon_metrics")


@muon
@dataclass(frozen=True)
class NOutsideRange(Metric):
    """Content outside the x window [FindBin(low), FindBin(high)], flows included."""

    low: float
    high: float

    def compute(self, inputs: Inputs) -> tuple[float, float]:
        h = inputs.main
        inside = h.values[h.find_bin(self.low) : h.find_bin(self.high) + 1].sum()
        return float(h.values.sum() - inside), 0.0


@muon
@dataclass(frozen=True)
class MeanCh(Metric):
    """Average content of row `ch` over the in-range x-bins (the original included the underflow)."""

    ch: int

    def compute(self, inputs: Inputs) -> tuple[float, float]:
        h = inputs.main
        require_2d(h, "MeanCh")
        row = bin_or_label(h, self.ch, 2)
        if h.nx == 0:
            raise Undefined("no x bins")
        return float(h.values[1 : h.nx + 1, row].mean()), 0.0
