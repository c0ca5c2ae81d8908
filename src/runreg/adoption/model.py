"""Pure mapping of an original Run Registry's history to runreg events (rr_backend §3), and the summaries the
verifier compares. No I/O: the reader hands in rows, the service writes what this returns.

The original records one `Version` (atomic version: who, why, when) per change, holding `Event`s in a global
sequence; each event is one typed row (`RunEvent`, `DatasetEvent`, `LumisectionEvent` + one assignation row
per LS, `OMSLumisectionEvent` + assignations). Its merges order by that global event sequence (with manual
events after automatic ones for RR attributes and LS triplets), so the import replays events in *event*
order and cuts a runreg change set wherever the atomic version changes: an ordinary atomic version gives
exactly one change set; events predating atomic versions (the placeholder 50000000, or versions a one-off
script grouped later) give one change set per contiguous block, so no merge is reordered.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from runreg.kernel.actors import Actor, ActorKind
from runreg.kernel.ranges import RangeMap
from runreg.registry.events import (
    DatasetAttributesChanged,
    DatasetCreated,
    Event,
    FlagsSet,
    Layer,
    OmsValuesSet,
    RunAttributesChanged,
    RunCreated,
    RunVisibilityChanged,
)
from runreg.registry.model import HIDDEN, ONLINE, RunState

AUTOMATIC_PREFIX = "auto@auto"
#: The reason recorded on a run hidden because the original deleted it (`RunEvent.deleted` carries none).
ORIGINAL_DELETION = "deleted in the original Run Registry (RunEvent.deleted)"
#: Attributes runreg keeps in a dataset's attributes that the original keeps in columns of its own.
IN_GUI = "datasets_in_gui"
COLUMN_ATTRIBUTES = frozenset({IN_GUI, HIDDEN})
#: OMS keys left out of the original's DCS summary (rr_backend §3.4).
NOT_DCS = frozenset(
    {
        "end_lumi",
        "init_lumi",
        "recorded_lumi",
        "delivered_lumi",
        "live_lumi_per_lumi",
        "recorded_lumi_per_lumi",
        "delivered_lumi_per_lumi",
    }
)


# --------------------------------------------------------------------------------------------------
# Original rows
# --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class OriginalEvent:
    """One typed event row of the original, its JSONB payload resolved and its per-LS assignation rows
    attached as maximal inclusive ranges (the reader builds them in SQL: a year's 50 M rows never cross the
    wire)."""

    version: int
    atomic_version: int
    kind: str  # "run" | "dataset" | "ls" | "oms_ls"
    run_number: int
    name: str | None = None
    oms: dict[str, Any] | None = None
    rr: dict[str, Any] | None = None
    payload: dict[str, Any] | None = None
    in_gui: list[Any] | None = None
    manual: bool = False
    deleted: bool = False
    ranges: Sequence[tuple[int, int]] = ()


@dataclass(frozen=True)
class VersionInfo:
    atomic_version: int
    by: str
    comment: str
    created_at: datetime


@dataclass
class Segment:
    """A block of consecutive events of one atomic version: one runreg change set."""

    info: VersionInfo
    events: list[OriginalEvent] = field(default_factory=list)

    @property
    def last_event_version(self) -> int:
        return self.events[-1].version


def segments(events: Iterable[OriginalEvent], versions: Mapping[int, VersionInfo]) -> Iterator[Segment]:
    """Cut the event stream (in event order) wherever the atomic version changes."""
    current: Segment | None = None
    for event in events:
        if current is None or current.info.atomic_version != event.atomic_version:
            if current is not None:
                yield current
            current = Segment(versions[event.atomic_version])
        current.events.append(event)
    if current is not None:
        yield current


def actor_of(by: str) -> tuple[Actor, str | None]:
    """`auto@auto` and `auto@auto - <user>` are automatic (with the user who triggered them); anyone else is
    a person. Returns the actor and the triggering user, if any."""
    text = (by or "").strip()
    if text.startswith(AUTOMATIC_PREFIX):
        rest = text[len(AUTOMATIC_PREFIX) :].strip()
        user = rest[1:].strip() if rest.startswith("-") else None
        return Actor(text, ActorKind.AUTOMATIC), user or None
    return Actor(text or "unknown", ActorKind.HUMAN), None


def ranges_of(numbers: Iterable[int]) -> list[tuple[int, int]]:
    """Per-LS assignation rows back into maximal inclusive ranges (sorted, duplicates ignored)."""
    out: list[tuple[int, int]] = []
    for number in sorted(set(numbers)):
        if out and number == out[-1][1] + 1:
            out[-1] = (out[-1][0], number)
        else:
            out.append((number, number))
    return out


# --------------------------------------------------------------------------------------------------
# Replay: original events of one run (in event order) -> runreg events, decided on the run's state
# --------------------------------------------------------------------------------------------------
class _Scratch:
    """What the events of one segment have done to a run so far, over the run's state before it (read only):
    which datasets exist, their attributes, and the LS each offline dataset has OMS values of its own. Cheaper
    than deep-copying a run of a thousand LS and forty components for every change set."""

    def __init__(self, run: RunState | None, dropped: dict[str, DroppedKey] | None = None) -> None:
        self.base = run
        self.created = run is not None
        self.hidden = run.hidden if run is not None else False
        self.known: set[str] = set(run.datasets) if run is not None else set()
        self.attributes: dict[str, dict[str, Any]] = {}
        self.own_oms: dict[str, list[tuple[int, int]]] = {}
        self.dropped: dict[str, DroppedKey] = {} if dropped is None else dropped

    def current_attributes(self, name: str) -> dict[str, Any]:
        if name in self.attributes:
            return self.attributes[name]
        if self.base is not None and name in self.base.datasets:
            return self.base.datasets[name].attributes
        return {}

    def own_coverage(self, name: str) -> list[tuple[int, int]]:
        spans = list(self.own_oms.get(name, ()))
        if self.base is not None and name in self.base.datasets:
            for ranges in self.base.datasets[name].oms.values():
                spans.extend((first, last) for first, last, _ in ranges)
        return _union(spans)


@dataclass
class DroppedKey:
    """A triplet key runreg does not keep: where it was first seen, and in how many triplets."""

    run_number: int
    dataset: str
    component: str
    ranges: Sequence[tuple[int, int]]
    count: int = 0

    def note(self, key: str) -> str:
        first = ", ".join(f"{a}-{b}" for a, b in self.ranges[:3]) or "none"
        return (
            f"triplet key {key!r} not kept (runreg keeps status, comment and cause): "
            f"{self.count} triplet(s), first in run {self.run_number} dataset {self.dataset!r} "
            f"component {self.component!r} LS {first}"
        )


def decide(
    run: RunState | None,
    run_number: int,
    original: Sequence[OriginalEvent],
    dropped: dict[str, DroppedKey] | None = None,
) -> list[Event]:
    """runreg events reproducing `original` (one segment's events of one run) on `run` (None, or a fresh
    state of version 0, when the run is new). `run` is only read. Triplet keys runreg does not keep are
    tallied in `dropped` (first occurrence and count per key)."""
    scratch = _Scratch(run if run is not None and run.version else None, dropped)
    produced: list[Event] = []
    for event in original:
        if not scratch.created:
            scratch.created = True
            scratch.known.add(ONLINE)
            if event.kind == "run":
                layer = Layer.MANUAL if event.manual else Layer.AUTOMATIC
                produced.append(RunCreated(oms=dict(event.oms or {}), rr=dict(event.rr or {}), layer=layer))
                produced.extend(_visibility(scratch, event))
                continue
            produced.append(RunCreated(oms={}, rr={}))
        produced.extend(_map_event(scratch, event))
    return produced


def _visibility(scratch: _Scratch, event: OriginalEvent) -> list[Event]:
    """A run is deleted as its own latest RunEvent says (the original's `Run.deleted` takes the flag of the
    globally latest event of a materialization batch, rr_backend §10.2; the run's own is what it means): an
    event with `deleted` hides the run in its change set, a later one without it shows the run again."""
    if event.deleted == scratch.hidden:
        return []
    scratch.hidden = event.deleted
    if event.deleted:
        return [RunVisibilityChanged(hidden=True, reason=ORIGINAL_DELETION)]
    return [RunVisibilityChanged(hidden=False)]


def _map_event(scratch: _Scratch, event: OriginalEvent) -> list[Event]:
    if event.kind == "run":
        layer = Layer.MANUAL if event.manual else Layer.AUTOMATIC
        changed: list[Event] = []
        if event.oms or event.rr:
            changed.append(
                RunAttributesChanged(oms=dict(event.oms or {}), rr=dict(event.rr or {}), layer=layer)
            )
        return changed + _visibility(scratch, event)
    name = event.name or ONLINE
    if event.kind == "dataset":
        return _dataset_event(scratch, name, event)
    if name not in scratch.known:  # the original's FK makes this impossible; a dataset appears empty
        scratch.known.add(name)
        scratch.attributes[name] = {}
        return [DatasetCreated(name=name), *_map_event_ls(scratch, name, event)]
    return _map_event_ls(scratch, name, event)


def _dataset_event(scratch: _Scratch, name: str, event: OriginalEvent) -> list[Event]:
    existing = name in scratch.known
    attributes = dict(event.payload or {})
    current = scratch.current_attributes(name)
    in_gui = list(current.get(IN_GUI) or [])
    for sample in event.in_gui or []:
        if sample not in in_gui:
            in_gui.append(sample)
    if in_gui != list(current.get(IN_GUI) or []):
        attributes[IN_GUI] = in_gui
    removed: tuple[str, ...] = ()
    if event.deleted:
        if current.get(HIDDEN) is not True:
            attributes[HIDDEN] = True
    elif HIDDEN in current:
        removed = (HIDDEN,)
    if not existing:
        scratch.known.add(name)
        scratch.attributes[name] = dict(attributes)
        return [DatasetCreated(name=name, attributes=attributes)]
    changed = {key: value for key, value in attributes.items() if current.get(key, _MISSING) != value}
    if not changed and not removed:
        return []  # the dummy DatasetEvent the original appends to bump a dataset's cache version
    after = {**current, **changed}
    for key in removed:
        after.pop(key, None)
    scratch.attributes[name] = after
    return [DatasetAttributesChanged(name=name, attributes=changed, removed=removed)]


_MISSING = object()


def _map_event_ls(scratch: _Scratch, name: str, event: OriginalEvent) -> list[Event]:
    payload = event.payload or {}
    out: list[Event] = []
    spans = list(event.ranges)
    if event.kind == "ls":
        layer = Layer.MANUAL if event.manual else Layer.AUTOMATIC
        for component, triplet in payload.items():
            value, extra = triplet_of(triplet)
            for key in extra:
                seen = scratch.dropped.setdefault(key, DroppedKey(event.run_number, name, component, spans))
                seen.count += 1
            for first, last in spans:
                out.append(FlagsSet(name, first, last, component=component, triplet=value, layer=layer))
        return out
    # OMS LS values: latest event wins. The original merges an offline dataset's OMS data from the online
    # events *and* its own by event version, so an online event newer than the dataset's own copy shows
    # through on the LS the dataset has values of its own: write it there too (runreg overlays own values).
    for first, last in spans:
        out.append(OmsValuesSet(name, first, last, values=dict(payload)))
    if name != ONLINE:
        if payload:
            scratch.own_oms.setdefault(name, []).extend(spans)
        return out
    if payload:
        for other in sorted(scratch.known - {ONLINE}):
            for first, last in _intersection(scratch.own_coverage(other), spans):
                out.append(OmsValuesSet(other, first, last, values=dict(payload)))
    return out


TRIPLET_KEYS = ("status", "comment", "cause")


def triplet_of(value: Any) -> tuple[dict[str, str], list[str]]:
    """An original triplet as runreg keeps it — exactly status, comment and cause, absent or null ones as
    "" (the original's own writes carry all three; legacy rows may carry only a status, or a bare status
    string) — and the names of any other keys, which runreg does not keep (the import report lists them).
    Without this, two LS equal in the original's eyes could be two ranges in memory and one when stored."""
    if not isinstance(value, dict):
        return {"status": "" if value is None else str(value), "comment": "", "cause": ""}, []
    triplet = {key: "" if value.get(key) is None else str(value[key]) for key in TRIPLET_KEYS}
    return triplet, sorted(key for key in value if key not in TRIPLET_KEYS)


def _union(spans: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for first, last in sorted(spans):
        if out and first <= out[-1][1] + 1:
            out[-1] = (out[-1][0], max(out[-1][1], last))
        else:
            out.append((first, last))
    return out


def _intersection(a: list[tuple[int, int]], b: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Both lists sorted and disjoint."""
    out: list[tuple[int, int]] = []
    i = j = 0
    while i < len(a) and j < len(b):
        low, high = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
        if low <= high:
            out.append((low, high))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return out


# --------------------------------------------------------------------------------------------------
# What the verifier compares: the original's materialized state, computed from runreg's
# --------------------------------------------------------------------------------------------------
def dataset_attributes(attributes: Mapping[str, Any]) -> dict[str, Any]:
    """runreg's attributes of a dataset without the ones the original keeps in columns."""
    return {key: value for key, value in attributes.items() if key not in COLUMN_ATTRIBUTES}


def summaries(run: RunState, name: str) -> dict[str, Any]:
    """The original's DatasetTripletCache of a dataset (§3.4) from runreg's state: LS 1..last (an LS counts
    only where the dataset has both OMS and RR data, as the original's inner join), per component the status
    counts (absent = EMPTY), distinct comments and causes and the ranges; per DCS bit TRUE, FALSE, NULL,
    EMPTY. Computed on ranges, never LS by LS."""
    dataset = run.datasets[name]
    oms = run.oms_values(name)
    flags = {component: flags.effective() for component, flags in dataset.flags.items()}
    rr_spans = _union(span[:2] for ranges in flags.values() for span in ranges)
    oms_spans = _union(span[:2] for ranges in oms.values() for span in ranges)
    present = _intersection(rr_spans, oms_spans)
    if not present:
        return {"triplet_summary": {}, "dcs_summary": {}, "rr_ranges": {}, "dcs_ranges": {}}
    last_ls = present[-1][1]
    triplet_summary: dict[str, Any] = {}
    rr_ranges: dict[str, Any] = {}
    for component, ranges in flags.items():
        comments: set[str] = set()
        causes: set[str] = set()

        def status_of(value: Any) -> str:
            if isinstance(value, dict):
                if value.get("comment"):
                    comments.add(value["comment"])  # noqa: B023 (used at once, in this iteration)
                if value.get("cause"):
                    causes.add(value["cause"])  # noqa: B023
                return str(value.get("status") or "EMPTY")
            return "EMPTY"

        buckets = _buckets(ranges, present, last_ls, status_of)
        summary: dict[str, Any] = {key: _length(spans) for key, spans in buckets.items()}
        summary.setdefault("EMPTY", 0)
        summary["comments"] = sorted(comments)
        summary["causes"] = sorted(causes)
        triplet_summary[component] = summary
        rr_ranges[component] = {key: [list(span) for span in spans] for key, spans in buckets.items()}
    dcs_summary: dict[str, Any] = {}
    dcs_ranges: dict[str, Any] = {}
    for bit, ranges in oms.items():
        if bit in NOT_DCS or bit in ("recorded", "delivered"):
            continue
        buckets = _buckets(ranges, present, last_ls, _truth)
        dcs_summary[bit] = {key: _length(spans) for key, spans in buckets.items()}
        dcs_ranges[bit] = {key: [list(span) for span in spans] for key, spans in buckets.items()}
    dcs_summary["ls_duration"] = {"TRUE": last_ls}
    dcs_ranges["all_lumisections"] = {"TRUE": [[1, last_ls]]}
    return {
        "triplet_summary": triplet_summary,
        "dcs_summary": dcs_summary,
        "rr_ranges": rr_ranges,
        "dcs_ranges": dcs_ranges,
    }


def _length(spans: list[tuple[int, int]]) -> int:
    return sum(last - first + 1 for first, last in spans)


def _buckets(
    ranges: RangeMap, present: list[tuple[int, int]], last_ls: int, key_of: Any
) -> dict[str, list[tuple[int, int]]]:
    """LS 1..last_ls of a map by key (`key_of(value)`), on the present LS only; the rest is EMPTY."""
    pieces: list[tuple[int, int, str]] = []
    items = ranges.items()
    i = j = 0
    while i < len(items) and j < len(present):
        first, last, value = items[i]
        low, high = max(first, present[j][0]), min(last, present[j][1])
        if low <= high:
            pieces.append((low, high, key_of(value)))
        if last < present[j][1]:
            i += 1
        else:
            j += 1
    out: dict[str, list[tuple[int, int]]] = {}
    covered: list[tuple[int, int]] = []
    for first, last, key in pieces:
        spans = out.setdefault(key, [])
        if spans and spans[-1][1] + 1 == first:
            spans[-1] = (spans[-1][0], last)
        else:
            spans.append((first, last))
        covered.append((first, last))
    empty: list[tuple[int, int]] = []
    cursor = 1
    for first, last in _union(covered):
        if first > cursor:
            empty.append((cursor, first - 1))
        cursor = last + 1
    if cursor <= last_ls:
        empty.append((cursor, last_ls))
    if empty:
        merged = _union([*out.get("EMPTY", []), *empty])
        out["EMPTY"] = merged
    return out


def _truth(value: Any) -> str:
    if value is None:
        return "NULL"
    return "TRUE" if value is True else "FALSE" if value is False else str(value)


def normalise_summary(summary: Mapping[str, Any]) -> dict[str, Any]:
    """A cache row made comparable: comments and causes as sorted lists, zero counts dropped."""
    out: dict[str, Any] = {}
    for component, counts in (summary or {}).items():
        if not isinstance(counts, Mapping):
            out[component] = counts
            continue
        item: dict[str, Any] = {}
        for key, value in counts.items():
            if key in ("comments", "causes"):
                item[key] = sorted(value or [])
            elif value not in (0, [], None) or key == "EMPTY":
                item[key] = value
        out[component] = item
    return out


def differences(where: str, original: Any, ours: Any) -> list[str]:
    """Human-readable differences of two JSON-like values (the first few keys)."""
    if original == ours:
        return []
    if isinstance(original, Mapping) and isinstance(ours, Mapping):
        out = []
        for key in sorted(set(original) | set(ours), key=str):
            if original.get(key, _MISSING) != ours.get(key, _MISSING):
                out.append(
                    f"{where}.{key}: original {_show(original.get(key))} ≠ runreg {_show(ours.get(key))}"
                )
        return out
    return [f"{where}: original {_show(original)} ≠ runreg {_show(ours)}"]


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 120 else text[:117] + "..."


def _lumisections(ranges: Iterable[Sequence[int]]) -> set[int]:
    return {ls for first, last in ranges for ls in range(int(first), int(last) + 1)}


def json_differences(where: str, original: Mapping[str, Any], ours: Mapping[str, Any]) -> list[str]:
    """A golden JSON ({run: [[first, last], ...]}) compared LS for LS, run by run."""
    out = []
    for run in sorted({str(r) for r in original} | {str(r) for r in ours}, key=int):
        theirs = _lumisections(original.get(run) or original.get(int(run)) or [])  # type: ignore[call-overload]
        mine = _lumisections(ours.get(run) or ours.get(int(run)) or [])  # type: ignore[call-overload]
        if theirs != mine:
            only_original = ranges_of(theirs - mine)
            only_ours = ranges_of(mine - theirs)
            out.append(
                f"{where} run {run}: LS only in the original {only_original}, only in runreg {only_ours}"
            )
    return out
