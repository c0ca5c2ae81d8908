"""DC expert tools on both engines: each writes one change set for the whole operation that the registry's
revert undoes; a tool refused on any dataset writes nothing; an empty filter is refused unless confirmed."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from runreg.datasets.dctools import service as tools
from runreg.eventlog.tables import change_sets, events
from runreg.kernel.errors import InvalidInput, PermissionDenied
from runreg.registry import service as registry
from runreg.registry.events import Layer
from runreg.registry.service import FlagEdit
from runreg.storage.database import Database
from tests.builders.cycles import DT_CERTIFIER, EXPRESS, PROMPT, offline_runs
from tests.builders.runs import CERTIFIER, EXPERT

RUNS = (379501, 379502, 379503)
ONLY_PROMPT = {"name": PROMPT}


def written(db: Database) -> tuple[int, int]:
    with db.reading() as conn:
        return tuple(  # type: ignore[return-value]
            conn.execute(select(func.count()).select_from(t)).scalar_one() for t in (change_sets, events)
        )


def status(db: Database, run: int, name: str, component: str = "dt-dt") -> list[tuple[int, int, str]]:
    """The component's LS ranges by status alone (neighbours of one status merged)."""
    merged: list[tuple[int, int, str]] = []
    for r in registry.component_ranges(registry.run_state(db, run), name).get(component, []):
        if merged and merged[-1][2] == r["status"] and merged[-1][1] + 1 == r["start"]:
            merged[-1] = (merged[-1][0], r["end"], r["status"])
        else:
            merged.append((r["start"], r["end"], r["status"]))
    return merged


@pytest.fixture
def world(db: Database) -> Database:
    offline_runs(db, RUNS, names=(PROMPT, EXPRESS))
    for run in RUNS:
        registry.edit_flags(
            db,
            actor=CERTIFIER,
            run_number=run,
            dataset=EXPRESS,
            edits=[FlagEdit("dt-dt", 1, 10, "GOOD")],
            comment="express good",
        )
        registry.edit_flags(
            db,
            actor=CERTIFIER,
            run_number=run,
            dataset=PROMPT,
            edits=[FlagEdit("dt-dt", 1, 4, "BAD", comment="chamber off")],
            comment="prompt bad",
        )
    return db


def test_batch_update_is_one_change_set_that_the_revert_undoes(world: Database) -> None:
    before = {run: status(world, run, PROMPT) for run in RUNS}
    cs_before = written(world)[0]
    done = tools.batch_update(
        world,
        actor=CERTIFIER,
        filter=ONLY_PROMPT,
        columns=["dt-dt"],
        new_status="GOOD",
        comment="chamber was fine after all",
    )
    assert written(world)[0] == cs_before + 1 and done.change_set_id
    assert sorted(done.changed) == sorted((run, PROMPT) for run in RUNS)
    for run in RUNS:
        assert status(world, run, PROMPT) == [(1, 10, "GOOD")]
        assert status(world, run, EXPRESS) == [(1, 10, "GOOD")]  # not selected: untouched
    [cs] = registry.history(world, limit=1)
    assert "set dt-dt to GOOD" in cs.comment and "chamber was fine after all" in cs.comment
    # The existing comment of a range is kept.
    ranges = registry.component_ranges(registry.run_state(world, RUNS[0]), PROMPT)["dt-dt"]
    assert ranges[0]["comment"] == "chamber off"
    registry.revert_change_set(world, actor=CERTIFIER, change_set_id=done.change_set_id)
    assert {run: status(world, run, PROMPT) for run in RUNS} == before


def test_copy_columns_from_express_to_prompt_and_back(world: Database) -> None:
    done = tools.copy_columns(
        world,
        actor=CERTIFIER,
        filter={"run_number": {">=": RUNS[1]}},
        source_dataset_name=EXPRESS,
        target_dataset_name=PROMPT,
        columns=["dt-dt"],
    )
    assert sorted(done.changed) == [(RUNS[1], EXPRESS), (RUNS[2], EXPRESS)]
    assert status(world, RUNS[2], PROMPT) == [(1, 10, "GOOD")]
    assert status(world, RUNS[0], PROMPT)[0] == (1, 4, "BAD")  # outside the filter
    registry.revert_change_set(world, actor=CERTIFIER, change_set_id=done.change_set_id)
    assert status(world, RUNS[2], PROMPT)[0] == (1, 4, "BAD")


