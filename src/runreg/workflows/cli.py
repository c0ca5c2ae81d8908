"""`runreg workflows`: the incremental update (with a progress bar) or one workflow's; a stored document."""

from __future__ import annotations

import orjson
import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from runreg.cliutil import cli_actor, console, database, reported_errors
from runreg.workflows import service

app = typer.Typer(help="Production workflows (Stats2): update from ReqMgr2/DBS, show.", no_args_is_help=True)


def sources_from_settings():  # noqa: ANN201 — the concrete cmsweb adapters
    from runreg.integrations.cmsweb import from_settings
    from runreg.settings import get_settings

    return from_settings(get_settings())


def callbacks_from_settings(triggers: list[str]):  # noqa: ANN201
    if not triggers:
        return None
    from runreg.integrations.pdmv import PdmvCallbacks
    from runreg.settings import get_settings

    return PdmvCallbacks.from_settings(get_settings())


@app.command("update")
def update(
    name: str = typer.Option(None, "--name", help="update only this workflow"),
    trigger_prod: bool = typer.Option(False, "--trigger-prod", help="call back the production PdmV services"),
    trigger_dev: bool = typer.Option(False, "--trigger-dev", help="call back the development PdmV services"),
) -> None:
    """Mirror the changes of ReqMgr2 since the last update and record the new DBS numbers."""
    triggers = [env for env, wanted in (("prod", trigger_prod), ("dev", trigger_dev)) if wanted]
    with reported_errors(), sources_from_settings() as sources:
        db = database()
        callbacks = callbacks_from_settings(triggers)
        if name:
            report = service.update_one(
                db, sources, name=name, actor=cli_actor(), triggers=triggers, callbacks=callbacks
            )
        else:
            with Progress(
                TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                console=console, transient=True,
            ) as bar:  # fmt: skip
                tasks: dict[str, int] = {}

                def progress(phase: str, done: int, total: int | None) -> None:
                    label = {"feed": "workflows from ReqMgr2", "numbers": "numbers from DBS"}[phase]
                    if phase not in tasks:
                        tasks[phase] = bar.add_task(label, total=total)
                    bar.update(tasks[phase], completed=done, total=total)

                report = service.update(
                    db, sources, triggers=triggers, callbacks=callbacks, progress=progress, actor=cli_actor()
                )
    console.print(
        f"{report.documents_changed} changed, {report.documents_unchanged} unchanged, "
        f"{report.deleted} deleted, {report.recalculated} recalculated, "
        f"{report.datasets_changed} dataset changes, "
        f"{report.callbacks_sent} callbacks in {report.seconds:.1f} s"
    )
    for failed, reason in sorted(report.failures.items()):
        console.print(f"[red]failed[/red] {failed}: {reason}")
    if report.failures:
        raise typer.Exit(1)


@app.command("show")
def show(name: str) -> None:
    """Print the stored document as the original's JSON API serves it."""
    with reported_errors():
        document = service.get(database(), name=name)
    console.print_json(orjson.dumps(document, option=orjson.OPT_SORT_KEYS).decode())
