"""Command-line access to OMS ingestion: refresh, reset, mark significant (the worker: runreg.cli.ingest)."""

from __future__ import annotations

import typer

from runreg.cliutil import cli_actor, console, database, reported_errors
from runreg.ingestion import service

app = typer.Typer(help="Runs from OMS: poll, refresh, reset, mark significant.", no_args_is_help=True)


def oms_client():  # noqa: ANN201 — the concrete adapter, built from settings
    from runreg.integrations.oms.client import OmsClient
    from runreg.settings import get_settings

    return OmsClient.from_settings(get_settings())


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
