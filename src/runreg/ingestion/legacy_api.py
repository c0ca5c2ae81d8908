"""The original's refresh, reset-and-refresh and mark-significant routes, as the public client calls them."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request

from runreg.access.api import authenticated_actor
from runreg.ingestion import service
from runreg.kernel.actors import Actor
from runreg.kernel.errors import InvalidState, NotFound
from runreg.kernel.limits import Id
from runreg.registry.legacy_api import RunNumber, run_record, said_as_original

router = APIRouter(tags=["legacy (runregistry client)"])
WRITE = Depends(authenticated_actor)


@router.post("/runs/mark_significant")
def mark_significant(request: Request, body: RunNumber, actor: Actor = WRITE) -> dict[str, Any]:
    """Mark an OPEN run significant (one way), then compute its LS statuses from OMS."""
    db = request.app.state.db
    with said_as_original((InvalidState, "Run must be in state OPEN to be marked significant")):
        service.mark_significant(db, request.app.state.oms, actor=actor, run_number=body.run_number)
    return run_record(db, body.run_number)


@router.post("/runs/refresh_run/{run_number}")
def refresh_run(request: Request, run_number: Id, actor: Actor = WRITE) -> dict[str, Any]:
    """Re-read an OPEN run from OMS, classifying with its stored RR attributes (manual decisions stay)."""
    return _refresh(request, run_number, actor, reset=False)


@router.post("/runs/reset_and_refresh_run/{run_number}")
def reset_and_refresh_run(request: Request, run_number: Id, actor: Actor = WRITE) -> dict[str, Any]:
    """Re-read an OPEN run from OMS, recomputing class and significance from scratch."""
    return _refresh(request, run_number, actor, reset=True)


def _refresh(request: Request, run_number: Id, actor: Actor, *, reset: bool) -> dict[str, Any]:
    db = request.app.state.db
    with said_as_original(
        (InvalidState, "Run must be in state OPEN to be refreshed"), (NotFound, "Run not found")
    ):
        service.refresh_run(db, request.app.state.oms, actor=actor, run_number=run_number, reset=reset)
    return run_record(db, run_number)
