"""The errors of a JSON-logic rule: InvalidRule for callers, Fault where json-logic-js would throw."""

from __future__ import annotations

import json
from typing import Any

from runreg.kernel.errors import InvalidInput


class InvalidRule(InvalidInput):
    """The rule is not valid JSON-logic; ``path`` points at the offending node, e.g. ``rule/and/3/==/0``."""

    def __init__(self, path: str, problem: str) -> None:
        super().__init__("rule", f"{path}: {problem}", details={"path": path, "problem": problem})
        # The path already starts with "rule", so "rule: rule/and/0: ..." would only stutter.
        self.message = f"{path}: {problem}"
        self.args = (self.message,)
        self.path = path
        self.problem = problem


class Fault(Exception):
    """Where json-logic-js would throw at evaluation time; converted to InvalidRule with a path."""

    def __init__(self, problem: str) -> None:
        super().__init__(problem)
        self.problem = problem


def unknown_operator(op: Any) -> str:
    """The problem of a node whose operator json-logic-js does not know."""
    return f"unknown operator {json.dumps(op) if isinstance(op, str) else repr(op)}"
