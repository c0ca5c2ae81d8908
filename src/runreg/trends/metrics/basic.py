"""The `basic` metrics: moments, counts, fractions and ratios of 1D/2D histograms (spec hdqm §4.1).

Where the original returned a made-up 0 for an undefined value (no entries, empty denominator) these raise
Undefined, so no false point is stored. Bins are ROOT bin numbers (1..n in range, 0 and n+1 the flows).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from runreg.trends.histogram import Histogram
from runreg.trends.metrics.base import (
    Inputs,
    Metric,
    Undefined,
    bin_or_label,
    ratio,
    register,
    require_1d,
    require_2d,
    sqrt0,
)

basic = register("basic")


def _needs(*names: str) -> frozenset[str]:
    return frozenset(names)


def _bin_1d(h: Histogram, key: int | str, metric: str) -> float:
    require_1d(h, metric)
    return h.content(bin_or_label(h, key))


# -- moments ----------------------------------------------------------------------------------------
@basic
@dataclass(frozen=True)
class Mean(Metric):
    def compute(self, inputs: Inputs) -> tuple[float, float]:
        return inputs.main.mean(), inputs.main.mean_error()


@basic
@dataclass(frozen=True)
class MeanEntries(Metric):
    def compute(self, inputs: Inputs) -> tuple[float, float]:
        h = inputs.main
        return h.mean() * h.entries, h.mean_error() * h.entries


@basic
@dataclass(frozen=True)
class MeanRMS(Metric):
    """The mean, with the RMS as its 'error' bar (the spread, as the original shows it)."""

    def compute(self, inputs: Inputs) -> tuple[float, float]:
        return inputs.main.mean(), inputs.main.std_dev()


@basic
@dataclass(frozen=True)
class StdDev(Metric):
    def compute(self, inputs: Inputs) -> tuple[float, float]:
        return inputs.main.std_dev(), inputs.main.std_dev_error()


@basic
@dataclass(frozen=True)
class RMSXAxis(Metric):
    def compute(self, inputs: Inputs) -> tuple[float, float]:
        return inputs.main.std_dev(1), inputs.main.std_dev_error(1)


@basic
@dataclass(frozen=True)
class RMSYAxis(Metric):
    def compute(self, inputs: Inputs) -> tuple[float, float]:
        return inputs.main.std_dev(2), inputs.main.std_dev_error(2)


@basic
@dataclass(frozen=True)
class MeanYAxis(Metric):
    def compute(self, inputs: Inputs) -> tuple[float, float]:
        return inputs.main.mean(2), inputs.main.mean_error(2)


@basic
@dataclass(frozen=True)
class MeanZAxis(Metric):
    """The mean content of the filled cells of a 2D map, with its standard error."""

    def compute(self, inputs: Inputs) -> tuple[float, float]:
        require_2d(inputs.main, "MeanZAxis")
        return inputs.main.z_mean()


@basic
@dataclass(frozen=True)
class MeanY(Metric):
    """Sum of in-range contents per entry."""

    def compute(self, inputs: Inputs) -> tuple[float, float]:
        h = inputs.main
        return ratio(h.sum_of_weights(), h.entries, "the number of entries"), 0.0


@basic
@dataclass(frozen=True)
class Count(Metric):
    def compute(self, inputs: Inputs) -> tuple[float, float]:
        return inputs.main.entries, 0.0


@basic
@dataclass(frozen=True)
class MaxBin(Metric):
    """The x centre of the bin with the largest content."""

    def compute(self, inputs: Inputs) -> tuple[float, float]:
        h = inputs.main
        if h.sum_of_weights() == 0:
            raise Undefined("the histogram is empty")
        return float(h.x_centers[int(np.argmax(h.in_range()))]), 0.0


@basic
@dataclass(frozen=True)
class MaxExcursion(Metric):
    def compute(self, inputs: Inputs) -> tuple[float, float]:
        h = inputs.main
        contents, errors = h.in_range(), h.in_range_errors()
        high, low = int(np.argmax(contents)), int(np.argmin(contents))
        return float(contents[high] - contents[low]), math.hypot(errors[high], errors[low])


@basic
@dataclass(frozen=True)
class Quantile(Metric):
    """The x below which `frac` of the in-range content lies (linear within the bin), with the asymptotic
    standard error of a sample quantile, sqrt(f(1-f)/N) / density(x)."""

    frac: float = 0.95

    def compute(self, inputs: Inputs) -> tuple[float, float]:
        if not 0 < self.frac < 1:
            raise Undefined("frac must be between 0 and 1")
        h = inputs.main
        contents = np.clip(h.in_range(), 0, None)
        total = contents.sum()
        if total <= 0:
            raise Undefined("the histogram is empty")
        cumulative = np.concatenate([[0.0], np.cumsum(contents)]) / total
        k = int(np.searchsorted(cumulative, self.frac, side="left")) - 1  # bin k (0-based) holds the quantile
        k = min(max(k, 0), len(contents) - 1)
        low, high = h.x_edges[k], h.x_edges[k + 1]
        inside = (self.frac - cumulative[k]) / (cumulative[k + 1] - cumulative[k])
        x = low + inside * (high - low)
        density = contents[k] / total / (high - low)
        entries = h.entries if h.entries > 0 else total
        return float(x), float(math.sqrt(self.frac * (1 - self.frac) / entries) / density)


# -- counts of bins ---------------------------------------------------------------------------------
@basic
@dataclass(frozen=True)
class BinCount(Metric):
    bin: int | str
    noError: bool = False  # noqa: N815 — the config's argument name

    def compute(self, inputs: Inputs) -> tuple[float, float]:
        content = _bin_1d(inputs.main, self.bin, type(self).__name__)
        return content, 0.0 if self.noError else sqrt0(content)


@basic
@dataclass(frozen=True)
class BinsCount(Metric):
    startBin: int  # noqa: N815

    def compute(self, inputs: Inputs) -> tuple[float, float]:
        h = inputs.main
        total = float(h.values[max(self.startBin, 0) : h.nx + 1].sum())
        return total, sqrt0(total)


@basic
@dataclass(frozen=True)
class EntriesCount(Metric):
    startValue: float  # noqa: N815

    def compute(self, inputs: Inputs) -> tuple[float, float]:
        total = _sum_from(inputs.main, self.startValue)
        return total, sqrt0(total)


def _sum_from(h: Histogram, start: float) -> float:
    return float(h.values[max(h.find_bin(start), 1) : h.nx + 1].sum())


@basic
@dataclass(frozen=True)
class EntriesRate(Metric):
    """Entries above `startValue` per second of data, the seconds being histo1's filled LS × 23 s."""

    startValue: float  # noqa: N815
    needs: ClassVar[frozenset[str]] = _needs("histo1")

    def compute(self, inputs: Inputs) -> tuple[float, float]:
        total = _sum_from(inputs.main, self.startValue)
        seconds = int(np.count_nonzero(inputs.need("histo1").in_range())) * 23
        return ratio(total, seconds, "the number of filled LS"), sqrt0(total) / seconds


