"""Golden-JSON jobs survive a restart: handed out after the commit, swept up at start-up, never run twice."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from runreg.certification import service
from runreg.certification.runners import InlineRunner
from runreg.certification.tables import json_jobs
from runreg.http.app import create_app
from runreg.settings import get_settings
from runreg.storage.database import Database
from tests.contract.test_json_portal import CERTIFIER, RULE, year  # noqa: F401  (fixture: runs, datasets)

PATTERN = "/PromptReco/Collisions2024_/DQM"
EXPECTED_JSON = {"380001": [[1, 4], [7, 20]], "380002": [[1, 7]]}


class LostRunner:
    """A server that died right after the commit: the job was recorded, never run."""

    def __init__(self) -> None:
        self.handed: list[int] = []

    def submit(self, job_id: int) -> None:
        self.handed.append(job_id)


class CommitCheckingRunner:
    """Reads the job on a connection of its own when handed it: only a committed job is visible there."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.seen: list[str] = []

    def submit(self, job_id: int) -> None:
        other = Database(self.db.url)
        try:
            self.seen.append(service.get(other, job_id).status)
        finally:
            other.dispose()


def submit_lost(db: Database) -> int:
    return service.submit(db, LostRunner(), actor=CERTIFIER, rule=RULE, dataset_pattern=PATTERN)


def mark_running(db: Database, job_id: int, *, holder: str, beat: datetime) -> None:
    with db.transaction() as conn:
        conn.execute(
            update(json_jobs)
            .where(json_jobs.c.id == job_id)
            .values(status="running", claimed_by=holder, heartbeat_at=beat, attempts=1)
        )


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


@pytest.mark.usefixtures("year")
def test_a_job_is_handed_to_the_runner_only_after_its_commit(db: Database) -> None:
    runner = CommitCheckingRunner(db)
    service.submit(db, runner, actor=CERTIFIER, rule=RULE, dataset_pattern=PATTERN)
    assert runner.seen == ["queued"]


@pytest.mark.usefixtures("year")
def test_a_job_queued_before_a_restart_is_run_by_the_next_server(db: Database) -> None:
    job_id = submit_lost(db)
    assert service.get(db, job_id).status == "queued"
    settings = get_settings().model_copy(update={"jobs_backend": "inprocess"})

    with TestClient(create_app(db, settings=settings)):  # start-up runs the sweep
        deadline = time.monotonic() + 60
        while service.get(db, job_id).status in ("queued", "running"):
            assert time.monotonic() < deadline, "the swept job never finished"
            time.sleep(0.05)

    job = service.get(db, job_id)
    assert job.status == "done", job.error
    assert job.result["json"] == EXPECTED_JSON and job.attempts == 1


@pytest.mark.usefixtures("year")
def test_the_sweep_reruns_jobs_of_dead_or_silent_holders_and_leaves_live_ones(db: Database) -> None:
    now = datetime.now(UTC)
    dead_here, live_elsewhere, silent_elsewhere, queued = (submit_lost(db) for _ in range(4))
    mark_running(db, dead_here, holder=f"{socket.gethostname()}:{dead_pid()}", beat=now)
    mark_running(db, live_elsewhere, holder="worker-7.cern.ch:41", beat=now)
    mark_running(db, silent_elsewhere, holder="worker-8.cern.ch:42", beat=now - timedelta(minutes=10))

    swept = service.requeue_abandoned(db, InlineRunner(db))

    assert swept == sorted([dead_here, silent_elsewhere, queued])
    for job_id in swept:
        assert service.get(db, job_id).status == "done"
    live = service.get(db, live_elsewhere)
    assert (live.status, live.attempts) == ("running", 1)


@pytest.mark.usefixtures("year")
def test_a_job_handed_out_twice_runs_once(db: Database) -> None:
    held = submit_lost(db)
    mark_running(db, held, holder="worker-7.cern.ch:41", beat=datetime.now(UTC))
    done = service.submit(db, InlineRunner(db), actor=CERTIFIER, rule=RULE, dataset_pattern=PATTERN)

    InlineRunner(db).submit(held)  # Celery redelivery, or a second server's sweep
    InlineRunner(db).submit(done)

    assert (service.get(db, held).status, service.get(db, held).attempts) == ("running", 1)
    assert (service.get(db, done).status, service.get(db, done).attempts) == ("done", 1)


@pytest.mark.usefixtures("year")
@pytest.mark.parametrize(
    ("holder", "silent_for_s", "outcome"),
    [
        ("worker-7.cern.ch:41", 0.0, "held"),  # alive elsewhere: a redelivery of a long job runs nothing
        ("worker-7.cern.ch:41", 3600.0, "ran"),  # silent past the lease: gone
        (f"{socket.gethostname()}:{{dead}}", 0.0, "ran"),  # a killed worker on this host, just now
    ],
)
def test_a_redelivered_job_is_claimed_only_from_a_gone_holder(
    db: Database, holder: str, silent_for_s: float, outcome: str
) -> None:
    job_id = submit_lost(db)
    last_beat = datetime.now(UTC) - timedelta(seconds=silent_for_s)
    mark_running(db, job_id, holder=holder.format(dead=dead_pid()), beat=last_beat)

    assert service.run_job(db, job_id) == outcome

    job = service.get(db, job_id)
    assert (job.status, job.attempts) == (("running", 1) if outcome == "held" else ("done", 2))
