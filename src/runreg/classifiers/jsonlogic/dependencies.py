"""Which data paths a rule reads: ``variables`` and ``has_dynamic_vars``."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from runreg.classifiers.jsonlogic.forms import SCOPED
from runreg.classifiers.jsonlogic.js import K_ARR, K_OBJ, kind, to_string
from runreg.classifiers.jsonlogic.syntax import is_logic, is_static, missing_keys, operands


def variables(rule: Any) -> set[str]:
    """Every data path the rule reads by a static ``var``, ``missing`` or ``missing_some`` key.

    Paths read inside ``map``/``filter``/``all``/``none``/``some``/``reduce`` logic are relative to the
    array's items and are not included (the array's own path is). Computed paths cannot be known: see
    has_dynamic_vars.
    """
    found: set[str] = set()
    _scan(rule, found)
    return found


def has_dynamic_vars(rule: Any) -> bool:
    """Whether the rule reads data at paths only known at evaluation: computed keys, or the whole data."""
    return _scan(rule, set())


def _scan_keys(keys: Iterable[Any], found: set[str]) -> bool:
    dynamic = False
    for key in keys:
        if is_static(key) and not (key is None or key == "" or kind(key) == K_OBJ):
            found.add(to_string(key))
        else:
            dynamic = True
            dynamic |= _scan(key, found)
    return dynamic


def _scan(node: Any, found: set[str]) -> bool:
    """Adds the static paths ``node`` reads to ``found``; whether it also reads computed ones."""
    if kind(node) == K_ARR:
        return any([_scan(x, found) for x in node])
    if not is_logic(node):
        return False
    ((op, values),) = node.items()
    args = operands(values)
    if op == "var":
        dynamic = _scan_keys(args[:1], found) if args else True
        return _scan(args[1:], found) or dynamic
    if op == "missing":
        return _scan_keys(missing_keys(args), found)
    if op == "missing_some":
        dynamic = _scan(args[:1], found)
        if len(args) > 1:
            options = args[1]
            dynamic = _scan_keys(operands(options), found) or dynamic
        return dynamic
    if op in SCOPED:
        # Only the array and reduce's initial value read the outer data.
        return _scan(args[:1] + args[2:3], found)
    return _scan(args, found)
