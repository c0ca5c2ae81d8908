"""JSON-logic with exactly the semantics of json-logic-js 2.0.5, the engine the original Run Registry ran."""

from __future__ import annotations

import json
import logging
import math
import re
from collections.abc import Callable, Mapping
from typing import Any, Final

from runreg.kernel.errors import InvalidInput

__all__ = [
    "OPERATORS",
    "InvalidRule",
    "compile_failing_leaves",
    "compile_predicate",
    "compile_rule",
    "evaluate",
    "failing_leaves",
    "has_dynamic_vars",
    "trace",
    "truthy",
    "validate",
    "variables",
]

_log = logging.getLogger(__name__)

Fn = Callable[[Any], Any]


class InvalidRule(InvalidInput):
    """The rule is not valid JSON-logic; ``path`` points at the offending node, e.g. ``rule/and/3/==/0``."""

    def __init__(self, path: str, problem: str) -> None:
        super().__init__("rule", f"{path}: {problem}", details={"path": path, "problem": problem})
        # The path already starts with "rule", so "rule: rule/and/0: ..." would only stutter.
        self.message = f"{path}: {problem}"
        self.args = (self.message,)
        self.path = path
        self.problem = problem


class _Fault(Exception):
    """Where json-logic-js would throw at evaluation time; converted to InvalidRule with a path."""

    def __init__(self, problem: str) -> None:
        super().__init__(problem)
        self.problem = problem


class _Undefined:
    """JavaScript ``undefined``, which json-logic-js tells from null (``var`` defaults, ``==``, ``<``)."""

    __slots__ = ()
    _instance: _Undefined | None = None

    def __new__(cls) -> _Undefined:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "undefined"

    def __bool__(self) -> bool:
        return False

    def __reduce__(self) -> str:
        return "_UNDEF"


_UNDEF: Final = _Undefined()

# JavaScript types of Python values. Arrays are lists (and tuples); objects are mappings.
_K_UNDEF, _K_NULL, _K_BOOL, _K_NUM, _K_STR, _K_ARR, _K_OBJ = range(7)
_KINDS: dict[type, int] = {
    _Undefined: _K_UNDEF,
    type(None): _K_NULL,
    bool: _K_BOOL,
    int: _K_NUM,
    float: _K_NUM,
    str: _K_STR,
    list: _K_ARR,
    tuple: _K_ARR,
    dict: _K_OBJ,
}


def _kind(v: Any) -> int:
    k = _KINDS.get(type(v))
    if k is not None:
        return k
    # Subclasses (IntEnum, str enums, OrderedDict...); bool cannot be subclassed.
    if isinstance(v, int | float):
        return _K_NUM
    if isinstance(v, str):
        return _K_STR
    if isinstance(v, list | tuple):
        return _K_ARR
    return _K_OBJ


def _is_logic(v: Any) -> bool:
    """json-logic-js ``is_logic``: any object with exactly one key is an operation, never data."""
    return _kind(v) == _K_OBJ and isinstance(v, Mapping) and len(v) == 1


# ----------------------------------------------------------------------------------------------------
# JavaScript abstract operations
# ----------------------------------------------------------------------------------------------------

_NAN: Final = math.nan
_INF: Final = math.inf
_MAX_SAFE: Final = 2**53
# StrWhiteSpaceChar: what String.prototype.trim, Number("...") and parseFloat skip.
_JS_WS: Final = (
    "\t\n\v\f\r \u00a0\u1680"
    + "".join(map(chr, range(0x2000, 0x200B)))
    + "\u2028\u2029\u202f\u205f\u3000\ufeff"
)
_DECIMAL = r"[+-]?(?:Infinity|(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)"
_STRING_NUMBER_RE: Final = re.compile(_DECIMAL + r"\Z")
_PARSE_FLOAT_RE: Final = re.compile(_DECIMAL)
_RADIX_RE: Final = re.compile(r"0(?:[xX](?P<x>[0-9a-fA-F]+)|[oO](?P<o>[0-7]+)|[bB](?P<b>[01]+))\Z")
_ASTRAL_RE: Final = re.compile("[\U00010000-\U0010ffff]")


def truthy(value: Any) -> bool:
    """json-logic-js ``truthy``: JavaScript truthiness, except that an empty array is falsy."""
    return _truthy(value)


def _truthy(v: Any) -> bool:
    if v is True:
        return True
    if v is False or v is None:
        return False
    t = type(v)
    if t is str:
        return v != ""
    if t is int:
        return v != 0
    if t is float:
        return v == v and v != 0.0
    if t is list:
        return len(v) != 0
    k = _kind(v)
    if k == _K_NUM:
        return v == v and v != 0
    if k in (_K_STR, _K_ARR):
        return len(v) != 0
    return k == _K_OBJ


def _int_to_float(v: int) -> float:
    try:
        return float(v)
    except OverflowError:
        return _INF if v > 0 else -_INF


def _num_to_js(v: Any) -> str:
    """Number::toString, which differs from Python's repr (``1`` not ``1.0``, ``1e-7`` not ``1e-07``...)."""
    if not isinstance(v, float):
        if -_MAX_SAFE <= v <= _MAX_SAFE:
            return str(int(v))
        v = _int_to_float(v)
    if v != v:
        return "NaN"
    if v in (_INF, -_INF):
        return "Infinity" if v > 0 else "-Infinity"
    if v == 0:
        return "0"
    sign = "-" if v < 0 else ""
    mantissa, _, exp = repr(abs(v)).partition("e")
    int_part, _, frac = mantissa.partition(".")
    all_digits = int_part + frac
    stripped = all_digits.lstrip("0")
    n = len(int_part) - (len(all_digits) - len(stripped)) + (int(exp) if exp else 0)
    digits = stripped.rstrip("0")
    k = len(digits)
    if k <= n <= 21:
        body = digits + "0" * (n - k)
    elif 0 < n <= 21:
        body = digits[:n] + "." + digits[n:]
    elif -6 < n <= 0:
        body = "0." + "0" * -n + digits
    else:
        e = n - 1
        exponent = ("+" if e >= 0 else "-") + str(abs(e))
        body = (digits if k == 1 else digits[0] + "." + digits[1:]) + "e" + exponent
    return sign + body


