"""Command-line access to the versioned configuration: thin wrappers over configuration.service."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from runreg.cliutil import cli_actor, console, database, reported_errors
from runreg.configuration import service

app = typer.Typer(help="Versioned configuration: history, export, import, restore.", no_args_is_help=True)


@app.command("history")
def history(limit: int = typer.Option(30, help="how many, newest first")) -> None:
    """Every configuration version, newest first."""
    table = Table("version", "when", "author", "comment", "restored from")
    for v in service.history(database(), limit=limit):
        table.add_row(
            str(v.id),
            v.created_at.isoformat(timespec="seconds"),
            v.author,
            v.comment,
            str(v.restored_from or ""),
        )
    console.print(table)


@app.command("export")
def export(
    version: int = typer.Option(None, help="a past version (default: current)"),
    output: Path = typer.Option(None, "-o", "--output", help="file to write (default: stdout)"),
) -> None:
    """The whole configuration as YAML, to review like code."""
    with reported_errors():
        text = service.export_yaml(database(), version=version)
    if output:
        output.write_text(text)
    else:
        typer.echo(text, nl=False)


@app.command("import")
def import_(
    path: Path,
    comment: str = typer.Option(..., help="why this configuration changes"),
    expected_version: int = typer.Option(None, help="refuse if the current version is not this one"),
) -> None:
    """Validate a YAML file and make it the new current version."""
    with reported_errors():
        version = service.import_yaml(
            database(),
            actor=cli_actor(),
            text=path.read_text(),
            comment=comment,
            expected_version=expected_version,
        )
    console.print(f"configuration version {version}")


@app.command("restore")
def restore(
    version: int,
    comment: str = typer.Option("", help="why"),
) -> None:
    """Make a past version current again (as a new version)."""
    with reported_errors():
        new = service.restore(database(), actor=cli_actor(), version=version, comment=comment)
    console.print(f"configuration version {new} restores version {version}")
