"""The JSON portal: submit a golden-JSON job, follow it, read and manage its stored result."""

from __future__ import annotations

import logging
import os
import socket
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy import Connection, func, insert, select, update

from runreg.access.actions import Target
from runreg.certification import compute, patterns, store
from runreg.certification.engine import CompiledRule
from runreg.certification.tables import json_jobs
from runreg.configuration import service as configuration
from runreg.kernel import limits
from runreg.kernel.actors import Actor
from runreg.kernel.errors import InvalidInput, NotFound
from runreg.kernel.repeating import repeating
from runreg.storage.database import Database, as_utc
from runreg.telemetry import metrics

log = logging.getLogger(__name__)
POLICIES = ("refuse", "union", "intersection", "first")
#: A running job whose holder has not beaten for this long is taken as abandoned (it beats 4 times as often).
JOB_LEASE_S = 120.0


class JobNotFound(NotFound):
    def __init__(self, job_id: int) -> None:
        super().__init__(f"JSON job {job_id} does not exist", details={"job": job_id})


class JobRunner(Protocol):
    """Where jobs run: a Celery worker through Redis in production, a thread of this process by default."""

    def submit(self, job_id: int) -> None: ...


@dataclass(frozen=True)
class Job:
    id: int
    status: str
    progress: float
    created_by: str
    created_at: datetime
    dataset_pattern: str
    rule: Any
    tags: str
    official: bool
    preset: str | None
    policy: str
    change_set_id: int
    config_version: int
    attempts: int
    error: str | None
    result: dict[str, Any] | None
    deleted: bool


def submit(
    db: Database,
    runner: JobRunner,
    *,
    actor: Actor,
    dataset_pattern: str,
    rule: Any = None,
    preset: str | None = None,
    tags: str = "",
    official: bool = False,
    policy: str = "refuse",
) -> int:
    """Validate before any work (rule, preset, pattern, that some dataset matches), record the job pinned to
    the current change set and configuration, then queue it after the commit."""
    with db.reading() as conn:
        configuration.authorize(conn, actor=actor, action="certification:json:create")
        if official:
            configuration.authorize(conn, actor=actor, action="certification:json:official")
    limits.check_text("created_by", actor.name, limits.MAX_NAME_CHARS)
    limits.check_text("tags", tags)
    limits.check_text("dataset_pattern", dataset_pattern, limits.MAX_PATTERN_CHARS)
    config = configuration.current_configuration(db)
    if preset is not None:
        found = next((p for p in config.json_presets if p.name == preset), None)
        if found is None:
            raise InvalidInput("preset", f"no JSON preset named {preset!r}")
        rule = found.rule if rule is None else rule
    if rule is None or rule == {}:
        raise InvalidInput("json_logic", "Empty json logic sent")
    if policy not in POLICIES:
        raise InvalidInput("policy", f"{policy!r} is not one of {', '.join(POLICIES)}")
    CompiledRule(rule)  # raises InvalidInput naming where the rule is wrong
    with db.transaction() as conn:
        if not any(patterns.matches(dataset_pattern, name) for name in store.dataset_names(conn)):
            raise InvalidInput(
                "dataset_name_filter", f"No datasets matched that dataset name: {dataset_pattern!r}"
            )
        version, _ = configuration.current(conn)
        job_id = conn.execute(
            insert(json_jobs)
            .values(
                status="queued",
                progress=0.0,
                created_by=actor.name,
                created_at=datetime.now(UTC),
                rule=rule,
                dataset_pattern=dataset_pattern,
                policy=policy,
                tags=tags,
                official=official,
                preset=preset,
                change_set_id=store.latest_change_set(conn),
                config_version=version,
            )
            .returning(json_jobs.c.id)
        ).scalar_one()
    runner.submit(job_id)
    metrics.json_job("submitted")
    return job_id


def run_job(db: Database, job_id: int, *, lease_s: float = JOB_LEASE_S) -> str:
    """Compute a job unless it is done or a live holder runs it: "ran", "done" or "held". A job handed out
    several times (Celery redelivery, a start-up sweep, several servers) is claimed by one; the holder beats
    every `lease_s / 4` seconds, and a holder that is a dead process on this host, or silent for `lease_s`,
    loses the job to the next taker (idempotent: the job is simply computed again)."""
    holder = _this_holder()
    now = datetime.now(UTC)
    with db.transaction() as conn:
        row = conn.execute(select(json_jobs).where(json_jobs.c.id == job_id)).first()
        if row is None:
            raise JobNotFound(job_id)
        if row.status == "done":
            return "done"
        if row.status == "running" and not _holder_gone(row, now, lease_s):
            return "held"
        claimed = conn.execute(
            update(json_jobs)
            .where(json_jobs.c.id == job_id, *_unchanged(row))
            .values(
                status="running",
                started_at=now,
                attempts=json_jobs.c.attempts + 1,
                progress=0.0,
                claimed_by=holder,
                heartbeat_at=now,
            )
        ).rowcount
    if not claimed:
        return "held"  # someone claimed it between our read and our write
    job = _job(row)
    try:
        with repeating(lease_s / 4, lambda: _beat(db, job_id, holder), name=f"json-job-{job_id}-heartbeat"):
            result = compute.compute_json(
                db,
                rule=job.rule,
                dataset_pattern=job.dataset_pattern,
                policy=job.policy,
                as_of=job.change_set_id,
                progress=lambda fraction: _progress(db, job_id, fraction),
            )
    except Exception as exc:
        message = getattr(exc, "message", None) or f"{type(exc).__name__}: {exc}"
        log.exception("JSON job %d failed", job_id)
        _finish(db, job_id, holder, status="failed", error=message)
        return "ran"
    _finish(db, job_id, holder, status="done", progress=1.0, result=result, error=None)
    return "ran"


