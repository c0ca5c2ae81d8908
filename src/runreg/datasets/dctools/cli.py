"""`runreg dctools …`: the DC expert tools from the command line (thin wrappers over the service). Every
tool previews unless `--yes`; an empty filter also needs `--all`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from runreg.cliutil import cli_actor, console, database, reported_errors
from runreg.datasets.dctools import export, service
from runreg.kernel.limits import parse_json

app = typer.Typer(
    help="DC expert tools: bulk repairs of the datasets a filter selects.", no_args_is_help=True
)
FILTER = typer.Option(
    "{}", "--filter", "-f", help='table filter language (JSON), e.g. \'{"name": "/A/B/DQM"}\''
)
YES = typer.Option(False, "--yes", help="do it (without: preview only)")
ALL = typer.Option(False, "--all", help="confirm acting on every offline dataset (empty filter)")
COMMENT = typer.Option("", "--comment", "-m", help="why (recorded in the change set)")


def _tool(tool: str, filter: str, yes: bool, confirm_all: bool, comment: str, **params: Any) -> None:
    with reported_errors():
        given = parse_json("filter", filter)
        db = database()
        if not yes:
            shown = service.preview(
                db,
                tool=tool,
                filter=given,
                confirm_all=confirm_all,
                **({**params, "comment": comment} if tool == "batch_update" else params),
            )
            console.print(
                f"{shown.summary}: {shown.selection.count} selected, {len(shown.changing)} would change"
            )
            for what, count in shown.noted.items():
                console.print(f"  {count} of them: {what}")
            for reason, count in shown.skipped.items():
                console.print(f"  left as they are: {count} ({reason})")
            if shown.needs_confirmation:
                console.print("[yellow]empty filter: every offline dataset; add --all to confirm[/]")
            console.print("preview only: add --yes to do it")
            return
        done = service.run_tool(
            db, actor=cli_actor(), tool=tool, filter=given, confirm_all=confirm_all, comment=comment, **params
        )
    console.print(f"{done.summary}: {len(done.changed)} changed, change set {done.change_set_id or '(none)'}")
    for what, count in done.noted.items():
        console.print(f"  {count} of them: {what}")
    if done.change_set_id:
        console.print(f"revert with: runreg changes revert {done.change_set_id}")


@app.command("names")
def names(filter: str = FILTER) -> None:
    """The distinct names of the datasets the filter selects."""
    with reported_errors():
        for name in service.unique_dataset_names(database(), filter=parse_json("filter", filter)):
            console.print(name)


@app.command("duplicate")
def duplicate(
    source: str,
    target: str,
    workspace: list[str] = typer.Option([], "--workspace", "-w"),
    filter: str = FILTER,
    yes: bool = YES,
    confirm_all: bool = ALL,
    comment: str = COMMENT,
) -> None:
    """Copy each selected SOURCE dataset into TARGET in its run (LS, OMS corrections, states of -w)."""
    _tool(
        "duplicate",
        filter,
        yes,
        confirm_all,
        comment,
        source_dataset_name=source,
        target_dataset_name=target,
        workspaces=workspace,
    )


@app.command("copy-columns")
def copy_columns(
    source: str,
    target: str,
    column: list[str] = typer.Option(..., "--column", "-c"),
    filter: str = FILTER,
    yes: bool = YES,
    confirm_all: bool = ALL,
    comment: str = COMMENT,
) -> None:
    """The LS statuses of the -c components of each selected SOURCE onto TARGET of the same run."""
    _tool(
        "copy_columns",
        filter,
        yes,
        confirm_all,
        comment,
        source_dataset_name=source,
        target_dataset_name=target,
        columns=column,
    )


@app.command("batch-update")
def batch_update(
    status: str,
    column: list[str] = typer.Option(..., "--column", "-c"),
    filter: str = FILTER,
    yes: bool = YES,
    confirm_all: bool = ALL,
    comment: str = COMMENT,
) -> None:
    """STATUS on every LS of the -c components of the selected datasets (a comment is mandatory)."""
    _tool("batch_update", filter, yes, confirm_all, comment, columns=column, new_status=status)


@app.command("states")
def states(
    to_state: str,
    workspace: str = typer.Option(None, "--workspace", "-w", help="none: all"),
    from_state: str = typer.Option(None, "--from"),
    filter: str = FILTER,
    yes: bool = YES,
    confirm_all: bool = ALL,
    comment: str = COMMENT,
) -> None:
    """Move the selected datasets to TO_STATE in one workspace (-w, optionally --from) or in all."""
    _tool(
        "change_states",
        filter,
        yes,
        confirm_all,
        comment,
        workspace=workspace,
        from_state=from_state,
        to_state=to_state,
    )


@app.command("hide")
def hide(
    reason: str = typer.Option(..., "--reason"),
    filter: str = FILTER,
    yes: bool = YES,
    confirm_all: bool = ALL,
    unhide: bool = typer.Option(False, "--unhide", help="show hidden ones again"),
) -> None:
    """Hide the selected datasets (with a reason), or show hidden ones again (--unhide)."""
    _tool("unhide" if unhide else "hide", filter, yes, confirm_all, reason, reason=reason)


@app.command("export")
def export_datasets(
    output: Path = typer.Option(..., "--output", "-o", help="file.csv or file.parquet"),
    column: list[str] = typer.Option([], "--column", "-c"),
    filter: str = FILTER,
) -> None:
    """The selected datasets with the -c component columns, as CSV or Parquet (by the file's suffix)."""
    with reported_errors():
        table = export.export_table(database(), filter=parse_json("filter", filter), columns=column)
        content, _, _ = export.render(table, "parquet" if output.suffix == ".parquet" else "csv")
    output.write_bytes(content)
    console.print(f"{len(table.rows)} datasets written to {output}")


@app.command("api-call")
def api_call(filter: str = FILTER) -> None:
    """The public runregistry client's call that reads the datasets the filter selects."""
    with reported_errors():
        print(export.api_call(parse_json("filter", filter)))
