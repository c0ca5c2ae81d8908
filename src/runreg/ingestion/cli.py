"""Command-line access to OMS ingestion: one cycle, a polling loop, refresh, reset, mark significant."""

from __future__ import annotations

import logging
import time

import typer

from runreg.cliutil import cli_actor, console, database, reported_errors
from runreg.ingestion import service

app = typer.Typer(help="Runs from OMS: poll, refresh, reset, mark significant.", no_args_is_help=True)


def oms_client():  # noqa: ANN201 — the concrete adapter, built from settings
    from runreg.integrations.oms.client import OmsClient
    from runreg.settings import get_settings

    return OmsClient.from_settings(get_settings())


@app.command("once")
def once() -> None:
    """Run one ingestion cycle now."""
    with reported_errors():
        report = service.run_cycle(database(), oms_client())
    console.print(
        f"{report.seen} runs seen: {report.outcomes or 'nothing new'}; failed: {report.failed or 'none'}"
    )


@app.command("loop")
def loop(interval: float = typer.Option(120.0, help="seconds between cycles")) -> None:
    """Poll OMS forever (the ingestion worker)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    run_forever(database(), oms_client(), interval)


def run_forever(db, oms, interval: float, stop=None) -> None:  # noqa: ANN001
    """Cycle every `interval` seconds until `stop` (a threading.Event) is set; a failed cycle is logged."""
    log = logging.getLogger("runreg.ingestion")
    while stop is None or not stop.is_set():
        started = time.monotonic()
        try:
            service.run_cycle(db, oms)
        except Exception:  # noqa: BLE001 — OMS down: log and try again next cycle
            log.exception("ingestion cycle failed")
        remaining = interval - (time.monotonic() - started)
        if stop is not None:
            stop.wait(max(remaining, 0))
        else:
            time.sleep(max(remaining, 0))


@app.command("refresh")
def refresh(
    run_number: int,
    reset: bool = typer.Option(False, help="recompute class and significance from a blank base"),
) -> None:
    """Re-read an OPEN run from OMS now (manual decisions are kept)."""
    with reported_errors():
        outcome = service.refresh_run(
            database(), oms_client(), actor=cli_actor(), run_number=run_number, reset=reset
        )
    console.print(f"run {run_number}: {outcome.kind} {outcome.reason}")


@app.command("mark-significant")
def mark_significant(run_number: int) -> None:
    """Declare a run significant and compute its LS statuses."""
    with reported_errors():
        outcome = service.mark_significant(database(), oms_client(), actor=cli_actor(), run_number=run_number)
    console.print(f"run {run_number}: {outcome.kind}")