@basic
@dataclass(frozen=True)
class ROCfraction(Metric):
    bin: int | str
    tot: float
    noError: bool = False  # noqa: N815

    def compute(self, inputs: Inputs) -> tuple[float, float]:
        content = _bin_1d(inputs.main, self.bin, type(self).__name__)
        value = 100 * ratio(content, self.tot, "tot")
        return value, 0.0 if self.noError else 100 * sqrt0(content) / self.tot


@basic
@dataclass(frozen=True)
class RecoFraction(Metric):
    bin: int | str
    noError: bool = False  # noqa: N815
    needs: ClassVar[frozenset[str]] = _needs("histo1")

    def compute(self, inputs: Inputs) -> tuple[float, float]:
        content = _bin_1d(inputs.main, self.bin, type(self).__name__)
        denominator = inputs.need("histo1").entries
        value = ratio(content, denominator, "histo1's entries")
        return value, 0.0 if self.noError else sqrt0(content) / denominator


@basic
@dataclass(frozen=True)
class FractionInBin(Metric):
    bin: int | str

    def compute(self, inputs: Inputs) -> tuple[float, float]:
        h = inputs.main
        return ratio(_bin_1d(h, self.bin, "FractionInBin"), h.entries, "the number of entries"), 0.0


@basic
@dataclass(frozen=True)
class FractionInBinArray(Metric):
    numBins: tuple[int, ...]  # noqa: N815
    denBins: tuple[int, ...]  # noqa: N815

    def compute(self, inputs: Inputs) -> tuple[float, float]:
        h = inputs.main
        num = sum(_bin_1d(h, b, "FractionInBinArray") for b in self.numBins)
        den = sum(_bin_1d(h, b, "FractionInBinArray") for b in self.denBins)
        value = ratio(num, den, "the denominator bins' sum")
        if num <= 0:
            return value, 0.0
        return value, math.sqrt(1 / num + 1 / den) * value


