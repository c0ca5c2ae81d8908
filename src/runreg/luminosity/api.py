"""/api/v1 luminosity routes: a run's sources, the luminosity of a JSON, brilcalc imports (thin handlers)."""

from __future__ import annotations

from typing import Annotated, Any

from annotated_types import Ge, Le
from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from runreg.access.api import authenticated_actor
from runreg.kernel.actors import Actor
from runreg.kernel.errors import InvalidInput
from runreg.kernel.limits import INT32_MAX, Comment, Id, Name
from runreg.luminosity import service

router = APIRouter(tags=["luminosity"])
WRITE = Depends(authenticated_actor)
LS = Annotated[int, Ge(1), Le(INT32_MAX)]


class Selection(BaseModel):
    json_: dict[Id, list[tuple[LS, LS]]] = Field(
        alias="json", description='a golden JSON: {"<run>": [[first_ls, last_ls], ...]}'
    )


@router.get("/runs/{run_number}/luminosity")
def run_luminosity(request: Request, run_number: Id) -> list[dict[str, Any]]:
    """The run's luminosity sources, best first (the one golden JSONs use): totals in /pb."""
    return service.sources(request.app.state.db, run_number=run_number)


@router.post("/luminosity/of-json", openapi_extra={"x-read-only": True})
def of_json(request: Request, body: Selection) -> dict[str, Any]:
    """Delivered and recorded luminosity of the LS a JSON lists, per run from its best source, and which."""
    for run, ranges in body.json_.items():
        for first, last in ranges:
            if first > last:
                raise InvalidInput(f"json.{run}", f"range [{first}, {last}] ends before it starts")
    return service.of_selection(request.app.state.db, lumis=body.json_)


@router.post("/luminosity/brilcalc", status_code=201)
async def import_brilcalc(
    request: Request,
    normtag: Name | None = Query(None, description="the normtag brilcalc used (default: its header's)"),
    filename: Name = Query("", description="the file's name, recorded with the import"),
    comment: Comment = Query("", description="why"),
    actor: Actor = WRITE,
) -> dict[str, Any]:
    """Import brilcalc's --byls CSV sent as the body (text/csv). Every line is checked first; a bad line is
    named by number and nothing is written. Files above the server's body limit: `runreg lumi import`."""
    try:
        text = (await request.body()).decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidInput("body", "a brilcalc CSV is UTF-8 text") from None
    # Parsing a large file takes seconds: off the event loop.
    report = await run_in_threadpool(
        service.import_brilcalc,
        request.app.state.db,
        actor=actor,
        text=text,
        normtag=normtag,
        filename=filename,
        comment=comment,
    )
    return report.__dict__


@router.get("/luminosity/imports")
def imports(request: Request, limit: int = Query(50, ge=1, le=1000)) -> list[dict[str, Any]]:
    """brilcalc imports, newest first."""
    return service.imports(request.app.state.db, limit=limit)
