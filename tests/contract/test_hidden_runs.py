"""Hidden runs (soft delete, rr_backend §10.4) through the registry service, on SQLite and PostgreSQL: one
revertible change set each way, left out of the run listings, still read by number, experts only."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from runreg.eventlog.tables import change_sets, events
from runreg.kernel.actors import Actor, ActorKind
from runreg.kernel.errors import InvalidInput, InvalidState, PermissionDenied, RevertConflict
from runreg.registry import readmodels, service
from runreg.registry.model import ONLINE
from runreg.storage.database import Database
from tests.builders.runs import EXPERT, SHIFTER, create_collision_run

RUN, OTHER = 380567, 380568
ONCALL = Actor("oncall@cern.ch", ActorKind.HUMAN, frozenset({"cms-dqm-oncall"}))


@pytest.fixture
def runs(db: Database) -> Database:
    create_collision_run(db, RUN, ls_count=10)
    create_collision_run(db, OTHER, ls_count=10)
    return db


def counts(db: Database) -> tuple[int, int]:
    with db.reading() as conn:
        return (
            conn.execute(select(func.count()).select_from(change_sets)).scalar_one(),
            conn.execute(select(func.count()).select_from(events)).scalar_one(),
        )


def listed(db: Database, **options: bool) -> dict[int, bool]:
    """The runs a run listing returns, with their `hidden` column."""
    rows, total = service.search(db, target="runs", filter={}, page_size=100, **options)
    assert total == len(rows)
    return {row["run_number"]: row["hidden"] for row in rows}


def test_a_hidden_run_is_left_out_of_the_listings_but_read_by_number(runs: Database) -> None:
    before = counts(runs)
    hid = service.hide_run(runs, actor=EXPERT, run_number=RUN, reason="  a test run recorded as physics ")
    assert counts(runs) == (before[0] + 1, before[1] + 1)
    assert service.history(runs, run_number=RUN, limit=1)[0].comment == (
        f"hide run {RUN}: a test run recorded as physics"
    )
    run = service.run_state(runs, RUN)
    assert (run.hidden, run.hidden_reason) == (True, "a test run recorded as physics")
    described = service.describe_run(run)
    assert (described["hidden"], described["hidden_reason"]) == (True, "a test run recorded as physics")
    assert readmodels.run_record_of(run)["deleted"] is True
    # Left out where listings are visible only (the API's default, the legacy route, the online tables) …
    assert listed(runs, visible_only=True) == {OTHER: False}
    filtered, total = service.search(
        runs, target="runs", filter={"run_number": RUN}, page_size=10, visible_only=True
    )
    assert (filtered, total) == ([], 0)
    # … listed, saying so, when asked for.
    assert listed(runs) == {RUN: True, OTHER: False}
    # Its datasets are not hidden: dataset listings (and golden JSONs) keep them, as the original did.
    datasets, _ = service.search(
        runs, target="datasets", filter={"run_number": RUN}, page_size=10, visible_only=True
    )
    assert [(d["run_number"], d["name"]) for d in datasets] == [(RUN, ONLINE)]
    # The state as of the change set, and a rebuild of the projections from the log, agree.
    assert service.run_state(runs, RUN, as_of=hid.change_set_id).hidden
    rebuilt = service.rebuild_projection(runs, actor=EXPERT, run_number=RUN)
    assert (rebuilt.hidden, rebuilt.hidden_reason) == (True, "a test run recorded as physics")
    assert listed(runs, visible_only=True) == {OTHER: False}


def test_show_again_and_the_refusals_write_nothing(runs: Database) -> None:
    service.hide_run(runs, actor=EXPERT, run_number=RUN, reason="duplicate of 380568")
    before = counts(runs)
    with pytest.raises(InvalidState, match="already hidden .duplicate of 380568."):
        service.hide_run(runs, actor=EXPERT, run_number=RUN, reason="again")
    with pytest.raises(InvalidState, match=f"run {OTHER} is not hidden"):
        service.show_run(runs, actor=EXPERT, run_number=OTHER, reason="it is fine")
    for reason in ("", "  ", "ok"):
        with pytest.raises(InvalidInput) as refused:
            service.show_run(runs, actor=EXPERT, run_number=RUN, reason=reason)
        assert refused.value.field == "reason"
    with pytest.raises(InvalidInput) as too_long:
        service.hide_run(runs, actor=EXPERT, run_number=OTHER, reason="x" * 100_000)
    assert too_long.value.field == "reason"
    assert counts(runs) == before
    service.show_run(runs, actor=EXPERT, run_number=RUN, reason="it was not a duplicate")
    run = service.run_state(runs, RUN)
    assert (run.hidden, run.hidden_reason) == (False, "")
    assert listed(runs, visible_only=True) == {RUN: False, OTHER: False}


def test_only_experts_hide_or_show_by_default_and_the_refusal_names_them(runs: Database) -> None:
    before = counts(runs)
    for actor in (SHIFTER, ONCALL):
        with pytest.raises(PermissionDenied) as refused:
            service.hide_run(runs, actor=actor, run_number=RUN, reason="not mine to hide")
        assert refused.value.message == (
            f"{actor.name} may not registry:run:hide (run {RUN}): User needs to be part of any of the "
            "following e-groups to fulfill this action: cms-dqm-runregistry-experts"
        )
    service.hide_run(runs, actor=EXPERT, run_number=RUN, reason="a test run")
    with pytest.raises(PermissionDenied, match="registry:run:hide"):
        service.show_run(runs, actor=SHIFTER, run_number=RUN, reason="I want it back")
    assert counts(runs)[0] == before[0] + 1
    assert service.run_state(runs, RUN).hidden


def test_reverting_a_hide_shows_the_run_and_reverting_a_show_hides_it_again(runs: Database) -> None:
    hid = service.hide_run(runs, actor=EXPERT, run_number=RUN, reason="wrong run")
    described = service.describe_change_set(runs, change_set_id=hid.change_set_id)
    assert not described.creates
    assert [(c.area, c.key, c.old, c.new) for c in described.changes][0] == ("run", "hidden", False, True)
    # Undone like any change, by whoever may revert (on-call), in any state.
    service.move_run(runs, actor=EXPERT, run_number=RUN, to_state="SIGNOFF", comment="done")
    service.revert_change_set(runs, actor=ONCALL, change_set_id=hid.change_set_id)
    assert not service.run_state(runs, RUN).hidden
    assert listed(runs, visible_only=True) == {RUN: False, OTHER: False}

    again = service.hide_run(runs, actor=EXPERT, run_number=RUN, reason="a test run after all")
    shown = service.show_run(runs, actor=EXPERT, run_number=RUN, reason="no, physics")
    # The hide is not undone over the later show without force; reverting the show restores the reason.
    with pytest.raises(RevertConflict, match=f"run hidden .change set {shown.change_set_id}."):
        service.revert_change_set(runs, actor=EXPERT, change_set_id=again.change_set_id)
    service.revert_change_set(runs, actor=EXPERT, change_set_id=shown.change_set_id)
    run = service.run_state(runs, RUN)
    assert (run.hidden, run.hidden_reason) == (True, "a test run after all")
    assert listed(runs, visible_only=True) == {OTHER: False}
