"""Pure rules of the DC expert tools: what each tool does to one dataset of a run, as registry events.

Every tool acts on "the offline datasets a table filter selects" (never online, never hidden except for
un-hide). The service authorizes, selects, and writes what these functions decide through the registry's one
write path, as one change set for the whole operation."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from runreg.kernel.errors import InvalidInput, InvalidState
from runreg.kernel.quality import USER_STATUSES
from runreg.kernel.ranges import RangeMap, differences
from runreg.registry import model
from runreg.registry.events import (
    DatasetAttributesChanged,
    Event,
    FlagsCleared,
    FlagsSet,
    Layer,
    OmsValuesSet,
)
from runreg.registry.model import DUPLICATED_FROM, GLOBAL, HIDDEN, WAITING_DQM_GUI, RunState

#: The tools that write, each checked with its named action `datasets:dctools:<tool>` (un-hide is `hide`'s).
TOOLS = ("duplicate", "copy_columns", "batch_update", "change_states", "hide", "unhide")
ACTIONS = {tool: f"datasets:dctools:{'hide' if tool == 'unhide' else tool}" for tool in TOOLS}
#: Datasets one operation may act on (the original refused unique names beyond 12,000).
MAX_DATASETS = 12_000
HIDDEN_REASON = "hidden_reason"
MIN_REASON = 3


@dataclass(frozen=True)
class Skip:
    """A selected dataset the tool leaves as it is, and why (a preview shows them counted by reason)."""

    run_number: int
    name: str
    reason: str


def check_reason(field: str, text: str | None) -> str:
    """A mandatory comment or reason: at least MIN_REASON characters once trimmed."""
    text = (text or "").strip()
    if len(text) < MIN_REASON:
        raise InvalidInput(field, f"is required (at least {MIN_REASON} characters): say why")
    return text


def check_filter(filter: Mapping[str, Any] | None, confirm_all: bool) -> dict[str, Any]:
    """An empty filter selects every offline dataset: refused unless explicitly confirmed."""
    if filter is not None and not isinstance(filter, Mapping):
        raise InvalidInput(
            "filter", f"must be an object of the table filter language, got {type(filter).__name__}"
        )
    given = dict(filter or {})
    if not given and not confirm_all:
        raise InvalidInput(
            "filter",
            "is empty: it selects every offline dataset; narrow it, or confirm acting on all (confirm_all)",
        )
    return given


def check_components(field: str, components: Sequence[str], known: Iterable[str]) -> list[str]:
    chosen = list(dict.fromkeys(c.strip() for c in components if c and c.strip()))
    if not chosen:
        raise InvalidInput(field, "choose at least one component column")
    allowed = set(known)
    for i, component in enumerate(chosen):
        if component not in allowed:
            raise InvalidInput(f"{field}[{i}]", f"{component!r} is not an offline component")
    return chosen


def check_status(status: str) -> str:
    if status not in USER_STATUSES:
        raise InvalidInput("new_status", f"{status!r} is not one of {', '.join(sorted(USER_STATUSES))}")
    return status


def check_workspaces(field: str, chosen: Iterable[str], offline: Sequence[str]) -> list[str]:
    picked = list(dict.fromkeys(ws for ws in chosen if ws))
    for i, ws in enumerate(picked):
        if ws not in offline:
            raise InvalidInput(f"{field}[{i}]", f"{ws!r} is not an offline workspace ({', '.join(offline)})")
    return picked


# -- the tools, one dataset at a time ------------------------------------------------------------------------
def duplicate(run: RunState, source: str, target: str, workspaces: Sequence[str]) -> list[Event]:
    """A copy of `source` named `target` in the same run: its attributes except states and hiding, the
    states of `global` and of `workspaces` (`waiting dqm gui` where the source has none), both layers of
    every component's LS and its own OMS corrections. Marked `duplicated_from` (a revert hides it)."""
    ds = run.dataset(source)
    if target in run.datasets:
        raise InvalidInput("target_dataset_name", f"run {run.run_number} already has dataset {target!r}")
    attributes = {
        key: value
        for key, value in ds.attributes.items()
        if not key.endswith("_state") and key not in (HIDDEN, HIDDEN_REASON, DUPLICATED_FROM)
    }
    for ws in dict.fromkeys([GLOBAL, *workspaces]):
        attributes[f"{ws}_state"] = ds.attributes.get(f"{ws}_state", WAITING_DQM_GUI)
    attributes[DUPLICATED_FROM] = source
    events = model.create_dataset(run, target, attributes)
    for component, flags in sorted(ds.flags.items()):
        for layer in (Layer.AUTOMATIC, Layer.MANUAL):
            events += [
                FlagsSet(
                    name=target, first_ls=lo, last_ls=hi, component=component, triplet=dict(t), layer=layer
                )
                for lo, hi, t in flags.layer(layer)
            ]
    for key, ranges in sorted(ds.oms.items()):
        events += [
            OmsValuesSet(name=target, first_ls=lo, last_ls=hi, values={key: value})
            for lo, hi, value in ranges
        ]
    return events


