"""The original's DC tools routes (`routes/dc_tools.js`, rr_backend §5.3) and its CSV export, at the root:
its bodies and field names, every tool working (several were broken in the original), each one change set."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field

from runreg.access.api import authenticated_actor
from runreg.datasets.dctools import export, service
from runreg.kernel.actors import Actor
from runreg.kernel.errors import InvalidInput
from runreg.kernel.limits import Comment, Name, Value
from runreg.storage.database import Database

router = APIRouter(tags=["legacy (runregistry client)"])
WRITE = Depends(authenticated_actor)
READ_ONLY: dict[str, Any] = {"x-read-only": True}
#: Our field names as the original's bodies spell them.
FIELDS = {
    "workspaces": "workspaces_to_duplicate_into",
    "reason": "reason_for_hiding",
}


class _Body(BaseModel):
    model_config = ConfigDict(extra="ignore")

    filter: Any = None
    confirm_all: bool = Field(False, description="runreg: act on every offline dataset (empty filter)")
    comment: Comment = ""


class Duplicate(_Body):
    source_dataset_name: Name = ""
    target_dataset_name: Name = ""
    workspaces_to_duplicate_into: list[Value] = Field(default_factory=list, max_length=100)


class CopyColumns(_Body):
    source_dataset_name: Name = ""
    target_dataset_name: Name = ""
    columns_to_copy: list[Value] = Field(default_factory=list, max_length=1000)


class BatchUpdate(_Body):
    columns_to_update: list[Value] = Field(default_factory=list, max_length=1000)
    new_status: Value = ""


class Hide(_Body):
    reason_for_hiding: Comment = ""


class CsvExport(BaseModel):
    model_config = ConfigDict(extra="ignore")

    filter: Any = None
    sortings: Any = None
    columns: list[Value] = Field(default_factory=list, max_length=1000)


def _db(request: Request) -> Database:
    return request.app.state.db


@router.post("/dc_tools/unique_dataset_names", openapi_extra=READ_ONLY)
def unique_dataset_names(request: Request, body: _Body) -> list[str]:
    with original_fields():
        return service.unique_dataset_names(_db(request), filter=body.filter)


@router.post("/dc_tools/duplicate_datasets")
def duplicate_datasets(request: Request, body: Duplicate, actor: Actor = WRITE) -> list[dict[str, Any]]:
    """For each selected dataset named `source_dataset_name`: a copy `target_dataset_name` in its run."""
    return _run(
        request,
        actor,
        body,
        "duplicate",
        source_dataset_name=body.source_dataset_name,
        target_dataset_name=body.target_dataset_name,
        workspaces=body.workspaces_to_duplicate_into,
    )


@router.post("/dc_tools/copy_column_from_datasets")
def copy_column_from_datasets(
    request: Request, body: CopyColumns, actor: Actor = WRITE
) -> list[dict[str, Any]]:
    """The source's LS statuses of `columns_to_copy` onto the target dataset of the same run."""
    return _run(
        request,
        actor,
        body,
        "copy_columns",
        {"columns": "columns_to_copy"},
        source_dataset_name=body.source_dataset_name,
        target_dataset_name=body.target_dataset_name,
        columns=body.columns_to_copy,
    )


@router.post("/dc_tools/dataset_column_batch_update")
def dataset_column_batch_update(
    request: Request, body: BatchUpdate, actor: Actor = WRITE
) -> list[dict[str, Any]]:
    """`new_status` on every LS of `columns_to_update` of each selected dataset; a comment is mandatory
    (the body's `comment` or the `comment` header)."""
    return _run(
        request,
        actor,
        body,
        "batch_update",
        {"columns": "columns_to_update"},
        columns=body.columns_to_update,
        new_status=body.new_status,
    )


@router.post("/dc_tools/change_multiple_dataset_states/{workspace}/{from_state}/{to_state}")
def change_states(
    request: Request, workspace: Value, from_state: Value, to_state: Value, body: _Body, actor: Actor = WRITE
) -> list[dict[str, Any]]:
    """Each selected dataset that is `from_state` in `workspace` moves to `to_state` (the others stay)."""
    return _run(
        request, actor, body, "change_states", workspace=workspace, from_state=from_state, to_state=to_state
    )


@router.post("/dc_tools/change_multiple_dataset_states_in_all_workspaces/{to_state}")
def change_states_everywhere(
    request: Request, to_state: Value, body: _Body, actor: Actor = WRITE
) -> list[dict[str, Any]]:
    """Every workspace state of each selected dataset to `to_state` (global last)."""
    return _run(request, actor, body, "change_states", to_state=to_state)


@router.delete("/dc_tools/hide_datasets")
def hide_datasets(request: Request, body: Hide, actor: Actor = WRITE) -> list[dict[str, Any]]:
    """Hide the selected datasets (never online) with the mandatory `reason_for_hiding`."""
    return _run(request, actor, body, "hide", reason=body.reason_for_hiding)


def _run(
    request: Request,
    actor: Actor,
    body: _Body,
    tool: str,
    renames: dict[str, str] | None = None,
    **params: Any,
) -> list[dict[str, Any]]:
    """One tool as the original's routes answer it: what changed, each with the operation's change set."""
    comment = params["reason"] if tool == "hide" else body.comment or request.headers.get("comment", "")
    with original_fields(**(renames or {})):
        done = service.run_tool(
            _db(request),
            actor=actor,
            tool=tool,
            filter=body.filter,
            confirm_all=body.confirm_all,
            comment=comment,
            **params,
        )
    return [
        {"run_number": run, "name": name, "change_set_id": done.change_set_id} for run, name in done.changed
    ]


@router.post("/datasets/export_to_csv", openapi_extra=READ_ONLY)
def export_to_csv(request: Request, body: CsvExport) -> str:
    """A JSON string holding the CSV of the selected datasets with the chosen component columns."""
    with original_fields():
        table = export.export_table(
            _db(request), filter=body.filter, columns=body.columns, sortings=body.sortings
        )
    return export.to_csv(table)


@contextmanager
def original_fields(**extra: str) -> Iterator[None]:
    """Refusals name fields as the original's bodies spell them (`columns_to_update[0]`)."""
    names = {**FIELDS, **extra}
    try:
        yield
    except InvalidInput as exc:
        head, bracket, rest = exc.field.partition("[")
        field = names.get(head, head) + (bracket + rest if bracket else "")
        details = {key: value for key, value in exc.details.items() if key != "field"}
        raise InvalidInput(field, exc.reason, details=details) from None
