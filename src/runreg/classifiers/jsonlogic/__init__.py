"""JSON-logic with exactly the semantics of json-logic-js 2.0.5, the engine the original Run Registry ran."""

from runreg.classifiers.jsonlogic.compiler import compile_predicate, compile_rule
from runreg.classifiers.jsonlogic.dependencies import has_dynamic_vars, variables
from runreg.classifiers.jsonlogic.errors import InvalidRule
from runreg.classifiers.jsonlogic.evaluation import evaluate
from runreg.classifiers.jsonlogic.explain import compile_failing_leaves, failing_leaves, trace
from runreg.classifiers.jsonlogic.interpreter import OPERATORS
from runreg.classifiers.jsonlogic.js import truthy
from runreg.classifiers.jsonlogic.validation import validate

__all__ = [
    "OPERATORS",
    "InvalidRule",
    "compile_failing_leaves",
    "compile_predicate",
    "compile_rule",
    "evaluate",
    "failing_leaves",
    "has_dynamic_vars",
    "trace",
    "truthy",
    "validate",
    "variables",
]