@basic
@dataclass(frozen=True)
class NormBinCount(Metric):
    """Efficiency of bin `label` over bin `norm` (or over all in-range content): the posterior mode k/n
    under a uniform prior with the posterior's standard deviation — one symmetric error, unlike the original's
    asymmetric tuple, which could not be stored."""

    label: int | str
    norm: int | str | None = None

    def compute(self, inputs: Inputs) -> tuple[float, float]:
        h = inputs.main
        k = _bin_1d(h, self.label, "NormBinCount")
        n = h.sum_of_weights() if self.norm is None else _bin_1d(h, self.norm, "NormBinCount")
        if n <= 0:
            raise Undefined("the normalisation is 0")
        if not 0 <= k <= n:
            raise Undefined(f"the count {k} is not between 0 and the normalisation {n}")
        a, b = k + 1, n - k + 1
        return k / n, math.sqrt(a * b / ((a + b) ** 2 * (a + b + 1)))


# -- ranges of x ------------------------------------------------------------------------------------
def _window(h: Histogram, low: float, high: float) -> tuple[float, float, float]:
    """(s, in-range total, total with flows) for the x-bins of [FindBin(low), FindBin(high)]."""
    first, last = h.find_bin(low), h.find_bin(high)
    s = float(h.values[first : last + 1].sum())
    return s, h.sum_of_weights(), float(h.values.sum())


@basic
@dataclass(frozen=True)
class Ratio(Metric):
    low: float
    high: float

    def compute(self, inputs: Inputs) -> tuple[float, float]:
        s, total, _ = _window(inputs.main, self.low, self.high)
        outside = total - s
        value = ratio(s, outside, "the content outside the window")
        return value, math.sqrt(s + s * s / outside) / outside


@basic
@dataclass(frozen=True)
class Ratio1(Metric):
    """Content outside the window (flows included) over the content inside it."""

    low: float
    high: float

    def compute(self, inputs: Inputs) -> tuple[float, float]:
        s, _, total = _window(inputs.main, self.low, self.high)
        outside = total - s
        value = ratio(outside, s, "the content inside the window")
        return value, math.sqrt(outside + outside * outside / s) / s


@basic
@dataclass(frozen=True)
class Fraction(Metric):
    low: float
    high: float

    def compute(self, inputs: Inputs) -> tuple[float, float]:
        s, total, _ = _window(inputs.main, self.low, self.high)
        value = ratio(s, inputs.main.entries, "the number of entries")
        if s <= 0 or total <= 0:
            return value, 0.0
        return value, math.sqrt(1 / s + 1 / total) * s / total


@basic
@dataclass(frozen=True)
class Fraction1(Metric):
    """Fraction of all content (flows included) outside the window."""

    low: float
    high: float

    def compute(self, inputs: Inputs) -> tuple[float, float]:
        s, _, total = _window(inputs.main, self.low, self.high)
        outside = total - s
        value = ratio(outside, total, "the total content")
        return value, math.sqrt(s * s * outside + outside * outside * s) / total**2


# -- 2D maps ----------------------------------------------------------------------------------------
@basic
@dataclass(frozen=True)
class FED25ErrorFraction(Metric):
    """Percentage of map cells above `thr` × the maximum, over `norm`."""

    thr: float
    norm: float
    normErr: bool = True  # noqa: N815

    def compute(self, inputs: Inputs) -> tuple[float, float]:
        h = inputs.main
        require_2d(h, "FED25ErrorFraction")
        count = int(np.count_nonzero(h.in_range() > self.thr * h.maximum()))
        res = ratio(count, self.norm, "norm")
        error = 100 * sqrt0(res * (1 - res) / (h.nx * h.ny)) if self.normErr else 0.0
        return 100 * res, error


