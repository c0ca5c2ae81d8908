"""`runreg workflows loop`: the workflow update worker on the periodic skeleton (lock, heartbeat, stop)."""

from __future__ import annotations

import logging

import typer

from runreg.cli.workers import run_periodic
from runreg.cliutil import database
from runreg.workflows.cli import app, callbacks_from_settings, sources_from_settings


@app.command("loop")
def loop(
    interval: float = typer.Option(None, help="seconds between updates (RUNREG_WORKFLOWS_INTERVAL_S)"),
    once: bool = typer.Option(False, "--once", help="one update as the worker (lock, heartbeat)"),
) -> None:
    """Update the workflow cache periodically until SIGTERM/SIGINT (one instance; a second one refuses)."""
    from runreg.settings import get_settings
    from runreg.telemetry.logs import configure_logging
    from runreg.worker.workflows import workflows_worker

    settings = get_settings()
    db = database()
    configure_logging()
    logging.getLogger("httpx").setLevel(logging.WARNING)
    triggers = list(settings.workflows_triggers)
    with sources_from_settings() as sources:
        worker = workflows_worker(
            db,
            sources,
            interval_s=settings.workflows_interval_s if interval is None else interval,
            triggers=triggers,
            callbacks=callbacks_from_settings(triggers),
        )
        run_periodic(db, worker, once=once, beat_every_s=settings.worker_heartbeat_s)
