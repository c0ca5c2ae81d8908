"""DC expert tools' use cases: preview a tool on the datasets a filter selects, then write it as one
change set through the registry's one write path (`registry.service.write`), every dataset authorized with the
tool's named action (`datasets:dctools:<tool>`) inside the transaction before anything is written. A tool
that fails on any dataset (a refusal, a missing target, a rule) writes nothing. Reverting is the registry's
revert."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from runreg.access import policy
from runreg.access.actions import Target
from runreg.configuration import service as configuration
from runreg.configuration.model import Configuration
from runreg.datasets import selection
from runreg.datasets.dctools import model as rules
from runreg.kernel import limits
from runreg.kernel.actors import Actor
from runreg.kernel.errors import InvalidInput
from runreg.kernel.quality import split_component
from runreg.registry import service as registry
from runreg.registry.events import Event
from runreg.registry.model import RunState
from runreg.storage.database import Database

Check = Callable[[str, Target], None]
#: What one tool does to one dataset: its events and a note: when it has none, why it is left; when it has
#: some, what it does beyond the tool's summary (a preview counts both by their words).
Step = Callable[[Check, RunState, str], tuple[list[Event], str | None]]


@dataclass(frozen=True)
class Tool:
    """One tool with its parameters checked: the action, the datasets it looks at, what it does to each."""

    name: str
    step: Step
    summary: str
    only_name: str | None = None  # acts on the datasets of this name among those the filter selects
    hidden: bool = False  # acts on hidden datasets (un-hide)

    @property
    def action(self) -> str:
        return rules.ACTIONS[self.name]

    def scope(self, given: dict[str, Any]) -> dict[str, Any]:
        if self.only_name is None:
            return given
        named = {"name": self.only_name}
        return {"and": [given, named]} if given else named


@dataclass(frozen=True)
class Preview:
    """What a tool would do: the selection (filter, datasets, count), the datasets it would change, those it
    would leave by reason, what else it would do to some of those it changes (`noted`, counted by what), and
    whether an empty filter still needs confirming."""

    tool: str
    summary: str
    selection: selection.Selection
    changing: list[tuple[int, str]]
    skipped: dict[str, int]
    events: int
    needs_confirmation: bool
    noted: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Outcome:
    """What a tool did: the change set (None when nothing changed), the datasets changed and those left."""

    tool: str
    summary: str
    change_set_id: int | None
    filter: dict[str, Any]
    selected: int
    changed: list[tuple[int, str]]
    skipped: dict[str, int] = field(default_factory=dict)
    noted: dict[str, int] = field(default_factory=dict)


# -- reads ---------------------------------------------------------------------------------------------------
def unique_dataset_names(db: Database, *, filter: Mapping[str, Any] | None) -> list[str]:
    """The distinct names of the offline datasets `filter` selects (sorted)."""
    given = rules.check_filter(filter, confirm_all=True)
    return sorted({name for _, name in selection.select(db, filter=given, limit=rules.MAX_DATASETS).keys})


def preview(
    db: Database, *, tool: str, filter: Mapping[str, Any] | None, confirm_all: bool = False, **params: Any
) -> Preview:
    """The tool decided on the current state and written nowhere. An empty filter is previewed (every
    offline dataset) and reported as needing confirmation."""
    given = rules.check_filter(filter, confirm_all=True)
    built = build(tool, configuration.current_configuration(db), params)
    chosen = _select(db, built, given)
    changing: list[tuple[int, str]] = []
    skips: list[str] = []
    notes: list[str] = []
    planned = registry.decide_only(
        db, decisions=_decisions(built, chosen, lambda action, target: None, changing, skips, notes)
    )
    return Preview(
        tool=tool,
        summary=built.summary,
        selection=chosen,
        changing=changing,
        skipped=dict(Counter(skips)),
        noted=dict(Counter(notes)),
        events=sum(len(events) for events in planned.values()),
        needs_confirmation=not given and not confirm_all,
    )


# -- writes --------------------------------------------------------------------------------------------------
def run_tool(
    db: Database,
    *,
    actor: Actor,
    tool: str,
    filter: Mapping[str, Any] | None,
    confirm_all: bool = False,
    comment: str = "",
    **params: Any,
) -> Outcome:
    """Write `tool` on the datasets `filter` selects as one change set; nothing at all if any dataset is
    refused. `params` are the tool's (see `build`)."""
    given = rules.check_filter(filter, confirm_all)
    limits.check_text("comment", comment, limits.MAX_COMMENT_CHARS)
    config = configuration.current_configuration(db)
    built = build(tool, config, {**params, "comment": comment} if tool == "batch_update" else params)
    chosen = _selected(db, built, given)
    changing: list[tuple[int, str]] = []
    skips: list[str] = []
    notes: list[str] = []
    with db.transaction() as conn:
        permissions = configuration.current(conn)[1].permissions

        def check(action: str, target: Target) -> None:
            policy.authorize(actor, action, target, permissions)

        result = registry.write(
            conn,
            actor=actor,
            comment=_comment(built, given, len(chosen.rows), comment),
            decisions=_decisions(built, chosen, check, changing, skips, notes),
        )
    return Outcome(
        tool=tool,
        summary=built.summary,
        change_set_id=result.change_set_id,
        filter=given,
        selected=chosen.count,
        changed=changing if result.change_set_id else [],
        skipped=dict(Counter(skips)),
        noted=dict(Counter(notes)) if result.change_set_id else {},
    )


