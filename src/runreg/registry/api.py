"""The registry's /api/v1 routes: runs, datasets, lumisection edits and the change log (thin handlers)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from runreg.access.api import authenticated_actor
from runreg.eventlog.store import ChangeSet
from runreg.kernel.actors import Actor
from runreg.kernel.limits import Id, Name, Value, parse_json
from runreg.registry import readmodels, service
from runreg.registry.model import ONLINE
from runreg.registry.schemas import (
    AttributeEdit,
    ChangeResultOut,
    ChangeSetOut,
    DatasetEventOut,
    DatasetMovesIn,
    DatasetOmsEdit,
    DatasetStateMove,
    FlagRangeEdit,
    OmsValuesEdit,
    Reason,
    Revert,
    VisibilityReason,
)
from runreg.storage.database import Database

router = APIRouter()
WRITE = Depends(authenticated_actor)


def _db(request: Request) -> Database:
    return request.app.state.db


def _result(result: service.ChangeResult) -> ChangeResultOut:
    return ChangeResultOut(change_set_id=result.change_set_id, runs=result.events)


def _change_set(cs: ChangeSet) -> ChangeSetOut:
    return ChangeSetOut(
        id=cs.id,
        author=cs.author,
        actor_kind=cs.actor_kind,
        comment=cs.comment,
        created_at=cs.created_at.isoformat(),
        reverts=cs.reverts,
    )


def _dataset_name(name: str) -> str:
    """Offline dataset names start with '/'; in URLs they are written without it (or %2F-encoded)."""
    return name if name == ONLINE or name.startswith("/") else f"/{name}"


# -- runs ---------------------------------------------------------------------------------------------------
def _listing(request: Request, target: str, query: Listing, *, visible_only: bool = False) -> dict[str, Any]:
    parsed = parse_json("filter", query.filter) if query.filter else {}
    sortings = [key.rsplit(":", 1) if ":" in key else [key, "ASC"] for key in query.sort]
    rows, total = service.search(
        _db(request),
        target=target,
        filter=parsed,
        sortings=sortings,
        page=query.page,
        page_size=query.page_size,
        visible_only=visible_only,
    )
    return {
        "items": rows,
        "page": query.page,
        "page_size": query.page_size,
        "total": total,
        "pages": -(-total // query.page_size),
    }


FILTER_HELP = (
    'table filter language as JSON, e.g. {"rr_attributes.class": {"like": "collisions%"}, '
    '"oms_attributes.energy": {">=": 6000}, "triplet_summary.dt-dt.BAD": {">": 0}}'
)
SORT_HELP = "key:ASC|DESC, repeatable (e.g. run_number:DESC, oms_attributes.ls_duration:DESC)"


class Listing(BaseModel):
    """Query parameters of the run and dataset listings."""

    filter: str | None = Field(None, description=FILTER_HELP)
    sort: list[Value] = Field([], description=SORT_HELP)
    page: Id = 0
    page_size: int = Field(50, ge=1, le=10000)


class RunListing(Listing):
    include_hidden: bool = Field(False, description="also list hidden runs (each row says `hidden`)")


@router.get("/runs", tags=["runs"])
def list_runs(request: Request, query: Annotated[RunListing, Query()]) -> dict[str, Any]:
    """Runs matching a filter, one page at a time (default newest first), with the online status summary.
    Hidden runs are left out unless `include_hidden`."""
    return _listing(request, "runs", query, visible_only=not query.include_hidden)


@router.get("/datasets", tags=["datasets"])
def list_datasets(request: Request, query: Annotated[Listing, Query()]) -> dict[str, Any]:
    """Datasets (online included) matching a filter, with their run's attributes and their own summaries."""
    return _listing(request, "datasets", query)


@router.get("/runs/{run_number}", tags=["runs"])
def get_run(request: Request, run_number: Id, as_of: Id | None = Query(None)) -> dict[str, Any]:
    """A run's OMS and RR attributes, now or right after change set `as_of`; `hidden` (and why) when it is
    hidden from the listings."""
    return service.describe_run(service.run_state(_db(request), run_number, as_of=as_of))


