"""Each `basic` metric against values computed independently with numpy on histograms filled by `hist`."""

from __future__ import annotations

import math

import numpy as np
import pytest

from runreg.trends.metrics import Inputs, Undefined
from runreg.trends.metrics import basic as b
from tests.unit.trends.builders import from_contents, map2d, th1, th2

RNG = np.random.default_rng(2024)
SAMPLES = RNG.normal(20, 4, 8000)
H = th1(SAMPLES, 40, 0, 40)  # bin k covers [k-1, k)
INSIDE = SAMPLES[(SAMPLES >= 0) & (SAMPLES < 40)]
COUNTS = np.histogram(INSIDE, bins=40, range=(0, 40))[0].astype(float)  # numpy's own binning
CENTRES = np.arange(40) + 0.5


def run(metric, main, **others):  # noqa: ANN001, ANN201
    return metric.compute(Inputs(main=main, run=1, **others))


def close(a: float, b_: float, tol: float = 1e-9) -> bool:
    return math.isclose(a, b_, rel_tol=tol, abs_tol=1e-12)


def test_moments() -> None:
    mean = np.average(CENTRES, weights=COUNTS)
    std = math.sqrt(np.average((CENTRES - mean) ** 2, weights=COUNTS))
    n = COUNTS.sum()
    value, error = run(b.Mean(), H)
    assert close(value, mean) and close(error, std / math.sqrt(n))
    assert all(map(close, run(b.MeanRMS(), H), (mean, std)))
    assert all(map(close, run(b.StdDev(), H), (std, std / math.sqrt(2 * n))))
    assert all(map(close, run(b.RMSXAxis(), H), (std, std / math.sqrt(2 * n))))
    assert all(map(close, run(b.MeanEntries(), H), (mean * 8000, std / math.sqrt(n) * 8000)))
    assert run(b.Count(), H) == (8000.0, 0.0)
    assert close(run(b.MeanY(), H)[0], n / 8000)


def test_y_moments_of_a_2d_histogram() -> None:
    x, y = RNG.uniform(0, 4, 3000), RNG.normal(1, 0.5, 3000)
    h = th2(x, y, 4, 0, 4, 30, -2, 4)
    keep = (y >= -2) & (y < 4)
    counts = np.histogram2d(x[keep], y[keep], bins=(4, 30), range=((0, 4), (-2, 4)))[0].sum(axis=0)
    centres = -2 + (np.arange(30) + 0.5) * 0.2
    mean = np.average(centres, weights=counts)
    std = math.sqrt(np.average((centres - mean) ** 2, weights=counts))
    assert close(run(b.MeanYAxis(), h)[0], mean) and close(
        run(b.MeanYAxis(), h)[1], std / math.sqrt(counts.sum())
    )
    assert close(run(b.RMSYAxis(), h)[0], std)


def test_bins_and_labels() -> None:
    assert run(b.BinCount(21), H) == (COUNTS[20], math.sqrt(COUNTS[20]))
    assert run(b.BinCount(21, True), H) == (COUNTS[20], 0.0)
    assert close(run(b.BinsCount(30), H)[0], COUNTS[29:].sum())
    assert close(run(b.EntriesCount(25.0), H)[0], COUNTS[25:].sum())
    labelled = th1([0.5] * 3 + [1.5] * 7, 2, 0, 2, labels=("Good", "Bad"))
    assert run(b.BinCount("Bad"), labelled)[0] == 7.0
    with pytest.raises(Undefined, match="no bin labelled"):
        run(b.BinCount("Ugly"), labelled)
    assert all(map(close, run(b.ROCfraction("Good", 30.0), labelled), (10.0, 100 * math.sqrt(3) / 30)))
    assert close(run(b.FractionInBin(2), labelled)[0], 0.7)
    num, den = 7.0, 10.0
    assert all(
        map(
            close,
            run(b.FractionInBinArray((2,), (1, 2)), labelled),
            (0.7, math.sqrt(1 / num + 1 / den) * 0.7),
        )
    )
    with pytest.raises(Undefined, match="1D"):
        run(b.BinCount(1), map2d(np.ones((2, 2))))


