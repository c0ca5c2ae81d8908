"""`runreg trends loop [--once]`: the trends worker on the periodic skeleton (lock, heartbeat, stop)."""

from __future__ import annotations

import typer

from runreg.cli.workers import run_periodic
from runreg.cliutil import database
from runreg.trends.cli import app


@app.command("loop")
def loop(
    interval: float = typer.Option(None, help="seconds between passes (default RUNREG_TRENDS_INTERVAL_S)"),
    jobs: int = typer.Option(None, help="worker processes (default RUNREG_TRENDS_JOBS)"),
    once: bool = typer.Option(False, help="one pass, then exit"),
) -> None:
    """Discover and extract new DQM files every interval until SIGTERM/SIGINT (one instance only)."""
    from runreg.settings import get_settings
    from runreg.telemetry.logs import configure_logging
    from runreg.worker.trends import trends_worker

    settings = get_settings()
    db = database()
    configure_logging()
    worker = trends_worker(
        db,
        interval_s=settings.trends_interval_s if interval is None else interval,
        jobs=settings.trends_jobs if jobs is None else jobs,
    )
    run_periodic(db, worker, once=once, beat_every_s=settings.worker_heartbeat_s)
