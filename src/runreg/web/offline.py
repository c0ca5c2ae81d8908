"""Offline pages: the datasets of an offline workspace — those waiting to appear in the DQM GUI and those
being certified — filtered, sorted and paged like the online tables, with their state moves."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from runreg.configuration.model import Configuration
from runreg.datasets.selection import HIDDEN
from runreg.kernel.errors import InvalidInput, NotFound, RunregError, http_status
from runreg.registry import service as registry
from runreg.registry.model import ONLINE, WAITING_DQM_GUI
from runreg.web.dataset_view import state_moves
from runreg.web.page import Page, not_found, page, render
from runreg.web.table_query import (
    EMPTY_TABLE,
    RANGES,
    STATES,
    TableQuery,
    TableSpec,
    both,
    table_page,
)

router = APIRouter(include_in_schema=False)
PAGE = Depends(page)
EDITABLE_PAGE_SIZE = 20
WAITING_PAGE_SIZE = 5
#: Matching datasets counted for the pager before it says "more than": counting 100,000 JSON documents on
#: every request would cost more than the rest of the page (docs/PERFORMANCE.md).
COUNT_LIMIT = 5_000
#: Builder text fields of the dataset tables: (URL parameter, label, filter-language key).
TEXTS = [("name", "Dataset name contains", "name"), ("class", "Class", "rr_attributes.class")]
#: Every offline table leaves out the online dataset and the datasets hidden by the DC tools.
OFFLINE = both({"name": {"<>": ONLINE}}, {f"dataset_attributes.{HIDDEN}": {"or": [None, False]}})
#: One-letter labels of the states in the every-workspace columns (the legend explains them).
SHORT_STATES = {
    "OPEN": "O",
    "SIGNOFF": "S",
    "COMPLETED": "C",
    WAITING_DQM_GUI: "W",
    "not significant for workspace": "–",
}


def table_spec(workspace: str) -> TableSpec:
    """The dataset tables of `workspace`: the online tables' run fields, the dataset name, the class, and
    the workspace's state (sortable and a filter choice for the editable table)."""
    state = f"dataset_attributes.{workspace}_state"
    return TableSpec(
        ranges=RANGES,
        texts=TEXTS,
        sortable={
            "run": "run_number",
            "name": "name",
            "class": "rr_attributes.class",
            "state": state,
            "ls": "oms_attributes.ls_duration",
        },
        state_key=state,
        page_params=("page", "waiting_page"),
        toggles=("all_states",),
    )


def waiting_filter(workspace: str) -> dict[str, Any]:
    return {f"dataset_attributes.{workspace}_state": WAITING_DQM_GUI}


def editable_filter(workspace: str) -> dict[str, Any]:
    return {f"dataset_attributes.{workspace}_state": {"or": list(STATES)}}


@router.get("/offline")
def offline_home() -> RedirectResponse:
    return RedirectResponse("/offline/datasets/global", status_code=307)


@router.get("/offline/datasets/{workspace}", response_class=HTMLResponse)
def offline_workspace(workspace: str, current: Page = PAGE) -> Response:
    """Both tables in the layout; an htmx request (a sort, a page, after a move) gets just the tables."""
    config = current.config
    try:
        view = _tables(current, config, workspace)
    except NotFound as exc:
        return not_found(
            current,
            exc,
            section="offline",
            back_url="/offline/datasets/global",
            back_label="The offline datasets of the global workspace",
        )
    partial = current.request.headers.get("hx-request") == "true"
    return render(current, "offline/_tables.html" if partial else "offline/workspace.html", **view)


@router.get("/offline/ranges/{run_number}/{component}", response_class=HTMLResponse)
def component_ranges(run_number: int, component: str, current: Page = PAGE) -> Response:
    """A component's LS ranges on a dataset with their comments and causes (a table segment's popover)."""
    name = current.request.query_params.get("dataset", "")
    try:
        run = registry.run_state(current.db, run_number)
        ranges = registry.component_ranges(run, name).get(component, [])
    except RunregError as exc:
        return render(current, "_flash.html", status_code=http_status(exc), error=exc.message)
    return render(current, "online/_ranges.html", run=run, component=component, ranges=ranges, dataset=name)


def _tables(current: Page, config: Configuration, workspace: str) -> dict[str, Any]:
    offline = [ws.name for ws in config.workspaces if ws.mode == "offline"]
    if workspace not in offline:
        raise NotFound(f"there is no offline workspace {workspace!r}", details={"workspace": workspace})
    components = (
        config.certifiable_components("offline")
        if workspace == "global"
        else config.workspace(workspace, "offline").components()
    )
    spec = table_spec(workspace)
    error = None
    try:
        query = TableQuery.from_params(current.request.query_params, spec)
        chosen = query.to_filter()
        editable_chosen = both(chosen, editable_filter(workspace))
        editable = table_page(
            current.db,
            both(OFFLINE, editable_chosen),
            query,
            query.page,
            EDITABLE_PAGE_SIZE,
            target="datasets",
            count_limit=COUNT_LIMIT,
        )
        waiting = table_page(
            current.db,
            both(OFFLINE, query.to_filter(with_state=False), waiting_filter(workspace)),
            query,
            query.page_of("waiting_page"),
            WAITING_PAGE_SIZE,
            target="datasets",
            count_limit=COUNT_LIMIT,
        )
    except InvalidInput as exc:  # a bad filter is shown next to the builder, with empty tables
        query = TableQuery.unparsed(current.request.query_params, spec)
        error, chosen, editable_chosen = exc, {}, editable_filter(workspace)
        editable = waiting = EMPTY_TABLE
    current.ask_ahead(_move_checks(workspace, [*waiting["rows"], *editable["rows"]]))
    return {
        "workspace": workspace,
        "workspaces": offline,
        "components": components,
        "query": query,
        "filter": chosen,
        "filter_error": error,
        "waiting": waiting,
        "editable": editable,
        "state_key": f"{workspace}_state",
        "state_moves": state_moves,
        "other_workspaces": [ws for ws in offline if ws != workspace]
        if "all_states" in query.toggles
        else [],
        "short_states": SHORT_STATES,
        # What the DC tools and the cycle creation act on: the editable table's rows, whatever page.
        "selection_filter": json.dumps(editable_chosen, separators=(",", ":")),
        "ranges_fields": spec.ranges,
        "text_fields": spec.texts,
        "states": spec.states,
        "state_label": f"{workspace} state",
        "all_components": config.components("offline"),
    }


def _move_checks(workspace: str, rows: list[dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    """The gate's question for every move option the tables draw, asked at once."""
    checks = []
    for row in rows:
        state = (row["dataset_attributes"] or {}).get(f"{workspace}_state")
        for to in state_moves(str(state)):
            target = {
                "run": row["run_number"],
                "dataset": row["name"],
                "workspace": workspace,
                "from_state": state,
                "to_state": to,
            }
            checks.append(("registry:dataset:move", target))
    return checks