def test_max_bin_excursion_quantile() -> None:
    assert run(b.MaxBin(), H)[0] == CENTRES[np.argmax(COUNTS)]
    high, low = np.argmax(COUNTS), np.argmin(COUNTS)
    value, error = run(b.MaxExcursion(), H)
    assert value == COUNTS[high] - COUNTS[low] and close(
        error, math.hypot(math.sqrt(COUNTS[high]), math.sqrt(COUNTS[low]))
    )
    flat = from_contents(np.full(10, 100.0), 0, 10)  # uniform on [0, 10): the 0.95 quantile is 9.5
    assert close(run(b.Quantile(0.95), flat)[0], 9.5)
    value, _ = run(b.Quantile(0.5), H)
    assert abs(value - np.median(INSIDE)) < 0.1  # the bin-interpolated median of the data


def test_windows_ratios_and_fractions() -> None:
    s = COUNTS[15:26].sum()  # bins FindBin(15)=16 .. FindBin(25)=26 -> indices 15..25
    total = COUNTS.sum()
    with_flows = 8000.0
    outside = total - s
    assert all(
        map(close, run(b.Ratio(15.0, 25.0), H), (s / outside, math.sqrt(s + s * s / outside) / outside))
    )
    out_all = with_flows - s
    assert close(run(b.Ratio1(15.0, 25.0), H)[0], out_all / s)
    assert close(run(b.Fraction(15.0, 25.0), H)[0], s / 8000)
    assert close(run(b.Fraction1(15.0, 25.0), H)[0], out_all / with_flows)


def test_normalised_bin_count_is_one_symmetric_error() -> None:
    labelled = th1([0.5] * 30 + [1.5] * 70, 2, 0, 2, labels=("Fail", "Pass"))
    value, error = run(b.NormBinCount("Pass"), labelled)
    # Beta(71, 31) posterior of a uniform prior: mode 0.7, standard deviation sqrt(ab/((a+b)^2 (a+b+1)))
    assert close(value, 0.7) and close(error, math.sqrt(71 * 31 / (102**2 * 103)))
    samples = RNG.beta(71, 31, 200_000)
    assert abs(samples.std() - error) < 1e-3


def test_reco_fraction_entries_rate_pixel_efficiency() -> None:
    events = th1(RNG.uniform(0, 100, 500), 100, 0, 100)
    value, error = run(b.RecoFraction(21), H, histo1=events)
    assert close(value, COUNTS[20] / 500) and close(error, math.sqrt(COUNTS[20]) / 500)
    per_ls = from_contents([5, 0, 7, 3, 0], 0, 5)
    assert close(run(b.EntriesRate(25.0), H, histo1=per_ls)[0], COUNTS[25:].sum() / (3 * 23))
    with pytest.raises(Undefined, match="histo1 is required"):
        run(b.RecoFraction(1), H)
    valid, missing = th1([3.0] * 90, 10, 0, 10), th1([1.0] * 20, 10, 0, 10)
    n, d = 3.5 * 90, 3.5 * 90 + 1.5 * 20
    value, error = run(b.PixelEfficiency(), valid, histo1=missing)
    assert close(value, n / d) and close(error, math.sqrt(n / d * (1 - n / d) / d))


def test_maps() -> None:
    cells = RNG.integers(0, 50, (8, 6)).astype(float)
    cells[2, 3] = 0.0
    m = map2d(cells)
    assert close(run(b.Mean2D(), m)[0], cells.mean())  # in-range cells only
    filled = cells[cells != 0]
    assert all(map(close, run(b.ProfileMean(), m), (filled.mean(), filled.std() / math.sqrt(filled.size))))
    assert all(map(close, run(b.MeanZAxis(), m), (filled.mean(), filled.std() / math.sqrt(filled.size))))
    columns = cells[[0, 7]]  # module 4 of 8 columns: ROOT columns 1 and 8
    kept = columns[columns != 0]
    assert close(run(b.ProfileMeanBPixModules(4), m)[0], kept.mean())
    assert close(run(b.SummaryMapPartition(2, 6), m)[0], cells[1, :6].mean())
    assert run(b.BinCount2D(3, 4, False), m) == (cells[2, 3], 0.0)
    assert close(run(b.BinRatio2D(1, 1, 2, 2), m)[0], cells[0, 0] / cells[1, 1])
    assert close(run(b.MeanYForXBin(2), m)[0], cells[1].clip(0).sum() / 6)
    assert close(run(b.MeanPosOnly(), m)[0], cells[:, 0].clip(0).sum() / 8)
    assert close(run(b.MeanXRange(2, 5), m)[0], cells[1:4].mean())
    # y bins FindBin(1.5)=2 up to FindBin(4.5)=5 excluded -> cells[:, 1:4]
    assert close(run(b.MeanYRange(1.5, 4.5), m)[0], cells[:, 1:4].mean())
    over = int((cells > 0.5 * cells.max()).sum())
    res = over / 48
    assert all(
        map(
            close, run(b.FED25ErrorFraction(0.5, 48.0), m), (100 * res, 100 * math.sqrt(res * (1 - res) / 48))
        )
    )
    assert close(run(b.StripBadComponent((1, 3), 2, 200.0), m)[0], 100 * (cells[0, 1] + cells[2, 1]) / 200)
    other = map2d(cells * 2 + 1)
    assert close(run(b.Bin2DRatio(1, 1, False), m, histo1=other)[0], cells[0, 0] / (cells[0, 0] * 2 + 1))