def _to_string(v: Any) -> str:
    if type(v) is str:
        return v
    k = _kind(v)
    if k == _K_NUM:
        return _num_to_js(v)
    if k == _K_BOOL:
        return "true" if v else "false"
    if k == _K_NULL:
        return "null"
    if k == _K_UNDEF:
        return "undefined"
    if k == _K_STR:
        return str(v)
    if k == _K_ARR:
        return ",".join("" if x is None or x is _UNDEF else _to_string(x) for x in v)
    return "[object Object]"


def _to_primitive(v: Any) -> Any:
    k = _kind(v)
    return _to_string(v) if k in (_K_ARR, _K_OBJ) else v


def _string_to_number(s: str) -> float:
    s = s.strip(_JS_WS)
    if not s:
        return 0.0
    if _STRING_NUMBER_RE.match(s):
        if s[-1] == "y":
            return -_INF if s[0] == "-" else _INF
        return float(s)
    m = _RADIX_RE.match(s)
    if m:
        text, base = next((m.group(g), b) for g, b in (("x", 16), ("o", 8), ("b", 2)) if m.group(g))
        return _int_to_float(int(text, base))
    return _NAN


def _to_number(v: Any) -> float:
    t = type(v)
    if t is float:
        return v  # type: ignore[no-any-return]
    if t is int:
        return _int_to_float(v)
    k = _kind(v)
    if k == _K_NUM:
        return float(v) if isinstance(v, float) else _int_to_float(v)
    if k == _K_NULL:
        return 0.0
    if k == _K_BOOL:
        return 1.0 if v else 0.0
    if k == _K_UNDEF:
        return _NAN
    return _string_to_number(_to_string(v))


def _parse_float(v: Any) -> float:
    """The global parseFloat, which `+` and `*` use: a numeric prefix of String(v), NaN when there is none."""
    if _kind(v) == _K_NUM:
        # parseFloat goes through String(v), which turns -0 into "0".
        return _to_number(v) + 0.0
    m = _PARSE_FLOAT_RE.match(_to_string(v).lstrip(_JS_WS))
    if not m:
        return _NAN
    text = m.group()
    if text[-1] == "y":
        return -_INF if text[0] == "-" else _INF
    return float(text)


def _to_integer_or_infinity(v: Any) -> float:
    n = _to_number(v)
    if n != n:
        return 0
    if n in (_INF, -_INF):
        return n
    return math.trunc(n)


def _num_out(f: float) -> int | float:
    """JavaScript has one number type; integral results come back as Python ints (but -0 stays -0.0)."""
    if f.is_integer() and -_MAX_SAFE <= f <= _MAX_SAFE and (f != 0 or math.copysign(1.0, f) > 0):
        return int(f)
    return f


def _utf16_units(s: str) -> bytes | None:
    """JavaScript strings index UTF-16 code units; only strings beyond the BMP need the detour."""
    if s.isascii() or not _ASTRAL_RE.search(s):
        return None
    return s.encode("utf-16-le", "surrogatepass")


def _js_length(s: str) -> int:
    units = _utf16_units(s)
    return len(s) if units is None else len(units) // 2


def _js_slice(s: str, start: int, end: int) -> str:
    units = _utf16_units(s)
    if units is None:
        return s[start:end]
    return units[2 * start : 2 * end].decode("utf-16-le", "surrogatepass")


def _str_lt(a: str, b: str) -> bool:
    # JavaScript compares UTF-16 code units, Python code points: they differ only beyond the BMP.
    if a.isascii() and b.isascii():
        return a < b
    return a.encode("utf-16-be", "surrogatepass") < b.encode("utf-16-be", "surrogatepass")


def _loose_eq(a: Any, b: Any) -> bool:
    """Abstract equality (``==``)."""
    t = type(a)
    if t is type(b) and (t is str or t is bool or t is int or t is float or a is None):
        return a == b  # type: ignore[no-any-return]
    return _loose_eq_slow(a, b)


def _loose_eq_slow(a: Any, b: Any) -> bool:
    ka, kb = _kind(a), _kind(b)
    while True:
        if ka == kb:
            if ka <= _K_NULL:
                return True
            if ka >= _K_ARR:
                return a is b
            return a == b  # type: ignore[no-any-return]
        if ka <= _K_NULL or kb <= _K_NULL:
            return ka <= _K_NULL and kb <= _K_NULL
        if ka == _K_NUM and kb == _K_STR:
            return a == _string_to_number(b)  # type: ignore[no-any-return]
        if ka == _K_STR and kb == _K_NUM:
            return _string_to_number(a) == b  # type: ignore[no-any-return]
        if ka == _K_BOOL:
            a, ka = (1 if a else 0), _K_NUM
        elif kb == _K_BOOL:
            b, kb = (1 if b else 0), _K_NUM
        elif ka >= _K_ARR and kb in (_K_NUM, _K_STR):
            a, ka = _to_string(a), _K_STR
        elif kb >= _K_ARR and ka in (_K_NUM, _K_STR):
            b, kb = _to_string(b), _K_STR
        else:
            return False


def _strict_eq(a: Any, b: Any) -> bool:
    """Strict equality (``===``): no coercion; arrays and objects are equal only to themselves."""
    ka, kb = _kind(a), _kind(b)
    if ka != kb:
        return False
    if ka <= _K_NULL:
        return True
    if ka >= _K_ARR:
        return a is b
    return a == b  # type: ignore[no-any-return]


def _lt(a: Any, b: Any) -> bool:
    """``a < b``: strings compare as strings, everything else as numbers (NaN makes it false)."""
    ta, tb = type(a), type(b)
    if (ta is int or ta is float) and (tb is int or tb is float):
        return a < b  # type: ignore[no-any-return]
    if ta is str and tb is str:
        return _str_lt(a, b)
    pa, pb = _to_primitive(a), _to_primitive(b)
    if _kind(pa) == _K_STR and _kind(pb) == _K_STR:
        return _str_lt(str(pa), str(pb))
    return _to_number(pa) < _to_number(pb)


def _le(a: Any, b: Any) -> bool:
    """``a <= b``, which is ``!(b < a)`` except that an undefined comparison (NaN) is false."""
    ta, tb = type(a), type(b)
    if (ta is int or ta is float) and (tb is int or tb is float):
        return a <= b  # type: ignore[no-any-return]
    if ta is str and tb is str:
        return not _str_lt(b, a)
    pa, pb = _to_primitive(a), _to_primitive(b)
    if _kind(pa) == _K_STR and _kind(pb) == _K_STR:
        return not _str_lt(str(pb), str(pa))
    return _to_number(pa) <= _to_number(pb)


