"""The fit models' analytic derivatives agree with finite differences of the models the fits evaluate."""

from __future__ import annotations

import numpy as np
import pytest

from runreg.trends.metrics import derivatives as d
from runreg.trends.metrics.fits import GAUSS, GAUSS_LANDAU, LANDAU
from runreg.trends.metrics.shapes import LANDAU_MODE, landau_fast, landau_fast_derivatives, landau_standard

X = np.linspace(5.0, 70.0, 66)
CASES = [
    (LANDAU, (21.0, 2.5, 3000.0)),
    (GAUSS, (40.0, 6.0, 800.0)),
    (GAUSS_LANDAU, (38.0, 3.0, 900.0, 250.0, 7.0)),
]


def _central(function, point: np.ndarray, i: int, step: float) -> np.ndarray:  # noqa: ANN001
    up, down = point.copy(), point.copy()
    up[i] += step
    down[i] -= step
    return (function(up) - function(down)) / (2 * step)


@pytest.mark.parametrize(("model", "point"), CASES, ids=["landau", "gauss", "gauss+landau"])
def test_jacobian_and_hessian_are_the_models_derivatives(model, point) -> None:  # noqa: ANN001
    p = np.array(point)
    value, jacobian, hessian = model.derivatives(X, *p)
    assert np.allclose(value, model.value(X, *p), rtol=1e-12, atol=0)
    for i in range(p.size):
        step = 3e-3 * max(abs(p[i]), 1.0)  # wider than the Landau table's spacing (the value is interpolated)
        numeric = _central(lambda q: model.value(X, *q), p, i, step)
        assert _close(jacobian[:, i], numeric), i
        numeric = _central(lambda q: model.derivatives(X, *q)[1], p, i, step)
        for j in range(p.size):
            assert _close(hessian[:, j, i], numeric[:, j]), (j, i)


def _close(analytic: np.ndarray, numeric: np.ndarray) -> bool:
    """Within 0.5 % of the largest magnitude over the bins (finite differences of interpolated values)."""
    return bool(np.abs(analytic - numeric).max() <= 5e-3 * max(np.abs(numeric).max(), 1e-12))


def test_the_chi2_gradient_and_hessian_are_its_derivatives() -> None:
    rng = np.random.default_rng(2)
    truth = (21.0, 2.5, 3000.0)
    y = rng.poisson(LANDAU.value(X, *truth)).astype(float)
    e = np.sqrt(y) + 0.5
    p = np.array([20.0, 2.8, 2700.0])

    def chi2(q: np.ndarray) -> float:
        return float((((y - LANDAU.value(X, *q)) / e) ** 2).sum())

    gradient = d.chi2_gradient(y, e, LANDAU.derivatives(X, *p))
    hessian = d.chi2_hessian(y, e, LANDAU.derivatives(X, *p))
    steps = 1e-3 * np.abs(p)
    assert np.allclose(gradient, [_central(chi2, p, i, steps[i]) for i in range(3)], rtol=1e-3)
    numeric = np.array(
        [
            _central(lambda q: d.chi2_gradient(y, e, LANDAU.derivatives(X, *q)), p, i, steps[i])
            for i in range(3)
        ]
    )
    assert np.allclose(hessian, numeric, rtol=1e-3)


def _differences(density, lam: np.ndarray, h: np.ndarray) -> tuple[np.ndarray, np.ndarray]:  # noqa: ANN001
    up, mid, down = density(lam + h), density(lam), density(lam - h)
    return (up - down) / (2 * h), (up - 2 * mid + down) / h**2


def test_the_landau_slopes_are_the_densitys_beyond_the_table_too() -> None:
    inside = np.array([-3.0, -2.0, LANDAU_MODE, 0.5, 5.0, 19.99, 20.01, 150.0, 299.0])
    p, p1, p2 = landau_fast_derivatives(inside)
    assert np.array_equal(p, landau_fast(inside))
    first, second = _differences(landau_standard, inside, 1e-3 * np.maximum(1.0, np.abs(inside)))
    assert np.allclose(p1, first, rtol=5e-3, atol=1e-6)
    assert np.allclose(p2, second, rtol=5e-3, atol=1e-4)
    assert abs(p1[2]) < 1e-5  # the mode
    beyond = np.array([301.0, 1000.0])  # the 1/λ² tail
    p, p1, p2 = landau_fast_derivatives(beyond)
    first, second = _differences(landau_fast, beyond, 1e-2 * beyond)
    assert np.allclose(p1, first, rtol=1e-3) and np.allclose(p2, second, rtol=1e-3)
