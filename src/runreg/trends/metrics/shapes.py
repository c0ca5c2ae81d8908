"""Probability shapes the fit metrics use: ROOT's Landau (location/scale), Gauss, and Landau ⊗ Gauss."""

from __future__ import annotations

import numpy as np

# Gauss-Legendre nodes on [0, 1] for the Landau integral p(λ) = 1/π ∫₀^∞ exp(-t ln t - λ t) sin(π t) dt.
_NODES, _WEIGHTS = np.polynomial.legendre.leggauss(384)
_NODES = (_NODES + 1) / 2
_WEIGHTS = _WEIGHTS / 2
#: Where the standard Landau density peaks (λ of its mode).
LANDAU_MODE = -0.22278298


def landau_standard(lam: np.ndarray) -> np.ndarray:
    """The standard Landau density at λ (numerical integral). Below λ = -3.8 the density is under 1e-6 of
    its peak and falls double-exponentially: it is taken as 0 there."""
    return _landau_integrals(lam, 1)[0]


def _landau_integrals(lam: np.ndarray, count: int) -> list[np.ndarray]:
    """The density and its first `count` - 1 derivatives by λ, each the same integral with the integrand
    times (-t)^k: one evaluation of the integrand for all of them."""
    lam = np.atleast_1d(np.asarray(lam, dtype=float))
    outs = [np.zeros_like(lam) for _ in range(count)]
    ok = lam > -3.8
    if not ok.any():
        return outs
    ell = lam[ok]
    # Beyond `upper` the integrand is below e^-40 of its largest value.
    upper = np.where(ell >= 0, 45.0 / (1.0 + np.clip(ell, 0, None) / 2), 45.0 + 12.0 * np.abs(ell))
    t = _NODES[None, :] * upper[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        integrand = np.exp(-t * np.log(t) - ell[:, None] * t) * np.sin(np.pi * t)
    integrand = np.nan_to_num(integrand)
    for out in outs:
        out[ok] = (integrand * _WEIGHTS[None, :]).sum(axis=1) * upper / np.pi
        integrand = -t * integrand
    return outs


_TABLE_TOP = 300.0
_TABLE_X = np.concatenate([np.linspace(-3.8, 20, 12000, endpoint=False), np.geomspace(20, _TABLE_TOP, 4000)])
_tables: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None


def landau_tables() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The density and its first and second derivatives at `_TABLE_X` (~1 s of CPU once per process; the
    derivatives are the fits' analytic gradients). A process pool calls this before it forks, so its workers
    inherit the tables instead of each building them."""
    global _tables
    if _tables is None:
        chunks = [_landau_integrals(chunk, 3) for chunk in np.array_split(_TABLE_X, 16)]
        _tables = tuple(np.concatenate([chunk[k] for chunk in chunks]) for k in range(3))  # type: ignore[assignment]
    return _tables  # type: ignore[return-value]


def landau_table() -> np.ndarray:
    """The density at `_TABLE_X`."""
    return landau_tables()[0]


def landau_fast(lam: np.ndarray) -> np.ndarray:
    """`landau_standard` interpolated from a table, with the 1/λ² tail beyond it: fits evaluate the density
    thousands of times."""
    table = landau_table()
    lam = np.asarray(lam, dtype=float)
    out = np.interp(lam, _TABLE_X, table, left=0.0, right=0.0)
    tail = lam > _TABLE_TOP
    if tail.any():
        out[tail] = table[-1] * (_TABLE_TOP / lam[tail]) ** 2
    return out


def landau_fast_derivatives(lam: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`landau_fast` at λ with its first and second derivatives (the tail's derivatives are its own)."""
    table, first, second = landau_tables()
    lam = np.asarray(lam, dtype=float)
    p = np.interp(lam, _TABLE_X, table, left=0.0, right=0.0)
    p1 = np.interp(lam, _TABLE_X, first, left=0.0, right=0.0)
    p2 = np.interp(lam, _TABLE_X, second, left=0.0, right=0.0)
    tail = lam > _TABLE_TOP
    if tail.any():
        beyond = lam[tail]
        p[tail] = table[-1] * (_TABLE_TOP / beyond) ** 2
        p1[tail] = -2 * p[tail] / beyond
        p2[tail] = 6 * p[tail] / beyond**2
    return p, p1, p2


def landau(x: np.ndarray, location: float, scale: float) -> np.ndarray:
    """ROOT's TMath::Landau(x, mpv, sigma) (not normalised by sigma): the density of (x - location)/scale."""
    if scale <= 0:
        return np.full_like(np.asarray(x, dtype=float), np.inf)
    return landau_fast((np.asarray(x, dtype=float) - location) / scale)


def gauss(x: np.ndarray, mean: float, sigma: float) -> np.ndarray:
    """ROOT's TMath::Gaus (peak 1, not normalised)."""
    if sigma <= 0:
        return np.full_like(np.asarray(x, dtype=float), np.inf)
    return np.exp(-0.5 * ((np.asarray(x, dtype=float) - mean) / sigma) ** 2)


_G_NODES, _G_WEIGHTS = np.polynomial.hermite_e.hermegauss(24)
_G_WEIGHTS = _G_WEIGHTS / _G_WEIGHTS.sum()


def landau_gauss(x: np.ndarray, width: float, mpv: float, area: float, sigma: float) -> np.ndarray:
    """Landau (scale `width`, most probable value `mpv`) convolved with a Gauss of `sigma`, scaled so its
    integral is `area` — the energy-loss shape of a thin silicon sensor."""
    x = np.asarray(x, dtype=float)
    if width <= 0 or sigma < 0:
        return np.full_like(x, np.inf)
    location = mpv - LANDAU_MODE * width  # the parameter is the true most probable value
    shifted = x[:, None] - sigma * _G_NODES[None, :]
    density = landau_fast(((shifted - location) / width).ravel()).reshape(shifted.shape) / width
    return area * (density * _G_WEIGHTS[None, :]).sum(axis=1)
