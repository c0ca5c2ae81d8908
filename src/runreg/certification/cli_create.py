"""`runreg json create`: run the JSON portal from the command line, with a progress bar."""

from __future__ import annotations

import json
import time
from pathlib import Path

import typer
from rich.progress import Progress

from runreg.certification import service
from runreg.certification.runners import InProcessRunner
from runreg.cliutil import cli_actor, database, err_console, reported_errors


def create(
    rule: Path = typer.Option(None, "--rule", help="JSON-logic file (or use --preset)"),
    preset: str = typer.Option(None, help="a configured preset, e.g. golden"),
    datasets: str = typer.Option(..., "--datasets", help="SQL SIMILAR TO pattern of dataset names"),
    policy: str = typer.Option(
        "refuse", help="two matching datasets in a run: refuse, union, intersection, first"
    ),
    output: Path = typer.Option(None, "-o", "--output", help="write the golden JSON here (default: stdout)"),
) -> None:
    """Compute a golden JSON here and now (the same job code the portal runs), showing its progress."""
    db = database()
    with reported_errors():
        rule_json = json.loads(rule.read_text()) if rule else None
        job_id = service.submit(
            db,
            InProcessRunner(db),
            actor=cli_actor(),
            rule=rule_json,
            preset=preset,
            dataset_pattern=datasets,
            policy=policy,
        )
        with Progress(console=err_console, transient=True) as bar:
            task = bar.add_task(f"JSON job {job_id}", total=1.0)
            while (job := service.get(db, job_id)).status in ("queued", "running"):
                bar.update(task, completed=job.progress)
                time.sleep(0.2)
    if job.status == "failed":
        err_console.print(f"[red]error:[/red] {job.error}")
        raise typer.Exit(1)
    result = job.result or {}
    text = json.dumps(result.get("json", {}), indent=None, separators=(", ", ": "))
    if output:
        output.write_text(text + "\n")
    else:
        typer.echo(text)
    lumi = result.get("luminosity", {}).get("recorded", {})
    err_console.print(
        f"job {job_id}: {len(result.get('json', {}))} runs, {result.get('datasets')} datasets; recorded "
        f"{lumi.get('in_json', 0):.2f}/{lumi.get('total', 0):.2f} /pb in the JSON",
        style="dim",
    )
