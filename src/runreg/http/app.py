"""Build the FastAPI application: mount each domain's routes and map domain errors to HTTP responses."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from runreg import __version__
from runreg.certification.api import router as certification_router
from runreg.certification.legacy_api import router as certification_legacy
from runreg.certification.runners import CeleryRunner, InProcessRunner
from runreg.configuration import service as configuration
from runreg.configuration.api import router as configuration_router
from runreg.http.logs import RequestIdMiddleware
from runreg.ingestion.api import router as ingestion_router
from runreg.ingestion.legacy_api import router as ingestion_legacy
from runreg.kernel.errors import (
    Conflict,
    InvalidInput,
    InvalidState,
    NotFound,
    PermissionDenied,
    RunregError,
    Unauthenticated,
)
from runreg.registry.api import router as registry_router
from runreg.registry.legacy_api import router as registry_legacy
from runreg.registry.pages import router as registry_pages
from runreg.settings import Settings, get_settings
from runreg.storage.database import Database
from runreg.trends.api import router as trends_router
from runreg.trends.legacy_api import router as trends_legacy

API_PREFIX = "/api/v1"
STATUS_OF = [
    (Unauthenticated, 401),
    (PermissionDenied, 403),
    (NotFound, 404),
    (InvalidInput, 400),
    (InvalidState, 409),
    (Conflict, 409),
]


def create_app(db: Database, *, settings: Settings | None = None, oms: Any = None) -> FastAPI:
    """`oms` is the OMS adapter used by refresh routes (an `OmsSource`); None disables them."""
    app = FastAPI(
        title="runreg",
        version=__version__,
        description="CMS data-quality bookkeeping: runs, lumisections, certification, golden JSON.",
    )
    app.state.db = db
    app.state.settings = settings or get_settings()
    app.state.oms = oms
    app.state.permissions = lambda: configuration.current_configuration(db).permissions
    app.state.jobs = _job_runner(db, app.state.settings)
    app.add_middleware(RequestIdMiddleware)

    @app.exception_handler(RunregError)
    async def domain_error(request: Request, exc: RunregError) -> JSONResponse:
        return error_response(request, exc)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {"loc": ("body",), "msg": "invalid request"}
        field = ".".join(str(part) for part in first["loc"] if part not in ("body", "query", "path"))
        return error_response(request, InvalidInput(field or "request", first["msg"]))

    @app.get("/healthz", tags=["operations"])
    def healthz() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    app.include_router(registry_router, prefix=API_PREFIX)
    app.include_router(ingestion_router, prefix=API_PREFIX)
    app.include_router(configuration_router, prefix=API_PREFIX)
    app.include_router(certification_router, prefix=API_PREFIX)
    app.include_router(trends_router, prefix=API_PREFIX)
    app.include_router(registry_pages)
    _include_legacy(app)
    return app


def _job_runner(db: Database, settings: Settings) -> Any:
    if settings.jobs_backend == "celery":
        from runreg.worker.celery_app import celery_app  # noqa: F401 — configures the broker for .delay()

        return CeleryRunner()
    return InProcessRunner(db)


def app_from_settings() -> FastAPI:
    """Factory for `uvicorn runreg.http.app:app_from_settings --factory --workers N` (one app per worker)."""
    from runreg.integrations.oms.client import OmsClient
    from runreg.storage import migrate

    settings = get_settings()
    db = Database(settings.database_url)
    migrate.require_current(db)
    return create_app(db, settings=settings, oms=OmsClient.from_settings(settings))


def _include_legacy(app: FastAPI) -> None:
    app.include_router(registry_legacy)
    app.include_router(ingestion_legacy)
    app.include_router(certification_legacy)
    app.include_router(trends_legacy)


def error_response(request: Request, exc: RunregError) -> JSONResponse:
    """/api/v1 answers `{"error": {code, message, details}}`; the legacy face answers as the original did
    (500 `{"err"}`; 401/403 `{"message"}`), because the public client parses exactly that."""
    status = next((code for kind, code in STATUS_OF if isinstance(exc, kind)), 500)
    if request.url.path.startswith(API_PREFIX):
        return JSONResponse(
            {"error": {"code": exc.code, "message": exc.message, "details": exc.details}}, status_code=status
        )
    if status in (401, 403):
        return JSONResponse({"message": exc.message}, status_code=status)
    return JSONResponse({"err": exc.message}, status_code=400 if status == 400 else 500)
