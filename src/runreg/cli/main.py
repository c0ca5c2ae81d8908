"""Entry point of the `runreg` command."""

from __future__ import annotations

from typing import Any

import typer

from runreg.adoption.cli import app as import_app
from runreg.certification.cli import app as json_app
from runreg.cli import (
    ingest,  # noqa: F401  (adds `ingest once | loop` to the ingest commands)
    trends,  # noqa: F401  (adds `trends loop` to the trends commands)
    workflows,  # noqa: F401  (adds `workflows loop` to the workflows commands)
)
from runreg.cli.datasets import app as datasets_app
from runreg.cliutil import console, database
from runreg.configuration.cli import app as config_app
from runreg.datasets.dctools.cli import app as dctools_app
from runreg.ingestion.cli import app as ingest_app
from runreg.luminosity.cli import app as lumi_app
from runreg.registry.cli import changes_app, runs_app
from runreg.settings import Settings
from runreg.storage import migrate
from runreg.trends.cli import app as trends_app
from runreg.workflows.cli import app as workflows_app

app = typer.Typer(help="runreg: data-quality bookkeeping for CMS.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(config_app, name="config")
app.add_typer(runs_app, name="runs")
app.add_typer(changes_app, name="changes")
app.add_typer(ingest_app, name="ingest")
app.add_typer(json_app, name="json")
app.add_typer(datasets_app, name="datasets")
app.add_typer(lumi_app, name="lumi")
app.add_typer(workflows_app, name="workflows")
app.add_typer(trends_app, name="trends")
app.add_typer(dctools_app, name="dctools")
app.add_typer(import_app, name="import")


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Migrate the database to the newest schema and install the default configuration if it has none."""
    from runreg.configuration import service as configuration
    from runreg.kernel.actors import SYSTEM

    db = database(check_schema=False)
    migrate.upgrade(db)
    version = configuration.ensure_default(db, actor=SYSTEM)
    console.print(f"schema at {migrate.current_revision(db)}, configuration version {version}")


@db_app.command("status")
def db_status() -> None:
    """Show the schema revision of the database and the one this runreg needs."""
    db = database(check_schema=False)
    console.print(f"database: {migrate.current_revision(db) or 'empty'}   needed: {migrate.head_revision()}")


@app.command()
def serve(
    host: str = typer.Option(None, help="interface to listen on (default: setting RUNREG_HOST)"),
    port: int = typer.Option(None, help="port (default: setting RUNREG_PORT, 9500)"),
    demo: bool = typer.Option(False, help="also run the simulators, ingestion and workflow updates"),
    workers: int = typer.Option(1, help="server processes (production: about two per core; not with --demo)"),
) -> None:
    """Serve the HTTP API and pages (refuses to start on an unmigrated database)."""
    import logging

    import uvicorn

    from runreg.http.app import create_app
    from runreg.integrations.oms.client import OmsClient
    from runreg.settings import get_settings
    from runreg.telemetry.logs import configure_logging, logging_config

    configure_logging()
    settings = get_settings()
    settings = settings.model_copy(update={"host": host or settings.host, "port": port or settings.port})
    if settings.allowed_hosts is None and settings.host not in ("127.0.0.1", "localhost"):
        logging.getLogger("runreg.serve").warning(
            "RUNREG_ALLOWED_HOSTS is not set: only requests addressed to %s are answered",
            ", ".join(settings.trusted_hosts()),
        )
    db = database()
    # log_config is applied again in every worker process uvicorn spawns; uvicorn's access log is replaced
    # by runreg.http.access.
    common: dict[str, Any] = {
        "host": settings.host,
        "port": settings.port,
        "log_config": logging_config(),
        "access_log": False,
    }
    if workers > 1 and not demo:
        db.dispose()  # the parent only supervises
        _serve_workers(workers, settings, common)
        return
    if demo:
        from runreg.cli.demo import start_demo

        # The demo accepts the public client's local mode (`email: api@api`): never on outside the demo.
        settings = settings.model_copy(update={"dev_identity": True})
        oms, settings = start_demo(db, settings)
    else:
        oms = OmsClient.from_settings(settings)
    uvicorn.run(create_app(db, settings=settings, oms=oms), **common)


def _serve_workers(workers: int, settings: Settings, common: dict[str, Any]) -> None:
    """Each worker process builds its own app (and database pool) from the settings in its environment."""
    import os
    import shutil

    import uvicorn

    from runreg.telemetry import metrics

    os.environ.update(RUNREG_HOST=settings.host, RUNREG_PORT=str(settings.port))
    # The workers share one listening socket, and libuv (uvloop) accepts every pending connection at once:
    # clients that connect together (a load balancer's pool, 38 wrk connections) landed 35 on one worker and
    # 15 on the other, and the busier one made the latency tail. One accept per turn balances them (23/27).
    os.environ.setdefault("UV_TCP_SINGLE_ACCEPT", "1")
    chosen = os.environ.get(metrics.MULTIPROC_ENV)
    directory = metrics.prepare_multiprocess_dir(chosen)
    try:
        uvicorn.run(
            "runreg.http.app:app_from_settings",
            factory=True,
            workers=workers,
            # Also the supervisor's liveness timeout: its 5 s default killed workers still importing on a
            # loaded host, over and over, so the server never became ready.
            timeout_worker_healthcheck=settings.worker_startup_timeout_s,
            **common,
        )
    finally:
        if chosen is None:
            shutil.rmtree(directory, ignore_errors=True)


@app.command()
def worker(concurrency: int = typer.Option(1, help="jobs run at once by this worker")) -> None:
    """Run golden-JSON jobs from Redis (RUNREG_REDIS_URL); servers use RUNREG_JOBS_BACKEND=celery."""
    from runreg.certification import service as certification
    from runreg.certification.runners import CeleryRunner
    from runreg.worker.celery_app import celery_app

    db = database()  # refuse to start on an outdated schema, like the server
    certification.requeue_abandoned(db, CeleryRunner())  # jobs whose hand-off or worker died
    db.dispose()
    # --quiet: no banner on stdout; everything else is logged as JSON lines (worker/celery_app.py).
    celery_app.worker_main(["--quiet", "worker", "--loglevel", "info", "--concurrency", str(concurrency)])


if __name__ == "__main__":
    app()
