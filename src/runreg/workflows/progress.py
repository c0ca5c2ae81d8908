"""How far a workflow's output datasets are (events, or lumisections for ReReco with a lumi list) and when a
dataset growing at its recent pace would be complete (pure)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from runreg.workflows import model

RECENT_S = 86400  # the pace is measured over the last day of a dataset's history


def expected(doc: Mapping[str, Any]) -> tuple[int | None, str]:
    """What the datasets are measured against: (expected count or None when unknown, "lumis" | "events")."""
    if model.lumis_tracked(doc):
        return int(doc["TotalInputLumis"]), "lumis"
    total = doc.get("TotalEvents")
    return (int(total) if isinstance(total, int) and total > 0 else None), "events"


def completion(done: int, target: int | None) -> float | None:
    """`done` / `target` (may exceed 1: a DBS count above the request's estimate), None without a target."""
    return done / target if target else None


def estimated_completion(
    points: Sequence[tuple[int, int]], target: int | None, *, recent_s: int = RECENT_S
) -> float | None:
    """When a dataset reaches `target` if it keeps the pace of its recent history (time, count), as epoch
    seconds; None when it is done, has no target, or did not grow lately."""
    if not target or len(points) < 2:
        return None
    last_time, last_value = points[-1]
    if last_value >= target:
        return None
    recent = [point for point in points if point[0] >= last_time - recent_s]
    first_time, first_value = recent[0] if len(recent) >= 2 else points[-2]
    if last_time <= first_time or last_value <= first_value:
        return None
    rate = (last_value - first_value) / (last_time - first_time)
    return last_time + (target - last_value) / rate


RUNNING = frozenset({"acquired", "running-open", "running-closed"})
STALLED_AFTER_S = 86400


def stalled(
    status: str | None, last_change: float | None, now: float, *, after_s: int = STALLED_AFTER_S
) -> bool:
    """A running workflow none of whose datasets changed in DBS for `after_s` (a day): worth a look."""
    return status in RUNNING and last_change is not None and now - last_change >= after_s
