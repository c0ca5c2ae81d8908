"""The DC tools' pure rules: what each tool decides for one dataset, and how its parameters are checked."""

from __future__ import annotations

import pytest

from runreg.datasets.dctools import model as rules
from runreg.kernel.errors import InvalidInput
from runreg.kernel.ranges import RangeMap
from runreg.registry import model
from runreg.registry.events import DatasetCreated, FlagsCleared, FlagsSet, Layer
from runreg.registry.model import DatasetState, RunState

SOURCE, TARGET = "/Express/DQM", "/Prompt/DQM"


def triplet(status: str, comment: str = "") -> dict[str, str]:
    return {"status": status, "comment": comment, "cause": ""}


def run_with(**datasets: DatasetState) -> RunState:
    run = RunState(1, oms={"ls_duration": 10})
    run.datasets = {"online": DatasetState("online"), **{ds.name: ds for ds in datasets.values()}}
    return run


def dataset(name: str, states: dict[str, str] | None = None, **flags: RangeMap) -> DatasetState:
    ds = DatasetState(name, dict(states or {"global_state": "OPEN", "dt_state": "SIGNOFF"}))
    for component, ranges in flags.items():
        ds.component(component.replace("_", "-")).manual = ranges
    return ds


def after(run: RunState, events: list) -> RunState:
    for event in events:
        model.apply(run, event)
    return run


def test_batch_update_sets_every_ls_keeping_comments_and_filling_gaps_with_the_operations() -> None:
    run = run_with(a=dataset(TARGET, dt_dt=RangeMap([(1, 4, triplet("BAD", "chamber off"))])))
    events = rules.batch_update(run, TARGET, ["dt-dt"], "GOOD", "repair")
    assert all(isinstance(e, FlagsSet) and e.layer is Layer.MANUAL for e in events)
    effective = after(run, events).datasets[TARGET].flags["dt-dt"].effective()
    assert list(effective) == [(1, 4, triplet("GOOD", "chamber off")), (5, 10, triplet("GOOD", "repair"))]
    assert rules.batch_update(run, TARGET, ["dt-dt"], "GOOD", "repair") == []  # nothing left to change


def test_copy_columns_makes_the_target_what_the_source_is_and_clears_the_rest() -> None:
    run = run_with(
        s=dataset(SOURCE, dt_dt=RangeMap([(1, 5, triplet("GOOD"))])),
        t=dataset(TARGET, dt_dt=RangeMap([(1, 10, triplet("BAD", "x"))])),
    )
    events = rules.copy_columns(run, SOURCE, TARGET, ["dt-dt"])
    assert any(isinstance(e, FlagsCleared) and (e.first_ls, e.last_ls) == (6, 10) for e in events)
    assert list(after(run, events).datasets[TARGET].flags["dt-dt"].effective()) == [(1, 5, triplet("GOOD"))]
    missing = run_with(s=dataset(SOURCE))
    with pytest.raises(InvalidInput) as refused:
        rules.copy_columns(missing, SOURCE, TARGET, ["dt-dt"])
    assert refused.value.field == "target_dataset_name"


def test_duplicate_copies_attributes_flags_and_chosen_states_and_is_marked() -> None:
    source = dataset(
        SOURCE,
        {"global_state": "OPEN", "dt_state": "SIGNOFF", "csc_state": "OPEN", "x": 1},
        dt_dt=RangeMap([(1, 10, triplet("GOOD"))]),
    )
    run = run_with(s=source)
    events = rules.duplicate(run, SOURCE, TARGET, ["dt", "gem"])
    assert isinstance(events[0], DatasetCreated)
    assert events[0].attributes == {
        "x": 1,
        "global_state": "OPEN",
        "dt_state": "SIGNOFF",
        "gem_state": "waiting dqm gui",
        model.DUPLICATED_FROM: SOURCE,
    }
    assert list(after(run, events).datasets[TARGET].flags["dt-dt"].manual) == [(1, 10, triplet("GOOD"))]
    with pytest.raises(InvalidInput, match="already has dataset"):
        rules.duplicate(run, SOURCE, TARGET, [])


def test_change_states_everywhere_moves_global_last_and_reports_what_stays() -> None:
    run = run_with(
        s=dataset(SOURCE, {"global_state": "OPEN", "dt_state": "OPEN", "csc_state": "waiting dqm gui"})
    )
    events, left = rules.change_states(run, SOURCE, None, None, "COMPLETED")
    # csc cannot go from waiting to COMPLETED, so global cannot complete either: only dt moves.
    assert [e.attributes for e in events] == [{"dt_state": "COMPLETED"}] and left == []
    run = run_with(s=dataset(SOURCE, {"global_state": "OPEN", "dt_state": "OPEN"}))
    events, _ = rules.change_states(run, SOURCE, None, None, "COMPLETED")
    assert events[0].attributes == {"dt_state": "COMPLETED", "global_state": "COMPLETED"}
    events, left = rules.change_states(run, SOURCE, "dt", "SIGNOFF", "COMPLETED")
    assert events == [] and left == ["OPEN in dt, not SIGNOFF"]


def test_hide_and_unhide() -> None:
    run = run_with(s=dataset(SOURCE))
    hidden = after(run, rules.hide(run, SOURCE, "wrong era"))
    assert model.is_hidden(hidden.datasets[SOURCE].attributes)
    shown = after(hidden, rules.unhide(hidden, SOURCE))
    assert not model.is_hidden(shown.datasets[SOURCE].attributes) and rules.unhide(shown, SOURCE) == []


@pytest.mark.parametrize(
    ("check", "field"),
    [
        (lambda: rules.check_filter({}, confirm_all=False), "filter"),
        (lambda: rules.check_filter([], confirm_all=True), "filter"),
        (lambda: rules.check_reason("reason", " a "), "reason"),
        (lambda: rules.check_components("columns", [], ["dt-dt"]), "columns"),
        (lambda: rules.check_components("columns", ["dt-dt", "x"], ["dt-dt"]), "columns[1]"),
        (lambda: rules.check_status("PERFECT"), "new_status"),
        (lambda: rules.check_workspaces("workspaces", ["dt", "zz"], ["global", "dt"]), "workspaces[1]"),
    ],
)
def test_checks_name_the_field(check, field: str) -> None:  # noqa: ANN001
    with pytest.raises(InvalidInput) as refused:
        check()
    assert refused.value.field == field


def test_an_empty_filter_passes_once_confirmed() -> None:
    assert rules.check_filter({}, confirm_all=True) == {}
    assert rules.check_filter(None, confirm_all=True) == {}


def test_a_duplication_is_revertible_by_hiding_its_copies_other_creations_are_not() -> None:
    from runreg.registry import changes, revert

    run = run_with(s=dataset(SOURCE, dt_dt=RangeMap([(1, 10, triplet("GOOD"))])))
    before = after(RunState(1, oms={"ls_duration": 10}, datasets=dict(run.datasets)), [])
    duplicated = rules.duplicate(run, SOURCE, TARGET, [])
    assert not changes.creates(duplicated)
    [hide] = revert.restoring_events(before, duplicated)
    assert hide.attributes == {model.HIDDEN: True, "hidden_reason": "its duplication was reverted"}
    created = model.create_dataset(run, "/Other/DQM", {"global_state": "OPEN"})
    assert changes.creates(created)
    with pytest.raises(ValueError, match="cannot be reverted"):
        revert.restoring_events(before, created)
