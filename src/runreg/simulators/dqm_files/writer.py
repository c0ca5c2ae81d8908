"""Turn filled samples into ROOT histogram objects (TH1D, TH2D, TProfile) with ROOT's fill statistics."""

from __future__ import annotations

from typing import Any

import numpy as np
from uproot.writing import identify

from runreg.simulators.dqm_files.catalogue import Filled, MonitorElement


def _edges(axis: tuple[int, float, float]) -> np.ndarray:
    n, lo, hi = axis
    return np.linspace(lo, hi, n + 1)


def _flow_index(values: np.ndarray, axis: tuple[int, float, float]) -> np.ndarray:
    """ROOT bin number (0 underflow .. n+1 overflow) of each value."""
    return np.searchsorted(_edges(axis), values, side="right")


def _axis(name: str, axis: tuple[int, float, float], labels: tuple[str, ...] = ()) -> Any:
    n, lo, hi = axis
    found = None
    if labels:
        found = identify.to_THashList([identify.to_TObjString(label) for label in labels])
    return identify.to_TAxis(name, "", n, float(lo), float(hi), fLabels=found)


def to_root(me: MonitorElement, filled: Filled) -> Any:
    if me.kind == "TH1":
        return _th1(me, filled)
    if me.kind == "TH2":
        return _th2(me, filled)
    if me.kind == "TProfile":
        return _profile(me, filled)
    raise ValueError(me.kind)


def _name(me: MonitorElement) -> str:
    return me.path.rsplit("/", 1)[-1]


def _th1(me: MonitorElement, filled: Filled) -> Any:
    n = me.x[0]
    if filled.contents is not None:  # an efficiency curve: contents and errors as given
        data = np.concatenate([[0.0], filled.contents, [0.0]])
        sumw2 = np.concatenate(
            [[0.0], (filled.errors if filled.errors is not None else np.zeros(n)) ** 2, [0.0]]
        )
        x = (_edges(me.x)[:-1] + _edges(me.x)[1:]) / 2
        stats = (float(filled.contents.sum()), float((filled.contents**2).sum()))
        sums = (float((filled.contents * x).sum()), float((filled.contents * x * x).sum()))
        entries = float(n)
    else:
        x = np.asarray(filled.x, dtype=float)
        w = np.ones_like(x) if filled.weights is None else filled.weights
        index = _flow_index(x, me.x)
        data = np.bincount(index, weights=w, minlength=n + 2).astype(float)
        sumw2 = np.bincount(index, weights=w * w, minlength=n + 2).astype(float)
        inside = (index >= 1) & (index <= n)
        wi, xi = w[inside], x[inside]
        stats = (float(wi.sum()), float((wi * wi).sum()))
        sums = (float((wi * xi).sum()), float((wi * xi * xi).sum()))
        entries = float(x.size)
    return identify.to_TH1x(
        fName=_name(me), fTitle=_name(me), data=data, fEntries=entries, fTsumw=stats[0], fTsumw2=stats[1],
        fTsumwx=sums[0], fTsumwx2=sums[1], fSumw2=sumw2, fXaxis=_axis("xaxis", me.x, me.labels),
    )  # fmt: skip


def _th2(me: MonitorElement, filled: Filled) -> Any:
    assert me.y is not None
    x, y = np.asarray(filled.x, dtype=float), np.asarray(filled.y, dtype=float)
    w = np.ones_like(x) if filled.weights is None else filled.weights
    nx, ny = me.x[0], me.y[0]
    ix, iy = _flow_index(x, me.x), _flow_index(y, me.y)
    flat = ix * (ny + 2) + iy
    size = (nx + 2) * (ny + 2)
    data = np.bincount(flat, weights=w, minlength=size).reshape(nx + 2, ny + 2)
    sumw2 = np.bincount(flat, weights=w * w, minlength=size).reshape(nx + 2, ny + 2)
    inside = (ix >= 1) & (ix <= nx) & (iy >= 1) & (iy <= ny)
    wi, xi, yi = w[inside], x[inside], y[inside]
    # ROOT stores 2D contents with x running fastest.
    return identify.to_TH2x(
        fName=_name(me), fTitle=_name(me), data=data.T.ravel().astype(float), fEntries=float(x.size),
        fTsumw=float(wi.sum()), fTsumw2=float((wi * wi).sum()), fTsumwx=float((wi * xi).sum()),
        fTsumwx2=float((wi * xi * xi).sum()), fTsumwy=float((wi * yi).sum()),
        fTsumwy2=float((wi * yi * yi).sum()), fTsumwxy=float((wi * xi * yi).sum()),
        fSumw2=sumw2.T.ravel().astype(float),
        fXaxis=_axis("xaxis", me.x), fYaxis=_axis("yaxis", me.y),
    )  # fmt: skip


def _profile(me: MonitorElement, filled: Filled) -> Any:
    x, y = np.asarray(filled.x, dtype=float), np.asarray(filled.y, dtype=float)
    w = np.ones_like(x) if filled.weights is None else filled.weights
    n = me.x[0]
    index = _flow_index(x, me.x)

    def per_bin(values: np.ndarray) -> np.ndarray:
        return np.bincount(index, weights=values, minlength=n + 2).astype(float)

    inside = (index >= 1) & (index <= n)
    wi, xi, yi = w[inside], x[inside], y[inside]
    return identify.to_TProfile(
        fName=_name(me), fTitle=_name(me), data=per_bin(w * y), fEntries=float(x.size),
        fTsumw=float(wi.sum()), fTsumw2=float((wi * wi).sum()), fTsumwx=float((wi * xi).sum()),
        fTsumwx2=float((wi * xi * xi).sum()), fTsumwy=float((wi * yi).sum()),
        fTsumwy2=float((wi * yi * yi).sum()), fSumw2=per_bin(w * y * y), fBinEntries=per_bin(w),
        fBinSumw2=per_bin(w * w), fXaxis=_axis("xaxis", me.x),
    )  # fmt: skip
