"""The JSON portal: submit a golden-JSON job, follow it, read and manage its stored result; saved presets."""

from __future__ import annotations

import json
import logging
import os
import socket
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy import Connection, func, insert, select, update
from sqlalchemy import delete as delete_rows

from runreg.access.actions import Target
from runreg.certification import compute, patterns, store
from runreg.certification.engine import CompiledRule, Needs
from runreg.certification.tables import json_jobs, json_presets
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
MAX_LIST = 500
MAX_TAGS = 500


class JobNotFound(NotFound):
    def __init__(self, job_id: int) -> None:
        super().__init__(f"JSON job {job_id} does not exist", details={"job": job_id})


class JobRunner(Protocol):
    """Where jobs run: a Celery worker through Redis in production, a thread of this process by default."""

    def submit(self, job_id: int) -> None: ...


@dataclass(frozen=True)
class DatasetMatches:
    names: int
    runs: int
    examples: list[str]


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
    runs: int | None = None  # counts of a job listed without its result
    ls_in_json: int | None = None


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
    if preset is not None:
        found = find_preset(db, preset)
        if found is None:
            raise InvalidInput("preset", f"no JSON preset named {preset!r}")
        rule = found.rule if rule is None else rule
    if rule is None or rule == {}:
        raise InvalidInput("json_logic", "Empty json logic sent")
    tags = _clean_tags(tags)
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


def list_jobs(
    db: Database,
    *,
    limit: int = 50,
    include_deleted: bool = False,
    created_by: str | None = None,
    official: bool | None = None,
    before: int | None = None,
    with_result: bool = True,
) -> list[Job]:
    """Newest first; only one person's, only the official ones, only those older than job `before`.
    Without the result (a year's result is megabytes), a job carries only its runs and LS counts."""
    limits.check_ids(limit=limit)
    columns = [c for c in json_jobs.c if with_result or c.name != "result"]
    query = select(*columns).order_by(json_jobs.c.id.desc()).limit(min(max(limit, 1), MAX_LIST))
    if not with_result:
        query = query.add_columns(
            json_jobs.c.result["runs"].as_integer().label("result_runs"),
            json_jobs.c.result["ls_in_json"].as_integer().label("result_ls"),
        )
    if not include_deleted:
        query = query.where(json_jobs.c.deleted.is_(False))
    if created_by is not None:
        query = query.where(json_jobs.c.created_by == created_by)
    if official is not None:
        query = query.where(json_jobs.c.official.is_(official))
    if before is not None:
        query = query.where(json_jobs.c.id < before)
    with db.reading() as conn:
        return [_job(row) for row in conn.execute(query)]


def matching_datasets(db: Database, *, dataset_pattern: str, examples: int = 5) -> DatasetMatches:
    """How many dataset names (and runs having them) a pattern matches, with a few of the names: what the
    create form previews while the pattern is typed. Raises InvalidInput for a malformed pattern."""
    patterns.similar_to(dataset_pattern)
    with db.reading() as conn:
        counts = store.dataset_name_runs(conn)
    names = sorted(name for name in counts if patterns.matches(dataset_pattern, name))
    return DatasetMatches(len(names), sum(counts[n] for n in names), names[:examples])


def check_rule(*, rule: Any) -> Needs:
    """What a rule reads, or InvalidInput naming the node where it is wrong (the editor's check)."""
    if rule is None or rule == {}:
        raise InvalidInput("json_logic", "Empty json logic sent")
    return CompiledRule(rule).needs()


def set_official(db: Database, *, actor: Actor, job_id: int, official: bool) -> None:
    """Mark a JSON official (or not): for those who may certification:json:official."""
    with db.transaction() as conn:
        _load(conn, job_id)
        configuration.authorize(conn, actor=actor, action="certification:json:official")
        conn.execute(update(json_jobs).where(json_jobs.c.id == job_id).values(official=official))


def set_tags(db: Database, *, actor: Actor, job_id: int, tags: str) -> str:
    """Replace a JSON's tags (comma-separated, trimmed, duplicates dropped); by its owner or experts."""
    cleaned = _clean_tags(tags)
    with db.transaction() as conn:
        job = _load(conn, job_id)
        configuration.authorize(
            conn, actor=actor, action="certification:json:tag", target=Target(owner=job.created_by)
        )
        conn.execute(update(json_jobs).where(json_jobs.c.id == job_id).values(tags=cleaned))
    return cleaned


