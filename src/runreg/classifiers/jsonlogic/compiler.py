"""The compiler: a rule turned once into nested closures that give what the interpreter gives."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any, Final

from runreg.classifiers.jsonlogic.errors import Fault, InvalidRule, unknown_operator
from runreg.classifiers.jsonlogic.fastpaths import (
    compare_const,
    eq_const,
    getter,
    in_located,
    in_string,
    in_strings,
    negate,
    strict_eq_const,
)
from runreg.classifiers.jsonlogic.forms import SCOPED, Fn, if_, if_branches
from runreg.classifiers.jsonlogic.interpreter import OPERATIONS
from runreg.classifiers.jsonlogic.js import (
    K_ARR,
    K_NUM,
    K_STR,
    UNDEFINED,
    export,
    kind,
    le,
    loose_eq,
    lt,
    strict_eq,
    truthy,
)
from runreg.classifiers.jsonlogic.operations import path_parts, walk
from runreg.classifiers.jsonlogic.syntax import is_logic, is_static, split


def compile_rule(rule: Any) -> Callable[[Any], Any]:
    """Compile ``rule`` once; the returned function gives exactly what ``evaluate(rule, data)`` gives."""
    f = compile_node(rule, "rule")

    def run(data: Any = None) -> Any:
        r = f(data)
        if r is UNDEFINED:
            return None
        return export(r) if type(r) is list else r

    return run


def compile_predicate(rule: Any) -> Callable[[Any], bool]:
    """Compile ``rule`` into ``data -> truthy(evaluate(rule, data))``, the test classifiers apply."""
    f = compile_node(rule, "rule")

    def run(data: Any = None) -> bool:
        r = f(data)
        return r is True or (r is not False and truthy(r))

    return run


def compile_node(node: Any, path: str) -> Fn:
    """The node at ``path`` as a closure; faults raise InvalidRule naming the node that failed."""
    k = kind(node)
    if k == K_ARR:
        if all(is_static(x) for x in node):
            items = list(node)
            return lambda data: list(items)  # a fresh array each time: `===` tells arrays apart
        fs = [compile_node(x, f"{path}/{i}") for i, x in enumerate(node)]
        return lambda data: [f(data) for f in fs]
    if not is_logic(node):
        return _const(node)
    op, _, args, paths = split(node, path)
    builder = _BUILDERS.get(op) if isinstance(op, str) else None
    if builder is not None:
        built = builder(args, paths, path)
        if built is not None:
            return built
    return _compile_eager(op, args, paths, path)


def _const(value: Any) -> Fn:
    return lambda data: value


def _compile_eager(op: Any, args: list[Any], paths: list[str], path: str) -> Fn:
    fs = [compile_node(a, p) for a, p in zip(args, paths, strict=True)]
    fn = OPERATIONS.get(op) if isinstance(op, str) else None
    if fn is None:
        problem = unknown_operator(op)

        def unknown(data: Any) -> Any:
            for f in fs:  # json-logic-js evaluates the arguments before it looks the operator up
                f(data)
            raise InvalidRule(path, problem)

        return unknown
    op_fn = fn

    def eager(data: Any) -> Any:
        try:
            return op_fn(data, [f(data) for f in fs])
        except Fault as fault:
            raise InvalidRule(path, fault.problem) from None

    return eager


# builder(args, paths, path): a closure for the operation node, or None to compile it as eager.
_Builder = Callable[[list[Any], list[str], str], Fn | None]


def _build_if(args: list[Any], paths: list[str], path: str) -> Fn:
    pairs, otherwise = if_branches([compile_node(a, p) for a, p in zip(args, paths, strict=True)])
    return partial(if_, pairs, otherwise)


# `and` and `or` are forms.junction, with the common booleans tested inline: the hot path of classifiers.


def _build_and(args: list[Any], paths: list[str], path: str) -> Fn:
    fs = tuple(compile_node(a, p) for a, p in zip(args, paths, strict=True))

    def and_(data: Any) -> Any:
        v: Any = UNDEFINED
        for f in fs:
            v = f(data)
            if v is not True and (v is False or v is None or not truthy(v)):
                return v
        return v

    return and_


def _build_or(args: list[Any], paths: list[str], path: str) -> Fn:
    fs = tuple(compile_node(a, p) for a, p in zip(args, paths, strict=True))

    def or_(data: Any) -> Any:
        v: Any = UNDEFINED
        for f in fs:
            v = f(data)
            if v is True or (v is not False and v is not None and truthy(v)):
                return v
        return v

    return or_


def _build_scoped(op: str) -> _Builder:
    form = SCOPED[op]

    def build(args: list[Any], paths: list[str], path: str) -> Fn:
        source = compile_node(args[0], paths[0]) if args else _const(UNDEFINED)
        logic = compile_node(args[1], paths[1]) if len(args) > 1 else _const(UNDEFINED)
        initial = compile_node(args[2], paths[2]) if len(args) > 2 else _const(None)
        return partial(form, source, logic, initial)

    return build


def _build_var(args: list[Any], paths: list[str], path: str) -> Fn | None:
    if len(args) > 2 or (args and not is_static(args[0])):
        return None
    parts = path_parts(args[0] if args else UNDEFINED)
    if len(args) == 2 and not is_static(args[1]):
        default = compile_node(args[1], paths[1])
        if parts is None:
            return lambda data: (default(data), data)[1]
        static_parts = parts

        def get_or_default(data: Any) -> Any:
            fallback = default(data)
            return walk(data, static_parts, None if fallback is UNDEFINED else fallback)

        return get_or_default
    if parts is None:
        return lambda data: data
    return getter(parts, args[1] if len(args) == 2 else None)


def _build_equality(strict: bool, negated: bool) -> _Builder:
    def build(args: list[Any], paths: list[str], path: str) -> Fn | None:
        if len(args) != 2:
            return None
        a, b = args
        if is_static(b) and not is_static(a):
            f, c = compile_node(a, paths[0]), b
        elif is_static(a) and not is_static(b):
            f, c = compile_node(b, paths[1]), a  # both equalities are symmetric
        else:
            fa, fb = compile_node(a, paths[0]), compile_node(b, paths[1])
            cmp = strict_eq if strict else loose_eq
            g: Fn = lambda data: cmp(fa(data), fb(data))  # noqa: E731
            return negate(g) if negated else g
        g = strict_eq_const(f, c) if strict else eq_const(f, c)
        return negate(g) if negated else g

    return build


def _build_relational(op: str) -> _Builder:
    # x > y is y < x and x >= y is y <= x: only the operand order changes.
    swap = op in (">", ">=")
    strict = op in ("<", ">")
    cmp = lt if strict else le

    def build(args: list[Any], paths: list[str], path: str) -> Fn | None:
        if len(args) != 2:
            return None
        (left, lpath), (right, rpath) = zip(args, paths, strict=True)
        if swap:
            (left, lpath), (right, rpath) = (right, rpath), (left, lpath)
        if kind(right) == K_NUM and kind(left) != K_NUM:
            return compare_const(compile_node(left, lpath), right, strict, const_first=False)
        if kind(left) == K_NUM and kind(right) != K_NUM:
            return compare_const(compile_node(right, rpath), left, strict, const_first=True)
        fl, fr = compile_node(left, lpath), compile_node(right, rpath)
        return lambda data: cmp(fl(data), fr(data))

    return build


def _build_not(negated: bool) -> _Builder:
    def build(args: list[Any], paths: list[str], path: str) -> Fn | None:
        if len(args) != 1:
            return None
        f = compile_node(args[0], paths[0])
        if negated:
            return lambda data: not truthy(f(data))
        return lambda data: truthy(f(data))

    return build


def _build_in(args: list[Any], paths: list[str], path: str) -> Fn | None:
    if len(args) != 2:
        return None
    needle, haystack = args
    if kind(needle) == K_STR and not is_static(haystack):
        return in_string(needle, compile_node(haystack, paths[1]), path)
    if (
        kind(haystack) == K_ARR
        and haystack
        and all(kind(x) == K_STR for x in haystack)
        and not is_static(needle)
    ):
        # The array literal never escapes, so no fresh copy is needed to keep `===` semantics.
        return in_strings(frozenset(haystack), compile_node(needle, paths[0]))
    fa, fb = compile_node(needle, paths[0]), compile_node(haystack, paths[1])
    return lambda data: in_located(fa(data), fb(data), path)


_BUILDERS: Final[dict[str, _Builder]] = {
    "if": _build_if,
    "?:": _build_if,
    "and": _build_and,
    "or": _build_or,
    **{op: _build_scoped(op) for op in SCOPED},
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
