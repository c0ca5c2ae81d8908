"""The special forms, whose operands are evaluated lazily, written once for interpreter and compiler."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, Final

from runreg.classifiers.jsonlogic.js import K_ARR, UNDEFINED, kind, truthy

# A compiled node: data -> value.
Fn = Callable[[Any], Any]
# run(operand, data): the interpreter passes rule nodes and its `apply`, the compiler Fns and `operator.call`.
Run = Callable[[Any, Any], Any]
# form(items, logic, initial, data, run), `items` being the value of the first operand.
ScopedForm = Callable[[Any, Any, Any, Any, Run], Any]


def junction(is_or: bool, values: Iterable[Any]) -> Any:
    """``and`` (``or``): the first falsy (truthy) value, else the last one, else undefined.

    ``values`` is consumed lazily, so a generator short-circuits as JavaScript does.
    """
    v: Any = UNDEFINED
    for v in values:
        if truthy(v) == is_or:
            return v
    return v


def if_(branches: Sequence[Any], data: Any, run: Run) -> Any:
    """``if`` and ``?:`` on ``[cond, then, cond, then, ..., else]``; null when nothing holds and no else."""
    last = len(branches) - 1
    for i in range(0, last, 2):
        if truthy(run(branches[i], data)):
            return run(branches[i + 1], data)
    return run(branches[last], data) if last % 2 == 0 else None


def reduce_scope(current: Any, accumulator: Any) -> dict[str, Any]:
    # JavaScript keeps `undefined` members, but nothing can tell them from absent ones.
    scope = {}
    if current is not UNDEFINED:
        scope["current"] = current
    if accumulator is not UNDEFINED:
        scope["accumulator"] = accumulator
    return scope


# The array operations: `logic` sees each item as its data; only `reduce` evaluates `initial`.


def _filter(items: Any, logic: Any, initial: Any, data: Any, run: Run) -> list[Any]:
    return [x for x in items if truthy(run(logic, x))] if kind(items) == K_ARR else []


def _map(items: Any, logic: Any, initial: Any, data: Any, run: Run) -> list[Any]:
    return [run(logic, x) for x in items] if kind(items) == K_ARR else []


def _reduce(items: Any, logic: Any, initial: Any, data: Any, run: Run) -> Any:
    acc = run(initial, data)
    if kind(items) == K_ARR:
        for x in items:
            acc = run(logic, reduce_scope(x, acc))
    return acc


def _all(items: Any, logic: Any, initial: Any, data: Any, run: Run) -> bool:
    return kind(items) == K_ARR and len(items) > 0 and all(truthy(run(logic, x)) for x in items)


def _some(items: Any, logic: Any, initial: Any, data: Any, run: Run) -> bool:
    return kind(items) == K_ARR and any(truthy(run(logic, x)) for x in items)


def _none(items: Any, logic: Any, initial: Any, data: Any, run: Run) -> bool:
    return not _some(items, logic, initial, data, run)


SCOPED: Final[dict[str, ScopedForm]] = {
    "filter": _filter,
    "map": _map,
    "reduce": _reduce,
    "all": _all,
    "none": _none,
    "some": _some,
}
SPECIAL: Final[frozenset[str]] = frozenset({"if", "?:", "and", "or", *SCOPED})
