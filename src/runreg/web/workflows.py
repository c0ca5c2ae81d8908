"""Workflow pages (Stats2): the table of production workflows with the original's filters, search and paging,
and one workflow with its output datasets, the event-count history plot, status history, the share of its
input in the official golden JSON, and the permission-checked update of that one workflow."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache
from urllib.parse import quote_plus

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup, escape

from runreg.kernel.errors import InvalidInput, NotFound
from runreg.web.page import Page, not_found, page, perform, posted, render
from runreg.web.params import whole_number
from runreg.workflows import links, overview, reads, service
from runreg.workflows.api import cmsweb_of

router = APIRouter(include_in_schema=False)
PAGE = Depends(page)
FIELDS = ("workflow_name", "prepid", "campaign", "type", "status", "input_dataset", "output_dataset",
          "processing_string", "request")  # fmt: skip
UPDATE = "workflows:update"


@router.get("/stats", response_class=HTMLResponse)
def table(current: Page = PAGE) -> HTMLResponse:
    """Workflows matching every filter given (`*` a wildcard), by name or submission time, 100 a page."""
    params = current.request.query_params
    chosen = {key: params.get(key, "").strip() for key in (*FIELDS, "order", "cursor", "limit")}
    error, found = None, None
    try:
        limit = whole_number(params, "limit")
        filters, chronological = reads.parse_filters(
            {k: v for k, v in chosen.items() if k in FIELDS or k == "order"}, legacy=False
        )
        found = overview.listing(
            current.db,
            filters=filters,
            chronological=chronological,
            cursor=chosen["cursor"] or None,
            limit=overview.PAGE_SIZE if limit is None else limit,
        )
    except InvalidInput as exc:  # shown next to the filter it is about
        error = exc
    query = {k: v for k, v in chosen.items() if v and k != "cursor"}
    return render(
        current,
        "workflows/index.html",
        section="workflows",
        chosen=chosen,
        query=query,
        found=found,
        error=error,
        fields=FIELDS,
        **_helpers(),
    )


@router.get("/stats/workflow/{name}", response_class=HTMLResponse)
def workflow(name: str, current: Page = PAGE) -> HTMLResponse:
    try:
        found = overview.workflow(current.db, name=name)
    except (NotFound, InvalidInput) as exc:
        return not_found(current, exc, section="workflows", back_url="/stats", back_label="Back to workflows")
    return render(
        current,
        "workflows/workflow.html",
        section="workflows",
        wf=found,
        refusal=current.refusal(UPDATE),
        data_input=reads.is_data(found.document.get("InputDataset") or "/x/x/GEN"),
        chart=_chart(found),
        stalled=found.stalled(datetime.now(UTC).timestamp()),
        **_helpers(),
    )


@router.get("/stats/workflow/{name}/golden", response_class=HTMLResponse)
def golden(name: str, request: Request, current: Page = PAGE) -> HTMLResponse:
    """The share of the input's LS in the latest official golden JSON (loaded after the page: may ask DBS)."""
    try:
        with cmsweb_of(request) as sources:
            view = overview.golden(current.db, sources.dbs, name=name)
    except (NotFound, InvalidInput) as exc:
        view = overview.GoldenView(None, reason=exc.message)
    return render(current, "workflows/_golden.html", view=view)


@router.post("/stats/workflow/{name}/update", response_class=HTMLResponse)
async def update(name: str, request: Request) -> Response:
    """Re-read this workflow from ReqMgr2 and DBS now (permission `workflows:update`)."""
    current, _ = await posted(request)

    def write() -> None:
        with cmsweb_of(request) as sources:
            report = service.update_one(current.db, sources, name=name, actor=current.actor)
        if name in report.failures:
            raise InvalidInput("workflow_name", f"ReqMgr2 or DBS failed: {report.failures[name]}")

    return perform(current, write, f"{name} was read again from ReqMgr2 and DBS", changed="workflow-changed")


