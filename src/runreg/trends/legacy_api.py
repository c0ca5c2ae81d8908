"""The original HDQM API under /hdqm/api/ with its JSON shapes (spec hdqm §8), working: data, selection,
plot_selection, runs, expand_url. Errors answer 400/404 `{"message": ...}` as the original did."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from runreg.apiutil import json_answer
from runreg.kernel.errors import InvalidInput, NotFound
from runreg.kernel.limits import INT32_MAX, MAX_NAME_CHARS, text_problem
from runreg.trends import readmodels

router = APIRouter(prefix="/hdqm/api", tags=["historic DQM (original API)"])


def _answer(build: Callable[[], Any]) -> Response:
    try:
        found = build()
    except InvalidInput as exc:
        return JSONResponse({"message": exc.message}, status_code=400)
    except NotFound as exc:
        return JSONResponse({"message": exc.message}, status_code=404)
    if isinstance(found, Response):
        return found
    return json_answer(found)  # thousands of points: orjson in one call


def _int(params: Any, name: str, *, required: bool = False) -> int | None:
    raw = params.get(name)
    if raw is None or raw == "":
        if required:
            raise InvalidInput(name, "is required")
        return None
    try:
        value = int(raw)
    except ValueError:
        raise InvalidInput(name, f"{raw[:40]!r} is not an integer") from None
    if not 0 <= value <= INT32_MAX:
        raise InvalidInput(name, f"must be between 0 and {INT32_MAX}")
    return value


def _text(params: Any, name: str) -> str:
    value = params.get(name)
    if not value:
        raise InvalidInput(name, "is required")
    problem = text_problem(value, MAX_NAME_CHARS)
    if problem:
        raise InvalidInput(name, problem)
    return value


def _run_list(raw: str | None) -> list[int] | None:
    if raw is None:
        return None
    try:
        runs = [int(part) for part in raw.split(",") if part.strip()]
    except ValueError:
        raise InvalidInput("runs", "must be comma-separated run numbers") from None
    if any(not 0 <= run <= INT32_MAX for run in runs):
        raise InvalidInput("runs", f"run numbers are between 0 and {INT32_MAX}")
    return runs


@router.get("/")
def index() -> str:
    return "HDQM REST API"


@router.get("/data")
def data(request: Request) -> Response:
    """Points of every non-empty trend of (subsystem, pd, processing_string), sorted by run, `latest` per
    trend, only significant runs; with `trend_id`, that trend alone."""
    params = request.query_params

    def build() -> Any:
        selection = readmodels.RunSelection.build(
            latest=_int(params, "latest"),
            first=_int(params, "from_run"),
            last=_int(params, "to_run"),
            runs=_run_list(params.get("runs")),
        )
        return readmodels.legacy_data(
            request.app.state.db,
            subsystem=_text(params, "subsystem"),
            pd=_text(params, "pd"),
            ps=_text(params, "processing_string"),
            selection=selection,
            trend_id=_int(params, "trend_id"),
        )

    return _answer(build)


@router.get("/selection")
def selection(request: Request) -> Response:
    return _answer(lambda: readmodels.legacy_selection(request.app.state.db))


@router.get("/plot_selection")
def plot_selection(request: Request) -> Response:
    return _answer(lambda: readmodels.legacy_plot_selection(request.app.state.db))


@router.get("/runs")
def runs(request: Request) -> Response:
    return _answer(lambda: readmodels.runs(request.app.state.db))


@router.get("/expand_url")
def expand_url(request: Request) -> Response:
    params = request.query_params

    def build() -> Response:
        url = readmodels.expand_url(
            request.app.state.db,
            url_type=_text(params, "url_type"),
            run=_int(params, "run", required=True) or 0,
            trend_id=_int(params, "trend_id", required=True) or 0,
            subsystem=_text(params, "subsystem"),
            pd=_text(params, "pd"),
            ps=_text(params, "ps"),
        )
        return RedirectResponse(url, status_code=302)

    return _answer(build)
