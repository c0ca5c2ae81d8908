"""The special forms, whose operands are evaluated lazily, written once for interpreter and compiler."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, Final, TypeVar

from runreg.classifiers.jsonlogic.js import K_ARR, UNDEFINED, kind, truthy

# An operand ready to evaluate, data -> value: a compiled node, or the interpreter's apply bound to a node.
Fn = Callable[[Any], Any]
# form(source, logic, initial, data): `logic` sees each item of the source array as its data.
ScopedForm = Callable[[Fn, Fn, Fn, Any], Any]

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
    pairs = list(zip(operands[:-1:2], operands[1::2], strict=True))
    return pairs, operands[-1] if len(operands) % 2 else None


def if_(pairs: Sequence[tuple[Fn, Fn]], otherwise: Fn | None, data: Any) -> Any:
    """The value after the first truthy condition, else the else branch, else null."""
    for cond, then in pairs:
        if truthy(cond(data)):
            return then(data)
    return None if otherwise is None else otherwise(data)


def reduce_scope(current: Any, accumulator: Any) -> dict[str, Any]:
    # JavaScript keeps `undefined` members, but nothing can tell them from absent ones.
    scope = {}
    if current is not UNDEFINED:
        scope["current"] = current
    if accumulator is not UNDEFINED:
        scope["accumulator"] = accumulator
    return scope


# The array operations. Only `reduce` evaluates `initial`, after the source, as json-logic-js does.


def _filter(source: Fn, logic: Fn, initial: Fn, data: Any) -> list[Any]:
    items = source(data)
    return [x for x in items if truthy(logic(x))] if kind(items) == K_ARR else []


def _map(source: Fn, logic: Fn, initial: Fn, data: Any) -> list[Any]:
    items = source(data)
    return [logic(x) for x in items] if kind(items) == K_ARR else []


def _reduce(source: Fn, logic: Fn, initial: Fn, data: Any) -> Any:
    items = source(data)
    acc = initial(data)
    if kind(items) == K_ARR:
        for x in items:
            acc = logic(reduce_scope(x, acc))
    return acc


def _all(source: Fn, logic: Fn, initial: Fn, data: Any) -> bool:
    items = source(data)
    return kind(items) == K_ARR and len(items) > 0 and all(truthy(logic(x)) for x in items)


def _some(source: Fn, logic: Fn, initial: Fn, data: Any) -> bool:
    items = source(data)
    return kind(items) == K_ARR and any(truthy(logic(x)) for x in items)


def _none(source: Fn, logic: Fn, initial: Fn, data: Any) -> bool:
    return not _some(source, logic, initial, data)


SCOPED: Final[dict[str, ScopedForm]] = {
    "filter": _filter,
    "map": _map,
    "reduce": _reduce,
    "all": _all,
    "none": _none,
    "some": _some,
}
SPECIAL: Final[frozenset[str]] = frozenset({"if", "?:", "and", "or", *SCOPED})
