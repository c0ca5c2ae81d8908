"""The luminosity page: the sources golden JSONs read per run, brilcalc imports (uploaded here by luminosity
admins), and the luminosity of any JSON."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from runreg.certification.lumilist import LumiList
from runreg.kernel.errors import InvalidInput
from runreg.luminosity import service as luminosity
from runreg.web.page import Page, page, perform_form, posted, render, uploaded_text

router = APIRouter(include_in_schema=False)
PAGE = Depends(page)
IMPORT = "luminosity:import"


@router.get("/luminosity", response_class=HTMLResponse)
def luminosity_page(current: Page = PAGE) -> HTMLResponse:
    return render(current, "luminosity/index.html", section="lumi", **_context(current))


@router.get("/luminosity/overview", response_class=HTMLResponse)
def overview_part(current: Page = PAGE) -> HTMLResponse:
    """The sources and imports again, after an import (htmx)."""
    return render(current, "luminosity/_overview.html", **_context(current))


@router.post("/luminosity/import")
async def import_file(request: Request) -> Response:
    current, form = await posted(request)
    values = {"normtag": form.get("normtag", "").strip(), "comment": form.get("comment", "").strip()}
    try:
        text = await uploaded_text(request, "file")
        filename = getattr((await request.form()).get("file"), "filename", "") or ""
    except InvalidInput as refused:
        text, filename, error = "", "", refused
    else:
        error = None

    def write() -> Any:
        if error is not None:
            raise error
        return luminosity.import_brilcalc(
            current.db,
            actor=current.actor,  # type: ignore[arg-type]  # perform() refuses a missing actor first
            text=text,
            normtag=values["normtag"] or None,
            filename=filename,
            comment=values["comment"],
        )

    return await run_in_threadpool(
        perform_form,
        current,
        write,
        lambda report: (
            f"imported {filename}: {report.runs} run{'s' if report.runs != 1 else ''}, "
            f"{report.lumisections:,} LS, normtag {report.normtag or '(none)'}"
        ),
        form="luminosity/_import.html",
        target="#import-form",
        changed="lumi-changed",
        values=values,
        refusal=current.refusal(IMPORT),
        max_bytes=current.request.app.state.settings.max_body_bytes,
    )


@router.post("/luminosity/of-json", response_class=HTMLResponse)
async def of_json(request: Request) -> HTMLResponse:
    """The delivered and recorded luminosity of a pasted JSON, per run from its best source."""
    current, form = await posted(request)
    text = form.get("json", "")
    try:
        lumis = LumiList.from_json(text)
    except InvalidInput as exc:
        return render(current, "luminosity/_of_json.html", status_code=400, error=exc, text=text)
    figures = await run_in_threadpool(luminosity.of_selection, current.db, lumis=dict(lumis.items()))
    counts = {run: lumis.ls_count(int(run)) for run in figures["runs"]}
    return render(
        current, "luminosity/_of_json.html", figures=figures, counts=counts, text=text, ls=len(lumis)
    )


def _context(current: Page) -> dict[str, Any]:
    return {
        **luminosity.overview(current.db),
        "refusal": current.refusal(IMPORT),
        "values": {},
        "max_bytes": current.request.app.state.settings.max_body_bytes,
    }
