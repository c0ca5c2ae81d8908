"""Histograms for the metric tests, filled with the `hist` package (an independent implementation)."""

from __future__ import annotations

import hist
import numpy as np

from runreg.trends.histogram import Histogram


def th1(samples, bins: int, lo: float, hi: float, weights=None, labels: tuple[str, ...] = ()) -> Histogram:  # noqa: ANN001
    h = hist.Hist(hist.axis.Regular(bins, lo, hi), storage=hist.storage.Weight())
    h.fill(np.asarray(samples, dtype=float), weight=1.0 if weights is None else weights)
    return Histogram(
        kind="TH1",
        values=h.values(flow=True).astype(float),
        errors=np.sqrt(h.variances(flow=True)),
        x_edges=h.axes[0].edges,
        entries=float(len(samples)),
        x_labels=labels,
    )


def th2(x, y, nx: int, xlo: float, xhi: float, ny: int, ylo: float, yhi: float, weights=None) -> Histogram:  # noqa: ANN001
    h = hist.Hist(
        hist.axis.Regular(nx, xlo, xhi), hist.axis.Regular(ny, ylo, yhi), storage=hist.storage.Weight()
    )
    h.fill(np.asarray(x, dtype=float), np.asarray(y, dtype=float), weight=1.0 if weights is None else weights)
    return Histogram(
        kind="TH2",
        values=h.values(flow=True).astype(float),
        errors=np.sqrt(h.variances(flow=True)),
        x_edges=h.axes[0].edges,
        y_edges=h.axes[1].edges,
        entries=float(len(x)),
    )


def from_contents(contents, lo: float, hi: float, errors=None) -> Histogram:  # noqa: ANN001
    """A TH1 with the given in-range contents (e.g. an efficiency curve), flows empty."""
    contents = np.asarray(contents, dtype=float)
    values = np.concatenate([[0.0], contents, [0.0]])
    errs = np.concatenate(
        [[0.0], np.asarray(errors, dtype=float) if errors is not None else np.sqrt(np.abs(contents)), [0.0]]
    )
    return Histogram(
        kind="TH1",
        values=values,
        errors=errs,
        x_edges=np.linspace(lo, hi, len(contents) + 1),
        entries=float(len(contents)),
    )


def map2d(contents) -> Histogram:  # noqa: ANN001
    """A TH2 with the given in-range cells (nx × ny) on unit bins starting at 0."""
    contents = np.asarray(contents, dtype=float)
    nx, ny = contents.shape
    values = np.zeros((nx + 2, ny + 2))
    values[1:-1, 1:-1] = contents
    return Histogram(
        kind="TH2",
        values=values,
        errors=np.sqrt(np.abs(values)),
        x_edges=np.arange(nx + 1.0),
        y_edges=np.arange(ny + 1.0),
        entries=float(contents.sum()),
    )
