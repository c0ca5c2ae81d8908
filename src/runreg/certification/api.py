"""/api/v1 routes of the JSON portal: submit, follow, read, delete (thin handlers)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from runreg.access.api import authenticated_actor
from runreg.certification import service
from runreg.kernel.actors import Actor
from runreg.kernel.limits import Id, Name, Pattern, Value

router = APIRouter(tags=["golden JSON"])
WRITE = Depends(authenticated_actor)


class JsonRequest(BaseModel):
    dataset_pattern: Pattern = Field(
        description="SQL SIMILAR TO pattern, e.g. /PromptReco/Collisions2024(C|D)/DQM"
    )
    rule: Any = Field(None, description="JSON-logic over dataset.*, run.*, lumisection.* (or use a preset)")
    preset: Name | None = Field(None, description="name of a configured preset, e.g. golden")
    tags: Value = ""
    official: bool = False
    policy: Value = Field(
        "refuse", description="two matching datasets in a run: refuse, union, intersection, first"
    )


def job_view(job: service.Job, *, with_result: bool = True) -> dict[str, Any]:
    view = {
        "id": job.id,
        "status": job.status,
        "progress": job.progress,
        "created_by": job.created_by,
        "created_at": job.created_at.isoformat(),
        "dataset_pattern": job.dataset_pattern,
        "rule": job.rule,
        "preset": job.preset,
        "tags": job.tags,
        "official": job.official,
        "policy": job.policy,
        "change_set_id": job.change_set_id,
        "config_version": job.config_version,
        "attempts": job.attempts,
        "error": job.error,
        "deleted": job.deleted,
    }
    if with_result:
        view["result"] = job.result
    return view


@router.post("/jsons", status_code=202)
def submit(request: Request, body: JsonRequest, actor: Actor = WRITE) -> dict[str, Any]:
    """Queue a golden JSON; the answer is the job to follow at /api/v1/jsons/{id}."""
    job_id = service.submit(request.app.state.db, request.app.state.jobs, actor=actor, **body.model_dump())
    return job_view(service.get(request.app.state.db, job_id), with_result=False)


@router.get("/jsons")
def list_jobs(request: Request, limit: int = Query(50, ge=1, le=500)) -> list[dict[str, Any]]:
    return [job_view(job, with_result=False) for job in service.list_jobs(request.app.state.db, limit=limit)]


@router.get("/jsons/{job_id}")
def get_job(request: Request, job_id: Id) -> dict[str, Any]:
    """Status (queued, running with progress, done, failed) and, when done, the stored result."""
    return job_view(service.get(request.app.state.db, job_id))


@router.delete("/jsons/{job_id}")
def delete_job(request: Request, job_id: Id, actor: Actor = WRITE) -> dict[str, Any]:
    """Soft delete: by the owner or an expert."""
    service.delete(request.app.state.db, actor=actor, job_id=job_id)
    return {"id": job_id, "deleted": True}
