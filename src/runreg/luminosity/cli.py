"""`runreg lumi …`: import brilcalc per-LS luminosity, list imports, show a run's sources."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from runreg.cliutil import cli_actor, console, database, reported_errors
from runreg.kernel.errors import InvalidInput
from runreg.luminosity import service

app = typer.Typer(
    help="Per-LS luminosity: brilcalc imports and the sources of each run.", no_args_is_help=True
)


@app.command("import")
def import_file(
    file: Path = typer.Argument(..., help="brilcalc lumi --byls --output-style csv output (any -u unit)"),
    normtag: str = typer.Option(None, help="the normtag brilcalc used (default: the one its header names)"),
    comment: str = typer.Option("", help="why (recorded with the import)"),
) -> None:
    """Import a brilcalc CSV: every line is checked first; one bad line (named by number) and nothing is
    written. Its runs' golden JSONs then use brilcalc instead of OMS online and say so."""
    with reported_errors():
        try:
            text = file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise InvalidInput(
                "file", f"cannot read {file}: {getattr(exc, 'strerror', None) or exc}"
            ) from None
        report = service.import_brilcalc(
            database(), actor=cli_actor(), text=text, normtag=normtag, filename=file.name, comment=comment
        )
    tag = report.normtag or "no normtag"
    console.print(
        f"import {report.import_id}: {report.runs} runs, {report.lumisections} LS ({tag}); recorded "
        f"{report.recorded:.4f} /pb, delivered {report.delivered:.4f} /pb"
        + (f"; {report.outside_cms} LS outside CMS skipped" if report.outside_cms else "")
    )


@app.command("show")
def show(run: int = typer.Argument(..., help="run number")) -> None:
    """A run's luminosity sources, the one golden JSONs use first."""
    with reported_errors():
        rows = service.sources(database(), run_number=run)
    if not rows:
        console.print(f"run {run}: no luminosity recorded")
        raise typer.Exit(1)
    table = Table("source", "LS", "delivered /pb", "recorded /pb", title=f"run {run} (first row is used)")
    for row in rows:
        table.add_row(row["label"], str(row["ls"]), f"{row['delivered']:.4f}", f"{row['recorded']:.4f}")
    console.print(table)


@app.command("imports")
def imports(limit: int = typer.Option(20, help="how many, newest first")) -> None:
    """The brilcalc imports, newest first."""
    with reported_errors():
        rows = service.imports(database(), limit=limit)
    table = Table("id", "file", "normtag", "runs", "LS", "by", "at")
    for row in rows:
        table.add_row(
            str(row["id"]), str(row["filename"]), str(row["normtag"] or "—"), str(row["runs"]),
            str(row["lumisections"]), str(row["imported_by"]), f"{row['imported_at']:%Y-%m-%d %H:%M}",
        )  # fmt: skip
    console.print(table)