@basic
@dataclass(frozen=True)
class StripFEDErrorFraction(Metric):
    fedId: int  # noqa: N815
    errorType: int  # noqa: N815
    needs: ClassVar[frozenset[str]] = _needs("histo1")

    def compute(self, inputs: Inputs) -> tuple[float, float]:
        h = inputs.main
        require_2d(h, "StripFEDErrorFraction")
        x = self.fedId + 1 - 50
        if not (0 <= x <= h.nx + 1 and 0 <= self.errorType <= h.ny + 1):
            raise Undefined(f"FED {self.fedId} / error type {self.errorType} is outside the map")
        num = h.content(x, self.errorType)
        den = inputs.need("histo1").maximum()
        r = ratio(num, den, "histo1's maximum")
        return 100 * r, 100 * sqrt0(r * (1 - r) / den)


@basic
@dataclass(frozen=True)
class StripBadComponent(Metric):
    binsx: tuple[int, ...]
    biny: int
    norm: float

    def compute(self, inputs: Inputs) -> tuple[float, float]:
        h = inputs.main
        require_2d(h, "StripBadComponent")
        total = sum(h.content(bin_or_label(h, bx), bin_or_label(h, self.biny, 2)) for bx in self.binsx)
        return 100 * ratio(total, self.norm, "norm"), 0.0


@basic
@dataclass(frozen=True)
class SummaryMapPartition(Metric):
    binx: int
    nbinsy: int

    def compute(self, inputs: Inputs) -> tuple[float, float]:
        h = inputs.main
        require_2d(h, "SummaryMapPartition")
        x = bin_or_label(h, self.binx)
        last = min(self.nbinsy, h.ny)
        if last < 1:
            raise Undefined("no y bins to average")
        return float(h.values[x, 1 : last + 1].mean()), 0.0


@basic
@dataclass(frozen=True)
class Mean2D(Metric):
    """Average content of the in-range cells (the original included the underflow and dropped the last
    bin on each axis)."""

    def compute(self, inputs: Inputs) -> tuple[float, float]:
        require_2d(inputs.main, "Mean2D")
        return float(inputs.main.in_range().mean()), 0.0


@basic
@dataclass(frozen=True)
class BinRatio2D(Metric):
    Nx: int  # noqa: N815
    Ny: int  # noqa: N815
    Dx: int  # noqa: N815
    Dy: int  # noqa: N815

    def compute(self, inputs: Inputs) -> tuple[float, float]:
        h = inputs.main
        require_2d(h, "BinRatio2D")
        num = h.content(bin_or_label(h, self.Nx), bin_or_label(h, self.Ny, 2))
        den = h.content(bin_or_label(h, self.Dx), bin_or_label(h, self.Dy, 2))
        r = ratio(num, den, "the denominator bin")
        return r, (abs(r) * math.sqrt(1 / den + 1 / num)) if num > 0 and den > 0 else 0.0


@basic
@dataclass(frozen=True)
class BinCount2D(Metric):
    x: int
    y: int
    normErr: bool = True  # noqa: N815

    def compute(self, inputs: Inputs) -> tuple[float, float]:
        h = inputs.main
        require_2d(h, "BinCount2D")
        i, j = bin_or_label(h, self.x), bin_or_label(h, self.y, 2)
        error = h.error(i, j) / math.sqrt(h.entries) if self.normErr and h.entries > 0 else h.error(i, j)
        return h.content(i, j), error


@basic
@dataclass(frozen=True)
class Bin2DRatio(Metric):
    x: int
    y: int
    normEntries: bool = True  # noqa: N815
    needs: ClassVar[frozenset[str]] = _needs("histo1")

    def compute(self, inputs: Inputs) -> tuple[float, float]:
        h, other = inputs.main, inputs.need("histo1")
        require_2d(h, "Bin2DRatio")
        require_2d(other, "Bin2DRatio")
        i, j = bin_or_label(h, self.x), bin_or_label(h, self.y, 2)
        num, den = h.content(i, j), other.content(i, j)
        if self.normEntries:
            num_scaled = ratio(num, h.entries, "the main entries")
            den_scaled = ratio(den, other.entries, "histo1's entries")
            return ratio(num_scaled, den_scaled, "histo1's bin"), sqrt0(num_scaled) / den_scaled
        value = ratio(num, den, "histo1's bin")
        return value, (h.error(i, j) / math.sqrt(h.entries) if h.entries > 0 else 0.0) / den