def copy_columns(run: RunState, source: str, target: str, components: Sequence[str]) -> list[Event]:
    """The target's components become what the source's are (effective LS statuses), as manual decisions;
    LS the source has no status for are cleared from the target's manual layer."""
    if target not in run.datasets:
        raise InvalidInput(
            "target_dataset_name", f"run {run.run_number} has {source!r} but no dataset {target!r}"
        )
    src, dst = run.dataset(source), run.dataset(target)
    events: list[Event] = []
    for component in components:
        wanted = src.flags[component].effective() if component in src.flags else RangeMap()
        manual = dst.flags[component].manual if component in dst.flags else RangeMap()
        events += _set_manual(target, component, manual, wanted)
        for lo, hi, _ in manual:
            events += [
                FlagsCleared(
                    name=target, first_ls=g_lo, last_ls=g_hi, component=component, layer=Layer.MANUAL
                )
                for g_lo, g_hi in wanted.gaps(lo, hi)
            ]
    return events


def batch_update(
    run: RunState, name: str, components: Sequence[str], status: str, comment: str
) -> list[Event]:
    """Every LS of each component gets `status` (manual layer), keeping each range's comment and cause; LS
    without a comment get the operation's."""
    ds = run.dataset(name)
    ls_count = run.ls_count
    events: list[Event] = []
    for component in components:
        flags = ds.flags.get(component)
        current = flags.effective() if flags else RangeMap()
        wanted = RangeMap()
        for lo, hi, triplet in current:
            wanted.assign(
                lo,
                hi,
                {
                    "status": status,
                    "comment": str(triplet.get("comment") or "") or comment,
                    "cause": str(triplet.get("cause") or ""),
                },
            )
        if ls_count:
            for lo, hi in current.gaps(1, ls_count):
                wanted.assign(lo, hi, {"status": status, "comment": comment, "cause": ""})
        events += _set_manual(name, component, flags.manual if flags else RangeMap(), wanted)
    return events


def change_states(
    run: RunState, name: str, workspace: str | None, from_state: str | None, to_state: str
) -> tuple[list[Event], list[str]]:
    """Move the dataset to `to_state` in `workspace` where it is `from_state` (any state when None), or in
    every workspace it has (workspace None; global last, so "everything COMPLETED" works). Moves follow the
    registry's rules (`model.move_dataset`); a workspace that cannot move is left, with the reason."""
    if to_state not in model.DATASET_STATES:
        raise InvalidInput(
            "to_state", f"{to_state!r} is not one of {', '.join(sorted(model.DATASET_STATES))}"
        )
    ds = run.dataset(name)
    states = model.workspace_states(ds.attributes)
    if workspace is not None:
        chosen = [workspace]
    else:
        chosen = sorted(ws for ws in states if ws != GLOBAL) + ([GLOBAL] if GLOBAL in states else [])
    scratch = RunState(run.run_number, datasets={name: model.DatasetState(name, dict(ds.attributes))})
    events: list[Event] = []
    left: list[str] = []
    for ws in chosen:
        current = scratch.datasets[name].attributes.get(f"{ws}_state")
        if current is None:
            left.append(f"no state in {ws}")
        elif current == to_state:
            left.append(f"already {to_state} in {ws}")
        elif from_state is not None and current != from_state:
            left.append(f"{current} in {ws}, not {from_state}")
        else:
            try:
                moved = model.move_dataset(scratch, name, ws, to_state)
            except InvalidState as exc:
                left.append(exc.message)
                continue
            for event in moved:
                model.apply(scratch, event)
            events += moved
    merged = _merge_attribute_changes(name, events)
    return merged, ([] if merged else left)


def hide(run: RunState, name: str, reason: str) -> list[Event]:
    return model.change_dataset_attributes(run, name, {HIDDEN: True, HIDDEN_REASON: reason})


def unhide(run: RunState, name: str) -> list[Event]:
    attributes = run.dataset(name).attributes
    gone = tuple(key for key in (HIDDEN, HIDDEN_REASON) if key in attributes)
    return [DatasetAttributesChanged(name=name, attributes={}, removed=gone)] if gone else []


def _set_manual(name: str, component: str, manual: RangeMap, wanted: RangeMap) -> list[Event]:
    return [
        FlagsSet(name=name, first_ls=lo, last_ls=hi, component=component, triplet=dict(t), layer=Layer.MANUAL)
        for lo, hi, t in differences(manual, wanted)
    ]


def _merge_attribute_changes(name: str, events: list[Event]) -> list[Event]:
    """Several state moves of one dataset as one attribute change (one event per dataset and operation)."""
    changes: dict[str, Any] = {}
    for event in events:
        assert isinstance(event, DatasetAttributesChanged)
        changes.update(event.attributes)
    return [DatasetAttributesChanged(name=name, attributes=changes)] if changes else []