def requeue_abandoned(db: Database, runner: JobRunner, *, stale_after_s: float = JOB_LEASE_S) -> list[int]:
    """The start-up sweep: hand `runner` every job still queued (its hand-off may have died with a process)
    and every job running for a holder that is gone (a dead process on this host) or silent for
    `stale_after_s`. A job queued twice runs once: `run_job` claims it."""
    now = datetime.now(UTC)
    with db.transaction() as conn:
        rows = conn.execute(
            select(json_jobs.c.id, json_jobs.c.status, json_jobs.c.claimed_by, json_jobs.c.heartbeat_at)
            .where(json_jobs.c.status.in_(("queued", "running")), json_jobs.c.deleted.is_(False))
            .order_by(json_jobs.c.id)
        ).all()
        abandoned = [r for r in rows if r.status == "running" and _holder_gone(r, now, stale_after_s)]
        for row in abandoned:
            conn.execute(
                update(json_jobs)
                .where(json_jobs.c.id == row.id, *_unchanged(row))
                .values(status="queued", claimed_by=None)
            )
    again = sorted([r.id for r in rows if r.status == "queued"] + [r.id for r in abandoned])
    for job_id in again:  # after the commit, like submit
        runner.submit(job_id)
    if again:
        log.info("re-queued %d JSON job(s) left queued or abandoned: %s", len(again), again)
    return again


def _unchanged(row: Any) -> list[Any]:
    """Compare-and-set: the claim holds only if nobody changed the job's holder since we read it."""
    columns = json_jobs.c
    same = [columns.status == row.status]
    for column, value in ((columns.claimed_by, row.claimed_by), (columns.heartbeat_at, row.heartbeat_at)):
        same.append(column.is_(None) if value is None else column == value)
    return same


def _holder_gone(row: Any, now: datetime, stale_after_s: float) -> bool:
    beat = as_utc(row.heartbeat_at)
    if beat is None or (now - beat).total_seconds() >= stale_after_s:
        return True
    host, _, pid = (row.claimed_by or "").rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False  # another host's process: only its silence tells
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False  # alive, someone else's
    return False


def _this_holder() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _beat(db: Database, job_id: int, holder: str) -> None:
    try:
        with db.transaction() as conn:
            conn.execute(
                update(json_jobs)
                .where(json_jobs.c.id == job_id, json_jobs.c.claimed_by == holder)
                .values(heartbeat_at=datetime.now(UTC))
            )
    except Exception:  # noqa: BLE001 — the next beat tries again; a long silence lets the sweep take over
        log.warning("JSON job %d: heartbeat not written", job_id, exc_info=True)


def _finish(db: Database, job_id: int, holder: str, **values: Any) -> None:
    """Record the outcome, unless the job was taken from us meanwhile (we were silent too long)."""
    with db.transaction() as conn:
        conn.execute(
            update(json_jobs)
            .where(json_jobs.c.id == job_id, json_jobs.c.claimed_by == holder)
            .values(finished_at=datetime.now(UTC), heartbeat_at=datetime.now(UTC), **values)
        )
    metrics.json_job(values["status"])


def _progress(db: Database, job_id: int, fraction: float) -> None:
    with db.transaction() as conn:
        conn.execute(
            update(json_jobs)
            .where(json_jobs.c.id == job_id)
            .values(progress=round(fraction, 3), heartbeat_at=datetime.now(UTC))
        )


def get(db: Database, job_id: int) -> Job:
    limits.check_ids(job=job_id)
    with db.reading() as conn:
        return _load(conn, job_id)


def count_by_status(db: Database) -> dict[str, int]:
    """Jobs per status, whichever process runs them (for monitoring: queued jobs that stay queued)."""
    query = select(json_jobs.c.status, func.count()).group_by(json_jobs.c.status)
    with db.reading() as conn:
        return {status: count for status, count in conn.execute(query)}


def list_jobs(db: Database, *, limit: int = 50, include_deleted: bool = False) -> list[Job]:
    limits.check_ids(limit=limit)
    query = select(json_jobs).order_by(json_jobs.c.id.desc()).limit(limit)
    if not include_deleted:
        query = query.where(json_jobs.c.deleted.is_(False))
    with db.reading() as conn:
        return [_job(row) for row in conn.execute(query)]


def delete(db: Database, *, actor: Actor, job_id: int) -> None:
    """Soft delete, by whoever may delete this job (its owner, by the default configuration, or experts)."""
    limits.check_ids(job=job_id)
    with db.transaction() as conn:
        job = _load(conn, job_id)
        configuration.authorize(
            conn, actor=actor, action="certification:json:delete", target=Target(owner=job.created_by)
        )
        conn.execute(update(json_jobs).where(json_jobs.c.id == job_id).values(deleted=True))


def regenerate(db: Database, job_id: int) -> dict[str, Any]:
    """Recompute a stored job as of the change set it was computed at (for audits; nothing is stored)."""
    job = get(db, job_id)
    return compute.compute_json(
        db, rule=job.rule, dataset_pattern=job.dataset_pattern, policy=job.policy, as_of=job.change_set_id
    )


def _load(conn: Connection, job_id: int) -> Job:
    row = conn.execute(select(json_jobs).where(json_jobs.c.id == job_id)).first()
    if row is None:
        raise JobNotFound(job_id)
    return _job(row)


def _job(row: Any) -> Job:
    return Job(
        row.id,
        row.status,
        row.progress,
        row.created_by,
        row.created_at,
        row.dataset_pattern,
        row.rule,
        row.tags,
        row.official,
        row.preset,
        row.policy,
        row.change_set_id,
        row.config_version,
        row.attempts,
        row.error,
        row.result,
        row.deleted,
    )
