"""The `L1T_metrics`: means, spreads and turn-on points of efficiency histograms (hdqm §4.3)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from runreg.trends.histogram import Histogram
from runreg.trends.metrics.base import Inputs, Metric, Undefined, register

l1t = register("L1T_metrics")
MAX_RELATIVE_ERROR = 0.2


def eff_mean_range(h: Histogram, first: int, last: int) -> tuple[float, float]:
    """Inverse-variance weighted mean of the bins first..last (ROOT numbers) that have content and error."""
    y, e = h.values[first : last + 1], h.errors[first : last + 1]
    keep = (y != 0) & (e > 0)
    if not keep.any():
        raise Undefined("no filled bins with an error")
    w = (y[keep] / e[keep]) ** 2
    value = float((w * y[keep]).sum() / w.sum())
    return value, value / math.sqrt(w.sum())


def eff_std_dev(h: Histogram, first: int, last: int) -> tuple[float, float]:
    """The same weights' standard deviation of the bin contents, error std/sqrt(2(n-1))."""
    y, e = h.values[first : last + 1], h.errors[first : last + 1]
    keep = (y != 0) & (e > 0)
    n = int(keep.sum())
    if n < 2:
        raise Undefined("fewer than 2 filled bins with an error")
    w = (y[keep] / e[keep]) ** 2
    mean = (w * y[keep]).sum() / w.sum()
    std = float(math.sqrt((w * (y[keep] - mean) ** 2).sum() / w.sum()))
    return std, std / math.sqrt(2 * (n - 1))


def turn_on_bin(h: Histogram, eff: float) -> int:
    """The first ROOT bin i (1..nx-1) with content(i) <= eff < content(i+1)."""
    y = h.values
    for i in range(1, h.nx):
        if y[i] <= eff < y[i + 1]:
            return i
    raise Undefined(f"the curve never crosses {eff}")


def _y_error(h: Histogram, i: int) -> float:
    content, error = h.values[i], h.errors[i]
    if error >= content or error <= 0:
        n = max(h.entries, 1.0)
        return math.sqrt(max(content * (1 - content), 0.0) / n)
    return float(error)


def turn_on_x(h: Histogram, eff: float) -> tuple[float, float]:
    """x where the curve crosses `eff`, linearly between the bracketing bins; error width/sqrt(12)."""
    i = turn_on_bin(h, eff)
    y0, y1 = h.values[i], h.values[i + 1]
    for k in (i, i + 1):
        if h.values[k] > 0 and _y_error(h, k) / h.values[k] > MAX_RELATIVE_ERROR:
            raise Undefined(f"bin {k} has a relative error above {MAX_RELATIVE_ERROR:.0%}")
    x0, x1 = h.x_centers[i - 1], h.x_centers[i]
    x = x0 + (eff - y0) * (x1 - x0) / (y1 - y0)
    width = h.x_edges[i] - h.x_edges[i - 1]
    return round(float(x), 2), round(float(width / math.sqrt(12)), 2)


@l1t
@dataclass(frozen=True)
class EffMean(Metric):
    def compute(self, inputs: Inputs) -> tuple[float, float]:
        return eff_mean_range(inputs.main, 1, inputs.main.nx)


@l1t
@dataclass(frozen=True)
class EffVariance(Metric):
    def compute(self, inputs: Inputs) -> tuple[float, float]:
        return eff_std_dev(inputs.main, 1, inputs.main.nx)


@l1t
@dataclass(frozen=True)
class TurnOnCurveEffPoint(Metric):
    eff: float

    def compute(self, inputs: Inputs) -> tuple[float, float]:
        return turn_on_x(inputs.main, self.eff)


def half_width(h: Histogram) -> tuple[float, float]:
    (x20, e20), (x80, e80) = turn_on_x(h, 0.2), turn_on_x(h, 0.8)
    return x80 - x20, math.hypot(e20, e80)


@l1t
@dataclass(frozen=True)
class TurnOnCurveHalfWidth(Metric):
    def compute(self, inputs: Inputs) -> tuple[float, float]:
        return half_width(inputs.main)


@l1t
@dataclass(frozen=True)
class TurnOnCurveRange(Metric):
    """(mid, half-range) between the start (first empty bin followed by a filled one) and the saturation
    (last bin whose content is neither 0 nor 1)."""

    def compute(self, inputs: Inputs) -> tuple[float, float]:
        h = inputs.main
        y = h.values[1 : h.nx + 1]
        starts = [k for k in range(len(y) - 1) if y[k] == 0 and y[k + 1] != 0]
        saturating = [k for k in range(len(y)) if y[k] not in (0.0, 1.0)]
        if not starts or not saturating:
            raise Undefined("no turn-on found")
        low, high = float(h.x_centers[starts[0]]), float(h.x_centers[saturating[-1]])
        return (low + high) / 2, abs(high - low) / 2


@l1t
@dataclass(frozen=True)
class TurnOnPlateauEff(Metric):
    """Efficiency on the plateau: from x(0.5) + 2·half-width to the last bin."""

    def compute(self, inputs: Inputs) -> tuple[float, float]:
        h = inputs.main
        x50, _ = turn_on_x(h, 0.5)
        plateau = x50 + 2 * half_width(h)[0]
        first = int(np.searchsorted(h.x_centers, plateau, side="left")) + 1
        if first > h.nx:
            raise Undefined("the plateau starts beyond the axis")
        return eff_mean_range(h, first, h.nx)


@l1t
@dataclass(frozen=True)
class TauSavePlots(Metric):
    """A placeholder in the original (it stored (0, 0)); here it yields no point rather than a false one."""

    def compute(self, inputs: Inputs) -> tuple[float, float]:
        raise Undefined("TauSavePlots computes no value")
