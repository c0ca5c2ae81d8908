"""JavaScript's values in Python: undefined, the type of a value and the abstract operations on values."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any, Final


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
        return "UNDEFINED"


UNDEFINED: Final = _Undefined()

# JavaScript types of Python values. Arrays are lists (and tuples); objects are mappings.
K_UNDEF, K_NULL, K_BOOL, K_NUM, K_STR, K_ARR, K_OBJ = range(7)
_KINDS: dict[type, int] = {
    _Undefined: K_UNDEF,
    type(None): K_NULL,
    bool: K_BOOL,
    int: K_NUM,
    float: K_NUM,
    str: K_STR,
    list: K_ARR,
    tuple: K_ARR,
    dict: K_OBJ,
}


def kind(v: Any) -> int:
    k = _KINDS.get(type(v))
    if k is not None:
        return k
    # Subclasses (IntEnum, str enums, OrderedDict...); bool cannot be subclassed.
    if isinstance(v, int | float):
        return K_NUM
    if isinstance(v, str):
        return K_STR
    if isinstance(v, list | tuple):
        return K_ARR
    return K_OBJ


NAN: Final = math.nan
INF: Final = math.inf
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
    if value is True:
        return True
    if value is False or value is None:
        return False
    t = type(value)
    if t is str:
        return value != ""
    if t is int:
        return value != 0
    if t is float:
        return value == value and value != 0.0
    if t is list:
        return len(value) != 0
    k = kind(value)
    if k == K_NUM:
        return value == value and value != 0
    if k in (K_STR, K_ARR):
        return len(value) != 0
    return k == K_OBJ


def _int_to_float(v: int) -> float:
    try:
        return float(v)
    except OverflowError:
        return INF if v > 0 else -INF


def _num_to_js(v: Any) -> str:
    """Number::toString, which differs from Python's repr (``1`` not ``1.0``, ``1e-7`` not ``1e-07``...)."""
    if not isinstance(v, float):
        if -_MAX_SAFE <= v <= _MAX_SAFE:
            return str(int(v))
        v = _int_to_float(v)
    if v != v:
        return "NaN"
    if v in (INF, -INF):
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


def to_string(v: Any) -> str:
    if type(v) is str:
        return v
    k = kind(v)
    if k == K_NUM:
        return _num_to_js(v)
    if k == K_BOOL:
        return "true" if v else "false"
    if k == K_NULL:
        return "null"
    if k == K_UNDEF:
        return "undefined"
    if k == K_STR:
        return str(v)
    if k == K_ARR:
        return ",".join("" if x is None or x is UNDEFINED else to_string(x) for x in v)
    return "[object Object]"


def _to_primitive(v: Any) -> Any:
    k = kind(v)
    return to_string(v) if k in (K_ARR, K_OBJ) else v


def _string_to_number(s: str) -> float:
    s = s.strip(_JS_WS)
    if not s:
        return 0.0
    if _STRING_NUMBER_RE.match(s):
        if s[-1] == "y":
            return -INF if s[0] == "-" else INF
        return float(s)
    m = _RADIX_RE.match(s)
    if m:
        text, base = next((m.group(g), b) for g, b in (("x", 16), ("o", 8), ("b", 2)) if m.group(g))
        return _int_to_float(int(text, base))
    return NAN


def to_number(v: Any) -> float:
    t = type(v)
    if t is float:
        return v  # type: ignore[no-any-return]
    if t is int:
        return _int_to_float(v)
    k = kind(v)
    if k == K_NUM:
        return float(v) if isinstance(v, float) else _int_to_float(v)
    if k == K_NULL:
        return 0.0
    if k == K_BOOL:
        return 1.0 if v else 0.0
    if k == K_UNDEF:
        return NAN
    return _string_to_number(to_string(v))


def parse_float(v: Any) -> float:
    """The global parseFloat, which `+` and `*` use: a numeric prefix of String(v), NaN when there is none."""
    if kind(v) == K_NUM:
        # parseFloat goes through String(v), which turns -0 into "0".
        return to_number(v) + 0.0
    m = _PARSE_FLOAT_RE.match(to_string(v).lstrip(_JS_WS))
    if not m:
        return NAN
    text = m.group()
    if text[-1] == "y":
        return -INF if text[0] == "-" else INF
    return float(text)


def _to_integer_or_infinity(v: Any) -> float:
    n = to_number(v)
    if n != n:
        return 0
    if n in (INF, -INF):
        return n
    return math.trunc(n)


def num_out(f: float) -> int | float:
    """JavaScript has one number type; integral results come back as Python ints (but -0 stays -0.0)."""
    if f.is_integer() and -_MAX_SAFE <= f <= _MAX_SAFE and (f != 0 or math.copysign(1.0, f) > 0):
        return int(f)
    return f


def export(v: Any) -> Any:
    """The Python view of a result: undefined becomes None, also inside arrays built by the rule."""
    if v is UNDEFINED:
        return None
    if type(v) is list and _holds_undefined(v):
        return [export(x) for x in v]
    return v


def _holds_undefined(items: list[Any]) -> bool:
    return any(x is UNDEFINED or (type(x) is list and _holds_undefined(x)) for x in items)


# ----------------------------------------------------------------------------------------------------
# Strings index UTF-16 code units
# ----------------------------------------------------------------------------------------------------


def _utf16_units(s: str) -> bytes | None:
    """JavaScript strings index UTF-16 code units; only strings beyond the BMP need the detour."""
    if s.isascii() or not _ASTRAL_RE.search(s):
        return None
    return s.encode("utf-16-le", "surrogatepass")


