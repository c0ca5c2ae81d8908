"""/api/v1 routes of certification cycles (thin handlers over datasets.service)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from runreg.access.api import authenticated_actor
from runreg.datasets import service
from runreg.datasets.cycles import CYCLE_STATES, Member
from runreg.kernel.actors import Actor
from runreg.kernel.errors import InvalidInput
from runreg.kernel.limits import Comment, Id, Name, Value, parse_json
from runreg.storage.database import Database

router = APIRouter(tags=["cycles"])
WRITE = Depends(authenticated_actor)
FILTER_HELP = (
    "table filter language (the offline tables' filter), e.g. "
    '{"name": "/PromptReco/Collisions2024C/DQM", "run_number": {">=": 379412}}; online and hidden datasets '
    "are never selected"
)
PREVIEW_ROWS = 50


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CycleInformation(_Body):
    name: Name = Field(description="unique among the cycles not deleted")
    deadline: Value = Field(
        description="ISO date or date-time, e.g. 2024-07-15 or 2024-07-15T18:00:00Z (UTC)"
    )
    workspaces: list[Value] = Field(
        min_length=1, max_length=100, description="offline workspaces; global is always one of them"
    )
    comment: Comment = Field("", description="why (recorded in the cycle's history)")


class NewCycle(CycleInformation):
    filter: dict[Value, Any] = Field(default_factory=dict, description=FILTER_HELP)


class Selected(_Body):
    filter: dict[Value, Any] = Field(default_factory=dict, description=FILTER_HELP)
    comment: Comment = ""


class Reason(_Body):
    comment: Comment = Field("", description="why (recorded in the cycle's history and the change set)")


class DatasetMove(Reason):
    from_state: Value | None = Field(None, description="when given, must be the dataset's current state")


def _db(request: Request) -> Database:
    return request.app.state.db


def cycle_out(cycle: service.Cycle) -> dict[str, Any]:
    return {
        "id": cycle.id,
        "name": cycle.name,
        "deadline": cycle.deadline.isoformat(),
        "states": cycle.states,
        "deleted": cycle.deleted,
        "datasets_count": cycle.datasets_count,
        "created_by": cycle.created_by,
        "created_at": cycle.created_at.isoformat(),
        "updated_by": cycle.updated_by,
        "updated_at": cycle.updated_at.isoformat(),
    }


def member_out(member: Member, workspaces: list[str]) -> dict[str, Any]:
    return {
        "run_number": member.run_number,
        "name": member.name,
        "states": {ws: member.state(ws) for ws in workspaces},
        "hidden": member.hidden,
    }


def view_out(view: service.CycleView) -> dict[str, Any]:
    workspaces = view.cycle.workspaces
    return {
        **cycle_out(view.cycle),
        "progress": {
            ws: dict(zip(("completed", "to_certify"), view.progress(ws), strict=True)) for ws in workspaces
        },
        "datasets": [member_out(m, workspaces) for m in view.members],
    }


def event_out(event: service.CycleEvent) -> dict[str, Any]:
    return {
        "id": event.id,
        "at": event.at.isoformat(),
        "author": event.author,
        "actor_kind": event.actor_kind,
        "kind": event.kind,
        "workspace": event.workspace,
        "comment": event.comment,
        "details": event.details,
        "change_set_id": event.change_set_id,
    }


def move_out(outcome: service.MoveOutcome) -> dict[str, Any]:
    return {
        "change_set_id": outcome.change_set_id,
        "moved": [{"run_number": run, "name": name, "from_state": was} for run, name, was in outcome.moved],
        "skipped": outcome.skipped,
    }


# -- reading -------------------------------------------------------------------------------------------------
@router.get("/cycles")
def list_cycles(
    request: Request,
    workspace: Value | None = Query(None, description="pending there first, then completed, then the others"),
    include_deleted: bool = Query(False),
) -> list[dict[str, Any]]:
    """Cycles by deadline (for a workspace: those pending in it first)."""
    found = service.list_cycles(
        _db(request), workspace=workspace, include_deleted=include_deleted, members=False
    )
    return [cycle_out(cycle) for cycle in found]


@router.get("/cycles/preview")
def preview(request: Request, filter: str = Query("{}", description=FILTER_HELP)) -> dict[str, Any]:
    """How many datasets a cycle made from this filter would hold, and the first of them."""
    chosen = service.preview(_db(request), filter=parse_json("filter", filter) or None)
    return {
        "count": chosen.count,
        "unfiltered": chosen.unfiltered,
        "datasets": [{"run_number": run, "name": name} for run, name in chosen.keys[:PREVIEW_ROWS]],
    }


@router.get("/cycles/{cycle_id}")
def get_cycle(request: Request, cycle_id: Id) -> dict[str, Any]:
    """A cycle with its datasets' states in each of its workspaces and the progress there."""
    return view_out(service.cycle_view(_db(request), cycle_id, history_limit=1))