def test_duplicate_creates_copies_whose_revert_hides_them(world: Database) -> None:
    new = "/PromptReco/Collisions2024C-rereco/DQM"
    done = tools.duplicate_datasets(
        world,
        actor=CERTIFIER,
        filter={},
        confirm_all=True,
        source_dataset_name=PROMPT,
        target_dataset_name=new,
        workspaces=["dt"],
    )
    assert len(done.changed) == 3
    copy = registry.run_state(world, RUNS[0]).datasets[new]
    assert copy.attributes["global_state"] == "OPEN" and copy.attributes["dt_state"] == "OPEN"
    assert "csc_state" not in copy.attributes and copy.attributes["duplicated_from"] == PROMPT
    assert status(world, RUNS[0], new) == status(world, RUNS[0], PROMPT)
    assert tools.unique_dataset_names(world, filter={}) == sorted([EXPRESS, PROMPT, new])
    registry.revert_change_set(world, actor=CERTIFIER, change_set_id=done.change_set_id)
    assert tools.unique_dataset_names(world, filter={}) == sorted([EXPRESS, PROMPT])
    assert registry.run_state(world, RUNS[0]).datasets[new].attributes["hidden"] is True


REDONE = "/PromptReco/Collisions2024C-rereco/DQM"


def content(db: Database, run: int, name: str, *, as_of: int | None = None) -> tuple[dict, dict, dict]:
    """A dataset's attributes, non-empty flag layers and OMS corrections (from the projections, or folded
    from the log right after change set `as_of`)."""
    ds = registry.run_state(db, run, as_of=as_of).datasets[name]
    flags = {
        (component, layer.value): list(f.layer(layer))
        for component, f in sorted(ds.flags.items())
        for layer in Layer
        if f.layer(layer)
    }
    return dict(ds.attributes), flags, {key: list(r) for key, r in ds.oms.items() if r}


def checked(db: Database, run: int, name: str) -> tuple[dict, dict, dict]:
    """`content`, asserting the projections hold what the event log folds to."""
    latest = registry.history(db, limit=1)[0].id
    now = content(db, run, name)
    assert now == content(db, run, name, as_of=latest), (run, name)
    return now


def event_types(db: Database, change_set_id: int) -> dict[int, list[str]]:
    by_run: dict[int, list[str]] = {}
    for event in registry.change_set_detail(db, change_set_id)[1]:
        by_run.setdefault(event.run_number, []).append(event.type)
    return by_run


