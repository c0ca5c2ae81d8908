"""`runreg import rr --from postgresql://…/runregistry [--since N] [--dry-run]` and `import rr verify`."""

from __future__ import annotations

import typer

from runreg.adoption import service
from runreg.adoption.reader import OriginalDatabase
from runreg.cliutil import cli_actor, console, database, err_console, reported_errors

app = typer.Typer(help="Import from other registries.", no_args_is_help=True)
rr_app = typer.Typer(
    help="An original Run Registry (PostgreSQL): import its whole history, or verify runreg against it.",
    invoke_without_command=True,
)
app.add_typer(rr_app, name="rr")

FROM = typer.Option(..., "--from", help="postgresql://…/runregistry (read only)")


@rr_app.callback()
def import_rr(
    ctx: typer.Context,
    source: str = typer.Option(None, "--from", help="postgresql://…/runregistry (read only)"),
    since: int = typer.Option(None, help="treat the original's atomic versions up to this one as imported"),
    dry_run: bool = typer.Option(False, "--dry-run", help="read and replay, then roll back: write nothing"),
    batch: int = typer.Option(
        service.BATCH_SEGMENTS, min=1, max=10_000, help="change sets committed together (with the progress)"
    ),
) -> None:
    """Import every atomic version not imported yet, one change set each (resumes where it stopped)."""
    if ctx.invoked_subcommand is not None:
        return
    if not source:
        err_console.print("[red]error:[/red] --from: give the original database's postgresql:// URL")
        raise typer.Exit(2)
    db = database()
    with reported_errors(), OriginalDatabase(source) as original:

        def progress(report: service.ImportReport) -> None:
            err_console.print(
                f"… atomic version {report.last_atomic_version}: {report.change_sets} change sets, "
                f"{report.original_events} original events"
            )

        report = service.import_rr(
            db,
            actor=cli_actor(),
            source=original,
            since=since,
            dry_run=dry_run,
            on_batch=progress,
            batch_segments=batch,
        )
    verb = "would import" if dry_run else "imported"
    console.print(
        f"{verb} {report.configuration_versions} configuration versions, {report.golden_jsons} golden JSONs, "
        f"{report.cycles} cycles (brought up to date) and "
        f"{report.change_sets} change sets ({report.original_events} original events, "
        f"{report.runreg_events} runreg events) from {report.source}; up to atomic version "
        f"{report.last_atomic_version} (event {report.last_event_version}) in {report.seconds:.1f} s"
    )
    for note in report.notes:
        console.print(f"  note: {note}")


@rr_app.command("verify")
def verify(source: str = FROM) -> None:
    """Compare every run and dataset of the original with runreg's; exits 1 on any difference."""
    db = database()
    with reported_errors(), OriginalDatabase(source) as original:
        report = service.verify(db, source=original)
    for line in report.differences[: service.MAX_LISTED]:
        typer.echo(f"DIFFERENT {line}")
    if len(report.differences) > service.MAX_LISTED:
        console.print(f"… and {len(report.differences) - service.MAX_LISTED} more differences")
    console.print(
        f"verified {report.runs} runs, {report.datasets} datasets, {report.golden_jsons} golden JSONs and "
        f"the cycles of {report.source} in {report.seconds:.1f} s: {len(report.differences)} differences"
    )
    if not report.ok:
        raise typer.Exit(1)