def _js_add(a: Any, b: Any) -> Any:
    """The binary ``+`` operator (not json-logic's ``+``): concatenates as soon as one side is a string."""
    pa, pb = _to_primitive(a), _to_primitive(b)
    if _kind(pa) == _K_STR or _kind(pb) == _K_STR:
        return _to_string(pa) + _to_string(pb)
    return _to_number(pa) + _to_number(pb)


# ----------------------------------------------------------------------------------------------------
# Data access (`var`)
# ----------------------------------------------------------------------------------------------------


def _get_prop(obj: Any, key: str) -> Any:
    """``obj[key]`` for a JSON value; properties inherited from JavaScript prototypes are not modelled."""
    k = _kind(obj)
    if k == _K_OBJ:
        return obj.get(key, _UNDEF) if isinstance(obj, Mapping) else _UNDEF
    if k == _K_ARR:
        if key == "length":
            return len(obj)
        if key.isascii() and key.isdigit() and (key == "0" or key[0] != "0"):
            i = int(key)
            return obj[i] if i < len(obj) else _UNDEF
        return _UNDEF
    if k == _K_STR:
        if key == "length":
            return _js_length(obj)
        if key.isascii() and key.isdigit() and (key == "0" or key[0] != "0"):
            i = int(key)
            return _js_slice(obj, i, i + 1) if i < _js_length(obj) else _UNDEF
    return _UNDEF


def _walk(data: Any, parts: tuple[str, ...], not_found: Any) -> Any:
    for key in parts:
        if data is None or data is _UNDEF:
            return not_found
        data = data.get(key, _UNDEF) if type(data) is dict else _get_prop(data, key)
        if data is _UNDEF:
            return not_found
    return data


def _path_parts(a: Any) -> tuple[str, ...] | None:
    """None means "the whole data" (an undefined, null or empty path)."""
    if a is _UNDEF or a is None or (_kind(a) == _K_STR and a == ""):
        return None
    return tuple(_to_string(a).split("."))


# ----------------------------------------------------------------------------------------------------
# Operations whose arguments are all evaluated first: fn(data, evaluated_args)
# ----------------------------------------------------------------------------------------------------


def _arg(args: list[Any], i: int) -> Any:
    return args[i] if i < len(args) else _UNDEF


def _op_var(data: Any, args: list[Any]) -> Any:
    b = _arg(args, 1)
    parts = _path_parts(_arg(args, 0))
    if parts is None:
        return data
    return _walk(data, parts, None if b is _UNDEF else b)


def _op_lt(data: Any, args: list[Any]) -> bool:
    a, b, c = _arg(args, 0), _arg(args, 1), _arg(args, 2)
    return _lt(a, b) if c is _UNDEF else _lt(a, b) and _lt(b, c)


def _op_le(data: Any, args: list[Any]) -> bool:
    a, b, c = _arg(args, 0), _arg(args, 1), _arg(args, 2)
    return _le(a, b) if c is _UNDEF else _le(a, b) and _le(b, c)


def _op_in(a: Any, b: Any) -> bool:
    if not _truthy(b):
        return False
    k = _kind(b)
    if k == _K_STR:
        return _to_string(a) in b
    if k == _K_ARR:
        return any(_strict_eq(a, x) for x in b)
    if k == _K_OBJ and isinstance(b, Mapping) and "indexOf" in b:
        raise _Fault("b.indexOf is not a function")
    return False


def _op_cat(data: Any, args: list[Any]) -> str:
    return "".join("" if x is None or x is _UNDEF else _to_string(x) for x in args)


def _js_substr(s: str, start: Any, length: Any) -> str:
    """String.prototype.substr."""
    size = _js_length(s)
    i = _to_integer_or_infinity(start)
    i = 0 if i == -_INF else max(size + i, 0) if i < 0 else min(i, size)
    n = size if length is _UNDEF else _to_integer_or_infinity(length)
    end = min(i + min(max(n, 0), size), size)
    return _js_slice(s, int(i), int(end)) if i < end else ""


def _op_substr(data: Any, args: list[Any]) -> str:
    source, start, end = _arg(args, 0), _arg(args, 1), _arg(args, 2)
    s = _to_string(source)
    if _lt(end, 0):
        # PHP-style negative length; `temp.length + end` is JavaScript `+`, so a string end concatenates.
        temp = _js_substr(s, start, _UNDEF)
        return _js_substr(temp, 0, _js_add(_js_length(temp), end))
    return _js_substr(s, start, end)


def _op_add(data: Any, args: list[Any]) -> int | float:
    total = 0.0
    for x in args:
        total = total + _parse_float(x)
    return _num_out(total)


def _op_mul(data: Any, args: list[Any]) -> Any:
    if not args:
        raise _Fault("Reduce of empty array with no initial value")
    if len(args) == 1:
        return args[0]  # Array.reduce without an initial value never calls back: no parseFloat.
    product = _parse_float(args[0])
    for x in args[1:]:
        product = product * _parse_float(x)
    return _num_out(product)


def _op_sub(data: Any, args: list[Any]) -> int | float:
    a, b = _arg(args, 0), _arg(args, 1)
    if b is _UNDEF:
        return _num_out(-_to_number(a))
    return _num_out(_to_number(a) - _to_number(b))


def _op_div(data: Any, args: list[Any]) -> int | float:
    a, b = _to_number(_arg(args, 0)), _to_number(_arg(args, 1))
    if b == 0:
        if a == 0 or a != a:
            return _NAN
        return math.copysign(_INF, a) * math.copysign(1.0, b)
    return _num_out(a / b)


def _op_mod(data: Any, args: list[Any]) -> int | float:
    a, b = _to_number(_arg(args, 0)), _to_number(_arg(args, 1))
    if a != a or b != b or a in (_INF, -_INF) or b == 0:
        return _NAN
    if b in (_INF, -_INF) or a == 0:
        return _num_out(a)
    return _num_out(math.fmod(a, b))


