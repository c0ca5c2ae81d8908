"""Certification cycles on both engines: made from a filter, edited, completed per workspace with the
original's rules, datasets moved through them as one revertible change set, every change in the history."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from runreg.datasets import cycles as rules
from runreg.datasets import service as cycles
from runreg.datasets.tables import cycle_datasets, cycle_events
from runreg.datasets.tables import cycles as cycle_table
from runreg.eventlog.tables import change_sets
from runreg.kernel.errors import InvalidInput, InvalidState, NotFound, PermissionDenied
from runreg.registry import service as registry
from runreg.storage.database import Database
from tests.builders.cycles import (
    CSC_CERTIFIER,
    DT_CERTIFIER,
    EXPRESS,
    PROMPT,
    move,
    offline_runs,
    prompt_cycle,
)
from tests.builders.runs import CERTIFIER, EXPERT

RUNS = (379501, 379502, 379503)


def written(db: Database) -> tuple[int, ...]:
    with db.reading() as conn:
        return tuple(
            conn.execute(select(func.count()).select_from(table)).scalar_one()
            for table in (cycle_table, cycle_datasets, cycle_events, change_sets)
        )


def dt_state(db: Database, run: int, name: str = PROMPT) -> str:
    return registry.run_state(db, run).datasets[name].attributes["dt_state"]


@pytest.fixture
def world(db: Database) -> Database:
    offline_runs(db, RUNS, names=(PROMPT, EXPRESS))
    registry.change_dataset_attributes(
        db, actor=EXPERT, run_number=RUNS[1], name=EXPRESS, attributes={"hidden": True}, comment="duplicate"
    )
    return db


# -- creation and information --------------------------------------------------------------------------------
def test_a_cycle_holds_the_offline_datasets_its_filter_selects_pending_everywhere(world: Database) -> None:
    made = cycles.create_cycle(
        world,
        actor=CERTIFIER,
        name="2024C",
        deadline="2024-07-15",
        workspaces=["dt", "global"],
        filter={"run_number": {">=": RUNS[1]}},
        comment="second half of 2024C",
    )
    assert made.states == {"global": "pending", "dt": "pending"}
    # online is never selected; the hidden express dataset of the middle run neither.
    assert made.keys == [(RUNS[2], EXPRESS), (RUNS[2], PROMPT), (RUNS[1], PROMPT)]
    assert made.created_by == CERTIFIER.name and made.deadline.isoformat() == "2024-07-15T00:00:00+00:00"
    [created] = cycles.cycle_view(world, made.id).history
    assert (created.kind, created.author, created.comment) == (
        "created",
        CERTIFIER.name,
        "second half of 2024C",
    )
    assert created.details["datasets"] == 3 and created.details["filter"] == {"run_number": {">=": RUNS[1]}}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"name": " "}, "name"),
        ({"deadline": "soon"}, "deadline"),
        ({"workspaces": ["dt"]}, "workspaces"),
        ({"workspaces": ["global", "nowhere"]}, "workspaces"),
        ({"filter": {"name": "/Nothing/Like/This"}}, "filter"),
        ({"filter": {"no_such_key": 1}}, "filter"),
        ({"claimed_states": {"global": "completed"}}, "workspaces.global"),
    ],
)
def test_bad_information_names_the_field_and_writes_nothing(
    world: Database, change: dict, field: str
) -> None:
    before = written(world)
    arguments = {"name": "c", "deadline": "2024-07-15", "workspaces": ["global"], "filter": {}, **change}
    with pytest.raises(InvalidInput) as refused:
        cycles.create_cycle(world, actor=CERTIFIER, **arguments)
    assert refused.value.field.startswith(field), refused.value
    assert written(world) == before


def test_names_are_unique_among_cycles_not_deleted(world: Database) -> None:
    first = prompt_cycle(world)
    with pytest.raises(InvalidInput, match=f"cycle {first.id} is already named") as taken:
        prompt_cycle(world)
    assert taken.value.field == "name"
    cycles.delete_cycle(world, actor=CERTIFIER, cycle_id=first.id, comment="made by mistake")
    again = prompt_cycle(world)
    assert again.id != first.id


def test_more_datasets_than_a_cycle_holds_are_refused(
    world: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(rules, "MAX_DATASETS", 2)
    with pytest.raises(InvalidInput, match="more than 2 datasets") as refused:
        prompt_cycle(world)
    assert refused.value.field == "filter"
    made = cycles.create_cycle(
        world, actor=CERTIFIER, name="c", deadline="2024-07-15", workspaces=["global"],
        filter={"name": PROMPT, "run_number": RUNS[0]},
    )  # fmt: skip
    cycles.add_datasets(
        world, actor=CERTIFIER, cycle_id=made.id, filter={"name": PROMPT, "run_number": RUNS[1]}
    )
    with pytest.raises(InvalidInput, match="would hold 3 datasets, at most 2"):
        cycles.add_datasets(
            world, actor=CERTIFIER, cycle_id=made.id, filter={"name": PROMPT, "run_number": RUNS[2]}
        )


def test_an_edit_renames_moves_the_deadline_and_adds_a_workspace_recording_what_changed(
    world: Database,
) -> None:
    made = prompt_cycle(world, workspaces=("global", "dt"))
    edited = cycles.edit_cycle(
        world,
        actor=CERTIFIER,
        cycle_id=made.id,
        name="2024C prompt, v2",
        deadline="2024-07-20T12:00:00Z",
        workspaces=["global", "dt", "ecal"],
        comment="ecal joins",
    )
    assert edited.name == "2024C prompt, v2" and edited.states == {
        "global": "pending",
        "dt": "pending",
        "ecal": "pending",
    }
    newest = cycles.cycle_view(world, made.id).history[0]
    assert newest.kind == "edited" and newest.comment == "ecal joins"
    assert newest.details["name"] == {"from": "2024C prompt", "to": "2024C prompt, v2"}
    assert newest.details["states"]["to"]["ecal"] == "pending"
    # Nothing changed, nothing recorded.
    cycles.edit_cycle(
        world, actor=CERTIFIER, cycle_id=made.id, name=edited.name, deadline=edited.deadline,
        workspaces=edited.workspaces,
    )  # fmt: skip
    assert len(cycles.cycle_view(world, made.id).history) == 2


def test_datasets_are_added_and_removed_by_filter(world: Database) -> None:
    made = cycles.create_cycle(
        world, actor=CERTIFIER, name="c", deadline="2024-07-15", workspaces=["global", "dt"],
        filter={"name": PROMPT, "run_number": RUNS[0]},
    )  # fmt: skip
    grown = cycles.add_datasets(world, actor=CERTIFIER, cycle_id=made.id, filter={"name": PROMPT})
    assert grown.keys == [(run, PROMPT) for run in reversed(RUNS)]
    before = written(world)
    with pytest.raises(InvalidInput, match="not in the cycle, e.g. 379503 /Express") as outside:
        cycles.remove_datasets(world, actor=CERTIFIER, cycle_id=made.id, filter={"run_number": RUNS[2]})
    assert outside.value.field == "filter" and written(world) == before
    shrunk = cycles.remove_datasets(
        world, actor=CERTIFIER, cycle_id=made.id, filter={"name": PROMPT, "run_number": RUNS[2]}
    )
    assert shrunk.keys == [(RUNS[1], PROMPT), (RUNS[0], PROMPT)]
    kinds = [e.kind for e in cycles.cycle_view(world, made.id).history]
    assert kinds == ["datasets_removed", "datasets_added", "created"]
    assert cycles.cycle_view(world, made.id).history[0].details["datasets"] == [[RUNS[2], PROMPT]]


# -- completion ----------------------------------------------------------------------------------------------
def test_a_certifier_completes_dt_through_the_cycle_and_dc_completes_global(world: Database) -> None:
    made = prompt_cycle(world, workspaces=("global", "dt"))
    before = written(world)
    with pytest.raises(InvalidState, match="3 of its datasets are not COMPLETED there") as refused:
        cycles.mark_completed(world, actor=DT_CERTIFIER, cycle_id=made.id, workspace="dt")
    assert "379503 /PromptReco/Collisions2024C/DQM (OPEN)" in refused.value.message
    assert written(world) == before

    outcome = cycles.move_all_datasets(
        world, actor=DT_CERTIFIER, cycle_id=made.id, workspace="dt", to_state="COMPLETED", comment="all good"
    )
    assert sorted(outcome.moved) == [(run, PROMPT, "OPEN") for run in RUNS]
    assert {dt_state(world, run) for run in RUNS} == {"COMPLETED"}
    change_set = registry.describe_change_set(world, change_set_id=outcome.change_set_id)
    assert change_set.runs == sorted(RUNS) and change_set.change_set.comment == "all good"

    with pytest.raises(PermissionDenied, match="datasets:cycle:complete"):  # global is DC's
        cycles.mark_completed(world, actor=DT_CERTIFIER, cycle_id=made.id, workspace="global")
    with pytest.raises(InvalidState, match="pending in dt"):
        cycles.mark_completed(world, actor=CERTIFIER, cycle_id=made.id, workspace="global")
    done = cycles.mark_completed(
        world, actor=DT_CERTIFIER, cycle_id=made.id, workspace="dt", comment="dt done"
    )
    assert done.states["dt"] == "completed"
    with pytest.raises(InvalidState, match="datasets are not COMPLETED there"):  # their global state is OPEN
        cycles.mark_completed(world, actor=CERTIFIER, cycle_id=made.id, workspace="global")
    cycles.move_all_datasets(
        world, actor=CERTIFIER, cycle_id=made.id, workspace="global", to_state="COMPLETED"
    )
    assert cycles.mark_completed(world, actor=CERTIFIER, cycle_id=made.id, workspace="global").states == {
        "global": "completed",
        "dt": "completed",
    }
    view = cycles.cycle_view(world, made.id)
    assert (view.state_changes["dt"].author, view.state_changes["dt"].comment) == (
        DT_CERTIFIER.name,
        "dt done",
    )
    assert view.state_changes["global"].kind == "completed" and view.progress("dt") == (3, 3)


def test_back_to_pending_follows_global(world: Database) -> None:
    made = prompt_cycle(world, workspaces=("global", "dt"))
    for ws in ("dt", "global"):
        cycles.move_all_datasets(world, actor=CERTIFIER, cycle_id=made.id, workspace=ws, to_state="COMPLETED")
        cycles.mark_completed(world, actor=CERTIFIER, cycle_id=made.id, workspace=ws)
    with pytest.raises(InvalidState, match="while it is completed in global"):
        cycles.mark_pending(world, actor=DT_CERTIFIER, cycle_id=made.id, workspace="dt")
    with pytest.raises(PermissionDenied):
        cycles.mark_pending(world, actor=DT_CERTIFIER, cycle_id=made.id, workspace="global")
    cycles.mark_pending(world, actor=CERTIFIER, cycle_id=made.id, workspace="global", comment="one more run")
    reopened = cycles.mark_pending(world, actor=DT_CERTIFIER, cycle_id=made.id, workspace="dt")
    assert reopened.states == {"global": "pending", "dt": "pending"}
    with pytest.raises(InvalidState, match="already pending in dt"):
        cycles.mark_pending(world, actor=DT_CERTIFIER, cycle_id=made.id, workspace="dt")
    with pytest.raises(InvalidInput, match="has no workspace 'csc'") as foreign:
        cycles.mark_completed(world, actor=CERTIFIER, cycle_id=made.id, workspace="csc")
    assert foreign.value.field == "workspace"


def test_joining_a_completed_workspace_needs_completed_datasets(world: Database) -> None:
    made = cycles.create_cycle(
        world, actor=CERTIFIER, name="c", deadline="2024-07-15", workspaces=["global", "dt"],
        filter={"name": PROMPT, "run_number": RUNS[0]},
    )  # fmt: skip
    move(world, RUNS[0], "dt", "COMPLETED")
    cycles.mark_completed(world, actor=CERTIFIER, cycle_id=made.id, workspace="dt")
    with pytest.raises(InvalidState, match="mark dt pending first"):
        cycles.add_datasets(world, actor=CERTIFIER, cycle_id=made.id, filter={"name": PROMPT})
    move(world, RUNS[0], "global", "COMPLETED")
    cycles.mark_completed(world, actor=CERTIFIER, cycle_id=made.id, workspace="global")
    with pytest.raises(InvalidState, match="mark global pending before adding csc"):
        cycles.edit_cycle(
            world, actor=CERTIFIER, cycle_id=made.id, name="c", deadline="2024-07-15",
            workspaces=["global", "dt", "csc"],
        )  # fmt: skip
    assert cycles.get_cycle(world, made.id).keys == [(RUNS[0], PROMPT)]


# -- moves through the cycle ---------------------------------------------------------------------------------
def test_a_certifier_reopens_a_completed_dataset_only_through_a_pending_cycle(world: Database) -> None:
    made = prompt_cycle(world, workspaces=("global", "dt"))
    move(world, RUNS[0], "dt", "COMPLETED")
    with pytest.raises(PermissionDenied):  # forward-only outside cycles
        registry.move_dataset(
            world, actor=DT_CERTIFIER, run_number=RUNS[0], name=PROMPT, workspace="dt", to_state="OPEN"
        )
    outcome = cycles.move_dataset(
        world, actor=DT_CERTIFIER, cycle_id=made.id, workspace="dt", run_number=RUNS[0], name=PROMPT,
        from_state="COMPLETED", to_state="OPEN", comment="reprocessed chamber map",
    )  # fmt: skip
    assert outcome.moved == [(RUNS[0], PROMPT, "COMPLETED")] and dt_state(world, RUNS[0]) == "OPEN"
    assert cycles.cycle_view(world, made.id).history[0].change_set_id == outcome.change_set_id
    with pytest.raises(InvalidState, match="is OPEN in dt, not COMPLETED: reload the page"):
        cycles.move_dataset(
            world, actor=DT_CERTIFIER, cycle_id=made.id, workspace="dt", run_number=RUNS[0], name=PROMPT,
            from_state="COMPLETED", to_state="SIGNOFF",
        )  # fmt: skip
    with pytest.raises(PermissionDenied, match="cms-dqm-runregistry-offline-dt-certifiers"):  # not csc's
        cycles.move_dataset(
            world, actor=CSC_CERTIFIER, cycle_id=made.id, workspace="dt", run_number=RUNS[0], name=PROMPT,
            to_state="SIGNOFF",
        )  # fmt: skip


def test_moves_are_refused_while_the_cycle_is_completed_there_and_for_non_members(world: Database) -> None:
    made = cycles.create_cycle(
        world, actor=CERTIFIER, name="c", deadline="2024-07-15", workspaces=["global", "dt"],
        filter={"name": PROMPT, "run_number": RUNS[0]},
    )  # fmt: skip
    move(world, RUNS[0], "dt", "COMPLETED")
    cycles.mark_completed(world, actor=CERTIFIER, cycle_id=made.id, workspace="dt")
    before = written(world)
    with pytest.raises(InvalidState, match="completed in dt"):
        cycles.move_dataset(
            world, actor=DT_CERTIFIER, cycle_id=made.id, workspace="dt", run_number=RUNS[0], name=PROMPT,
            to_state="OPEN",
        )  # fmt: skip
    with pytest.raises(InvalidState, match="completed in dt"):
        cycles.move_all_datasets(world, actor=CERTIFIER, cycle_id=made.id, workspace="dt", to_state="OPEN")
    with pytest.raises(InvalidInput, match="is not in cycle") as stranger:
        cycles.move_dataset(
            world, actor=CERTIFIER, cycle_id=made.id, workspace="global", run_number=RUNS[1], name=PROMPT,
            to_state="SIGNOFF",
        )  # fmt: skip
    assert stranger.value.field == "dataset"
    assert written(world) == before


def test_moving_all_is_one_change_set_the_existing_revert_undoes(world: Database) -> None:
    made = prompt_cycle(world, workspaces=("global", "dt"))
    move(world, RUNS[2], "dt", "COMPLETED")
    outcome = cycles.move_all_datasets(
        world, actor=CERTIFIER, cycle_id=made.id, workspace="dt", to_state="SIGNOFF"
    )
    assert sorted(outcome.moved) == [(RUNS[0], PROMPT, "OPEN"), (RUNS[1], PROMPT, "OPEN")]
    assert outcome.skipped == {"already COMPLETED": 1}
    # A state move leaves the workspaces closed (not OPEN): reverting it is an expert's forced revert.
    registry.revert_change_set(
        world, actor=EXPERT, change_set_id=outcome.change_set_id, force=True, comment="moved the wrong cycle"
    )
    assert [dt_state(world, run) for run in RUNS] == ["OPEN", "OPEN", "COMPLETED"]


def test_a_move_all_refused_for_one_dataset_moves_none(world: Database) -> None:
    made = prompt_cycle(world, workspaces=("global", "dt", "csc"))
    # Someone else's grant: a csc certifier may not move the dt datasets, so nothing moves at all.
    before = written(world)
    with pytest.raises(PermissionDenied):
        cycles.move_all_datasets(
            world, actor=CSC_CERTIFIER, cycle_id=made.id, workspace="dt", to_state="SIGNOFF"
        )
    assert written(world) == before and {dt_state(world, run) for run in RUNS} == {"OPEN"}


# -- deletion and reading ------------------------------------------------------------------------------------
def test_a_deleted_cycle_leaves_the_lists_and_refuses_changes(world: Database) -> None:
    made = prompt_cycle(world)
    with pytest.raises(PermissionDenied):
        cycles.delete_cycle(world, actor=DT_CERTIFIER, cycle_id=made.id)
    cycles.delete_cycle(world, actor=CERTIFIER, cycle_id=made.id, comment="wrong era")
    assert cycles.list_cycles(world) == [] and cycles.get_cycle(world, made.id).deleted
    assert [c.id for c in cycles.list_cycles(world, include_deleted=True)] == [made.id]
    with pytest.raises(NotFound, match="was deleted"):
        cycles.mark_completed(world, actor=CERTIFIER, cycle_id=made.id, workspace="dt")
    with pytest.raises(InvalidState, match="already deleted"):
        cycles.delete_cycle(world, actor=CERTIFIER, cycle_id=made.id)
    with pytest.raises(NotFound, match="cycle 999 does not exist"):
        cycles.get_cycle(world, 999)


def test_listings_count_pending_cycles_and_flatten_members(world: Database) -> None:
    first = prompt_cycle(world, "a", workspaces=("global", "dt"))
    second = cycles.create_cycle(
        world, actor=CERTIFIER, name="b", deadline="2024-06-01", workspaces=["global", "csc"],
        filter={"name": EXPRESS},
    )  # fmt: skip
    move(world, RUNS[0], "dt", "COMPLETED")
    move(world, RUNS[1], "dt", "COMPLETED")
    move(world, RUNS[2], "dt", "COMPLETED")
    cycles.mark_completed(world, actor=CERTIFIER, cycle_id=first.id, workspace="dt")
    assert cycles.pending_counts(world) == {"global": 2, "csc": 1}
    listed = cycles.cycles_with_members(world, workspace="dt")
    assert [c.name for c, _ in listed] == ["a", "b"]  # completed in dt before not in dt, despite deadlines
    assert [c.name for c in cycles.list_cycles(world, workspace="global")] == ["b", "a"]  # by deadline
    [(cycle, members)] = [item for item in listed if item[0].id == second.id]
    assert [(m.run_number, m.name, m.state("global")) for m in members] == [
        (RUNS[2], EXPRESS, "OPEN"),
        (RUNS[0], EXPRESS, "OPEN"),
    ]
    assert cycles.member_counts(world) == {first.id: 3, second.id: 2}
    counted = cycles.list_cycles(world, members=False)
    assert [(c.datasets_count, c.members) for c in counted] == [(2, ()), (3, ())]
