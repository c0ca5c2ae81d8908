"""The operations whose arguments are all evaluated first, and ``var``'s access to the data."""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Callable, Mapping
from typing import Any, Final

from runreg.classifiers.jsonlogic.errors import Fault
from runreg.classifiers.jsonlogic.js import (
    INF,
    K_ARR,
    K_OBJ,
    K_STR,
    NAN,
    UNDEFINED,
    export,
    get_prop,
    js_add,
    js_length,
    js_substr,
    kind,
    le,
    loose_eq,
    lt,
    num_out,
    parse_float,
    strict_eq,
    to_number,
    to_string,
    truthy,
)

# The package's logger, whose name logging configurations use.
_log = logging.getLogger("runreg.classifiers.jsonlogic")

# fn(data, evaluated_args)
Operation = Callable[[Any, list[Any]], Any]


def walk(data: Any, parts: tuple[str, ...], not_found: Any) -> Any:
    for key in parts:
        if data is None or data is UNDEFINED:
            return not_found
        data = data.get(key, UNDEFINED) if type(data) is dict else get_prop(data, key)
        if data is UNDEFINED:
            return not_found
    return data


def path_parts(a: Any) -> tuple[str, ...] | None:
    """None means "the whole data" (an undefined, null or empty path)."""
    if a is UNDEFINED or a is None or (kind(a) == K_STR and a == ""):
        return None
    return tuple(to_string(a).split("."))


def arg(args: list[Any], i: int) -> Any:
    return args[i] if i < len(args) else UNDEFINED


def op_var(data: Any, args: list[Any]) -> Any:
    b = arg(args, 1)
    parts = path_parts(arg(args, 0))
    if parts is None:
        return data
    return walk(data, parts, None if b is UNDEFINED else b)


def _binary(fn: Callable[[Any, Any], bool]) -> Operation:
    return lambda data, args: fn(arg(args, 0), arg(args, 1))


def _between(cmp: Callable[[Any, Any], bool]) -> Operation:
    """``<`` and ``<=``, which take a third argument to test ``a < b < c``."""

    def op(data: Any, args: list[Any]) -> bool:
        a, b, c = arg(args, 0), arg(args, 1), arg(args, 2)
        return cmp(a, b) if c is UNDEFINED else cmp(a, b) and cmp(b, c)

    return op


def op_in(a: Any, b: Any) -> bool:
    if not truthy(b):
        return False
    k = kind(b)
    if k == K_STR:
        return to_string(a) in b
    if k == K_ARR:
        return any(strict_eq(a, x) for x in b)
    if k == K_OBJ and isinstance(b, Mapping) and "indexOf" in b:
        raise Fault("b.indexOf is not a function")
    return False


def _op_cat(data: Any, args: list[Any]) -> str:
    return "".join("" if x is None or x is UNDEFINED else to_string(x) for x in args)


def _op_substr(data: Any, args: list[Any]) -> str:
    source, start, end = arg(args, 0), arg(args, 1), arg(args, 2)
    s = to_string(source)
    if lt(end, 0):
        # PHP-style negative length; `temp.length + end` is JavaScript `+`, so a string end concatenates.
        temp = js_substr(s, start, UNDEFINED)
        return js_substr(temp, 0, js_add(js_length(temp), end))
    return js_substr(s, start, end)


def _op_add(data: Any, args: list[Any]) -> int | float:
    total = 0.0
    for x in args:
        total = total + parse_float(x)
    return num_out(total)


def _op_mul(data: Any, args: list[Any]) -> Any:
    if not args:
        raise Fault("Reduce of empty array with no initial value")
    if len(args) == 1:
        return args[0]  # Array.reduce without an initial value never calls back: no parseFloat.
    product = parse_float(args[0])
    for x in args[1:]:
        product = product * parse_float(x)
    return num_out(product)


def _op_sub(data: Any, args: list[Any]) -> int | float:
    a, b = arg(args, 0), arg(args, 1)
    if b is UNDEFINED:
        return num_out(-to_number(a))
    return num_out(to_number(a) - to_number(b))


def _op_div(data: Any, args: list[Any]) -> int | float:
    a, b = to_number(arg(args, 0)), to_number(arg(args, 1))
    if b == 0:
        if a == 0 or a != a:
            return NAN
        return math.copysign(INF, a) * math.copysign(1.0, b)
    return num_out(a / b)


def _op_mod(data: Any, args: list[Any]) -> int | float:
    a, b = to_number(arg(args, 0)), to_number(arg(args, 1))
    if a != a or b != b or a in (INF, -INF) or b == 0:
        return NAN
    if b in (INF, -INF) or a == 0:
        return num_out(a)
    return num_out(math.fmod(a, b))


def _extreme(pick: Callable[[list[float]], float], empty: float, zero: float) -> Operation:
    """Math.min and Math.max: NaN wins, -0 is below 0, and no argument gives ``empty``."""
    zero_sign = math.copysign(1.0, zero)

    def op(data: Any, args: list[Any]) -> int | float:
        nums = [to_number(x) for x in args]
        if not nums:
            return empty
        if any(n != n for n in nums):
            return NAN
        r = pick(nums)
        if r == 0 and any(n == 0 and math.copysign(1.0, n) == zero_sign for n in nums):
            r = zero
        return num_out(r)

    return op


def _op_merge(data: Any, args: list[Any]) -> list[Any]:
    out: list[Any] = []
    for x in args:
        if kind(x) == K_ARR:
            out.extend(x)
        else:
            out.append(x)
    return out


def _op_log(data: Any, args: list[Any]) -> Any:
    a = arg(args, 0)
    _log.info("json-logic log: %s", json.dumps(export(a), default=repr))
    return a


# All but `missing` and `missing_some`, which apply rules of their own (see the interpreter).
EAGER: Final[dict[str, Operation]] = {
    "==": _binary(loose_eq),
    "===": _binary(strict_eq),
    "!=": _binary(lambda a, b: not loose_eq(a, b)),
    "!==": _binary(lambda a, b: not strict_eq(a, b)),
    ">": _binary(lambda a, b: lt(b, a)),
    ">=": _binary(lambda a, b: le(b, a)),
    "<": _between(lt),
    "<=": _between(le),
    "!!": lambda data, args: truthy(arg(args, 0)),
    "!": lambda data, args: not truthy(arg(args, 0)),
    "%": _op_mod,
    "log": _op_log,
    "in": _binary(op_in),
    "cat": _op_cat,
    "substr": _op_substr,
    "+": _op_add,
    "*": _op_mul,
    "-": _op_sub,
    "/": _op_div,
    "min": _extreme(min, INF, -0.0),
    "max": _extreme(max, -INF, 0.0),
    "merge": _op_merge,
    "var": op_var,
}
