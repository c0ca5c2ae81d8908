"""The DC expert tools page (rr_backend §8.2): the offline table's filter, a tool with its parameters, the
preview (which datasets, how many, what it leaves and why), the confirmation, and the result with a link to
its change set (where it is reverted); the CSV/Parquet export and the public client's call for the filter."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from runreg.datasets.dctools import export, service
from runreg.datasets.dctools.model import ACTIONS, TOOLS
from runreg.kernel.errors import InvalidInput, RunregError, http_status
from runreg.kernel.limits import parse_json
from runreg.web.page import Page, page, perform_form, posted, render

router = APIRouter(include_in_schema=False)
PAGE = Depends(page)
PREVIEW_ROWS = 12
LABELS = {
    "batch_update": "Batch-update columns",
    "copy_columns": "Copy columns",
    "duplicate": "Duplicate datasets",
    "change_states": "Change states",
    "hide": "Hide datasets",
    "unhide": "Un-hide datasets",
}
LIST_FIELDS = ("columns", "workspaces")


@router.get("/offline/dc-tools", response_class=HTMLResponse)
def tools_page(current: Page = PAGE) -> HTMLResponse:
    params = current.request.query_params
    asked = params.get("tool") or ""
    tool = asked if asked in TOOLS else "batch_update"
    raw = params.get("filter", "") or "{}"
    context = _context(current, tool, raw, values={})
    try:
        context["snippet"] = export.api_call(_filter(raw))
        context["names"] = service.unique_dataset_names(current.db, filter=_filter(raw))
    except InvalidInput as exc:
        context["filter_error"] = exc
    return render(current, "dctools/index.html", **context)


@router.post("/offline/dc-tools/preview", response_class=HTMLResponse)
async def preview(request: Request) -> HTMLResponse:
    current, form = await posted(request)
    values = await _values(request, form)
    tool = values.get("tool", "")
    try:
        found = service.preview(
            current.db,
            tool=tool,
            filter=_filter(values.get("filter", "")),
            confirm_all=values.get("confirm_all") == "1",
            **_params(tool, values, preview=True),
        )
    except InvalidInput as exc:
        return render(current, "dctools/_preview.html", status_code=400, error=exc)
    except RunregError as exc:
        return render(current, "_flash.html", status_code=http_status(exc), error=exc.message)
    first = found.selection.keys[:1]
    target = {"run": first[0][0], "dataset": first[0][1]} if first else {}
    return render(
        current,
        "dctools/_preview.html",
        found=found,
        values=values,
        rows=PREVIEW_ROWS,
        refusal=current.refusal(ACTIONS[tool], **target),
        label=LABELS[tool],
        raw_filter=values.get("filter", ""),
        snippet=export.api_call(found.selection.filter),
    )


@router.post("/offline/dc-tools/run", response_class=HTMLResponse)
async def run(request: Request) -> Response:
    current, form = await posted(request)
    values = await _values(request, form)
    tool = values.get("tool", "")
    done: list[service.Outcome] = []

    def write() -> None:
        done.append(
            service.run_tool(
                current.db,
                actor=current.actor,  # type: ignore[arg-type]  # perform() refuses anonymous first
                tool=tool,
                filter=_filter(values.get("filter", "")),
                confirm_all=values.get("confirm_all") == "1",
                comment=values.get("comment", ""),
                **_params(tool, values),
            )
        )

    response = perform_form(
        current,
        write,
        "",
        form="dctools/_form.html",
        target="#tool-form",
        changed="dctools-changed",
        **_context(
            current, tool if tool in TOOLS else "batch_update", values.get("filter", ""), values=values
        ),
    )
    if done:
        response = render(current, "dctools/_result.html", done=done[0], label=LABELS[tool])
        response.headers["HX-Trigger"] = "dctools-changed"
    return response


@router.get("/offline/dc-tools/export")
def export_datasets(current: Page = PAGE) -> Response:
    """The filter's datasets with the chosen component columns, downloaded as CSV or Parquet."""
    params = current.request.query_params
    try:
        table = export.export_table(
            current.db, filter=_filter(params.get("filter", "")), columns=params.getlist("columns")
        )
        content, media, suffix = export.render(table, params.get("format", "csv"))
    except RunregError as exc:
        return render(current, "_flash.html", status_code=http_status(exc), error=exc.message)
    disposition = f'attachment; filename="offline-datasets.{suffix}"'
    return Response(content, media_type=media, headers={"Content-Disposition": disposition})


# -- helpers -------------------------------------------------------------------------------------------------
def _context(current: Page, tool: str, raw: str, *, values: Mapping[str, Any]) -> dict[str, Any]:
    config = current.config
    return {
        "tool": tool,
        "tools": TOOLS,
        "labels": LABELS,
        "raw_filter": raw,
        "values": values,
        "components": config.components("offline"),
        "workspaces": [ws.name for ws in config.workspaces if ws.mode == "offline"],
        "states": ("OPEN", "SIGNOFF", "COMPLETED"),
        "statuses": ("GOOD", "BAD", "STANDBY", "EXCLUDED", "NOTSET"),
    }


async def _values(request: Request, form: Mapping[str, str]) -> dict[str, Any]:
    values: dict[str, Any] = dict(form)
    multi = await request.form()
    for key in LIST_FIELDS:
        values[key] = [str(v) for v in multi.getlist(key) if str(v)]
    return values


def _params(tool: str, values: Mapping[str, Any], *, preview: bool = False) -> dict[str, Any]:
    """The form fields the tool reads (the service checks them, naming the field)."""
    wanted = {
        "duplicate": ("source_dataset_name", "target_dataset_name", "workspaces"),
        "copy_columns": ("source_dataset_name", "target_dataset_name", "columns"),
        "batch_update": ("columns", "new_status"),
        "change_states": ("workspace", "from_state", "to_state"),
        "hide": ("reason",),
        "unhide": ("reason",),
    }.get(tool, ())
    params = {key: values.get(key) for key in wanted}
    if tool == "change_states":
        params = {key: value or None for key, value in params.items()}
    if tool == "batch_update" and preview:  # a write takes the comment as its own argument
        params["comment"] = values.get("comment", "")
    return params


def _filter(raw: str) -> dict[str, Any]:
    parsed = parse_json("filter", raw.strip() or "{}")
    if not isinstance(parsed, dict):
        raise InvalidInput("filter", 'the filter language is a JSON object, e.g. {"run_number": {">": 1}}')
    return parsed
