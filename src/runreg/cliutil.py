"""Helpers every domain's commands share: the database, the acting identity, error rendering."""

from __future__ import annotations

import getpass
import os
from collections.abc import Iterator
from contextlib import contextmanager

import typer
from rich.console import Console

from runreg.kernel.actors import Actor, ActorKind
from runreg.kernel.errors import RunregError
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


def cli_actor(name: str | None) -> Actor:
    """The person at the terminal (an e-mail by --as or RUNREG_ACTOR, else the login name)."""
    return Actor(name or os.environ.get("RUNREG_ACTOR") or getpass.getuser(), ActorKind.HUMAN)


@contextmanager
def reported_errors() -> Iterator[None]:
    """Turn domain errors into a one-line message and exit code 1, never a traceback."""
    try:
        yield
    except RunregError as exc:
        err_console.print(f"[red]error:[/red] {exc.message}")
        raise typer.Exit(1) from None
