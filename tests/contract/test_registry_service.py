"""Registry writes and reads through the service, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import func, select

from runreg.eventlog import store as eventlog
from runreg.eventlog.tables import change_sets, events
from runreg.kernel.actors import Actor, ActorKind
from runreg.kernel.errors import (
    InvalidInput,
    InvalidState,
    PermissionDenied,
    RevertConflict,
    RunAlreadyExists,
    RunNotFound,
    SignOffRefused,
    StaleVersion,
)
from runreg.kernel.ranges import RangeMap
from runreg.registry import service, store
from runreg.registry.events import FlagsSet, Layer
from runreg.registry.model import ONLINE
from runreg.registry.service import FlagEdit
from runreg.storage.database import Database
from tests.builders.runs import GOOD, OMS_WORKER, create_collision_run

# Bob is an expert: these tests are about the registry's rules; tests/contract/test_permission_gate.py
# is about who may do what.
BOB = Actor("bob@cern.ch", ActorKind.HUMAN, frozenset({"cms-dqm-runregistry-experts"}))
ALICE = Actor("alice@cern.ch", ActorKind.HUMAN, frozenset({"cms-dqm-runregistry-experts"}))
ONCALL = Actor("oncall@cern.ch", ActorKind.HUMAN, frozenset({"cms-dqm-oncall"}))


def counts(db: Database) -> tuple[int, int]:
    with db.reading() as conn:
        return (
            conn.execute(select(func.count()).select_from(change_sets)).scalar_one(),
            conn.execute(select(func.count()).select_from(events)).scalar_one(),
        )


def statuses(db: Database, run_number: int = 380567, component: str = "dt-dt") -> list[tuple[int, int, str]]:
    with db.reading() as conn:
        ranges = store.component_ranges(conn, run_number, ONLINE)[component]
    return [(r["start"], r["end"], r["status"]) for r in ranges]


def test_a_new_run_is_stored_as_ranges_with_its_summary(db: Database) -> None:
    result = create_collision_run(db, ls_count=2000, off={"bpix_ready": (100, 180)})
    assert result.changed

    run = service.run_state(db, 380567)
    assert run.ls_count == 2000
    assert run.rr["state"] == "OPEN" and run.rr["class"] == "Collisions24"
    assert statuses(db) == [(1, 2000, "GOOD")]
    with db.reading() as conn:
        summary = store.summary(conn, 380567, ONLINE)
        oms_rows = conn.execute(
            select(func.count()).where(store.oms_ranges.c.run_number == 380567)
        ).scalar_one()
    assert summary.triplet_summary["dt-dt"]["GOOD"] == 2000
    assert summary.dcs_summary["bpix_ready"] == {"TRUE": 1919, "FALSE": 81, "NULL": 0, "EMPTY": 0}
    # 2,000 LS of 14 DCS keys: one row per constant range, three for the bit that drops out (luminosity is
    # the run's dense arrays: tests/contract/test_luminosity.py).
    assert oms_rows == 13 + 3


def test_worked_example_through_the_service(db: Database) -> None:
    """rr_backend §3.7.6 with real writers: the shifter's STANDBY survives a newer automatic BAD."""
    create_collision_run(db, ls_count=10)
    service.edit_flags(
        db,
        actor=OMS_WORKER,
        run_number=380567,
        edits=[FlagEdit("dt-dt", 5, 6, "BAD", "auto")],
        comment="rule",
    )
    service.edit_flags(
        db,
        actor=ALICE,
        run_number=380567,
        edits=[FlagEdit("dt-dt", 6, 8, "STANDBY", "HV trip")],
        comment="HV trip seen",
    )
    service.edit_flags(
        db,
        actor=OMS_WORKER,
        run_number=380567,
        edits=[FlagEdit("dt-dt", 7, 10, "BAD", "auto")],
        comment="rule",
    )
    assert statuses(db) == [(1, 4, "GOOD"), (5, 5, "BAD"), (6, 8, "STANDBY"), (9, 10, "BAD")]
    with db.reading() as conn:
        summary = store.summary(conn, 380567, ONLINE).triplet_summary["dt-dt"]
    assert (summary["GOOD"], summary["BAD"], summary["STANDBY"], summary["EMPTY"]) == (4, 3, 3, 0)
    assert "HV trip" in summary["comments"]


