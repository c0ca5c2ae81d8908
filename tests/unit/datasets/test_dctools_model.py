"""The DC tools' pure rules: what each tool decides for one dataset, and how its parameters are checked."""

from __future__ import annotations

import copy

import pytest

from runreg.datasets.dctools import model as rules
from runreg.kernel.errors import InvalidInput
from runreg.kernel.ranges import RangeMap
from runreg.registry import changes, model, revert
from runreg.registry.events import (
    DatasetAttributesChanged,
    DatasetCreated,
    FlagsCleared,
    FlagsSet,
    Layer,
    OmsValuesSet,
)
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


# -- a duplication redone into the name of copies a revert hid -----------------------------------------------
def applied(run: RunState, events: list) -> RunState:
    return after(copy.deepcopy(run), events)


def fresh_copy(run: RunState, workspaces: list[str]) -> DatasetState:
    """What duplicating SOURCE into TARGET would make in a run that never had TARGET."""
    clean = copy.deepcopy(run)
    clean.datasets.pop(TARGET, None)
    return applied(clean, rules.duplicate(clean, SOURCE, TARGET, workspaces)).datasets[TARGET]


def reverted_copy_world() -> tuple[RunState, RunState]:
    """A run whose TARGET is a copy hidden by the revert of its duplication, and the run just after that
    duplication; SOURCE was repaired since (dt-dt 1-5 BAD, a csc state) and has an OMS correction."""
    source = dataset(
        SOURCE,
        {"global_state": "OPEN", "dt_state": "SIGNOFF", "x": 1},
        dt_dt=RangeMap([(1, 10, triplet("GOOD"))]),
    )
    source.component("csc-csc").automatic = RangeMap([(1, 10, triplet("GOOD"))])
    run = run_with(s=source)
    duplication = rules.duplicate(run, SOURCE, TARGET, ["dt"])
    duplicated = applied(run, duplication)
    hidden = applied(duplicated, revert.restoring_events(run, duplication))
    repaired = hidden.datasets[SOURCE]
    repaired.attributes.update({"csc_state": "COMPLETED", "x": 2})
    repaired.component("dt-dt").manual.assign(1, 5, triplet("BAD", "chamber off"))
    repaired.component("csc-csc").automatic = RangeMap()
    repaired.oms["dcs_dt"] = RangeMap([(1, 10, True)])
    return hidden, duplicated


def test_a_copy_hidden_by_a_revert_is_redone_in_place_as_a_fresh_copy_would_be() -> None:
    hidden, _ = reverted_copy_world()
    assert model.is_reverted_copy(hidden.datasets[TARGET].attributes)
    events = rules.duplicate(hidden, SOURCE, TARGET, ["dt", "csc"])
    assert not any(isinstance(e, DatasetCreated) for e in events)  # the name exists in the log: no creation
    assert not changes.creates(events)
    redone = applied(hidden, events).datasets[TARGET]
    expected = fresh_copy(hidden, ["dt", "csc"])
    assert not model.is_hidden(redone.attributes)
    assert redone.attributes == expected.attributes
    assert redone.attributes["csc_state"] == "COMPLETED" and redone.attributes["x"] == 2
    for component in ("dt-dt", "csc-csc"):
        for layer in (Layer.AUTOMATIC, Layer.MANUAL):
            assert list(redone.component(component).layer(layer)) == list(
                expected.component(component).layer(layer)
            ), (component, layer)
    assert redone.oms == expected.oms
    assert any(isinstance(e, FlagsCleared) for e in events)  # the csc LS the source no longer has
    assert any(isinstance(e, OmsValuesSet) for e in events)


