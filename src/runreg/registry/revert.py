"""Pure planning of 'revert change set N': the events that restore what N overwrote, and the conflicts."""

from __future__ import annotations

import copy
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from runreg.kernel.ranges import RangeMap
from runreg.registry.events import (
    DatasetAttributesChanged,
    DatasetCreated,
    Event,
    FlagsCleared,
    FlagsSet,
    Layer,
    OmsValuesCleared,
    OmsValuesSet,
    RunAttributesChanged,
    RunCreated,
    RunVisibilityChanged,
)
from runreg.registry.model import (
    DUPLICATED_FROM,
    HIDDEN,
    HIDDEN_REASON,
    REVERTED_DUPLICATION,
    RunState,
    apply,
    is_reverted_copy,
)

# A cell is one independently overwritable value: an attribute key, or the LS of one component/key.
Cell = tuple[str, ...]


@dataclass(frozen=True)
class Touch:
    cell: Cell
    ls: tuple[int, int] | None = None  # None: not LS-ranged

    def overlaps(self, other: Touch) -> bool:
        if self.cell != other.cell:
            return False
        if self.ls is None or other.ls is None:
            return True
        return self.ls[0] <= other.ls[1] and other.ls[0] <= self.ls[1]

    def describe(self) -> str:
        kind, *rest = self.cell
        where = f" LS {self.ls[0]}-{self.ls[1]}" if self.ls else ""
        return f"{kind} {'/'.join(rest)}{where}"


@dataclass(frozen=True)
class RevertConflictItem:
    what: str
    change_set_id: int


def touches(event: Event) -> list[Touch]:
    match event:
        case RunCreated() | DatasetCreated():
            return [Touch(("creation", getattr(event, "name", "run")))]
        case RunAttributesChanged():
            return [Touch(("oms", k)) for k in (*event.oms, *event.removed_oms)] + [
                Touch(("rr", event.layer.value, k)) for k in (*event.rr, *event.removed_rr)
            ]
        case RunVisibilityChanged():
            return [Touch(("run", "hidden"))]
        case DatasetAttributesChanged():
            return [Touch(("dataset", event.name, k)) for k in (*event.attributes, *event.removed)]
        case FlagsSet() | FlagsCleared():
            return [
                Touch(
                    ("flags", event.name, event.component, event.layer.value), (event.first_ls, event.last_ls)
                )
            ]
        case OmsValuesSet():
            return [Touch(("oms_ls", event.name, k), (event.first_ls, event.last_ls)) for k in event.values]
        case OmsValuesCleared():
            return [Touch(("oms_ls", event.name, k), (event.first_ls, event.last_ls)) for k in event.keys]
    raise TypeError(f"unknown event {type(event).__name__}")


def find_conflicts(reverted: Sequence[Event], later: Iterable[tuple[int, Event]]) -> list[RevertConflictItem]:
    mine = [t for e in reverted for t in touches(e)]
    found: dict[tuple[str, int], RevertConflictItem] = {}
    for change_set_id, event in later:
        for theirs in touches(event):
            for touch in mine:
                if touch.overlaps(theirs):
                    item = RevertConflictItem(touch.describe(), change_set_id)
                    found[(item.what, change_set_id)] = item
    return sorted(found.values(), key=lambda c: (c.change_set_id, c.what))


def is_duplication(event: Event) -> bool:
    """A dataset the DC tools created as a copy of another: its creation is reverted by hiding it."""
    return isinstance(event, DatasetCreated) and DUPLICATED_FROM in event.attributes