@basic
@dataclass(frozen=True)
class MeanYForXBin(Metric):
    xbin: int

    def compute(self, inputs: Inputs) -> tuple[float, float]:
        h = inputs.main
        require_2d(h, "MeanYForXBin")
        column = h.values[bin_or_label(h, self.xbin), 1 : h.ny + 1]
        return float(np.clip(column, 0, None).sum() / h.ny), 0.0


@basic
@dataclass(frozen=True)
class MeanPosOnly(Metric):
    def compute(self, inputs: Inputs) -> tuple[float, float]:
        h = inputs.main
        require_2d(h, "MeanPosOnly")
        row = h.values[1 : h.nx + 1, 1]
        return float(np.clip(row, 0, None).sum() / h.nx), 0.0


def _mean_non_negative(block: np.ndarray) -> float:
    if block.size == 0:
        raise Undefined("the range holds no bins")
    return float(np.clip(block, 0, None).sum() / block.size)


@basic
@dataclass(frozen=True)
class MeanXRange(Metric):
    """Mean non-negative content of the x-bins xmin..xmax-1 (bin numbers), all y."""

    xmin: int
    xmax: int

    def compute(self, inputs: Inputs) -> tuple[float, float]:
        h = inputs.main
        require_2d(h, "MeanXRange")
        return _mean_non_negative(h.values[max(self.xmin, 1) : min(self.xmax, h.nx + 1), 1 : h.ny + 1]), 0.0


@basic
@dataclass(frozen=True)
class MeanYRange(Metric):
    """Mean non-negative content of the y-bins from FindBin(ymin) up to FindBin(ymax) excluded, all x (the
    original passed the floats to range() and always failed)."""

    ymin: float
    ymax: float

    def compute(self, inputs: Inputs) -> tuple[float, float]:
        h = inputs.main
        require_2d(h, "MeanYRange")
        first, last = max(h.find_bin(self.ymin, 2), 1), min(h.find_bin(self.ymax, 2), h.ny + 1)
        return _mean_non_negative(h.values[1 : h.nx + 1, first:last]), 0.0


@basic
@dataclass(frozen=True)
class AverageYwithXCut(Metric):
    """Average content of the bins 1..NN-n, NN being the last non-empty bin (the original ignored `n`, used
    4, and included the underflow)."""

    n: int = 4

    def compute(self, inputs: Inputs) -> tuple[float, float]:
        contents = inputs.main.in_range()
        filled = np.nonzero(contents > 0)[0]
        if filled.size == 0:
            raise Undefined("the histogram is empty")
        last = int(filled[-1]) + 1 - self.n  # ROOT bin number of the last bin averaged
        if last < 1:
            raise Undefined(f"fewer than {self.n} bins before the last filled one")
        return float(contents[:last].mean()), 0.0


def _filled_cells(h: Histogram, columns: list[int] | None = None) -> tuple[float, float]:
    block = h.in_range() if columns is None else h.values[columns, 1 : h.ny + 1]
    filled = block[block != 0]
    if filled.size == 0:
        raise Undefined("no filled cells")
    return float(filled.mean()), float(filled.std() / math.sqrt(filled.size))


@basic
@dataclass(frozen=True)
class ProfileMean(Metric):
    def compute(self, inputs: Inputs) -> tuple[float, float]:
        require_2d(inputs.main, "ProfileMean")
        return _filled_cells(inputs.main)


@basic
@dataclass(frozen=True)
class ProfileMeanBPixModules(Metric):
    """ProfileMean over the two x-columns of barrel module `modNum` (1..4), symmetric in z."""

    modNum: int  # noqa: N815

    def compute(self, inputs: Inputs) -> tuple[float, float]:
        h = inputs.main
        require_2d(h, "ProfileMeanBPixModules")
        if not 1 <= self.modNum <= 4 or h.nx < 8:
            raise Undefined(f"module {self.modNum} is not one of 1..4 of a map with at least 8 columns")
        offset = 4 - self.modNum
        return _filled_cells(h, [1 + offset, h.nx - offset])