@router.post("/runs/{run_number}/hide", tags=["runs"])
def hide_run(
    request: Request, run_number: Id, body: VisibilityReason, actor: Actor = WRITE
) -> ChangeResultOut:
    """Hide the run from the run listings (soft delete; `registry:run:hide`, experts by default), with a
    reason. It stays readable by its number (`hidden` true); revert the change set or `show` it again."""
    return _result(service.hide_run(_db(request), actor=actor, run_number=run_number, reason=body.reason))


@router.post("/runs/{run_number}/show", tags=["runs"])
def show_run(
    request: Request, run_number: Id, body: VisibilityReason, actor: Actor = WRITE
) -> ChangeResultOut:
    """Show a hidden run in the run listings again (`registry:run:hide`), with a reason."""
    return _result(service.show_run(_db(request), actor=actor, run_number=run_number, reason=body.reason))


@router.get("/runs/{run_number}/history", tags=["runs"])
def run_history(
    request: Request, run_number: Id, limit: int = Query(100, ge=1, le=1000)
) -> list[ChangeSetOut]:
    """Every change set that touched the run, newest first."""
    return [_change_set(cs) for cs in service.history(_db(request), run_number=run_number, limit=limit)]


# Class and stop reason are separate actions (registry:run:edit_class, registry:run:edit_stop_reason), so
# class edits can stay with on-call and experts while shifters edit stop reasons.
@router.put("/runs/{run_number}/class", tags=["runs"])
def edit_class(
    request: Request, run_number: Id, body: AttributeEdit, actor: Actor = WRITE
) -> ChangeResultOut:
    return _edit_attribute(request, run_number, "class", body, actor)


@router.put("/runs/{run_number}/stop_reason", tags=["runs"])
def edit_stop_reason(
    request: Request, run_number: Id, body: AttributeEdit, actor: Actor = WRITE
) -> ChangeResultOut:
    return _edit_attribute(request, run_number, "stop_reason", body, actor)


def _edit_attribute(
    request: Request, run_number: Id, key: str, body: AttributeEdit, actor: Actor
) -> ChangeResultOut:
    return _result(
        service.change_run_attributes(
            _db(request),
            actor=actor,
            run_number=run_number,
            rr={key: body.value},
            comment=body.comment or f"{key} edited",
        )
    )


@router.post("/runs/{run_number}/state/{state}", tags=["runs"])
def move_run(
    request: Request, run_number: Id, state: Value, body: Reason | None = None, actor: Actor = WRITE
) -> ChangeResultOut:
    """OPEN, SIGNOFF or COMPLETED; leaving OPEN requires a class and every certifiable LS judged."""
    return _result(
        service.move_run(
            _db(request),
            actor=actor,
            run_number=run_number,
            to_state=state,
            comment=body.comment if body else "",
        )
    )


DATASET = Query(ONLINE, description="dataset name ('online' or e.g. /PromptReco/Collisions2024A/DQM)")
AS_OF = Query(None, description="read the state right after this change set")


def _lumisection_view(read):  # noqa: ANN001, ANN202 — one route per read model, all with the same inputs
    def view(request: Request, run_number: Id, dataset: Name = DATASET, as_of: Id | None = AS_OF) -> Any:
        run = service.run_state(_db(request), run_number, as_of=as_of)
        name = _dataset_name(dataset)
        run.dataset(name)  # 400 naming the dataset if the run has none of that name
        return read(run, name)

    view.__doc__ = read.__doc__
    return view


for _path, _read in {
    "/runs/{run_number}/lumisections": readmodels.rr_lumisections,
    "/runs/{run_number}/lumisections/ranges": readmodels.rr_ranges,
    "/runs/{run_number}/lumisections/components": readmodels.rr_ranges_by_component,
    "/runs/{run_number}/oms-lumisections": readmodels.oms_lumisections,
    "/runs/{run_number}/oms-lumisections/ranges": readmodels.oms_ranges,
    "/runs/{run_number}/lumisections/joint-ranges": readmodels.joint_ranges,
}.items():
    router.add_api_route(
        _path, _lumisection_view(_read), methods=["GET"], tags=["lumisections"], name=_read.__name__
    )


