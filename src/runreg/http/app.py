"""Build the FastAPI application: mount each domain's routes and map domain errors to HTTP responses."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from runreg import __version__, web
from runreg.certification import service as certification
from runreg.certification.api import router as certification_router
from runreg.certification.legacy_api import router as certification_legacy
from runreg.certification.runners import CeleryRunner, InProcessRunner
from runreg.configuration.api import router as configuration_router
from runreg.datasets.api import router as datasets_router
from runreg.datasets.dctools.api import router as dctools_router
from runreg.datasets.dctools.legacy_api import router as dctools_legacy
from runreg.datasets.legacy_api import router as datasets_legacy
from runreg.http import operations
from runreg.http.bounded import BoundedInputMiddleware
from runreg.http.logs import RequestIdMiddleware
from runreg.http.routing import gate_included_routers
from runreg.ingestion.api import router as ingestion_router
from runreg.ingestion.legacy_api import router as ingestion_legacy
from runreg.kernel.errors import InvalidInput, RunregError, http_status
from runreg.luminosity import service as luminosity
from runreg.luminosity.api import router as luminosity_router
from runreg.predictions.api import router as predictions_router
from runreg.registry.api import router as registry_router
from runreg.registry.legacy_api import router as registry_legacy
from runreg.settings import Settings, get_settings
from runreg.storage.database import Database
from runreg.trends.api import router as trends_router
from runreg.trends.legacy_api import router as trends_legacy
from runreg.workflows.api import router as workflows_router
from runreg.workflows.legacy_api import router as workflows_legacy

API_PREFIX = "/api/v1"


def create_app(db: Database, *, settings: Settings | None = None, oms: Any = None) -> FastAPI:
    """`oms` is the OMS adapter used by refresh routes (an `OmsSource`); None disables them."""
    app = FastAPI(
        lifespan=_start_up,
        title="runreg",
        version=__version__,
        description="CMS data-quality bookkeeping: runs, lumisections, certification, golden JSON.",
        docs_url=None,  # served from local assets by runreg.http.operations
        redoc_url=None,
    )
    app.state.db = db
    app.state.settings = settings or get_settings()
    app.state.oms = oms
    app.state.jobs = _job_runner(db, app.state.settings)
    app.state.oms_ls_luminosity = lambda run_number: luminosity.oms_per_ls(db, run_number)
    app.add_middleware(
        BoundedInputMiddleware, max_body_bytes=app.state.settings.max_body_bytes, render=error_response
    )
    app.add_middleware(RequestIdMiddleware)  # outermost: refused requests are logged with their id too
    operations.install(app)

    @app.exception_handler(RunregError)
    async def domain_error(request: Request, exc: RunregError) -> JSONResponse:
        return error_response(request, exc)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {"loc": ("body",), "msg": "invalid request"}
        field = ".".join(str(part) for part in first["loc"] if part not in ("body", "query", "path"))
        return error_response(request, InvalidInput(field or "request", first["msg"]))

    app.include_router(registry_router, prefix=API_PREFIX)
    app.include_router(ingestion_router, prefix=API_PREFIX)
    app.include_router(configuration_router, prefix=API_PREFIX)
    app.include_router(certification_router, prefix=API_PREFIX)
    app.include_router(luminosity_router, prefix=API_PREFIX)
    app.include_router(workflows_router, prefix=API_PREFIX)
    app.include_router(trends_router, prefix=API_PREFIX)
    app.include_router(datasets_router, prefix=API_PREFIX)
    app.include_router(dctools_router, prefix=API_PREFIX)
    app.include_router(predictions_router, prefix=API_PREFIX)
    for pages in web.ROUTERS:
        app.include_router(pages)
    _include_legacy(app)
    gate_included_routers(app)
    return app


@asynccontextmanager
async def _start_up(app: FastAPI) -> AsyncIterator[None]:
    """At start-up, jobs a previous server left queued or running are handed to this one's runner; then the
    objects alive now (modules, configuration, templates) leave the garbage collector's generations: scanning
    them again and again in every collection was most of the pages' latency tail (docs/PERFORMANCE.md)."""
    certification.requeue_abandoned(app.state.db, app.state.jobs)
    gc.collect()
    gc.freeze()
    yield


def _job_runner(db: Database, settings: Settings) -> Any:
    if settings.jobs_backend == "celery":
        from runreg.worker.celery_app import celery_app  # noqa: F401 — configures the broker for .delay()

        return CeleryRunner()
    return InProcessRunner(db)


def app_from_settings() -> FastAPI:
    """Factory for `uvicorn runreg.http.app:app_from_settings --factory --workers N` (one app per worker).

    A worker that cannot build its app (database unreachable, schema outdated) exits with uvicorn's
    start-up failure code: the supervisor then stops instead of restarting workers that fail forever."""
    import logging
    import sys

    from uvicorn.config import STARTUP_FAILURE

    from runreg.integrations.oms.client import OmsClient
    from runreg.storage import migrate

    settings = get_settings()
    try:
        db = Database(settings.database_url)
        migrate.require_current(db)
        return create_app(db, settings=settings, oms=OmsClient.from_settings(settings))
    except Exception:
        logging.getLogger(__name__).exception("this server process cannot start")
        sys.exit(STARTUP_FAILURE)


def _include_legacy(app: FastAPI) -> None:
    app.include_router(registry_legacy)
    app.include_router(ingestion_legacy)
    app.include_router(certification_legacy)
    app.include_router(workflows_legacy)
    app.include_router(trends_legacy)
    app.include_router(datasets_legacy)
    app.include_router(dctools_legacy)


def error_response(request: Request, exc: RunregError) -> JSONResponse:
    """/api/v1 answers `{"error": {code, message, details}}`; the legacy face answers as the original did
    (500 `{"err"}`; 401/403 `{"message"}`), because the public client parses exactly that."""
    status = http_status(exc)
    if request.url.path.startswith(API_PREFIX):
        return JSONResponse(
            {"error": {"code": exc.code, "message": exc.message, "details": exc.details}}, status_code=status
        )
    if status in (401, 403):
        return JSONResponse({"message": exc.message}, status_code=status)
    return JSONResponse({"err": exc.message}, status_code=status if status in (400, 413) else 500)
