"""The run page's read: a run, its log (events with change sets, newest first) and the configuration in one
snapshot, as of any change set that touched it."""

from __future__ import annotations

import pytest

from runreg.kernel.errors import InvalidInput, RunNotFound
from runreg.registry import service as registry
from runreg.registry.service import FlagEdit
from runreg.storage.database import Database
from tests.builders.runs import SHIFTER, create_collision_run


def test_the_log_holds_every_change_set_of_the_run_newest_first_with_its_events(db: Database) -> None:
    created = create_collision_run(db, 380400, ls_count=30, components=("dt-dt",)).change_set_id
    create_collision_run(db, 380401, ls_count=10, components=("dt-dt",))  # another run's change sets
    edit = registry.edit_flags(
        db, actor=SHIFTER, run_number=380400, edits=[FlagEdit("dt-dt", 5, 8, "BAD", "HV trip")], comment="HV"
    ).change_set_id
    view = registry.run_view(db, run_number=380400)
    assert [cs.id for cs in view.change_sets] == [edit, created]
    newest = view.log[0]
    assert (newest.change_set.author, newest.type, newest.target, newest.first_ls, newest.last_ls) == (
        "alice@cern.ch",
        "FlagsSet",
        "dt-dt",
        5,
        8,
    )
    assert newest.manual and newest.payload["triplet"] == {"status": "BAD", "comment": "HV trip", "cause": ""}
    oms = [e for e in view.log if e.type == "OmsValuesSet"]
    assert oms and all(e.payload is None for e in oms)  # bulky per-LS values come as bare facts
    assert [e.stream_version for e in view.log] == sorted((e.stream_version for e in view.log), reverse=True)
    assert view.run.datasets["online"].flags["dt-dt"].effective().get(6)["status"] == "BAD"
    assert view.configuration.certifiable_components("online")
    assert view.as_of is None


def test_as_of_a_change_set_is_the_run_right_after_it_with_the_log_up_to_it(db: Database) -> None:
    created = create_collision_run(db, 380400, ls_count=30, components=("dt-dt",)).change_set_id
    registry.edit_flags(
        db, actor=SHIFTER, run_number=380400, edits=[FlagEdit("dt-dt", 5, 8, "BAD", "HV trip")], comment="HV"
    )
    view = registry.run_view(db, run_number=380400, as_of=created)
    assert view.as_of is not None and view.as_of.id == created and view.as_of.author == "oms-ingestion"
    assert [cs.id for cs in view.change_sets] == [created]
    assert view.run.datasets["online"].flags["dt-dt"].effective().get(6)["status"] == "GOOD"
    other = create_collision_run(db, 380401, ls_count=10, components=("dt-dt",)).change_set_id
    with pytest.raises(InvalidInput) as refused:
        registry.run_view(db, run_number=380400, as_of=other)
    assert (
        refused.value.field == "as_of"
        and f"change set {other} did not change run 380400" in refused.value.reason
    )
    with pytest.raises(RunNotFound):
        registry.run_view(db, run_number=999999)


def test_the_log_is_limited_to_the_newest_change_sets(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    create_collision_run(db, 380400, ls_count=30, components=("dt-dt",))
    edits = [
        registry.edit_flags(
            db,
            actor=SHIFTER,
            run_number=380400,
            edits=[FlagEdit("dt-dt", ls, ls, "STANDBY")],
            comment=f"e{ls}",
        ).change_set_id
        for ls in range(1, 6)
    ]
    monkeypatch.setattr(registry, "RUN_VIEW_CHANGE_SETS", 3)
    assert [cs.id for cs in registry.run_view(db, run_number=380400).change_sets] == edits[::-1][:3]
    as_of = registry.run_view(db, run_number=380400, as_of=edits[2])
    assert [cs.id for cs in as_of.change_sets] == [edits[2], edits[1], edits[0]]
