"""Scale-out: two API processes, two Celery workers, PostgreSQL and Redis; one of each SIGKILLed under load.

What must hold: no request fails except on connections to the killed API process (the client then uses the
other one, as a load balancer would); every JSON job that got a 202 reaches `done`; the registry holds every
write that got a 2xx, once, and nothing that was refused. A write whose answer was lost with the killed
process (sent, no answer) may or may not be there — at most once.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
import redis
from sqlalchemy import func, select

from runreg.certification.tables import json_jobs
from runreg.eventlog.tables import change_sets
from runreg.storage.database import Database
from tests.builders.network import free_port
from tests.builders.runs import create_collision_run
from tests.contract.test_json_portal import offline_dataset

pytestmark = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
RUNREG = [sys.executable, "-m", "runreg.cli.main"]
REDIS_URL = "redis://127.0.0.1:6379/14"  # test_json_jobs_on_celery uses 15
SECRET = "scale-out-proxy-secret"
EXPERT = {
    "x-runreg-proxy-secret": SECRET,
    "email": "expert@cern.ch",
    "egroups": "cms-dqm-runregistry-experts",
}
THREADS = 4
OPS_PER_THREAD = 80
EDIT_RUNS = [381001, 381002, 381003, 381004]  # one per thread: no two threads edit the same run
JSON_RUNS = [382001, 382002, 382003]
# 12,000 LS each: a job takes about a second even with the computation's collector pause, so the worker killed
# while it holds a job is still computing it when the signal lands.
JSON_LS = 12_000
PATTERN = "/PromptReco/Collisions2024A/DQM"
# Reading the LS number makes every LS its own segment: jobs long enough for a killed worker to hold one.
SLOW_RULE = {
    "and": [
        {">=": [{"var": "lumisection.lumisection_number"}, 1]},
        {"==": [{"var": "lumisection.rr.dt-dt"}, "GOOD"]},
    ]
}


@dataclass
class Outcomes:
    lock: threading.Lock = field(default_factory=threading.Lock)
    answered: int = 0
    failures: list[str] = field(default_factory=list)  # must stay empty
    refused_by_killed: int = 0  # connection refused by the dead process: retried on the other
    lost_answers: int = 0  # sent to the process as it died
    written: set[str] = field(default_factory=set)  # writes answered 2xx (their comment or tags)
    unanswered_writes: set[str] = field(default_factory=set)
    refused_writes: set[str] = field(default_factory=set)
    jobs: set[int] = field(default_factory=set)


class Balancer:
    """Round robin over the live API processes; a process whose connections fail is taken out."""

    def __init__(self, bases: list[str], outcomes: Outcomes) -> None:
        self.bases = bases
        self.alive = list(bases)
        self.killed: set[str] = set()
        self.outcomes = outcomes
        self.turn = 0
        self.lock = threading.Lock()

    def kill(self, base: str, server: subprocess.Popen[bytes]) -> None:
        self.killed.add(base)  # noted before the signal: errors from now on are expected on that one
        os.kill(server.pid, signal.SIGKILL)

    def pick(self) -> str:
        with self.lock:
            self.turn += 1
            return self.alive[self.turn % len(self.alive)]

    def request(
        self,
        clients: dict[str, httpx.Client],
        method: str,
        path: str,
        *,
        write: str | None = None,
        **kwargs: object,
    ) -> httpx.Response | None:
        while True:
            base = self.pick()
            try:
                return clients[base].request(method, path, **kwargs)  # type: ignore[arg-type]
            except httpx.TransportError as exc:
                if base not in self.killed:
                    self._note(failures=f"{method} {path} on live {base}: {type(exc).__name__} {exc}")
                    return None
                with self.lock:
                    if base in self.alive and len(self.alive) > 1:
                        self.alive.remove(base)
                if isinstance(exc, httpx.ConnectError):
                    self._note(refused=True)  # never reached the process: safe to send elsewhere
                    continue
                self._note(lost=True)
                if write is None:
                    continue  # a read: just ask the other process
                with self.outcomes.lock:
                    self.outcomes.unanswered_writes.add(write)
                return None

    def _note(self, *, failures: str | None = None, refused: bool = False, lost: bool = False) -> None:
        with self.outcomes.lock:
            if failures:
                self.outcomes.failures.append(failures)
            self.outcomes.refused_by_killed += refused
            self.outcomes.lost_answers += lost


def load(thread: int, balancer: Balancer, outcomes: Outcomes, progress: list[int]) -> None:
    clients = {base: httpx.Client(base_url=base, timeout=30) for base in balancer.bases}
    run = EDIT_RUNS[thread]
    try:
        for i in range(OPS_PER_THREAD):
            kind = i % 10
            if kind in (0, 5):  # a flag edit: a new LS each time, so every edit changes something
                mark = f"scale-out t{thread} op{i}"
                body = {"first_ls": i + 1, "last_ls": i + 1, "status": "BAD", "comment": mark}
                answer = balancer.request(
                    clients,
                    "PUT",
                    f"/api/v1/runs/{run}/lumisections/dt-dt",
                    write=mark,
                    json=body,
                    headers=EXPERT,
                )
            elif i % 20 == 3:  # a golden-JSON job
                mark = f"scale-out-t{thread}-op{i}"
                body = {"dataset_pattern": PATTERN, "rule": SLOW_RULE, "tags": mark}
                answer = balancer.request(
                    clients, "POST", "/api/v1/jsons", write=mark, json=body, headers=EXPERT
                )
                if answer is not None and answer.status_code == 202:
                    with outcomes.lock:
                        outcomes.jobs.add(answer.json()["id"])
            elif kind in (1, 6):
                answer = balancer.request(clients, "GET", f"/api/v1/runs/{run}")
                mark = None
            elif kind == 8 and outcomes.jobs:
                answer = balancer.request(clients, "GET", f"/api/v1/jsons/{min(outcomes.jobs)}")
                mark = None
            else:
                answer = balancer.request(clients, "GET", "/api/v1/runs", params={"page_size": 20})
                mark = None
            with outcomes.lock:
                progress[thread] = i + 1
                if answer is None:
                    continue
                outcomes.answered += 1
                if answer.is_success:
                    if mark:
                        outcomes.written.add(mark)
                else:
                    outcomes.failures.append(
                        f"{answer.request.method} {answer.request.url}: "
                        f"{answer.status_code} {answer.text[:200]}"
                    )
                    if mark:
                        outcomes.refused_writes.add(mark)
    finally:
        for client in clients.values():
            client.close()


@pytest.fixture
def environment(db: Database, tmp_path: Path) -> Iterator[dict[str, str]]:
    redis.Redis.from_url(REDIS_URL).flushdb()
    env = {
        **os.environ,
        "RUNREG_DATABASE_URL": db.url,
        "RUNREG_REDIS_URL": REDIS_URL,
        "RUNREG_JOBS_BACKEND": "celery",
        "RUNREG_JOB_VISIBILITY_TIMEOUT_S": "4",
        "RUNREG_PROXY_SECRET": SECRET,
        "PYTHONPATH": os.pathsep.join(sys.path),
    }
    env.pop("RUNREG_ALLOWED_HOSTS", None)  # the default (127.0.0.1, localhost) is what the client uses
    yield env
    redis.Redis.from_url(REDIS_URL).flushdb()


def start(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        # Own process group: a worker is killed with its pool children, as when its container dies.
        return subprocess.Popen([*RUNREG, *args], env=env, stdout=out, stderr=out, start_new_session=True)


def wait_ready(base: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{base} not ready after {timeout} s")


def worker_holding_a_job(db: Database, workers: list[subprocess.Popen]) -> subprocess.Popen | None:
    """The worker (a process group: `runreg worker` and its pool) that holds a running job now, if any. Jobs
    are claimed by `host:pid` of the process computing them."""
    with db.reading() as conn:
        holders = conn.execute(
            select(json_jobs.c.claimed_by).where(json_jobs.c.status == "running")
        ).scalars()
        pids = [int(h.rsplit(":", 1)[1]) for h in holders if h and h.rsplit(":", 1)[-1].isdigit()]
    for pid in pids:
        try:
            group = os.getpgid(pid)
        except ProcessLookupError:
            continue
        for worker in workers:
            if worker.pid == group:
                return worker
    return None


def test_killing_an_api_process_and_a_worker_under_load_loses_nothing(
    db: Database, environment: dict[str, str], tmp_path: Path
) -> None:
    setup = time.monotonic()
    for run_number in EDIT_RUNS:
        create_collision_run(db, run_number, ls_count=OPS_PER_THREAD)
    for run_number in JSON_RUNS:
        create_collision_run(db, run_number, ls_count=JSON_LS)
        offline_dataset(db, run_number)
    ports = [free_port(), free_port()]
    bases = [f"http://127.0.0.1:{port}" for port in ports]
    apis = [start(["serve", "--port", str(port)], environment, tmp_path / f"api{port}.log") for port in ports]
    workers = [start(["worker"], environment, tmp_path / f"worker{n}.log") for n in (1, 2)]
    processes = [*apis, *workers]
    outcomes = Outcomes()
    balancer = Balancer(bases, outcomes)
    progress = [0] * THREADS
    try:
        for base in bases:
            wait_ready(base)
        started = time.monotonic()
        print(f"\nset up in {started - setup:.1f} s")
        threads = [
            threading.Thread(target=load, args=(t, balancer, outcomes, progress)) for t in range(THREADS)
        ]
        for thread in threads:
            thread.start()
        while sum(progress) < THREADS * OPS_PER_THREAD // 3:
            time.sleep(0.01)
        balancer.kill(bases[0], apis[0])  # mid-load: requests in flight on it die with it
        # Kill a worker while it computes a job (not merely while some job runs somewhere): that job must be
        # taken up again by the other worker.
        deadline = time.monotonic() + 30
        holder = worker_holding_a_job(db, workers)
        while holder is None and time.monotonic() < deadline:
            time.sleep(0.01)
            holder = worker_holding_a_job(db, workers)
        assert holder is not None, "no worker was ever seen computing a job"
        os.killpg(holder.pid, signal.SIGKILL)
        for thread in threads:
            thread.join(timeout=120)
        load_seconds = time.monotonic() - started

        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with db.reading() as conn:
                statuses = dict(
                    conn.execute(
                        select(json_jobs.c.id, json_jobs.c.status).where(json_jobs.c.id.in_(outcomes.jobs))
                    ).all()
                )
            if all(status == "done" for status in statuses.values()):
                break
            time.sleep(0.2)
        drained_seconds = time.monotonic() - started
    finally:
        for process in processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)

    with db.reading() as conn:
        edits = conn.execute(
            select(change_sets.c.comment, func.count())
            .where(change_sets.c.comment.like("scale-out t%"))
            .group_by(change_sets.c.comment)
        ).all()
        jobs = conn.execute(
            select(json_jobs.c.tags, json_jobs.c.status, json_jobs.c.attempts).where(
                json_jobs.c.tags.like("scale-out-%")
            )
        ).all()
    stored = {comment: n for comment, n in edits} | {tags: 1 for tags, _, _ in jobs}
    stored_jobs = {tags for tags, _, _ in jobs}
    print(
        f"\n{outcomes.answered} answered, {outcomes.refused_by_killed} refused by the killed process "
        f"(retried), {outcomes.lost_answers} lost with it ({len(outcomes.unanswered_writes)} writes, "
        f"{len(outcomes.unanswered_writes & set(stored))} of them committed), "
        f"{len(outcomes.written)} writes, {len(outcomes.jobs)} jobs, the killed worker held a job, "
        f"load {load_seconds:.1f} s, every job done after {drained_seconds:.1f} s"
    )
    assert outcomes.failures == [], outcomes.failures[:5]
    assert outcomes.answered + len(outcomes.unanswered_writes) == THREADS * OPS_PER_THREAD
    assert outcomes.refused_by_killed + outcomes.lost_answers >= 1, "the kill never showed"
    assert all(status == "done" for status in statuses.values()), statuses
    assert len(statuses) == len(outcomes.jobs) >= 10
    assert max(attempts for _, _, attempts in jobs) >= 2, "the killed worker's job was not taken up again"
    # Exactly the answered writes, once each; unanswered ones at most once; nothing else.
    assert all(stored.get(mark) == 1 for mark in outcomes.written)
    assert set(stored) - outcomes.written <= outcomes.unanswered_writes
    assert all(n == 1 for n in stored.values())
    assert stored_jobs >= {mark for mark in outcomes.written if mark.startswith("scale-out-")}
