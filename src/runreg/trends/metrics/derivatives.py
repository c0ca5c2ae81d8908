"""The fit models' derivatives by their parameters (value, Jacobian, Hessian per bin) and the χ²'s."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from runreg.trends.metrics.shapes import landau_fast_derivatives

#: A model's value at each x (m), its Jacobian (m × n) and Hessian (m × n × n) by the n parameters.
Derivatives = tuple[np.ndarray, np.ndarray, np.ndarray]
Shape = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray, np.ndarray]]


def gauss_standard_derivatives(u: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """exp(-u²/2) with its first and second derivatives."""
    g = np.exp(-0.5 * u * u)
    return g, -u * g, (u * u - 1) * g


def location_scale(
    shape: Shape, x: np.ndarray, location: float, scale: float, amplitude: float, second: bool = True
) -> Derivatives:
    """amplitude · s(λ), λ = (x − location)/scale, by (location, scale, amplitude): with a = amplitude,
    ∂λ/∂location = −1/scale and ∂λ/∂scale = −λ/scale, the chain rule written out."""
    lam = (x - location) / scale
    s, s1, s2 = shape(lam)
    inverse = 1 / scale
    a1 = amplitude * s1 * inverse
    jacobian = np.empty((x.size, 3))
    jacobian[:, 0] = -a1
    jacobian[:, 1] = -a1 * lam
    jacobian[:, 2] = s
    hessian = np.zeros((x.size, 3, 3))
    if second:
        a2 = amplitude * s2 * inverse * inverse
        hessian[:, 0, 0] = a2
        hessian[:, 0, 1] = hessian[:, 1, 0] = a2 * lam + a1 * inverse
        hessian[:, 1, 1] = (a2 * lam + 2 * a1 * inverse) * lam
        hessian[:, 0, 2] = hessian[:, 2, 0] = -s1 * inverse
        hessian[:, 1, 2] = hessian[:, 2, 1] = -s1 * inverse * lam
    return amplitude * s, jacobian, hessian


def landau_model(x: np.ndarray, mpv: float, sigma: float, norm: float, second: bool = True) -> Derivatives:
    return location_scale(landau_fast_derivatives, x, mpv, sigma, norm, second)


def gauss_model(x: np.ndarray, mean: float, sigma: float, norm: float, second: bool = True) -> Derivatives:
    return location_scale(gauss_standard_derivatives, x, mean, sigma, norm, second)


def gauss_landau_model(
    x: np.ndarray,
    mpv: float,
    sigma: float,
    a_landau: float,
    a_gauss: float,
    width: float,
    second: bool = True,
) -> Derivatives:
    """a_landau · Landau((x − mpv)/sigma) + a_gauss · Gauss((x − mpv)/width): the parameters (0, 1, 2) of
    the first term and (0, 4, 3) of the second."""
    landau_part = location_scale(landau_fast_derivatives, x, mpv, sigma, a_landau, second)
    gauss_part = location_scale(gauss_standard_derivatives, x, mpv, width, a_gauss, second)
    order = [0, 4, 3]
    jacobian = np.zeros((x.size, 5))
    jacobian[:, :3] = landau_part[1]
    jacobian[:, order] += gauss_part[1]
    hessian = np.zeros((x.size, 5, 5))
    if second:
        hessian[:, :3, :3] = landau_part[2]
        hessian[:, [[0], [4], [3]], order] += gauss_part[2]
    return landau_part[0] + gauss_part[0], jacobian, hessian


def chi2_gradient(y: np.ndarray, e: np.ndarray, derivatives: Derivatives) -> np.ndarray:
    """∂/∂p of Σ((y − f)/e)²."""
    f, jacobian, _ = derivatives
    return -2 * ((y - f) / e**2) @ jacobian


def chi2_hessian(y: np.ndarray, e: np.ndarray, derivatives: Derivatives) -> np.ndarray:
    """∂²/∂p∂p of Σ((y − f)/e)²: 2 Σ (J_i J_j − (y − f) H_ij)/e², the exact matrix Hesse estimates."""
    f, jacobian, hessian = derivatives
    inverse = 1 / e**2
    return 2 * (jacobian.T * inverse) @ jacobian - 2 * np.tensordot((y - f) * inverse, hessian, axes=1)


def chi2_gauss_newton(e: np.ndarray, derivatives: Derivatives) -> np.ndarray:
    """2 Σ J_i J_j / e²: the χ²'s second derivatives without the residuals' term, never negative."""
    _, jacobian, _ = derivatives
    return 2 * (jacobian.T / e**2) @ jacobian