def _op_min(data: Any, args: list[Any]) -> int | float:
    nums = [_to_number(x) for x in args]
    if not nums:
        return _INF
    if any(n != n for n in nums):
        return _NAN
    r = min(nums)
    if r == 0 and any(n == 0 and math.copysign(1.0, n) < 0 for n in nums):
        r = -0.0
    return _num_out(r)


def _op_max(data: Any, args: list[Any]) -> int | float:
    nums = [_to_number(x) for x in args]
    if not nums:
        return -_INF
    if any(n != n for n in nums):
        return _NAN
    r = max(nums)
    if r == 0 and any(n == 0 and math.copysign(1.0, n) > 0 for n in nums):
        r = 0.0
    return _num_out(r)


def _op_merge(data: Any, args: list[Any]) -> list[Any]:
    out: list[Any] = []
    for x in args:
        if _kind(x) == _K_ARR:
            out.extend(x)
        else:
            out.append(x)
    return out


def _op_missing(data: Any, args: list[Any]) -> list[Any]:
    keys = args[0] if args and _kind(args[0]) == _K_ARR else args
    out = []
    for key in keys:
        # json-logic-js re-applies {"var": key}, so a non-string key is evaluated again as a rule.
        value = _op_var(data, [key]) if type(key) is str else _apply({"var": key}, data)
        if value is None or (_kind(value) == _K_STR and value == ""):
            out.append(key)
    return out


def _op_missing_some(data: Any, args: list[Any]) -> Any:
    need, options = _arg(args, 0), _arg(args, 1)
    are_missing = _apply({"missing": options}, data)
    if options is None or options is _UNDEF:
        raise _Fault(f"Cannot read properties of {_to_string(options)} (reading 'length')")
    present = _to_number(_get_prop(options, "length")) - len(are_missing)
    return [] if _le(need, present) else are_missing


def _op_log(data: Any, args: list[Any]) -> Any:
    a = _arg(args, 0)
    _log.info("json-logic log: %s", json.dumps(_export(a), default=repr))
    return a


def _binary(fn: Callable[[Any, Any], bool]) -> Callable[[Any, list[Any]], bool]:
    return lambda data, args: fn(_arg(args, 0), _arg(args, 1))


_EAGER: Final[dict[str, Callable[[Any, list[Any]], Any]]] = {
    "==": _binary(_loose_eq),
    "===": _binary(_strict_eq),
    "!=": _binary(lambda a, b: not _loose_eq(a, b)),
    "!==": _binary(lambda a, b: not _strict_eq(a, b)),
    ">": _binary(lambda a, b: _lt(b, a)),
    ">=": _binary(lambda a, b: _le(b, a)),
    "<": _op_lt,
    "<=": _op_le,
    "!!": lambda data, args: _truthy(_arg(args, 0)),
    "!": lambda data, args: not _truthy(_arg(args, 0)),
    "%": _op_mod,
    "log": _op_log,
    "in": _binary(_op_in),
    "cat": _op_cat,
    "substr": _op_substr,
    "+": _op_add,
    "*": _op_mul,
    "-": _op_sub,
    "/": _op_div,
    "min": _op_min,
    "max": _op_max,
    "merge": _op_merge,
    "var": _op_var,
    "missing": _op_missing,
    "missing_some": _op_missing_some,
}
_SCOPED: Final = frozenset({"map", "filter", "reduce", "all", "none", "some"})
_SPECIAL: Final = frozenset({"if", "?:", "and", "or"}) | _SCOPED
OPERATORS: Final[frozenset[str]] = frozenset(_EAGER) | _SPECIAL


def _unknown(op: Any) -> str:
    return f"unknown operator {json.dumps(op) if isinstance(op, str) else repr(op)}"


def _reduce_scope(current: Any, accumulator: Any) -> dict[str, Any]:
    # JavaScript keeps `undefined` members, but nothing can tell them from absent ones.
    scope = {}
    if current is not _UNDEF:
        scope["current"] = current
    if accumulator is not _UNDEF:
        scope["accumulator"] = accumulator
    return scope


def _export(v: Any) -> Any:
    """The Python view of a result: undefined becomes None, also inside arrays built by the rule."""
    if v is _UNDEF:
        return None
    if type(v) is list and _holds_undefined(v):
        return [_export(x) for x in v]
    return v


def _holds_undefined(items: list[Any]) -> bool:
    return any(x is _UNDEF or (type(x) is list and _holds_undefined(x)) for x in items)


# ----------------------------------------------------------------------------------------------------
# Interpreter: mirrors json-logic-js `apply` node by node
# ----------------------------------------------------------------------------------------------------


def evaluate(rule: Any, data: Any = None) -> Any:
    """Apply ``rule`` to ``data`` as json-logic-js ``apply`` would; ``undefined`` comes back as None.

    Raises InvalidRule where json-logic-js would throw (e.g. an unknown operator on the evaluated branch).
    """
    try:
        return _export(_apply(rule, data))
    except _Fault as fault:
        raise _locate(rule, data, fault) from None


def _locate(rule: Any, data: Any, fault: _Fault) -> InvalidRule:
    # The interpreter carries no paths, to stay lean; the compiled form knows each node's path and, being
    # deterministic, fails at the same node.
    try:
        _compile(rule, "rule")(data)
    except InvalidRule as located:
        return located
    return InvalidRule("rule", fault.problem)


def _apply(rule: Any, data: Any) -> Any:
    t = type(rule)
    if t is not dict:
        if t is list or t is tuple or (_kind(rule) == _K_ARR):
            return [_apply(x, data) for x in rule]
        if not _is_logic(rule):
            return rule
    elif len(rule) != 1:
        return rule
    ((op, values),) = rule.items()
    if _kind(values) != _K_ARR:
        values = [values]
    if op in _SPECIAL:
        return _apply_special(op, values, data)
    args = [_apply(v, data) for v in values]
    fn = _EAGER.get(op)
    if fn is None:
        raise _Fault(_unknown(op))
    return fn(data, args)


