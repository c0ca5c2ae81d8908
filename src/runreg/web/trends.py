"""Historic DQM pages: trends of one subsystem / primary dataset / processing string over runs (Plotly, error
bars, x by run, time or fill, fill bands, hover with the run's facts, correlation of two trends), filtered by
run range, latest N, run list, run class, a component's certification or a golden JSON (from the JSON portal
or uploaded); one plot full screen (ranges, the selected run, trends of any dataset and OMS quantities added)
with its side panel (the run's facts, the stored histograms of its MEs); CSV of the shown points; the ledger
of files and failures; recompute for an admin."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from typing import Any

import orjson
from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from runreg.apiutil import json_answer
from runreg.kernel.errors import InvalidInput, NotFound
from runreg.kernel.limits import (
    MAX_LIST_ITEMS,
    MAX_NAME_CHARS,
    MAX_VALUE_CHARS,
    check_int,
    check_text,
)
from runreg.trends import service, views
from runreg.trends.readmodels import COMPONENT_STATUSES, RunSelection
from runreg.web.page import Page, page, perform, posted, render
from runreg.web.params import whole_number

router = APIRouter(include_in_schema=False)
PAGE = Depends(page)
X_AXES = ("run", "time", "fill")
#: Query-string keys the page keeps (the whole view is in the URL; an uploaded golden JSON is not).
KEYS = (
    "subsystem", "pd", "ps", "filter", "latest", "from_run", "to_run", "runs", "run_class", "component",
    "status", "significant", "search", "json", "x", "errors", "fills", "per_page", "page", "corr", "mark",
    # full screen: the plot's key, trends added to it, the selected run, the y range, an OMS quantity on y2
    "fs", "add", "sel", "ylo", "yhi", "oms",
)  # fmt: skip


def _run_list(text: str, name: str = "runs", what: str = "run numbers") -> list[int] | None:
    items = [item.strip() for item in text.replace(" ", ",").split(",") if item.strip()]
    if not items:
        return None
    if not all(item.isdigit() for item in items):
        raise InvalidInput(name, f"must be {what} separated by commas")
    if len(items) > MAX_LIST_ITEMS:
        raise InvalidInput(name, f"give at most {MAX_LIST_ITEMS} {what}")
    return [check_int(name, int(item), low=0) for item in items]


def _real(chosen: Mapping[str, str], name: str) -> float | None:
    try:
        return float(chosen[name]) if chosen[name] else None
    except ValueError:
        raise InvalidInput(name, f"{chosen[name]!r} is not a number") from None


def _number(chosen: Mapping[str, str], name: str, *, required: bool = False) -> int | None:
    value = whole_number(chosen, name, required=required)
    return None if value is None else check_int(name, value, low=0)


def parse(values: Mapping[str, Any]) -> tuple[dict[str, str], views.Query]:
    """The view's settings (as the form shows them) and the service query; InvalidInput names the field."""
    chosen = {key: str(values.get(key, "") or "").strip() for key in KEYS}
    for key in KEYS:
        check_text(key, chosen[key], MAX_NAME_CHARS if key != "runs" else MAX_VALUE_CHARS * 100)
    chosen["filter"] = chosen["filter"] if chosen["filter"] in ("latest", "range", "list") else "latest"
    chosen["x"] = chosen["x"] if chosen["x"] in X_AXES else "run"
    chosen["latest"] = chosen["latest"] or "50"
    chosen["significant"] = chosen["significant"] or "1"
    chosen["fills"] = chosen["fills"] or "1"
    golden_text = str(values.get("golden_json", "") or "").strip()
    status = chosen["status"].upper()
    if chosen["component"] and status not in COMPONENT_STATUSES:
        raise InvalidInput(
            "status", f"choose the status of {chosen['component']}: {', '.join(COMPONENT_STATUSES)}"
        )
    kind = chosen["filter"]
    selection = RunSelection.build(
        latest=_number(chosen, "latest") if kind == "latest" else None,
        first=_number(chosen, "from_run", required=True) if kind == "range" else None,
        last=_number(chosen, "to_run", required=True) if kind == "range" else None,
        runs=_run_list(chosen["runs"]) if kind == "list" else None,
        golden_json=golden_text or None,
        significant_only=chosen["significant"] != "0",
        run_class=chosen["run_class"] or None,
        certified=(chosen["component"], status) if chosen["component"] else None,
    )
    if kind == "list" and selection.runs is None:
        raise InvalidInput("runs", "give at least one run")
    _number(chosen, "sel")
    low, high = _real(chosen, "ylo"), _real(chosen, "yhi")
    if low is not None and high is not None and low >= high:
        raise InvalidInput("ylo", f"{low:g} is not below the top of the y range {high:g}")
    query = views.Query(
        subsystem=chosen["subsystem"] or None, pd=chosen["pd"] or None, ps=chosen["ps"] or None,
        selection=selection, search=chosen["search"], json_id=_number(chosen, "json"),
        per_page=_number(chosen, "per_page") or 12, page=_number(chosen, "page") or 1,
        fullscreen=chosen["fs"] or None, added=tuple(_run_list(chosen["add"], "add", "trend ids") or ()),
    )  # fmt: skip
    return chosen, query