# -- several histograms -----------------------------------------------------------------------------
@basic
@dataclass(frozen=True)
class PixelEfficiency(Metric):
    needs: ClassVar[frozenset[str]] = _needs("histo1")

    def compute(self, inputs: Inputs) -> tuple[float, float]:
        h, other = inputs.main, inputs.need("histo1")
        n = h.mean() * h.entries
        d = n + other.mean() * other.entries
        r = ratio(n, d, "the total")
        return r, sqrt0(r * (1 - r) / d)


def _mean_with_error(h: Histogram) -> tuple[float, float]:
    return h.z_mean() if h.dimension == 2 else (h.mean(), h.mean_error())


@basic
@dataclass(frozen=True)
class PixelDigiPerClusterPix(Metric):
    """mean(main) / (mean(histo1) · mean(histo2)); for maps, the mean filled content; relative errors in
    quadrature."""

    needs: ClassVar[frozenset[str]] = _needs("histo1", "histo2")

    def compute(self, inputs: Inputs) -> tuple[float, float]:
        (num, e0), (m1, e1), (m2, e2) = (
            _mean_with_error(h) for h in (inputs.main, inputs.need("histo1"), inputs.need("histo2"))
        )
        if num < 1:
            raise Undefined("fewer than one digi per event")
        value = ratio(num, m1 * m2, "the product of histo1 and histo2 means")
        return value, abs(value) * math.sqrt((e0 / num) ** 2 + (e1 / m1) ** 2 + (e2 / m2) ** 2)


@basic
@dataclass(frozen=True)
class MeanDiff(Metric):
    needs: ClassVar[frozenset[str]] = _needs("reference")

    def compute(self, inputs: Inputs) -> tuple[float, float]:
        h, ref = inputs.main, inputs.need("reference")
        return h.mean() - ref.mean(), math.hypot(h.mean_error(), ref.mean_error())


def _two_counts(inputs: Inputs) -> tuple[np.ndarray, np.ndarray]:
    a, b = inputs.main, inputs.need("reference")
    if a.values.shape != b.values.shape:
        raise Undefined("the reference has a different binning")
    return np.clip(a.in_range().ravel(), 0, None), np.clip(b.in_range().ravel(), 0, None)


@basic
@dataclass(frozen=True)
class Kolmogorov(Metric):
    """Kolmogorov-Smirnov probability that main and reference come from one distribution."""

    needs: ClassVar[frozenset[str]] = _needs("reference")

    def compute(self, inputs: Inputs) -> tuple[float, float]:
        a, b = _two_counts(inputs)
        na, nb = a.sum(), b.sum()
        if na <= 0 or nb <= 0:
            raise Undefined("an empty histogram")
        distance = float(np.max(np.abs(np.cumsum(a) / na - np.cumsum(b) / nb)))
        ea = inputs.main.entries or na
        eb = inputs.need("reference").entries or nb
        return kolmogorov_probability(distance * math.sqrt(ea * eb / (ea + eb))), 0.0


def kolmogorov_probability(z: float) -> float:
    """Q_KS(z) = 2 Σ (-1)^(k-1) exp(-2 k² z²), 1 for tiny z."""
    if z < 0.2:
        return 1.0
    return float(
        min(1.0, max(0.0, 2 * sum((-1) ** (k - 1) * math.exp(-2 * k * k * z * z) for k in range(1, 101))))
    )


def _chi2_unweighted(inputs: Inputs) -> tuple[float, int]:
    a, b = _two_counts(inputs)
    na, nb = a.sum(), b.sum()
    if na <= 0 or nb <= 0:
        raise Undefined("an empty histogram")
    used = (a + b) > 0
    chi2 = float(np.sum((nb * a[used] - na * b[used]) ** 2 / (a[used] + b[used])) / (na * nb))
    return chi2, int(used.sum()) - 1


@basic
@dataclass(frozen=True)
class Chi2(Metric):
    needs: ClassVar[frozenset[str]] = _needs("reference")

    def compute(self, inputs: Inputs) -> tuple[float, float]:
        return _chi2_unweighted(inputs)[0], 0.0


@basic
@dataclass(frozen=True)
class NormChi2(Metric):
    needs: ClassVar[frozenset[str]] = _needs("reference")

    def compute(self, inputs: Inputs) -> tuple[float, float]:
        chi2, ndf = _chi2_unweighted(inputs)
        return ratio(chi2, ndf, "the number of degrees of freedom"), 0.0
