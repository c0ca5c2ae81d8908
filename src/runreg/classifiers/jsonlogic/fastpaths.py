"""Compiled closures specialised for the leaves classifiers are made of: static paths, constant operands."""

from __future__ import annotations

from typing import Any

from runreg.classifiers.jsonlogic.errors import Fault, InvalidRule
from runreg.classifiers.jsonlogic.forms import Fn
from runreg.classifiers.jsonlogic.js import (
    K_BOOL,
    K_NULL,
    K_NUM,
    K_STR,
    UNDEFINED,
    kind,
    le,
    loose_eq,
    loose_eq_slow,
    lt,
    strict_eq,
)
from runreg.classifiers.jsonlogic.operations import op_in, walk


def getter(parts: tuple[str, ...], not_found: Any) -> Fn:
    """``var`` with a static path: dictionaries all the way down are the common, fast case."""
    if len(parts) == 1:
        (key,) = parts

        def get1(data: Any) -> Any:
            if type(data) is dict:
                v = data.get(key, UNDEFINED)
                return not_found if v is UNDEFINED else v
            return walk(data, parts, not_found)

        return get1
    if len(parts) == 2:
        k1, k2 = parts

        def get2(data: Any) -> Any:
            if type(data) is dict:
                v = data.get(k1, UNDEFINED)
                if type(v) is dict:
                    v = v.get(k2, UNDEFINED)
                    return not_found if v is UNDEFINED else v
            return walk(data, parts, not_found)

        return get2
    if len(parts) == 3:
        k1, k2, k3 = parts

        def get3(data: Any) -> Any:
            if type(data) is dict:
                v = data.get(k1, UNDEFINED)
                if type(v) is dict:
                    v = v.get(k2, UNDEFINED)
                    if type(v) is dict:
                        v = v.get(k3, UNDEFINED)
                        return not_found if v is UNDEFINED else v
            return walk(data, parts, not_found)

        return get3

    def get(data: Any) -> Any:
        v = data
        for key in parts:
            if type(v) is dict:
                v = v.get(key, UNDEFINED)
                if v is UNDEFINED:
                    return not_found
            else:
                return walk(data, parts, not_found)
        return v

    return get


def eq_const(f: Fn, c: Any) -> Fn:
    """``f(data) == c`` for a constant ``c``, the shape of most component and golden-JSON leaves."""
    k = kind(c)
    if k == K_STR:

        def eq_str(data: Any) -> bool:
            v = f(data)
            return v == c if type(v) is str else loose_eq_slow(v, c)  # type: ignore[no-any-return]

        return eq_str
    if k == K_BOOL:

        def eq_bool(data: Any) -> bool:
            v = f(data)
            return v is c if type(v) is bool else loose_eq_slow(v, c)

        return eq_bool
    if k == K_NULL:

        def eq_null(data: Any) -> bool:
            v = f(data)
            return v is None or v is UNDEFINED

        return eq_null
    if k == K_NUM:

        def eq_num(data: Any) -> bool:
            v = f(data)
            t = type(v)
            return v == c if t is int or t is float else loose_eq_slow(v, c)  # type: ignore[no-any-return]

        return eq_num
    return lambda data: loose_eq(f(data), c)


def strict_eq_const(f: Fn, c: Any) -> Fn:
    if kind(c) == K_BOOL or c is None:
        return lambda data: f(data) is c
    return lambda data: strict_eq(f(data), c)


def negate(f: Fn) -> Fn:
    return lambda data: not f(data)


def compare_const(f: Fn, c: int | float, strict: bool, const_first: bool) -> Fn:
    """``f(data) < c`` and its relatives for a numeric constant, with a fast path for numeric values."""
    if strict and not const_first:

        def lt_c(data: Any) -> bool:
            v = f(data)
            t = type(v)
            return v < c if t is int or t is float else lt(v, c)  # type: ignore[no-any-return]

        return lt_c
    if strict:

        def c_lt(data: Any) -> bool:
            v = f(data)
            t = type(v)
            return c < v if t is int or t is float else lt(c, v)  # type: ignore[no-any-return]

        return c_lt
    if not const_first:

        def le_c(data: Any) -> bool:
            v = f(data)
            t = type(v)
            return v <= c if t is int or t is float else le(v, c)  # type: ignore[no-any-return]

        return le_c

    def c_le(data: Any) -> bool:
        v = f(data)
        t = type(v)
        return c <= v if t is int or t is float else le(c, v)  # type: ignore[no-any-return]

    return c_le


def in_located(a: Any, b: Any, path: str) -> bool:
    """``in``, its fault reported at the node's path."""
    try:
        return op_in(a, b)
    except Fault as fault:
        raise InvalidRule(path, fault.problem) from None


def in_string(word: str, haystack: Fn, path: str) -> Fn:
    """``{"in": [word, haystack]}`` for a literal word, mostly looked for in a string."""

    def in_str(data: Any) -> bool:
        h = haystack(data)
        if type(h) is str:
            return h != "" and word in h
        return in_located(word, h, path)

    return in_str


def in_strings(members: frozenset[str], needle: Fn) -> Fn:
    """``{"in": [needle, [...]]}`` for a literal array of strings."""

    def in_set(data: Any) -> bool:
        v = needle(data)
        return kind(v) == K_STR and v in members

    return in_set
