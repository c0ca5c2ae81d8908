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
from runreg.kernel.errors import InvalidInput, InvalidState, RunNotFound, RunregError
from runreg.kernel.limits import Comment, Id, Name, Value
from runreg.registry import readmodels, service
from runreg.registry.model import OMS_LS_WHITELIST, ONLINE, RunState
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


class DatasetKey(_Body):
    run_number: Id
    dataset_name: Name


class OmsLumisectionRange(_Body):
    start: Id
    end: Id
    status: bool | Value = Field(description="true or false (also the strings 'true' and 'false')")
    comment: Comment | None = ""


class OmsLumisectionEdit(_Body):
    new_lumisection_range: OmsLumisectionRange
    run_number: Id
    dataset_name: Name = ONLINE
    component: Value = Field(description="the DCS bit, e.g. cms_active")


class ClassEdit(_Body):
    value: Value = Field(alias="class")


class StopReasonEdit(_Body):
    stop_reason: Value


# -- listings ------------------------------------------------------------------------------------------------
@router.post("/runs_filtered_ordered", openapi_extra=READ_ONLY)
def runs_filtered_ordered(request: Request, body: Listing) -> Response:
    """One page of runs matching the filter: `{runs, pages, count}` (page is 0-based). Hidden runs are left
    out, as the original left out its `deleted` ones."""
    rows, count = service.search(_db(request), target="runs", visible_only=True, **_listing_args(body))
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
    """One page of datasets (the `online` one included) matching the filter: `{datasets, pages, count}`.
    Datasets hidden by the DC tools are left out, as the original left out its `deleted` ones."""
    rows, count = service.search(_db(request), target="datasets", visible_only=True, **_listing_args(body))
    datasets = [_dataset_record(row) for row in rows]
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


@router.get("/datasets_accepted/{run_class}")
def datasets_accepted_of_class(request: Request, run_class: Value) -> list[dict[str, Any]]:
    """The accepted-dataset rules for runs of one class (`id` as in the whole list)."""
    rules = configuration.current_configuration(_db(request)).datasets_accepted
    return [r for r in readmodels.datasets_accepted_records(rules) if r["class"] == run_class]


@router.post("/datasets/get_dataset", openapi_extra=READ_ONLY)
def get_dataset(request: Request, body: DatasetKey) -> dict[str, Any] | None:
    """One dataset with its run's attributes and its summaries; null when there is none, as the original."""
    run = _run_or_none(_db(request), body.run_number)
    if run is None or body.dataset_name not in run.datasets:
        return None
    return readmodels.dataset_record_of(run, body.dataset_name)


@router.get("/datasets_waiting")
def datasets_waiting(request: Request) -> list[dict[str, Any]]:
    """Offline datasets, not hidden, whose global state is still `waiting dqm gui`."""
    return [_dataset_record(row) for row in service.waiting_datasets(_db(request))]


# -- lumisections: `[]` / `{}` for an unknown run or dataset, as the original --------------------------------
@router.post("/lumisections/rr_lumisections", openapi_extra=READ_ONLY)
def rr_lumisections(request: Request, body: LumisectionQuery) -> list[dict[str, Any]]:
    """Element i is LS i+1: `{component: {status, comment, cause}}`, EMPTY where there is no triplet."""
    return _read(request, body, readmodels.rr_lumisections, [])


@router.post("/lumisections/oms_lumisections", openapi_extra=READ_ONLY)
def oms_lumisections(request: Request, body: LumisectionQuery) -> list[dict[str, Any]]:
    """Element i is LS i+1: the OMS values (offline datasets: the online ones with their overrides), with
    OMS's per-LS `delivered_lumi` and `recorded_lumi` in /pb where the luminosity domain has them."""
    records: list[dict[str, Any]] = _read(request, body, readmodels.oms_lumisections, [])
    # The luminosity domain sits above the registry: the app hands its reader in (http/app.py).
    per_ls_luminosity = getattr(request.app.state, "oms_ls_luminosity", None)
    if records and per_ls_luminosity is not None:
        for record, luminosity in zip(records, per_ls_luminosity(body.run_number), strict=False):
            if "err" not in record:
                record.update(luminosity)
    return records


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


@router.post("/lumisections/oms_lumisection_ranges_by_dcs_bit", openapi_extra=READ_ONLY)
def oms_lumisection_ranges_by_dcs_bit(request: Request, body: LumisectionQuery) -> dict[str, Any]:
    """`{bit: [{status: <value>, start, end}]}` over the DCS bits the dataset sees."""
    return _read(request, body, readmodels.oms_ranges_by_dcs_bit, {})


