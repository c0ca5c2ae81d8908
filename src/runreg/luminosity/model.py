"""Per-LS luminosity as dense per-run arrays (/pb), which source is best, and brilcalc's --byls CSV."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import repeat
from typing import Any

import numpy as np

from runreg.kernel.errors import InvalidInput
from runreg.kernel.lumi_units import per_pb

KEYS = ("delivered", "recorded")
OMS = "oms"
BRILCALC = "brilcalc"
#: OMS lumisection attributes holding the integrated luminosity of one LS.
OMS_FIELDS = {"delivered": "delivered_lumi", "recorded": "recorded_lumi"}
#: OMS documents its per-LS luminosity in pb^-1; a page without `meta` units is read in it.
OMS_DEFAULT_UNIT = "pb^{-1}"
MAX_ERRORS_SHOWN = 10


@dataclass(frozen=True, eq=False)
class LumiSeries:
    """One run's per-LS delivered and recorded luminosity from one source, in /pb. Index i is LS i+1;
    NaN where the source has no value. Sums count missing and negative values as 0 (rr_backend §2.2)."""

    run_number: int
    source: str
    normtag: str
    delivered: np.ndarray
    recorded: np.ndarray
    _prefix: dict[str, list[float]] = field(default_factory=dict, repr=False)

    @property
    def ls_count(self) -> int:
        return int(max(len(self.delivered), len(self.recorded)))

    @property
    def measured(self) -> int:
        """LS with a recorded value."""
        return int(np.count_nonzero(~np.isnan(self.recorded)))

    @property
    def label(self) -> str:
        """What a result says about where its luminosity came from: `brilcalc (normtag X)` or `oms`."""
        return label_of(self.source, self.normtag)

    def values(self, key: str) -> np.ndarray:
        return self.delivered if key == "delivered" else self.recorded

    def total(self, key: str) -> float:
        prefix = self._sums(key)
        return float(prefix[-1])

    def over(self, key: str, ranges: Iterable[tuple[int, int]]) -> float:
        """Σ over inclusive LS ranges (LS beyond the series count 0): two lookups per range."""
        prefix = self._sums(key)
        last_known = len(prefix) - 1
        total = 0.0
        for first, last in ranges:
            low, high = min(max(first - 1, 0), last_known), min(max(last, 0), last_known)
            if high > low:
                total += prefix[high] - prefix[low]
        return total

    def _sums(self, key: str) -> list[float]:
        # A Python list: indexing it is several times cheaper than indexing a numpy array element by element.
        prefix = self._prefix.get(key)
        if prefix is None:
            clean = np.nan_to_num(self.values(key), nan=0.0, posinf=0.0, neginf=0.0).clip(min=0.0)
            prefix = self._prefix[key] = np.concatenate(([0.0], np.cumsum(clean))).tolist()
        return prefix


def label_of(source: str, normtag: str) -> str:
    return f"{source} (normtag {normtag})" if normtag else source


def rank(series: LumiSeries) -> int:
    return rank_of(series.source, series.normtag)


def rank_of(source: str, normtag: str) -> int:
    """Which source wins for a run: brilcalc with a normtag over brilcalc without one over OMS online."""
    if source == BRILCALC:
        return 3 if normtag else 2
    return 1


def best(candidates: Iterable[LumiSeries]) -> LumiSeries | None:
    return max(candidates, key=rank, default=None)


def encode(values: np.ndarray) -> bytes:
    return np.asarray(values, dtype="<f8").tobytes()


def decode(blob: bytes) -> np.ndarray:
    return np.frombuffer(blob, dtype="<f8")


def same(a: np.ndarray, b: np.ndarray) -> bool:
    """Equal, NaN included (a growing run changes its arrays; an unchanged one is not rewritten)."""
    return a.shape == b.shape and bool(np.array_equal(a, b, equal_nan=True))


# -- OMS ----------------------------------------------------------------------------------------------------
def from_oms(run_number: int, lumisections: Sequence[Mapping[str, Any]]) -> LumiSeries:
    """Dense arrays from OMS lumisections (already in /pb, numbered 1..N by the client's checks)."""
    arrays = {key: _numbers(ls.get(name) for ls in lumisections) for key, name in OMS_FIELDS.items()}
    return LumiSeries(run_number, OMS, "", arrays["delivered"], arrays["recorded"])


def _numbers(values: Iterable[Any]) -> np.ndarray:
    """Floats of the JSON numbers, NaN for anything else (null, a string, a boolean, an infinity)."""
    out = np.fromiter(
        (value if type(value) is float or type(value) is int else np.nan for value in values), dtype=float
    )
    out[~np.isfinite(out)] = np.nan
    return out


# -- brilcalc -----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class BrilcalcFile:
    """What one `brilcalc lumi --byls -o file.csv` holds: a series per run, the normtag its header names,
    and how many lines were data, comments and LS outside CMS (CMS LS number 0)."""

    series: dict[int, LumiSeries]
    normtag: str
    data_lines: int
    outside_cms: int


@dataclass
class _Columns:
    run_fill: int
    ls: int
    delivered: int
    recorded: int
    width: int
    factor: dict[str, float]


def parse_brilcalc(text: str, *, normtag: str | None = None, max_lines: int = 5_000_000) -> BrilcalcFile:
    """Read brilcalc's --byls CSV (`#run:fill,ls,time,beamstatus,E(GeV),delivered(/pb),recorded(/pb),avgpu,
    source`, comment lines, several runs, any unit). Every line is checked; if any is bad, the error names
    the line numbers and reasons and nothing is returned. `ls` is `<lumi LS>:<CMS LS>`: the CMS number is
    the registry's LS; LS with CMS number 0 were not recorded by CMS and are skipped.

    A year is ~2.6 M lines: they are checked column-wise with numpy first; only a file that fails a check
    is read again line by line, to name its bad lines (the line-by-line reading is the definition; the
    tests hold both to the same answers)."""
    return _columnwise(text, normtag, max_lines) or _line_by_line(text, normtag, max_lines)


def _columnwise(text: str, normtag: str | None, max_lines: int) -> BrilcalcFile | None:
    """The whole file as columns, or None when anything is unusual (the line-by-line reading decides)."""
    lines = text.splitlines()
    if len(lines) > max_lines:
        return None
    header_at = next((i for i, line in enumerate(lines[:100]) if line.lower().startswith("#run:fill")), None)
    if header_at is None or any(line and not line.startswith("#") for line in lines[:header_at]):
        return None
    try:
        columns = _header(lines[header_at], header_at + 1)
    except InvalidInput:
        return None
    header_normtag = next((_normtag_of(x) for x in lines[:header_at] if "norm tag" in x.lower()), "")
    data = [line for line in lines[header_at + 1 :] if line and line[0] != "#"]
    width = columns.width
    if not data or set(map(str.count, data, repeat(",", len(data)))) != {width - 1}:
        return None
    flat = ",".join(data).split(",")
    try:
        runs, _fills = _pairs(flat[columns.run_fill :: width])
        _lumi_ls, cms_ls = _pairs(flat[columns.ls :: width])
        delivered = np.array(flat[columns.delivered :: width], dtype=np.float64) * columns.factor["delivered"]
        recorded = np.array(flat[columns.recorded :: width], dtype=np.float64) * columns.factor["recorded"]
    except ValueError:
        return None
    inside = cms_ls != 0
    if (
        not np.all((runs >= 1) & (runs <= 2**31 - 1))
        or not np.all((cms_ls >= 0) & (cms_ls <= 100_000))
        or not np.all(np.isfinite(delivered) & (delivered >= 0) & np.isfinite(recorded) & (recorded >= 0))
    ):
        return None
    runs, cms_ls, delivered, recorded = runs[inside], cms_ls[inside], delivered[inside], recorded[inside]
    if not len(runs):
        return None
    order = np.lexsort((cms_ls, runs))
    runs, cms_ls, delivered, recorded = runs[order], cms_ls[order], delivered[order], recorded[order]
    if np.any((runs[1:] == runs[:-1]) & (cms_ls[1:] == cms_ls[:-1])):
        return None  # an LS twice: named by the line-by-line reading
    tag = (normtag or "").strip() or header_normtag
    starts = np.flatnonzero(np.r_[True, runs[1:] != runs[:-1]])
    series = {}
    for start, end in zip(starts, [*starts[1:], len(runs)], strict=True):
        run, ls = int(runs[start]), cms_ls[start:end]
        arrays = np.full((2, int(ls[-1])), np.nan)
        arrays[0, ls - 1], arrays[1, ls - 1] = delivered[start:end], recorded[start:end]
        series[run] = LumiSeries(run, BRILCALC, tag, arrays[0], arrays[1])
    return BrilcalcFile(series, tag, len(data), int(np.count_nonzero(~inside)))


def _pairs(values: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """`a:b` strings (run:fill, lumi LS:CMS LS) as two integer arrays; ValueError unless each has one `:`."""
    if set(map(str.count, values, repeat(":", len(values)))) != {1}:
        raise ValueError("not a:b")
    both = np.array(":".join(values).split(":"), dtype=np.int64)
    return both[0::2], both[1::2]


def _line_by_line(text: str, normtag: str | None, max_lines: int) -> BrilcalcFile:
    columns: _Columns | None = None
    header_normtag = ""
    errors: list[str] = []
    per_run: dict[int, dict[int, tuple[float, float]]] = {}
    data_lines = outside = 0
    for number, line in enumerate(text.splitlines(), start=1):
        if number > max_lines:
            raise InvalidInput("file", f"more than {max_lines} lines")
        stripped = line.strip()
        if not stripped:
            continue
        if stripped.startswith("#"):
            if columns is None and stripped.lower().startswith("#run:fill"):
                columns = _header(stripped, number)
            elif columns is None and "norm tag" in stripped.lower() and not header_normtag:
                header_normtag = _normtag_of(stripped)
            continue
        if columns is None:
            raise InvalidInput("file", f"line {number}: data before the `#run:fill,ls,...` header line")
        data_lines += 1
        problem = _data_line(stripped, columns, per_run)
        if problem == "outside":
            outside += 1
        elif problem:
            errors.append(f"line {number}: {problem}")
    if columns is None:
        raise InvalidInput("file", "no `#run:fill,ls,...,delivered(<unit>),recorded(<unit>),...` header line")
    if errors:
        shown = "; ".join(errors[:MAX_ERRORS_SHOWN])
        more = (
            f" (and {len(errors) - MAX_ERRORS_SHOWN} more bad lines)"
            if len(errors) > MAX_ERRORS_SHOWN
            else ""
        )
        raise InvalidInput("file", f"{shown}{more}; nothing was imported")
    if not per_run:
        raise InvalidInput("file", "no lumisection lines: nothing to import")
    tag = (normtag or "").strip() or header_normtag
    series = {run: _series(run, values, tag) for run, values in per_run.items()}
    return BrilcalcFile(series, tag, data_lines, outside)


def _header(line: str, number: int) -> _Columns:
    names = [name.strip().lower() for name in line.lstrip("#").split(",")]

    def position(prefix: str) -> int:
        for index, name in enumerate(names):
            if name == prefix or name.startswith(f"{prefix}("):
                return index
        raise InvalidInput("file", f"line {number}: the header has no `{prefix}` column")

    factor = {}
    for key in KEYS:
        name = names[position(key)]
        unit = name[len(key) :].strip("() ") or "/ub"  # brilcalc's default unit is /ub
        factor[key] = per_pb(unit, field=f"file (line {number}, column {key})")
    return _Columns(
        position("run:fill"), position("ls"), position("delivered"), position("recorded"), len(names), factor
    )


def _normtag_of(line: str) -> str:
    # "#Data tag : 23v1 , Norm tag: normtag_BRIL.json"
    for part in line.lstrip("#").split(","):
        key, _, value = part.partition(":")
        if key.strip().lower() == "norm tag":
            value = value.strip()
            return "" if value.lower() in ("", "none") else value
    return ""


def _data_line(line: str, columns: _Columns, per_run: dict[int, dict[int, tuple[float, float]]]) -> str:
    fields = line.split(",")
    if len(fields) != columns.width:
        return f"{len(fields)} fields, the header has {columns.width}"
    run_text, _, fill_text = fields[columns.run_fill].partition(":")
    lumi_text, _, cms_text = fields[columns.ls].partition(":")
    try:
        run, _fill = int(run_text), int(fill_text or 0)
    except ValueError:
        return f"run:fill {fields[columns.run_fill]!r} is not two integers"
    try:
        _lumi_ls, cms_ls = int(lumi_text), int(cms_text or lumi_text)
    except ValueError:
        return f"ls {fields[columns.ls]!r} is not <lumi LS>:<CMS LS>"
    if run < 1 or run > 2**31 - 1:
        return f"run {run} is out of range"
    if cms_ls == 0:
        return "outside"
    if cms_ls < 0 or cms_ls > 100_000:
        return f"CMS LS {cms_ls} is out of range"
    values = []
    for key, index in (("delivered", columns.delivered), ("recorded", columns.recorded)):
        try:
            value = float(fields[index])
        except ValueError:
            return f"{key} {fields[index]!r} is not a number"
        if not math.isfinite(value) or value < 0:
            return f"{key} {fields[index]!r} must be a finite number >= 0"
        values.append(value * columns.factor[key])
    ls_values = per_run.setdefault(run, {})
    if cms_ls in ls_values:
        return f"run {run} LS {cms_ls} appears twice"
    ls_values[cms_ls] = (values[0], values[1])
    return ""


def _series(run: int, values: Mapping[int, tuple[float, float]], normtag: str) -> LumiSeries:
    delivered, recorded = np.full(max(values), np.nan), np.full(max(values), np.nan)
    for ls, (d, r) in values.items():
        delivered[ls - 1], recorded[ls - 1] = d, r
    return LumiSeries(run, BRILCALC, normtag, delivered, recorded)
