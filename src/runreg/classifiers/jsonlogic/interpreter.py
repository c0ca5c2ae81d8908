"""json-logic-js ``apply``, node by node: the reference semantics, faults raised without a node path."""

from __future__ import annotations

from functools import partial
from itertools import repeat
from typing import Any, Final

from runreg.classifiers.jsonlogic.errors import Fault, unknown_operator
from runreg.classifiers.jsonlogic.forms import SCOPED, SPECIAL, Fn, if_, if_branches, junction
from runreg.classifiers.jsonlogic.js import (
    K_ARR,
    K_STR,
    UNDEFINED,
    get_prop,
    kind,
    le,
    to_number,
    to_string,
)
from runreg.classifiers.jsonlogic.operations import EAGER, Operation, arg, op_var
from runreg.classifiers.jsonlogic.syntax import is_logic, missing_keys


def apply(rule: Any, data: Any) -> Any:
    """The value of ``rule`` on ``data``, undefined included; raises Fault where json-logic-js throws."""
    t = type(rule)
    if t is not dict:
        if t is list or t is tuple or (kind(rule) == K_ARR):
            return [apply(x, data) for x in rule]
        if not is_logic(rule):
            return rule
    elif len(rule) != 1:
        return rule
    ((op, values),) = rule.items()
    if kind(values) != K_ARR:
        values = [values]
    if op in SPECIAL:
        return _apply_special(op, values, data)
    args = [apply(v, data) for v in values]
    fn = OPERATIONS.get(op)
    if fn is None:
        raise Fault(unknown_operator(op))
    return fn(data, args)


def _apply_special(op: str, values: Any, data: Any) -> Any:
    if op == "and" or op == "or":
        return junction(op == "or", map(apply, values, repeat(data)))
    if op == "if" or op == "?:":
        pairs, otherwise = if_branches(list(map(partial, repeat(apply), values)))
        return if_(pairs, otherwise, data)
    # An absent array or logic is undefined, an absent initial value null: both apply to themselves.
    source = _operand(values, 0, UNDEFINED)
    return SCOPED[op](source, _operand(values, 1, UNDEFINED), _operand(values, 2, None), data)


def _operand(values: Any, i: int, absent: Any) -> Fn:
    return partial(apply, values[i] if i < len(values) else absent)


def _op_missing(data: Any, args: list[Any]) -> list[Any]:
    out = []
    for key in missing_keys(args):
        # json-logic-js re-applies {"var": key}, so a non-string key is evaluated again as a rule.
        value = op_var(data, [key]) if type(key) is str else apply({"var": key}, data)
        if value is None or (kind(value) == K_STR and value == ""):
            out.append(key)
    return out


def _op_missing_some(data: Any, args: list[Any]) -> Any:
    need, options = arg(args, 0), arg(args, 1)
    are_missing = apply({"missing": options}, data)
    if options is None or options is UNDEFINED:
        raise Fault(f"Cannot read properties of {to_string(options)} (reading 'length')")
    present = to_number(get_prop(options, "length")) - len(are_missing)
    return [] if le(need, present) else are_missing


# Every operation whose arguments are evaluated first, by name; the compiler runs these too.
OPERATIONS: Final[dict[str, Operation]] = {
    **EAGER,
    "missing": _op_missing,
    "missing_some": _op_missing_some,
}
OPERATORS: Final[frozenset[str]] = frozenset(OPERATIONS) | SPECIAL
