"""Helpers every domain's commands share: the database, the acting identity, error rendering."""

from __future__ import annotations

import getpass
from collections.abc import Iterator
from contextlib import contextmanager

import typer
from rich.console import Console

from runreg.kernel.actors import Actor, ActorKind
from runreg.kernel.errors import RunregError
from runreg.settings import get_settings
from runreg.storage import migrate
from runreg.storage.database import Database, database_from_settings

console = Console()
err_console = Console(stderr=True)


def database(*, check_schema: bool = True) -> Database:
    db = database_from_settings()
    if check_schema:
        try:
            migrate.require_current(db)
        except RunregError as exc:
            err_console.print(f"[red]error:[/red] {exc.message}")
            raise typer.Exit(2) from None
    return db


def cli_actor() -> Actor:
    """The local operator: whoever runs the command on a machine holding the database URL. It acts with the
    e-groups the settings give it (RUNREG_CLI_EGROUPS) and is recorded as `<RUNREG_CLI_OPERATOR> (<OS user>)`,
    never as a name typed on the command line."""
    settings = get_settings()
    return Actor(
        f"{settings.cli_operator} ({getpass.getuser()})", ActorKind.HUMAN, frozenset(settings.cli_egroups)
    )


@contextmanager
def reported_errors() -> Iterator[None]:
    """Turn domain errors into a one-line message and exit code 1, never a traceback."""
    try:
        yield
    except RunregError as exc:
        err_console.print(f"[red]error:[/red] {exc.message}")
        raise typer.Exit(1) from None