# -- lumisection and OMS value edits ---------------------------------------------------------------------
@router.put("/runs/{run_number}/lumisections/{component}", tags=["lumisections"])
def edit_online_flags(
    request: Request, run_number: Id, component: Value, body: FlagRangeEdit, actor: Actor = WRITE
) -> ChangeResultOut:
    """Set one component's status on LS first_ls..last_ls of the online dataset."""
    return _edit_flags(request, run_number, ONLINE, component, body, actor)


@router.put("/datasets/{run_number}/{name:path}/lumisections/{component}", tags=["lumisections"])
def edit_offline_flags(
    request: Request, run_number: Id, name: Name, component: Value, body: FlagRangeEdit, actor: Actor = WRITE
) -> ChangeResultOut:
    """Set one component's status on LS of an offline dataset (its workspace must be OPEN)."""
    return _edit_flags(request, run_number, _dataset_name(name), component, body, actor)


def _edit_flags(
    request: Request, run_number: Id, dataset: str, component: Value, body: FlagRangeEdit, actor: Actor
) -> ChangeResultOut:
    edit = service.FlagEdit(component, body.first_ls, body.last_ls, body.status, body.comment, body.cause)
    return _result(
        service.edit_flags(
            _db(request),
            actor=actor,
            run_number=run_number,
            dataset=dataset,
            edits=[edit],
            comment=body.comment,
        )
    )


@router.put("/runs/{run_number}/oms-lumisections", tags=["lumisections"])
def edit_oms_values(
    request: Request, run_number: Id, body: OmsValuesEdit, dataset: Name = Query(ONLINE), actor: Actor = WRITE
) -> ChangeResultOut:
    """Correct per-LS OMS values (a DCS bit, …) on LS first_ls..last_ls; false and null are values too."""
    return _set_oms_values(request, run_number, _dataset_name(dataset), body, actor)


def _set_oms_values(
    request: Request, run_number: int, dataset: str, body: OmsValuesEdit | DatasetOmsEdit, actor: Actor
) -> ChangeResultOut:
    return _result(
        service.set_oms_values(
            _db(request),
            actor=actor,
            run_number=run_number,
            dataset=dataset,
            first_ls=body.first_ls,
            last_ls=body.last_ls,
            values=body.values,
            comment=body.comment,
        )
    )


# -- datasets ------------------------------------------------------------------------------------------------
@router.get("/runs/{run_number}/datasets", tags=["datasets"])
def run_datasets(request: Request, run_number: Id, as_of: Id | None = AS_OF) -> list[dict[str, Any]]:
    """Every dataset of a run (online first): attributes, workspace states, DQM GUI samples, hidden or not,
    the OMS keys it overrides, status and DCS summaries."""
    run = service.run_state(_db(request), run_number, as_of=as_of)
    return [service.describe_dataset(run, name) for name in readmodels.all_dataset_names(run)]


@router.get("/runs/{run_number}/datasets/{name:path}", tags=["datasets"])
def get_dataset(request: Request, run_number: Id, name: Name, as_of: Id | None = AS_OF) -> dict[str, Any]:
    """One dataset of a run (name without its leading '/' or %2F-encoded), now or right after `as_of`."""
    run = service.run_state(_db(request), run_number, as_of=as_of)
    return service.describe_dataset(run, _dataset_name(name))


@router.get("/datasets/{run_number}/{name:path}/history", tags=["datasets"])
def dataset_history(
    request: Request,
    run_number: Id,
    name: Name,
    kind: str = Query("all", pattern="^(all|flags|oms|states)$", description="all, flags, oms or states"),
    limit: int = Query(200, ge=1, le=1000, description="the newest change sets touching the dataset"),
) -> list[DatasetEventOut]:
    """The dataset's events, newest first, each with its change set (who, why, when): creation, attribute and
    state moves (`states`), LS status changes (`flags`), OMS value changes (`oms`: for an offline dataset its
    own overrides and the online values it inherits)."""
    types = {
        "all": service.DATASET_EVENTS,
        "flags": service.FLAG_EVENTS,
        "oms": service.OMS_EVENTS,
        "states": ("DatasetCreated", "DatasetAttributesChanged"),
    }[kind]
    logged = service.dataset_history(
        _db(request),
        run_number=run_number,
        dataset=_dataset_name(name),
        types=types,
        inherit_online=kind == "oms",
        limit=limit,
    )
    return [
        DatasetEventOut(
            change_set=_change_set(e.change_set),
            type=e.type,
            dataset=e.dataset,
            first_ls=e.first_ls,
            last_ls=e.last_ls,
            manual=e.manual,
            payload=e.payload,
        )
        for e in logged
    ]


