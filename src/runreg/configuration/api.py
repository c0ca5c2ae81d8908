"""/api/v1 routes of the versioned configuration and its workspaces (thin handlers)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, Field

from runreg.access.api import authenticated_actor
from runreg.configuration import service
from runreg.configuration.model import to_document
from runreg.kernel.actors import Actor
from runreg.kernel.limits import MAX_YAML_BYTES, Comment, Id

router = APIRouter(tags=["configuration"])
WRITE = Depends(authenticated_actor)


class ConfigImport(BaseModel):
    yaml: str = Field(
        max_length=MAX_YAML_BYTES, description="a whole configuration, as `runreg config export` writes it"
    )
    comment: Comment = Field(min_length=1)
    expected_version: Id | None = Field(None, description="refuse (409) unless this is still the current one")


class RestoreBody(BaseModel):
    comment: Comment = ""


def _version(v: service.ConfigVersion) -> dict[str, Any]:
    return {
        "version": v.id,
        "created_at": v.created_at.isoformat(),
        "author": v.author,
        "comment": v.comment,
        "restored_from": v.restored_from,
    }


@router.get("/configuration")
def current(request: Request, format: str = Query("json", pattern="^(json|yaml)$")) -> Any:
    """The current configuration, as JSON or as the YAML file `runreg config import` reads."""
    db = request.app.state.db
    if format == "yaml":
        return PlainTextResponse(service.export_yaml(db), media_type="application/yaml")
    return to_document(service.show(db))


@router.post("/configuration")
def import_configuration(request: Request, body: ConfigImport, actor: Actor = WRITE) -> dict[str, int]:
    """Validate a whole configuration and make it the new current version."""
    version = service.import_yaml(
        request.app.state.db,
        actor=actor,
        text=body.yaml,
        comment=body.comment,
        expected_version=body.expected_version,
    )
    return {"version": version}


@router.get("/configuration/versions")
def versions(request: Request, limit: int = Query(100, ge=1, le=1000)) -> list[dict[str, Any]]:
    return [_version(v) for v in service.history(request.app.state.db, limit=limit)]


@router.get("/configuration/versions/{version}")
def show_version(request: Request, version: Id) -> dict[str, Any]:
    return to_document(service.show(request.app.state.db, version=version))


@router.post("/configuration/versions/{version}/restore")
def restore(
    request: Request,
    version: Id,
    body: RestoreBody | None = None,
    actor: Actor = WRITE,
) -> dict[str, int]:
    """Make a past version current again, as a new version (the body is optional)."""
    comment = body.comment if body else ""
    return {"version": service.restore(request.app.state.db, actor=actor, version=version, comment=comment)}


@router.get("/workspaces")
def workspaces(
    request: Request, mode: str | None = Query(None, pattern="^(online|offline)$")
) -> list[dict[str, Any]]:
    """Workspaces and their columns (components are `<workspace>-<column>`)."""
    config = service.show(request.app.state.db)
    return [w.model_dump() for w in config.workspaces if mode is None or w.mode == mode]