def test_a_reverted_duplication_is_redone_into_the_same_name_and_the_redo_reverted_again(
    world: Database,
) -> None:
    """duplicate → revert → duplicate again (a corrected filter, the source repaired) → revert again: the
    copies a revert hid are re-created in place, and reverting that puts them back exactly as hidden."""
    first = tools.duplicate_datasets(
        world,
        actor=CERTIFIER,
        filter={"run_number": {"<=": RUNS[1]}},  # the mistake: the last run left out
        source_dataset_name=PROMPT,
        target_dataset_name=REDONE,
        workspaces=["dt", "csc"],
    )
    first_events = event_types(world, first.change_set_id)
    assert sorted(first.changed) == [(RUNS[0], PROMPT), (RUNS[1], PROMPT)] and first.noted == {}
    assert checked(world, RUNS[0], REDONE)[1] == checked(world, RUNS[0], PROMPT)[1]

    undo = registry.revert_change_set(world, actor=CERTIFIER, change_set_id=first.change_set_id)
    hidden = {run: checked(world, run, REDONE) for run in RUNS[:2]}
    assert tools.unique_dataset_names(world, filter={}) == sorted([EXPRESS, PROMPT])
    for attributes, flags, _ in hidden.values():
        assert attributes["hidden"] is True and attributes["hidden_reason"] == "its duplication was reverted"
        assert attributes["csc_state"] == "COMPLETED" and flags  # the copied LS are kept, hidden

    # The source is repaired (dt-dt GOOD, dt signed off) before duplicating again, into dt only.
    tools.batch_update(
        world, actor=CERTIFIER, filter=ONLY_PROMPT, columns=["dt-dt"], new_status="GOOD", comment="fixed"
    )
    tools.change_states(
        world, actor=CERTIFIER, filter=ONLY_PROMPT, workspace="dt", from_state="OPEN", to_state="SIGNOFF"
    )
    corrected = {"run_number": {">=": RUNS[0]}}
    params = {"source_dataset_name": PROMPT, "target_dataset_name": REDONE, "workspaces": ["dt"]}
    before_preview = written(world)
    shown = tools.preview(world, tool="duplicate", filter=corrected, **params)
    assert written(world) == before_preview
    assert sorted(shown.changing) == sorted((run, PROMPT) for run in RUNS) and shown.skipped == {}
    [(note, count)] = shown.noted.items()
    assert (
        count == 2 and f"{REDONE} re-created over its copy hidden when its duplication was reverted" in note
    )

    redo = tools.duplicate_datasets(world, actor=CERTIFIER, filter=corrected, **params)
    assert redo.noted == shown.noted and len(redo.changed) == 3
    assert tools.unique_dataset_names(world, filter={}) == sorted([EXPRESS, PROMPT, REDONE])
    for run in RUNS:
        attributes, flags, oms = checked(world, run, REDONE)
        source_attributes, source_flags, source_oms = checked(world, run, PROMPT)
        assert "hidden" not in attributes and "hidden_reason" not in attributes
        assert attributes == {"global_state": "OPEN", "dt_state": "SIGNOFF", "duplicated_from": PROMPT}
        assert (flags, oms) == (source_flags, source_oms) and status(world, run, REDONE) == [(1, 10, "GOOD")]
    # The log: the redo is one change set, revertible; the hidden copies are changed, not created again.
    redo_events = event_types(world, redo.change_set_id)
    assert "DatasetCreated" not in redo_events[RUNS[0]] + redo_events[RUNS[1]]
    assert redo_events[RUNS[2]][0] == "DatasetCreated"
    assert not registry.describe_change_set(world, change_set_id=redo.change_set_id).creates
    assert event_types(world, first.change_set_id) == first_events  # nothing of the first one lost
    assert registry.describe_change_set(world, change_set_id=first.change_set_id).reverted_by == [
        undo.change_set_id
    ]
    # Visible now: duplicating into the name once more is refused, naming it, and writes nothing.
    before = written(world)
    with pytest.raises(InvalidInput) as refused:
        tools.duplicate_datasets(world, actor=CERTIFIER, filter=corrected, **params)
    assert refused.value.field == "target_dataset_name" and written(world) == before
    assert f"already has dataset {REDONE!r}, visible" in refused.value.message

    # Reverting the redo: the two copies back exactly as the first revert left them (dt SIGNOFF and csc
    # COMPLETED do not make it a closed revert), the third hidden with its copied LS.
    again = registry.revert_change_set(world, actor=CERTIFIER, change_set_id=redo.change_set_id)
    assert tools.unique_dataset_names(world, filter={}) == sorted([EXPRESS, PROMPT])
    assert {run: checked(world, run, REDONE) for run in RUNS[:2]} == hidden
    attributes, flags, _ = checked(world, RUNS[2], REDONE)
    assert attributes["hidden_reason"] == "its duplication was reverted" and flags
    assert registry.describe_change_set(world, change_set_id=redo.change_set_id).reverted_by == [
        again.change_set_id
    ]
    # And the duplication can be redone once more: all three are copies a revert hid.
    assert list(tools.preview(world, tool="duplicate", filter=corrected, **params).noted.values()) == [3]


