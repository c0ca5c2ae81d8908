"""/api/v1/workflows: combined filters with wildcards, keyset paging, one workflow with its history per
dataset, and the permission-checked update of one workflow."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fastapi import APIRouter, Depends, Query, Request

from runreg.access.api import authenticated_actor
from runreg.integrations.cmsweb import CmswebSources, from_settings
from runreg.kernel.actors import Actor
from runreg.workflows import reads, service

router = APIRouter(tags=["workflows"])
WRITE = Depends(authenticated_actor)


@contextmanager
def cmsweb_of(request: Request) -> Iterator[CmswebSources]:
    """The app's cmsweb sources if it was given some (tests, demo), else clients built from the settings."""
    given = getattr(request.app.state, "cmsweb", None)
    if given is not None:
        yield given
        return
    with from_settings(request.app.state.settings) as sources:
        yield sources


@router.get("/workflows")
def list_workflows(
    request: Request,
    cursor: str | None = None,
    limit: int = Query(100, ge=1, le=reads.MAX_PAGE),
    order: str = Query("name", pattern="^(name|submitted)$"),
) -> dict[str, Any]:
    """Workflows matching every filter given (workflow_name, prepid, output_dataset, input_dataset, campaign,
    type, processing_string, request; `*` is a wildcard), by name or submission time."""
    params = dict(request.query_params) | {"order": order}
    filters, chronological = reads.parse_filters(params, legacy=False)
    page = reads.page(
        request.app.state.db, filters=filters, chronological=chronological, cursor=cursor, limit=limit
    )
    return {"workflows": [summary(doc) for doc in page.documents], "next_cursor": page.next_cursor}


def summary(doc: dict[str, Any]) -> dict[str, Any]:
    """A document with its latest numbers per dataset instead of the whole history."""
    latest: dict[str, Any] = {}
    for entry in doc["EventNumberHistory"]:
        latest.update(entry["Datasets"])
    body = {k: v for k, v in doc.items() if k != "EventNumberHistory"}
    body["Datasets"] = {
        d: latest.get(d, {"Type": "NONE", "Events": 0, "Size": 0}) for d in doc["OutputDatasets"]
    }
    body["ServiceType"] = service.model.service_type(doc.get("PrepID"))
    return body


@router.get("/workflows/{name:path}")
def get_workflow(request: Request, name: str) -> dict[str, Any]:
    """One workflow: its document, and for each output dataset its numbers over time."""
    doc = service.get(request.app.state.db, name=name)
    series: dict[str, list[dict[str, Any]]] = {d: [] for d in doc["OutputDatasets"]}
    for entry in doc["EventNumberHistory"]:
        for dataset, numbers in entry["Datasets"].items():
            points = series.setdefault(dataset, [])
            if not points or {k: v for k, v in points[-1].items() if k != "Time"} != numbers:
                points.append({"Time": entry["Time"], **numbers})
    return summary(doc) | {"History": series}


@router.post("/workflows/{name:path}/update")
def update_workflow(request: Request, name: str, actor: Actor = WRITE) -> dict[str, Any]:
    """Re-read one workflow from ReqMgr2 and DBS now (permission `workflows:update`)."""
    with cmsweb_of(request) as sources:
        report = service.update_one(request.app.state.db, sources, name=name, actor=actor)
    return {
        "workflow": name,
        "changed": report.documents_changed > 0,
        "datasets_changed": report.datasets_changed,
        "deleted": report.deleted > 0,
        "error": report.failures.get(name),
    }
