"""Read-only HTTP views of runs, their ranges and the change log (writes arrive with permissions)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request

from runreg.registry import service
from runreg.registry.model import ONLINE
from runreg.storage.database import Database

router = APIRouter(tags=["runs"])


def _db(request: Request) -> Database:
    return request.app.state.db


@router.get("/runs")
def list_runs(
    request: Request, limit: int = Query(50, ge=1, le=500), offset: int = Query(0, ge=0)
) -> list[dict[str, Any]]:
    return service.list_runs(_db(request), limit=limit, offset=offset)


@router.get("/runs/{run_number}")
def get_run(request: Request, run_number: int, as_of: int | None = Query(None)) -> dict[str, Any]:
    return service.describe_run(service.run_state(_db(request), run_number, as_of=as_of))


@router.get("/runs/{run_number}/datasets/{dataset:path}/ranges")
def get_ranges(
    request: Request, run_number: int, dataset: str = ONLINE, as_of: int | None = Query(None)
) -> dict[str, Any]:
    run = service.run_state(_db(request), run_number, as_of=as_of)
    return {
        "run_number": run_number,
        "dataset": dataset,
        "components": service.component_ranges(run, dataset),
    }


@router.get("/change-sets")
def list_change_sets(
    request: Request, run_number: int | None = Query(None), limit: int = Query(50, ge=1, le=500)
) -> list[dict[str, Any]]:
    return [
        {
            "id": cs.id,
            "author": cs.author,
            "actor_kind": cs.actor_kind,
            "comment": cs.comment,
            "created_at": cs.created_at.isoformat(),
            "reverts": cs.reverts,
        }
        for cs in service.history(_db(request), run_number=run_number, limit=limit)
    ]
