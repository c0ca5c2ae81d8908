"""Compute every configured metric of one DQM file (runs in worker processes; writes nothing)."""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass, field
from pathlib import Path

from runreg.kernel.collector import collector_paused
from runreg.trends.config import TrendConfig
from runreg.trends.histogram import Histogram
from runreg.trends.metrics import Inputs, Undefined, finite
from runreg.trends.metrics.shapes import landau_tables
from runreg.trends.reading import UnreadableFile, read_histograms

ROLES = ("histo1", "histo2", "reference")


@dataclass(frozen=True)
class Point:
    config_key: str
    value: float
    error: float


@dataclass(frozen=True)
class Rejection:
    config_key: str
    reason: str


@dataclass
class FileResult:
    """What a file yields: its MEs (kept for recomputation), points and the reasons of missing points."""

    path: str
    histograms: dict[str, bytes] = field(default_factory=dict)
    points: list[Point] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)
    failure: str | None = None


def evaluate(
    config: TrendConfig, histograms: dict[str, Histogram], run: int, missing: dict[str, str]
) -> Point | Rejection:
    """One config on one run's histograms: a point, or the reason there is none."""
    paths = config.me_paths
    absent = [
        f"{role} {paths[role]!r} {missing.get(paths[role], 'not in the file')}"
        for role in paths
        if paths[role] not in histograms
    ]
    if absent:
        return Rejection(config.key, "; ".join(absent))
    main = histograms[paths["main"]]
    if config.threshold is not None and main.entries < config.threshold:
        return Rejection(config.key, f"{main.entries:g} entries, fewer than the threshold {config.threshold}")
    inputs = Inputs(main=main, run=run, **{role: histograms[paths[role]] for role in ROLES if role in paths})
    try:
        value, error = finite(*config.metric.compute(inputs))
    except Undefined as exc:
        return Rejection(config.key, exc.reason)
    except (ArithmeticError, ValueError, IndexError, TypeError, RuntimeError) as exc:
        return Rejection(config.key, f"metric failed: {type(exc).__name__}: {exc}")
    return Point(config.key, value, error)


def prepare() -> None:
    """What every process extracting files would compute for itself, computed once in the one that starts
    them (worker processes are forked from it and inherit it): the Landau tables of the fits."""
    landau_tables()


def extract_file(path: str, run: int, configs: tuple[TrendConfig, ...]) -> FileResult:
    """Read the MEs the configs need from `path` and compute every config."""
    with collector_paused():  # uproot builds thousands of short-lived objects per file
        return _extract_file(path, run, configs)


def _extract_file(path: str, run: int, configs: tuple[TrendConfig, ...]) -> FileResult:
    result = FileResult(path)
    needed = {p for config in configs for p in config.me_paths.values()}
    try:
        histograms, missing = read_histograms(Path(path), run, needed)
    except UnreadableFile as exc:
        result.failure = str(exc)
        return result
    if not histograms:
        reasons = sorted(set(missing.values()))
        result.failure = (
            f"none of the {len(needed)} configured MEs could be read ({reasons[0] if reasons else ''})"
        )
        return result
    result.histograms = {me: h.to_bytes() for me, h in histograms.items()}
    with open(os.devnull, "w") as quiet, contextlib.redirect_stdout(quiet):
        for config in configs:
            outcome = evaluate(config, histograms, run, missing)
            (result.points if isinstance(outcome, Point) else result.rejections).append(outcome)
    return result
