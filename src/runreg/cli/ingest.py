"""`runreg ingest once | loop`: the ingestion worker on the periodic skeleton (lock, heartbeat, stop)."""

from __future__ import annotations

import logging

import typer

from runreg.cliutil import database, err_console
from runreg.ingestion.cli import app, oms_client
from runreg.kernel.errors import RunregError


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
    from runreg.worker import periodic
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
    try:
        ok = periodic.run(db, worker, once=once, beat_every_s=settings.worker_heartbeat_s)
    except RunregError as exc:  # another instance holds the lock
        err_console.print(f"[red]error:[/red] {exc.message}")
        raise typer.Exit(3) from None
    if not ok and once:
        raise typer.Exit(1)
