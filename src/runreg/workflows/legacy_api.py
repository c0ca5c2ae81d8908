"""The original Stats2 routes its users call (McM, pMp, ReReco and RelVal machines): /stats/api/get_json,
/stats/api/fetch (all pages, no 10,000 cap), /stats/md, /stats/search and a POST /stats/api/update."""

from __future__ import annotations

from collections.abc import Iterator

import orjson
from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse, RedirectResponse, StreamingResponse

from runreg.access.api import authenticated_actor
from runreg.kernel.errors import InvalidInput, NotFound
from runreg.workflows import reads, service
from runreg.workflows.api import cmsweb_of

router = APIRouter(prefix="/stats", tags=["stats2"])


def _pretty(document: dict) -> bytes:
    return orjson.dumps(document, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS)


@router.get("/get_json/{name}")
@router.get("/api/get_json/{name}")
def get_json(request: Request, name: str) -> Response:
    """The stored document (pretty, sorted keys), or 404 with `{}` as the original answered."""
    try:
        document = service.get(request.app.state.db, name=name)
    except (NotFound, InvalidInput):
        return Response(b"{}", status_code=404, media_type="application/json")
    return Response(_pretty(document), media_type="application/json")


@router.get("/api/fetch")
def fetch(request: Request) -> StreamingResponse:
    """Every matching document as one JSON list, streamed page by page."""
    filters, chronological = reads.parse_filters(dict(request.query_params), legacy=True)
    documents = reads.every_document_json(request.app.state.db, filters=filters, chronological=chronological)
    return StreamingResponse(_json_list(documents), media_type="application/json")


def _json_list(documents: Iterator[bytes], chunk: int = 500) -> Iterator[bytes]:
    """A JSON array in chunks of many documents: each chunk costs a hop to the event loop's thread."""
    yield b"["
    pending: list[bytes] = []
    first = True
    for document in documents:
        pending.append(document)
        if len(pending) == chunk:
            yield (b"" if first else b",") + b",".join(pending)
            first, pending = False, []
    if pending:
        yield (b"" if first else b",") + b",".join(pending)
    yield b"]"


@router.get("/md")
def markdown(request: Request) -> PlainTextResponse:
    filters, chronological = reads.parse_filters(dict(request.query_params), legacy=True)
    documents = list(
        reads.every_document(
            request.app.state.db, filters=filters, chronological=chronological, limit=reads.MD_LIMIT
        )
    )
    return PlainTextResponse(reads.markdown(documents))


@router.get("/search")
def search(request: Request, q: str = "") -> RedirectResponse:
    target = reads.search_target(request.app.state.db, q=q)
    if target is None:
        return RedirectResponse("/stats", status_code=302)
    from urllib.parse import urlencode

    return RedirectResponse(f"/stats?{urlencode([target])}", status_code=302)


@router.post("/api/update")
async def update(request: Request) -> JSONResponse:
    """Update one workflow now. A POST (the original's GET could be triggered cross-site) that needs the
    `workflows:update` permission; `workflow_name` (or the older `workflow`) in the query, form or JSON."""
    actor = authenticated_actor(request)
    name = await _workflow_name(request)
    if not name:
        return JSONResponse({"msg": "workflow_name is required"}, status_code=400)
    with cmsweb_of(request) as sources:
        report = service.update_one(request.app.state.db, sources, name=name, actor=actor)
    if name in report.failures:
        return JSONResponse({"error": f"Workflow {name} could not be updated: {report.failures[name]}"}, 500)
    return JSONResponse({"msg": f"Workflow {name} has been updated successfully"})


async def _workflow_name(request: Request) -> str:
    for key in ("workflow_name", "workflow"):
        if request.query_params.get(key):
            return request.query_params[key]
    body = await request.body()
    if not body:
        return ""
    if request.headers.get("content-type", "").startswith("application/json"):
        try:
            data = orjson.loads(body)
        except orjson.JSONDecodeError:
            raise InvalidInput("body", "is not JSON") from None
        if isinstance(data, dict):
            return str(data.get("workflow_name") or data.get("workflow") or "")
        return ""
    form = await request.form()
    return str(form.get("workflow_name") or form.get("workflow") or "")
