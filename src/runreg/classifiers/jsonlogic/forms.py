"""The special forms, whose operands are evaluated lazily, written once for interpreter and compiler."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, Final, TypeVar

from runreg.classifiers.jsonlogic.js import K_ARR, UNDEFINED, kind, truthy

# A compiled node: data -> value.
Fn = Callable[[Any], Any]
# run(operand, data): the interpreter's `apply` on rule nodes, or `operator.call` on the compiler's Fns.
Run = Callable[[Any, Any], Any]
# form(run, source, logic, initial, data): `logic` sees each item of the source array as its data.
ScopedForm = Callable[[Run, Any, Any, Any, Any], Any]

T = TypeVar("T")


def junction(is_or: bool, values: Iterable[Any]) -> Any:
    """``and`` (``or``): the first falsy (truthy) value, else the last one, else undefined.

    ``values`` is consumed lazily, so a generator short-circuits as JavaScript does.
    """
    v: Any = UNDEFINED
    for v in values:
        if truthy(v) == is_or:
            return v
    return v


def if_branches(operands: Sequence[T]) -> tuple[list[tuple[T, T]], T | None]:
    """``if`` and ``?:`` operands, ``[cond, then, cond, then, ..., else]``: the pairs, and the else if any."""
    pairs = [(operands[i], operands[i + 1]) for i in range(0, len(operands) - 1, 2)]
    return pairs, operands[-1] if len(operands) % 2 else None


def if_(run: Run, pairs: Sequence[tuple[Any, Any]], otherwise: Any, data: Any) -> Any:
    """The value after the first truthy condition, else the else branch, else null."""
    for cond, then in pairs:
        if truthy(run(cond, data)):
            return run(then, data)
    return None if otherwise is None else run(otherwise, data)


def reduce_scope(current: Any, accumulator: Any) -> dict[str, Any]:
    # JavaScript keeps `undefined` members, but nothing can tell them from absent ones.
    scope = {}
    if current is not UNDEFINED:
        scope["current"] = current
    if accumulator is not UNDEFINED:
        scope["accumulator"] = accumulator
    return scope


# The array operations. Only `reduce` evaluates `initial`, after the source, as json-logic-js does.


def _filter(run: Run, source: Any, logic: Any, initial: Any, data: Any) -> list[Any]:
    items = run(source, data)
    return [x for x in items if truthy(run(logic, x))] if kind(items) == K_ARR else []


def _map(run: Run, source: Any, logic: Any, initial: Any, data: Any) -> list[Any]:
    items = run(source, data)
    return [run(logic, x) for x in items] if kind(items) == K_ARR else []


def _reduce(run: Run, source: Any, logic: Any, initial: Any, data: Any) -> Any:
    items = run(source, data)
    acc = run(initial, data)
    if kind(items) == K_ARR:
        for x in items:
            acc = run(logic, reduce_scope(x, acc))
    return acc


def _all(run: Run, source: Any, logic: Any, initial: Any, data: Any) -> bool:
    items = run(source, data)
    return kind(items) == K_ARR and len(items) > 0 and all(truthy(run(logic, x)) for x in items)


def _some(run: Run, source: Any, logic: Any, initial: Any, data: Any) -> bool:
    items = run(source, data)
    return kind(items) == K_ARR and any(truthy(run(logic, x)) for x in items)


def _none(run: Run, source: Any, logic: Any, initial: Any, data: Any) -> bool:
    return not _some(run, source, logic, initial, data)


SCOPED: Final[dict[str, ScopedForm]] = {
    "filter": _filter,
    "map": _map,
    "reduce": _reduce,
    "all": _all,
    "none": _none,
    "some": _some,
}
SPECIAL: Final[frozenset[str]] = frozenset({"if", "?:", "and", "or", *SCOPED})
