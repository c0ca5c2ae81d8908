"""Around the API, for operators and browsers: probes, metrics, local API docs, static files, host check."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, Response
from prometheus_client.core import GaugeMetricFamily
from sqlalchemy.exc import SQLAlchemyError
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

from runreg import __version__
from runreg.certification import service as certification
from runreg.http.metrics import MetricsMiddleware
from runreg.settings import Settings
from runreg.storage import migrate
from runreg.storage.database import Database
from runreg.telemetry import metrics

log = logging.getLogger(__name__)
STATIC = Path(__file__).parent / "static"
# Filled by `make install` (assets/vendor.mjs copies them from the npm packages of assets/package.json).
VENDOR = {
    "swagger_js": "vendor/swagger-ui-dist/swagger-ui-bundle.js",
    "swagger_css": "vendor/swagger-ui-dist/swagger-ui.css",
    "favicon": "vendor/swagger-ui-dist/favicon-32x32.png",
    "redoc_js": "vendor/redoc/bundles/redoc.standalone.js",
}
# Probes and scrapers address a replica by its IP, not by the service's name.
HOST_CHECK_EXEMPT = frozenset({"/healthz", "/readyz", "/metrics"})

router = APIRouter(tags=["operations"])


def install(app: FastAPI) -> None:
    """Mount everything of this module on the app (the app is created with docs_url=None, redoc_url=None)."""
    missing = [path for path in VENDOR.values() if not (STATIC / path).is_file()]
    if missing:
        log.warning("API docs assets missing (run `make install`): %s", ", ".join(missing))
    app.state.schema_head = migrate.head_revision()
    app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC, check_dir=False), name="static")
    app.add_middleware(MetricsMiddleware)
    app.add_middleware(TrustedHosts, allowed_hosts=app.state.settings.trusted_hosts())


class TrustedHosts:
    """Starlette's TrustedHostMiddleware (400 for any other Host header, which defeats DNS rebinding),
    except on the probe and metrics paths."""

    def __init__(self, app: ASGIApp, allowed_hosts: list[str]) -> None:
        self.app = app
        self.checked = TrustedHostMiddleware(app, allowed_hosts=allowed_hosts, www_redirect=False)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] in HOST_CHECK_EXEMPT:
            await self.app(scope, receive, send)
            return
        await self.checked(scope, receive, send)


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """Alive: the process answers. Touches nothing else, so a database outage does not restart replicas."""
    return {"status": "ok", "version": __version__}


@router.get("/readyz")
def readyz(request: Request) -> JSONResponse:
    """Ready for traffic: 200 when every check passes, else 503 naming the failing checks."""
    checks = readiness(request.app.state.db, request.app.state.settings, request.app.state.schema_head)
    failing = [name for name, result in checks.items() if result != "ok"]
    body: dict[str, Any] = {"status": "unready" if failing else "ready", "checks": checks}
    if failing:
        body["failing"] = failing
    return JSONResponse(body, status_code=503 if failing else 200)


def readiness(db: Database, settings: Settings, schema_head: str | None) -> dict[str, str]:
    """Each check's result: "ok" or what is wrong."""
    checks: dict[str, str] = {}
    try:
        revision = migrate.current_revision(db)
    except SQLAlchemyError as exc:
        checks["database"] = f"unreachable: {type(getattr(exc, 'orig', None) or exc).__name__}"
        checks["schema"] = "not checked: the database is unreachable"
    else:
        checks["database"] = "ok"
        checks["schema"] = (
            "ok"
            if revision == schema_head
            else f"the database is at revision {revision or 'none'}, this runreg needs {schema_head}"
        )
    if settings.jobs_backend == "celery":
        checks["broker"] = _broker(settings.redis_url)
    return checks


def _broker(url: str) -> str:
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        return f"unreachable: {type(exc).__name__}"
    finally:
        client.close()
    return "ok"


@router.get("/metrics")
def prometheus_metrics(request: Request) -> Response:
    content, content_type = metrics.exposition([_JobsByStatus(request.app.state.db)])
    return Response(content, media_type=content_type)


class _JobsByStatus:
    """Golden-JSON jobs per status, read from the database at scrape time: true whichever process (server
    thread or Celery worker) runs them."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def collect(self) -> Any:
        family = GaugeMetricFamily(
            "runreg_json_jobs_by_status", "Golden-JSON jobs per status.", labels=["status"]
        )
        counts = certification.count_by_status(self.db)
        for status in ("queued", "running", "done", "failed"):
            family.add_metric([status], counts.get(status, 0))
        yield family


def _static(request: Request, name: str) -> str:
    return f"{request.scope.get('root_path', '')}/static/{VENDOR[name]}"


@router.get("/docs", include_in_schema=False)
def swagger_ui(request: Request) -> HTMLResponse:
    return get_swagger_ui_html(
        openapi_url=f"{request.scope.get('root_path', '')}{request.app.openapi_url}",
        title=f"{request.app.title} — API",
        swagger_js_url=_static(request, "swagger_js"),
        swagger_css_url=_static(request, "swagger_css"),
        swagger_favicon_url=_static(request, "favicon"),
        oauth2_redirect_url=None,
    )


@router.get("/redoc", include_in_schema=False)
def redoc(request: Request) -> HTMLResponse:
    return get_redoc_html(
        openapi_url=f"{request.scope.get('root_path', '')}{request.app.openapi_url}",
        title=f"{request.app.title} — API reference",
        redoc_js_url=_static(request, "redoc_js"),
        redoc_favicon_url=_static(request, "favicon"),
        with_google_fonts=False,
    )
