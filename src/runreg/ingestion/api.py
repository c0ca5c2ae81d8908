"""/api/v1 routes that re-read runs from OMS: refresh, reset-and-refresh, mark significant."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from runreg.access.api import authenticated_actor
from runreg.ingestion import service
from runreg.kernel.actors import Actor
from runreg.kernel.limits import Id

router = APIRouter(tags=["runs"])
WRITE = Depends(authenticated_actor)


def _outcome(outcome) -> dict[str, object]:  # noqa: ANN001
    return {"outcome": outcome.kind, "change_set_id": outcome.change_set_id, "reason": outcome.reason}


@router.post("/runs/{run_number}/refresh")
def refresh(request: Request, run_number: Id, actor: Actor = WRITE) -> dict[str, object]:
    """Re-read an OPEN run from OMS now, classifying with its stored RR attributes (manual decisions stay)."""
    return _outcome(
        service.refresh_run(request.app.state.db, request.app.state.oms, actor=actor, run_number=run_number)
    )


@router.post("/runs/{run_number}/reset_and_refresh")
def reset_and_refresh(request: Request, run_number: Id, actor: Actor = WRITE) -> dict[str, object]:
    """Re-read an OPEN run, recomputing class and significance from a blank base (manual decisions stay)."""
    return _outcome(
        service.refresh_run(
            request.app.state.db, request.app.state.oms, actor=actor, run_number=run_number, reset=True
        )
    )


@router.post("/runs/{run_number}/significant")
def mark_significant(request: Request, run_number: Id, actor: Actor = WRITE) -> dict[str, object]:
    """Declare the run significant (manual, one way) and compute its LS statuses."""
    return _outcome(
        service.mark_significant(
            request.app.state.db, request.app.state.oms, actor=actor, run_number=run_number
        )
    )
