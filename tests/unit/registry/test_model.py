"""The pure registry rules: precedence, validation, state machine, summaries."""

from __future__ import annotations

import copy

import pytest

from runreg.kernel.errors import InvalidInput, InvalidState, SignOffRefused
from runreg.kernel.ranges import RangeMap
from runreg.registry import model
from runreg.registry.events import (
    DatasetAttributesChanged,
    DatasetCreated,
    FlagsSet,
    Layer,
    OmsValuesSet,
    RunAttributesChanged,
    RunCreated,
)
from runreg.registry.model import ONLINE, RunState

COMPONENTS = ["dt-dt", "tracker-pixel"]


def new_run(ls_count: int = 10, *, ended: bool = True, **rr: object) -> RunState:
    oms = {"ls_duration": ls_count, "end_time": "2024-06-01T18:00:00Z" if ended else None}
    run = model.fold(1000, [*model.register_run(1000, oms=oms, rr=rr or None, layer=Layer.AUTOMATIC)])
    assert run is not None
    return run


def flag(first: int, last: int, status: str, layer: Layer, comment: str = "") -> FlagsSet:
    return FlagsSet(
        name=ONLINE,
        first_ls=first,
        last_ls=last,
        component="dt-dt",
        triplet={"status": status, "comment": comment, "cause": ""},
        layer=layer,
    )


def test_worked_example_manual_edits_win_over_later_automatic_ones() -> None:
    """Spec rr_backend §3.7.6: e1 auto GOOD 1-10, e2 auto BAD 5-6, e3 manual STANDBY 6-8, e4 auto BAD 7-10."""
    run = new_run(10)
    for event in (
        flag(1, 10, "GOOD", Layer.AUTOMATIC),
        flag(5, 6, "BAD", Layer.AUTOMATIC),
        flag(6, 8, "STANDBY", Layer.MANUAL, "HV trip"),
        flag(7, 10, "BAD", Layer.AUTOMATIC),
    ):
        model.apply(run, event)

    ranges = model.ranges_as_dicts(run.datasets[ONLINE].flags["dt-dt"].effective())

    assert [(r["start"], r["end"], r["status"]) for r in ranges] == [
        (1, 4, "GOOD"),
        (5, 5, "BAD"),
        (6, 8, "STANDBY"),
        (9, 10, "BAD"),
    ]
    assert ranges[2]["comment"] == "HV trip"
    summary = model.triplet_summary(run.datasets[ONLINE], run.ls_count)["dt-dt"]
    assert {k: summary[k] for k in ("GOOD", "BAD", "STANDBY", "EMPTY")} == {
        "GOOD": 4,
        "BAD": 3,
        "STANDBY": 3,
        "EMPTY": 0,
    }
    assert summary["comments"] == ["HV trip"]
    assert summary["causes"] == []


def test_worked_example_summary_counts_every_ls() -> None:
    run = new_run(12)
    model.apply(run, flag(1, 10, "GOOD", Layer.AUTOMATIC))
    summary = model.triplet_summary(run.datasets[ONLINE], run.ls_count)["dt-dt"]
    assert summary["GOOD"] == 10
    assert summary["EMPTY"] == 2  # LS 11-12 have no flag at all


def test_run_class_manual_value_survives_a_later_automatic_one() -> None:
    run = new_run(10)
    model.apply(run, RunAttributesChanged(rr={"class": "Collisions18"}, layer=Layer.AUTOMATIC))
    model.apply(run, RunAttributesChanged(rr={"class": "Cosmics18"}, layer=Layer.MANUAL))
    model.apply(run, RunAttributesChanged(rr={"class": "Collisions18"}, layer=Layer.AUTOMATIC))
    assert run.rr["class"] == "Cosmics18"


def test_oms_attributes_latest_wins() -> None:
    run = new_run(10)
    model.apply(run, RunAttributesChanged(oms={"energy": 6500}))
    model.apply(run, RunAttributesChanged(oms={"energy": 6800}))
    assert run.oms["energy"] == 6800


