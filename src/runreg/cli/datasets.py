"""`runreg datasets ping-gui [--loop]`: the DQM GUI pinger on the periodic skeleton (lock, heartbeat)."""

from __future__ import annotations

import logging

import typer

from runreg.cli.workers import run_periodic
from runreg.cliutil import database

app = typer.Typer(help="Offline datasets: the DQM GUI pinger.", no_args_is_help=True)


@app.command("ping-gui")
def ping_gui(
    loop: bool = typer.Option(False, help="ping until SIGTERM/SIGINT (the pinger worker)"),
    interval: float = typer.Option(None, help="seconds between pings (default RUNREG_DQMGUI_INTERVAL_S)"),
) -> None:
    """Look for the waiting offline datasets in the DQM GUI (RUNREG_DQMGUI_*) and open those that appeared,
    as the pinger (an automatic actor); refused while a pinger worker runs. Exit 1 when the ping failed."""
    from runreg.integrations.dqmgui import DqmGuiClient
    from runreg.settings import get_settings
    from runreg.telemetry.logs import configure_logging
    from runreg.worker.dqmgui import pinger_worker

    configure_logging()
    logging.getLogger("httpx").setLevel(logging.WARNING)  # a line per request: the client's DEBUG lines
    settings = get_settings()
    db = database()
    with DqmGuiClient.from_settings(settings) as gui:
        every = settings.dqmgui_interval_s if interval is None else interval
        worker = pinger_worker(db, gui, interval_s=every)
        run_periodic(db, worker, once=not loop, beat_every_s=settings.worker_heartbeat_s)