def js_length(s: str) -> int:
    units = _utf16_units(s)
    return len(s) if units is None else len(units) // 2


def _js_slice(s: str, start: int, end: int) -> str:
    units = _utf16_units(s)
    if units is None:
        return s[start:end]
    return units[2 * start : 2 * end].decode("utf-16-le", "surrogatepass")


def js_substr(s: str, start: Any, length: Any) -> str:
    """String.prototype.substr."""
    size = js_length(s)
    i = _to_integer_or_infinity(start)
    i = 0 if i == -INF else max(size + i, 0) if i < 0 else min(i, size)
    n = size if length is UNDEFINED else _to_integer_or_infinity(length)
    end = min(i + min(max(n, 0), size), size)
    return _js_slice(s, int(i), int(end)) if i < end else ""


def _str_lt(a: str, b: str) -> bool:
    # JavaScript compares UTF-16 code units, Python code points: they differ only beyond the BMP.
    if a.isascii() and b.isascii():
        return a < b
    return a.encode("utf-16-be", "surrogatepass") < b.encode("utf-16-be", "surrogatepass")


def _is_index(key: str) -> bool:
    return key.isascii() and key.isdigit() and (key == "0" or key[0] != "0")


def get_prop(obj: Any, key: str) -> Any:
    """``obj[key]`` for a JSON value; properties inherited from JavaScript prototypes are not modelled."""
    k = kind(obj)
    if k == K_OBJ:
        return obj.get(key, UNDEFINED) if isinstance(obj, Mapping) else UNDEFINED
    if k == K_ARR:
        if key == "length":
            return len(obj)
        if _is_index(key):
            i = int(key)
            return obj[i] if i < len(obj) else UNDEFINED
        return UNDEFINED
    if k == K_STR:
        if key == "length":
            return js_length(obj)
        if _is_index(key):
            i = int(key)
            return _js_slice(obj, i, i + 1) if i < js_length(obj) else UNDEFINED
    return UNDEFINED


# ----------------------------------------------------------------------------------------------------
# Equality, order and the binary `+`
# ----------------------------------------------------------------------------------------------------


def loose_eq(a: Any, b: Any) -> bool:
    """Abstract equality (``==``)."""
    t = type(a)
    if t is type(b) and (t is str or t is bool or t is int or t is float or a is None):
        return a == b  # type: ignore[no-any-return]
    return loose_eq_slow(a, b)


def loose_eq_slow(a: Any, b: Any) -> bool:
    ka, kb = kind(a), kind(b)
    while True:
        if ka == kb:
            return _same_kind_eq(a, b, ka)
        if ka <= K_NULL or kb <= K_NULL:
            return ka <= K_NULL and kb <= K_NULL
        if ka == K_NUM and kb == K_STR:
            return a == _string_to_number(b)  # type: ignore[no-any-return]
        if ka == K_STR and kb == K_NUM:
            return _string_to_number(a) == b  # type: ignore[no-any-return]
        if ka == K_BOOL:
            a, ka = (1 if a else 0), K_NUM
        elif kb == K_BOOL:
            b, kb = (1 if b else 0), K_NUM
        elif ka >= K_ARR and kb in (K_NUM, K_STR):
            a, ka = to_string(a), K_STR
        elif kb >= K_ARR and ka in (K_NUM, K_STR):
            b, kb = to_string(b), K_STR
        else:
            return False


def strict_eq(a: Any, b: Any) -> bool:
    """Strict equality (``===``): no coercion; arrays and objects are equal only to themselves."""
    ka = kind(a)
    return ka == kind(b) and _same_kind_eq(a, b, ka)


def _same_kind_eq(a: Any, b: Any, k: int) -> bool:
    """``==`` and ``===`` of two values of kind ``k``."""
    if k <= K_NULL:
        return True
    if k >= K_ARR:
        return a is b
    return a == b  # type: ignore[no-any-return]


def lt(a: Any, b: Any) -> bool:
    """``a < b``: strings compare as strings, everything else as numbers (NaN makes it false)."""
    ta, tb = type(a), type(b)
    if (ta is int or ta is float) and (tb is int or tb is float):
        return a < b  # type: ignore[no-any-return]
    if ta is str and tb is str:
        return _str_lt(a, b)
    pa, pb = _to_primitive(a), _to_primitive(b)
    if kind(pa) == K_STR and kind(pb) == K_STR:
        return _str_lt(str(pa), str(pb))
    return to_number(pa) < to_number(pb)


def le(a: Any, b: Any) -> bool:
    """``a <= b``, which is ``!(b < a)`` except that an undefined comparison (NaN) is false."""
    ta, tb = type(a), type(b)
    if (ta is int or ta is float) and (tb is int or tb is float):
        return a <= b  # type: ignore[no-any-return]
    if ta is str and tb is str:
        return not _str_lt(b, a)
    pa, pb = _to_primitive(a), _to_primitive(b)
    if kind(pa) == K_STR and kind(pb) == K_STR:
        return not _str_lt(str(pb), str(pa))
    return to_number(pa) <= to_number(pb)


def js_add(a: Any, b: Any) -> Any:
    """The binary ``+`` operator (not json-logic's ``+``): concatenates as soon as one side is a string."""
    pa, pb = _to_primitive(a), _to_primitive(b)
    if kind(pa) == K_STR or kind(pb) == K_STR:
        return to_string(pa) + to_string(pb)
    return to_number(pa) + to_number(pb)
