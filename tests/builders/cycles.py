"""Offline datasets and certification cycles built through the services users call."""

from __future__ import annotations

from typing import Any

from runreg.datasets import service as cycles
from runreg.kernel.actors import Actor, ActorKind
from runreg.registry import service as registry
from runreg.storage.database import Database
from tests.builders.runs import CERTIFIER, EXPERT, create_collision_run

PROMPT = "/PromptReco/Collisions2024C/DQM"
EXPRESS = "/Express/Collisions2024/DQM"
DT_CERTIFIER = Actor(
    "dt-certifier@cern.ch", ActorKind.HUMAN, frozenset({"cms-dqm-runregistry-offline-dt-certifiers"})
)
CSC_CERTIFIER = Actor(
    "csc-certifier@cern.ch", ActorKind.HUMAN, frozenset({"cms-dqm-runregistry-offline-csc-certifiers"})
)


def offline_runs(
    db: Database,
    runs: tuple[int, ...] = (379501, 379502, 379503),
    *,
    names: tuple[str, ...] = (PROMPT,),
    states: dict[str, str] | None = None,
    ls_count: int = 10,
) -> list[tuple[int, str]]:
    """Runs with offline datasets OPEN in global and dt, csc already COMPLETED (the DQM GUI opened them, csc
    certified them: global completes only once no subsystem workspace is OPEN)."""
    default = {"global_state": "OPEN", "dt_state": "OPEN", "csc_state": "COMPLETED"}
    attributes: dict[str, Any] = states or default
    made = []
    for run in runs:
        create_collision_run(db, run, ls_count=ls_count, components=("dt-dt",))
        for name in names:
            registry.create_dataset(db, actor=EXPERT, run_number=run, name=name, attributes=attributes)
            made.append((run, name))
    return made


def prompt_cycle(
    db: Database, name: str = "2024C prompt", workspaces: tuple[str, ...] = ("global", "dt", "csc")
) -> cycles.Cycle:
    return cycles.create_cycle(
        db,
        actor=CERTIFIER,
        name=name,
        deadline="2024-07-15T18:00:00Z",
        workspaces=workspaces,
        filter={"name": PROMPT},
    )


def move(db: Database, run: int, workspace: str, to_state: str, name: str = PROMPT) -> None:
    registry.move_dataset(db, actor=EXPERT, run_number=run, name=name, workspace=workspace, to_state=to_state)