def test_strip_fed_error_fraction() -> None:
    cells = np.zeros((440, 10))
    cells[62 + 1 - 50 - 1, 3] = 6.0  # FED 62, error type 4
    m = map2d(cells)
    norm = from_contents([1, 40, 3], 0, 3)
    value, error = run(b.StripFEDErrorFraction(62, 4), m, histo1=norm)
    assert close(value, 100 * 6 / 40) and close(error, 100 * math.sqrt(0.15 * 0.85 / 40))


def test_average_with_x_cut_uses_its_argument_and_no_underflow() -> None:
    h = from_contents([4, 6, 8, 10, 12, 0, 0], 0, 7)
    h.values[0] = 1000.0  # an underflow that must not count
    assert close(run(b.AverageYwithXCut(2), h)[0], np.mean([4, 6, 8]))  # last filled bin 5, minus 2
    assert close(run(b.AverageYwithXCut(4), h)[0], 4.0)


def test_reference_comparisons() -> None:
    a_samples, r_samples = RNG.normal(0, 1, 4000), RNG.normal(0.1, 1, 4000)
    a, ref = th1(a_samples, 20, -4, 4), th1(r_samples, 20, -4, 4)
    diff, error = run(b.MeanDiff(), a, reference=ref)
    assert close(diff, a.mean() - ref.mean()) and close(error, math.hypot(a.mean_error(), ref.mean_error()))
    na, nb = a.in_range(), ref.in_range()
    sa, sb = na.sum(), nb.sum()
    used = (na + nb) > 0
    chi2 = ((sb * na - sa * nb)[used] ** 2 / (na + nb)[used]).sum() / (sa * sb)
    assert close(run(b.Chi2(), a, reference=ref)[0], chi2)
    assert close(run(b.NormChi2(), a, reference=ref)[0], chi2 / (used.sum() - 1))
    d = np.abs(np.cumsum(na) / sa - np.cumsum(nb) / sb).max()
    z = d * math.sqrt(4000 * 4000 / 8000)
    expected = 2 * sum((-1) ** (k - 1) * math.exp(-2 * k * k * z * z) for k in range(1, 101))
    assert close(run(b.Kolmogorov(), a, reference=ref)[0], expected)
    assert run(b.Kolmogorov(), a, reference=a)[0] == 1.0


def test_pixel_digis_per_cluster() -> None:
    digis, clusters, size = (
        th1(RNG.normal(2000, 100, 500), 50, 0, 5000),
        th1(RNG.normal(400, 30, 500), 50, 0, 1000),
        th1(RNG.exponential(4, 500), 20, 0, 20),
    )
    value, error = run(b.PixelDigiPerClusterPix(), digis, histo1=clusters, histo2=size)
    expected = digis.mean() / (clusters.mean() * size.mean())
    rel = math.sqrt(sum((h.mean_error() / h.mean()) ** 2 for h in (digis, clusters, size)))
    assert close(value, expected) and close(error, expected * rel)


def test_undefined_cases_give_no_value_instead_of_zero() -> None:
    empty = th1([], 10, 0, 10)
    for metric in (b.MeanY(), b.MaxBin(), b.Quantile(0.5), b.FractionInBin(1), b.ProfileMean()):
        with pytest.raises(Undefined):
            run(metric, empty if not isinstance(metric, b.ProfileMean) else map2d(np.zeros((2, 2))))
