"""Build the FastAPI application and map domain errors to HTTP responses."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from runreg import __version__
from runreg.kernel.errors import (
    Conflict,
    InvalidInput,
    InvalidState,
    NotFound,
    PermissionDenied,
    RunregError,
)
from runreg.registry.api import router as registry_router
from runreg.registry.pages import router as registry_pages
from runreg.storage.database import Database

STATUS_OF = [
    (NotFound, 404),
    (InvalidInput, 400),
    (InvalidState, 409),
    (Conflict, 409),
    (PermissionDenied, 403),
]


def create_app(db: Database) -> FastAPI:
    app = FastAPI(title="runreg", version=__version__, description="CMS data-quality bookkeeping.")
    app.state.db = db

    @app.exception_handler(RunregError)
    async def domain_error(_request: Request, exc: RunregError) -> JSONResponse:
        status = next((code for kind, code in STATUS_OF if isinstance(exc, kind)), 500)
        body = {"error": {"code": exc.code, "message": exc.message, "details": exc.details}}
        return JSONResponse(body, status_code=status)

    @app.get("/healthz", tags=["operations"])
    def healthz() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    app.include_router(registry_router, prefix="/api/v1")
    app.include_router(registry_pages)
    return app