def test_projections_equal_a_rebuild_from_the_log(db: Database) -> None:
    create_collision_run(db, ls_count=50)
    service.edit_flags(
        db,
        actor=ALICE,
        run_number=380567,
        edits=[FlagEdit("tracker-pixel", 10, 20, "BAD", "module off"), FlagEdit("dt-dt", 1, 5, "STANDBY")],
        comment="shift",
    )
    service.change_run_attributes(
        db, actor=ALICE, run_number=380567, rr={"stop_reason": "fill dump"}, comment="stop reason"
    )

    def stored(component: str) -> tuple[list[tuple[int, int, str]], dict]:
        with db.reading() as conn:
            summary = store.summary(conn, 380567, ONLINE).triplet_summary[component]
        return statuses(db, component=component), summary

    incremental = service.run_state(db, 380567)
    stored_before = {c: stored(c) for c in ("tracker-pixel", "dt-dt")}
    rebuilt = service.rebuild_projection(db, actor=BOB, run_number=380567)

    assert service.run_state(db, 380567) == incremental == rebuilt
    assert {c: stored(c) for c in ("tracker-pixel", "dt-dt")} == stored_before
    # And what they agree on is the history written above, not an empty state.
    assert stored_before["tracker-pixel"][0] == [(1, 9, "GOOD"), (10, 20, "BAD"), (21, 50, "GOOD")]
    assert stored_before["dt-dt"][0] == [(1, 5, "STANDBY"), (6, 50, "GOOD")]
    pixel = stored_before["tracker-pixel"][1]
    assert (pixel["GOOD"], pixel["BAD"], pixel["comments"]) == (39, 11, ["module off"])
    assert rebuilt.rr["stop_reason"] == "fill dump" and rebuilt.ls_count == 50


@pytest.mark.parametrize(
    "edit",
    [FlagEdit("dt-dt", 1, 101, "GOOD"), FlagEdit("dt-dt", 1, 5, "BAD", "x"), FlagEdit("dt-xx", 1, 5, "GOOD")],
)
def test_a_rejected_edit_writes_nothing(db: Database, edit: FlagEdit) -> None:
    create_collision_run(db, ls_count=100)
    before = counts(db)
    with pytest.raises(InvalidInput):
        service.edit_flags(
            db,
            actor=ALICE,
            run_number=380567,
            edits=[FlagEdit("dt-dt", 1, 5, "STANDBY"), edit],
            comment="batch",
        )
    assert counts(db) == before
    assert statuses(db) == [(1, 100, "GOOD")]


def test_unknown_run_and_duplicate_run(db: Database) -> None:
    with pytest.raises(RunNotFound):
        service.edit_flags(db, actor=ALICE, run_number=1, edits=[FlagEdit("dt-dt", 1, 1, "GOOD")], comment="")
    create_collision_run(db)
    with pytest.raises(RunAlreadyExists):
        create_collision_run(db)


def test_repeating_an_automatic_update_writes_nothing(db: Database) -> None:
    create_collision_run(db, ls_count=30)
    before = counts(db)
    result = service.edit_flags(
        db, actor=OMS_WORKER, run_number=380567, edits=[FlagEdit("dt-dt", 1, 30, "GOOD")], comment="again"
    )
    assert not result.changed
    assert counts(db) == before


def test_sign_off_then_online_edits_are_refused(db: Database) -> None:
    create_collision_run(db, ls_count=20)
    service.move_run(db, actor=ALICE, run_number=380567, to_state="SIGNOFF")
    with pytest.raises(InvalidState, match="OPEN"):
        service.edit_flags(
            db, actor=ALICE, run_number=380567, edits=[FlagEdit("dt-dt", 1, 2, "GOOD")], comment="late"
        )
    service.move_run(db, actor=ALICE, run_number=380567, to_state="OPEN")
    service.edit_flags(
        db, actor=ALICE, run_number=380567, edits=[FlagEdit("dt-dt", 1, 2, "EXCLUDED")], comment="late"
    )
    assert statuses(db)[0] == (1, 2, "EXCLUDED")


