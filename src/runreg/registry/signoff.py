"""What signing a run off does to its offline datasets (rr_backend §6.4-6.5), decided without I/O.

Moving a run to SIGNOFF or COMPLETED creates, in the same change set, one offline dataset per enabled
datasets-accepted rule of the run's class whose run range holds the run: every offline workspace (and
`global`) `waiting dqm gui`, nothing yet in the GUI, and each offline component classified by the offline
component classifiers into the automatic layer, one evaluation per segment of LS where none of the values they
read changes. The dataset's OMS values are the online run's (an offline dataset inherits them, overrides are
its own layer): nothing is copied. Signing off again creates only what is missing; an existing dataset keeps
its attributes and gets only the automatic flags that differ from a fresh classification, and not in
workspaces already SIGNOFF or COMPLETED (their certification was signed on what they show).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from runreg.classifiers.classify import ComponentClassifierSet
from runreg.configuration.model import Configuration, DatasetAccepted
from runreg.kernel.quality import split_component
from runreg.kernel.ranges import RangeMap
from runreg.registry import model
from runreg.registry.events import Event, FlagsSet
from runreg.registry.model import GLOBAL, ONLINE, WAITING_DQM_GUI, RunState, RunStatus

#: Workspace states whose automatic flags a new sign-off leaves alone.
SIGNED_STATES = frozenset({RunStatus.SIGNOFF.value, RunStatus.COMPLETED.value})
APPEARED_IN = "appeared_in"
IN_GUI = "datasets_in_gui"


@dataclass(frozen=True)
class Plan:
    """One configuration's part in a sign-off, compiled once: the accepted-dataset rules, the offline
    workspaces (each gets a state) and the offline component classifiers."""

    rules: tuple[DatasetAccepted, ...]
    workspaces: tuple[str, ...]
    classifiers: ComponentClassifierSet

    @classmethod
    def of(cls, config: Configuration) -> Plan:
        workspaces = [ws.name for ws in config.workspaces if ws.mode == "offline"]
        if GLOBAL not in workspaces:
            workspaces.insert(0, GLOBAL)
        return cls(
            rules=tuple(config.datasets_accepted),
            workspaces=tuple(dict.fromkeys(workspaces)),
            classifiers=ComponentClassifierSet(config.component_classifiers, mode="offline"),
        )


@dataclass(frozen=True)
class Outcome:
    """The events of a sign-off's offline part and what they mean: datasets created, datasets that existed
    (their automatic flags re-synced where they differ), workspaces left alone, and a note when no rule
    applies."""

    events: list[Event] = field(default_factory=list)
    created: tuple[str, ...] = ()
    kept: tuple[str, ...] = ()
    left_alone: tuple[tuple[str, str], ...] = ()  # (dataset, workspace) already SIGNOFF or COMPLETED
    note: str = ""

    def describe(self) -> str:
        """One line for the change-set comment."""
        parts = []
        if self.created:
            parts.append(f"offline datasets created: {', '.join(self.created)}")
        if self.kept:
            resynced = sum(1 for e in self.events if isinstance(e, FlagsSet) and e.name in self.kept)
            parts.append(
                f"existing datasets kept: {', '.join(self.kept)} ({resynced} automatic flag ranges re-synced)"
            )
        if self.left_alone:
            shown = ", ".join(f"{name} in {ws}" for name, ws in self.left_alone[:10])
            parts.append(f"flags left alone where already signed off: {shown}")
        if self.note:
            parts.append(self.note)
        return "; ".join(parts)


def accepted_for(rules: Iterable[DatasetAccepted], run_class: str, run_number: int) -> list[DatasetAccepted]:
    """The enabled rules for `run_class` whose range (None: unbounded) holds `run_number`, one per name
    (the first), in configuration order."""
    out: dict[str, DatasetAccepted] = {}
    for rule in rules:
        if not rule.enabled or rule.class_name != run_class or rule.name in out:
            continue
        if rule.run_from is not None and run_number < rule.run_from:
            continue
        if rule.run_to is not None and run_number > rule.run_to:
            continue
        out[rule.name] = rule
    return list(out.values())


def initial_attributes(workspaces: Sequence[str]) -> dict[str, Any]:
    """A new offline dataset: `global_state` and `<ws>_state` waiting for the DQM GUI, nothing seen yet."""
    states = {f"{ws}_state": WAITING_DQM_GUI for ws in (GLOBAL, *workspaces)}
    return {**states, APPEARED_IN: [], IN_GUI: []}


def classify_offline(
    run: RunState, plan: Plan, rr_attributes: Mapping[str, Any] | None = None
) -> dict[str, RangeMap]:
    """Each offline component's automatic status over the run's LS, from its online OMS values and online
    (effective) triplets (`rr_attributes`: the run's RR attributes, if not those `run` holds)."""
    online = run.datasets.get(ONLINE)
    flags = {c: f.effective() for c, f in online.flags.items()} if online else {}
    return plan.classifiers.offline_statuses(
        oms_attributes=run.oms,
        rr_attributes=run.rr if rr_attributes is None else rr_attributes,
        oms_per_ls=run.oms_values(ONLINE),
        flags_per_ls=flags,
        ls_count=run.ls_count,
    )


def decide(run: RunState, plan: Plan, *, rr_attributes: Mapping[str, Any] | None = None) -> Outcome:
    """The offline datasets of a run being signed off. `rr_attributes` are the run's RR attributes after the
    move (its new state) when `run` does not hold them yet (the move's events are decided alongside)."""
    rr = run.rr if rr_attributes is None else rr_attributes
    run_class = str(rr.get("class") or "")
    if not run_class:
        return Outcome(note=f"run {run.run_number} has no class: no offline dataset")
    rules = accepted_for(plan.rules, run_class, run.run_number)
    if not rules:
        return Outcome(
            note=f"no enabled datasets-accepted rule for class {run_class} covers run {run.run_number}: "
            "no offline dataset"
        )
    wanted = classify_offline(run, plan, rr)
    events: list[Event] = []
    created: list[str] = []
    kept: list[str] = []
    left_alone: list[tuple[str, str]] = []
    for rule in rules:
        name = rule.name
        if name not in run.datasets:
            events += model.create_dataset(run, name, initial_attributes(plan.workspaces))
            for component, ranges in wanted.items():
                events += model.automatic_flag_events(name, component, RangeMap(), ranges)
            created.append(name)
            continue
        kept.append(name)
        attributes = run.datasets[name].attributes
        for component, ranges in wanted.items():
            workspace = split_component(component)[0]
            if attributes.get(f"{workspace}_state") in SIGNED_STATES:
                if (name, workspace) not in left_alone:
                    left_alone.append((name, workspace))
                continue
            events += model.sync_automatic_flags(run, name, component, ranges)
    return Outcome(events, tuple(created), tuple(kept), tuple(left_alone))
