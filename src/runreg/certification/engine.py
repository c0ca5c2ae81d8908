"""The compiled certification engine: golden-JSON rules by interval algebra, equal to per-LS evaluation."""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any, NamedTuple

from runreg.certification.engine_contract import (
    LS_NUMBER,
    DatasetData,
    check_variables,
    evaluate_per_ls,
    source_of,
)
from runreg.certification.engine_explain import Combination, Explainer, attribute_failures_per_ls
from runreg.certification.engine_intervals import EMPTY, IntervalSet
from runreg.certification.engine_merge import MERGE_POLICIES, combine
from runreg.certification.engine_plan import Frame, Plan, build
from runreg.classifiers import jsonlogic
from runreg.classifiers.jsonlogic import InvalidRule

__all__ = [
    "MERGE_POLICIES",
    "CompiledRule",
    "DatasetData",
    "IntervalSet",
    "Needs",
    "attribute_failures",
    "attribute_failures_per_ls",
    "combine",
    "evaluate_per_ls",
]


class Needs(NamedTuple):
    """The LS data a rule reads, so the caller loads only that."""

    oms_keys: frozenset[str]
    rr_components: frozenset[str]
    lumisection_number: bool


class CompiledRule:
    """A golden-JSON rule, validated against JSON-logic and the evaluation contract, planned once.

    Raises InvalidRule (an InvalidInput on field "rule") naming the node: e.g.
    ``rule/and/3/==/0: unknown variable "lumisection.rr.dt" ...``. One instance serves any number of
    datasets; its caches make the next dataset cheaper.

    The original evaluated the rule with json-logic-js on every LS of every matching dataset (minutes for
    an era). Here the rule is planned once by truthiness (engine_plan):

    * a node reading no LS variable is a constant per dataset (or overall, if it reads no run either);
    * a node reading one LS variable is evaluated once per distinct value of it (and once for its holes),
      cached across datasets when it reads no run or dataset variable: ``{"==": [{"var":
      "lumisection.rr.dt-dt"}, "GOOD"]}`` costs one evaluation per status seen in the whole year;
    * ``and``/``or``/``!``/``!!``/``if`` over LS data combine their children's sets (intersection, union,
      complement, the if-chain): a golden JSON needs only truthiness, and theirs is the boolean algebra of
      their children's;
    * any other node reading several LS variables is evaluated once per segment where none of them changes.

    The result equals ``evaluate_per_ls`` exactly (JavaScript truthiness, null, undefined, loose equality)
    because every leaf is still evaluated by the json-logic-js-equivalent evaluator, on exactly the values
    an LS would give it. A rule json-logic-js would throw on (``in`` over an object with an ``indexOf`` key)
    is handed to the per-LS definition, which raises where the original would.

    Performance: a year-like input (2,000 runs × ~1,250 LS, 40 components with 1-4 status changes, 30 DCS
    bits) with the 2018 golden rule evaluates in ~0.15 s, against ~100 ms per dataset (minutes for the
    year) for the per-LS reference.
    """

    def __init__(self, rule: Any) -> None:
        jsonlogic.validate(rule)
        check_variables(rule)
        self.rule = rule
        sources = {source_of(v) for v in jsonlogic.variables(rule)}
        self.oms_keys = frozenset(key for kind, key in filter(None, sources) if kind == "oms")
        self.rr_components = frozenset(key for kind, key in filter(None, sources) if kind == "rr")
        self.reads_lumisection_number = LS_NUMBER in sources
        self._built: dict[str, Plan] = {}
        self._answers = _Answers()
        self._plan = build(rule, "rule", self._built)
        self._explainer: Explainer | None = None

    def needs(self) -> Needs:
        """Which ``lumisection.oms.*`` keys and ``lumisection.rr.*`` components the rule reads."""
        return Needs(self.oms_keys, self.rr_components, self.reads_lumisection_number)

    def evaluate(self, ds: DatasetData) -> IntervalSet:
        """The LS of 1..ds.ls_count where the rule is truthy (remembered for a stamped dataset)."""
        if ds.stamp is None:
            return self._evaluate(ds)
        key = ("evaluate", ds.run_number, ds.name, ds.stamp)
        known = self._answers.get(key)
        if known is None:
            known = self._answers.put(key, self._evaluate(ds))
        return known

    def _evaluate(self, ds: DatasetData) -> IntervalSet:
        if ds.ls_count < 1:
            return EMPTY
        try:
            return self._plan.truthy_set(Frame(ds))
        except InvalidRule:
            # Some value makes json-logic-js throw: the definition raises exactly where the original would
            # (or gives the answer, if that value never reaches the failing node on any LS).
            return evaluate_per_ls(self.rule, ds)

    def run_level_verdict(self, ds: DatasetData) -> bool | None:
        """What the run and dataset values alone decide, before any LS data is read.

        False: the rule is falsy on every LS whatever the LS data (e.g. a top-level ``and`` child on
        ``run.oms.energy`` is falsy), so the dataset can be skipped; True: truthy on every LS; None:
        undecided. Only ``ds``'s run-level fields are read.
        """
        try:
            return self._plan.verdict(Frame(ds))
        except InvalidRule:
            return None  # the original might never evaluate the failing node: let evaluate() decide

    def attribute_failures(self, ds: DatasetData, failed: IntervalSet) -> dict[Combination, IntervalSet]:
        """See ``attribute_failures`` (remembered for a stamped dataset)."""
        if self._explainer is None:
            self._explainer = Explainer(self.rule, self._built)
        if ds.stamp is None:
            return self._explainer.attribute(ds, failed)
        key = ("attribute", ds.run_number, ds.name, ds.stamp, failed.ranges)
        known = self._answers.get(key)
        if known is None:
            known = self._answers.put(key, self._explainer.attribute(ds, failed))
        return known


class _Answers:
    """A compiled rule's answers per stamped dataset, the oldest forgotten first beyond a year's worth."""

    LIMIT = 8_000

    def __init__(self) -> None:
        self._entries: dict[Any, Any] = {}

    def get(self, key: Any) -> Any:
        return self._entries.get(key)

    def put(self, key: Any, value: Any) -> Any:
        if len(self._entries) >= self.LIMIT:
            del self._entries[next(iter(self._entries))]
        self._entries[key] = value
        return value


def compiled(rule: Any) -> CompiledRule:
    """The compiled rule, shared by the computations of one process: its leaves keep what they learnt (the
    truthiness per value, the truthy set per RangeMap of an unchanged run)."""
    return _compiled(json.dumps(rule, separators=(",", ":")))


@lru_cache(maxsize=16)
def _compiled(rule_text: str) -> CompiledRule:
    return CompiledRule(json.loads(rule_text))


def attribute_failures(rule: Any, ds: DatasetData, failed: IntervalSet) -> dict[Combination, IntervalSet]:
    """The LS of ``failed`` (within 1..ds.ls_count) grouped by the combination of leaf rules failing there.

    Keys are tuples of the failing leaves as compact JSON text, in the order ``jsonlogic.failing_leaves``
    gives them on such an LS (a falsy ``and`` contributes its falsy children, a falsy ``or`` all of them,
    recursively; any other node is a leaf). Computed per segment of the leaves' truthiness, never per LS; LS
    of ``failed`` where the rule actually holds are left out. The compiled rule is cached by its JSON text.
    """
    return _compiled(json.dumps(rule, separators=(",", ":"))).attribute_failures(ds, failed)
