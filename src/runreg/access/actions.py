"""The named actions every write is authorized for, and the target a permission check is about."""

from __future__ import annotations

from dataclasses import dataclass

#: Every action a service checks, with what it lets one do. A permission naming anything else is refused
#: when the configuration is validated, and a check of an unknown action fails closed.
ACTIONS: dict[str, str] = {
    # registry: runs
    "registry:run:create": "create a run (OMS ingestion)",
    "registry:run:edit_class": "change a run's class",
    "registry:run:edit_stop_reason": "change a run's stop reason",
    "registry:run:edit": "change any other RR attribute of a run",
    "registry:run:significant": "mark a run significant",
    "registry:run:move": "move a run between OPEN, SIGNOFF and COMPLETED",
    "registry:run:refresh": "re-read an OPEN run from OMS now",
    "registry:run:reset_and_refresh": "re-read an OPEN run from OMS, classifying from a blank base",
    "registry:run:hide": "hide a run from the run listings (soft delete, with a reason), or show it again",
    # registry: lumisections and datasets
    "registry:flags:write": "set the status of a component on a range of lumisections",
    "registry:oms:write": "correct per-run or per-LS OMS values (DCS bits) by hand",
    "registry:dataset:create": "create a dataset of a run",
    "registry:dataset:edit": "change a dataset's attributes",
    "registry:dataset:move": "move a dataset's workspace between OPEN, SIGNOFF and COMPLETED",
    # certification cycles (offline datasets grouped to be certified before a deadline)
    "datasets:cycle:create": "create a certification cycle from the datasets a filter selects",
    "datasets:cycle:edit": "change a cycle's name, deadline, workspaces or datasets",
    "datasets:cycle:delete": "delete a certification cycle (soft: it stays in the history)",
    "datasets:cycle:complete": "mark a cycle completed, or back to pending, in a workspace",
    "datasets:cycle:move": "move a cycle's datasets between states in a workspace, through the cycle",
    # the DQM GUI pinger
    "datasets:gui:record": "record a dataset's DQM GUI samples and settle its waiting workspaces (automatic)",
    # DC expert tools (bulk repairs of the offline datasets a filter selects; one change set each)
    "datasets:dctools:duplicate": "duplicate offline datasets into a new name, with their LS and states",
    "datasets:dctools:copy_columns": "copy component columns (LS statuses) from one dataset to another",
    "datasets:dctools:batch_update": "set a component's status on every LS of many datasets",
    "datasets:dctools:change_states": "change the workspace states of many datasets at once",
    "datasets:dctools:hide": "hide offline datasets (with a reason), or show them again",
    # registry: the change log
    "registry:change_set:revert": "revert a change set",
    "registry:change_set:force_revert": "revert a change set over later changes of the same values",
    "registry:change_set:revert_closed": "revert a change set touching a run or workspace no longer OPEN",
    "registry:maintenance:rebuild": "rebuild a run's projections from its events",
    # automatic updates from the source systems
    "ingestion:update": "record what OMS and the classifiers say about a run (automatic layer)",
    # adoption of an original Run Registry database (its history replayed under its own authors and times)
    "adoption:import": "import the history of an original Run Registry database",
    # configuration
    "configuration:import": "store a new version of the configuration (edit or import)",
    "configuration:restore": "make an older configuration version current again",
    # golden JSON
    "certification:json:create": "submit a golden JSON",
    "certification:json:delete": "delete a golden JSON",
    "certification:json:official": "mark a golden JSON official or not",
    "certification:json:tag": "change the tags of a golden JSON",
    "certification:preset:write": "create, edit or delete a saved golden-JSON preset",
    # luminosity
    "luminosity:import": "import per-LS luminosity from a brilcalc file (replaces that source for its runs)",
    # Historic DQM and Stats2
    "trends:extract": "extract trend points from DQM files",
    "trends:recompute": "recompute a trend from the stored histograms",
    "workflows:update": "update workflows from ReqMgr2 and DBS",
    # ML agents
    "predictions:write": "post a model's per-LS predictions for a dataset's components (never its flags)",
}


@dataclass(frozen=True)
class Target:
    """What an action is about. Fields left None are not part of this action's target: a permission that
    constrains such a field does not match (fail closed)."""

    run: int | None = None
    dataset: str | None = None
    workspace: str | None = None
    component: str | None = None
    from_state: str | None = None
    to_state: str | None = None
    owner: str | None = None

    def describe(self) -> str:
        parts = [f"{name} {value}" for name, value in self._fields() if value is not None]
        return f" ({', '.join(parts)})" if parts else ""

    def _fields(self) -> list[tuple[str, object]]:
        return [
            ("run", self.run),
            ("dataset", self.dataset),
            ("workspace", self.workspace),
            ("component", self.component),
            ("from", self.from_state),
            ("to", self.to_state),
            ("owner", self.owner),
        ]


def is_known(action: str) -> bool:
    return action in ACTIONS


def matches_action(pattern: str, action: str) -> bool:
    """`pattern` is an action name, `*` (every action) or a prefix ending in `:*` (`registry:*`)."""
    if pattern == "*" or pattern == action:
        return True
    return pattern.endswith(":*") and action.startswith(pattern[:-1])


def known_pattern(pattern: str) -> bool:
    """True if the pattern names at least one known action (a typo must not grant nothing silently)."""
    return any(matches_action(pattern, action) for action in ACTIONS)