@router.put("/datasets/{run_number}/{name:path}/oms-lumisections", tags=["lumisections"])
def edit_dataset_oms_values(
    request: Request, run_number: Id, name: Name, body: DatasetOmsEdit, actor: Actor = WRITE
) -> ChangeResultOut:
    """Set DCS bits (true or false) on LS first_ls..last_ls of one dataset, with a reason. On an offline
    dataset they are its own values over the online ones: the online run is unchanged."""
    return _set_oms_values(request, run_number, _dataset_name(name), body, actor)


@router.post("/datasets/{run_number}/{name:path}/workspaces/{workspace}/state/{state}", tags=["datasets"])
def move_dataset(
    request: Request,
    run_number: Id,
    name: Name,
    workspace: Value,
    state: Value,
    body: DatasetStateMove | None = None,
    actor: Actor = WRITE,
) -> ChangeResultOut:
    """Move the dataset in one workspace (OPEN, SIGNOFF, COMPLETED): refused unless allowed from its current
    state, and unless `from_state` (if given) is the current state; `global` to COMPLETED needs every
    subsystem workspace past OPEN; `global` out of `waiting dqm gui` opens every waiting workspace."""
    body = body or DatasetStateMove()
    return _result(
        service.move_dataset(
            _db(request),
            actor=actor,
            run_number=run_number,
            name=_dataset_name(name),
            workspace=workspace,
            to_state=state,
            from_state=body.from_state,
            comment=body.comment,
        )
    )


@router.post("/dataset-moves", tags=["datasets"])
def move_datasets(request: Request, body: DatasetMovesIn, actor: Actor = WRITE) -> ChangeResultOut:
    """Several workspace moves (of one or many datasets) as one change set: all are allowed and valid, or
    none is made; errors name the move (`moves[i].<field>`)."""
    moves = [
        service.DatasetMove(m.run_number, _dataset_name(m.dataset), m.workspace, m.to_state, m.from_state)
        for m in body.moves
    ]
    return _result(service.move_datasets(_db(request), actor=actor, moves=moves, comment=body.comment))


# -- change sets ---------------------------------------------------------------------------------------------
@router.get("/change-sets", tags=["change sets"])
def list_change_sets(
    request: Request, run_number: Id | None = Query(None), limit: int = Query(50, ge=1, le=500)
) -> list[ChangeSetOut]:
    """The change log, newest first (optionally only change sets touching one run)."""
    return [_change_set(cs) for cs in service.history(_db(request), run_number=run_number, limit=limit)]


@router.get("/change-sets/{change_set_id}", tags=["change sets"])
def get_change_set(request: Request, change_set_id: Id) -> dict[str, Any]:
    """One change set with every event it holds."""
    change_set, events = service.change_set_detail(_db(request), change_set_id)
    return {
        **_change_set(change_set).model_dump(),
        "events": [{"run_number": e.run_number, "type": e.type, "payload": e.payload} for e in events],
    }


@router.post("/change-sets/{change_set_id}/revert", tags=["change sets"])
def revert_change_set(
    request: Request, change_set_id: Id, body: Revert | None = None, actor: Actor = WRITE
) -> ChangeResultOut:
    """Append a change set restoring what this one overwrote (409 when later changes touched the same values,
    unless `force`)."""
    body = body or Revert()
    return _result(
        service.revert_change_set(
            _db(request), actor=actor, change_set_id=change_set_id, force=body.force, comment=body.comment
        )
    )
