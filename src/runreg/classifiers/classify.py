"""Apply classifiers to a run: its class, its significance, each component's status on every LS segment."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from runreg.classifiers import jsonlogic
from runreg.kernel.quality import Status
from runreg.kernel.ranges import Range, RangeMap, values_at

log = logging.getLogger(__name__)


class RuleLike(Protocol):
    rule: Any
    enabled: bool


class PrioritisedRule(RuleLike, Protocol):
    priority: int


class ClassRule(PrioritisedRule, Protocol):
    class_name: str


class SignificanceRule(RuleLike, Protocol):
    class_name: str


class ComponentRule(PrioritisedRule, Protocol):
    component: str
    status: str
    mode: str


def reduce_ls_attributes(per_key: Mapping[str, RangeMap]) -> dict[str, bool]:
    """Run-level view of per-LS bits (rr_backend §4.6): true if true on some LS; null counts as false."""
    return {key: any(value is True for _, _, value in ranges) for key, ranges in per_key.items()}


#: RR's own `beams_present_and_stable` is not shown to component rules: the OMS-derived one is.
_HIDDEN_FROM_COMPONENT_RULES = frozenset({"beams_present_and_stable"})


def run_context(
    oms_attributes: Mapping[str, Any], rr_attributes: Mapping[str, Any], per_ls: Mapping[str, RangeMap]
) -> dict[str, Any]:
    """What class and significance rules see: the LS attributes reduced over the run, then the run's OMS
    attributes, then its RR attributes (later ones win)."""
    return {**reduce_ls_attributes(per_ls), **oms_attributes, **rr_attributes}


def component_run_context(
    oms_attributes: Mapping[str, Any], rr_attributes: Mapping[str, Any]
) -> dict[str, Any]:
    """The run's part of what online component rules see on each LS (the LS's own values come on top)."""
    rr = {k: v for k, v in rr_attributes.items() if k not in _HIDDEN_FROM_COMPONENT_RULES}
    return {**oms_attributes, **rr}


def offline_component_context(
    *,
    oms_attributes: Mapping[str, Any],
    rr_attributes: Mapping[str, Any],
    oms_ls: Mapping[str, Any],
    rr_ls: Mapping[str, Any],
) -> dict[str, Any]:
    """What offline component rules see on one LS (rr_backend §4.6): `{run: {oms, rr}, lumisection: {oms,
    rr}}`, the LS's online OMS values and its online RR triplets (`{<ws>-<col>: {status, comment,
    cause}}`)."""
    return {
        "run": {"oms": dict(oms_attributes), "rr": dict(rr_attributes)},
        "lumisection": {"oms": dict(oms_ls), "rr": dict(rr_ls)},
    }


def context_for(
    *,
    oms_attributes: Mapping[str, Any],
    rr_attributes: Mapping[str, Any],
    per_ls: Mapping[str, RangeMap],
    ls: int | None = None,
    mode: str = "online",
    flags: Mapping[str, RangeMap] | None = None,
) -> dict[str, Any]:
    """The data a rule is evaluated on: the run's (class and significance rules) when `ls` is None, else
    that lumisection's (online component rules; with `mode="offline"`, the offline component rules' nested
    context, whose `lumisection.rr` are the online triplets `flags` hold on that LS). The one definition,
    shared by the classification, the classifier playground and the run page's "why"."""
    if ls is None:
        return run_context(oms_attributes, rr_attributes, per_ls)
    if mode == "offline":
        return offline_component_context(
            oms_attributes=oms_attributes,
            rr_attributes=rr_attributes,
            oms_ls=values_at(per_ls, ls),
            rr_ls=values_at(flags or {}, ls),
        )
    return {**component_run_context(oms_attributes, rr_attributes), **values_at(per_ls, ls)}


def run_class(context: Mapping[str, Any], classifiers: Iterable[ClassRule]) -> str:
    """The class of the truthy enabled rule with the smallest priority number; '' when none holds."""
    best: tuple[int, str] | None = None
    for classifier in classifiers:
        if classifier.enabled and _holds(classifier.rule, context):
            candidate = (classifier.priority, classifier.class_name)
            if best is None or candidate[0] < best[0]:
                best = candidate
    return best[1] if best else ""


def is_significant(
    context: Mapping[str, Any], class_name: str, classifiers: Iterable[SignificanceRule]
) -> bool:
    return any(
        c.enabled and c.class_name == class_name and _holds(c.rule, context)
        for c in classifiers
        if class_name
    )


@dataclass(frozen=True)
class _Compiled:
    priority: int
    status: str
    predicate: Any


class ComponentClassifierSet:
    """The enabled component rules of one mode, compiled once and evaluated per LS segment, never per LS."""

    def __init__(self, classifiers: Iterable[ComponentRule], *, mode: str = "online") -> None:
        by_component: dict[str, list[_Compiled]] = {}
        keys: set[str] = set()
        paths: set[str] = set()
        by_paths: dict[str, tuple[set[str], bool]] = {}
        dynamic = False
        for c in classifiers:
            if not c.enabled or c.mode != mode:
                continue
            by_component.setdefault(c.component, []).append(
                _Compiled(c.priority, c.status, jsonlogic.compile_predicate(c.rule))
            )
            read = jsonlogic.variables(c.rule)
            dynamic_rule = jsonlogic.has_dynamic_vars(c.rule)
            paths |= read
            dynamic = dynamic or dynamic_rule
            keys |= {path.split(".", 1)[0] for path in read}
            mine = by_paths.setdefault(c.component, (set(), False))
            by_paths[c.component] = (mine[0] | read, mine[1] or dynamic_rule)
        self.mode = mode
        #: Offline rules: the per-LS OMS keys and online components they read (None: all of them).
        self.oms_keys_read, self.rr_components_read = _offline_reads(paths, dynamic)
        #: Offline components grouped by what their rules read.
        self._offline_groups: dict[tuple[frozenset[str] | None, frozenset[str] | None], list[str]] = {}
        for component, (read, dynamic_rule) in sorted(by_paths.items()):
            self._offline_groups.setdefault(_offline_reads(read, dynamic_rule), []).append(component)
        # Lowest priority first: the first truthy rule decides (the original's by-status lookup is ambiguous).
        self.rules = {
            comp: sorted(rules, key=lambda r: r.priority) for comp, rules in sorted(by_component.items())
        }
        self.keys_read = frozenset(keys)

    @property
    def components(self) -> list[str]:
        return list(self.rules)

    def statuses(
        self, run_context: Mapping[str, Any], per_ls: Mapping[str, RangeMap], ls_count: int
    ) -> dict[str, RangeMap]:
        """Each component's status over LS 1..ls_count as triplet ranges (NO VALUE FOUND if no rule holds)."""
        keys = sorted(self.keys_read & set(per_ls))
        out: dict[str, list[Range]] = {component: [] for component in self.rules}
        for first, last, values in segments({k: per_ls[k] for k in keys}, ls_count):
            context = {**run_context, **values}
            for component, rules in self.rules.items():
                _extend(out[component], first, last, _first_status(rules, context))
        return {component: RangeMap.from_sorted(ranges) for component, ranges in out.items()}

    def offline_statuses(
        self,
        *,
        oms_attributes: Mapping[str, Any],
        rr_attributes: Mapping[str, Any],
        oms_per_ls: Mapping[str, RangeMap],
        flags_per_ls: Mapping[str, RangeMap],
        ls_count: int,
    ) -> dict[str, RangeMap]:
        """Offline components' statuses over LS 1..ls_count (rr_backend §6.5), from the run's online OMS
        values and online triplets (`flags_per_ls`, effective), in the nested context of
        `offline_component_context`. Components whose rules read the same values are evaluated together, once
        per segment where none of those values changes (a component copying dt-dt is evaluated on dt-dt's
        ranges, not on every DCS bit's)."""
        run_part = {"oms": dict(oms_attributes), "rr": dict(rr_attributes)}
        out: dict[str, list[Range]] = {component: [] for component in self.rules}
        for (oms_read, rr_read), components in self._offline_groups.items():
            oms = _read_only(oms_per_ls, oms_read)
            rr = _read_only(flags_per_ls, rr_read)
            keyed = {f"{_OMS}{k}": m for k, m in oms.items()} | {f"{_RR}{c}": m for c, m in rr.items()}
            for first, last, values in segments(keyed, ls_count):
                lumisection: dict[str, dict[str, Any]] = {"oms": {}, "rr": {}}
                for key, value in values.items():
                    side, name = key.split(":", 1)
                    lumisection[side][name] = value
                context = {"run": run_part, "lumisection": lumisection}
                for component in components:
                    _extend(out[component], first, last, _first_status(self.rules[component], context))
        return {component: RangeMap.from_sorted(ranges) for component, ranges in out.items()}


def _first_status(rules: Sequence[_Compiled], context: Mapping[str, Any]) -> str:
    """The status of the first (lowest-priority) rule that holds; NO VALUE FOUND when none does."""
    for rule in rules:
        if rule.predicate(context):
            return rule.status
    return Status.NO_VALUE_FOUND.value


def _extend(ranges: list[Range], first: int, last: int, status: str) -> None:
    """Append a status for LS first..last, joining it to the previous range when that has the same status."""
    if ranges and ranges[-1][1] == first - 1 and ranges[-1][2]["status"] == status:
        ranges[-1] = (ranges[-1][0], last, ranges[-1][2])
    else:
        ranges.append((first, last, {"status": status, "comment": "", "cause": ""}))


_OMS, _RR = "oms:", "rr:"


def _offline_reads(
    paths: Iterable[str], dynamic: bool
) -> tuple[frozenset[str] | None, frozenset[str] | None]:
    """Which `lumisection.oms.<key>` and `lumisection.rr.<component>` offline rules read; None for a side
    read whole (`lumisection`, `lumisection.rr`) or through a computed path."""
    oms: set[str] = set()
    rr: set[str] = set()
    whole = {"oms": dynamic, "rr": dynamic}
    for path in paths:
        parts = path.split(".", 3)
        if parts[0] != "lumisection":
            continue
        if len(parts) == 1:
            whole = {"oms": True, "rr": True}
        elif len(parts) == 2:
            if parts[1] in whole:
                whole[parts[1]] = True
        elif parts[1] == "oms":
            oms.add(parts[2])
        elif parts[1] == "rr":
            rr.add(parts[2])
    return (None if whole["oms"] else frozenset(oms)), (None if whole["rr"] else frozenset(rr))


def _read_only(maps: Mapping[str, RangeMap], keys: frozenset[str] | None) -> dict[str, RangeMap]:
    return dict(maps) if keys is None else {k: m for k, m in maps.items() if k in keys}


def segments(per_key: Mapping[str, RangeMap], ls_count: int) -> list[tuple[int, int, dict[str, Any]]]:
    """Split 1..ls_count at every boundary of every key's ranges: inside a segment no key changes value.

    A key with no value on an LS is absent from that segment's values (undefined to JSON-logic).
    """
    if ls_count < 1:
        return []
    starts = {1}
    for ranges in per_key.values():
        for first, last, _ in ranges:
            starts.add(first)
            starts.add(last + 1)
    bounds = sorted(s for s in starts if 1 <= s <= ls_count)
    out = []
    for index, first in enumerate(bounds):
        last = bounds[index + 1] - 1 if index + 1 < len(bounds) else ls_count
        out.append((first, last, values_at(per_key, first)))
    return out


def _holds(rule: Any, context: Mapping[str, Any]) -> bool:
    return jsonlogic.truthy(jsonlogic.evaluate(rule, dict(context)))


def check_rules(rules: Sequence[RuleLike]) -> None:
    """Validate before use: a rule that cannot be evaluated is a configuration error, not a data error."""
    for rule in rules:
        jsonlogic.validate(rule.rule)