def _chart(found: overview.Workflow) -> dict:
    """What the history plot draws: per output dataset its counts over time, and the target."""
    basis = found.row.basis
    return {
        "basis": basis,
        "target": found.row.target,
        "now": datetime.now(UTC).isoformat(),  # each line holds its last value until now
        "series": [
            {
                "dataset": s.dataset,
                "tier": s.dataset.rsplit("/", 1)[-1],
                "times": [datetime.fromtimestamp(t, UTC).isoformat() for t in s.times],
                "values": s.lumis if basis == "lumis" else s.events,
                "types": s.types,
            }
            for s in found.series
        ],  # fmt: skip
    }


def ago(moment: float | None) -> str:
    """`3d ago`, `4h 12min ago`, `12min ago`, `40s ago` (the original's durations), or `in 2h` for a moment
    still to come (a source whose clock runs ahead, like the demo's simulated cmsweb)."""
    if not moment:
        return "never"
    seconds = int(datetime.now(UTC).timestamp() - moment)
    future, seconds = seconds < 0, abs(seconds)
    if seconds >= 86400:
        text = f"{seconds // 86400}d"
    elif seconds >= 3600:
        text = f"{seconds // 3600}h {seconds % 3600 // 60}min"
    else:
        text = f"{seconds // 60}min" if seconds >= 60 else f"{seconds}s"
    return f"in {text}" if future else f"{text} ago"


def when(moment: float | None) -> str:
    return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%d %H:%M") if moment else ""


def size(value: int) -> str:
    """Bytes in base 1000 (B, KB … TB), as the original showed them."""
    number = float(value)
    for unit in ("B", "KB", "MB", "GB"):
        if number < 1000:
            return f"{number:.0f} {unit}" if unit == "B" else f"{number:.2f} {unit}"
        number /= 1000
    return f"{number:.2f} TB"


@lru_cache(maxsize=65536)
def flt(key: str, value: str) -> str:
    """The table filtered by one value (dataset names repeat on every page: quoted once per process)."""
    return f"/stats?{key}={quote_plus(value)}"


def datasets_html(row: overview.Row) -> Markup:
    """A workflow's output datasets in tier order: a completion bar coloured by DBS access type, the tier,
    the share done, the count, the size, the type and links. Drawn in Python, not a macro: a page of the
    table draws some 500 of them (the hottest part of the page, like the run tables' status bars)."""
    items = []
    for d in row.datasets:
        pct = None if d.done is None else d.done * 100
        count = f"{d.lumis or 0:,} LS" if row.basis == "lumis" else f"{d.events:,} events"
        name, kind = escape(d.dataset), escape(d.access_type)
        parts = [
            f'<li data-dataset="{name}"><span class="done-bar type-{kind}" title="{kind}'
            f'{"" if pct is None else f", {pct:.2f}%"}"><span style="width: {min(pct or 0.0, 100.0):.1f}%">'
            f'</span></span> <b class="tier">{escape(d.tier)}</b> <span class="pct">'
            f'{"no target" if pct is None else f"{pct:.2f}%"}</span> <span class="count">{count}</span> ',
            f'<span class="muted" title="{d.size:,} bytes">{size(d.size)}</span> ' if d.size > 0 else "",
            f'<span class="access {kind}">{kind}</span> '
            f'<a class="small" href="{escape(links.das(d.dataset))}" rel="noreferrer">DAS</a> ',
            f'<a class="small" href="{escape(links.harvesting(d.dataset))}" rel="noreferrer">harvesting</a> '
            if d.tier == "DQMIO" else "",
            f'<a class="ds-name" href="{escape(flt("output_dataset", d.dataset))}">{name}</a></li>',
        ]  # fmt: skip
        items.append("".join(parts))
    inside = "".join(items) or '<li class="muted">no output dataset</li>'
    return Markup(f'<ul class="datasets">{inside}</ul>')


def distinct(values: list[str] | None) -> list[str]:
    """In order, each once (Jinja's `unique` filter costs ~60 µs a call: a third of a page's time)."""
    return list(dict.fromkeys(values or ()))


def _helpers() -> dict:
    return {"ago": ago, "when": when, "size": size, "links": links, "flt": flt, "datasets": datasets_html,
            "distinct": distinct}  # fmt: skip
