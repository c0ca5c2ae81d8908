"""Pure ingestion rules: which OMS data RR keeps, what it derives, and which runs need processing."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from runreg.classifiers import classify
from runreg.kernel.ranges import RangeMap
from runreg.registry.model import OMS_LS_WHITELIST, ONLINE, RunState

#: Per-LS OMS attributes the registry keeps; everything else OMS sends per LS is dropped.
LS_WHITELIST = OMS_LS_WHITELIST
BEAM_BITS = ("beam1_present", "beam2_present", "beam1_stable", "beam2_stable")
#: Per-LS attributes OMS publishes (peers.md §1.9) beyond the whitelist: rules may read them.
OMS_LS_ATTRIBUTES = frozenset(
    {*LS_WHITELIST, "run_number", "lumisection_number", "start_time", "end_time", "init_lumi", "end_lumi",
     "delivered_lumi", "recorded_lumi", "bpix_ready", "fpix_ready"}
)  # fmt: skip


@dataclass(frozen=True)
class RunMark:
    """What the registry last ingested of a run, to tell whether OMS has anything new."""

    last_update: str | None
    end_time: str | None
    ls_count: int
    error: str | None = None  # the last attempt failed: the run is processed again


def needs_processing(oms_run: Mapping[str, Any], mark: RunMark | None) -> bool:
    """New runs, runs whose last attempt failed, and runs whose OMS last_update, end_time or LS count moved
    since the last ingestion."""
    if mark is None or mark.error is not None:
        return True
    return (
        str(oms_run.get("last_update")) != str(mark.last_update)
        or _text(oms_run.get("end_time")) != mark.end_time
        or int(oms_run.get("last_lumisection_number") or 0) != mark.ls_count
    )


def mark_of(oms_run: Mapping[str, Any], ls_count: int) -> RunMark:
    return RunMark(_text(oms_run.get("last_update")), _text(oms_run.get("end_time")), ls_count)


def derive_oms_attributes(
    oms_run: Mapping[str, Any], lumisections: Sequence[Mapping[str, Any]]
) -> dict[str, Any]:
    """OMS run attributes plus what RR computes: `<component>_included`, `beams_present_and_stable`
    (true when some LS has both beams present and stable — the original's version can never be true) and
    `ls_duration` (the number of LS OMS returned)."""
    attributes = dict(oms_run)
    for component in oms_run.get("components") or []:
        attributes[f"{str(component).lower()}_included"] = True
    attributes["beams_present_and_stable"] = any(
        all(ls.get(bit) is True for bit in BEAM_BITS) for ls in lumisections
    )
    attributes["ls_duration"] = len(lumisections)
    return attributes


def kept_ls_values(per_key: Mapping[str, RangeMap]) -> dict[str, RangeMap]:
    return {key: per_key[key] for key in LS_WHITELIST if key in per_key}


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


# --- the scan of OMS's run list -------------------------------------------------------------------------

INCREMENTAL, FULL = "incremental", "full"


@dataclass(frozen=True)
class Scan:
    """One walk down OMS's run list, most recent `last_update` first; it may span several cycles.

    Paging newest-first by offset can only repeat a run, never skip one: a run that moves while we page moves
    to the front (its `last_update` grows), which pushes the rest back."""

    kind: str  # INCREMENTAL: down to `floor`; FULL: the whole window, whatever the floor
    floor: str | None  # the previous completed scan's top: an incremental scan stops below it
    top: str | None  # the newest `last_update` on the scan's first page: the next high-water mark
    offset: int  # position in the run list of the next page to read
    started_at: datetime


@dataclass(frozen=True)
class ScanCursor:
    """What ingestion knows of its scans: the high-water mark of the last completed one and the one under way.

    Only a scan that reached its floor (or the end of the window) moves `high_water`: an interrupted one is
    resumed from `scan.offset`, so a kill or an OMS fault half-way leaves no run behind."""

    high_water: str | None = None
    completed_at: datetime | None = None
    reconciled_at: datetime | None = None
    scans_since_reconciliation: int = 0
    scan: Scan | None = None


def reconciliation_due(
    cursor: ScanCursor, now: datetime, *, every_s: float | None, every_scans: int | None
) -> bool:
    """A full scan is due when none ever completed, or after `every_s` seconds or `every_scans` scans."""
    if cursor.reconciled_at is None:
        return True
    if every_s is not None and (now - cursor.reconciled_at).total_seconds() >= every_s:
        return True
    return bool(every_scans) and cursor.scans_since_reconciliation >= every_scans


def begin_scan(cursor: ScanCursor, now: datetime, *, full: bool) -> ScanCursor:
    scan = Scan(FULL if full else INCREMENTAL, cursor.high_water, None, 0, now)
    return replace(cursor, scan=scan)


def after_page(
    scan: Scan, runs: Sequence[Mapping[str, Any]], *, page_size: int, window: int
) -> tuple[Scan, bool]:
    """The scan moved past one page of `runs`; True when it is finished: the list ended, the window is
    walked, or (incremental) the page reached runs older than the floor, all seen by a completed scan."""
    updates = [str(r["last_update"]) for r in runs if r.get("last_update") is not None]
    top = scan.top if scan.top is not None or not updates else max(updates)
    moved = replace(scan, top=top, offset=scan.offset + len(runs))
    below_floor = scan.floor is not None and any(u < scan.floor for u in updates)
    finished = len(runs) < page_size or moved.offset >= window or (scan.kind == INCREMENTAL and below_floor)
    return moved, finished


def complete(cursor: ScanCursor, now: datetime) -> ScanCursor:
    """The scan under way reached its end: its top becomes the high-water mark."""
    scan = cursor.scan
    if scan is None:
        return cursor
    full = scan.kind == FULL
    return ScanCursor(
        high_water=scan.top if scan.top is not None else cursor.high_water,
        completed_at=now,
        reconciled_at=now if full else cursor.reconciled_at,
        scans_since_reconciliation=0 if full else cursor.scans_since_reconciliation + 1,
        scan=None,
    )


def missed_by_earlier_scans(scan: Scan, oms_run: Mapping[str, Any], mark: RunMark | None) -> bool:
    """A run a full scan has to ingest (no mark, or a stale one that is not a recorded failure) although its
    last update predates the previous completed scan's top: the incremental scans skipped it, which is what
    reconciliation exists to catch."""
    update = oms_run.get("last_update")
    if scan.kind != FULL or scan.floor is None or update is None or str(update) >= scan.floor:
        return False
    return (mark is None or mark.error is None) and needs_processing(oms_run, mark)


@dataclass(frozen=True)
class ScanPolicy:
    """How the run list is walked: page size (the original asked OMS for 49 runs), pages one cycle may read,
    how deep into the list a scan goes, and how often a full reconciliation walks the whole of that window."""

    page_size: int = 49
    pages_per_cycle: int = 50
    window: int = 2450
    reconcile_every_s: float | None = 6 * 3600.0
    reconcile_every_scans: int | None = None


def rule_context(run: RunState, ls: int | None = None) -> dict[str, Any]:
    """What a classifier rule sees for a stored run, as ingestion builds it: the run's context (class and
    significance rules) when `ls` is None, else LS `ls`'s (online component rules). Per-LS values are the
    ones the registry keeps (DCS bits, prescale); an OMS per-LS key a rule reads but RR does not keep is
    only there while ingestion runs."""
    return classify.context_for(
        oms_attributes=run.oms, rr_attributes=run.rr, per_ls=run.oms_values(ONLINE), ls=ls
    )