def restoring_events(before: RunState | None, reverted: Sequence[Event]) -> list[Event]:
    """Events that put back, for every cell `reverted` touched, the value it had just before. A duplicated
    dataset (DC tools) is hidden again, with its copied LS kept; any other creation cannot be reverted."""
    duplicated = {e.name for e in reverted if isinstance(e, DatasetCreated) and is_duplication(e)}
    creations = [t for e in reverted if not is_duplication(e) for t in touches(e) if t.cell[0] == "creation"]
    if creations or before is None:
        raise ValueError("a change set that created a run or dataset cannot be reverted")
    reverted = [e for e in reverted if e.dataset not in duplicated]
    out: list[Event] = [
        DatasetAttributesChanged(name=name, attributes={HIDDEN: True, HIDDEN_REASON: REVERTED_DUPLICATION})
        for name in sorted(duplicated)
    ]
    oms_set: dict[str, Any] = {}
    oms_removed: list[str] = []
    rr_set: dict[Layer, dict[str, Any]] = {}
    rr_removed: dict[Layer, list[str]] = {}
    ds_set: dict[str, dict[str, Any]] = {}
    ds_removed: dict[str, list[str]] = {}
    flag_spans: dict[tuple[str, str, Layer], RangeMap] = {}
    oms_spans: dict[tuple[str, str], RangeMap] = {}
    if any(isinstance(e, RunVisibilityChanged) for e in reverted):  # hidden or shown as it was, with why
        out.append(RunVisibilityChanged(hidden=before.hidden, reason=before.hidden_reason))
    for event in reverted:
        match event:
            case RunAttributesChanged():
                for key in (*event.oms, *event.removed_oms):
                    _restore_key(before.oms, key, oms_set, oms_removed)
                layer_values = before.rr_layer(event.layer)
                for key in (*event.rr, *event.removed_rr):
                    _restore_key(
                        layer_values,
                        key,
                        rr_set.setdefault(event.layer, {}),
                        rr_removed.setdefault(event.layer, []),
                    )
            case DatasetAttributesChanged():
                attrs = before.datasets[event.name].attributes if event.name in before.datasets else {}
                for key in (*event.attributes, *event.removed):
                    _restore_key(
                        attrs, key, ds_set.setdefault(event.name, {}), ds_removed.setdefault(event.name, [])
                    )
            case FlagsSet() | FlagsCleared():
                flag_spans.setdefault((event.name, event.component, event.layer), RangeMap()).assign(
                    event.first_ls, event.last_ls, True
                )
            case OmsValuesSet() | OmsValuesCleared():
                keys = event.values if isinstance(event, OmsValuesSet) else event.keys
                for key in keys:
                    oms_spans.setdefault((event.name, key), RangeMap()).assign(
                        event.first_ls, event.last_ls, True
                    )
    if oms_set or oms_removed or rr_set or rr_removed:
        layers = set(rr_set) | set(rr_removed) or {Layer.AUTOMATIC}
        for index, layer in enumerate(sorted(layers)):
            out.append(
                RunAttributesChanged(
                    oms=oms_set if index == 0 else {},
                    removed_oms=tuple(oms_removed) if index == 0 else (),
                    rr=rr_set.get(layer, {}),
                    removed_rr=tuple(rr_removed.get(layer, [])),
                    layer=layer,
                )
            )
    for name in sorted(set(ds_set) | set(ds_removed)):
        out.append(
            DatasetAttributesChanged(
                name=name, attributes=ds_set.get(name, {}), removed=tuple(ds_removed.get(name, []))
            )
        )
    for (name, component, layer), spans in sorted(flag_spans.items()):
        ds = before.datasets.get(name)
        previous = ds.flags[component].layer(layer) if ds and component in ds.flags else RangeMap()
        for first, last, _ in spans:
            for lo, hi, triplet in previous.slice(first, last):
                out.append(
                    FlagsSet(
                        name=name,
                        first_ls=lo,
                        last_ls=hi,
                        component=component,
                        triplet=dict(triplet),
                        layer=layer,
                    )
                )
            for lo, hi in previous.gaps(first, last):
                out.append(FlagsCleared(name=name, first_ls=lo, last_ls=hi, component=component, layer=layer))
    for (name, key), spans in sorted(oms_spans.items()):
        ds = before.datasets.get(name)
        previous = ds.oms.get(key, RangeMap()) if ds else RangeMap()
        for first, last, _ in spans:
            for lo, hi, value in previous.slice(first, last):
                out.append(OmsValuesSet(name=name, first_ls=lo, last_ls=hi, values={key: value}))
            for lo, hi in previous.gaps(first, last):
                out.append(OmsValuesCleared(name=name, first_ls=lo, last_ls=hi, keys=(key,)))
    return out


def _restore_key(previous: dict[str, Any], key: str, restored: dict[str, Any], removed: list[str]) -> None:
    if key in previous:
        restored[key] = previous[key]
    elif key not in removed:
        removed.append(key)


def closed_touches(current: RunState, restoring: Sequence[Event]) -> list[str]:
    """What the restoring events would change that a direct edit may not change now: RR attributes and
    online flags of a run that is no longer OPEN, flags of an offline workspace that is no longer OPEN, and
    state moves (a revert may not move a run or dataset out of order either). A copy the restoring events
    hide again as a reverted duplication (the revert of a duplication redone into its name) is exempt: its
    states and LS go back to what the revert of its duplication left, out of every table, cycle and tool,
    as reverting a duplication hides copies whatever their states."""
    found: list[str] = []
    run_open = current.status == "OPEN"
    after = copy.deepcopy(current)
    for event in restoring:
        apply(after, event)
    if after.status != current.status:
        found.append(f"state of run {current.run_number} ({current.status} -> {after.status})")
    rehidden = {name for name, ds in after.datasets.items() if is_reverted_copy(ds.attributes)}
    for event in restoring:
        if event.dataset in rehidden:
            continue
        match event:
            case RunAttributesChanged():
                changed = (set(event.rr) | set(event.removed_rr)) - {"state"}
                if not run_open and changed:
                    found.append(
                        f"RR attributes {', '.join(sorted(changed))} of run {current.run_number}, "
                        f"which is {current.status}"
                    )
            case DatasetAttributesChanged():
                for key, value in sorted(event.attributes.items()):
                    if key.endswith("_state"):
                        ds = current.datasets.get(event.name)
                        now = ds.attributes.get(key) if ds else None
                        found.append(f"{key[:-6]} state of dataset {event.name} ({now} -> {value})")
            case FlagsSet() | FlagsCleared():
                state = _flag_state(current, event.name, event.component)
                if state != "OPEN":
                    found.append(
                        f"LS {event.first_ls}-{event.last_ls} of {event.component} on {event.name} "
                        f"of run {current.run_number}, which is {state}"
                    )
    return list(dict.fromkeys(found))


def _flag_state(run: RunState, dataset: str, component: str) -> str:
    if dataset == "online":
        return run.status
    ds = run.datasets.get(dataset)
    workspace = component.split("-", 1)[0]
    return str(ds.attributes.get(f"{workspace}_state", "OPEN")) if ds else "OPEN"