def _apply_special(op: str, values: Any, data: Any) -> Any:
    if op == "if" or op == "?:":
        n = len(values)
        i = 0
        while i < n - 1:
            if _truthy(_apply(values[i], data)):
                return _apply(values[i + 1], data)
            i += 2
        return _apply(values[i], data) if n == i + 1 else None
    if op == "and":
        current: Any = _UNDEF
        for v in values:
            current = _apply(v, data)
            if not _truthy(current):
                return current
        return current
    if op == "or":
        current = _UNDEF
        for v in values:
            current = _apply(v, data)
            if _truthy(current):
                return current
        return current
    scoped: Any = _apply(values[0], data) if values else _UNDEF
    logic = values[1] if len(values) > 1 else _UNDEF
    is_array = _kind(scoped) == _K_ARR
    if op == "filter":
        return [x for x in scoped if _truthy(_apply(logic, x))] if is_array else []
    if op == "map":
        return [_apply(logic, x) for x in scoped] if is_array else []
    if op == "reduce":
        acc = _apply(values[2], data) if len(values) > 2 else None
        if is_array:
            for x in scoped:
                acc = _apply(logic, _reduce_scope(x, acc))
        return acc
    if not is_array or not scoped:
        return op == "none"
    if op == "all":
        return all(_truthy(_apply(logic, x)) for x in scoped)
    if op == "none":
        return not any(_truthy(_apply(logic, x)) for x in scoped)
    return any(_truthy(_apply(logic, x)) for x in scoped)  # some


# ----------------------------------------------------------------------------------------------------
# Compiler: the same semantics as nested closures, with fast paths for the shapes classifiers use
# ----------------------------------------------------------------------------------------------------


def compile_rule(rule: Any) -> Callable[[Any], Any]:
    """Compile ``rule`` once; the returned function gives exactly what ``evaluate(rule, data)`` gives."""
    f = _compile(rule, "rule")

    def run(data: Any = None) -> Any:
        r = f(data)
        if r is _UNDEF:
            return None
        return _export(r) if type(r) is list else r

    return run


def compile_predicate(rule: Any) -> Callable[[Any], bool]:
    """Compile ``rule`` into ``data -> truthy(evaluate(rule, data))``, the test classifiers apply."""
    f = _compile(rule, "rule")

    def run(data: Any = None) -> bool:
        r = f(data)
        return r is True or (r is not False and _truthy(r))

    return run


def _const(value: Any) -> Fn:
    return lambda data: value


def _escape(op: Any) -> str:
    return str(op).replace("~", "~0").replace("/", "~1")


def _is_static(node: Any) -> bool:
    """A node whose value never depends on the data and is not a fresh array on every evaluation."""
    k = _kind(node)
    return k <= _K_STR or (k == _K_OBJ and not _is_logic(node))


def _compile(node: Any, path: str) -> Fn:
    k = _kind(node)
    if k == _K_ARR:
        if all(_is_static(x) for x in node):
            items = list(node)
            return lambda data: list(items)  # a fresh array each time: `===` tells arrays apart
        fs = [_compile(x, f"{path}/{i}") for i, x in enumerate(node)]
        return lambda data: [f(data) for f in fs]
    if not _is_logic(node):
        return _const(node)
    ((op, values),) = node.items()
    op_path = f"{path}/{_escape(op)}"
    if _kind(values) == _K_ARR:
        args = list(values)
        paths = [f"{op_path}/{i}" for i in range(len(args))]
    else:
        args, paths = [values], [op_path]
    builder = _BUILDERS.get(op) if isinstance(op, str) else None
    if builder is not None:
        built = builder(args, paths, path)
        if built is not None:
            return built
    return _compile_eager(op, args, paths, path)


def _compile_eager(op: Any, args: list[Any], paths: list[str], path: str) -> Fn:
    fs = [_compile(a, p) for a, p in zip(args, paths, strict=True)]
    fn = _EAGER.get(op) if isinstance(op, str) else None
    if fn is None:
        problem = _unknown(op)

        def unknown(data: Any) -> Any:
            for f in fs:  # json-logic-js evaluates the arguments before it looks the operator up
                f(data)
            raise InvalidRule(path, problem)

        return unknown
    op_fn = fn

    def eager(data: Any) -> Any:
        try:
            return op_fn(data, [f(data) for f in fs])
        except _Fault as fault:
            raise InvalidRule(path, fault.problem) from None

    return eager


_Builder = Callable[[list[Any], list[str], str], Fn | None]


def _build_if(args: list[Any], paths: list[str], path: str) -> Fn:
    fs = [_compile(a, p) for a, p in zip(args, paths, strict=True)]
    pairs = [(fs[i], fs[i + 1]) for i in range(0, len(fs) - 1, 2)]
    otherwise = fs[-1] if len(fs) % 2 == 1 else _const(None)

    def if_(data: Any) -> Any:
        for cond, then in pairs:
            if _truthy(cond(data)):
                return then(data)
        return otherwise(data)

    return if_


def _build_and(args: list[Any], paths: list[str], path: str) -> Fn:
    fs = tuple(_compile(a, p) for a, p in zip(args, paths, strict=True))

    def and_(data: Any) -> Any:
        v: Any = _UNDEF
        for f in fs:
            v = f(data)
            if v is not True and (v is False or v is None or not _truthy(v)):
                return v
        return v

    return and_


def _build_or(args: list[Any], paths: list[str], path: str) -> Fn:
    fs = tuple(_compile(a, p) for a, p in zip(args, paths, strict=True))

    def or_(data: Any) -> Any:
        v: Any = _UNDEF
        for f in fs:
            v = f(data)
            if v is True or (v is not False and v is not None and _truthy(v)):
                return v
        return v

    return or_


def _build_scoped(op: str) -> _Builder:
    def build(args: list[Any], paths: list[str], path: str) -> Fn:
        source = _compile(args[0], paths[0]) if args else _const(_UNDEF)
        logic = _compile(args[1], paths[1]) if len(args) > 1 else _const(_UNDEF)
        initial = _compile(args[2], paths[2]) if len(args) > 2 else _const(None)

        def scoped(data: Any) -> Any:
            items = source(data)
            is_array = _kind(items) == _K_ARR
            if op == "filter":
                return [x for x in items if _truthy(logic(x))] if is_array else []
            if op == "map":
                return [logic(x) for x in items] if is_array else []
            if op == "reduce":
                acc = initial(data)
                if is_array:
                    for x in items:
                        acc = logic(_reduce_scope(x, acc))
                return acc
            if not is_array or not items:
                return op == "none"
            if op == "all":
                return all(_truthy(logic(x)) for x in items)
            if op == "none":
                return not any(_truthy(logic(x)) for x in items)
            return any(_truthy(logic(x)) for x in items)

        return scoped

    return build


