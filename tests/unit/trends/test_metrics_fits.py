"""Fit metrics recover the parameters of histograms built from known shapes; the Landau density is checked
against its known constants."""

from __future__ import annotations

import math

import numpy as np
import pytest

from runreg.trends.metrics import Inputs, Undefined
from runreg.trends.metrics import fits as f
from runreg.trends.metrics.shapes import LANDAU_MODE, landau_fast, landau_gauss, landau_standard
from tests.unit.trends.builders import from_contents

EDGES = np.linspace(0, 100, 101)
CENTRES = (EDGES[:-1] + EDGES[1:]) / 2


def run(metric, main, run_number: int = 1):  # noqa: ANN001, ANN201
    return metric.compute(Inputs(main=main, run=run_number))


def test_the_landau_density_has_its_known_constants() -> None:
    assert math.isclose(float(landau_standard(np.array([0.0]))[0]), 0.17885416, rel_tol=1e-6)  # p(0)
    grid = np.linspace(-1, 1, 20001)
    assert abs(grid[np.argmax(landau_standard(grid))] - LANDAU_MODE) < 1e-3
    x = np.concatenate([np.linspace(-3.8, 10, 5001), np.geomspace(10.001, 5000, 5000)])
    assert abs(np.trapezoid(landau_standard(x), x) + 1 / 5000 - 1) < 1e-4  # normalised (1/λ² tail added)
    probe = np.array([-2.0, -0.5, 0.3, 4.0, 50.0])
    assert np.allclose(landau_fast(probe), landau_standard(probe), rtol=1e-4)


def _landau_histogram(location: float, scale: float, norm: float) -> object:
    contents = norm * landau_standard((CENTRES - location) / scale)
    return from_contents(contents, 0, 100, errors=np.sqrt(contents) + 1e-3)


def test_landau_recovers_location_and_scale() -> None:
    h = _landau_histogram(21.0, 2.0, 30000)
    mpv, error = run(f.Landau(0, 12.0, 40.0, (18.0, 2.0)), h)
    assert abs(mpv - 21.0) < 0.05 and 0 < error < 0.2
    assert abs(run(f.Landau(1, 12.0, 40.0, (18.0, 2.0)), h)[0] - 2.0) < 0.05


def test_landau_around_max_and_max_bin_and_test() -> None:
    h = _landau_histogram(30.0, 3.0, 50000)
    assert abs(run(f.LandauAroundMax(0, 0.6, 1.8, 100.0), h)[0] - 30.0) < 0.1
    with pytest.raises(Undefined, match="outside"):
        run(f.LandauAroundMax(0, 0.6, 1.8, 20.0), h)  # above the accepted limit
    assert abs(run(f.LandauAroundMaxBin(0, 12.0), h)[0] - 30.0) < 0.1
    early = f.LandauTest(0, 10.0, 60.0, 20.0, 70.0, 1000, (20.0, 2.0))
    assert abs(run(early, h, run_number=999)[0] - 30.0) < 0.1  # window 1, starting values ×1.58
    assert abs(run(early, h, run_number=1000)[0] - 30.0) < 0.1  # window 2: the run is used now


def test_gaussian_and_gauss_plus_landau() -> None:
    contents = 1000 * np.exp(-0.5 * ((CENTRES - 42.0) / 5.0) ** 2)
    h = from_contents(contents, 0, 100, errors=np.sqrt(contents) + 0.5)
    mean, error = run(f.Gaussian(0, 20.0, 65.0, (40.0, 4.0)), h)
    assert abs(mean - 42.0) < 0.05 and error > 0
    assert abs(run(f.Gaussian(1, 20.0, 65.0, (40.0, 4.0)), h)[0] - 5.0) < 0.05
    mixed = 800 * landau_standard((CENTRES - 40.0) / 3.0) / 0.18 + 300 * np.exp(
        -0.5 * ((CENTRES - 40.0) / 6.0) ** 2
    )
    g = from_contents(mixed, 0, 100, errors=np.sqrt(mixed) + 0.5)
    assert abs(run(f.GauLand(0, 20.0, 80.0, (38.0, 3.0)), g)[0] - 40.0) < 0.2


def test_langau_recovers_the_most_probable_value_of_a_convolution() -> None:
    contents = landau_gauss(CENTRES, 2.0, 25.0, 40000.0, 3.0)
    h = from_contents(contents, 0, 100, errors=np.sqrt(contents) + 0.5)
    mpv, error = run(f.LanGau(1, 10.0, 60.0, 60.0, (1.5, 24.0, 35000.0, 2.0)), h)
    assert abs(mpv - 25.0) < 0.1 and error > 0
    assert abs(run(f.LanGau(3, 10.0, 60.0, 60.0, (1.5, 24.0, 35000.0, 2.0)), h)[0] - 3.0) < 0.2


def test_flat_lines_are_the_weighted_mean() -> None:
    rng = np.random.default_rng(5)
    y = np.concatenate([rng.normal(10, 1, 15), np.zeros(5)])
    e = np.concatenate([rng.uniform(0.5, 2, 15), np.zeros(5)])
    h = from_contents(y, 0, 20, errors=e)
    w = 1 / e[:15] ** 2
    value, error = run(f.FlatLine(0, 0.0, 20.0, 10.0), h)
    assert math.isclose(value, (w * y[:15]).sum() / w.sum()) and math.isclose(error, 1 / math.sqrt(w.sum()))
    # last filled bin 15: the cut runs from x = 1 to the centre of bin 12 (11.5): centres 1.5 .. 11.5
    w2 = 1 / e[1:12] ** 2
    assert math.isclose(run(f.FlatLineXcut(0, 0.0, 20.0, 10.0), h)[0], (w2 * y[1:12]).sum() / w2.sum())


def test_a_fit_on_too_few_bins_gives_no_value() -> None:
    with pytest.raises(Undefined, match="fewer than 3"):
        run(f.Landau(0, 50.0, 51.0), _landau_histogram(21.0, 2.0, 100))
