"""A histogram value of our own (contents, errors, edges, entries, statistics) and ROOT's summary arithmetic.

Arrays include the under- and overflow bins, so index i is ROOT's bin number i on every axis (1..nx are in
range). Profiles keep what ROOT's GetBinContent/GetBinError return (bin means and their errors) plus the
entries per bin. Values are immutable and serialise to compact bytes, so trends can be recomputed without the
ROOT files.
"""

from __future__ import annotations

import json
import math
import zlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np

KINDS = ("TH1", "TH2", "TProfile", "TProfile2D")
#: Sums ROOT keeps while filling (fTsumw, fTsumw2, fTsumwx, ...); absent ones are derived from the bins.
STAT_KEYS = ("tsumw", "tsumw2", "tsumwx", "tsumwx2", "tsumwy", "tsumwy2", "tsumwxy")
_FORMAT = 1


@dataclass(frozen=True, eq=False)
class Histogram:
    kind: str
    values: np.ndarray
    errors: np.ndarray
    x_edges: np.ndarray
    y_edges: np.ndarray | None = None
    entries: float = 0.0
    stats: dict[str, float] = field(default_factory=dict)
    bin_entries: np.ndarray | None = None  # profiles only
    x_labels: tuple[str, ...] = ()
    y_labels: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown histogram kind {self.kind!r}")
        expected = (
            (len(self.x_edges) + 1,)
            if self.y_edges is None
            else (len(self.x_edges) + 1, len(self.y_edges) + 1)
        )
        if self.values.shape != expected or self.errors.shape != expected:
            raise ValueError(f"contents of shape {self.values.shape} do not match the edges {expected}")

    # -- shape --------------------------------------------------------------------------------------
    @property
    def dimension(self) -> int:
        return 1 if self.y_edges is None else 2

    @property
    def is_profile(self) -> bool:
        return self.kind.startswith("TProfile")

    @property
    def nx(self) -> int:
        return len(self.x_edges) - 1

    @property
    def ny(self) -> int:
        return 0 if self.y_edges is None else len(self.y_edges) - 1

    @property
    def x_centers(self) -> np.ndarray:
        return (self.x_edges[:-1] + self.x_edges[1:]) / 2

    @property
    def y_centers(self) -> np.ndarray:
        assert self.y_edges is not None
        return (self.y_edges[:-1] + self.y_edges[1:]) / 2

    def in_range(self) -> np.ndarray:
        """The contents without under/overflow."""
        return self.values[1:-1] if self.dimension == 1 else self.values[1:-1, 1:-1]

    def in_range_errors(self) -> np.ndarray:
        return self.errors[1:-1] if self.dimension == 1 else self.errors[1:-1, 1:-1]

    # -- bins ---------------------------------------------------------------------------------------
    def find_bin(self, value: float, axis: int = 1) -> int:
        """ROOT's FindBin: 0 below the axis, n+1 at or above its upper edge."""
        edges = self.x_edges if axis == 1 else self.y_edges
        assert edges is not None
        return int(np.searchsorted(edges, value, side="right"))

    def label_bin(self, label: str, axis: int = 1) -> int:
        labels = self.x_labels if axis == 1 else self.y_labels
        try:
            return labels.index(label) + 1
        except ValueError:
            raise KeyError(f"no bin labelled {label!r}") from None

    def bin_of(self, bin_or_label: int | str, axis: int = 1) -> int:
        if isinstance(bin_or_label, str):
            return self.label_bin(bin_or_label, axis)
        limit = (self.nx if axis == 1 else self.ny) + 1
        if not 0 <= bin_or_label <= limit:
            raise KeyError(f"bin {bin_or_label} is outside 0..{limit}")
        return bin_or_label

    def content(self, i: int, j: int | None = None) -> float:
        return float(self.values[i] if j is None else self.values[i, j])

    def error(self, i: int, j: int | None = None) -> float:
        return float(self.errors[i] if j is None else self.errors[i, j])

    def maximum(self) -> float:
        """GetMaximum: the largest in-range content."""
        return float(self.in_range().max()) if self.in_range().size else 0.0

    def sum_of_weights(self) -> float:
        return float(self.in_range().sum())

    # -- ROOT statistics ----------------------------------------------------------------------------
    def _sums(self) -> dict[str, float]:
        """The fill sums, from the stored statistics when ROOT kept them, else from the in-range bins."""
        if self.stats.get("tsumw"):
            return self.stats
        if self.is_profile and self.bin_entries is not None:
            w = self.bin_entries[1:-1] if self.dimension == 1 else self.bin_entries[1:-1, 1:-1]
            w2 = w
        else:
            # Σw² of the fills is the sum of the bins' variances (ROOT's fSumw2).
            w, w2 = self.in_range(), self.in_range_errors() ** 2
        if self.dimension == 1:
            x = self.x_centers
            sums = {
                "tsumw": w.sum(),
                "tsumw2": w2.sum(),
                "tsumwx": (w * x).sum(),
                "tsumwx2": (w * x * x).sum(),
            }
            if self.is_profile:
                y = self.in_range()
                sums |= {"tsumwy": (w * y).sum(), "tsumwy2": (w * y * y).sum()}
            return {k: float(v) for k, v in sums.items()}
        x, y = np.meshgrid(self.x_centers, self.y_centers, indexing="ij")
        sums = {
            "tsumw": w.sum(), "tsumw2": w2.sum(), "tsumwx": (w * x).sum(), "tsumwx2": (w * x * x).sum(),
            "tsumwy": (w * y).sum(), "tsumwy2": (w * y * y).sum(), "tsumwxy": (w * x * y).sum(),
        }  # fmt: skip
        return {k: float(v) for k, v in sums.items()}

    def mean(self, axis: int = 1) -> float:
        """GetMean(axis): x or y; for a profile, axis 2 is the mean of the profiled quantity."""
        sums = self._sums()
        if not sums.get("tsumw"):
            return 0.0
        key = "tsumwx" if axis == 1 else "tsumwy"
        return sums.get(key, 0.0) / sums["tsumw"]

    def std_dev(self, axis: int = 1) -> float:
        """GetStdDev(axis) (== GetRMS): the spread of the filled values."""
        sums = self._sums()
        if not sums.get("tsumw"):
            return 0.0
        mean = self.mean(axis)
        key = "tsumwx2" if axis == 1 else "tsumwy2"
        return math.sqrt(max(sums.get(key, 0.0) / sums["tsumw"] - mean * mean, 0.0))

    def effective_entries(self) -> float:
        sums = self._sums()
        return sums["tsumw"] ** 2 / sums["tsumw2"] if sums.get("tsumw2") else 0.0

    def mean_error(self, axis: int = 1) -> float:
        neff = self.effective_entries()
        return self.std_dev(axis) / math.sqrt(neff) if neff > 0 else 0.0

    def std_dev_error(self, axis: int = 1) -> float:
        neff = self.effective_entries()
        return self.std_dev(axis) / math.sqrt(2 * neff) if neff > 0 else 0.0

    def z_mean(self) -> tuple[float, float]:
        """The mean content of the non-empty in-range bins and its standard error (a 2D map's 'z' mean)."""
        filled = self.in_range()[self.in_range() != 0]
        if filled.size == 0:
            return 0.0, 0.0
        return float(filled.mean()), float(filled.std() / math.sqrt(filled.size))

    # -- display ------------------------------------------------------------------------------------
    def merged(self, fx: int, fy: int = 1) -> Histogram:
        """Adjacent in-range bins merged by `fx` along x (and `fy` along y; the last group may be shorter),
        flow bins kept alone: sums for histograms, entry-weighted means for profiles. Labels go."""
        if fx <= 1 and fy <= 1:
            return self
        values, errors = self.values, self.errors
        weights = self.bin_entries if self.is_profile and self.bin_entries is not None else None
        if self.is_profile:
            weights = np.ones_like(values) if weights is None else weights
            values, errors = values * weights, errors * weights
        sums, squares = values, errors**2
        x_edges, y_edges = _merged_edges(self.x_edges, fx), self.y_edges
        groups = [(0, _starts(self.nx, fx))]
        if self.y_edges is not None:
            y_edges = _merged_edges(self.y_edges, fy)
            groups.append((1, _starts(self.ny, fy)))
        for axis, starts in groups:
            sums = np.add.reduceat(sums, starts, axis=axis)
            squares = np.add.reduceat(squares, starts, axis=axis)
            if weights is not None:
                weights = np.add.reduceat(weights, starts, axis=axis)
        if weights is not None:
            safe = np.where(weights > 0, weights, 1.0)
            sums, squares = np.where(weights > 0, sums / safe, 0.0), squares / safe**2
        return Histogram(
            kind=self.kind, values=sums, errors=np.sqrt(squares), x_edges=x_edges, y_edges=y_edges,
            entries=self.entries, stats=self.stats, bin_entries=weights,
        )  # fmt: skip

    # -- storage ------------------------------------------------------------------------------------
    def to_bytes(self) -> bytes:
        arrays = {"values": self.values, "errors": self.errors, "x_edges": self.x_edges}
        if self.y_edges is not None:
            arrays["y_edges"] = self.y_edges
        if self.bin_entries is not None:
            arrays["bin_entries"] = self.bin_entries
        header = {
            "format": _FORMAT,
            "kind": self.kind,
            "entries": self.entries,
            "stats": self.stats,
            "x_labels": list(self.x_labels),
            "y_labels": list(self.y_labels),
            "arrays": {name: list(array.shape) for name, array in arrays.items()},
        }
        head = json.dumps(header, separators=(",", ":")).encode()
        body = b"".join(np.ascontiguousarray(a, dtype="<f8").tobytes() for a in arrays.values())
        return zlib.compress(len(head).to_bytes(4, "little") + head + body, 1)

    @classmethod
    def from_bytes(cls, blob: bytes) -> Histogram:
        raw = zlib.decompress(blob)
        size = int.from_bytes(raw[:4], "little")
        header: dict[str, Any] = json.loads(raw[4 : 4 + size])
        if header.get("format") != _FORMAT:
            raise ValueError(f"unknown stored histogram format {header.get('format')!r}")
        offset, arrays = 4 + size, {}
        for name, shape in header["arrays"].items():
            count = int(np.prod(shape))
            arrays[name] = np.frombuffer(raw, dtype="<f8", count=count, offset=offset).reshape(shape)
            offset += count * 8
        return cls(
            kind=header["kind"],
            values=arrays["values"],
            errors=arrays["errors"],
            x_edges=arrays["x_edges"],
            y_edges=arrays.get("y_edges"),
            entries=header["entries"],
            stats=header["stats"],
            bin_entries=arrays.get("bin_entries"),
            x_labels=tuple(header["x_labels"]),
            y_labels=tuple(header["y_labels"]),
        )


def histogram_1d(
    values: np.ndarray,
    edges: np.ndarray,
    *,
    errors: np.ndarray | None = None,
    entries: float | None = None,
    labels: tuple[str, ...] = (),
) -> Histogram:
    """A TH1 from contents with flow bins (length nbins+2); errors default to sqrt(content)."""
    values = np.asarray(values, dtype=float)
    return Histogram(
        kind="TH1",
        values=values,
        errors=np.sqrt(np.abs(values)) if errors is None else np.asarray(errors, dtype=float),
        x_edges=np.asarray(edges, dtype=float),
        entries=float(values.sum() if entries is None else entries),
        x_labels=labels,
    )


def _starts(n: int, factor: int) -> np.ndarray:
    """reduceat indices over n + 2 bins: the underflow, groups of `factor` in-range bins, the overflow."""
    return np.array([0, *range(1, n + 1, max(factor, 1)), n + 1])


def _merged_edges(edges: np.ndarray, factor: int) -> np.ndarray:
    return np.append(edges[:-1][:: max(factor, 1)], edges[-1])