def _getter(parts: tuple[str, ...], not_found: Any) -> Fn:
    """``var`` with a static path: dictionaries all the way down are the common, fast case."""
    if len(parts) == 1:
        (key,) = parts

        def get1(data: Any) -> Any:
            if type(data) is dict:
                v = data.get(key, _UNDEF)
                return not_found if v is _UNDEF else v
            return _walk(data, parts, not_found)

        return get1
    if len(parts) == 2:
        k1, k2 = parts

        def get2(data: Any) -> Any:
            if type(data) is dict:
                v = data.get(k1, _UNDEF)
                if type(v) is dict:
                    v = v.get(k2, _UNDEF)
                    return not_found if v is _UNDEF else v
            return _walk(data, parts, not_found)

        return get2
    if len(parts) == 3:
        k1, k2, k3 = parts

        def get3(data: Any) -> Any:
            if type(data) is dict:
                v = data.get(k1, _UNDEF)
                if type(v) is dict:
                    v = v.get(k2, _UNDEF)
                    if type(v) is dict:
                        v = v.get(k3, _UNDEF)
                        return not_found if v is _UNDEF else v
            return _walk(data, parts, not_found)

        return get3

    def get(data: Any) -> Any:
        v = data
        for key in parts:
            if type(v) is dict:
                v = v.get(key, _UNDEF)
                if v is _UNDEF:
                    return not_found
            else:
                return _walk(data, parts, not_found)
        return v

    return get


def _build_var(args: list[Any], paths: list[str], path: str) -> Fn | None:
    if len(args) > 2 or (args and not _is_static(args[0])):
        return None
    parts = _path_parts(args[0] if args else _UNDEF)
    if len(args) == 2 and not _is_static(args[1]):
        default = _compile(args[1], paths[1])
        if parts is None:
            return lambda data: (default(data), data)[1]
        static_parts = parts

        def get_or_default(data: Any) -> Any:
            fallback = default(data)
            return _walk(data, static_parts, None if fallback is _UNDEF else fallback)

        return get_or_default
    if parts is None:
        return lambda data: data
    return _getter(parts, args[1] if len(args) == 2 else None)


def _eq_const(f: Fn, c: Any) -> Fn:
    """``f(data) == c`` for a constant ``c``, the shape of most component and golden-JSON leaves."""
    k = _kind(c)
    if k == _K_STR:

        def eq_str(data: Any) -> bool:
            v = f(data)
            return v == c if type(v) is str else _loose_eq_slow(v, c)  # type: ignore[no-any-return]

        return eq_str
    if k == _K_BOOL:

        def eq_bool(data: Any) -> bool:
            v = f(data)
            return v is c if type(v) is bool else _loose_eq_slow(v, c)

        return eq_bool
    if k == _K_NULL:

        def eq_null(data: Any) -> bool:
            v = f(data)
            return v is None or v is _UNDEF

        return eq_null
    if k == _K_NUM:

        def eq_num(data: Any) -> bool:
            v = f(data)
            t = type(v)
            return v == c if t is int or t is float else _loose_eq_slow(v, c)  # type: ignore[no-any-return]

        return eq_num
    return lambda data: _loose_eq(f(data), c)


def _strict_eq_const(f: Fn, c: Any) -> Fn:
    if _kind(c) == _K_BOOL or c is None:
        return lambda data: f(data) is c
    return lambda data: _strict_eq(f(data), c)


def _negate(f: Fn) -> Fn:
    return lambda data: not f(data)


def _build_equality(strict: bool, negated: bool) -> _Builder:
    def build(args: list[Any], paths: list[str], path: str) -> Fn | None:
        if len(args) != 2:
            return None
        a, b = args
        if _is_static(b) and not _is_static(a):
            f, c = _compile(a, paths[0]), b
        elif _is_static(a) and not _is_static(b):
            f, c = _compile(b, paths[1]), a  # both equalities are symmetric
        else:
            fa, fb = _compile(a, paths[0]), _compile(b, paths[1])
            cmp = _strict_eq if strict else _loose_eq
            g: Fn = lambda data: cmp(fa(data), fb(data))  # noqa: E731
            return _negate(g) if negated else g
        g = _strict_eq_const(f, c) if strict else _eq_const(f, c)
        return _negate(g) if negated else g

    return build


def _build_relational(op: str) -> _Builder:
    # x > y is y < x and x >= y is y <= x: only the operand order changes.
    swap = op in (">", ">=")
    strict = op in ("<", ">")
    cmp = _lt if strict else _le

    def build(args: list[Any], paths: list[str], path: str) -> Fn | None:
        if len(args) != 2:
            return None
        (left, lpath), (right, rpath) = zip(args, paths, strict=True)
        if swap:
            (left, lpath), (right, rpath) = (right, rpath), (left, lpath)
        if _kind(right) == _K_NUM and _kind(left) != _K_NUM:
            return _compare_const(_compile(left, lpath), right, strict, const_first=False)
        if _kind(left) == _K_NUM and _kind(right) != _K_NUM:
            return _compare_const(_compile(right, rpath), left, strict, const_first=True)
        fl, fr = _compile(left, lpath), _compile(right, rpath)
        return lambda data: cmp(fl(data), fr(data))

    return build


def _compare_const(f: Fn, c: int | float, strict: bool, const_first: bool) -> Fn:
    """``f(data) < c`` and its relatives for a numeric constant, with a fast path for numeric values."""
    if strict and not const_first:

        def lt_c(data: Any) -> bool:
            v = f(data)
            t = type(v)
            return v < c if t is int or t is float else _lt(v, c)  # type: ignore[no-any-return]

        return lt_c
    if strict:

        def c_lt(data: Any) -> bool:
            v = f(data)
            t = type(v)
            return c < v if t is int or t is float else _lt(c, v)  # type: ignore[no-any-return]

        return c_lt
    if not const_first:

        def le_c(data: Any) -> bool:
            v = f(data)
            t = type(v)
            return v <= c if t is int or t is float else _le(v, c)  # type: ignore[no-any-return]

        return le_c

    def c_le(data: Any) -> bool:
        v = f(data)
        t = type(v)
        return c <= v if t is int or t is float else _le(c, v)  # type: ignore[no-any-return]

    return c_le