def _show(current: Page, values: Mapping[str, Any], *, uploaded: bool = False) -> Response:
    chosen: dict[str, str] = {key: str(values.get(key, "") or "")[:MAX_NAME_CHARS] for key in KEYS}
    error: InvalidInput | None = None
    found: views.Exploration | None = None
    try:
        chosen, query = parse(values)
        found = views.explore(current.db, query)
    except InvalidInput as exc:  # shown next to the field it is about
        error = exc
    if found is not None and values.get("format") == "csv":
        out = io.StringIO()
        csv.writer(out).writerows(views.csv_rows(found))
        name = f"trends-{found.subsystem}-{found.pd}-{found.ps}.csv".replace("/", "_")
        return Response(
            out.getvalue(), media_type="text/csv",
            headers={"content-disposition": f'attachment; filename="{name}"'},
        )  # fmt: skip
    return render(
        current, "trends/index.html", status_code=400 if error else 200, section="trends", chosen=chosen,
        found=found, error=error, uploaded=uploaded, payload=_payload(found, chosen) if found else "null",
        statuses=COMPONENT_STATUSES,
        recompute_refusal=current.refusal("trends:recompute"),
        golden=str(values.get("golden_json", "") or "") if uploaded else "",
    )  # fmt: skip


def _payload(found: views.Exploration, chosen: dict[str, str]) -> str:
    """What trends.js draws: the charts' points and the facts of their runs (JSON inside the page)."""
    data = {
        "x": chosen["x"], "errors": chosen["errors"] == "1", "fills": chosen["fills"] != "0",
        "corr": chosen["corr"], "mark": int(chosen["mark"]) if chosen["mark"].isdigit() else None,
        "pd": found.pd, "ps": found.ps, "subsystem": found.subsystem,
        "charts": [
            {"key": c.key, "title": c.title, "y_title": c.y_title, "correlation": c.correlation,
             "series": [_series(s) for s in c.series]}
            for c in found.charts
        ],
        "runs": found.runs,
        "fullscreen": found.fullscreen and {
            "key": found.fullscreen, "added": [_series(s) for s in found.added],
            "plot_selection": found.plot_selection, "sel": _int_or_none(chosen["sel"]),
            "y": [_real(chosen, "ylo"), _real(chosen, "yhi")], "oms": chosen["oms"],
        },
    }  # fmt: skip
    # thousands of points with their run facts: orjson; "</" escaped so the JSON cannot close its <script>
    return orjson.dumps(data, default=str, option=orjson.OPT_NON_STR_KEYS).decode().replace("</", "<\\/")


def _series(s: views.ChartSeries) -> dict[str, Any]:
    return {"trend_id": s.trend_id, "name": s.name, "points": s.points, "subsystem": s.subsystem, "pd": s.pd,
            "ps": s.ps}  # fmt: skip


def _int_or_none(text: str) -> int | None:
    return int(text) if text.isdigit() else None


@router.get("/trends", response_class=HTMLResponse)
def trends_page(request: Request, current: Page = PAGE) -> Response:
    """Trends of the chosen subsystem / PD / processing string; every setting is in the query string."""
    return _show(current, request.query_params)


@router.post("/trends", response_class=HTMLResponse)
async def trends_with_golden(request: Request) -> Response:
    """The same view restricted to the runs of an uploaded golden JSON (read in the browser, posted as text:
    it is too long for a URL). It only reads."""
    current, form = await posted(request)  # larger than RUNREG_MAX_BODY_BYTES: refused (413) before
    return _show(current, form, uploaded=True)


@router.get("/trends/preview")
def preview(request: Request, current: Page = PAGE) -> Response:
    """The full-screen side panel of one (trend, run) as JSON: the run's facts and the stored bins of the
    config's MEs. 400 names the bad parameter, 404 what does not exist."""
    try:
        trend = _number(request.query_params, "trend", required=True)
        run = _number(request.query_params, "run", required=True)
        return json_answer(views.preview(current.db, trend_id=trend or 0, run=run or 0))
    except InvalidInput as exc:
        return JSONResponse({"error": {"field": exc.field, "message": exc.message}}, status_code=400)
    except NotFound as exc:
        return JSONResponse({"error": {"message": exc.message, "details": exc.details}}, status_code=404)


@router.post("/trends/recompute", response_class=HTMLResponse)
async def recompute(request: Request) -> Response:
    """Recompute one config's trends from the stored histograms (action trends:recompute)."""
    current, form = await posted(request)
    config = form.get("config", "").strip()
    if not config:
        return render(current, "_flash.html", status_code=400, error="config: required")
    return perform(
        current,
        lambda: service.recompute_configured(current.db, actor=current.actor, config_name=config),
        f"{config} recomputed from the stored histograms",
        changed="trends-changed",
    )


@router.get("/trends/ledger", response_class=HTMLResponse)
def ledger_page(request: Request, current: Page = PAGE) -> HTMLResponse:
    """DQM files by status, the failed ones and why, config problems, and one trend's runs without a value."""
    error = None
    try:
        trend_id = _number(request.query_params, "trend")
    except InvalidInput as exc:
        error, trend_id = exc, None
    found = views.ledger(current.db, trend_id=trend_id)
    return render(
        current, "trends/ledger.html", section="trends", found=found, error=error, trend_id=trend_id
    )
