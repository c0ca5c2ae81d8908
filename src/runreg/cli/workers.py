"""Running a periodic worker from a command: the skeleton's loop, its refusal as exit code 3."""

from __future__ import annotations

from typing import Any

import typer

from runreg.cliutil import err_console
from runreg.kernel.errors import RunregError
from runreg.storage.database import Database


def run_periodic(db: Database, worker: Any, *, once: bool, beat_every_s: float) -> None:
    """Run a `Periodic`: exit 3 when another instance holds its lock, 1 when a single cycle failed."""
    from runreg.worker import periodic

    try:
        ok = periodic.run(db, worker, once=once, beat_every_s=beat_every_s)
    except RunregError as exc:  # another instance holds the lock
        err_console.print(f"[red]error:[/red] {exc.message}")
        raise typer.Exit(3) from None
    if not ok and once:
        raise typer.Exit(1)