@router.get("/cycles/{cycle_id}/history")
def history(request: Request, cycle_id: Id, limit: int = Query(200, ge=1, le=1000)) -> list[dict[str, Any]]:
    """Every change to the cycle, newest first: who, when, why, what (and the change set of a move)."""
    return [event_out(e) for e in service.cycle_view(_db(request), cycle_id, history_limit=limit).history]


# -- writing -------------------------------------------------------------------------------------------------
@router.post("/cycles", status_code=201)
def create(request: Request, body: NewCycle, actor: Actor = WRITE) -> dict[str, Any]:
    """A cycle pending in each workspace, holding the 1..1000 offline datasets the filter selects."""
    cycle = service.create_cycle(
        _db(request),
        actor=actor,
        name=body.name,
        deadline=body.deadline,
        workspaces=body.workspaces,
        filter=body.filter,
        comment=body.comment,
    )
    return cycle_out(cycle)


@router.put("/cycles/{cycle_id}")
def edit(request: Request, cycle_id: Id, body: CycleInformation, actor: Actor = WRITE) -> dict[str, Any]:
    """Name, deadline, workspaces (kept ones keep their state, new ones start pending)."""
    cycle = service.edit_cycle(
        _db(request),
        actor=actor,
        cycle_id=cycle_id,
        name=body.name,
        deadline=body.deadline,
        workspaces=body.workspaces,
        comment=body.comment,
    )
    return cycle_out(cycle)


@router.delete("/cycles/{cycle_id}")
def delete(
    request: Request, cycle_id: Id, comment: Comment = Query(""), actor: Actor = WRITE
) -> dict[str, Any]:
    """Soft delete: the cycle leaves the lists; its history stays."""
    return cycle_out(service.delete_cycle(_db(request), actor=actor, cycle_id=cycle_id, comment=comment))


@router.post("/cycles/{cycle_id}/datasets")
def add_datasets(request: Request, cycle_id: Id, body: Selected, actor: Actor = WRITE) -> dict[str, Any]:
    """Add the datasets the filter selects that are not in the cycle yet."""
    return cycle_out(
        service.add_datasets(
            _db(request), actor=actor, cycle_id=cycle_id, filter=body.filter, comment=body.comment
        )
    )


@router.post("/cycles/{cycle_id}/datasets/remove")
def remove_datasets(request: Request, cycle_id: Id, body: Selected, actor: Actor = WRITE) -> dict[str, Any]:
    """Remove the datasets the filter selects (every one must be in the cycle)."""
    return cycle_out(
        service.remove_datasets(
            _db(request), actor=actor, cycle_id=cycle_id, filter=body.filter, comment=body.comment
        )
    )


@router.post("/cycles/{cycle_id}/workspaces/{workspace}/state/{state}")
def change_state(
    request: Request,
    cycle_id: Id,
    workspace: Value,
    state: Value,
    body: Reason | None = None,
    actor: Actor = WRITE,
) -> dict[str, Any]:
    """`completed` (every member with a state there COMPLETED; global after every other workspace) or
    `pending` (a workspace other than global not while global is completed)."""
    if state not in CYCLE_STATES:
        raise InvalidInput("state", f"{state!r} is not one of {', '.join(CYCLE_STATES)}")
    change = service.mark_completed if state == "completed" else service.mark_pending
    comment = body.comment if body else ""
    return cycle_out(
        change(_db(request), actor=actor, cycle_id=cycle_id, workspace=workspace, comment=comment)
    )


@router.post("/cycles/{cycle_id}/workspaces/{workspace}/datasets/state/{state}")
def move_all(
    request: Request,
    cycle_id: Id,
    workspace: Value,
    state: Value,
    body: Reason | None = None,
    actor: Actor = WRITE,
) -> dict[str, Any]:
    """Every member not COMPLETED in the workspace to OPEN, SIGNOFF or COMPLETED, as one change set."""
    outcome = service.move_all_datasets(
        _db(request),
        actor=actor,
        cycle_id=cycle_id,
        workspace=workspace,
        to_state=state,
        comment=body.comment if body else "",
    )
    return move_out(outcome)


@router.post("/cycles/{cycle_id}/datasets/{run_number}/{name:path}/workspaces/{workspace}/state/{state}")
def move_one(
    request: Request,
    cycle_id: Id,
    run_number: Id,
    name: Name,
    workspace: Value,
    state: Value,
    body: DatasetMove | None = None,
    actor: Actor = WRITE,
) -> dict[str, Any]:
    """One member dataset, while the cycle is pending in the workspace (re-opening goes through here)."""
    body = body or DatasetMove()
    outcome = service.move_dataset(
        _db(request),
        actor=actor,
        cycle_id=cycle_id,
        workspace=workspace,
        run_number=run_number,
        name=name if name.startswith("/") else f"/{name}",
        from_state=body.from_state,
        to_state=state,
        comment=body.comment,
    )
    return move_out(outcome)
