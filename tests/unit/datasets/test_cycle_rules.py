"""The pure rules of certification cycles: information, completion per workspace, moves through the cycle."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from runreg.datasets import cycles as rules
from runreg.datasets.cycles import COMPLETED, PENDING, Member
from runreg.kernel.errors import InvalidInput, InvalidState

KNOWN = ["global", "csc", "dt", "ecal", "tracker"]


def member(run: int, **states: str) -> Member:
    """`global_=` stands for the global workspace (`global` is a Python keyword)."""
    attributes = {f"{ws.rstrip('_')}_state": state for ws, state in states.items()}
    return Member(run, "/PromptReco/Collisions2024C/DQM", attributes)


# -- information ---------------------------------------------------------------------------------------------
def test_workspaces_always_include_global_and_come_in_configuration_order() -> None:
    assert rules.check_workspaces(["tracker", "global", "dt", "dt"], KNOWN) == ["global", "dt", "tracker"]
    with pytest.raises(InvalidInput, match="always includes the global") as missing:
        rules.check_workspaces(["dt"], KNOWN)
    assert missing.value.field == "workspaces"
    with pytest.raises(InvalidInput, match="at least one workspace"):
        rules.check_workspaces([], KNOWN)
    with pytest.raises(InvalidInput, match="'hcal' is not an offline workspace"):
        rules.check_workspaces(["global", "hcal"], KNOWN)


def test_a_new_cycle_is_pending_everywhere_and_completion_cannot_be_declared() -> None:
    assert rules.new_states(["global", "dt"]) == {"global": PENDING, "dt": PENDING}
    assert rules.new_states(["global", "dt"], {"global": "pending", "dt": "pending"})["dt"] == PENDING
    with pytest.raises(InvalidInput) as declared:
        rules.new_states(["global", "dt"], {"global": "pending", "dt": "completed"})
    assert declared.value.field == "workspaces.dt"
    with pytest.raises(InvalidInput, match="'done' is not one of pending, completed"):
        rules.new_states(["global"], {"global": "done"})


def test_an_edit_keeps_states_starts_new_workspaces_pending_and_never_sets_a_state() -> None:
    current = {"global": PENDING, "dt": COMPLETED, "csc": PENDING}
    assert rules.edited_states(current, ["global", "dt", "ecal"]) == {
        "global": PENDING,
        "dt": COMPLETED,
        "ecal": PENDING,
    }
    # The states the original's edit sends back are accepted when they are the current ones.
    assert rules.edited_states(current, ["global", "dt"], {"global": "pending", "dt": "completed"})
    with pytest.raises(InvalidInput, match="is pending, not completed") as flipped:
        rules.edited_states(current, ["global", "dt", "csc"], {"csc": "completed"})
    assert flipped.value.field == "workspaces.csc"
    with pytest.raises(InvalidState, match="completed in global: mark global pending before adding ecal"):
        rules.edited_states({"global": COMPLETED, "dt": COMPLETED}, ["global", "dt", "ecal"])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-07-15", datetime(2024, 7, 15, tzinfo=UTC)),
        ("2024-07-15T18:00:00Z", datetime(2024, 7, 15, 18, tzinfo=UTC)),
        ("2024-07-15T20:00:00+02:00", datetime(2024, 7, 15, 18, tzinfo=UTC)),
    ],
)
def test_deadlines_are_iso_dates_in_utc(text: str, expected: datetime) -> None:
    assert rules.parse_deadline(text) == expected


@pytest.mark.parametrize("text", ["", "next friday", "1900-01-01", None])
def test_a_bad_deadline_names_the_field(text: str | None) -> None:
    with pytest.raises(InvalidInput) as refused:
        rules.parse_deadline(text)
    assert refused.value.field == "deadline"


def test_a_name_is_required_and_bounded() -> None:
    assert rules.check_name("  2024C prompt  ") == "2024C prompt"
    for bad in ("", "   ", "x" * 256, "a\x00b"):
        with pytest.raises(InvalidInput) as refused:
            rules.check_name(bad)
        assert refused.value.field == "name"


# -- completion ----------------------------------------------------------------------------------------------
def test_a_workspace_completes_only_when_every_member_with_a_state_there_is_completed() -> None:
    states = {"global": PENDING, "dt": PENDING}
    members = [member(1, global_="OPEN", dt="COMPLETED"), member(2, dt="SIGNOFF"), member(3, csc="OPEN")]
    refusal = rules.completion_refusal(states, "dt", members)
    assert refusal == (
        "the cycle cannot be completed in dt: 1 of its datasets is not COMPLETED there: "
        "2 /PromptReco/Collisions2024C/DQM (SIGNOFF)"
    )
    done = [member(1, dt="COMPLETED"), member(2, dt="COMPLETED"), member(3, csc="OPEN")]
    assert rules.completion_refusal(states, "dt", done) is None  # run 3 has no dt state: not counted


def test_not_significant_and_hidden_members_do_not_keep_a_workspace_open_but_waiting_ones_do() -> None:
    states = {"global": PENDING, "dt": PENDING}
    hidden = Member(4, "/Express/Collisions2024/DQM", {"dt_state": "OPEN", "hidden": True})
    assert rules.completion_refusal(states, "dt", [member(1, dt=rules.NOT_SIGNIFICANT), hidden]) is None
    assert "1 of its datasets" in (
        rules.completion_refusal(states, "dt", [member(2, dt=rules.WAITING)]) or ""
    )
    assert rules.progress([member(1, dt=rules.NOT_SIGNIFICANT), hidden, member(2, dt="COMPLETED")], "dt") == (
        1,
        1,
    )


def test_global_completes_only_after_every_other_workspace_and_its_own_datasets() -> None:
    members = [member(1, global_="COMPLETED", dt="COMPLETED")]
    refusal = rules.completion_refusal({"global": PENDING, "dt": PENDING, "csc": PENDING}, "global", members)
    assert refusal is not None and "while it is pending in dt, csc" in refusal
    assert rules.completion_refusal({"global": PENDING, "dt": COMPLETED}, "global", members) is None
    open_global = [member(1, global_="SIGNOFF", dt="COMPLETED")]
    assert "not COMPLETED there" in (
        rules.completion_refusal({"global": PENDING, "dt": COMPLETED}, "global", open_global) or ""
    )


def test_completing_twice_or_a_foreign_workspace_is_refused() -> None:
    assert rules.completion_refusal({"global": PENDING, "dt": COMPLETED}, "dt", []) == (
        "the cycle is already completed in dt"
    )
    assert rules.completion_refusal({"global": PENDING}, "ecal", []) == "the cycle has no workspace ecal"


def test_a_refusal_names_five_datasets_and_counts_the_rest() -> None:
    members = [member(run, dt="OPEN") for run in range(1, 9)]
    refusal = rules.completion_refusal({"global": PENDING, "dt": PENDING}, "dt", members) or ""
    assert "8 of its datasets are not COMPLETED" in refusal
    assert refusal.endswith("5 /PromptReco/Collisions2024C/DQM (OPEN) and 3 more")


def test_back_to_pending_is_refused_for_a_workspace_while_global_is_completed() -> None:
    completed = {"global": COMPLETED, "dt": COMPLETED}
    assert "a DC expert marks global pending first" in (rules.pending_refusal(completed, "dt") or "")
    assert rules.pending_refusal(completed, "global") is None
    assert rules.pending_refusal({"global": PENDING, "dt": COMPLETED}, "dt") is None
    assert (
        rules.pending_refusal({"global": PENDING, "dt": PENDING}, "dt")
        == "the cycle is already pending in dt"
    )


# -- moves ---------------------------------------------------------------------------------------------------
def test_move_all_moves_members_not_completed_and_says_why_it_left_the_others() -> None:
    members = [
        member(1, dt="OPEN"),
        member(2, dt="SIGNOFF"),
        member(3, dt="COMPLETED"),
        member(4, dt=rules.WAITING),
        member(5, dt=rules.NOT_SIGNIFICANT),
        member(6, csc="OPEN"),
    ]
    plan = rules.plan_move_all(members, "dt", "SIGNOFF")
    assert [m.run_number for m in plan.moving] == [1]
    assert {why: [m.run_number for m in ms] for why, ms in plan.skipped.items()} == {
        "already SIGNOFF": [2],
        "already COMPLETED": [3],
        "waiting for the DQM GUI": [4],
        "not significant for the workspace": [5],
    }
    to_open = rules.plan_move_all(members, "dt", "OPEN")
    assert [m.run_number for m in to_open.moving] == [2, 4]  # waiting datasets may be opened by hand
    assert [m.run_number for m in rules.plan_move_all(members, "dt", "COMPLETED").moving] == [1, 2]


def test_move_all_is_refused_when_the_cycle_is_completed_there_or_nothing_can_move() -> None:
    members = [member(1, dt="COMPLETED")]
    plan = rules.plan_move_all(members, "dt", "COMPLETED")
    assert rules.move_all_refusal({"global": PENDING, "dt": PENDING}, "dt", "COMPLETED", plan) == (
        "no dataset of the cycle can move to COMPLETED in dt (1 already COMPLETED)"
    )
    assert "completed in dt" in (
        rules.move_all_refusal({"global": PENDING, "dt": COMPLETED}, "dt", "OPEN", plan) or ""
    )


def test_one_dataset_moves_through_the_cycle_only_from_its_current_state_while_pending() -> None:
    states = {"global": PENDING, "dt": PENDING}
    one = member(7, dt="COMPLETED")
    assert rules.dataset_move_refusal(states, "dt", one, "COMPLETED", "OPEN") is None
    assert rules.dataset_move_refusal(states, "dt", one, None, "OPEN") is None
    assert "is COMPLETED in dt, not SIGNOFF: reload the page" in (
        rules.dataset_move_refusal(states, "dt", one, "SIGNOFF", "OPEN") or ""
    )
    assert "already COMPLETED" in (rules.dataset_move_refusal(states, "dt", one, None, "COMPLETED") or "")
    assert rules.dataset_move_refusal(states, "dt", None, None, "OPEN") == "the dataset is not in this cycle"
    assert "completed in dt" in (
        rules.dataset_move_refusal({"global": PENDING, "dt": COMPLETED}, "dt", one, None, "OPEN") or ""
    )
    with pytest.raises(InvalidInput) as bad:
        rules.check_to_state("DONE")
    assert bad.value.field == "to_state"


# -- membership ----------------------------------------------------------------------------------------------
def test_adding_keeps_the_new_ones_and_bounds_the_cycle() -> None:
    assert rules.added({(1, "a")}, [(1, "a"), (2, "a")]) == [(2, "a")]
    with pytest.raises(InvalidInput, match="already in the cycle"):
        rules.added({(1, "a")}, [(1, "a")])
    with pytest.raises(InvalidInput, match="selects no dataset"):
        rules.added(set(), [])
    with pytest.raises(InvalidInput, match="would hold 1001 datasets, at most 1000"):
        rules.added({(run, "a") for run in range(1000)}, [(5000, "a")])


def test_removing_needs_every_selected_dataset_to_be_a_member() -> None:
    assert rules.removed({(1, "a"), (2, "a")}, [(2, "a")]) == [(2, "a")]
    with pytest.raises(InvalidInput, match="1 dataset\\(s\\) not in the cycle, e.g. 3 a") as outside:
        rules.removed({(1, "a")}, [(1, "a"), (3, "a")])
    assert outside.value.field == "filter"


def test_datasets_joining_a_completed_workspace_must_be_completed_there() -> None:
    states = {"global": PENDING, "dt": COMPLETED}
    assert rules.completing_additions(states, [member(1, dt="COMPLETED"), member(2, csc="OPEN")]) is None
    assert "mark dt pending first" in (rules.completing_additions(states, [member(3, dt="OPEN")]) or "")


def test_a_workspace_lists_its_pending_cycles_first_then_completed_then_the_others_by_deadline() -> None:
    soon, later = datetime(2024, 7, 1, tzinfo=UTC), datetime(2024, 8, 1, tzinfo=UTC)
    cycles = [
        (1, {"global": PENDING}, soon),
        (2, {"global": PENDING, "dt": COMPLETED}, soon),
        (3, {"global": PENDING, "dt": PENDING}, later),
        (4, {"global": PENDING, "dt": PENDING}, soon),
    ]
    ordered = sorted(cycles, key=lambda c: rules.listing_key(c[1], c[2], c[0], "dt"))
    assert [c[0] for c in ordered] == [4, 3, 2, 1]
