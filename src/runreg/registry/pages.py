"""Server-rendered pages of the registry: the online run list."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from runreg.configuration import service as configuration
from runreg.kernel.quality import Status
from runreg.registry import service

router = APIRouter(tags=["pages"], include_in_schema=False)
templates = Jinja2Templates(directory=Path(__file__).parent / "templates")
STATUS_ORDER = [s.value for s in Status]


def bar(summary: dict[str, Any], ls_count: int) -> list[tuple[str, float]]:
    """(status, percent of the run's LS) for a component's summary, in the display order."""
    total = max(ls_count, 1)
    return [(status, 100 * summary[status] / total) for status in STATUS_ORDER if summary.get(status)]


def bar_title(summary: dict[str, Any]) -> str:
    return ", ".join(f"{status} {summary[status]}" for status in STATUS_ORDER if summary.get(status))


templates.env.globals.update(bar=bar, bar_title=bar_title)


@router.get("/", response_class=HTMLResponse)
def online_runs(request: Request, limit: int = Query(50, ge=1, le=500)) -> HTMLResponse:
    db = request.app.state.db
    components = configuration.current_configuration(db).certifiable_components("online")
    runs = service.list_runs(db, limit=limit)
    return templates.TemplateResponse(
        request, "runs.html", {"runs": runs, "components": components, "refresh": 10}
    )
