"""Pure rules of the DC expert tools: what each tool does to one dataset of a run, as registry events.

Every tool acts on "the offline datasets a table filter selects" (never online, never hidden except for
un-hide; a duplication writes into a hidden dataset only to re-create a copy a revert hid). The service
authorizes, selects, and writes what these functions decide through the registry's one write path, as one
change set for the whole operation."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from runreg.kernel.errors import InvalidInput, InvalidState
from runreg.kernel.quality import USER_STATUSES
from runreg.kernel.ranges import RangeMap, differences, same_value
from runreg.registry import model
from runreg.registry.events import (
    DatasetAttributesChanged,
    Event,
    FlagsCleared,
    FlagsSet,
    Layer,
    OmsValuesCleared,
    OmsValuesSet,
)
from runreg.registry.model import (
    DUPLICATED_FROM,
    GLOBAL,
    HIDDEN,
    HIDDEN_REASON,
    REVERTED_DUPLICATION,
    WAITING_DQM_GUI,
    DatasetState,
    RunState,
    is_reverted_copy,
)

#: The tools that write, each checked with its named action `datasets:dctools:<tool>` (un-hide is `hide`'s).
TOOLS = ("duplicate", "copy_columns", "batch_update", "change_states", "hide", "unhide")
ACTIONS = {tool: f"datasets:dctools:{'hide' if tool == 'unhide' else tool}" for tool in TOOLS}
#: Datasets one operation may act on (the original refused unique names beyond 12,000).
MAX_DATASETS = 12_000
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


def check_hiding_reason(text: str | None) -> str:
    """Why datasets are hidden; not the revert's own wording, which marks the copies a duplication may
    re-create (`model.is_reverted_copy`): a dataset an expert hid is never overwritten."""
    reason = check_reason("reason", text)
    if reason == REVERTED_DUPLICATION:
        raise InvalidInput("reason", f"{reason!r} is what a revert records on the copies it hides: say why")
    return reason


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
    every component's LS and its own OMS corrections. Marked `duplicated_from` (a revert hides it).

    Where `target` is a copy hidden by the revert of an earlier duplication (`redo_note`), that copy is made
    this one instead, un-hidden, by changes the registry's revert restores (a dataset is never deleted from
    the event log, so the name cannot be created again). Any other dataset of that name refuses."""
    ds = run.dataset(source)
    attributes = {
        key: value
        for key, value in ds.attributes.items()
        if not key.endswith("_state") and key not in (HIDDEN, HIDDEN_REASON, DUPLICATED_FROM)
    }
    for ws in dict.fromkeys([GLOBAL, *workspaces]):
        attributes[f"{ws}_state"] = ds.attributes.get(f"{ws}_state", WAITING_DQM_GUI)
    attributes[DUPLICATED_FROM] = source
    existing = run.datasets.get(target)
    if existing is not None:
        refusal = target_refusal(run, target)
        if refusal:
            raise InvalidInput("target_dataset_name", refusal)
        return _overwrite(existing, ds, attributes)
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


def target_refusal(run: RunState, target: str) -> str | None:
    """Why a duplication may not write into `target` of this run (None: it may: absent, or a copy a revert
    hid): a visible dataset, or one hidden for another reason, is someone's data."""
    existing = run.datasets.get(target)
    if existing is None or is_reverted_copy(existing.attributes):
        return None
    where = f"run {run.run_number} already has dataset {target!r}"
    if not model.is_hidden(existing.attributes):
        return f"{where}, visible: duplicate into a new name"
    reason = existing.attributes.get(HIDDEN_REASON) or "no reason given"
    return (
        f"{where}, hidden ({reason}), not by a revert of its duplication: un-hide it and choose another "
        "name, or duplicate into a new name"
    )


def redo_note(run: RunState, source: str, target: str) -> str | None:
    """What a duplication does to `target` beyond creating it (None: it creates it): the copy a revert hid
    is re-created from `source`."""
    existing = run.datasets.get(target)
    if existing is None or not is_reverted_copy(existing.attributes):
        return None
    return (
        f"{target} re-created over its copy hidden when its duplication was reverted: un-hidden, its "
        f"attributes, states and LS overwritten from {source} (reverting this hides it again as it was)"
    )


def _overwrite(existing: DatasetState, source: DatasetState, attributes: dict[str, Any]) -> list[Event]:
    """The events making `existing` what a fresh copy of `source` with `attributes` would be: the attribute
    delta (hiding and stale keys removed) and, per component layer and OMS key, the LS that differ set and
    those the source lacks cleared. Deltas only, so the revert restores exactly the hidden copy."""
    name = existing.name
    current = existing.attributes
    changed = {k: v for k, v in attributes.items() if k not in current or not same_value(current[k], v)}
    removed = tuple(sorted(k for k in current if k not in attributes))
    events: list[Event] = [DatasetAttributesChanged(name=name, attributes=changed, removed=removed)]
    for component in sorted(set(source.flags) | set(existing.flags)):
        for layer in (Layer.AUTOMATIC, Layer.MANUAL):
            old = existing.flags[component].layer(layer) if component in existing.flags else RangeMap()
            new = source.flags[component].layer(layer) if component in source.flags else RangeMap()
            events += [
                FlagsSet(
                    name=name, first_ls=lo, last_ls=hi, component=component, triplet=dict(t), layer=layer
                )
                for lo, hi, t in differences(old, new)
            ]
            events += [
                FlagsCleared(name=name, first_ls=g_lo, last_ls=g_hi, component=component, layer=layer)
                for lo, hi, _ in old
                for g_lo, g_hi in new.gaps(lo, hi)
            ]
    for key in sorted(set(source.oms) | set(existing.oms)):
        old, new = existing.oms.get(key, RangeMap()), source.oms.get(key, RangeMap())
        events += [
            OmsValuesSet(name=name, first_ls=lo, last_ls=hi, values={key: value})
            for lo, hi, value in differences(old, new)
        ]
        events += [
            OmsValuesCleared(name=name, first_ls=g_lo, last_ls=g_hi, keys=(key,))
            for lo, hi, _ in old
            for g_lo, g_hi in new.gaps(lo, hi)
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
