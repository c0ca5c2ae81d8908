"""``evaluate``: the interpreter for callers, a fault reported as InvalidRule at the node that raised it."""

from __future__ import annotations

from typing import Any

from runreg.classifiers.jsonlogic.compiler import compile_node
from runreg.classifiers.jsonlogic.errors import Fault, InvalidRule
from runreg.classifiers.jsonlogic.interpreter import apply
from runreg.classifiers.jsonlogic.js import export


def evaluate(rule: Any, data: Any = None) -> Any:
    """Apply ``rule`` to ``data`` as json-logic-js ``apply`` would; ``undefined`` comes back as None.

    Raises InvalidRule where json-logic-js would throw (e.g. an unknown operator on the evaluated branch).
    """
    try:
        return export(apply(rule, data))
    except Fault as fault:
        raise locate(rule, data, fault) from None


def locate(rule: Any, data: Any, fault: Fault) -> InvalidRule:
    """The InvalidRule for a fault the interpreter raised evaluating ``rule`` on ``data``."""
    # The interpreter carries no paths, to stay lean; the compiled form knows each node's path and, being
    # deterministic, fails at the same node.
    try:
        compile_node(rule, "rule")(data)
    except InvalidRule as located:
        return located
    return InvalidRule("rule", fault.problem)
