"""Pure ingestion rules: derived attributes and change detection."""

from __future__ import annotations

from runreg.ingestion import model
from runreg.ingestion.model import RunMark

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
