"""Why a rule is falsy: its evaluation trace, and the leaves that made it false."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from runreg.classifiers.jsonlogic.compiler import compile_node
from runreg.classifiers.jsonlogic.errors import Fault
from runreg.classifiers.jsonlogic.evaluation import locate
from runreg.classifiers.jsonlogic.forms import junction
from runreg.classifiers.jsonlogic.interpreter import apply
from runreg.classifiers.jsonlogic.js import truthy
from runreg.classifiers.jsonlogic.syntax import is_logic, operands, split


def _and_or(node: Any) -> tuple[str, list[Any]] | None:
    """The operator and children of an ``and``/``or`` node, which explanations open; None for a leaf."""
    if is_logic(node):
        ((op, values),) = node.items()
        if op == "and" or op == "or":
            return op, operands(values)
    return None


def trace(rule: Any, data: Any = None) -> list[Any]:
    """The playground's evaluation trace: ``[node, {"resulted_value": bool}]``.

    ``and``/``or`` nodes come back with their children replaced by the children's traces; any other node is a
    leaf and comes back as it is. ``resulted_value`` is the node's json-logic truthiness.
    """
    try:
        return _trace(rule, data)[1]
    except Fault as fault:
        raise locate(rule, data, fault) from None


def _trace(node: Any, data: Any) -> tuple[Any, list[Any]]:
    opened = _and_or(node)
    if opened is None:
        value = apply(node, data)
        return value, [node, {"resulted_value": truthy(value)}]
    op, children = opened
    results = [_trace(child, data) for child in children]
    value = junction(op == "or", [v for v, _ in results])
    return value, [{op: [t for _, t in results]}, {"resulted_value": truthy(value)}]


def failing_leaves(rule: Any, data: Any = None) -> list[Any]:
    """The leaf rules that made ``rule`` falsy on ``data``; [] when it is truthy.

    A false ``and`` contributes each of its falsy children, a false ``or`` all of its children, recursing into
    nested ``and``/``or``; any other node is a leaf. The leaves are the rule's own sub-objects.
    """
    return compile_failing_leaves(rule)(data)


# plan(data) -> (the node's value, the leaves that made it falsy)
_Plan = Callable[[Any], tuple[Any, list[Any]]]


def compile_failing_leaves(rule: Any) -> Callable[[Any], list[Any]]:
    """Compile ``failing_leaves`` for one rule, for explaining many failing lumisections."""
    plan = _plan(rule, "rule")

    def run(data: Any = None) -> list[Any]:
        value, leaves = plan(data)
        return [] if truthy(value) else leaves

    return run


def _plan(node: Any, path: str) -> _Plan:
    if _and_or(node) is None:
        f = compile_node(node, path)
        leaf = [node]
        return lambda data: (f(data), leaf)
    op, _, children, paths = split(node, path)
    plans = [_plan(child, p) for child, p in zip(children, paths, strict=True)]
    itself = [node]

    def run(data: Any) -> tuple[Any, list[Any]]:
        results = [p(data) for p in plans]
        value = junction(op == "or", [v for v, _ in results])
        if truthy(value):
            return value, []
        leaves = [leaf for v, ls in results if not truthy(v) for leaf in ls]
        return value, leaves or itself

    return run
