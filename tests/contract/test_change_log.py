"""The change log as the log page reads it: filtered, keyset-paged, each change set as an old → new diff."""

from __future__ import annotations

import pytest

from runreg.kernel.actors import Actor, ActorKind
from runreg.kernel.errors import ChangeSetNotFound, InvalidInput
from runreg.registry import service
from runreg.registry.changes import ABSENT
from runreg.registry.service import FlagEdit
from runreg.storage.database import Database
from tests.builders.runs import EXPERT, OMS_WORKER, SHIFTER, create_collision_run

AGENT = Actor("dials-agent", ActorKind.AGENT, frozenset({"cms-dqm-runregistry-experts"}))
GOOD = {"status": "GOOD", "comment": "", "cause": ""}


def _bad(db: Database, run_number: int, first: int, last: int, actor: Actor = SHIFTER) -> int:
    result = service.edit_flags(
        db,
        actor=actor,
        run_number=run_number,
        edits=[FlagEdit("dt-dt", first, last, "BAD", "HV trip in sector 4")],
        comment=f"dt bad {first}-{last}",
    )
    assert result.change_set_id is not None
    return result.change_set_id


def test_the_log_filters_by_run_author_and_actor_kind_and_pages_by_id(db: Database) -> None:
    created = [create_collision_run(db, n, ls_count=30).change_set_id for n in (1001, 1002)]
    edits = [_bad(db, 1001, 1, 5), _bad(db, 1002, 2, 3), _bad(db, 1001, 7, 8, actor=EXPERT)]
    by_agent = _bad(db, 1002, 10, 12, actor=AGENT)

    everything = service.change_log(db, page_size=50)
    assert [cs.id for cs in everything.change_sets] == [by_agent, *reversed(edits), *reversed(created)]
    assert everything.newer is None and everything.older is None
    assert everything.events[edits[0]] == {1001: 1}

    assert [cs.id for cs in service.change_log(db, run_number=1001).change_sets] == [
        edits[2],
        edits[0],
        created[0],
    ]
    assert [cs.id for cs in service.change_log(db, author=SHIFTER.name).change_sets] == [edits[1], edits[0]]
    assert [cs.id for cs in service.change_log(db, actor_kind="agent").change_sets] == [by_agent]
    automatic = service.change_log(db, actor_kind="automatic").change_sets
    assert [cs.id for cs in automatic] == list(reversed(created))

    first = service.change_log(db, page_size=2)
    assert [cs.id for cs in first.change_sets] == [by_agent, edits[2]] and first.newer is None
    second = service.change_log(db, page_size=2, before=first.older)
    assert [cs.id for cs in second.change_sets] == [edits[1], edits[0]]
    third = service.change_log(db, page_size=2, before=second.older)
    assert [cs.id for cs in third.change_sets] == list(reversed(created)) and third.older is None
    back = service.change_log(db, page_size=2, after=third.newer)
    assert [cs.id for cs in back.change_sets] == [edits[1], edits[0]]
    assert back.newer == edits[1] and back.older == edits[0]
    newest = service.change_log(db, page_size=2, after=back.newer)
    assert [cs.id for cs in newest.change_sets] == [by_agent, edits[2]] and newest.newer is None


def test_log_arguments_are_bounded_and_named(db: Database) -> None:
    with pytest.raises(InvalidInput, match="actor_kind"):
        service.change_log(db, actor_kind="robot")
    with pytest.raises(InvalidInput, match="page_size"):
        service.change_log(db, page_size=10_000)
    with pytest.raises(InvalidInput, match="after"):
        service.change_log(db, before=5, after=3)


def test_a_change_set_reads_as_old_to_new_values_and_names_its_reverts(db: Database) -> None:
    create_collision_run(db, 1001, ls_count=30)
    _bad(db, 1001, 10, 20)
    correction = service.edit_flags(
        db,
        actor=SHIFTER,
        run_number=1001,
        edits=[FlagEdit("dt-dt", 15, 25, "STANDBY", "beam dump")],
        comment="standby while the beam was dumped",
    ).change_set_id
    assert correction is not None
    described = service.describe_change_set(db, change_set_id=correction)
    assert described.runs == [1001] and not described.creates and described.omitted == 0
    (change,) = described.changes
    assert (change.area, change.key, change.dataset, change.ls, change.layer) == (
        "flags",
        "dt-dt",
        "online",
        (15, 25),
        "manual",
    )
    bad = {"status": "BAD", "comment": "HV trip in sector 4", "cause": ""}
    standby = {"status": "STANDBY", "comment": "beam dump", "cause": ""}
    assert change.old == [(15, 20, bad), (21, 25, GOOD)]  # what people saw: manual over automatic
    assert change.new == [(15, 25, standby)]

    service.revert_change_set(db, actor=EXPERT, change_set_id=correction, comment="undo standby")
    again = service.describe_change_set(db, change_set_id=correction)
    assert len(again.reverted_by) == 1
    revert = service.describe_change_set(db, change_set_id=again.reverted_by[0])
    restored = [(c.ls, c.new) for c in revert.changes]
    # 15-20 gets its BAD back; 21-25 had no manual flag, so the manual layer is cleared there.
    assert restored == [((15, 20), [(15, 20, bad)]), ((21, 25), [(21, 25, GOOD)])]


def test_attribute_changes_and_creations_and_shadowed_automatic_changes(db: Database) -> None:
    created = create_collision_run(db, 1001, ls_count=30, rr={"class": "Collisions24"}).change_set_id
    assert created is not None
    creation = service.describe_change_set(db, change_set_id=created)
    assert creation.creates
    assert (creation.changes[0].area, creation.changes[0].key) == ("run", "created")
    rr = {c.key: (c.old, c.new) for c in creation.changes if c.area == "rr"}
    assert rr["class"] == (ABSENT, "Collisions24")

    edit = service.change_run_attributes(
        db, actor=EXPERT, run_number=1001, rr={"class": "Cosmics24"}, comment="it was a cosmics run"
    ).change_set_id
    assert edit is not None
    (change,) = service.describe_change_set(db, change_set_id=edit).changes
    assert (change.area, change.key, change.old, change.new, change.layer) == (
        "rr",
        "class",
        "Collisions24",
        "Cosmics24",
        "manual",
    )

    _bad(db, 1001, 1, 30)
    hidden = service.edit_flags(  # the classifier changes its mind under the shifter's decision
        db,
        actor=OMS_WORKER,
        run_number=1001,
        edits=[FlagEdit("dt-dt", 1, 30, "STANDBY")],
        comment="classifier",
    ).change_set_id
    assert hidden is not None
    (flag,) = service.describe_change_set(db, change_set_id=hidden).changes
    assert flag.shadowed and flag.layer == "automatic"
    assert flag.old == [(1, 30, GOOD)]
    assert flag.new == [(1, 30, {"status": "STANDBY", "comment": "", "cause": ""})]


def test_an_unknown_change_set_is_not_found(db: Database) -> None:
    with pytest.raises(ChangeSetNotFound):
        service.describe_change_set(db, change_set_id=999_999)
