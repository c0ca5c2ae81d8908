"""The original's cycle routes (`routes/cycle.js`) at the root path: the public client's `get_cycles()` and
the web UI's bodies and answers (a cycle with its `CycleDataset` rows and member `datasets` flattened)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict

from runreg.access.api import authenticated_actor
from runreg.datasets import service
from runreg.datasets.cycles import Member
from runreg.kernel.actors import Actor
from runreg.kernel.errors import InvalidInput
from runreg.kernel.limits import Id, Name, Value
from runreg.registry import readmodels
from runreg.registry import service as registry
from runreg.storage.database import Database

router = APIRouter(tags=["legacy (runregistry client)"])
WRITE = Depends(authenticated_actor)
STATE_SUFFIX = "_state"
#: Our field names as the original's bodies spell them.
FIELDS = {
    "name": "cycle_name",
    "workspaces": "cycle_attributes",
    "cycle": "id_cycle",
    "dataset": "dataset_name",
}


class _Body(BaseModel):
    model_config = ConfigDict(extra="ignore")


class CycleInformation(_Body):
    cycle_name: Name | None = None
    deadline: Value | None = None
    cycle_attributes: dict[Value, Value] | None = None


class NewCycle(CycleInformation):
    filter: Any = None


class CycleEdit(CycleInformation):
    id_cycle: Id


class CycleId(_Body):
    id_cycle: Id


class CycleFilter(CycleId):
    filter: Any = None


class MoveAll(CycleId):
    to_state: Value


class MoveOne(CycleId):
    """`workspace` is also in the body, but the path's is the one used, as in the original."""

    run_number: Id
    dataset_name: Name


# -- reading -------------------------------------------------------------------------------------------------
@router.get("/cycles/{workspace}")
def list_cycles(request: Request, workspace: Value) -> list[dict[str, Any]]:
    """Every cycle not deleted, each with its member datasets flattened into `datasets`: pending in the
    workspace first, then completed, then the others, each by deadline (the order the original meant)."""
    return [
        cycle_record(cycle, members)
        for cycle, members in service.cycles_with_members(_db(request), workspace=workspace)
    ]


# -- writing -------------------------------------------------------------------------------------------------
@router.post("/cycles")
def create(request: Request, body: NewCycle, actor: Actor = WRITE) -> dict[str, Any]:
    """`cycle_attributes` names the workspaces (`<ws>_state`, global always) and says `pending` for each."""
    db = _db(request)
    with original_fields():
        states = _states(body.cycle_attributes)
        cycle = service.create_cycle(
            db,
            actor=actor,
            name=body.cycle_name or "",
            deadline=body.deadline,  # type: ignore[arg-type]  # None is refused naming the field
            workspaces=list(states),
            claimed_states=states,
            filter=body.filter,
        )
    return _with_members(db, cycle.id)


@router.put("/cycles")
def edit(request: Request, body: CycleEdit, actor: Actor = WRITE) -> dict[str, Any]:
    """Name, deadline and workspaces; the states sent must be the current ones (marking changes them)."""
    db = _db(request)
    with original_fields():
        states = _states(body.cycle_attributes)
        service.edit_cycle(
            db,
            actor=actor,
            cycle_id=body.id_cycle,
            name=body.cycle_name or "",
            deadline=body.deadline,  # type: ignore[arg-type]
            workspaces=list(states),
            claimed_states=states,
        )
    return _with_members(db, body.id_cycle)


@router.delete("/cycles")
def delete(request: Request, body: CycleId, actor: Actor = WRITE) -> dict[str, Any]:
    """Soft delete; answers the cycle (`deleted: true`)."""
    with original_fields():
        return cycle_record(service.delete_cycle(_db(request), actor=actor, cycle_id=body.id_cycle))


@router.post("/cycles/add_datasets_to_cycle")
@router.post("/cycles/add_datasets", include_in_schema=False)
def add_datasets(request: Request, body: CycleFilter, actor: Actor = WRITE) -> dict[str, Any]:
    """Add the datasets the filter selects; those already in the cycle are left as they are."""
    db = _db(request)
    with original_fields():
        service.add_datasets(db, actor=actor, cycle_id=body.id_cycle, filter=body.filter)
    return _with_members(db, body.id_cycle)


@router.post("/cycles/delete_datasets_from_cycle")
def remove_datasets(request: Request, body: CycleFilter, actor: Actor = WRITE) -> dict[str, Any]:
    """Remove the datasets the filter selects: each must be in the cycle."""
    db = _db(request)
    with original_fields():
        service.remove_datasets(db, actor=actor, cycle_id=body.id_cycle, filter=body.filter)
    return _with_members(db, body.id_cycle)


@router.put("/cycles/mark_cycle_complete/{workspace}")
def mark_complete(request: Request, workspace: Value, body: CycleId, actor: Actor = WRITE) -> dict[str, Any]:
    """Every member with a state in the workspace COMPLETED; global after every other workspace."""
    with original_fields():
        cycle = service.mark_completed(_db(request), actor=actor, cycle_id=body.id_cycle, workspace=workspace)
    return cycle_record(cycle)


