"""The DQM GUI pinger (rr_backend §6.6): which waiting offline datasets the GUI now shows; their samples
recorded and their waiting workspaces moved to OPEN or `not significant for workspace`, all in one change set
per ping through the registry's bulk write path."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from runreg.access.actions import Target
from runreg.classifiers.jsonlogic import InvalidRule
from runreg.configuration import service as configuration
from runreg.datasets import gui
from runreg.kernel.actors import SERVICES_EGROUP, Actor, ActorKind
from runreg.kernel.collector import collector_paused
from runreg.registry import model
from runreg.registry import service as registry
from runreg.registry.events import Event
from runreg.storage.database import Database

if TYPE_CHECKING:
    from runreg.integrations.dqmgui.client import DqmGuiSource

log = logging.getLogger("runreg.datasets.gui_service")

#: The pinger's identity: an automatic actor (its moves are the automatic layer's), one of runreg's services.
PINGER = Actor("dqmgui-pinger", ActorKind.AUTOMATIC, frozenset({SERVICES_EGROUP}))
#: The action checked on every dataset a ping records samples for or moves.
ACTION = "datasets:gui:record"
#: At most this many problems (a classifier that throws, a workspace without one) are kept in a report.
MAX_PROBLEMS = 20


@dataclass
class PingReport:
    waiting: int = 0  # datasets waiting in some workspace when the ping started
    samples: int = 0  # samples in the GUI's list (0: not asked, nothing was waiting)
    datasets: int = 0  # datasets recorded or moved
    recorded: int = 0  # new samples recorded
    opened: int = 0  # workspaces moved to OPEN
    not_significant: int = 0  # workspaces moved to `not significant for workspace`
    unclassified: int = 0  # workspaces left waiting: no classifier (or it failed)
    change_set_id: int | None = None
    problems: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        return {
            "waiting": self.waiting,
            "samples": self.samples,
            "datasets": self.datasets,
            "recorded": self.recorded,
            "opened": self.opened,
            "not_significant": self.not_significant,
            "unclassified": self.unclassified,
            "change_set": self.change_set_id,
        }

    def problem(self, text: str) -> None:
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(text)


def ping(
    db: Database, dqmgui: DqmGuiSource, *, actor: Actor = PINGER, now: Callable[[], datetime] | None = None
) -> PingReport:
    """One ping: `datasets:gui:record` asked of the actor, the waiting datasets (an indexed query), the GUI's
    sample list once (only if something is waiting), then one transaction that re-reads the matched datasets
    locked, asks the gate about each, records their new samples (with when they were seen) and moves their
    waiting workspaces by the offline dataset classifiers, as one change set. The GUI down or answering
    garbage raises its DqmGuiError before anything is written: every dataset stays waiting for the next
    ping."""
    # 200,000 samples and 10,000 datasets' states become objects that live until the write: the collector
    # walking them again and again was a third of a ping's CPU.
    with collector_paused():
        return _ping(db, dqmgui, actor=actor, now=now)


def _ping(
    db: Database, dqmgui: DqmGuiSource, *, actor: Actor, now: Callable[[], datetime] | None
) -> PingReport:
    report = PingReport()
    with db.reading() as conn:
        configuration.authorize(conn, actor=actor, action=ACTION)  # may this actor ping at all?
        config = configuration.current(conn)[1]
        workspaces = [model.GLOBAL, *(ws.name for ws in config.workspaces if ws.mode == "offline")]
        waiting = registry.waiting_for_gui(conn, workspaces=workspaces)
    report.waiting = len(waiting)
    if not waiting:
        return report
    samples = gui.samples_by_run(dqmgui.samples())
    report.samples = sum(len(names) for names in samples.values())
    matcher = gui.SampleMatcher(config.datasets_accepted)
    found: dict[int, dict[str, list[str]]] = {}
    for row in waiting:
        matched = matcher.matching(row.name, row.run_number, samples.get(row.run_number, ()))
        if matched:
            found.setdefault(row.run_number, {})[row.name] = matched
    if not found:
        return report
    decider = gui.StateDecider(config.offline_dataset_classifiers)
    seen_at = (now or _now)().isoformat(timespec="seconds")
    layer = registry.layer_of(actor)

    def settle(run: model.RunState) -> list[Event]:
        events: list[Event] = []
        for name, matched in found[run.run_number].items():
            ds = run.datasets.get(name)
            if ds is None:
                continue
            new = gui.new_samples(ds.attributes, matched)
            context = gui.classifier_context(run.run_number, name, ds.attributes, run.oms, run.rr)
            try:
                moves, unclassified = decider.moves(context, ds.attributes)
            except InvalidRule as exc:
                moves, unclassified = [], []
                report.problem(f"run {run.run_number} {name}: an offline dataset classifier failed: {exc}")
            for ws in unclassified:
                report.problem(f"run {run.run_number} {name}: no offline dataset classifier for {ws}")
            if not new and not moves:
                continue
            extra = gui.in_gui_attributes(ds.attributes, new, seen_at) if new else {}
            events += model.settle_dataset(run, name, moves, extra, layer=layer)
            report.datasets += 1
            report.recorded += len(new)
            report.opened += sum(1 for _, state in moves if state == model.RunStatus.OPEN.value)
            report.not_significant += sum(1 for _, state in moves if state == model.NOT_SIGNIFICANT)
            report.unclassified += len(unclassified)
        return events

    def comment() -> str:
        return (
            f"DQM GUI: {report.datasets} datasets appeared ({report.recorded} samples); workspaces: "
            f"{report.opened} OPEN, {report.not_significant} not significant"
        )

    with db.transaction() as conn:
        configuration.authorize_all(
            conn,
            actor=actor,
            checks=[(ACTION, Target(run=r, dataset=n)) for r, names in found.items() for n in names],
        )
        result = registry.write_dataset_attributes(
            conn, actor=actor, comment=comment, decisions={run: settle for run in found}
        )
    report.change_set_id = result.change_set_id
    for problem in report.problems:
        log.warning("DQM GUI ping: %s", problem)
    return report


def _now() -> datetime:
    return datetime.now(UTC)
