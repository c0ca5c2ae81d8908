"""The original Run Registry's routes at the root path, as the `runregistry` 3.1.2 client uses them."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from runreg.access.api import authenticated_actor
from runreg.apiutil import json_answer
from runreg.configuration import service as configuration
from runreg.kernel.actors import Actor
from runreg.kernel.errors import InvalidState, RunNotFound, RunregError
from runreg.kernel.limits import Comment, Id, Name, Value
from runreg.registry import readmodels, service
from runreg.registry.model import ONLINE, RunState
from runreg.storage.database import Database

router = APIRouter(tags=["legacy (runregistry client)"])
WRITE = Depends(authenticated_actor)
# POST routes that only read: the permission test tells them from writes by this mark.
READ_ONLY: dict[str, Any] = {"x-read-only": True}


# -- bodies, as the client sends them (extra keys ignored: the web UI adds some) ----------------------------
class _Body(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class Listing(_Body):
    """Validated by the filter language itself, whose messages name the faulty part."""

    filter: Any = None
    sortings: Any = None
    page: Any = 0
    page_size: Any = 50


class LumisectionQuery(_Body):
    run_number: Id
    dataset_name: Name = ONLINE


class RunNumber(_Body):
    run_number: Id


class LumisectionRange(_Body):
    start: Id
    end: Id
    status: Value
    comment: Comment | None = ""
    cause: Comment | None = ""


class LumisectionEdit(_Body):
    new_lumisection_range: LumisectionRange
    run_number: Id
    dataset_name: Name = ONLINE
    component: Value


class DatasetMove(_Body):
    """`workspace` is also in the body, but the path's is the one used, as in the original."""

    run_number: Id
    dataset_name: Name


class ClassEdit(_Body):
    value: Value = Field(alias="class")


class StopReasonEdit(_Body):
    stop_reason: Value


# -- listings ------------------------------------------------------------------------------------------------
@router.post("/runs_filtered_ordered", openapi_extra=READ_ONLY)
def runs_filtered_ordered(request: Request, body: Listing) -> Response:
    """One page of runs matching the filter: `{runs, pages, count}` (page is 0-based)."""
    rows, count = service.search(_db(request), target="runs", **_listing_args(body))
    runs = [
        readmodels.run_record(
            run_number=row["run_number"],
            oms_attributes=row["oms_attributes"],
            rr_attributes=row["rr_attributes"],
            version=row["version"],
            triplet_summary=row["triplet_summary"] or {},
        )
        for row in rows
    ]
    return json_answer({"runs": runs, "pages": math.ceil(count / body.page_size), "count": count})


@router.post("/datasets_filtered_ordered", openapi_extra=READ_ONLY)
def datasets_filtered_ordered(request: Request, body: Listing) -> Response:
    """One page of datasets (the `online` one included) matching the filter: `{datasets, pages, count}`."""
    rows, count = service.search(_db(request), target="datasets", **_listing_args(body))
    datasets = [
        readmodels.dataset_record(
            run_number=row["run_number"],
            name=row["name"],
            dataset_attributes=row["dataset_attributes"],
            version=row["version"],
            rr_attributes=row["rr_attributes"],
            oms_attributes=row["oms_attributes"],
            triplet_summary=row["triplet_summary"] or {},
            dcs_summary=row["dcs_summary"] or {},
        )
        for row in rows
    ]
    return json_answer({"datasets": datasets, "pages": math.ceil(count / body.page_size), "count": count})


@router.get("/get_all_dataset_names_of_run/{run_number}")
def dataset_names_of_run(request: Request, run_number: Id) -> list[str]:
    """`online` and the run's offline datasets; `[]` for an unknown run, as in the original."""
    run = _run_or_none(_db(request), run_number)
    return readmodels.dataset_names(run) if run else []


@router.get("/datasets_accepted")
def datasets_accepted(request: Request) -> list[dict[str, Any]]:
    """The accepted-dataset rules of the current configuration."""
    rules = configuration.current_configuration(_db(request)).datasets_accepted
    return readmodels.datasets_accepted_records(rules)


# -- lumisections: `[]` / `{}` for an unknown run or dataset, as the original --------------------------------
@router.post("/lumisections/rr_lumisections", openapi_extra=READ_ONLY)
def rr_lumisections(request: Request, body: LumisectionQuery) -> list[dict[str, Any]]:
    """Element i is LS i+1: `{component: {status, comment, cause}}`, EMPTY where there is no triplet."""
    return _read(request, body, readmodels.rr_lumisections, [])


@router.post("/lumisections/oms_lumisections", openapi_extra=READ_ONLY)
def oms_lumisections(request: Request, body: LumisectionQuery) -> list[dict[str, Any]]:
    """Element i is LS i+1: the OMS values (offline datasets: the online ones with their overrides)."""
    return _read(request, body, readmodels.oms_lumisections, [])


@router.post("/lumisections/rr_lumisection_ranges", openapi_extra=READ_ONLY)
def rr_lumisection_ranges(request: Request, body: LumisectionQuery) -> list[dict[str, Any]]:
    """`[{<component>: triplet, …, start, end}]`, maximal blocks of identical LS (bounds inclusive)."""
    return _read(request, body, readmodels.rr_ranges, [])


@router.post("/lumisections/rr_lumisection_ranges_by_component", openapi_extra=READ_ONLY)
def rr_lumisection_ranges_by_component(request: Request, body: LumisectionQuery) -> dict[str, Any]:
    """`{component: [{status, comment, cause, start, end}]}`."""
    return _read(request, body, readmodels.rr_ranges_by_component, {})