def test_a_target_an_expert_hid_is_not_overwritten(world: Database) -> None:
    only = {"run_number": RUNS[0]}
    params = {"source_dataset_name": PROMPT, "target_dataset_name": REDONE}
    done = tools.duplicate_datasets(world, actor=CERTIFIER, filter=only, **params)
    registry.revert_change_set(world, actor=CERTIFIER, change_set_id=done.change_set_id)
    # An expert un-hides the copy and hides it again for a reason of their own: it is their data now.
    tools.unhide_datasets(world, actor=CERTIFIER, filter={"name": REDONE}, reason="keep it")
    with pytest.raises(InvalidInput) as refused:
        tools.hide_datasets(
            world, actor=CERTIFIER, filter={"name": REDONE}, reason="its duplication was reverted"
        )
    assert refused.value.field == "reason"
    tools.hide_datasets(world, actor=CERTIFIER, filter={"name": REDONE}, reason="wrong era")
    before = written(world)
    with pytest.raises(InvalidInput) as previewed:
        tools.preview(world, tool="duplicate", filter=only, **params)
    with pytest.raises(InvalidInput) as refused:
        tools.duplicate_datasets(world, actor=CERTIFIER, filter=only, **params)
    for error in (previewed.value, refused.value):
        assert error.field == "target_dataset_name"
        assert f"run {RUNS[0]} already has dataset {REDONE!r}, hidden (wrong era)" in error.message
    assert written(world) == before


def test_change_states_in_one_workspace_and_in_all(world: Database) -> None:
    done = tools.change_states(
        world, actor=CERTIFIER, filter=ONLY_PROMPT, workspace="dt", from_state="OPEN", to_state="SIGNOFF"
    )
    assert len(done.changed) == 3
    again = tools.preview(
        world, tool="change_states", filter=ONLY_PROMPT, workspace="dt", from_state="OPEN", to_state="SIGNOFF"
    )
    assert again.changing == [] and again.skipped == {"already SIGNOFF in dt": 3}
    every = tools.change_states(world, actor=CERTIFIER, filter=ONLY_PROMPT, to_state="COMPLETED")
    attributes = registry.run_state(world, RUNS[0]).datasets[PROMPT].attributes
    assert {attributes[k] for k in ("global_state", "dt_state", "csc_state")} == {"COMPLETED"}
    registry.revert_change_set(
        world, actor=EXPERT, change_set_id=every.change_set_id, force=True, comment="too early"
    )
    attributes = registry.run_state(world, RUNS[0]).datasets[PROMPT].attributes
    assert (attributes["global_state"], attributes["dt_state"]) == ("OPEN", "SIGNOFF")


def test_hide_needs_a_reason_and_unhide_brings_them_back(world: Database) -> None:
    with pytest.raises(InvalidInput) as refused:
        tools.hide_datasets(world, actor=CERTIFIER, filter=ONLY_PROMPT, reason=" ")
    assert refused.value.field == "reason"
    tools.hide_datasets(world, actor=CERTIFIER, filter=ONLY_PROMPT, reason="wrong era")
    assert tools.unique_dataset_names(world, filter={}) == [EXPRESS]
    hidden = tools.preview(world, tool="unhide", filter=ONLY_PROMPT, reason="back")
    assert hidden.selection.count == 3
    done = tools.unhide_datasets(world, actor=CERTIFIER, filter=ONLY_PROMPT, reason="era was right")
    assert tools.unique_dataset_names(world, filter={}) == sorted([EXPRESS, PROMPT])
    registry.revert_change_set(world, actor=CERTIFIER, change_set_id=done.change_set_id)
    assert tools.unique_dataset_names(world, filter={}) == [EXPRESS]


def test_an_empty_filter_is_refused_unless_confirmed(world: Database) -> None:
    before = written(world)
    with pytest.raises(InvalidInput) as refused:
        tools.batch_update(
            world, actor=CERTIFIER, filter={}, columns=["dt-dt"], new_status="GOOD", comment="all good"
        )
    assert refused.value.field == "filter" and written(world) == before
    shown = tools.preview(
        world, tool="batch_update", filter={}, columns=["dt-dt"], new_status="GOOD", comment="all good"
    )
    assert shown.needs_confirmation and shown.selection.count == 6 and written(world) == before
    tools.batch_update(
        world,
        actor=CERTIFIER,
        filter={},
        confirm_all=True,
        columns=["dt-dt"],
        new_status="GOOD",
        comment="all good",
    )
    assert written(world)[0] == before[0] + 1


