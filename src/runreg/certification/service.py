"""The JSON portal: submit a golden-JSON job, follow it, read and manage its stored result."""

from __future__ import annotations

import logging
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
from runreg.storage.database import Database
from runreg.telemetry import metrics

log = logging.getLogger(__name__)
POLICIES = ("refuse", "union", "intersection", "first")


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


def run_job(db: Database, job_id: int) -> None:
    """Compute a job (idempotent: a job redelivered after a worker died is simply computed again)."""
    with db.transaction() as conn:
        job = _load(conn, job_id)
        if job.status == "done":
            return
        conn.execute(
            update(json_jobs)
            .where(json_jobs.c.id == job_id)
            .values(
                status="running",
                started_at=datetime.now(UTC),
                attempts=json_jobs.c.attempts + 1,
                progress=0.0,
            )
        )
    try:
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
        with db.transaction() as conn:
            conn.execute(
                update(json_jobs)
                .where(json_jobs.c.id == job_id)
                .values(status="failed", error=message, finished_at=datetime.now(UTC))
            )
        metrics.json_job("failed")
        return
    with db.transaction() as conn:
        conn.execute(
            update(json_jobs)
            .where(json_jobs.c.id == job_id)
            .values(status="done", progress=1.0, result=result, finished_at=datetime.now(UTC), error=None)
        )
    metrics.json_job("done")


def _progress(db: Database, job_id: int, fraction: float) -> None:
    with db.transaction() as conn:
        conn.execute(update(json_jobs).where(json_jobs.c.id == job_id).values(progress=round(fraction, 3)))


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
