"""Why a run has its class, significance and automatic LS statuses: each classifier traced on the run's stored
values with the contexts ingestion builds (the original's classifier playground, rr_backend §5.6)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from runreg.classifiers import classify, jsonlogic
from runreg.configuration.model import Configuration
from runreg.kernel.errors import InvalidInput
from runreg.kernel.quality import Status
from runreg.registry.model import ONLINE, RunState

#: A value the context does not hold (undefined to JSON-logic, shown apart from null).
MISSING: Any = type("Missing", (), {"__repr__": lambda self: "missing"})()
JUNCTIONS = ("and", "or")


@dataclass(frozen=True)
class Node:
    """One node of a rule's evaluation. An `and`/`or` is opened (`op`, `children`); any other node is a leaf
    with its rule and the values it read, as (path, value) pairs (MISSING where the context has none)."""

    result: bool
    op: str | None = None
    children: tuple[Node, ...] = ()
    rule: Any = None
    reads: tuple[tuple[str, Any], ...] = ()


@dataclass(frozen=True)
class RuleTrace:
    """One classifier: what it would give (a class, a status, "significant"), whether it holds, and why."""

    gives: str
    rule: Any
    enabled: bool
    result: bool
    priority: int | None = None
    tree: Node | None = None
    error: str = ""


@dataclass(frozen=True)
class Verdict:
    """What the rules decide for one subject (class, significance, a component on the LS) beside what the
    run holds; `decided_by` is the index in `rules` of the rule that decided (None: no rule held)."""

    subject: str
    outcome: str
    stored: str
    rules: list[RuleTrace]
    decided_by: int | None = None
    note: str = ""

    @property
    def agrees(self) -> bool:
        return self.outcome == self.stored


@dataclass(frozen=True)
class Explanation:
    run_number: int
    ls: int
    ls_count: int
    run_class: Verdict
    significance: Verdict
    components: list[Verdict]
    ls_values: dict[str, Any] = field(default_factory=dict)


def explain(run: RunState, config: Configuration, ls: int) -> Explanation:
    """Trace class, significance and every online component's rules on LS `ls` of `run`, as a refresh would
    evaluate them now (the stored RR attributes as base, the current configuration's rules). Per-LS values
    the registry does not keep read as missing."""
    if not 1 <= ls <= max(run.ls_count, 1):
        raise InvalidInput("ls", f"run {run.run_number} has {run.ls_count} lumisections, got {ls}")
    online = run.datasets.get(ONLINE)
    per_ls = online.oms if online else {}
    base = run.rr
    oms = run.oms

    class_context = classify.run_context(oms, base, per_ls)
    class_rules = [
        _trace(c.class_name, c.rule, class_context, enabled=c.enabled, priority=c.priority)
        for c in sorted(config.class_classifiers, key=lambda c: c.priority)
    ]
    if oms.get("hlt_key") is None:
        computed_class, decided, note = str(base.get("class") or ""), None, "no HLT key: the class is kept"
    else:
        decided = _first(class_rules)
        computed_class = class_rules[decided].gives if decided is not None else ""
        note = "" if decided is not None else "no enabled rule holds: no class"
    run_class = Verdict("class", computed_class, str(base.get("class") or ""), class_rules, decided, note)

    rr = {"class": computed_class, "significant": False}
    significance_context = classify.run_context(oms, {**base, **rr}, per_ls)
    significance_rules = [
        _trace("significant", c.rule, significance_context, enabled=c.enabled)
        for c in config.significance_classifiers
        if computed_class and c.class_name == computed_class
    ]
    holds = _first(significance_rules)
    significance = Verdict(
        "significance",
        "significant" if holds is not None else "not significant",
        "significant" if base.get("significant") else "not significant",
        significance_rules,
        holds,
        "" if significance_rules else f"no significance rule for class {computed_class or '(none)'}",
    )

    rr["significant"] = holds is not None
    ls_values = {key: ranges.get(ls, MISSING) for key, ranges in sorted(per_ls.items())}
    ls_context = classify.context_for(oms_attributes=oms, rr_attributes={**base, **rr}, per_ls=per_ls, ls=ls)
    stored_flags = online.flags if online else {}
    components = [
        _component_verdict(component, rules, ls_context, stored_flags, ls)
        for component, rules in _component_rules(config).items()
    ]
    return Explanation(run.run_number, ls, run.ls_count, run_class, significance, components, dict(ls_values))


def _component_rules(config: Configuration) -> dict[str, list[Any]]:
    """Online component classifiers by component (configuration order), each list by priority."""
    out: dict[str, list[Any]] = {c: [] for c in config.components("online")}
    for classifier in config.component_classifiers:
        if classifier.mode == "online" and classifier.component in out:
            out[classifier.component].append(classifier)
    return {c: sorted(rules, key=lambda r: r.priority) for c, rules in out.items() if rules}


def _component_verdict(
    component: str, rules: Iterable[Any], context: Mapping[str, Any], stored: Mapping[str, Any], ls: int
) -> Verdict:
    traces = [_trace(r.status, r.rule, context, enabled=r.enabled, priority=r.priority) for r in rules]
    decided = _first(traces)
    flags = stored.get(component)
    triplet = flags.effective().get(ls) if flags else None
    return Verdict(
        component,
        traces[decided].gives if decided is not None else Status.NO_VALUE_FOUND.value,
        (triplet or {}).get("status") or Status.EMPTY.value,
        traces,
        decided,
        "manual" if flags and flags.manual.get(ls) else "",
    )


def _first(traces: list[RuleTrace]) -> int | None:
    """The rule that decides: the first enabled one that holds (traces are in priority order)."""
    return next((i for i, t in enumerate(traces) if t.enabled and t.result), None)


def _trace(
    gives: str, rule: Any, context: Mapping[str, Any], *, enabled: bool, priority: int | None = None
) -> RuleTrace:
    data = dict(context)
    try:
        tree = _node(jsonlogic.trace(rule, data), data)
    except jsonlogic.InvalidRule as exc:
        return RuleTrace(gives, rule, enabled, False, priority, None, exc.message)
    return RuleTrace(gives, rule, enabled, tree.result, priority, tree)


def _node(traced: list[Any], data: Mapping[str, Any]) -> Node:
    """jsonlogic.trace's `[node, {"resulted_value"}]` as a Node, leaves with the values they read."""
    node, outcome = traced
    result = bool(outcome["resulted_value"])
    if isinstance(node, dict) and len(node) == 1:
        ((op, children),) = node.items()
        if op in JUNCTIONS and isinstance(children, list):
            return Node(result, op, tuple(_node(child, data) for child in children))
    reads = tuple((path, read(data, path)) for path in sorted(jsonlogic.variables(node)))
    return Node(result, rule=node, reads=reads)


def read(data: Mapping[str, Any], path: str) -> Any:
    """The value at a dotted `var` path, MISSING where there is none (a whole key first: component names
    and OMS keys hold no dots, but a key may)."""
    if path in data:
        return data[path]
    value: Any = data
    for part in path.split("."):
        if isinstance(value, Mapping) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return MISSING
    return value