@router.put("/cycles/mark_cycle_pending/{workspace}")
def mark_pending(request: Request, workspace: Value, body: CycleId, actor: Actor = WRITE) -> dict[str, Any]:
    """Back to pending; a workspace other than global not while global is completed."""
    with original_fields():
        cycle = service.mark_pending(_db(request), actor=actor, cycle_id=body.id_cycle, workspace=workspace)
    return cycle_record(cycle)


@router.post("/cycles/move_all_datasets_to/{workspace}")
def move_all(request: Request, workspace: Value, body: MoveAll, actor: Actor = WRITE) -> dict[str, Any]:
    """Every member not COMPLETED in the workspace to `to_state`, as one change set."""
    db = _db(request)
    with original_fields():
        service.move_all_datasets(
            db, actor=actor, cycle_id=body.id_cycle, workspace=workspace, to_state=body.to_state
        )
    return _with_members(db, body.id_cycle)


@router.post("/cycles/move_dataset/{workspace}/{from_state}/{to_state}")
def move_one(
    request: Request,
    workspace: Value,
    from_state: Value,
    to_state: Value,
    body: MoveOne,
    actor: Actor = WRITE,
) -> dict[str, Any]:
    """One member, while the cycle is pending in the workspace; `from_state` must be its current state
    there. Answers the dataset, as the dataset move does."""
    db = _db(request)
    with original_fields():
        service.move_dataset(
            db,
            actor=actor,
            cycle_id=body.id_cycle,
            workspace=workspace,
            run_number=body.run_number,
            name=body.dataset_name,
            from_state=from_state,
            to_state=to_state,
            comment=f"cycle {body.id_cycle}: move dataset from {from_state} to {to_state} in {workspace}",
        )
    return readmodels.dataset_record_of(registry.run_state(db, body.run_number), body.dataset_name)


# -- shapes --------------------------------------------------------------------------------------------------
def cycle_record(cycle: service.Cycle, members: list[Member] | None = None) -> dict[str, Any]:
    """The original's Cycle row; with `members`, also its CycleDataset rows and the flat `datasets`."""
    record: dict[str, Any] = {
        "id_cycle": cycle.id,
        "cycle_name": cycle.name,
        "cycle_attributes": {f"{ws}{STATE_SUFFIX}": state for ws, state in cycle.states.items()},
        "deadline": timestamp(cycle.deadline),
        "deleted": cycle.deleted,
        "createdAt": timestamp(cycle.created_at),
        "updatedAt": timestamp(cycle.updated_at),
    }
    if members is None:
        return record
    added = {m.key: m.added_at for m in cycle.members}
    record["CycleDataset"] = [
        {
            "id_cycle": cycle.id,
            "run_number": m.run_number,
            "name": m.name,
            "createdAt": timestamp(added[m.run_number, m.name]),
            "updatedAt": timestamp(added[m.run_number, m.name]),
        }
        for m in members
    ]
    record["datasets"] = [dataset_row(m) for m in members]
    return record


def dataset_row(member: Member) -> dict[str, Any]:
    """A member as the original's Dataset row (`deleted` is true for a hidden dataset)."""
    attributes = dict(member.attributes)
    in_gui = attributes.pop(readmodels.IN_GUI, None)
    return {
        "run_number": member.run_number,
        "name": member.name,
        "dataset_attributes": attributes,
        "datasets_in_gui": list(in_gui) if isinstance(in_gui, list) else [],
        "deleted": member.hidden,
    }


def timestamp(moment: datetime) -> str:
    """As Sequelize writes them: `2024-07-15T18:00:00.000Z`."""
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{moment.microsecond // 1000:03d}Z"


@contextmanager
def original_fields() -> Iterator[None]:
    """Refusals name fields as the original spells them (`cycle_name`, `cycle_attributes.dt_state`)."""
    try:
        yield
    except InvalidInput as exc:
        head, _, rest = exc.field.partition(".")
        suffix = STATE_SUFFIX if head == "workspaces" else ""
        field = FIELDS.get(head, head) + (f".{rest}{suffix}" if rest else "")
        details = {key: value for key, value in exc.details.items() if key != "field"}
        raise InvalidInput(field, exc.reason, details=details) from None


def _states(attributes: Mapping[str, str] | None) -> dict[str, str]:
    states: dict[str, str] = {}
    for key, state in (attributes or {}).items():
        if not key.endswith(STATE_SUFFIX) or key == STATE_SUFFIX:
            raise InvalidInput(f"cycle_attributes.{key}", "keys are <workspace>_state, e.g. global_state")
        states[key.removesuffix(STATE_SUFFIX)] = state
    return states


def _with_members(db: Database, cycle_id: int) -> dict[str, Any]:
    view = service.cycle_view(db, cycle_id, history_limit=1)
    return cycle_record(view.cycle, view.members)


def _db(request: Request) -> Database:
    return request.app.state.db
