"""Offline datasets as sign-off and the DQM GUI pinger leave them, built through the registry service."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from runreg.configuration import service as configuration
from runreg.registry import service
from runreg.storage.database import Database
from tests.builders.runs import EXPERT, OMS_WORKER

PROMPT = "/PromptReco/Collisions2024C/DQM"
EXPRESS = "/Express/Collisions2024/DQM"
WAITING = "waiting dqm gui"


def offline_workspaces(db: Database) -> list[str]:
    return [ws.name for ws in configuration.current_configuration(db).workspaces if ws.mode == "offline"]


def create_offline_dataset(
    db: Database,
    run_number: int,
    name: str = PROMPT,
    *,
    state: str = "OPEN",
    states: Mapping[str, str] | None = None,
    samples: list[str] | None = None,
    components: tuple[str, ...] = ("tracker-pixel", "tracker-strip", "dt-dt", "csc-csc"),
    extra: Mapping[str, Any] | None = None,
) -> None:
    """A dataset of `run_number` in `state` in every offline workspace (global included) except those in
    `states`, with the DQM GUI samples it was found as (none while waiting) and GOOD automatic statuses for
    `components` over the run's LS."""
    attributes: dict[str, Any] = {f"{ws}_state": state for ws in offline_workspaces(db)}
    attributes |= {f"{ws}_state": value for ws, value in (states or {}).items()}
    default_samples = [] if state == WAITING else ["/ZeroBias/Run2024C-PromptReco-v1/DQMIO"]
    attributes["datasets_in_gui"] = default_samples if samples is None else samples
    attributes |= dict(extra or {})
    service.create_dataset(db, actor=EXPERT, run_number=run_number, name=name, attributes=attributes)
    ls_count = service.run_state(db, run_number).ls_count
    if components:
        service.edit_flags(
            db,
            actor=OMS_WORKER,
            run_number=run_number,
            dataset=name,
            edits=[service.FlagEdit(component, 1, ls_count, "GOOD") for component in components],
            comment="offline classification",
        )
