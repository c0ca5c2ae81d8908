"""The workflow update against the cmsweb simulator over a real socket, on both engines: changes, deletions,
retries, resubmission parents, lumi masks, DBS growth, callbacks, a SIGKILL mid-update, concurrent updates."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from runreg.integrations.cmsweb import CmswebSources, CmswebUnavailable, connect
from runreg.integrations.pdmv import PdmvCallbacks
from runreg.simulators.cmsweb.server import SimulatedClock, create_app, run_in_thread
from runreg.simulators.cmsweb.world import DAY, CmswebWorld
from runreg.storage.database import Database
from runreg.workflows import lock, service
from runreg.workflows.tables import workflow_datasets, workflow_history, workflows

WORLD = CmswebWorld(seed=7, workflows=90)
START = WORLD.epoch + 12 * DAY


@dataclass
class Cmsweb:
    base_url: str
    clock: SimulatedClock
    control: httpx.Client

    @property
    def dbs_url(self) -> str:
        return f"{self.base_url}/dbs/prod/global/DBSReader"

    def sources(self, **options: Any) -> CmswebSources:
        return connect(self.base_url, self.dbs_url, backoff_s=0.01, timeout=10, **options)

    def now(self) -> float:
        return self.clock().timestamp()

    def advance(self, seconds: float) -> None:
        self.clock.advance(seconds)

    def fault(self, path: str, kind: str, times: int, **extra: object) -> None:
        spec = {"path_prefix": path, "kind": kind, "times": times, **extra}
        self.control.post("/_simulator/faults", json=spec)

    def callbacks(self) -> list[dict[str, Any]]:
        return self.control.get("/_simulator/callbacks").json()["callbacks"]


@pytest.fixture
def cmsweb() -> Iterator[Cmsweb]:
    # A fresh world per test: tests move its clock and touch or delete its workflows.
    world = CmswebWorld(seed=7, workflows=90)
    clock = SimulatedClock(datetime.fromtimestamp(START, UTC), speed=0)
    with run_in_thread(create_app(world, clock)) as server, httpx.Client(base_url=server.base_url) as control:
        yield Cmsweb(server.base_url, clock, control)


def run_update(db: Database, cmsweb: Cmsweb, **options: Any) -> service.UpdateReport:
    with cmsweb.sources(concurrency=options.pop("concurrency", 4)) as sources:
        return service.update(db, sources, clock=cmsweb.now, **options)


def visible_at(moment: float) -> set[str]:
    return {name for plan in WORLD.plans if (name := plan.name) and WORLD.document(name, moment) is not None}


def cached_names(db: Database) -> set[str]:
    with db.reading() as conn:
        return set(conn.execute(select(workflows.c.name)).scalars())


def history_count(db: Database) -> int:
    with db.reading() as conn:
        return conn.execute(select(func.count()).select_from(workflow_history)).scalar_one()


def plan_of(kind: str, predicate: Any = lambda plan: True) -> Any:
    return next(
        p for p in WORLD.plans if p.request_type == kind and predicate(p) and WORLD.document(p.name, START)
    )


def test_first_update_mirrors_every_visible_workflow_with_its_numbers(db: Database, cmsweb: Cmsweb) -> None:
    report = run_update(db, cmsweb, batch_size=25)
    expected = visible_at(START)
    assert cached_names(db) == expected
    assert report.documents_changed == len(expected) and report.batches >= 4
    assert report.failures == {}
    taskchain = plan_of("TaskChain", lambda p: "RVCMSSW" not in p.name)
    doc = service.get(db, name=taskchain.name)
    assert (
        doc["TotalEvents"] == taskchain.document["Task1"]["RequestNumEvents"]
    )  # rule 3 (rule 1 needs files)
    tiers = [d.rsplit("/", 1)[1] for d in doc["OutputDatasets"]]
    assert tiers == sorted(tiers, key=["GEN-SIM", "AODSIM", "MINIAODSIM", "NANOAODSIM"].index)
    assert doc["Campaigns"] == [
        taskchain.document[f"Task{n}"]["Campaign"] for n in range(1, doc_tasks(taskchain) + 1)
    ]
    assert doc["Requests"] == [
        taskchain.document[f"Task{n}"]["PrepID"] for n in range(1, doc_tasks(taskchain) + 1)
    ]
    assert "ProcessingString" in doc and isinstance(doc["ProcessingString"], str)
    assert doc["RequestTransition"][0]["Status"] == "new" and set(doc["RequestTransition"][0]) == {
        "Status",
        "UpdateTime",
    }
    # Every output dataset DBS knows has numbers equal to DBS's own.
    latest = doc["EventNumberHistory"][-1]["Datasets"] if doc["EventNumberHistory"] else {}
    for dataset in doc["OutputDatasets"]:
        state = WORLD.output_state(dataset, START)
        if state is None:
            assert latest[dataset] == {"Type": "NONE", "Events": 0, "Size": 0}
        else:
            assert latest[dataset]["Type"] == state["dataset_access_type"]
            if state["dataset_access_type"] in ("VALID", "PRODUCTION"):
                assert latest[dataset]["Events"] == state["num_event"]
    with db.reading() as conn:
        assert service.store.setting(conn, service.LAST_SEQ) not in (None, "0")


def doc_tasks(plan: Any) -> int:
    return plan.document["TaskChain"]


def test_a_quiet_update_writes_nothing(db: Database, cmsweb: Cmsweb) -> None:
    run_update(db, cmsweb)
    rows = history_count(db)
    with db.reading() as conn:
        stamps = dict(conn.execute(select(workflows.c.name, workflows.c.last_update)).tuples().all())
    report = run_update(db, cmsweb)
    assert (report.documents_changed, report.datasets_changed, report.deleted) == (0, 0, 0)
    assert history_count(db) == rows
    with db.reading() as conn:
        assert dict(conn.execute(select(workflows.c.name, workflows.c.last_update)).tuples().all()) == stamps


def test_a_revision_without_new_content_is_not_rewritten_and_triggers_nothing(
    db: Database, cmsweb: Cmsweb
) -> None:
    callbacks = callback_client(cmsweb)
    run_update(db, cmsweb, triggers=["prod"], callbacks=callbacks)
    cmsweb.control.delete("/_simulator/callbacks")
    same, changed = sorted(visible_at(START))[:2]
    cmsweb.control.post("/_simulator/touch", json={"names": [same], "change": False})
    cmsweb.control.post("/_simulator/touch", json={"names": [changed], "change": True})
    report = run_update(db, cmsweb, triggers=["prod"], callbacks=callbacks)
    assert (report.documents_changed, report.documents_unchanged) == (1, 1)
    assert (
        service.get(db, name=changed)["RequestPriority"]
        == WORLD.plan(changed).document["RequestPriority"] + 1
    )
    assert [c["workflow"] or c["prepid"] for c in cmsweb.callbacks()] == [
        changed if target_of(changed) == "mcm" else WORLD.plan(changed).document["PrepID"]
    ]


def target_of(name: str) -> str:
    plan = WORLD.plan(name)
    if plan.request_type == "ReReco" or plan.document["PrepID"].startswith("ReReco-"):
        return "rereco"
    return "relval" if "RVCMSSW" in name else "mcm"


def callback_client(cmsweb: Cmsweb) -> PdmvCallbacks:
    return PdmvCallbacks(
        token_url=f"{cmsweb.base_url}/auth/realms/cern/api-access/token",
        client_id="stats2",
        client_secret="callback-secret",
        hosts={
            "prod": (f"{cmsweb.base_url}/prod", "cms-pdmv-prod"),
            "dev": (f"{cmsweb.base_url}/dev", "cms-pdmv-dev"),
        },
    )


def test_callbacks_reach_the_right_service_with_one_cached_token_per_audience(
    db: Database, cmsweb: Cmsweb
) -> None:
    callbacks = callback_client(cmsweb)
    report = run_update(db, cmsweb, triggers=["prod", "dev"], callbacks=callbacks)
    received = cmsweb.callbacks()
    names = visible_at(START)
    assert report.callbacks_sent == 2 * len(names) == len(received)
    assert callbacks.token_requests == 2
    for call in received:
        if call["target"] == "mcm":
            assert target_of(call["workflow"]) == "mcm"
        else:
            assert any(
                target_of(n) == call["target"] and WORLD.plan(n).document["PrepID"] == call["prepid"]
                for n in names
            )
    cmsweb.control.delete("/_simulator/callbacks")
    assert run_update(db, cmsweb, triggers=["prod"], callbacks=callbacks).callbacks_sent == 0
    assert cmsweb.callbacks() == []


def test_deleted_workflows_leave_the_cache_with_their_history(db: Database, cmsweb: Cmsweb) -> None:
    run_update(db, cmsweb)
    victim = sorted(visible_at(START))[3]
    cmsweb.control.post("/_simulator/delete", json={"names": [victim]})
    report = run_update(db, cmsweb)
    assert report.deleted == 1 and victim not in cached_names(db)
    with db.reading() as conn:
        assert conn.execute(select(func.count()).where(workflow_history.c.name == victim)).scalar_one() == 0
    with pytest.raises(service.NotFound):
        service.get(db, name=victim)


def test_deletions_the_timeline_brings_are_applied(db: Database, cmsweb: Cmsweb) -> None:
    run_update(db, cmsweb)
    later = START + 15 * DAY
    cmsweb.advance(later - START)
    run_update(db, cmsweb)
    gone = {p.name for p in WORLD.plans if p.deleted_at is not None and p.deleted_at <= later}
    assert gone and not (gone & cached_names(db))
    assert cached_names(db) == visible_at(later)


def test_a_dataset_failing_in_dbs_fails_its_workflows_alone_and_they_are_retried(
    db: Database, cmsweb: Cmsweb
) -> None:
    cmsweb.fault("/dbs/prod/global/DBSReader/filesummaries", "error500", 3)  # one call, every attempt
    report = run_update(db, cmsweb, concurrency=1)
    # The failing dataset fails the workflows that write it (one, or a few sharing it), nobody else...
    datasets = {message.split(":", 1)[0] for message in report.failures.values()}
    assert len(datasets) == 1 and 1 <= len(report.failures) <= 3
    assert all(next(iter(datasets)) in WORLD.plan(name).outputs for name in report.failures)
    assert cached_names(db) == visible_at(START)
    # ...and they were retried later in the same update, successfully.
    assert service.failures(db) == {} and service.pending_names(db) == []
    assert all(service.get(db, name=name)["EventNumberHistory"] for name in report.failures)


def test_workflows_failing_through_a_whole_update_are_retried_by_the_next(
    db: Database, cmsweb: Cmsweb
) -> None:
    cmsweb.fault("/dbs/prod/global/DBSReader/filesummaries", "error500", 100_000)
    report = run_update(db, cmsweb)
    with_outputs = {
        n for n in visible_at(START) if any(WORLD.output_state(d, START) for d in WORLD.plan(n).outputs)
    }
    assert set(report.failures) >= with_outputs
    assert cached_names(db) == visible_at(START)  # documents stored; only numbers missing
    assert set(service.failures(db)) == set(report.failures) == set(service.pending_names(db))
    with db.reading() as conn:
        recorded = set(conn.execute(select(workflow_history.c.name)).scalars())
    assert not recorded & set(report.failures)  # a failed workflow records nothing half-way
    cmsweb.control.delete("/_simulator/faults")
    retry = run_update(db, cmsweb)
    assert retry.failures == {} and service.failures(db) == {} and service.pending_names(db) == []
    assert all(service.get(db, name=name)["EventNumberHistory"] for name in with_outputs)


def test_truncated_and_slow_answers_are_retried(db: Database, cmsweb: Cmsweb) -> None:
    cmsweb.fault("/couchdb/reqmgr_workload_cache/_changes", "truncated", 1)
    cmsweb.fault("/dbs/prod/global/DBSReader/datasetlist", "error500", 1)
    report = run_update(db, cmsweb)
    assert report.failures == {} and cached_names(db) == visible_at(START)


def test_reqmgr2_down_fails_the_update_and_keeps_the_feed_position(db: Database, cmsweb: Cmsweb) -> None:
    run_update(db, cmsweb)
    with db.reading() as conn:
        position = service.store.setting(conn, service.LAST_SEQ)
    cmsweb.fault("/couchdb", "error500", 10)
    with pytest.raises(CmswebUnavailable):
        run_update(db, cmsweb)
    with db.reading() as conn:
        assert service.store.setting(conn, service.LAST_SEQ) == position


def test_a_resubmission_takes_its_expected_numbers_from_its_parent(db: Database, cmsweb: Cmsweb) -> None:
    later = START + 12 * DAY
    cmsweb.advance(later - START)
    run_update(db, cmsweb)
    resubmissions = [
        p for p in WORLD.plans if p.request_type == "Resubmission" and WORLD.document(p.name, later)
    ]
    assert resubmissions
    for plan in resubmissions:
        doc = service.get(db, name=plan.name)
        parent = next(
            p
            for p in WORLD.plans
            if p.document["PrepID"] == plan.document["PrepID"] and p.request_type != "Resubmission"
        )
        if WORLD.document(parent.name, later) is None:
            assert doc["TotalEvents"] == -1 and doc["TotalInputLumis"] == -1  # not None: the original's fault
            continue
        # The resubmission's own filter efficiency (none here) applies to the parent's input events.
        assert doc["TotalEvents"] == parent.document.get("TotalInputEvents", -1)
        assert doc["TotalInputLumis"] == parent.document["TotalInputLumis"]


def test_expected_events_inside_a_lumi_mask_count_only_the_masked_lumisections(
    db: Database, cmsweb: Cmsweb
) -> None:
    run_update(db, cmsweb)
    masked = [
        p
        for p in WORLD.plans
        if "Task1" in p.document and p.request_type == "ReReco" and WORLD.document(p.name, START)
    ]
    assert masked
    for plan in masked:
        # The world knows each LS's events; the whole files overlapping the mask hold more than that.
        assert service.get(db, name=plan.name)["TotalEvents"] == plan.target_events


def test_rereco_history_tracks_lumisections(db: Database, cmsweb: Cmsweb) -> None:
    run_update(db, cmsweb)
    rereco = plan_of("ReReco", lambda p: WORLD.output_state(p.outputs[0], START) is not None)
    doc = service.get(db, name=rereco.name)
    assert doc["TotalInputLumis"] == rereco.target_lumis > 0
    entry = doc["EventNumberHistory"][-1]["Datasets"]
    assert all("Lumis" in numbers for numbers in entry.values())
    state = WORLD.output_state(rereco.outputs[0], START)
    assert entry[rereco.outputs[0]]["Lumis"] == state["num_lumi"]


def test_growing_datasets_append_history_and_finished_ones_do_not(db: Database, cmsweb: Cmsweb) -> None:
    run_update(db, cmsweb)
    before = history_count(db)
    cmsweb.advance(4 * 3600)
    later = cmsweb.now()
    report = run_update(db, cmsweb)
    moved = {
        (p.name, d)
        for p in WORLD.plans
        if p.name in cached_names(db)
        for d in p.outputs
        if WORLD.output_state(d, later) != WORLD.output_state(d, START)
    }
    assert moved and report.datasets_changed >= 1
    with db.reading() as conn:
        rows = conn.execute(
            select(workflow_history.c.name, workflow_history.c.dataset, workflow_history.c.time)
        ).all()
    new = {(name, dataset) for name, dataset, moment in rows if moment >= int(later)}
    assert new and new <= moved | {(n, d) for n, d in new if WORLD.output_state(d, later) is not None}
    assert history_count(db) == before + report.datasets_changed


# --- processes ---------------------------------------------------------------------------------------------

_UPDATER = textwrap.dedent(
    """
    import sys
    from runreg.integrations.cmsweb import connect
    from runreg.storage.database import Database
    from runreg.workflows import service
    db_url, base, now, batch = sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4])
    def progress(phase, done, total):
        print(phase, done, flush=True)
    with connect(base, base + "/dbs/prod/global/DBSReader", concurrency=2) as sources:
        try:
            service.update(Database(db_url), sources, batch_size=batch, progress=progress, clock=lambda: now)
        except service.lock.UpdateInProgress as exc:
            print("refused:", exc.message, flush=True)
            sys.exit(3)
    print("done", flush=True)
    """
)


def updater(db: Database, cmsweb: Cmsweb, batch: int) -> subprocess.Popen[str]:
    env = os.environ | {"PYTHONPATH": os.pathsep.join(sys.path)}
    return subprocess.Popen(
        [sys.executable, "-c", _UPDATER, db.url, cmsweb.base_url, str(cmsweb.now()), str(batch)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def snapshot(db: Database) -> tuple[dict[str, Any], list[tuple[Any, ...]]]:
    with db.reading() as conn:
        docs = dict(conn.execute(select(workflows.c.name, workflows.c.document)).tuples().all())
        numbers = sorted(
            conn.execute(
                select(workflow_datasets.c.name, workflow_datasets.c.dataset, workflow_datasets.c.events)
            )
            .tuples()
            .all()
        )
    return docs, numbers


def test_an_update_killed_mid_way_loses_and_duplicates_nothing(db: Database, cmsweb: Cmsweb) -> None:
    # Every DBS call takes a while, so the updater is surely between two batches when it is killed.
    cmsweb.fault("/dbs/prod/global/DBSReader/filesummaries", "slow", 10_000, delay_s=0.4)
    process = updater(db, cmsweb, batch=10)
    assert process.stdout is not None
    assert process.stdout.readline().startswith("feed")  # the first batch is committed
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=30)
    cmsweb.control.delete("/_simulator/faults")
    partial = cached_names(db)
    assert 0 < len(partial) < len(visible_at(START))
    run_update(db, cmsweb)
    docs, numbers = snapshot(db)
    assert set(docs) == visible_at(START)
    with db.reading() as conn:
        pairs = conn.execute(select(func.count()).select_from(workflow_datasets)).scalar_one()
    assert history_count(db) == pairs  # one snapshot per dataset: nothing recorded twice
    assert service.pending_names(db) == [] and service.failures(db) == {}


def test_a_second_update_is_refused_while_one_runs(db: Database, cmsweb: Cmsweb) -> None:
    with lock.exclusive_update(db):
        process = updater(db, cmsweb, batch=50)
        out, err = process.communicate(timeout=60)
    assert process.returncode == 3, err
    assert "another workflow update is running" in out
    assert cached_names(db) == set()
    process = updater(db, cmsweb, batch=50)
    out, err = process.communicate(timeout=120)
    assert process.returncode == 0, err
    assert cached_names(db) == visible_at(START)


def test_share_of_a_data_workflows_input_lumisections_in_a_golden_json(db: Database, cmsweb: Cmsweb) -> None:
    from runreg.certification.lumilist import LumiList
    from runreg.workflows import reads

    run_update(db, cmsweb)
    plan = plan_of("ReReco")
    mask = {int(run): ranges for run, ranges in plan.document["LumiList"].items()}
    first_run = min(mask)
    golden = LumiList.from_ranges({first_run: [[1, 20]], 999999: [[1, 5]]})
    inside = sum(max(0, min(b, 20) - a + 1) for a, b in mask[first_run])
    total = sum(b - a + 1 for ranges in mask.values() for a, b in ranges)
    with cmsweb.sources() as sources:
        share = reads.golden_share(db, sources.dbs, name=plan.name, golden=golden)
        assert (share.input_lumis, share.certified_lumis, share.runs) == (total, inside, len(mask))
        assert share.share == pytest.approx(inside / total)
        mc = plan_of("StepChain")
        with pytest.raises(service.InvalidInput, match="data dataset"):
            reads.golden_share(db, sources.dbs, name=mc.name, golden=golden)


def test_numbers_dbs_did_not_modify_are_not_asked_again(db: Database, cmsweb: Cmsweb) -> None:
    run_update(db, cmsweb)
    finished = plan_of(
        "TaskChain",
        lambda p: (
            p.status_at(START) == "normal-archived"
            and all(WORLD.output_state(d, START)["last_modification_date"] < START - 600 for d in p.outputs)
        ),
    )
    cmsweb.control.delete("/_simulator/stats")
    cmsweb.control.post("/_simulator/touch", json={"names": [finished.name], "change": True})
    report = run_update(db, cmsweb)
    requests = cmsweb.control.get("/_simulator/stats").json()["requests"]
    assert report.documents_changed == 1 and report.recalculated >= 1 and report.datasets_changed == 0
    assert requests.get("/dbs/prod/global/DBSReader/datasetlist", 0) >= 1
    # Only datasets DBS modified within the safety margin are read again (running workflows' ones).
    states = {d: WORLD.output_state(d, START) for p in WORLD.plans for d in p.outputs}
    recent = {d for d, state in states.items() if state and state["last_modification_date"] >= START - 300}
    assert requests.get("/dbs/prod/global/DBSReader/filesummaries", 0) <= len(recent)
    assert not set(finished.outputs) & recent