def test_sign_off_refusal_names_ls_and_component(db: Database) -> None:
    create_collision_run(db, ls_count=20)
    service.edit_flags(
        db,
        actor=OMS_WORKER,
        run_number=380567,
        edits=[FlagEdit("tracker-strip", 12, 20, "NO VALUE FOUND")],
        comment="classifier",
    )
    with pytest.raises(SignOffRefused, match="LS 12 of component tracker-strip"):
        service.move_run(db, actor=ALICE, run_number=380567, to_state="SIGNOFF")


def test_state_as_of_any_change_set(db: Database) -> None:
    created = create_collision_run(db, ls_count=10)
    first = service.edit_flags(
        db, actor=ALICE, run_number=380567, edits=[FlagEdit("dt-dt", 1, 3, "BAD", "off")], comment="one"
    )
    service.edit_flags(
        db, actor=ALICE, run_number=380567, edits=[FlagEdit("dt-dt", 2, 10, "STANDBY")], comment="two"
    )
    service.change_run_attributes(db, actor=ALICE, run_number=380567, rr={"class": "Cosmics24"}, comment="c")

    at_creation = service.run_state(db, 380567, as_of=created.change_set_id)
    at_first = service.run_state(db, 380567, as_of=first.change_set_id)
    now = service.run_state(db, 380567)

    def dt(run):  # noqa: ANN001, ANN202
        return [(f, last, v["status"]) for f, last, v in run.datasets[ONLINE].flags["dt-dt"].effective()]

    assert dt(at_creation) == [(1, 10, "GOOD")]
    assert dt(at_first) == [(1, 3, "BAD"), (4, 10, "GOOD")]
    assert dt(now) == [(1, 1, "BAD"), (2, 10, "STANDBY")]
    assert at_first.rr["class"] == "Collisions24" and now.rr["class"] == "Cosmics24"


def test_revert_restores_what_a_change_set_overwrote(db: Database) -> None:
    create_collision_run(db, ls_count=10)
    service.edit_flags(
        db,
        actor=OMS_WORKER,
        run_number=380567,
        edits=[FlagEdit("dt-dt", 4, 6, "BAD", "rule")],
        comment="rule",
    )
    mistake = service.edit_flags(
        db,
        actor=ALICE,
        run_number=380567,
        edits=[FlagEdit("dt-dt", 1, 10, "EXCLUDED")],
        comment="wrong run!",
    )
    service.change_run_attributes(
        db, actor=ALICE, run_number=380567, rr={"stop_reason": "oops"}, comment="wrong run too"
    )
    assert statuses(db) == [(1, 10, "EXCLUDED")]

    result = service.revert_change_set(db, actor=BOB, change_set_id=mistake.change_set_id)

    # The manual layer had nothing there before: the automatic flags show through again.
    assert statuses(db) == [(1, 3, "GOOD"), (4, 6, "BAD"), (7, 10, "GOOD")]
    assert service.run_state(db, 380567).rr["stop_reason"] == "oops"
    with db.reading() as conn:
        change_set = eventlog.get_change_set(conn, result.change_set_id)
    assert change_set is not None and change_set.reverts == mistake.change_set_id
    assert change_set.author == "bob@cern.ch"


def test_revert_refuses_when_later_changes_touched_the_same_values_unless_forced(db: Database) -> None:
    create_collision_run(db, ls_count=10)
    first = service.edit_flags(
        db, actor=ALICE, run_number=380567, edits=[FlagEdit("dt-dt", 1, 5, "STANDBY")], comment="first"
    )
    later = service.edit_flags(
        db, actor=BOB, run_number=380567, edits=[FlagEdit("dt-dt", 5, 7, "BAD", "noise")], comment="later"
    )
    before = counts(db)
    with pytest.raises(RevertConflict) as error:
        service.revert_change_set(db, actor=BOB, change_set_id=first.change_set_id)
    assert f"change set {later.change_set_id}" in error.value.message and "LS 1-5" in error.value.message
    assert counts(db) == before

    # Forced: LS 1-5 go back to what they were before `first` (LS 5 loses the later BAD); LS 6-7 keep it.
    service.revert_change_set(
        db, actor=BOB, change_set_id=first.change_set_id, force=True, comment="overwrite the later fix"
    )
    assert statuses(db) == [(1, 5, "GOOD"), (6, 7, "BAD"), (8, 10, "GOOD")]


