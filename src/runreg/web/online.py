"""Online pages: the run tables of a workspace (filter, sort, page, live), and the actions a table offers."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import HTMLResponse, RedirectResponse

from runreg.kernel.errors import InvalidInput
from runreg.registry import service as registry
from runreg.registry.model import ONLINE
from runreg.web.page import Page, page, render
from runreg.web.table_query import EMPTY_TABLE, ONLINE_TABLES, TableQuery, both, table_page

router = APIRouter(include_in_schema=False)
PAGE = Depends(page)
ALL_RUNS_PAGE_SIZE = 12
SIGNIFICANT_PAGE_SIZE = 5
LIVE_SECONDS = 15


@router.get("/")
def home() -> RedirectResponse:
    return RedirectResponse("/online/global", status_code=307)


@router.get("/online/{workspace}", response_class=HTMLResponse)
def online_workspace(workspace: str, current: Page = PAGE) -> HTMLResponse:
    """Both tables in the layout; an htmx request (live mode, a sort, a page) gets just the tables."""
    view = _tables(current, workspace)
    partial = current.request.headers.get("hx-request") == "true"
    return render(current, "online/_tables.html" if partial else "online/workspace.html", **view)


@router.get("/online/{workspace}/ranges/{run_number}/{component}", response_class=HTMLResponse)
def component_ranges(workspace: str, run_number: int, component: str, current: Page = PAGE) -> HTMLResponse:
    """A component's LS ranges with their comments and causes (the popover of a table segment)."""
    run = registry.run_state(current.db, run_number)
    ranges = registry.component_ranges(run, ONLINE).get(component, [])
    return render(current, "online/_ranges.html", run=run, component=component, ranges=ranges)


def _tables(current: Page, workspace: str) -> dict[str, Any]:
    config = current.config
    online = [ws for ws in config.workspaces if ws.mode == "online"]
    if workspace not in {ws.name for ws in online}:
        raise InvalidInput("workspace", f"there is no online workspace {workspace!r}")
    components = (
        config.certifiable_components("online")
        if workspace == "global"
        else config.workspace(workspace, "online").components()
    )
    error = None
    try:
        query = TableQuery.from_params(current.request.query_params)
        base = query.to_filter()
        # Hidden runs (registry.service.hide_run) are in neither table; their pages say they are hidden.
        everything = table_page(current.db, base, query, query.page, ALL_RUNS_PAGE_SIZE, visible_only=True)
        significant_filter = both(base, {"rr_attributes.significant": True})
        significant = table_page(
            current.db,
            significant_filter,
            query,
            query.significant_page,
            SIGNIFICANT_PAGE_SIZE,
            visible_only=True,
        )
    except InvalidInput as exc:  # a bad filter is shown next to the builder, with empty tables
        query = TableQuery.unparsed(current.request.query_params)
        error, base = exc, {}
        everything = significant = EMPTY_TABLE
    return {
        "workspace": workspace,
        "workspaces": [ws.name for ws in online],
        "components": components,
        "query": query,
        "filter": base,
        "filter_error": error,
        "all_runs": everything,
        "significant_runs": significant,
        "ranges_fields": ONLINE_TABLES.ranges,
        "text_fields": ONLINE_TABLES.texts,
        "states": ONLINE_TABLES.states,
        "sortable": ONLINE_TABLES.sortable,
        "all_components": config.components("online"),
        "live_seconds": LIVE_SECONDS,
    }
