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