def duplicate_datasets(
    db: Database,
    *,
    actor: Actor,
    filter: Mapping[str, Any] | None,
    source_dataset_name: str,
    target_dataset_name: str,
    workspaces: Sequence[str] = (),
    comment: str = "",
    confirm_all: bool = False,
) -> Outcome:
    return run_tool(
        db,
        actor=actor,
        tool="duplicate",
        filter=filter,
        confirm_all=confirm_all,
        comment=comment,
        source_dataset_name=source_dataset_name,
        target_dataset_name=target_dataset_name,
        workspaces=workspaces,
    )


def copy_columns(
    db: Database,
    *,
    actor: Actor,
    filter: Mapping[str, Any] | None,
    source_dataset_name: str,
    target_dataset_name: str,
    columns: Sequence[str],
    comment: str = "",
    confirm_all: bool = False,
) -> Outcome:
    return run_tool(
        db,
        actor=actor,
        tool="copy_columns",
        filter=filter,
        confirm_all=confirm_all,
        comment=comment,
        source_dataset_name=source_dataset_name,
        target_dataset_name=target_dataset_name,
        columns=columns,
    )


def batch_update(
    db: Database,
    *,
    actor: Actor,
    filter: Mapping[str, Any] | None,
    columns: Sequence[str],
    new_status: str,
    comment: str,
    confirm_all: bool = False,
) -> Outcome:
    return run_tool(
        db,
        actor=actor,
        tool="batch_update",
        filter=filter,
        confirm_all=confirm_all,
        comment=comment,
        columns=columns,
        new_status=new_status,
    )


def change_states(
    db: Database,
    *,
    actor: Actor,
    filter: Mapping[str, Any] | None,
    to_state: str,
    workspace: str | None = None,
    from_state: str | None = None,
    comment: str = "",
    confirm_all: bool = False,
) -> Outcome:
    """In one workspace (from `from_state`, or any), or in every workspace when `workspace` is None."""
    return run_tool(
        db,
        actor=actor,
        tool="change_states",
        filter=filter,
        confirm_all=confirm_all,
        comment=comment,
        workspace=workspace,
        from_state=from_state,
        to_state=to_state,
    )


