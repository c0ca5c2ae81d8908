"""The shape of a rule: which nodes are operations, their operands, and the paths that name nodes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from runreg.classifiers.jsonlogic.js import K_ARR, K_OBJ, K_STR, kind


def is_logic(v: Any) -> bool:
    """json-logic-js ``is_logic``: any object with exactly one key is an operation, never data."""
    return kind(v) == K_OBJ and isinstance(v, Mapping) and len(v) == 1


def is_static(node: Any) -> bool:
    """A node whose value never depends on the data and is not a fresh array on every evaluation."""
    k = kind(node)
    return k <= K_STR or (k == K_OBJ and not is_logic(node))


def operands(values: Any) -> list[Any]:
    """An operation's operands: its array, or else its single value."""
    return list(values) if kind(values) == K_ARR else [values]


def missing_keys(args: list[Any]) -> Sequence[Any]:
    """The keys ``missing`` looks for: those of an array first argument, or else the arguments."""
    return args[0] if args and kind(args[0]) == K_ARR else args


def escape(key: Any) -> str:
    """A key as a node path segment (JSON-pointer escaping)."""
    return str(key).replace("~", "~0").replace("/", "~1")


def split(node: Mapping[Any, Any], path: str) -> tuple[Any, str, list[Any], list[str]]:
    """An operation node at ``path`` as its operator, its own path, its operands and theirs."""
    ((op, values),) = node.items()
    op_path = f"{path}/{escape(op)}"
    if kind(values) == K_ARR:
        args = list(values)
        return op, op_path, args, [f"{op_path}/{i}" for i in range(len(args))]
    return op, op_path, [values], [op_path]