def test_reverting_the_redo_hides_the_copy_again_exactly_as_before_even_closed() -> None:
    hidden, _ = reverted_copy_world()
    redo = rules.duplicate(hidden, SOURCE, TARGET, ["dt", "csc"])
    redone = applied(hidden, redo)
    restoring = revert.restoring_events(hidden, redo)
    again = applied(redone, restoring).datasets[TARGET]
    was = hidden.datasets[TARGET]
    assert again.attributes == was.attributes and model.is_reverted_copy(again.attributes)
    assert layers(again) == layers(was) and values(again.oms) == values(was.oms) == {}
    # The copy is COMPLETED in csc, yet the revert is not refused as touching a closed workspace: it only
    # puts back the hidden copy, as reverting a duplication hides copies whatever their states.
    assert redone.datasets[TARGET].attributes["csc_state"] == "COMPLETED"
    assert revert.closed_touches(redone, restoring) == []
    # A change to the visible COMPLETED copy that leaves it visible is still refused as closed.
    repair = rules.batch_update(redone, TARGET, ["csc-csc"], "BAD", "abc")
    assert revert.closed_touches(redone, repair) == [
        "LS 1-10 of csc-csc on /Prompt/DQM of run 1, which is COMPLETED"
    ]


def layers(ds: DatasetState) -> dict:
    return {
        (c, layer): list(f.layer(layer))
        for c, f in ds.flags.items()
        for layer in (Layer.AUTOMATIC, Layer.MANUAL)
        if f.layer(layer)
    }


def values(oms: dict) -> dict:
    return {key: list(ranges) for key, ranges in oms.items() if ranges}


def test_a_redo_writes_only_what_differs() -> None:
    hidden, duplicated = reverted_copy_world()
    hidden.datasets[SOURCE] = copy.deepcopy(duplicated.datasets[SOURCE])  # the source as it was copied
    [unhide] = rules.duplicate(hidden, SOURCE, TARGET, ["dt"])
    assert isinstance(unhide, DatasetAttributesChanged)
    assert unhide.attributes == {} and set(unhide.removed) == {model.HIDDEN, model.HIDDEN_REASON}


@pytest.mark.parametrize(
    ("attributes", "words"),
    [
        ({}, "visible"),
        ({model.HIDDEN: True, model.HIDDEN_REASON: "wrong era"}, "hidden (wrong era)"),
        ({model.HIDDEN: True}, "hidden (no reason given)"),
    ],
)
def test_a_visible_or_otherwise_hidden_target_refuses_naming_it_and_why(attributes: dict, words: str) -> None:
    hidden, _ = reverted_copy_world()
    target = hidden.datasets[TARGET]
    target.attributes = {
        **{k: v for k, v in target.attributes.items() if k not in (model.HIDDEN, model.HIDDEN_REASON)},
        **attributes,
    }
    assert rules.redo_note(hidden, SOURCE, TARGET) is None
    with pytest.raises(InvalidInput) as refused:
        rules.duplicate(hidden, SOURCE, TARGET, [])
    assert refused.value.field == "target_dataset_name"
    assert f"run 1 already has dataset {TARGET!r}, {words}" in refused.value.message


def test_a_hidden_dataset_that_was_never_a_copy_refuses_even_with_the_reverts_wording() -> None:
    run = run_with(
        s=dataset(SOURCE),
        t=dataset(TARGET, {model.HIDDEN: True, model.HIDDEN_REASON: model.REVERTED_DUPLICATION}),
    )
    with pytest.raises(InvalidInput, match="already has dataset"):
        rules.duplicate(run, SOURCE, TARGET, [])


def test_the_redo_note_says_what_happens_and_an_expert_may_not_hide_with_the_reverts_wording() -> None:
    hidden, _ = reverted_copy_world()
    note = rules.redo_note(hidden, SOURCE, TARGET)
    assert note and "re-created" in note and "un-hidden" in note and SOURCE in note
    assert rules.redo_note(run_with(s=dataset(SOURCE)), SOURCE, TARGET) is None  # a plain creation
    with pytest.raises(InvalidInput) as refused:
        rules.check_hiding_reason(model.REVERTED_DUPLICATION)
    assert refused.value.field == "reason"
    assert rules.check_hiding_reason(" wrong era ") == "wrong era"