def test_revert_of_a_run_attribute_edit_and_of_a_run_creation(db: Database) -> None:
    created = create_collision_run(db, ls_count=10)
    edit = service.change_run_attributes(
        db, actor=ALICE, run_number=380567, rr={"class": "Cosmics24"}, comment="wrong"
    )
    service.revert_change_set(db, actor=ALICE, change_set_id=edit.change_set_id)
    run = service.run_state(db, 380567)
    assert run.rr["class"] == "Collisions24" and "class" not in run.rr_manual
    with pytest.raises(InvalidInput, match="cannot be reverted"):
        service.revert_change_set(db, actor=ALICE, change_set_id=created.change_set_id)


def test_revert_honours_the_state_rules_of_direct_edits(db: Database) -> None:
    create_collision_run(db, ls_count=10)
    edit = service.edit_flags(
        db, actor=ALICE, run_number=380567, edits=[FlagEdit("dt-dt", 2, 3, "BAD", "noise")], comment="noise"
    )
    service.move_run(db, actor=ALICE, run_number=380567, to_state="SIGNOFF")
    before = counts(db)
    # A direct edit of a signed-off run is refused, and so is a revert that would rewrite its LS.
    with pytest.raises(InvalidState) as refusal:
        service.revert_change_set(db, actor=ONCALL, change_set_id=edit.change_set_id)
    assert "LS 2-3 of dt-dt on online of run 380567, which is SIGNOFF" in refusal.value.message
    assert counts(db) == before
    # Forcing needs a reason, and the action registry:change_set:revert_closed (experts, not on-call).
    with pytest.raises(InvalidInput, match="reason"):
        service.revert_change_set(db, actor=BOB, change_set_id=edit.change_set_id, force=True)
    with pytest.raises(PermissionDenied, match="registry:change_set:revert_closed"):
        service.revert_change_set(
            db, actor=ONCALL, change_set_id=edit.change_set_id, force=True, comment="noise was a DQM bug"
        )
    assert counts(db) == before
    service.revert_change_set(
        db, actor=BOB, change_set_id=edit.change_set_id, force=True, comment="noise was a DQM bug"
    )
    assert statuses(db) == [(1, 10, "GOOD")]
    assert service.run_state(db, 380567).status == "SIGNOFF"


def test_reverting_a_state_move_is_a_forced_revert(db: Database) -> None:
    # A class no datasets-accepted rule names: the sign-off creates no offline dataset (a sign-off that does
    # cannot be reverted at all, see test_signoff.py).
    create_collision_run(db, ls_count=10, rr={"class": "Commissioning24"})
    sign_off = service.move_run(db, actor=ALICE, run_number=380567, to_state="SIGNOFF")
    # Re-opening by revert would skip nothing, but re-closing by revert would skip the sign-off checks:
    # a revert never moves states unless forced.
    with pytest.raises(InvalidState, match="state of run 380567 .SIGNOFF -> OPEN."):
        service.revert_change_set(db, actor=ONCALL, change_set_id=sign_off.change_set_id)
    service.move_run(db, actor=ONCALL, run_number=380567, to_state="OPEN")
    assert service.run_state(db, 380567).status == "OPEN"


def _stream_versions(db: Database, run_number: int = 380567) -> list[int]:
    with db.reading() as conn:
        query = select(events.c.stream_version).where(events.c.run_number == run_number)
        return sorted(conn.execute(query).scalars())