@router.post("/lumisections/get_rr_lumisection_history", openapi_extra=READ_ONLY)
def rr_lumisection_history(request: Request, body: LumisectionQuery) -> list[dict[str, Any]]:
    """Every status change of the dataset's LS: `{version, manual_change, run_number, name, start, end, by,
    comment, createdAt, jsonb: {component: triplet}}`, automatic first, then by version."""
    return _history(request, body, service.FLAG_EVENTS, inherit_online=False)


@router.post("/lumisections/get_oms_lumisection_history", openapi_extra=READ_ONLY)
def oms_lumisection_history(request: Request, body: LumisectionQuery) -> list[dict[str, Any]]:
    """Every OMS value change the dataset sees (the online dataset's and, for an offline one, its own
    overrides): `{…, jsonb: {key: value}}`."""
    return _history(request, body, service.OMS_EVENTS, inherit_online=True)


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
    return _lumisection_event(result, body, actor, {body.component: triplet})


def _lumisection_event(
    result: service.ChangeResult,
    body: LumisectionEdit | OmsLumisectionEdit,
    actor: Actor,
    jsonb: dict[str, Any],
) -> dict[str, Any]:
    """The original answers an LS edit with the lumisection event it stored; `version` is the change set (our
    global version number, as the original's was)."""
    edit = body.new_lumisection_range
    return {
        "version": result.change_set_id,
        "run_number": body.run_number,
        "name": body.dataset_name,
        "manual_change": actor.is_manual,
        "start": edit.start,
        "end": edit.end,
        "jsonb": jsonb,
    }


@router.put("/lumisections/edit_oms_lumisections")
def edit_oms_lumisections(request: Request, body: OmsLumisectionEdit, actor: Actor = WRITE) -> dict[str, Any]:
    """Set one DCS bit to true or false on LS start..end of a dataset, with a reason (≥ 3 characters). On an
    offline dataset it is the dataset's own value over the online one; the online run is not changed. (The
    original could not set false.)"""
    edit = body.new_lumisection_range
    value = _dcs_value(edit.status)
    if body.component not in DCS_BITS:
        raise InvalidInput("component", f"{body.component!r} is not a DCS bit (one of {', '.join(DCS_BITS)})")
    phrase = f"Error updating lumisections of {body.dataset_name} dataset, run number: {body.run_number}"
    with said_as_original((RunregError, phrase)):
        result = service.set_oms_values(
            _db(request),
            actor=actor,
            run_number=body.run_number,
            dataset=body.dataset_name,
            first_ls=edit.start,
            last_ls=edit.end,
            values={body.component: value},
            comment=edit.comment or "",
        )
    return _lumisection_event(result, body, actor, {body.component: value})


@router.post("/datasets/{workspace}/move_dataset/{from_state}/{to_state}")
def move_dataset(
    request: Request, workspace: str, from_state: str, to_state: str, body: DatasetMove, actor: Actor = WRITE
) -> dict[str, Any]:
    """Set the dataset's `<workspace>_state`; moving `global` out of `waiting dqm gui` opens every workspace
    still waiting. Unlike the original, `from_state` must be the dataset's current state there, and the move
    must be allowed from it (registry.model.move_dataset)."""
    db = _db(request)
    service.move_dataset(
        db,
        actor=actor,
        run_number=body.run_number,
        name=body.dataset_name,
        workspace=workspace,
        from_state=from_state,
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


def _history(
    request: Request, body: LumisectionQuery, types: tuple[str, ...], *, inherit_online: bool
) -> list[dict[str, Any]]:
    try:
        logged = service.dataset_history(
            _db(request),
            run_number=body.run_number,
            dataset=body.dataset_name,
            types=types,
            inherit_online=inherit_online,
        )
    except (RunNotFound, InvalidInput):
        return []  # an unknown run or dataset has no history, as the original
    return readmodels.lumisection_history_records(body.run_number, logged)


#: The OMS per-LS keys a person may set true or false (the prescale is not a bit).
DCS_BITS = tuple(key for key in OMS_LS_WHITELIST if not key.startswith("prescale_"))


def _dcs_value(status: bool | str) -> bool:
    if isinstance(status, bool):
        return status
    if status.strip().lower() in ("true", "false"):
        return status.strip().lower() == "true"
    raise InvalidInput("new_lumisection_range.status", f"must be true or false, got {status!r}")


def _dataset_record(row: dict[str, Any]) -> dict[str, Any]:
    return readmodels.dataset_record(
        run_number=row["run_number"],
        name=row["name"],
        dataset_attributes=row["dataset_attributes"],
        version=row["version"],
        rr_attributes=row["rr_attributes"],
        oms_attributes=row["oms_attributes"],
        triplet_summary=row["triplet_summary"] or {},
        dcs_summary=row["dcs_summary"] or {},
    )


def run_record(db: Database, run_number: int) -> dict[str, Any]:
    return readmodels.run_record_of(service.run_state(db, run_number))