@router.post("/lumisections/oms_lumisection_ranges", openapi_extra=READ_ONLY)
def oms_lumisection_ranges(request: Request, body: LumisectionQuery) -> list[dict[str, Any]]:
    """Ranges of the DCS bits (rr_backend §2.2 whitelist)."""
    return _read(request, body, readmodels.oms_ranges, [])


@router.post("/lumisections/joint_lumisection_ranges", openapi_extra=READ_ONLY)
def joint_lumisection_ranges(request: Request, body: LumisectionQuery) -> list[dict[str, Any]]:
    """Ranges over the per-LS union of OMS values and RR triplets."""
    return _read(request, body, readmodels.joint_ranges, [])


# -- writes: each answers with the record it changed ------------------------------------------------------
@router.post("/runs/move_run/{from_state}/{to_state}")
def move_run(
    request: Request, from_state: str, to_state: str, body: RunNumber, actor: Actor = WRITE
) -> dict[str, Any]:
    """Only `to_state` matters; `from_state` is not checked against the run's state, as in the original."""
    db = _db(request)
    service.move_run(
        db,
        actor=actor,
        run_number=body.run_number,
        to_state=to_state,
        comment=f"move run {body.run_number} from {from_state} to {to_state}",
    )
    return run_record(db, body.run_number)


@router.put("/lumisections/edit_rr_lumisections")
def edit_rr_lumisections(request: Request, body: LumisectionEdit, actor: Actor = WRITE) -> dict[str, Any]:
    """Set one component's triplet on LS start..end of a dataset (a manual decision). PUT only, as the
    original server and the client's code (some client docstrings say POST)."""
    edit = body.new_lumisection_range
    triplet = {"status": edit.status, "comment": edit.comment or "", "cause": edit.cause or ""}
    phrase = f"Error updating lumisections of {body.dataset_name} dataset, run number: {body.run_number}"
    with said_as_original((RunregError, phrase)):
        result = service.edit_flags(
            _db(request),
            actor=actor,
            run_number=body.run_number,
            dataset=body.dataset_name,
            edits=[service.FlagEdit(body.component, edit.start, edit.end, **triplet)],
            comment=triplet["comment"] or f"{body.component} set to {edit.status}",
        )
    # The original answers with the lumisection event it stored; `version` is the change set (our global
    # version number, as the original's was).
    return {
        "version": result.change_set_id,
        "run_number": body.run_number,
        "name": body.dataset_name,
        "manual_change": actor.is_manual,
        "start": edit.start,
        "end": edit.end,
        "jsonb": {body.component: triplet},
    }


@router.post("/datasets/{workspace}/move_dataset/{from_state}/{to_state}")
def move_dataset(
    request: Request, workspace: str, from_state: str, to_state: str, body: DatasetMove, actor: Actor = WRITE
) -> dict[str, Any]:
    """Set the dataset's `<workspace>_state`; moving `global` out of `waiting dqm gui` opens every workspace
    still waiting. `from_state` is not checked, as in the original."""
    db = _db(request)
    service.move_dataset(
        db,
        actor=actor,
        run_number=body.run_number,
        name=body.dataset_name,
        workspace=workspace,
        to_state=to_state,
        comment=f"manual change of state of dataset from {from_state} to {to_state} in {workspace}",
    )
    return readmodels.dataset_record_of(service.run_state(db, body.run_number), body.dataset_name)


@router.put("/manual_run_edit/{run}/class")
def edit_class(request: Request, run: Id, body: ClassEdit, actor: Actor = WRITE) -> dict[str, Any]:
    """Change the class of an OPEN run."""
    return _edit_run(request, run, {"class": body.value}, actor)


@router.put("/manual_run_edit/{run}/stop_reason")
def edit_stop_reason(request: Request, run: Id, body: StopReasonEdit, actor: Actor = WRITE) -> dict[str, Any]:
    """Change the stop reason of an OPEN run."""
    return _edit_run(request, run, {"stop_reason": body.stop_reason}, actor)


# -- helpers -------------------------------------------------------------------------------------------------
def _edit_run(request: Request, run_number: int, rr: dict[str, Any], actor: Actor) -> dict[str, Any]:
    db = _db(request)
    (attribute,) = rr
    with said_as_original((InvalidState, "Run must be in state OPEN to be edited")):
        service.change_run_attributes(
            db,
            actor=actor,
            run_number=run_number,
            rr=rr,
            comment=f"run {run_number} manual edit of attribute {attribute}",
        )
    return run_record(db, run_number)


@contextmanager
def said_as_original(*phrases: tuple[type[RunregError], str]) -> Iterator[None]:
    """Scripts and the client's tests match the original's messages (rr_client §3.11): lead with its phrase
    for the first matching kind of error, keep ours after it. The error keeps its kind, hence its status."""
    try:
        yield
    except RunregError as exc:
        phrase = next((text for kind, text in phrases if isinstance(exc, kind)), None)
        if phrase is not None:
            exc.message = f"{phrase}: {exc.message}"
            exc.args = (exc.message,)
        raise


def _db(request: Request) -> Database:
    return request.app.state.db


def _listing_args(body: Listing) -> dict[str, Any]:
    return {"filter": body.filter, "sortings": body.sortings, "page": body.page, "page_size": body.page_size}


def _run_or_none(db: Database, run_number: int) -> RunState | None:
    try:
        return service.run_state(db, run_number)
    except RunNotFound:
        return None


def _read(request: Request, body: LumisectionQuery, read: Callable[[RunState, str], Any], empty: Any) -> Any:
    run = _run_or_none(_db(request), body.run_number)
    if run is None or body.dataset_name not in run.datasets:
        return empty
    return read(run, body.dataset_name)


def run_record(db: Database, run_number: int) -> dict[str, Any]:
    return readmodels.run_record_of(service.run_state(db, run_number))