def test_of_two_writers_appending_at_the_same_version_the_second_is_refused_and_writes_nothing(
    db: Database,
) -> None:
    """Two connections in two threads, both holding version v: the first appends and keeps its transaction
    open while the second tries (on SQLite it waits for the write lock, on PostgreSQL for the unique index);
    after the first commits, the second gets StaleVersion and its whole change set rolls back."""
    create_collision_run(db, ls_count=10)
    version = service.run_state(db, 380567).version
    before = counts(db)
    first_appended, second_started = threading.Event(), threading.Event()
    outcome: dict[str, object] = {}

    def writer(name: str, status: str) -> None:
        event = FlagsSet(
            name=ONLINE,
            first_ls=1,
            last_ls=1,
            component="dt-dt",
            triplet={**GOOD, "status": status},
            layer=Layer.MANUAL,
        )
        try:
            if name == "second":
                first_appended.wait(10)
                second_started.set()
            with db.transaction() as conn:
                change_set = eventlog.open_change_set(conn, ALICE, name)
                outcome[name] = eventlog.append(conn, change_set, 380567, version, [event])
                if name == "first":
                    first_appended.set()
                    second_started.wait(10)
                    time.sleep(0.3)  # the second writer is now waiting on this open transaction
        except Exception as exc:  # noqa: BLE001 - the outcome is what the test asserts
            outcome[name] = exc

    threads = [
        threading.Thread(target=writer, args=args) for args in (("first", "STANDBY"), ("second", "EXCLUDED"))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert second_started.is_set(), "the second writer never ran while the first was open"
    assert outcome["first"] == version + 1
    assert isinstance(outcome["second"], StaleVersion), outcome["second"]
    assert outcome["second"].details == {"run_number": 380567, "expected_version": version}
    # One change set and one event more: the refused writer's change set rolled back with its append.
    assert counts(db) == (before[0] + 1, before[1] + 1)
    assert _stream_versions(db) == list(range(1, version + 2))
    with db.reading() as conn:
        [(change_set_id, payload)] = conn.execute(
            select(events.c.change_set_id, events.c.payload).where(events.c.stream_version == version + 1)
        ).all()
        assert eventlog.get_change_set(conn, change_set_id).comment == "first"
    assert payload["triplet"]["status"] == "STANDBY"


WRITERS, EDITS_PER_WRITER = 4, 6


def test_concurrent_editors_of_one_run_lose_no_update(db: Database) -> None:
    """Four threads, each with its own connections, race edits of one run through the service. Every write
    is serialised (row lock on PostgreSQL, BEGIN IMMEDIATE on SQLite) or refused as stale and retried; at the
    end every edit is there, each exactly once, in one gap-free stream that the projections agree with."""
    create_collision_run(db, ls_count=WRITERS * EDITS_PER_WRITER)
    version = service.run_state(db, 380567).version
    before = counts(db)
    start = threading.Barrier(WRITERS)
    failures: list[BaseException] = []
    active: dict[int, tuple[float, float]] = {}

    def writer(index: int) -> None:
        try:
            start.wait(10)
            began = time.monotonic()
            for edit in range(EDITS_PER_WRITER):
                ls = index * EDITS_PER_WRITER + edit + 1  # each writer its own LS, all in one component
                for _ in range(20):
                    try:
                        service.edit_flags(
                            db,
                            actor=ALICE,
                            run_number=380567,
                            edits=[FlagEdit("dt-dt", ls, ls, "BAD", f"writer {index} edit {edit}")],
                            comment=f"writer {index} edit {edit}",
                        )
                        break
                    except StaleVersion:
                        continue  # refused as stale: the service reloads the run on the next try
                else:
                    raise AssertionError(f"writer {index} edit {edit}: stale 20 times")
            active[index] = (began, time.monotonic())
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            failures.append(exc)

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)

    assert failures == []
    # The writers really raced: each was still writing when the last one began (SQLite may let one writer
    # take the lock several times in a row, so commit order need not interleave; the attempts overlap).
    assert max(began for began, _ in active.values()) < min(ended for _, ended in active.values())
    total = WRITERS * EDITS_PER_WRITER
    run = service.run_state(db, 380567)
    effective = run.datasets[ONLINE].flags["dt-dt"].effective()
    assert [
        (ls, effective.get(ls)["status"], effective.get(ls)["comment"]) for ls in range(1, total + 1)
    ] == [
        (ls, "BAD", f"writer {(ls - 1) // EDITS_PER_WRITER} edit {(ls - 1) % EDITS_PER_WRITER}")
        for ls in range(1, total + 1)
    ]
    assert counts(db) == (before[0] + total, before[1] + total)  # one change set and one event per edit
    assert run.version == version + total
    assert _stream_versions(db) == list(range(1, version + total + 1))
    assert service.rebuild_projection(db, actor=BOB, run_number=380567) == run


def test_oms_value_corrections_need_a_reason_and_are_latest_wins(db: Database) -> None:
    create_collision_run(db, ls_count=10)
    with pytest.raises(InvalidInput, match="comment"):
        service.set_oms_values(
            db,
            actor=ALICE,
            run_number=380567,
            first_ls=1,
            last_ls=2,
            values={"cms_active": False},
            comment="",
        )
    service.set_oms_values(
        db,
        actor=ALICE,
        run_number=380567,
        first_ls=1,
        last_ls=2,
        values={"cms_active": False},
        comment="DCS archive shows CMS inactive",
    )
    run = service.run_state(db, 380567)
    assert run.datasets[ONLINE].oms["cms_active"] == RangeMap([(1, 2, False), (3, 10, True)])


