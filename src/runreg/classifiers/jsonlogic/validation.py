"""``validate``: whether a rule is well-formed JSON-logic, with the path of the first node that is not."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any, Final

from runreg.classifiers.jsonlogic.errors import InvalidRule, unknown_operator
from runreg.classifiers.jsonlogic.js import K_ARR, K_NUM, K_OBJ, K_STR, K_UNDEF, kind
from runreg.classifiers.jsonlogic.syntax import escape, is_logic, split
from runreg.kernel import limits

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
    """Raise InvalidRule unless ``rule`` is well-formed JSON-logic; the message starts with the node path.

    Size and depth are checked first, without recursion, so the recursive checks (and the compiler and
    evaluators after them) only ever see rules of bounded depth: no rule can raise RecursionError."""
    found = limits.json_problem(rule, max_depth=limits.MAX_RULE_DEPTH, max_nodes=limits.MAX_RULE_NODES)
    if found:
        path, problem = found
        raise InvalidRule("/".join(["rule", *(escape(part) for part in path)]), f"rule too large: {problem}")
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
    k = kind(node)
    if k == K_ARR:
        for i, x in enumerate(node):
            _check_json(x, f"{path}/{i}")
    elif k == K_OBJ:
        if not isinstance(node, Mapping):
            raise InvalidRule(path, f"not a JSON value: {node!r}")
        for key, x in node.items():
            if not isinstance(key, str):
                raise InvalidRule(path, f"object keys must be strings, got {key!r}")
            _check_json(x, f"{path}/{escape(key)}")
    elif k == K_UNDEF or (k == K_NUM and not math.isfinite(node)):
        raise InvalidRule(path, f"not a JSON value: {node!r}")


def _is_key(v: Any) -> bool:
    return kind(v) == K_STR or (kind(v) == K_NUM and isinstance(v, int))


def _check_keys(keys: list[Any], paths: list[str], op: str) -> None:
    for key, p in zip(keys, paths, strict=True):
        if not (_is_key(key) or is_logic(key)):
            raise InvalidRule(p, f'"{op}" keys must be strings, integers or rules, got {_describe(key)}')


def _check(node: Any, path: str) -> None:
    k = kind(node)
    if k == K_ARR:
        for i, x in enumerate(node):
            _check(x, f"{path}/{i}")
        return
    if not is_logic(node):
        _check_json(node, path)
        return
    op = next(iter(node))
    if not isinstance(op, str) or op not in _ARITY:
        raise InvalidRule(path, unknown_operator(op))
    op, op_path, args, paths = split(node, path)
    lo, hi = _ARITY[op]
    if len(args) < lo or (hi is not None and len(args) > hi):
        raise InvalidRule(op_path, f'"{op}" takes {_arity_text(lo, hi)}, got {len(args)}')
    if op == "var" and args and not (_is_key(args[0]) or is_logic(args[0])):
        raise InvalidRule(
            paths[0], f"var path must be a string, an integer or a rule, got {_describe(args[0])}"
        )
    if op == "missing":
        if kind(args[0]) == K_ARR:
            if len(args) > 1:
                raise InvalidRule(op_path, '"missing" with an array of keys ignores further arguments')
            _check_keys(list(args[0]), [f"{paths[0]}/{i}" for i in range(len(args[0]))], op)
        else:
            _check_keys(args, paths, op)
    if op == "missing_some":
        need, options = args
        if not ((kind(need) == K_NUM and isinstance(need, int) and need >= 0) or is_logic(need)):
            raise InvalidRule(paths[0], f'"missing_some" needs a count first, got {_describe(need)}')
        if kind(options) == K_ARR:
            _check_keys(list(options), [f"{paths[1]}/{i}" for i in range(len(options))], op)
        elif not is_logic(options):
            raise InvalidRule(paths[1], f'"missing_some" needs an array of keys, got {_describe(options)}')
    for a, p in zip(args, paths, strict=True):
        _check(a, p)
