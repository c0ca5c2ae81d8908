"""The `fits` metrics: least-squares fits of Landau, Gauss and constant shapes with iminuit (hdqm §4.2).

Each fit uses the bins of the window with a non-zero error (Neyman χ²), once, from the configured starting
values; a fit that does not converge, or whose parameter is outside its accepted range, gives no point. Migrad
and Hesse get the χ²'s exact gradient and second derivatives (`derivatives`) where the model has them.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from iminuit import Minuit
from iminuit.warnings import IMinuitWarning

from runreg.trends.histogram import Histogram
from runreg.trends.metrics import derivatives
from runreg.trends.metrics.base import Inputs, Metric, Undefined, register
from runreg.trends.metrics.shapes import gauss, landau, landau_gauss

fits = register("fits")


@dataclass(frozen=True)
class Model:
    """What a fit minimises with: the model's value at x, and its value with the derivatives by the
    parameters (None: Minuit's finite differences)."""

    value: Callable[..., np.ndarray]
    derivatives: Callable[..., derivatives.Derivatives] | None


def window(h: Histogram, low: float, high: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Centres, contents and errors of the in-range bins whose centre lies in [low, high], errors > 0."""
    x, y, e = h.x_centers, h.in_range(), h.in_range_errors()
    keep = (x >= low) & (x <= high) & (e > 0)
    if int(keep.sum()) < 3:
        raise Undefined(f"fewer than 3 filled bins in [{low}, {high}]")
    return x[keep], y[keep], e[keep]


def fit(
    model: Model, data: tuple[np.ndarray, np.ndarray, np.ndarray], start: Sequence[float], limits=None
) -> tuple[np.ndarray, np.ndarray]:  # noqa: ANN001
    x, y, e = data

    def chi2(*parameters: float) -> float:  # LeastSquares' χ² without its per-call checks and copies
        z = (y - model.value(x, *parameters)) / e
        return float(np.sum(z * z))

    names = [f"p{i}" for i in range(len(start))]
    if model.derivatives is None:
        minuit = Minuit(chi2, *start, name=names)
    else:
        minuit = _with_derivatives(chi2, model.derivatives, data, start, names)
    minuit.errordef = Minuit.LEAST_SQUARES
    if limits:
        minuit.limits = limits
    minuit.print_level = 0
    minuit.migrad(ncall=2000)
    if not minuit.valid:
        raise Undefined("the fit did not converge")
    minuit.hesse()
    return np.asarray(minuit.values), np.asarray(minuit.errors)


def _with_derivatives(
    chi2: Callable[..., float],
    model: Callable[..., derivatives.Derivatives],
    data: tuple[np.ndarray, np.ndarray, np.ndarray],
    start: Sequence[float],
    names: list[str],
) -> Minuit:
    x, y, e = data

    def gradient(*parameters: float) -> np.ndarray:
        return derivatives.chi2_gradient(y, e, model(x, *parameters, second=False))

    seeded = False

    def hessian(*parameters: float) -> np.ndarray:
        # Migrad's first matrix is the diagonal (|∂²χ²/∂p²|), as Minuit seeds itself without derivatives:
        # the full matrix far from the minimum is often not positive and leads Migrad to other minima.
        nonlocal seeded
        full = derivatives.chi2_hessian(y, e, model(x, *parameters))
        if seeded:
            return full
        seeded = True
        diagonal = np.abs(np.diag(full))
        return np.diag(np.where(diagonal > 1e-12, diagonal, 1.0))

    # Minuit2 asks for the diagonal alone when a matrix is not positive (iminuit warns it is never used)
    def g2(*parameters: float) -> np.ndarray:
        return np.diag(derivatives.chi2_hessian(y, e, model(x, *parameters)))

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", IMinuitWarning)
        return Minuit(chi2, *start, grad=gradient, g2=g2, hessian=hessian, name=names)


def accepted(values: np.ndarray, errors: np.ndarray, par: int, high: float = math.inf) -> tuple[float, float]:
    if not 0 <= par < len(values):
        raise Undefined(f"the fit has no parameter {par}")
    if not 0 < values[par] < high:
        raise Undefined(f"parameter {par} = {values[par]:.4g} is outside (0, {high:g})")
    return float(values[par]), float(errors[par])


def _landau_fit(
    data: tuple[np.ndarray, np.ndarray, np.ndarray], start: Sequence[float]
) -> tuple[np.ndarray, np.ndarray]:
    """A Landau fit from the configured start; if it does not converge, once more from the data (peak bin
    centre, a tenth of the window, the amplitude of the maximum) — a far start should not lose the point.
    A "converged" fit whose most probable value left the window (Minuit can run down a flat valley to
    -1e9 on a tail) is not a fit of these data either, and gets the same second start."""
    x, y, _ = data
    try:
        values, errors = fit(LANDAU, data, start, _POSITIVE_SCALE)
        if x[0] <= values[0] <= x[-1]:
            return values, errors
    except Undefined:
        pass
    peak = int(np.argmax(y))
    return fit(
        LANDAU, data, [float(x[peak]), float(x[-1] - x[0]) / 10, float(y[peak]) * 5.5], _POSITIVE_SCALE
    )


def _landau_model(x: np.ndarray, mpv: float, sigma: float, norm: float) -> np.ndarray:
    return norm * landau(x, mpv, sigma)


def _gauss_model(x: np.ndarray, mean: float, sigma: float, norm: float) -> np.ndarray:
    return norm * gauss(x, mean, sigma)


def _gauss_landau_model(
    x: np.ndarray, mpv: float, sigma: float, a_landau: float, a_gauss: float, width: float
) -> np.ndarray:
    return a_landau * landau(x, mpv, sigma) + a_gauss * gauss(x, mpv, width)


LANDAU = Model(_landau_model, derivatives.landau_model)
GAUSS = Model(_gauss_model, derivatives.gauss_model)
GAUSS_LANDAU = Model(_gauss_landau_model, derivatives.gauss_landau_model)
# Landau ⊗ Gauss fits of real spectra have several minima close together: Migrad's path with exact
# derivatives ended in other ones (or outside the accepted range) for 14 of 120 simulated runs, so this fit
# keeps Minuit's finite differences and the values it always gave.
LANDAU_GAUSS = Model(landau_gauss, None)


def _start(defaults: Sequence[float], h: Histogram, count: int) -> list[float]:
    """Starting values: the configured ones, then the histogram maximum for the amplitude."""
    values = list(defaults[:count])
    if len(values) < count:
        values.append(max(h.maximum(), 1.0) * 5.0)  # Landau peaks at 0.18 of its norm
    return values


_POSITIVE_SCALE = [(None, None), (1e-9, None), (0, None)]


@dataclass(frozen=True)
class WindowFit(Metric):
    """A fit on [min, max] from the starting values `defaults`, returning parameter `par`."""

    par: int
    min: float
    max: float
    defaults: tuple[float, ...] = ()


@fits
@dataclass(frozen=True)
class Landau(WindowFit):
    def compute(self, inputs: Inputs) -> tuple[float, float]:
        h = inputs.main
        data = window(h, self.min, self.max)
        start = _start(self.defaults or ((self.min + self.max) / 2, (self.max - self.min) / 10), h, 3)
        return accepted(*_landau_fit(data, start), self.par)


def _max_centre(h: Histogram) -> float:
    contents = h.in_range()
    if contents.sum() <= 0:
        raise Undefined("the histogram is empty")
    k = int(np.argmax(contents))
    centres = h.x_centers
    return float((centres[k] + centres[min(k + 1, h.nx - 1)]) / 2)


@fits
@dataclass(frozen=True)
class LandauAroundMax(Metric):
    par: int
    lowFrac: float  # noqa: N815
    highFrac: float  # noqa: N815
    hLimit: float  # noqa: N815

    def compute(self, inputs: Inputs) -> tuple[float, float]:
        h = inputs.main
        c = _max_centre(h)
        data = window(h, c * self.lowFrac, c * self.highFrac)
        start = [c, abs(c) / 10 or 1.0, h.maximum() * 5.0]
        return accepted(*_landau_fit(data, start), self.par, self.hLimit)


@fits
@dataclass(frozen=True)
class LandauAroundMaxBin(Metric):
    par: int
    width: float

    def compute(self, inputs: Inputs) -> tuple[float, float]:
        h = inputs.main
        contents = h.in_range()
        if contents.sum() <= 0:
            raise Undefined("the histogram is empty")
        c = float(h.x_centers[int(np.argmax(contents))])
        data = window(h, c - self.width, c + self.width)
        start = [c, self.width / 4 or 1.0, h.maximum() * 5.0]
        return accepted(*_landau_fit(data, start), self.par)


@fits
@dataclass(frozen=True)
class LandauTest(Metric):
    """Landau in window 1 before run `turnRun` (starting values ×1.58), window 2 from it on."""

    par: int
    min1: float
    max1: float
    min2: float
    max2: float
    turnRun: int  # noqa: N815
    defaults: tuple[float, ...] = ()

    def compute(self, inputs: Inputs) -> tuple[float, float]:
        h = inputs.main
        late = inputs.run >= self.turnRun
        low, high = (self.min2, self.max2) if late else (self.min1, self.max1)
        defaults = self.defaults or ((low + high) / 2, (high - low) / 10)
        start = _start(defaults if late else [v * 1.58 for v in defaults], h, 3)
        return accepted(*_landau_fit(window(h, low, high), start), self.par, 60000)


@fits
@dataclass(frozen=True)
class Gaussian(WindowFit):
    def compute(self, inputs: Inputs) -> tuple[float, float]:
        h = inputs.main
        data = window(h, self.min, self.max)
        start = list(self.defaults[:2]) or [(self.min + self.max) / 2, (self.max - self.min) / 4]
        start = [*start, h.maximum()][:3]
        return accepted(*fit(GAUSS, data, start, _POSITIVE_SCALE), self.par)


@fits
@dataclass(frozen=True)
class GauLand(WindowFit):
    """Landau plus Gauss sharing their location (parameter 0), each amplitude starting at max/2."""

    def compute(self, inputs: Inputs) -> tuple[float, float]:
        h = inputs.main
        data = window(h, self.min, self.max)
        loc, scale = (list(self.defaults[:2]) + [(self.min + self.max) / 2, (self.max - self.min) / 10])[:2]

        start = [loc, scale, h.maximum() / 2 / 0.18, h.maximum() / 2, scale]
        limits = [(None, None), (1e-9, None), (0, None), (0, None), (1e-9, None)]
        return accepted(*fit(GAUSS_LANDAU, data, start, limits), self.par)


@fits
@dataclass(frozen=True)
class LanGau(Metric):
    """Landau ⊗ Gauss (parameters: 0 width, 1 most probable value, 2 area, 3 Gauss sigma) — the original
    needed a compiled macro that was never loaded; accepted when 0 < p[par] < controlVal."""

    par: int
    min: float
    max: float
    controlVal: float  # noqa: N815
    defaults: tuple[float, ...] = ()

    def compute(self, inputs: Inputs) -> tuple[float, float]:
        h = inputs.main
        data = window(h, self.min, self.max)
        x, y, _ = data
        width = float(np.diff(h.x_edges).mean())
        fallback = [
            (self.max - self.min) / 20,
            float(x[np.argmax(y)]),
            float(y.sum() * width),
            (self.max - self.min) / 20,
        ]
        start = list(self.defaults[:4]) + fallback[len(self.defaults[:4]) :]
        limits = [(1e-9, None), (None, None), (0, None), (0, None)]
        return accepted(*fit(LANDAU_GAUSS, data, start, limits), self.par, self.controlVal)


def _flat(data: tuple[np.ndarray, np.ndarray, np.ndarray]) -> tuple[float, float]:
    """The least-squares constant: the inverse-variance weighted mean and its error (exact, no iteration)."""
    _, y, e = data
    w = 1 / e**2
    return float((w * y).sum() / w.sum()), float(1 / math.sqrt(w.sum()))


@fits
@dataclass(frozen=True)
class FlatLine(Metric):
    par: int
    min: float
    max: float
    default: float = 0.0

    def compute(self, inputs: Inputs) -> tuple[float, float]:
        if self.par != 0:
            raise Undefined("a flat line has only parameter 0")
        return _flat(window(inputs.main, self.min, self.max))


@fits
@dataclass(frozen=True)
class FlatLineXcut(Metric):
    """Flat line from x = 1 to the centre of the bin 3 before the last filled one."""

    par: int
    min: float
    max: float
    default: float = 0.0

    def compute(self, inputs: Inputs) -> tuple[float, float]:
        h = inputs.main
        filled = np.nonzero(h.in_range() > 0)[0]
        if filled.size == 0 or filled[-1] < 3:
            raise Undefined("too few filled bins")
        if self.par != 0:
            raise Undefined("a flat line has only parameter 0")
        return _flat(window(h, 1.0, float(h.x_centers[filled[-1] - 3])))
