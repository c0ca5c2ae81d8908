"""Pure reading of a change set as a diff: what each of its events changed, old value to new value."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from runreg.kernel.ranges import RangeMap, same_value
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
from runreg.registry.model import DUPLICATED_FROM, ComponentFlags, DatasetState, RunState, apply


class Absent:
    """No value (an attribute not set, an LS with no flag): distinct from a JSON null."""

    def __repr__(self) -> str:
        return "ABSENT"


ABSENT: Any = Absent()

#: A value over LS first..last (ABSENT where nothing is set), covering an event's whole range.
Piece = tuple[int, int, Any]


@dataclass(frozen=True)
class Change:
    """One line of a change set's diff.

    `area` is what changed: `run` (created, or its `hidden` flag and `hidden_reason`), `oms`, `rr` (run
    attributes), `dataset` (created or its attributes), `flags` (`key` is the component) or `oms_ls` (per-LS
    OMS values, `key` is the OMS key).
    Attributes carry one old and one new value; LS-ranged changes carry pieces over `ls`. Values are what a
    person saw (manual over automatic); `shadowed` marks a change of one layer that the other hides (an
    automatic status under a manual one), shown with that layer's own old and new values."""

    run_number: int
    area: str
    key: str
    old: Any = ABSENT
    new: Any = ABSENT
    dataset: str | None = None
    ls: tuple[int, int] | None = None
    layer: str | None = None
    shadowed: bool = False


def describe(run_number: int, before: RunState | None, events: Sequence[Event]) -> Iterator[Change]:
    """The changes `events` (one change set's events of one run, in stream order) made to `before` (the
    run just before them; None when they create it). Folds as it goes, so each old value is the one just
    before its own event."""
    state = before
    for event in events:
        if state is None:
            state = RunState(run_number)
        yield from _changes(state, event)


def _changes(run: RunState, event: Event) -> Iterator[Change]:
    number = run.run_number
    match event:
        case RunCreated():
            apply(run, event)
            yield Change(number, "run", "created", layer=event.layer.value)
            yield from _attributes(number, "oms", {}, event.oms)
            yield from _attributes(number, "rr", {}, event.rr, layer=event.layer.value)
        case RunAttributesChanged():
            keys_oms = [*event.oms, *event.removed_oms]
            keys_rr = [*event.rr, *event.removed_rr]
            oms_before, rr_before, layer_before = dict(run.oms), run.rr, dict(run.rr_layer(event.layer))
            apply(run, event)
            yield from _attributes(number, "oms", oms_before, run.oms, keys=keys_oms)
            yield from _layered(
                number, keys_rr, (rr_before, run.rr), (layer_before, run.rr_layer(event.layer)), event.layer
            )
        case RunVisibilityChanged():
            old = (run.hidden, run.hidden_reason)
            apply(run, event)
            yield Change(number, "run", "hidden", old[0], run.hidden)
            if old[1] != run.hidden_reason:
                yield Change(number, "run", "hidden_reason", old[1] or ABSENT, run.hidden_reason or ABSENT)
        case DatasetCreated():
            apply(run, event)
            yield Change(number, "dataset", "created", dataset=event.name)
            yield from _attributes(number, "dataset", {}, event.attributes, dataset=event.name)
        case DatasetAttributesChanged():
            ds = run.datasets.get(event.name)
            old = dict(ds.attributes) if ds else {}
            apply(run, event)
            keys = [*event.attributes, *event.removed]
            new = run.datasets[event.name].attributes
            yield from _attributes(number, "dataset", old, new, keys=keys, dataset=event.name)
        case FlagsSet() | FlagsCleared():
            yield _flag_change(run, event)
        case OmsValuesSet() | OmsValuesCleared():
            keys = list(event.values) if isinstance(event, OmsValuesSet) else list(event.keys)
            span = (event.first_ls, event.last_ls)
            old = {key: pieces(_oms(run, event.name, key), *span) for key in keys}
            apply(run, event)
            for key in keys:
                new = pieces(_oms(run, event.name, key), *span)
                yield Change(number, "oms_ls", key, old[key], new, dataset=event.name, ls=span)
        case _:
            raise TypeError(f"unknown event {type(event).__name__}")


def _flag_change(run: RunState, event: FlagsSet | FlagsCleared) -> Change:
    span = (event.first_ls, event.last_ls)
    flags: Callable[[], ComponentFlags] = lambda: run.datasets[event.name].flags.get(  # noqa: E731
        event.component, ComponentFlags()
    )
    seen_before = pieces(flags().effective(), *span)
    layer_before = pieces(flags().layer(event.layer), *span)
    apply(run, event)
    seen_after = pieces(flags().effective(), *span)
    layer_after = pieces(flags().layer(event.layer), *span)
    shadowed = _same_pieces(seen_before, seen_after) and not _same_pieces(layer_before, layer_after)
    old, new = (layer_before, layer_after) if shadowed else (seen_before, seen_after)
    return Change(
        run.run_number,
        "flags",
        event.component,
        old,
        new,
        dataset=event.name,
        ls=span,
        layer=event.layer.value,
        shadowed=shadowed,
    )


def _attributes(
    run_number: int,
    area: str,
    old: Mapping[str, Any],
    new: Mapping[str, Any],
    *,
    keys: Sequence[str] | None = None,
    dataset: str | None = None,
    layer: str | None = None,
) -> Iterator[Change]:
    for key in keys if keys is not None else list(new):
        yield Change(
            run_number, area, key, old.get(key, ABSENT), new.get(key, ABSENT), dataset=dataset, layer=layer
        )


def _layered(
    run_number: int,
    keys: Sequence[str],
    seen: tuple[Mapping[str, Any], Mapping[str, Any]],
    own: tuple[Mapping[str, Any], Mapping[str, Any]],
    layer: Layer,
) -> Iterator[Change]:
    for key in keys:
        seen_old, seen_new = seen[0].get(key, ABSENT), seen[1].get(key, ABSENT)
        own_old, own_new = own[0].get(key, ABSENT), own[1].get(key, ABSENT)
        shadowed = _same(seen_old, seen_new) and not _same(own_old, own_new)
        old, new = (own_old, own_new) if shadowed else (seen_old, seen_new)
        yield Change(run_number, "rr", key, old, new, layer=layer.value, shadowed=shadowed)


def _oms(run: RunState, dataset: str, key: str) -> RangeMap:
    ds: DatasetState | None = run.datasets.get(dataset)
    return ds.oms.get(key, RangeMap()) if ds else RangeMap()


def pieces(ranges: RangeMap, first: int, last: int) -> list[Piece]:
    """The values of LS first..last in order, ABSENT over the gaps, adjacent equal pieces merged."""
    found: list[Piece] = [
        *ranges.slice(first, last),
        *((lo, hi, ABSENT) for lo, hi in ranges.gaps(first, last)),
    ]
    return sorted(found, key=lambda piece: piece[0])


def _same(a: Any, b: Any) -> bool:
    if a is ABSENT or b is ABSENT:
        return a is b
    return same_value(a, b)


def _same_pieces(a: Sequence[Piece], b: Sequence[Piece]) -> bool:
    return len(a) == len(b) and all(x[:2] == y[:2] and _same(x[2], y[2]) for x, y in zip(a, b, strict=True))


def creates(events: Sequence[Event]) -> bool:
    """Whether the events create a run or a dataset (such a change set cannot be reverted), other than a
    dataset the DC tools duplicated (reverting hides it)."""
    return any(
        isinstance(event, RunCreated)
        or (isinstance(event, DatasetCreated) and DUPLICATED_FROM not in event.attributes)
        for event in events
    )