def _clean_tags(tags: str) -> str:
    cleaned = ", ".join(dict.fromkeys(t.strip() for t in tags.split(",") if t.strip()))
    if len(cleaned) > MAX_TAGS:
        raise InvalidInput("tags", f"at most {MAX_TAGS} characters of tags, got {len(cleaned)}")
    return cleaned


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
        getattr(row, "result", None),
        row.deleted,
        getattr(row, "result_runs", None),
        getattr(row, "result_ls", None),
    )


# --- presets: the configuration's (read-only here) and those people save, edit and delete ----------------
PRESET_ACTION = "certification:preset:write"
MAX_NAME = 128
MAX_DESCRIPTION = 2000
MAX_RULE_TEXT = 100_000


@dataclass(frozen=True)
class Preset:
    """A named rule: `owner` None for the configuration's presets, else who saved it."""

    name: str
    description: str
    dataset_pattern: str
    rule: Any
    owner: str | None


class PresetNotFound(NotFound):
    def __init__(self, name: str) -> None:
        super().__init__(f"there is no saved JSON preset named {name!r}", details={"preset": name})


def list_presets(db: Database) -> list[Preset]:
    """The configuration's presets first, then the saved ones by name."""
    configured = [
        Preset(p.name, p.description, p.dataset_pattern, p.rule, None)
        for p in configuration.current_configuration(db).json_presets
    ]
    with db.reading() as conn:
        saved = [_preset(row) for row in store.saved_presets(conn)]
    return configured + saved


def find_preset(db: Database, name: str) -> Preset | None:
    """A preset by name: the configuration's, else a saved one."""
    return next((p for p in list_presets(db) if p.name == name), None)


def save_preset(
    db: Database,
    *,
    actor: Actor,
    name: str,
    rule: Any,
    dataset_pattern: str = "",
    description: str = "",
) -> bool:
    """Create a preset (owned by `actor`) or replace one of the same name (by its owner, or experts).
    Returns True when it was created. The configuration's presets are changed in the configuration."""
    name = name.strip()
    if not name:
        raise InvalidInput("preset_name", "a preset needs a name")
    if len(name) > MAX_NAME:
        raise InvalidInput("preset_name", f"at most {MAX_NAME} characters, got {len(name)}")
    if len(description) > MAX_DESCRIPTION:
        raise InvalidInput("description", f"at most {MAX_DESCRIPTION} characters, got {len(description)}")
    if any(p.name == name for p in configuration.current_configuration(db).json_presets):
        raise InvalidInput(
            "preset_name", f"{name!r} is a preset of the configuration: change it there, or pick another name"
        )
    if rule is None or rule == {}:
        raise InvalidInput("json_logic", "a preset needs a rule")
    if len(json.dumps(rule)) > MAX_RULE_TEXT:
        raise InvalidInput("json_logic", f"a preset's rule is at most {MAX_RULE_TEXT} characters of JSON")
    CompiledRule(rule)  # raises InvalidInput naming the node
    if dataset_pattern:
        patterns.similar_to(dataset_pattern)
    now = datetime.now(UTC)
    with db.transaction() as conn:
        existing = store.saved_presets(conn, name)
        owner = existing[0].created_by if existing else actor.name
        configuration.authorize(conn, actor=actor, action=PRESET_ACTION, target=Target(owner=owner))
        values = {
            "description": description,
            "dataset_pattern": dataset_pattern,
            "rule": rule,
            "updated_at": now,
        }
        if existing:
            conn.execute(update(json_presets).where(json_presets.c.name == name).values(**values))
        else:
            conn.execute(insert(json_presets).values(name=name, created_by=owner, created_at=now, **values))
    return not existing


def delete_preset(db: Database, *, actor: Actor, name: str) -> None:
    """Delete a saved preset (its owner, or experts). Jobs made with it keep their own copy of the rule."""
    with db.transaction() as conn:
        existing = store.saved_presets(conn, name)
        if not existing:
            raise PresetNotFound(name)
        configuration.authorize(
            conn, actor=actor, action=PRESET_ACTION, target=Target(owner=existing[0].created_by)
        )
        conn.execute(delete_rows(json_presets).where(json_presets.c.name == name))


def _preset(row: Any) -> Preset:
    return Preset(row.name, row.description, row.dataset_pattern, row.rule, row.created_by)
