"""Offline datasets through the registry service, on SQLite and PostgreSQL: created at sign-off in the same
change set, never twice; workspace moves validated, one or many in one change set; offline LS edits only while
the workspace is OPEN; DCS bits per dataset, true and false; histories; what is waiting."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from runreg.eventlog.tables import change_sets, events
from runreg.kernel.actors import Actor, ActorKind
from runreg.kernel.errors import InvalidInput, InvalidState, PermissionDenied, SignOffRefused
from runreg.registry import service, store
from runreg.registry.model import NOT_SIGNIFICANT, ONLINE, WAITING_DQM_GUI
from runreg.registry.service import DatasetMove, FlagEdit
from runreg.registry.tables import datasets
from runreg.storage.database import Database
from tests.builders.runs import CERTIFIER, EXPERT, OMS_WORKER, SHIFTER, create_collision_run

RUN = 380567  # Collisions24, inside the default /PromptReco/Collisions2024D/DQM rule's range
PROMPT = "/PromptReco/Collisions2024D/DQM"
EXPRESS = "/Express/Collisions2024/DQM"
DT_CERTIFIER = Actor("dt@cern.ch", ActorKind.HUMAN, frozenset({"cms-dqm-runregistry-offline-dt-certifiers"}))


def counts(db: Database) -> tuple[int, int]:
    with db.reading() as conn:
        return (
            conn.execute(select(func.count()).select_from(change_sets)).scalar_one(),
            conn.execute(select(func.count()).select_from(events)).scalar_one(),
        )


def stored_datasets(db: Database) -> dict[str, dict]:
    with db.reading() as conn:
        rows = conn.execute(select(datasets).where(datasets.c.run_number == RUN))
        return {row.name: dict(row.attributes) for row in rows}


def ranges(db: Database, dataset: str, component: str) -> list[tuple[int, int, str]]:
    with db.reading() as conn:
        found = store.component_ranges(conn, RUN, dataset)[component]
    return [(r["start"], r["end"], r["status"]) for r in found]


@pytest.fixture
def signed_off(db: Database) -> Database:
    """A 50-LS run with dt-dt BAD on LS 20-24 online (a shifter's decision), signed off by the shifter."""
    create_collision_run(db, RUN, ls_count=50, off={"dtp_ready": (20, 24)})
    service.edit_flags(
        db, actor=SHIFTER, run_number=RUN, edits=[FlagEdit("dt-dt", 20, 24, "BAD", "HV trip")], comment="HV"
    )
    service.move_run(db, actor=SHIFTER, run_number=RUN, to_state="SIGNOFF")
    return db


def test_sign_off_creates_the_accepted_datasets_waiting_with_classified_flags(db: Database) -> None:
    create_collision_run(db, RUN, ls_count=50)
    service.edit_flags(
        db, actor=SHIFTER, run_number=RUN, edits=[FlagEdit("dt-dt", 20, 24, "BAD", "HV trip")], comment="HV"
    )
    before = counts(db)

    result = service.move_run(db, actor=SHIFTER, run_number=RUN, to_state="SIGNOFF")

    assert result.datasets_created == (EXPRESS, PROMPT) and result.note == ""
    assert counts(db)[0] == before[0] + 1  # the state move and the datasets: one change set
    stored = stored_datasets(db)
    assert set(stored) == {ONLINE, EXPRESS, PROMPT}
    prompt = stored[PROMPT]
    assert prompt["global_state"] == prompt["dt_state"] == prompt["tracker_state"] == WAITING_DQM_GUI
    assert {k for k in prompt if k.endswith("_state")} == {
        f"{ws}_state"
        for ws in ("global", "btag", "castor", "cms", "csc", "ctpps", "dc", "dt", "ecal", "egamma", "gem")
        + ("hcal", "hlt", "jetmet", "l1t", "lumi", "muon", "rpc", "tau", "tracker")
    }
    assert prompt["appeared_in"] == [] and prompt["datasets_in_gui"] == []
    # Offline components copy the online decisions (default offline classifiers), per segment.
    assert ranges(db, PROMPT, "dt-dt") == [(1, 19, "GOOD"), (20, 24, "BAD"), (25, 50, "GOOD")]
    assert ranges(db, PROMPT, "tracker-pixel") == [(1, 50, "GOOD")]
    assert ranges(db, PROMPT, "ecal-ecal") == [(1, 50, "NO VALUE FOUND")]  # no online ecal flags
    with db.reading() as conn:
        summary = store.summary(conn, RUN, PROMPT)
        online = store.summary(conn, RUN, ONLINE)
        own_oms = conn.execute(
            select(func.count())
            .select_from(events)
            .where(events.c.dataset == PROMPT, events.c.type == "OmsValuesSet")
        ).scalar_one()
    assert summary.triplet_summary["dt-dt"]["BAD"] == 5
    assert summary.dcs_summary == online.dcs_summary
    assert own_oms == 0  # inherited, not copied
    [newest] = service.history(db, run_number=RUN, limit=1)
    assert newest.author == SHIFTER.name
    assert newest.comment == f"move run to SIGNOFF; offline datasets created: {EXPRESS}, {PROMPT}"


def test_signing_off_again_duplicates_nothing(signed_off: Database) -> None:
    db = signed_off
    before = counts(db)
    service.move_run(db, actor=EXPERT, run_number=RUN, to_state="OPEN")
    again = service.move_run(db, actor=SHIFTER, run_number=RUN, to_state="SIGNOFF")
    completed = service.move_run(db, actor=EXPERT, run_number=RUN, to_state="COMPLETED")

    assert again.datasets_created == () and again.datasets_kept == (EXPRESS, PROMPT)
    assert again.events == {RUN: 1} and completed.events == {RUN: 1}  # the state moves only
    assert counts(db) == (before[0] + 3, before[1] + 3)
    assert ranges(db, PROMPT, "dt-dt") == [(1, 19, "GOOD"), (20, 24, "BAD"), (25, 50, "GOOD")]


def test_a_new_sign_off_resyncs_changed_flags_except_where_signed_off(signed_off: Database) -> None:
    db = signed_off
    moves = [DatasetMove(RUN, PROMPT, "global", "OPEN"), DatasetMove(RUN, PROMPT, "tracker", "SIGNOFF")]
    service.move_datasets(db, actor=CERTIFIER, moves=moves, comment="tracker certified")
    service.move_run(db, actor=EXPERT, run_number=RUN, to_state="OPEN")
    edits = [FlagEdit("dt-dt", 20, 24, "GOOD", "false alarm"), FlagEdit("tracker-pixel", 1, 5, "BAD", "FED")]
    service.edit_flags(db, actor=SHIFTER, run_number=RUN, edits=edits, comment="corrected")
    before = counts(db)

    result = service.move_run(db, actor=SHIFTER, run_number=RUN, to_state="SIGNOFF")

    # dt-dt LS 20-24 on both datasets; tracker-pixel only on Express (tracker is SIGNOFF on the prompt one).
    assert result.events == {RUN: 1 + 2 + 1}
    assert counts(db) == (before[0] + 1, before[1] + 4)
    assert ranges(db, PROMPT, "dt-dt") == [(1, 50, "GOOD")]
    assert ranges(db, PROMPT, "tracker-pixel") == [(1, 50, "GOOD")]
    assert ranges(db, EXPRESS, "tracker-pixel") == [(1, 5, "BAD"), (6, 50, "GOOD")]
    [newest] = service.history(db, run_number=RUN, limit=1)
    assert f"flags left alone where already signed off: {PROMPT} in tracker" in newest.comment


def test_a_refused_sign_off_creates_no_dataset(db: Database) -> None:
    create_collision_run(db, RUN, ls_count=20)
    service.edit_flags(
        db, actor=OMS_WORKER, run_number=RUN, edits=[FlagEdit("dt-dt", 3, 4, "NO VALUE FOUND")], comment="x"
    )
    before = counts(db)
    with pytest.raises(SignOffRefused):
        service.move_run(db, actor=SHIFTER, run_number=RUN, to_state="SIGNOFF")
    assert counts(db) == before and set(stored_datasets(db)) == {ONLINE}


def test_no_matching_rule_no_dataset_and_the_change_set_says_so(db: Database) -> None:
    create_collision_run(db, RUN, ls_count=20, rr={"class": "Commissioning24"})
    result = service.move_run(db, actor=EXPERT, run_number=RUN, to_state="COMPLETED")
    assert result.datasets_created == () and "no enabled datasets-accepted rule" in result.note
    assert set(stored_datasets(db)) == {ONLINE}
    assert "covers run 380567: no offline dataset" in service.history(db, run_number=RUN, limit=1)[0].comment


def test_a_sign_off_that_created_datasets_is_not_revertible(signed_off: Database) -> None:
    [sign_off] = service.history(signed_off, run_number=RUN, limit=1)
    with pytest.raises(InvalidInput, match="created a run or dataset cannot be reverted"):
        service.revert_change_set(
            signed_off, actor=EXPERT, change_set_id=sign_off.id, force=True, comment="by mistake"
        )


def test_workspace_moves_are_validated_and_recorded_with_who_and_why(signed_off: Database) -> None:
    db = signed_off
    before = counts(db)
    with pytest.raises(InvalidState, match="cannot move from waiting dqm gui to SIGNOFF"):
        service.move_dataset(
            db, actor=EXPERT, run_number=RUN, name=PROMPT, workspace="dt", to_state="SIGNOFF"
        )
    with pytest.raises(InvalidState, match="is waiting dqm gui in global, not OPEN"):
        service.move_dataset(
            db,
            actor=EXPERT,
            run_number=RUN,
            name=PROMPT,
            workspace="global",
            to_state="SIGNOFF",
            from_state="OPEN",
        )
    assert counts(db) == before
    service.move_dataset(
        db,
        actor=CERTIFIER,
        run_number=RUN,
        name=PROMPT,
        workspace="global",
        from_state=WAITING_DQM_GUI,
        to_state="OPEN",
        comment="appeared in the GUI",
    )
    states = stored_datasets(db)[PROMPT]
    assert states["global_state"] == states["dt_state"] == states["tracker_state"] == "OPEN"
    assert stored_datasets(db)[EXPRESS]["global_state"] == WAITING_DQM_GUI
    [newest] = service.history(db, run_number=RUN, limit=1)
    assert (newest.author, newest.comment) == (CERTIFIER.name, "appeared in the GUI")


def test_many_moves_are_one_change_set_and_one_refusal_refuses_all(signed_off: Database) -> None:
    db = signed_off
    service.move_datasets(
        db,
        actor=CERTIFIER,
        moves=[DatasetMove(RUN, name, "global", "OPEN") for name in (PROMPT, EXPRESS)],
        comment="both in the GUI",
    )
    before = counts(db)
    bad_batch = [
        DatasetMove(RUN, PROMPT, "dt", "SIGNOFF"),
        DatasetMove(RUN, EXPRESS, "dt", "COMPLETED", "SIGNOFF"),
    ]
    with pytest.raises(InvalidState, match="is OPEN in dt, not SIGNOFF"):
        service.move_datasets(db, actor=CERTIFIER, moves=bad_batch, comment="x")
    with pytest.raises(InvalidInput) as unknown:
        service.move_datasets(
            db, actor=CERTIFIER, moves=[bad_batch[0], DatasetMove(RUN, PROMPT, "dt", "DONE")]
        )
    assert unknown.value.field == "moves[1].state"
    with pytest.raises(InvalidInput, match="moves"):
        service.move_datasets(db, actor=CERTIFIER, moves=[])
    # A dt certifier may move dt, not tracker: the batch is refused whole.
    with pytest.raises(PermissionDenied, match="workspace tracker"):
        service.move_datasets(
            db,
            actor=DT_CERTIFIER,
            moves=[DatasetMove(RUN, PROMPT, "dt", "SIGNOFF"), DatasetMove(RUN, PROMPT, "tracker", "SIGNOFF")],
        )
    assert counts(db) == before

    # Completing every workspace of a dataset in one batch: global's move is applied last.
    states = stored_datasets(db)[PROMPT]
    everything = [DatasetMove(RUN, PROMPT, "global", "COMPLETED")] + [
        DatasetMove(RUN, PROMPT, key.removesuffix("_state"), "COMPLETED")
        for key, state in states.items()
        if key.endswith("_state") and key != "global_state" and state == "OPEN"
    ]
    result = service.move_datasets(db, actor=CERTIFIER, moves=everything, comment="all done")
    assert counts(db) == (before[0] + 1, before[1] + len(everything))
    assert result.events == {RUN: len(everything)}
    after = stored_datasets(db)[PROMPT]
    assert after["global_state"] == after["dt_state"] == after["tracker_state"] == "COMPLETED"


def test_global_completed_waits_for_the_subsystems(signed_off: Database) -> None:
    db = signed_off
    service.move_dataset(
        db, actor=CERTIFIER, run_number=RUN, name=PROMPT, workspace="global", to_state="OPEN"
    )
    with pytest.raises(
        InvalidState, match=r"still to be certified: btag \(OPEN\), castor \(OPEN\)"
    ) as refused:
        service.move_dataset(
            db, actor=CERTIFIER, run_number=RUN, name=PROMPT, workspace="global", to_state="COMPLETED"
        )
    assert "tracker" in refused.value.details["workspaces"]


def test_offline_edits_only_while_the_workspace_is_open(signed_off: Database) -> None:
    db = signed_off
    edit = [FlagEdit("dt-dt", 1, 2, "BAD", "noisy chamber")]
    with pytest.raises(InvalidState, match="is waiting dqm gui in workspace dt"):
        service.edit_flags(db, actor=DT_CERTIFIER, run_number=RUN, dataset=PROMPT, edits=edit, comment="x")
    service.move_dataset(
        db, actor=CERTIFIER, run_number=RUN, name=PROMPT, workspace="global", to_state="OPEN"
    )
    service.edit_flags(db, actor=DT_CERTIFIER, run_number=RUN, dataset=PROMPT, edits=edit, comment="noisy")
    assert ranges(db, PROMPT, "dt-dt")[0] == (1, 2, "BAD")
    service.move_dataset(
        db, actor=DT_CERTIFIER, run_number=RUN, name=PROMPT, workspace="dt", to_state="SIGNOFF"
    )
    with pytest.raises(InvalidState, match="is SIGNOFF in workspace dt"):
        service.edit_flags(db, actor=DT_CERTIFIER, run_number=RUN, dataset=PROMPT, edits=edit, comment="late")
    assert ranges(db, ONLINE, "dt-dt")[0] == (1, 19, "GOOD")  # the online run is not touched


def test_dcs_bits_per_dataset_true_and_false_with_a_reason(signed_off: Database) -> None:
    db = signed_off
    with pytest.raises(InvalidInput, match="comment"):
        service.set_oms_values(
            db,
            actor=CERTIFIER,
            run_number=RUN,
            dataset=PROMPT,
            first_ls=1,
            last_ls=5,
            values={"cms_active": False},
            comment="no",
        )
    service.set_oms_values(
        db, actor=CERTIFIER, run_number=RUN, dataset=PROMPT, first_ls=1, last_ls=5,
        values={"cms_active": False}, comment="CMS was not active (DCS log)",
    )  # fmt: skip
    service.set_oms_values(
        db, actor=CERTIFIER, run_number=RUN, dataset=PROMPT, first_ls=20, last_ls=24,
        values={"dtp_ready": True}, comment="DT+ was ready after all",
    )  # fmt: skip
    run = service.run_state(db, RUN)
    prompt, online = run.oms_values(PROMPT), run.oms_values(ONLINE)
    assert [prompt["cms_active"].get(ls) for ls in (1, 5, 6)] == [False, False, True]
    assert prompt["dtp_ready"].get(22) is True and online["dtp_ready"].get(22) is False
    assert online["cms_active"].get(1) is True  # the online run is unaffected
    assert run.oms_values(EXPRESS)["cms_active"].get(1) is True  # and so is the other dataset
    with db.reading() as conn:
        assert store.summary(conn, RUN, PROMPT).dcs_summary["cms_active"]["FALSE"] == 5
        assert store.summary(conn, RUN, ONLINE).dcs_summary["cms_active"]["FALSE"] == 0

    history = service.dataset_history(db, run_number=RUN, dataset=PROMPT, types=service.OMS_EVENTS)
    assert [(e.first_ls, e.last_ls, e.payload) for e in history] == [
        (20, 24, {"name": PROMPT, "first_ls": 20, "last_ls": 24, "values": {"dtp_ready": True}}),
        (1, 5, {"name": PROMPT, "first_ls": 1, "last_ls": 5, "values": {"cms_active": False}}),
    ]
    assert history[1].change_set.comment == "CMS was not active (DCS log)"
    assert history[1].change_set.author == CERTIFIER.name
    inherited = service.dataset_history(
        db, run_number=RUN, dataset=PROMPT, types=service.OMS_EVENTS, inherit_online=True
    )
    assert {e.dataset for e in inherited} == {PROMPT, ONLINE}


def test_flag_history_of_a_dataset(signed_off: Database) -> None:
    db = signed_off
    service.move_dataset(
        db, actor=CERTIFIER, run_number=RUN, name=PROMPT, workspace="global", to_state="OPEN"
    )
    service.edit_flags(
        db,
        actor=DT_CERTIFIER,
        run_number=RUN,
        dataset=PROMPT,
        edits=[FlagEdit("dt-dt", 3, 4, "BAD", "noise")],
        comment="noise",
    )
    history = service.dataset_history(db, run_number=RUN, dataset=PROMPT, types=service.FLAG_EVENTS)
    assert history[0].manual and history[0].change_set.author == DT_CERTIFIER.name
    assert history[0].payload["triplet"] == {"status": "BAD", "comment": "noise", "cause": ""}
    assert {e.dataset for e in history} == {PROMPT} and not any(e.manual for e in history[1:])
    states = service.dataset_history(db, run_number=RUN, dataset=PROMPT, types=("DatasetAttributesChanged",))
    assert states[0].payload["attributes"]["global_state"] == "OPEN"
    with pytest.raises(InvalidInput, match="dataset"):
        service.dataset_history(db, run_number=RUN, dataset="/No/Such/DQM")


def test_waiting_datasets_leave_out_hidden_and_opened_ones(signed_off: Database) -> None:
    db = signed_off
    create_collision_run(db, RUN + 1, ls_count=10)
    service.move_run(db, actor=SHIFTER, run_number=RUN + 1, to_state="SIGNOFF")
    service.move_dataset(
        db, actor=CERTIFIER, run_number=RUN, name=PROMPT, workspace="global", to_state="OPEN"
    )
    service.change_dataset_attributes(
        db,
        actor=EXPERT,
        run_number=RUN + 1,
        name=EXPRESS,
        attributes={"hidden": True, "hidden_reason": "dup"},
        comment="dup",
    )
    waiting = [(row["run_number"], row["name"]) for row in service.waiting_datasets(db)]
    assert waiting == [(RUN + 1, PROMPT), (RUN, EXPRESS)]
    visible, _ = service.search(db, target="datasets", filter={"run_number": RUN + 1}, visible_only=True)
    everything, _ = service.search(db, target="datasets", filter={"run_number": RUN + 1})
    assert {r["name"] for r in visible} == {ONLINE, PROMPT}
    assert {r["name"] for r in everything} == {ONLINE, PROMPT, EXPRESS}


def test_a_worker_decides_not_significant_a_person_reopens_it(signed_off: Database) -> None:
    db = signed_off
    service.move_dataset(
        db, actor=OMS_WORKER, run_number=RUN, name=PROMPT, workspace="btag", to_state=NOT_SIGNIFICANT
    )
    with pytest.raises(InvalidState, match="it can move to: OPEN"):
        service.move_dataset(
            db, actor=EXPERT, run_number=RUN, name=PROMPT, workspace="egamma", to_state=NOT_SIGNIFICANT
        )
    service.move_dataset(db, actor=EXPERT, run_number=RUN, name=PROMPT, workspace="btag", to_state="OPEN")
    assert stored_datasets(db)[PROMPT]["btag_state"] == "OPEN"
