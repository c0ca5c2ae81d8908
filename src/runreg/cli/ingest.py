"""`runreg ingest once | loop`: the ingestion worker on the periodic skeleton (lock, heartbeat, stop)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

import typer

from runreg.cliutil import database, err_console
from runreg.ingestion.cli import app, oms_client
from runreg.kernel.errors import RunregError

if TYPE_CHECKING:
    from runreg.storage.database import Database
    from runreg.worker.periodic import Periodic


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
    from runreg.worker.ingestion import ingestion_worker, policy_from

    settings = get_settings()
    db = database()
    run_worker(
        db,
        lambda: ingestion_worker(
            db,
            oms_client(),
            interval_s=settings.ingestion_interval_s if interval is None else interval,
            policy=policy_from(settings),
        ),
        once=once,
    )


def run_worker(db: Database, build: Callable[[], Periodic], *, once: bool) -> None:
    """A periodic worker from a command: JSON logs, exit 3 when another instance holds the lock, exit 1 when
    the one cycle of `once` failed."""
    from runreg.settings import get_settings
    from runreg.telemetry.logs import configure_logging
    from runreg.worker import periodic

    configure_logging()
    logging.getLogger("httpx").setLevel(logging.WARNING)  # a line per request: the clients' DEBUG lines
    try:
        ok = periodic.run(db, build(), once=once, beat_every_s=get_settings().worker_heartbeat_s)
    except RunregError as exc:  # another instance holds the lock
        err_console.print(f"[red]error:[/red] {exc.message}")
        raise typer.Exit(3) from None
    if not ok and once:
        raise typer.Exit(1)