@pytest.mark.parametrize(
    ("first", "last", "field"),
    [(0, 3, "first_ls"), (5, 4, "last_ls"), (1, 11, "last_ls")],
)
def test_flag_ranges_must_lie_inside_the_run(first: int, last: int, field: str) -> None:
    run = new_run(10)
    with pytest.raises(InvalidInput) as error:
        model.set_flags(
            run,
            dataset=ONLINE,
            component="dt-dt",
            first_ls=first,
            last_ls=last,
            status="GOOD",
            layer=Layer.MANUAL,
            known_components=COMPONENTS,
        )
    assert error.value.field == field


@pytest.mark.parametrize("comment", ["", "  ", "no"])
def test_bad_needs_a_comment_of_three_characters(comment: str) -> None:
    with pytest.raises(InvalidInput, match="comment"):
        model.set_flags(
            new_run(10),
            dataset=ONLINE,
            component="dt-dt",
            first_ls=1,
            last_ls=2,
            status="BAD",
            comment=comment,
            layer=Layer.MANUAL,
            known_components=COMPONENTS,
        )


def test_people_cannot_set_system_statuses_or_unknown_components() -> None:
    run = new_run(10)
    with pytest.raises(InvalidInput, match="status"):
        model.set_flags(
            run,
            dataset=ONLINE,
            component="dt-dt",
            first_ls=1,
            last_ls=2,
            status="EMPTY",
            layer=Layer.MANUAL,
            known_components=COMPONENTS,
        )
    with pytest.raises(InvalidInput, match="component"):
        model.set_flags(
            run,
            dataset=ONLINE,
            component="dt-nothing",
            first_ls=1,
            last_ls=2,
            status="GOOD",
            layer=Layer.MANUAL,
            known_components=COMPONENTS,
        )


def test_online_edits_only_while_open() -> None:
    run = new_run(10, state="SIGNOFF")
    with pytest.raises(InvalidState, match="OPEN"):
        model.set_flags(
            run,
            dataset=ONLINE,
            component="dt-dt",
            first_ls=1,
            last_ls=2,
            status="GOOD",
            layer=Layer.MANUAL,
            known_components=COMPONENTS,
        )
    with pytest.raises(InvalidState):
        model.change_run_attributes(run, rr={"stop_reason": "x"}, layer=Layer.MANUAL)


def test_automatic_flags_record_only_what_changes() -> None:
    run = new_run(10)
    model.apply(run, flag(1, 10, "GOOD", Layer.AUTOMATIC))
    events = model.sync_automatic_flags(
        run,
        ONLINE,
        "dt-dt",
        RangeMap(
            [
                (1, 4, {"status": "GOOD", "comment": "", "cause": ""}),
                (5, 10, {"status": "BAD", "comment": "", "cause": ""}),
            ]
        ),
    )
    assert [(e.first_ls, e.last_ls, e.triplet["status"]) for e in events] == [(5, 10, "BAD")]


def test_sign_off_names_the_first_unjudged_ls_and_component() -> None:
    run = new_run(10, **{"class": "Collisions24"})
    model.apply(run, flag(1, 10, "GOOD", Layer.AUTOMATIC))
    model.apply(
        run,
        FlagsSet(
            name=ONLINE,
            first_ls=1,
            last_ls=6,
            component="tracker-pixel",
            triplet={"status": "GOOD", "comment": "", "cause": ""},
            layer=Layer.AUTOMATIC,
        ),
    )
    model.apply(
        run,
        FlagsSet(
            name=ONLINE,
            first_ls=7,
            last_ls=10,
            component="tracker-pixel",
            triplet={"status": "NO VALUE FOUND", "comment": "", "cause": ""},
            layer=Layer.AUTOMATIC,
        ),
    )
    with pytest.raises(SignOffRefused) as error:
        model.move_run(run, "SIGNOFF", certifiable_components=COMPONENTS, layer=Layer.MANUAL)
    assert "LS 7" in error.value.message and "tracker-pixel" in error.value.message
    assert error.value.details["lumisection"] == 7