def _build_not(negated: bool) -> _Builder:
    def build(args: list[Any], paths: list[str], path: str) -> Fn | None:
        if len(args) != 1:
            return None
        f = _compile(args[0], paths[0])
        if negated:
            return lambda data: not _truthy(f(data))
        return lambda data: _truthy(f(data))

    return build


def _build_in(args: list[Any], paths: list[str], path: str) -> Fn | None:
    if len(args) != 2:
        return None
    needle, haystack = args
    if _kind(needle) == _K_STR and not _is_static(haystack):
        word, fh = needle, _compile(haystack, paths[1])

        def in_str(data: Any) -> bool:
            h = fh(data)
            if type(h) is str:
                return h != "" and word in h
            return _in_located(word, h, path)

        return in_str
    if (
        _kind(haystack) == _K_ARR
        and haystack
        and all(_kind(x) == _K_STR for x in haystack)
        and not _is_static(needle)
    ):
        # The array literal never escapes, so no fresh copy is needed to keep `===` semantics.
        members, fn = frozenset(haystack), _compile(needle, paths[0])

        def in_set(data: Any) -> bool:
            v = fn(data)
            return _kind(v) == _K_STR and v in members

        return in_set
    fa, fb = _compile(needle, paths[0]), _compile(haystack, paths[1])
    return lambda data: _in_located(fa(data), fb(data), path)


def _in_located(a: Any, b: Any, path: str) -> bool:
    try:
        return _op_in(a, b)
    except _Fault as fault:
        raise InvalidRule(path, fault.problem) from None


_BUILDERS: Final[dict[str, _Builder]] = {
    "if": _build_if,
    "?:": _build_if,
    "and": _build_and,
    "or": _build_or,
    **{op: _build_scoped(op) for op in _SCOPED},
    "var": _build_var,
    "==": _build_equality(strict=False, negated=False),
    "!=": _build_equality(strict=False, negated=True),
    "===": _build_equality(strict=True, negated=False),
    "!==": _build_equality(strict=True, negated=True),
    "<": _build_relational("<"),
    "<=": _build_relational("<="),
    ">": _build_relational(">"),
    ">=": _build_relational(">="),
    "!": _build_not(negated=True),
    "!!": _build_not(negated=False),
    "in": _build_in,
}


# ----------------------------------------------------------------------------------------------------
# Validation
# ----------------------------------------------------------------------------------------------------

# (fewest, most) arguments that make sense; json-logic-js accepts any count but ignores or misreads the rest.
_ARITY: Final[dict[str, tuple[int, int | None]]] = {
    "==": (2, 2),
    "===": (2, 2),
    "!=": (2, 2),
    "!==": (2, 2),
    ">": (2, 2),
    ">=": (2, 2),
    "<": (2, 3),
    "<=": (2, 3),
    "!": (1, 1),
    "!!": (1, 1),
    "and": (1, None),
    "or": (1, None),
    "if": (2, None),
    "?:": (2, None),
    "%": (2, 2),
    "/": (2, 2),
    "-": (1, 2),
    "+": (1, None),
    "*": (1, None),
    "min": (1, None),
    "max": (1, None),
    "log": (1, 1),
    "in": (2, 2),
    "cat": (1, None),
    "substr": (2, 3),
    "merge": (1, None),
    "var": (0, 2),
    "missing": (1, None),
    "missing_some": (2, 2),
    "map": (2, 2),
    "filter": (2, 2),
    "all": (2, 2),
    "none": (2, 2),
    "some": (2, 2),
    "reduce": (2, 3),
}


def validate(rule: Any) -> None:
    """Raise InvalidRule unless ``rule`` is well-formed JSON-logic; the message starts with the node path."""
    _check(rule, "rule")


def _plural(n: int) -> str:
    return f"{n} argument" + ("" if n == 1 else "s")


def _arity_text(lo: int, hi: int | None) -> str:
    if hi is None:
        return f"at least {_plural(lo)}"
    if lo == hi:
        return _plural(lo)
    return f"{lo} or {_plural(hi)}" if hi == lo + 1 else f"{lo} to {_plural(hi)}"


def _describe(v: Any) -> str:
    try:
        return json.dumps(v)
    except (TypeError, ValueError):
        return repr(v)


def _check_json(node: Any, path: str) -> None:
    """Data literals are not evaluated, but they must still be JSON."""
    k = _kind(node)
    if k == _K_ARR:
        for i, x in enumerate(node):
            _check_json(x, f"{path}/{i}")
    elif k == _K_OBJ:
        if not isinstance(node, Mapping):
            raise InvalidRule(path, f"not a JSON value: {node!r}")
        for key, x in node.items():
            if not isinstance(key, str):
                raise InvalidRule(path, f"object keys must be strings, got {key!r}")
            _check_json(x, f"{path}/{_escape(key)}")
    elif k == _K_UNDEF or (k == _K_NUM and not math.isfinite(node)):
        raise InvalidRule(path, f"not a JSON value: {node!r}")


def _is_key(v: Any) -> bool:
    return _kind(v) == _K_STR or (_kind(v) == _K_NUM and isinstance(v, int))


def _check_keys(keys: list[Any], paths: list[str], op: str) -> None:
    for key, p in zip(keys, paths, strict=True):
        if not (_is_key(key) or _is_logic(key)):
            raise InvalidRule(p, f'"{op}" keys must be strings, integers or rules, got {_describe(key)}')


