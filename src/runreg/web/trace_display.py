"""A JSON-logic evaluation trace (classifiers.jsonlogic.trace) as a tree pages can draw."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class TraceNode:
    """An `and`/`or` node with its children, or a leaf rule (as compact JSON); `holds` is its truthiness."""

    holds: bool
    op: str | None = None
    rule: str = ""
    children: list[TraceNode] = field(default_factory=list)


def trace_tree(trace: list[Any]) -> TraceNode:
    node, outcome = trace
    holds = bool(outcome.get("resulted_value"))
    if isinstance(node, dict) and len(node) == 1:
        ((op, children),) = node.items()
        if op in ("and", "or") and isinstance(children, list):
            return TraceNode(holds, op, children=[trace_tree(child) for child in children])
    return TraceNode(holds, rule=json.dumps(node, separators=(", ", ": ")))


def readable_rule(rule: Any, width: int = 76, indent: int = 0) -> str:
    """A rule as JSON for an editor: a node that fits in `width` on one line, longer ones opened one level
    at a time (json.dumps(indent=2) puts every `var` on three lines)."""
    flat = json.dumps(rule, separators=(", ", ": "))
    if len(flat) + indent <= width or not isinstance(rule, dict | list) or not rule:
        return flat
    pad, inner = " " * indent, " " * (indent + 2)
    if isinstance(rule, list):
        items = [inner + readable_rule(item, width, indent + 2) for item in rule]
        return "[\n" + ",\n".join(items) + f"\n{pad}]"
    items = [
        f"{inner}{json.dumps(key)}: {readable_rule(value, width, indent + 2).lstrip()}"
        for key, value in rule.items()
    ]
    return "{\n" + ",\n".join(items) + f"\n{pad}}}"
