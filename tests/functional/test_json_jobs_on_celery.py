"""Golden-JSON jobs through Redis on real Celery worker processes, including a worker killed mid-job."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest
import redis

from runreg.certification import service
from runreg.certification.runners import CeleryRunner
from runreg.kernel.actors import Actor, ActorKind
from runreg.settings import get_settings
from runreg.storage.database import Database
from tests.builders.runs import create_collision_run
from tests.contract.test_json_portal import offline_dataset

# The Redis path does not depend on the database engine (covered twice elsewhere): PostgreSQL only, the
# production pairing, keeps the suite fast.
pytestmark = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
REDIS_URL = "redis://127.0.0.1:6379/15"
VISIBILITY_TIMEOUT_S = 3
CERTIFIER = Actor("certifier@cern.ch", ActorKind.HUMAN, frozenset({"cms-dqm-runregistry-data-certification"}))
PATTERN = "/PromptReco/Collisions2024A/DQM"
# Reading the LS number makes every LS its own segment: a deliberately slow job, so it can be killed mid-way.
SLOW_RULE = {
    "and": [
        {">=": [{"var": "lumisection.lumisection_number"}, 1]},
        {"==": [{"var": "lumisection.rr.dt-dt"}, "GOOD"]},
    ]
}


@pytest.fixture
def environment(db: Database, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    redis.Redis.from_url(REDIS_URL).flushdb()
    env = {
        "RUNREG_DATABASE_URL": db.url,
        "RUNREG_REDIS_URL": REDIS_URL,
        "RUNREG_JOBS_BACKEND": "celery",
        "RUNREG_JOB_VISIBILITY_TIMEOUT_S": str(VISIBILITY_TIMEOUT_S),
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    get_settings.cache_clear()
    from runreg.worker.celery_app import make_celery

    make_celery()  # this process now publishes to the test broker
    yield {**os.environ, **env}
    get_settings.cache_clear()
    redis.Redis.from_url(REDIS_URL).flushdb()


def start_worker(env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "runreg.worker.celery_app",
            "worker",
            "--pool",
            "solo",
            "--loglevel",
            "warning",
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def wait_for(db: Database, job_id: int, statuses: set[str], timeout: float = 60) -> service.Job:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = service.get(db, job_id)
        if job.status in statuses:
            return job
        time.sleep(0.02)
    raise AssertionError(f"job {job_id} still {service.get(db, job_id).status} after {timeout} s")


def test_a_job_runs_on_a_celery_worker(db: Database, environment: dict[str, str]) -> None:
    create_collision_run(db, 380001, ls_count=30)
    offline_dataset(db, 380001)
    worker = start_worker(environment)
    try:
        job_id = service.submit(
            db,
            CeleryRunner(),
            actor=CERTIFIER,
            dataset_pattern=PATTERN,
            rule={"==": [{"var": "lumisection.rr.dt-dt"}, "GOOD"]},
        )
        job = wait_for(db, job_id, {"done", "failed"})
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    assert job.status == "done", job.error
    assert job.result["json"] == {"380001": [[1, 30]]}


def test_a_worker_killed_mid_job_leaves_the_job_retried_not_lost(
    db: Database, environment: dict[str, str]
) -> None:
    for run_number in range(380001, 380009):
        create_collision_run(db, run_number, ls_count=5000)
        offline_dataset(db, run_number)
    first = start_worker(environment)
    job_id = service.submit(db, CeleryRunner(), actor=CERTIFIER, dataset_pattern=PATTERN, rule=SLOW_RULE)
    wait_for(db, job_id, {"running"})
    os.kill(first.pid, signal.SIGKILL)  # no chance to acknowledge or clean up
    first.wait(timeout=10)
    assert service.get(db, job_id).status == "running"

    second = start_worker(environment)
    try:
        job = wait_for(db, job_id, {"done", "failed"}, timeout=120)
    finally:
        second.terminate()
        second.wait(timeout=30)
    assert job.status == "done", job.error
    assert job.attempts == 2
    assert job.result["json"]["380001"] == [[1, 5000]] and len(job.result["json"]) == 8
