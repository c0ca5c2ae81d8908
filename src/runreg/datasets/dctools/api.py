"""/api/v1 routes of the DC expert tools (thin handlers over datasets.dctools.service and export)."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from runreg.access.api import authenticated_actor
from runreg.datasets.dctools import export, service
from runreg.kernel.actors import Actor
from runreg.kernel.limits import Comment, Name, Value
from runreg.storage.database import Database

router = APIRouter(tags=["DC expert tools"])
WRITE = Depends(authenticated_actor)
READ_ONLY: dict[str, Any] = {"x-read-only": True}
FILTER_HELP = (
    "table filter language (the offline tables' filter), e.g. "
    '{"name": "/PromptReco/Collisions2024C/DQM", "run_number": {">=": 379412}}; online and hidden datasets '
    "are never selected (un-hide selects hidden ones); an empty filter needs confirm_all"
)
PREVIEW_ROWS = 50
Tool = Literal["duplicate", "copy_columns", "batch_update", "change_states", "hide", "unhide"]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Selected(_Body):
    filter: dict[Value, Any] = Field(default_factory=dict, description=FILTER_HELP)


class ToolRequest(Selected):
    """The parameters of every tool; each tool reads its own and refuses missing ones, naming them."""

    confirm_all: bool = Field(False, description="act on every offline dataset when the filter is empty")
    comment: Comment = Field("", description="why (mandatory for batch_update; recorded in the change set)")
    source_dataset_name: Name | None = Field(None, description="duplicate, copy_columns")
    target_dataset_name: Name | None = Field(None, description="duplicate, copy_columns")
    workspaces: list[Value] = Field(
        default_factory=list, max_length=100, description="duplicate: states copied"
    )
    columns: list[Value] = Field(default_factory=list, max_length=1000, description="components")
    new_status: Value | None = Field(None, description="batch_update: GOOD, BAD, STANDBY, EXCLUDED, NOTSET")
    workspace: Value | None = Field(None, description="change_states: one workspace (none: every workspace)")
    from_state: Value | None = Field(None, description="change_states: only datasets in this state there")
    to_state: Value | None = Field(None, description="change_states: OPEN, SIGNOFF or COMPLETED")
    reason: Comment | None = Field(None, description="hide, unhide: why (mandatory)")

    def params(self) -> dict[str, Any]:
        return self.model_dump(exclude={"filter", "confirm_all", "comment"}, exclude_none=True)


class Export(Selected):
    columns: list[Value] = Field(default_factory=list, max_length=1000, description="component columns")
    format: Literal["csv", "parquet"] = "csv"


def _db(request: Request) -> Database:
    return request.app.state.db


def preview_out(found: service.Preview) -> dict[str, Any]:
    return {
        "tool": found.tool,
        "summary": found.summary,
        "filter": found.selection.filter,
        "selected": found.selection.count,
        "changing": len(found.changing),
        "skipped": found.skipped,
        "noted": found.noted,
        "events": found.events,
        "needs_confirmation": found.needs_confirmation,
        "datasets": [{"run_number": run, "name": name} for run, name in found.selection.keys[:PREVIEW_ROWS]],
    }


def outcome_out(done: service.Outcome) -> dict[str, Any]:
    return {
        "tool": done.tool,
        "summary": done.summary,
        "change_set_id": done.change_set_id,
        "filter": done.filter,
        "selected": done.selected,
        "changed": [{"run_number": run, "name": name} for run, name in done.changed],
        "skipped": done.skipped,
        "noted": done.noted,
    }


@router.post("/dctools/unique-dataset-names", openapi_extra=READ_ONLY)
def unique_dataset_names(request: Request, body: Selected) -> list[str]:
    """The distinct names of the offline datasets the filter selects."""
    return service.unique_dataset_names(_db(request), filter=body.filter)


@router.post("/dctools/export", openapi_extra=READ_ONLY)
def export_datasets(request: Request, body: Export) -> Response:
    """The selected datasets with the chosen component columns, as CSV or Parquet."""
    table = export.export_table(_db(request), filter=body.filter, columns=body.columns)
    content, media, suffix = export.render(table, body.format)
    return Response(
        content,
        media_type=media,
        headers={"Content-Disposition": f'attachment; filename="datasets.{suffix}"'},
    )


@router.post("/dctools/api-call", openapi_extra=READ_ONLY)
def api_call(body: Selected) -> dict[str, str]:
    """The public runregistry client's call that reads the datasets the filter selects."""
    return {"python": export.api_call(body.filter)}


@router.post("/dctools/{tool}/preview", openapi_extra=READ_ONLY)
def preview(request: Request, tool: Tool, body: ToolRequest) -> dict[str, Any]:
    """What the tool would do (nothing is written): the datasets selected, how many it changes, those it
    leaves by reason, and whether an empty filter still needs confirm_all."""
    found = service.preview(
        _db(request),
        tool=tool,
        filter=body.filter,
        confirm_all=body.confirm_all,
        **({**body.params(), "comment": body.comment} if tool == "batch_update" else body.params()),
    )
    return preview_out(found)


@router.post("/dctools/{tool}")
def run(request: Request, tool: Tool, body: ToolRequest, actor: Actor = WRITE) -> dict[str, Any]:
    """Do it: one change set for the whole operation (revert it with POST /api/v1/change-sets/{id}/revert);
    any refused dataset refuses all, and nothing is written."""
    done = service.run_tool(
        _db(request),
        actor=actor,
        tool=tool,
        filter=body.filter,
        confirm_all=body.confirm_all,
        comment=body.comment,
        **body.params(),
    )
    return outcome_out(done)