def hide_datasets(
    db: Database, *, actor: Actor, filter: Mapping[str, Any] | None, reason: str, confirm_all: bool = False
) -> Outcome:
    return run_tool(
        db, actor=actor, tool="hide", filter=filter, confirm_all=confirm_all, comment=reason, reason=reason
    )


def unhide_datasets(
    db: Database, *, actor: Actor, filter: Mapping[str, Any] | None, reason: str, confirm_all: bool = False
) -> Outcome:
    return run_tool(
        db, actor=actor, tool="unhide", filter=filter, confirm_all=confirm_all, comment=reason, reason=reason
    )


# -- the tools' parameters -----------------------------------------------------------------------------------
def build(tool: str, config: Configuration, params: Mapping[str, Any]) -> Tool:
    """Check a tool's parameters (errors name the field) and say what it does to each dataset."""
    offline = [ws.name for ws in config.workspaces if ws.mode == "offline"]
    components = config.components("offline")
    action = rules.ACTIONS.get(tool)
    if action is None:
        raise InvalidInput("tool", f"{tool!r} is not one of {', '.join(rules.TOOLS)}")

    def text(key: str, *, required: bool = True) -> str:
        value = params.get(key)
        value = value.strip() if isinstance(value, str) else ""
        if required and not value:
            raise InvalidInput(key, "is required")
        limits.check_text(key, value, limits.MAX_NAME_CHARS)
        return value

    def listed(key: str) -> list[str]:
        value = params.get(key) or []
        if isinstance(value, str) or not all(isinstance(v, str) for v in value):
            raise InvalidInput(key, "must be a list of names")
        limits.check_count(key, len(value), 1_000)
        return list(value)

    def target(run: RunState, name: str, **more: Any) -> Target:
        return Target(run=run.run_number, dataset=name, **more)

    if tool == "duplicate":
        source, new = text("source_dataset_name"), text("target_dataset_name")
        if source == new:
            raise InvalidInput("target_dataset_name", "must differ from the source dataset's name")
        if new == "online":
            raise InvalidInput("target_dataset_name", "'online' is not an offline dataset name")
        workspaces = rules.check_workspaces("workspaces", listed("workspaces"), offline)

        def duplicate(check: Check, run: RunState, name: str) -> tuple[list[Event], str | None]:
            check(action, target(run, new))
            return rules.duplicate(run, name, new, workspaces), rules.redo_note(run, name, new)

        into = ", ".join(["global", *[ws for ws in workspaces if ws != "global"]])
        return Tool(tool, duplicate, f"duplicate {source} into {new} (states of {into})", only_name=source)
    if tool == "copy_columns":
        source, into_name = text("source_dataset_name"), text("target_dataset_name")
        if source == into_name:
            raise InvalidInput("target_dataset_name", "must differ from the source dataset's name")
        columns = rules.check_components("columns", listed("columns"), components)

        def copy(check: Check, run: RunState, name: str) -> tuple[list[Event], str | None]:
            for column in columns:
                check(action, target(run, into_name, workspace=_ws(column), component=column))
            events = rules.copy_columns(run, name, into_name, columns)
            return events, None if events else f"{into_name} already has these columns"

        return Tool(tool, copy, f"copy {', '.join(columns)} from {source} to {into_name}", only_name=source)
    if tool == "batch_update":
        columns = rules.check_components("columns", listed("columns"), components)
        status = rules.check_status(text("new_status"))
        comment = rules.check_reason("comment", params.get("comment"))

        def update(check: Check, run: RunState, name: str) -> tuple[list[Event], str | None]:
            for column in columns:
                check(action, target(run, name, workspace=_ws(column), component=column))
            events = rules.batch_update(run, name, columns, status, comment)
            return events, None if events else f"already {status}"

        return Tool(tool, update, f"set {', '.join(columns)} to {status} on every LS")
    if tool == "change_states":
        workspace = text("workspace", required=False) or None
        if workspace is not None:
            rules.check_workspaces("workspace", [workspace], offline)
        from_state = text("from_state", required=False) or None
        to_state = text("to_state")
        if to_state not in rules.model.DATASET_STATES:
            raise InvalidInput(
                "to_state", f"{to_state!r} is not one of {', '.join(sorted(rules.model.DATASET_STATES))}"
            )

        def move(check: Check, run: RunState, name: str) -> tuple[list[Event], str | None]:
            events, left = rules.change_states(run, name, workspace, from_state, to_state)
            before = run.datasets[name].attributes
            for event in events:
                for key in getattr(event, "attributes", {}):
                    ws = key.removesuffix("_state")
                    check(
                        action, target(run, name, workspace=ws, from_state=before.get(key), to_state=to_state)
                    )
            return events, None if events else (left[0] if len(left) == 1 else "; ".join(left) or "nothing")

        where = (
            f"in {workspace}" + (f" from {from_state}" if from_state else "")
            if workspace
            else "in every workspace"
        )
        return Tool(tool, move, f"move to {to_state} {where}")
    if tool == "hide":
        reason = rules.check_hiding_reason(params.get("reason"))

        def conceal(check: Check, run: RunState, name: str) -> tuple[list[Event], str | None]:
            check(action, target(run, name))
            return rules.hide(run, name, reason), None

        return Tool(tool, conceal, f"hide ({reason})")
    reason = rules.check_reason("reason", params.get("reason"))

    def reveal(check: Check, run: RunState, name: str) -> tuple[list[Event], str | None]:
        check(action, target(run, name))
        return rules.unhide(run, name), None

    return Tool(tool, reveal, f"un-hide ({reason})", hidden=True)


