"""Which DQM GUI samples exist at an instant: Express samples an hour after a run ends, PromptReco ones
hours later (Tier-0's delays, simulated), for the runs of an OmsWorld; or a fixed list (benchmarks)."""

from __future__ import annotations

import bisect
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from runreg.simulators.oms.world import OmsWorld, RunPlan

#: (first run, era letter) in run order: the eras of the shipped datasets-accepted rules.
ERAS: tuple[tuple[int, str], ...] = ((0, "C"), (380253, "D"))
PROMPT_PDS = ("ZeroBias", "Muon0", "JetMET0", "EGamma0", "HLTPhysics")


def era_of(run_number: int, eras: Sequence[tuple[int, str]] = ERAS) -> str:
    starts = [first for first, _ in eras]
    return eras[max(0, bisect.bisect_right(starts, run_number) - 1)][1]


def samples_of(plan: RunPlan, era: str) -> list[tuple[str, str]]:
    """(kind, dataset) of a run: kind "express" or "prompt" (they appear after different delays)."""
    if plan.kind == "collisions":
        return [("express", f"/StreamExpress/Run2024{era}-Express-v1/DQMIO")] + [
            ("prompt", f"/{pd}/Run2024{era}-PromptReco-v1/DQMIO") for pd in PROMPT_PDS
        ]
    if plan.kind == "cosmics":
        return [
            ("express", f"/StreamExpressCosmics/Run2024{era}-Express-v1/DQMIO"),
            ("prompt", f"/Cosmics/Run2024{era}-PromptReco-v1/DQMIO"),
        ]
    return [("express", "/StreamExpress/Commissioning2024-Express-v1/DQMIO")]


@dataclass
class WorldCatalogue:
    """Samples of `world`'s runs as of `clock()`: Express `express_delay` after a run ends, PromptReco
    `prompt_delay` after (a run still going has none). Sign-off happens after a run ends, so its datasets
    appear hours after sign-off, or are found at the first ping after it."""

    world: OmsWorld
    clock: Callable[[], datetime]
    express_delay: timedelta = timedelta(hours=1)
    prompt_delay: timedelta = timedelta(hours=6)
    eras: Sequence[tuple[int, str]] = ERAS
    withheld: set[str] = field(default_factory=set)  # datasets the GUI never gets (tests)

    def samples(self) -> list[tuple[int, str]]:
        now = self.clock().timestamp()
        out: list[tuple[int, str]] = []
        for plan in self.world.plans:
            if plan.start > now:
                break
            age = now - plan.end
            if age < 0:
                continue
            for kind, dataset in samples_of(plan, era_of(plan.run_number, self.eras)):
                delay = self.express_delay if kind == "express" else self.prompt_delay
                if age >= delay.total_seconds() and dataset not in self.withheld:
                    out.append((plan.run_number, dataset))
        return out

    def version(self) -> int | None:
        return None  # the samples change with the clock


@dataclass
class FixedCatalogue:
    """A given list of (run, dataset), e.g. 200,000 of them for a benchmark; `add` makes more appear."""

    items: list[tuple[int, str]] = field(default_factory=list)
    _version: int = 0

    def samples(self) -> list[tuple[int, str]]:
        return list(self.items)

    def add(self, more: Sequence[tuple[int, str]]) -> None:
        self.items.extend(more)
        self._version += 1

    def version(self) -> int | None:
        return self._version
