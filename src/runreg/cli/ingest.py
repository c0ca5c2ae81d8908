"""`runreg ingest once | loop`: the ingestion worker on the periodic skeleton (lock, heartbeat, stop)."""

from __future__ import annotations

import logging

import typer

from runreg.cli.workers import run_periodic
from runreg.cliutil import database
from runreg.ingestion.cli import app, oms_client


@app.command("once")
def once() -> None:
    """Run one ingestion cycle now (refused while an ingestion worker runs)."""
    _run(once=True, interval=0.0)


@app.command("loop")
def loop(
    interval: float = typer.Option(None, help="seconds between cycles (default RUNREG_INGESTION_INTERVAL_S)"),
) -> None:
    """Poll OMS until SIGTERM/SIGINT (the ingestion worker; a second one refuses to start)."""
    _run(once=False, interval=interval)


def _run(*, once: bool, interval: float | None) -> None:
    from runreg.settings import get_settings
    from runreg.telemetry.logs import configure_logging
    from runreg.worker.ingestion import ingestion_worker, policy_from

    settings = get_settings()
    db = database()
    configure_logging()
    logging.getLogger("httpx").setLevel(logging.WARNING)  # a line per OMS request: the client's DEBUG lines
    worker = ingestion_worker(
        db,
        oms_client(),
        interval_s=settings.ingestion_interval_s if interval is None else interval,
        policy=policy_from(settings),
    )
    run_periodic(db, worker, once=once, beat_every_s=settings.worker_heartbeat_s)