def test_offline_dataset_edits_follow_the_workspace_state(db: Database) -> None:
    create_collision_run(db, ls_count=10)
    name = "/PromptReco/Collisions2024A/DQM"
    service.create_dataset(
        db,
        actor=OMS_WORKER,
        run_number=380567,
        name=name,
        attributes={"global_state": "OPEN", "tracker_state": "waiting dqm gui"},
    )
    with pytest.raises(InvalidState, match="waiting dqm gui"):
        service.edit_flags(
            db,
            actor=ALICE,
            run_number=380567,
            dataset=name,
            edits=[FlagEdit("tracker-pixel", 1, 10, "GOOD")],
            comment="too early",
        )
    with pytest.raises(
        InvalidInput, match="attributes.tracker_state: a workspace state changes by a dataset move"
    ):
        service.change_dataset_attributes(
            db,
            actor=OMS_WORKER,
            run_number=380567,
            name=name,
            attributes={"tracker_state": "OPEN"},
            comment="x",
        )
    service.move_dataset(
        db,
        actor=OMS_WORKER,
        run_number=380567,
        name=name,
        workspace="tracker",
        to_state="OPEN",
        comment="in GUI",
    )
    service.edit_flags(
        db,
        actor=ALICE,
        run_number=380567,
        dataset=name,
        edits=[FlagEdit("tracker-pixel", 1, 10, "GOOD")],
        comment="certified",
    )
    with db.reading() as conn:
        assert store.component_ranges(conn, 380567, name)["tracker-pixel"][0]["status"] == "GOOD"
        # Offline datasets see the online OMS values.
        online = store.summary(conn, 380567, ONLINE)
        assert store.summary(conn, 380567, name).dcs_summary == online.dcs_summary


def test_runs_carried_between_imported_change_sets_are_the_states_stored(db: Database) -> None:
    """`LoadedRuns` lets an import's next change set of a run start from the state the transaction just
    wrote: that state must be exactly what reading the run back gives, change set after change set."""
    from datetime import UTC, datetime

    from runreg.registry.events import DatasetCreated, OmsValuesSet, RunAttributesChanged, RunCreated

    importer = Actor("auto@auto", ActorKind.AUTOMATIC)
    bad = {"status": "BAD", "comment": "noisy", "cause": ""}
    steps = [
        [RunCreated(oms={"ls_duration": 40}, rr={"class": "Collisions26"}), DatasetCreated(name=ONLINE)],
        [FlagsSet(ONLINE, 1, 40, component="dt-dt", triplet=GOOD, layer=Layer.AUTOMATIC)],
        [FlagsSet(ONLINE, 5, 9, component="dt-dt", triplet=bad, layer=Layer.MANUAL)],
        [OmsValuesSet(ONLINE, 1, 40, values={"beam1_present": True}), RunAttributesChanged(rr={"x": 1})],
        [FlagsSet(ONLINE, 10, 40, component="dt-dt", triplet=bad, layer=Layer.AUTOMATIC)],
    ]
    loaded = service.LoadedRuns(size=2)
    with db.transaction() as conn:
        for index, produced in enumerate(steps):
            service.write_imported(
                conn,
                actor=importer,
                comment=f"step {index}",
                at=datetime(2026, 4, 1, 10, index, tzinfo=UTC),
                decisions={381000: lambda run, produced=produced: list(produced)},
                loaded=loaded,
            )
            assert loaded.get(381000) == store.load_run(conn, 381000)
        for other in (381001, 381002):  # the oldest of more runs than `size` is forgotten
            service.write_imported(
                conn,
                actor=importer,
                comment="another run",
                at=datetime(2026, 4, 1, 11, tzinfo=UTC),
                decisions={other: lambda run: [RunCreated(oms={}, rr={})]},
                loaded=loaded,
            )
    assert loaded.get(381000) is None and loaded.get(381002) is not None
    assert service.run_state(db, 381000).version == 7
