"""What a golden-JSON rule may read (rr_backend §6.8), the context it sees, and the per-LS reference."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Final

from runreg.certification.engine_intervals import IntervalBuilder, IntervalSet
from runreg.classifiers import jsonlogic
from runreg.classifiers.jsonlogic import InvalidRule
from runreg.classifiers.jsonlogic.forms import SCOPED
from runreg.classifiers.jsonlogic.js import K_ARR, K_OBJ, kind, to_string
from runreg.classifiers.jsonlogic.syntax import is_logic, is_static, missing_keys, split
from runreg.kernel.ranges import RangeMap, values_at

# A component is "<workspace>-<column>"; neither part contains "-" (rr_backend §2.3).
_COMPONENT: Final = re.compile(r"[^-]+-[^-]+")
# The LS sources a rule can read: ("oms", key), ("rr", component) or ("number", "") for the LS number.
Source = tuple[str, str]
LS_NUMBER: Final[Source] = ("number", "")


@dataclass(frozen=True, slots=True)
class DatasetData:
    """One dataset of one run as the engine sees it: run-level values, and per-LS values as ranges over
    LS 1..ls_count. ``rr`` maps a component to a RangeMap of status strings ("GOOD", "BAD"...), ``oms`` an
    OMS LS key (DCS bit, prescale, luminosity) to a RangeMap of its values; an LS a map does not cover has no
    value for that key."""

    run_number: int
    name: str
    attributes: dict[str, Any]
    run_oms: dict[str, Any]
    run_rr: dict[str, Any]
    ls_count: int
    oms: dict[str, RangeMap] = field(default_factory=dict)
    rr: dict[str, RangeMap] = field(default_factory=dict)
    #: What the dataset's run was when read from the projections (stream version, write time), or None: with
    #: a stamp, a compiled rule remembers its answers for this dataset until the run changes.
    stamp: Any = None


def source_of(variable: str) -> Source | None:
    """The LS source a contract variable reads, None for a run or dataset variable; ValueError otherwise."""
    parts = variable.split(".")
    head, n = parts[0], len(parts)
    known = "" not in parts and n >= 2
    if known and (head == "dataset" or (head == "run" and parts[1] == "run_number")):
        return None
    if known and head == "run" and parts[1] in ("oms", "rr") and n >= 3:
        return None
    if known and head == "lumisection":
        if parts[1] == "lumisection_number":
            return LS_NUMBER
        if parts[1] == "oms" and n >= 3:
            return ("oms", parts[2])
        if parts[1] == "rr" and n >= 3:
            if _COMPONENT.fullmatch(parts[2]):
                return ("rr", parts[2])
            raise ValueError(
                f'unknown variable "{variable}": components are named "<workspace>-<column>", e.g. "dt-dt"'
            )
    raise ValueError(
        f'unknown variable "{variable}": a rule reads dataset.<attribute>, run.run_number, run.oms.<key>, '
        "run.rr.<key>, lumisection.lumisection_number, lumisection.oms.<key> or lumisection.rr.<ws>-<col>"
    )


def check_variables(rule: Any) -> None:
    """Raise InvalidRule, naming the node, for a variable outside the contract or a computed path."""
    for variable, path in _variables_with_paths(rule, "rule"):
        if variable is None:
            raise InvalidRule(path, "computed variable paths are not supported: name the variable")
        try:
            source_of(variable)
        except ValueError as problem:
            raise InvalidRule(path, str(problem)) from None


def _static_key(key: Any) -> str | None:
    """The path a static key names; None for a computed key or the whole data."""
    if is_static(key) and not (key is None or key == "" or kind(key) == K_OBJ):
        return to_string(key)
    return None


def _variables_with_paths(node: Any, path: str) -> Iterator[tuple[str | None, str]]:
    """Each variable read as (path it names or None when computed, node path); mirrors jsonlogic.variables."""
    if kind(node) == K_ARR:
        for i, x in enumerate(node):
            yield from _variables_with_paths(x, f"{path}/{i}")
        return
    if not is_logic(node):
        return
    op, op_path, args, paths = split(node, path)
    if op == "var":
        yield (_static_key(args[0]) if args else None), path
        for a, p in zip(args[1:], paths[1:], strict=True):
            yield from _variables_with_paths(a, p)
    elif op == "missing":
        keyed = args and kind(args[0]) == K_ARR
        keys = missing_keys(args)
        key_paths = [f"{paths[0]}/{i}" for i in range(len(keys))] if keyed else paths
        for key, p in zip(keys, key_paths, strict=True):
            yield _static_key(key), p
    elif op == "missing_some":
        yield from _variables_with_paths(args[:1], op_path)
        if len(args) > 1:
            options = args[1]
            if kind(options) == K_ARR:
                for i, key in enumerate(options):
                    yield _static_key(key), f"{paths[1]}/{i}"
            else:
                yield None, paths[1]
    elif op in SCOPED:
        # The logic applied to each item reads the item, not the rule's data.
        for i in (0, 2):
            if i < len(args):
                yield from _variables_with_paths(args[i], paths[i])
    else:
        for a, p in zip(args, paths, strict=True):
            yield from _variables_with_paths(a, p)


def run_context(ds: DatasetData, lumisection: dict[str, Any]) -> dict[str, Any]:
    """The data a rule sees, with ``lumisection`` as its LS part."""
    return {
        "dataset": {**ds.attributes, "name": ds.name},
        "run": {"oms": ds.run_oms, "rr": ds.run_rr, "run_number": ds.run_number},
        "lumisection": lumisection,
    }


def evaluate_per_ls(rule: Any, ds: DatasetData) -> IntervalSet:
    """The LS of 1..ls_count where ``rule`` is truthy, evaluated LS by LS with the full context.

    The definition the compiled engine must equal, slow and obviously right: what the original computed.
    """
    lumisection: dict[str, Any] = {}
    context = run_context(ds, lumisection)
    out = IntervalBuilder()
    for ls in range(1, ds.ls_count + 1):
        lumisection["lumisection_number"] = ls
        lumisection["oms"] = values_at(ds.oms, ls)
        lumisection["rr"] = values_at(ds.rr, ls)
        if jsonlogic.truthy(jsonlogic.evaluate(rule, context)):
            out.add(ls, ls)
    return out.build()


def per_ls_contexts(ds: DatasetData, lss: IntervalSet) -> Iterator[tuple[int, dict[str, Any]]]:
    """(LS, the full context of that LS) for each LS of ``lss``, as the reference builds it."""
    for first, last in lss:
        for ls in range(first, last + 1):
            lumisection = {"lumisection_number": ls, "oms": values_at(ds.oms, ls), "rr": values_at(ds.rr, ls)}
            yield ls, run_context(ds, lumisection)