def _check(node: Any, path: str) -> None:
    k = _kind(node)
    if k == _K_ARR:
        for i, x in enumerate(node):
            _check(x, f"{path}/{i}")
        return
    if not _is_logic(node):
        _check_json(node, path)
        return
    ((op, values),) = node.items()
    if not isinstance(op, str) or op not in _ARITY:
        raise InvalidRule(path, _unknown(op))
    op_path = f"{path}/{_escape(op)}"
    if _kind(values) == _K_ARR:
        args = list(values)
        paths = [f"{op_path}/{i}" for i in range(len(args))]
    else:
        args, paths = [values], [op_path]
    lo, hi = _ARITY[op]
    if len(args) < lo or (hi is not None and len(args) > hi):
        raise InvalidRule(op_path, f'"{op}" takes {_arity_text(lo, hi)}, got {len(args)}')
    if op == "var" and args and not (_is_key(args[0]) or _is_logic(args[0])):
        raise InvalidRule(
            paths[0], f"var path must be a string, an integer or a rule, got {_describe(args[0])}"
        )
    if op == "missing":
        if _kind(args[0]) == _K_ARR:
            if len(args) > 1:
                raise InvalidRule(op_path, '"missing" with an array of keys ignores further arguments')
            _check_keys(list(args[0]), [f"{paths[0]}/{i}" for i in range(len(args[0]))], op)
        else:
            _check_keys(args, paths, op)
    if op == "missing_some":
        need, options = args
        if not ((_kind(need) == _K_NUM and isinstance(need, int) and need >= 0) or _is_logic(need)):
            raise InvalidRule(paths[0], f'"missing_some" needs a count first, got {_describe(need)}')
        if _kind(options) == _K_ARR:
            _check_keys(list(options), [f"{paths[1]}/{i}" for i in range(len(options))], op)
        elif not _is_logic(options):
            raise InvalidRule(paths[1], f'"missing_some" needs an array of keys, got {_describe(options)}')
    for a, p in zip(args, paths, strict=True):
        _check(a, p)


# ----------------------------------------------------------------------------------------------------
# Static analysis
# ----------------------------------------------------------------------------------------------------


def variables(rule: Any) -> set[str]:
    """Every data path the rule reads by a static ``var``, ``missing`` or ``missing_some`` key.

    Paths read inside ``map``/``filter``/``all``/``none``/``some``/``reduce`` logic are relative to the
    array's items and are not included (the array's own path is). Computed paths cannot be known: see
    has_dynamic_vars.
    """
    found: set[str] = set()
    _scan(rule, found)
    return found


def has_dynamic_vars(rule: Any) -> bool:
    """Whether the rule reads data at paths only known at evaluation: computed keys, or the whole data."""
    return _scan(rule, set())


def _scan_keys(keys: list[Any], found: set[str]) -> bool:
    dynamic = False
    for key in keys:
        if _is_static(key) and not (key is None or key == "" or _kind(key) == _K_OBJ):
            found.add(_to_string(key))
        else:
            dynamic = True
            dynamic |= _scan(key, found)
    return dynamic


def _scan(node: Any, found: set[str]) -> bool:
    if _kind(node) == _K_ARR:
        return any([_scan(x, found) for x in node])
    if not _is_logic(node):
        return False
    ((op, values),) = node.items()
    args = list(values) if _kind(values) == _K_ARR else [values]
    if op == "var":
        dynamic = _scan_keys(args[:1], found) if args else True
        return _scan(args[1:], found) or dynamic
    if op == "missing":
        return _scan_keys(list(args[0]) if args and _kind(args[0]) == _K_ARR else args, found)
    if op == "missing_some":
        dynamic = _scan(args[:1], found)
        if len(args) > 1:
            options = args[1]
            keys = list(options) if _kind(options) == _K_ARR else [options]
            dynamic = _scan_keys(keys, found) or dynamic
        return dynamic
    if op in _SCOPED:
        # Only the array and reduce's initial value read the outer data.
        return _scan(args[:1] + args[2:3], found)
    return _scan(args, found)


# ----------------------------------------------------------------------------------------------------
# Explaining a false result
# ----------------------------------------------------------------------------------------------------


def _combine(op: str, values: list[Any]) -> Any:
    """What an ``and``/``or`` returns given its children's values (the children are pure)."""
    v: Any = _UNDEF
    for v in values:
        if _truthy(v) == (op == "or"):
            return v
    return v


def _children(node: Any) -> tuple[str, list[Any]] | None:
    if _is_logic(node):
        ((op, values),) = node.items()
        if op == "and" or op == "or":
            return op, list(values) if _kind(values) == _K_ARR else [values]
    return None


def trace(rule: Any, data: Any = None) -> list[Any]:
    """The playground's evaluation trace: ``[node, {"resulted_value": bool}]``.

    ``and``/``or`` nodes come back with their children replaced by the children's traces; any other node is a
    leaf and comes back as it is. ``resulted_value`` is the node's json-logic truthiness.
    """
    try:
        return _trace(rule, data)[1]
    except _Fault as fault:
        raise _locate(rule, data, fault) from None


def _trace(node: Any, data: Any) -> tuple[Any, list[Any]]:
    split = _children(node)
    if split is None:
        value = _apply(node, data)
        return value, [node, {"resulted_value": _truthy(value)}]
    op, children = split
    results = [_trace(child, data) for child in children]
    value = _combine(op, [v for v, _ in results])
    return value, [{op: [t for _, t in results]}, {"resulted_value": _truthy(value)}]


def failing_leaves(rule: Any, data: Any = None) -> list[Any]:
    """The leaf rules that made ``rule`` falsy on ``data``; [] when it is truthy.

    A false ``and`` contributes each of its falsy children, a false ``or`` all of its children, recursing into
    nested ``and``/``or``; any other node is a leaf. The leaves are the rule's own sub-objects.
    """
    return compile_failing_leaves(rule)(data)


_Plan = Callable[[Any], tuple[Any, list[Any]]]


def compile_failing_leaves(rule: Any) -> Callable[[Any], list[Any]]:
    """Compile ``failing_leaves`` for one rule, for explaining many failing lumisections."""
    plan = _plan(rule, "rule")

    def run(data: Any = None) -> list[Any]:
        value, leaves = plan(data)
        return [] if _truthy(value) else leaves

    return run


def _plan(node: Any, path: str) -> _Plan:
    split = _children(node)
    if split is None:
        f = _compile(node, path)
        leaf = [node]
        return lambda data: (f(data), leaf)
    op, children = split
    op_path = f"{path}/{op}"
    if _kind(node[op]) == _K_ARR:
        plans = [_plan(child, f"{op_path}/{i}") for i, child in enumerate(children)]
    else:
        plans = [_plan(children[0], op_path)]
    itself = [node]

    def run(data: Any) -> tuple[Any, list[Any]]:
        results = [p(data) for p in plans]
        value = _combine(op, [v for v, _ in results])
        if _truthy(value):
            return value, []
        leaves = [leaf for v, ls in results if not _truthy(v) for leaf in ls]
        return value, leaves or itself

    return run