def test_a_tool_failing_half_way_writes_nothing(world: Database) -> None:
    # The third run has no express dataset: the copy fails on it after deciding the others.
    registry.change_dataset_attributes(
        world, actor=EXPERT, run_number=RUNS[2], name=EXPRESS, attributes={"hidden": True}, comment="x"
    )
    doomed = "/Doomed/DQM"
    tools.duplicate_datasets(
        world,
        actor=CERTIFIER,
        filter={"run_number": RUNS[2]},
        source_dataset_name=PROMPT,
        target_dataset_name=doomed,
    )
    before = written(world)
    with pytest.raises(InvalidInput) as refused:
        tools.duplicate_datasets(
            world,
            actor=CERTIFIER,
            filter={},
            confirm_all=True,
            source_dataset_name=PROMPT,
            target_dataset_name=doomed,
        )
    assert refused.value.field == "target_dataset_name" and str(RUNS[2]) in refused.value.message
    assert written(world) == before
    assert doomed not in registry.run_state(world, RUNS[0]).datasets


def test_a_refused_dataset_refuses_the_whole_operation(world: Database) -> None:
    before = written(world)
    with pytest.raises(PermissionDenied, match="datasets:dctools:batch_update"):
        tools.batch_update(
            world,
            actor=DT_CERTIFIER,
            filter=ONLY_PROMPT,
            columns=["dt-dt"],
            new_status="GOOD",
            comment="not mine to do",
        )
    assert written(world) == before


@pytest.mark.parametrize(
    ("tool", "params", "field"),
    [
        ("batch_update", {"columns": ["dt-dt"], "new_status": "PERFECT", "comment": "abc"}, "new_status"),
        ("batch_update", {"columns": ["nope-nope"], "new_status": "GOOD", "comment": "abc"}, "columns[0]"),
        ("batch_update", {"columns": ["dt-dt"], "new_status": "GOOD", "comment": ""}, "comment"),
        (
            "copy_columns",
            {"source_dataset_name": PROMPT, "target_dataset_name": PROMPT, "columns": ["dt-dt"]},
            "target_dataset_name",
        ),
        (
            "duplicate",
            {"source_dataset_name": PROMPT, "target_dataset_name": "x", "workspaces": ["nope"]},
            "workspaces[0]",
        ),
        ("change_states", {"to_state": "DONE"}, "to_state"),
        ("change_states", {"to_state": "OPEN", "workspace": "nope"}, "workspace[0]"),
        ("sweep", {}, "tool"),
    ],
)
def test_bad_parameters_name_their_field(world: Database, tool: str, params: dict, field: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        tools.preview(world, tool=tool, filter=ONLY_PROMPT, **params)
    assert refused.value.field == field


def test_a_crash_while_writing_the_second_run_leaves_nothing(world: Database, monkeypatch) -> None:  # noqa: ANN001
    """A fault after the first run's events and projections were written (as a kill mid-loop would be):
    the operation is one transaction, so the first run's writes are gone too."""
    from runreg.registry import store

    before = written(world)
    before_status = {run: status(world, run, PROMPT) for run in RUNS}
    real, calls = store.save_change, []

    def failing(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("disk gone")
        return real(*args, **kwargs)

    monkeypatch.setattr(store, "save_change", failing)
    with pytest.raises(RuntimeError, match="disk gone"):
        tools.batch_update(
            world, actor=CERTIFIER, filter=ONLY_PROMPT, columns=["dt-dt"], new_status="GOOD", comment="boom"
        )
    monkeypatch.undo()
    assert len(calls) == 2 and written(world) == before
    assert {run: status(world, run, PROMPT) for run in RUNS} == before_status