def test_a_run_still_taking_data_cannot_be_signed_off() -> None:
    run = new_run(10, ended=False, **{"class": "Collisions24"})
    model.apply(run, flag(1, 10, "GOOD", Layer.MANUAL))
    for state in ("SIGNOFF", "COMPLETED"):
        with pytest.raises(SignOffRefused, match="still taking data"):
            model.move_run(run, state, certifiable_components=COMPONENTS, layer=Layer.MANUAL)
    run.oms["end_time"] = "2024-06-01T18:00:00Z"
    [event] = model.move_run(run, "SIGNOFF", certifiable_components=COMPONENTS, layer=Layer.MANUAL)
    assert event.rr == {"state": "SIGNOFF"}


def test_sign_off_counts_uncovered_ls_as_empty_and_needs_a_class() -> None:
    run = new_run(10)
    model.apply(run, flag(1, 8, "GOOD", Layer.AUTOMATIC))
    with pytest.raises(SignOffRefused, match="no class"):
        model.move_run(run, "SIGNOFF", certifiable_components=COMPONENTS, layer=Layer.MANUAL)
    model.apply(run, RunAttributesChanged(rr={"class": "Collisions24"}, layer=Layer.MANUAL))
    with pytest.raises(SignOffRefused, match="LS 9 of component dt-dt is EMPTY"):
        model.move_run(run, "SIGNOFF", certifiable_components=COMPONENTS, layer=Layer.MANUAL)
    model.apply(run, flag(9, 10, "BAD", Layer.MANUAL, "noise"))
    [event] = model.move_run(run, "SIGNOFF", certifiable_components=COMPONENTS, layer=Layer.MANUAL)
    assert event.rr == {"state": "SIGNOFF"}


def test_state_moves_reject_unknown_and_same_state() -> None:
    run = new_run(10)
    with pytest.raises(InvalidInput, match="state"):
        model.move_run(run, "CLOSED", certifiable_components=[], layer=Layer.MANUAL)
    with pytest.raises(InvalidState, match="already OPEN"):
        model.move_run(run, "OPEN", certifiable_components=[], layer=Layer.MANUAL)


def test_ls_count_follows_oms_values_and_dcs_summary_counts_nulls() -> None:
    run = model.fold(7, [RunCreated(oms={}, rr={})])
    assert run is not None
    model.apply(
        run, OmsValuesSet(name=ONLINE, first_ls=1, last_ls=4, values={"cms_active": True, "recorded": 0.5})
    )
    model.apply(run, OmsValuesSet(name=ONLINE, first_ls=5, last_ls=6, values={"cms_active": None}))
    assert run.ls_count == 6
    assert model.dcs_summary(run.oms_values(ONLINE), 6)["cms_active"] == {
        "TRUE": 4,
        "FALSE": 0,
        "NULL": 2,
        "EMPTY": 0,
    }
    assert model.luminosity(run.oms_values(ONLINE), "recorded") == pytest.approx(2.0)


def test_unknown_rr_attribute_is_refused_by_name() -> None:
    with pytest.raises(InvalidInput) as error:
        model.change_run_attributes(new_run(), rr={"clas": "x"}, layer=Layer.MANUAL)
    assert error.value.field == "rr.clas"


def test_a_clone_folds_new_events_without_changing_the_original() -> None:
    run = model.RunState(1)
    for event in (
        RunCreated(oms={"ls_duration": 10}, rr={"class": "Collisions26"}),
        FlagsSet("online", 1, 10, component="dt-dt", triplet={"status": "GOOD"}, layer=Layer.AUTOMATIC),
        OmsValuesSet("online", 1, 10, values={"cms_active": True}),
    ):
        model.apply(run, event)
    before = copy.deepcopy(run)
    after = model.clone(run)
    assert after == run
    for event in (
        RunAttributesChanged(rr={"class": "Cosmics26"}, layer=Layer.MANUAL),
        FlagsSet("online", 3, 4, component="dt-dt", triplet={"status": "BAD"}, layer=Layer.MANUAL),
        FlagsSet("online", 5, 5, component="csc-csc", triplet={"status": "BAD"}, layer=Layer.AUTOMATIC),
        OmsValuesSet("online", 2, 2, values={"cms_active": False}),
        DatasetCreated(name="/PromptReco/X/DQM", attributes={"state": "OPEN"}),
        DatasetAttributesChanged(name="online", attributes={"x": 1}),
    ):
        model.apply(after, event)
    assert run == before
    assert after != before
