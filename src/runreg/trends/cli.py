"""`runreg trends`: extract DQM files into trends, recompute a config, check the config tree."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from runreg.cliutil import cli_actor, console, database, reported_errors
from runreg.kernel.errors import InvalidInput
from runreg.trends import service

app = typer.Typer(help="Historic DQM: per-run trends of DQM monitor elements.", no_args_is_help=True)


def parse_runs(text: str | None) -> tuple[int, int] | None:
    """'A-B' or 'A' -> an inclusive run range."""
    if not text:
        return None
    first, _, last = text.partition("-")
    try:
        bounds = (int(first), int(last or first))
    except ValueError:
        raise InvalidInput("runs", f"{text!r} is not a run or a range A-B") from None
    if bounds[0] > bounds[1]:
        raise InvalidInput("runs", f"{text!r}: the first run is after the last")
    return bounds


@app.command("extract")
def extract(
    runs: str = typer.Option(None, help="only files of these runs: A-B or A"),
    configs: str = typer.Option(None, help="only these configs (comma-separated Subsystem/name or name)"),
    files: list[Path] = typer.Option(
        None, "--files", help="exactly these DQM files (reprocessed whatever their state)"
    ),
    jobs: int = typer.Option(2, help="worker processes"),
    dry_run: bool = typer.Option(False, help="list the files that would be processed, change nothing"),
    root: Path = typer.Option(None, help="file tree (default: setting RUNREG_TRENDS_FILES_ROOT)"),
) -> None:
    """Discover new DQM files and compute every configured trend from them (one transaction per file)."""
    from runreg.settings import get_settings

    with reported_errors():
        tree = service.config_tree()
        for problem in tree.problems:
            console.print(f"[yellow]config {problem.severity}:[/yellow] {problem}")
        bar = Progress(
            TextColumn("extracting"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=console,
        )
        task = bar.add_task("files", total=None)
        with bar:
            report = service.extract(
                database(),
                actor=cli_actor(),
                tree=tree,
                root=root or Path(get_settings().trends_files_root),
                runs=parse_runs(runs),
                config_keys=[c.strip() for c in configs.split(",") if c.strip()] if configs else None,
                files=[str(f) for f in files] if files else None,
                jobs=jobs,
                dry_run=dry_run,
                progress=lambda done, total, _path: bar.update(task, completed=done, total=total),
            )
    if dry_run:
        for path in report.planned:
            console.print(path)
        console.print(f"{len(report.planned)} files would be processed")
        return
    if report.discovery is not None:
        console.print(
            f"discovered {report.discovery.new_files} new files "
            f"({report.discovery.directories_listed} directories listed)"
        )
    if report.recomputed:
        console.print(f"recomputed changed configs: {', '.join(report.recomputed)}")
    console.print(
        f"{report.done} files done, {len(report.failed)} failed; "
        f"{report.points} points, {report.rejections} without a value"
    )
    for path, reason in report.failed.items():
        console.print(f"[red]failed[/red] {path}: {reason.splitlines()[0]}")


@app.command("recompute")
def recompute(
    config: str = typer.Option(..., "--config", help="Subsystem/name, or the name when it is unique"),
    runs: str = typer.Option(None, help="only these runs: A-B or A"),
) -> None:
    """Recompute one config's trends from the stored histograms (no ROOT file is read)."""
    with reported_errors():
        report = service.recompute(
            database(),
            actor=cli_actor(),
            tree=service.config_tree(),
            config_name=config,
            runs=parse_runs(runs),
        )
    console.print(
        f"{report.config}: {report.trends} trends, {report.runs} runs, "
        f"{report.points} points, {report.rejections} without a value"
    )


@app.command("check-config")
def check_config(
    directory: Path = typer.Argument(None, help="config tree (default: the configured one)"),
) -> None:
    """Read a config tree and list its problems (exit 1 if any section is unusable)."""
    tree = service.config_tree(directory)
    for problem in tree.problems:
        console.print(f"{problem.severity}: {problem}")
    console.print(f"{len(tree.configs)} trends, {len(tree.groups)} groups, {len(tree.problems)} problems")
    if any(p.severity == "error" for p in tree.problems):
        raise typer.Exit(1)