# -- helpers -------------------------------------------------------------------------------------------------
def _select(db: Database, tool: Tool, given: dict[str, Any]) -> selection.Selection:
    chosen = selection.select(db, filter=tool.scope(given), limit=rules.MAX_DATASETS, hidden=tool.hidden)
    return selection.Selection(given, chosen.rows)


def _selected(db: Database, tool: Tool, given: dict[str, Any]) -> selection.Selection:
    """What a write acts on: refused when the filter selects nothing (nothing to confirm, nothing to do)."""
    chosen = _select(db, tool, given)
    if not chosen.count:
        what = "hidden dataset" if tool.hidden else "offline dataset"
        scope = f" named {tool.only_name!r}" if tool.only_name else ""
        raise InvalidInput("filter", f"selects no {what}{scope}: nothing to do")
    return chosen


def _decisions(
    tool: Tool,
    chosen: selection.Selection,
    check: Check,
    changing: list[tuple[int, str]],
    skips: list[str],
    notes: list[str],
) -> dict[int, registry.Decide]:
    by_run: dict[int, list[str]] = {}
    for run_number, name in chosen.keys:
        by_run.setdefault(run_number, []).append(name)

    def step(name: str) -> registry.Decide:
        def decide(run: RunState) -> list[Event]:
            if name not in run.datasets:  # removed since the selection was read: nothing to do
                skips.append("no longer exists")
                return []
            events, why = tool.step(check, run, name)
            if events:
                changing.append((run.run_number, name))
                if why:
                    notes.append(why)
            else:
                skips.append(why or "nothing to change")
            return events

        return decide

    return {run: registry.chain(*(step(name) for name in names)) for run, names in by_run.items()}


def _comment(tool: Tool, given: dict[str, Any], count: int, comment: str) -> str:
    shown = json.dumps(given, separators=(",", ":"), sort_keys=True)
    if len(shown) > 600:
        shown = shown[:600] + "…"
    said = f"DC tools: {tool.summary} on {count} dataset{'s' if count != 1 else ''} (filter {shown})"
    return f"{said}: {comment.strip()}" if comment.strip() and tool.name not in ("hide", "unhide") else said


def _ws(component: str) -> str | None:
    try:
        return split_component(component)[0]
    except ValueError:
        return None
