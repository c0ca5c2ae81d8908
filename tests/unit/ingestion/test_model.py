"""Pure ingestion rules: derived attributes and change detection."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from runreg.ingestion import model
from runreg.ingestion.model import RunMark, ScanCursor

BEAMS = {"beam1_present": True, "beam2_present": True, "beam1_stable": True, "beam2_stable": True}


def test_derived_attributes_include_components_beams_and_ls_duration() -> None:
    run = {"run_number": 1, "components": ["DT", "Tracker"], "last_update": "t"}
    attributes = model.derive_oms_attributes(run, [{**BEAMS, "beam2_stable": False}, BEAMS])
    assert attributes["dt_included"] is True and attributes["tracker_included"] is True
    assert attributes["beams_present_and_stable"] is True
    assert attributes["ls_duration"] == 2
    no_beams = model.derive_oms_attributes(run, [{**BEAMS, "beam1_stable": None}])
    assert no_beams["beams_present_and_stable"] is False


def test_only_new_or_moved_runs_need_processing() -> None:
    oms_run = {
        "run_number": 1,
        "last_update": "2024-05-01T10:00:00Z",
        "end_time": None,
        "last_lumisection_number": 10,
    }
    mark = model.mark_of(oms_run, 10)
    assert model.needs_processing(oms_run, None)
    assert not model.needs_processing(oms_run, mark)
    assert model.needs_processing({**oms_run, "last_update": "2024-05-01T10:02:00Z"}, mark)
    assert model.needs_processing({**oms_run, "end_time": "2024-05-01T11:00:00Z"}, mark)
    assert model.needs_processing({**oms_run, "last_lumisection_number": 11}, mark)
    assert mark == RunMark("2024-05-01T10:00:00Z", None, 10)


# --- the scan cursor ------------------------------------------------------------------------------------

NOON = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def runs_updated(*stamps: str) -> list[dict[str, str]]:
    return [{"last_update": f"2024-05-01T{stamp}Z"} for stamp in stamps]


def test_an_incremental_scan_ends_on_the_page_that_reaches_below_its_floor() -> None:
    cursor = ScanCursor(high_water="2024-05-01T10:00:00Z", reconciled_at=NOON)
    scan = model.begin_scan(cursor, NOON, full=False).scan
    assert scan is not None and scan.floor == "2024-05-01T10:00:00Z"

    first, done = model.after_page(scan, runs_updated("11:00:00", "10:30:00"), page_size=2, window=100)
    assert (first.top, first.offset, done) == ("2024-05-01T11:00:00Z", 2, False)
    # A run updated exactly at the floor may not have been visible to the last scan: keep walking.
    second, done = model.after_page(first, runs_updated("10:00:00", "10:00:00"), page_size=2, window=100)
    assert (second.top, second.offset, done) == ("2024-05-01T11:00:00Z", 4, False)
    _, done = model.after_page(second, runs_updated("10:00:00", "09:59:59"), page_size=2, window=100)
    assert done


def test_a_full_scan_ignores_the_floor_and_ends_with_the_list_or_the_window() -> None:
    scan = model.Scan(model.FULL, "2024-05-01T10:00:00Z", None, 0, NOON)
    older = runs_updated("09:00:00", "08:00:00")
    assert model.after_page(scan, older, page_size=2, window=100)[1] is False
    assert model.after_page(scan, older[:1], page_size=2, window=100)[1] is True  # a short page: the end
    assert model.after_page(scan, older, page_size=2, window=2)[1] is True


def test_only_a_completed_scan_moves_the_high_water_mark() -> None:
    cursor = model.begin_scan(ScanCursor(high_water="old", reconciled_at=NOON), NOON, full=False)
    assert cursor.scan is not None
    moved, _ = model.after_page(cursor.scan, runs_updated("11:00:00"), page_size=2, window=100)
    interrupted = replace(cursor, scan=moved)
    assert interrupted.high_water == "old"

    done = model.complete(interrupted, NOON + timedelta(minutes=2))

    assert done.high_water == "2024-05-01T11:00:00Z" and done.scan is None
    assert done.scans_since_reconciliation == 1 and done.reconciled_at == NOON


def test_a_reconciliation_is_due_first_then_by_time_or_by_scans() -> None:
    never = ScanCursor()
    recent = ScanCursor(reconciled_at=NOON, scans_since_reconciliation=3)
    assert model.reconciliation_due(never, NOON, every_s=None, every_scans=None)
    assert not model.reconciliation_due(recent, NOON + timedelta(hours=5), every_s=6 * 3600, every_scans=None)
    assert model.reconciliation_due(recent, NOON + timedelta(hours=6), every_s=6 * 3600, every_scans=None)
    assert model.reconciliation_due(recent, NOON, every_s=None, every_scans=3)
    assert not model.reconciliation_due(recent, NOON, every_s=None, every_scans=4)
    full = model.complete(model.begin_scan(recent, NOON, full=True), NOON)
    assert (full.reconciled_at, full.scans_since_reconciliation) == (NOON, 0)


def test_a_full_scan_reports_as_missed_only_runs_behind_the_floor_without_a_good_mark() -> None:
    scan = model.Scan(model.FULL, "2024-05-01T10:00:00Z", None, 0, NOON)
    old = {"last_update": "2024-05-01T09:00:00Z", "end_time": None, "last_lumisection_number": 5}
    new = {**old, "last_update": "2024-05-01T10:30:00Z"}
    assert model.missed_by_earlier_scans(scan, old, None)
    assert model.missed_by_earlier_scans(scan, old, model.mark_of({**old, "last_update": "before"}, 5))
    assert not model.missed_by_earlier_scans(scan, old, model.mark_of(old, 5))  # up to date
    assert not model.missed_by_earlier_scans(scan, old, RunMark(None, None, 0, error="OMS down"))  # a failure
    assert not model.missed_by_earlier_scans(scan, new, None)  # updated since: not missed, just new
    assert not model.missed_by_earlier_scans(replace(scan, kind=model.INCREMENTAL), old, None)
