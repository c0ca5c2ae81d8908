"""Command-line access to runs and change sets: thin wrappers over registry.service."""

from __future__ import annotations

import json

import typer
from rich.table import Table

from runreg.cliutil import cli_actor, console, database, reported_errors
from runreg.registry import readmodels, service
from runreg.registry.model import ONLINE

runs_app = typer.Typer(help="Runs and their lumisections.", no_args_is_help=True)
changes_app = typer.Typer(help="The change log: list, inspect and revert change sets.", no_args_is_help=True)


@runs_app.command("show")
def show_run(
    run_number: int,
    as_of: int = typer.Option(None, "--as-of", help="state right after this change set"),
) -> None:
    """A run's attributes, as now or as of a change set."""
    with reported_errors():
        run = service.run_state(database(), run_number, as_of=as_of)
    console.print_json(json.dumps(service.describe_run(run), default=str))


@runs_app.command("ranges")
def show_ranges(
    run_number: int,
    dataset: str = typer.Option(ONLINE, help="dataset name"),
    as_of: int = typer.Option(None, "--as-of", help="state right after this change set"),
) -> None:
    """Current LS ranges of every component of a dataset."""
    with reported_errors():
        run = service.run_state(database(), run_number, as_of=as_of)
        ranges = service.component_ranges(run, dataset)
    table = Table("component", "LS", "status", "comment")
    for component, items in ranges.items():
        for item in items:
            table.add_row(component, f"{item['start']}-{item['end']}", item["status"], item["comment"])
    console.print(table)


@runs_app.command("datasets")
def show_datasets(
    run_number: int,
    as_of: int = typer.Option(None, "--as-of", help="state right after this change set"),
) -> None:
    """A run's datasets and their state in every workspace."""
    with reported_errors():
        run = service.run_state(database(), run_number, as_of=as_of)
    table = Table("dataset", "workspace states", "hidden")
    for name in readmodels.all_dataset_names(run):
        described = service.describe_dataset(run, name)
        states = ", ".join(f"{ws}: {state}" for ws, state in described["states"].items())
        table.add_row(name, states or "-", "yes" if described["hidden"] else "")
    console.print(table)


@runs_app.command("move-dataset")
def move_dataset(
    run_number: int,
    name: str = typer.Argument(..., help="offline dataset, e.g. /PromptReco/Collisions2024D/DQM"),
    workspace: str = typer.Argument(..., help="global or a subsystem workspace"),
    to_state: str = typer.Argument(..., help="OPEN, SIGNOFF or COMPLETED"),
    from_state: str = typer.Option(None, "--from", help="refuse unless this is the current state"),
    comment: str = typer.Option("", help="why"),
) -> None:
    """Move an offline dataset in one workspace (the rules of the web pages and the API)."""
    with reported_errors():
        result = service.move_dataset(
            database(),
            actor=cli_actor(),
            run_number=run_number,
            name=name,
            workspace=workspace,
            to_state=to_state,
            from_state=from_state,
            comment=comment,
        )
    console.print(f"change set {result.change_set_id}: {name} is {to_state} in {workspace}")


@runs_app.command("hide")
def hide(
    run_number: int,
    reason: str = typer.Option(..., "--reason", "-m", help="why the run is hidden (at least 3 characters)"),
) -> None:
    """Hide a run from the run listings (soft delete; registry:run:hide, experts by default)."""
    with reported_errors():
        result = service.hide_run(database(), actor=cli_actor(), run_number=run_number, reason=reason)
    console.print(
        f"change set {result.change_set_id}: run {run_number} is hidden "
        f"(undo: runreg runs unhide {run_number} -m …, or runreg changes revert {result.change_set_id})"
    )


@runs_app.command("unhide")
def unhide(
    run_number: int,
    reason: str = typer.Option(..., "--reason", "-m", help="why the run is shown again"),
) -> None:
    """Show a hidden run in the run listings again."""
    with reported_errors():
        result = service.show_run(database(), actor=cli_actor(), run_number=run_number, reason=reason)
    console.print(f"change set {result.change_set_id}: run {run_number} is shown again")


@runs_app.command("rebuild")
def rebuild(run_number: int) -> None:
    """Recompute a run's projections from its events alone."""
    with reported_errors():
        run = service.rebuild_projection(database(), actor=cli_actor(), run_number=run_number)
    console.print(f"run {run_number} rebuilt at version {run.version}")


@changes_app.command("log")
def log(
    run_number: int = typer.Option(None, "--run", help="only change sets touching this run"),
    limit: int = typer.Option(30, help="how many, newest first"),
) -> None:
    """The newest change sets: who, when, why."""
    table = Table("id", "when", "author", "kind", "comment", "reverts")
    for cs in service.history(database(), run_number=run_number, limit=limit):
        table.add_row(
            str(cs.id),
            cs.created_at.isoformat(timespec="seconds"),
            cs.author,
            cs.actor_kind,
            cs.comment,
            str(cs.reverts or ""),
        )
    console.print(table)


@changes_app.command("revert")
def revert(
    change_set_id: int,
    comment: str = typer.Option("", help="why"),
    force: bool = typer.Option(
        False,
        help="overwrite later changes to the same values, or change runs no longer OPEN (needs --comment)",
    ),
) -> None:
    """Append a change set restoring what CHANGE_SET_ID overwrote."""
    with reported_errors():
        result = service.revert_change_set(
            database(), actor=cli_actor(), change_set_id=change_set_id, force=force, comment=comment
        )
    console.print(
        f"change set {result.change_set_id} reverts {change_set_id}"
        if result.changed
        else "nothing to revert"
    )
