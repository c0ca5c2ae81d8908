"""A rule as a plan of truthiness sets: constants, per-value leaves, per-segment leaves and set algebra."""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any, Final

from runreg.certification.engine_contract import LS_NUMBER, DatasetData, Source, run_context, source_of
from runreg.certification.engine_intervals import EMPTY, IntervalBuilder, IntervalSet
from runreg.classifiers import jsonlogic
from runreg.classifiers.classify import segments
from runreg.classifiers.jsonlogic.syntax import is_logic, split
from runreg.kernel.ranges import RangeMap

# A value cache stops growing here: per-LS values (luminosity) would otherwise fill it with one-offs.
_CACHE_LIMIT: Final = 4096
# Truthy sets kept per leaf: a year is ~2,000 datasets.
_SETS_LIMIT: Final = 20_000
_ABSENT: Final = ("absent",)


@lru_cache(maxsize=64)
def ls_numbers(n: int) -> RangeMap:
    """LS number ``i`` on LS ``i``: the values of ``lumisection.lumisection_number``, one segment per LS."""
    return RangeMap.from_sorted([(i, i, i) for i in range(1, n + 1)])


class Frame:
    """One dataset being evaluated: its data, its span, and the context leaves are evaluated on."""

    __slots__ = ("ds", "ls", "n", "span", "context")

    def __init__(self, ds: DatasetData) -> None:
        self.ds = ds
        self.n = max(ds.ls_count, 0)
        self.span = IntervalSet.span(1, self.n)
        # Only the LS values a leaf reads are set in here, just around that leaf's evaluation.
        self.ls: dict[str, Any] = {"oms": {}, "rr": {}}
        self.context = run_context(ds, self.ls)

    def values(self, source: Source) -> RangeMap | None:
        kind, key = source
        if kind == "rr":
            return self.ds.rr.get(key)
        if kind == "oms":
            return self.ds.oms.get(key)
        return ls_numbers(self.n)

    def slot(self, source: Source) -> tuple[dict[str, Any], str]:
        """The dictionary and key where the context holds the source's value."""
        kind, key = source
        return (self.ls, "lumisection_number") if source == LS_NUMBER else (self.ls[kind], key)


class Plan:
    """A rule node; ``truthy_set`` gives the LS where it is truthy, ``verdict`` what holds on every LS."""

    __slots__ = ()

    def truthy_set(self, frame: Frame) -> IntervalSet:
        raise NotImplementedError

    def verdict(self, frame: Frame) -> bool | None:
        """True (False) if the node is truthy (falsy) on every LS whatever the LS data; None if undecided."""
        return None


class Constant(Plan):
    """A node reading no LS variable: one evaluation per dataset, or one overall if it reads no run either."""

    __slots__ = ("test", "run_dependent", "_memo")

    def __init__(self, test: Callable[[Any], bool], run_dependent: bool) -> None:
        self.test = test
        self.run_dependent = run_dependent
        self._memo: bool | None = None

    def verdict(self, frame: Frame) -> bool:
        if self.run_dependent:
            return self.test(frame.context)
        if self._memo is None:
            self._memo = self.test(frame.context)
        return self._memo

    def truthy_set(self, frame: Frame) -> IntervalSet:
        return frame.span if self.verdict(frame) else EMPTY


class PerValue(Plan):
    """A node reading one LS variable: evaluated once per distinct value (and once for the holes).

    Without run or dataset variables the node's truthiness per value is cached across datasets, so a year
    costs a handful of evaluations per leaf.
    """

    __slots__ = ("test", "source", "run_dependent", "_cache", "_sets")

    def __init__(self, test: Callable[[Any], bool], source: Source, run_dependent: bool) -> None:
        self.test = test
        self.source = source
        self.run_dependent = run_dependent
        self._cache: dict[Any, bool] = {}
        # Whole truthy sets by the RangeMap they came from (kept alive here, so its id stays its own): the
        # attribution asks again for the sets evaluation computed, and a warm process gets the same RangeMaps
        # from the read cache for unchanged runs. RangeMaps handed to the engine are never changed.
        self._sets: dict[tuple[int, int], tuple[RangeMap, IntervalSet]] = {}

    def _evaluate(self, frame: Frame, value: Any, cache: dict[Any, bool], key: Any) -> bool:
        holder, name = frame.slot(self.source)
        if key is not _ABSENT:
            holder[name] = value
        try:
            truth = self.test(frame.context)
        finally:
            holder.pop(name, None)
        if key is not None and len(cache) < _CACHE_LIMIT:
            cache[key] = truth
        return truth

    def truthy_set(self, frame: Frame) -> IntervalSet:
        values = frame.values(self.source)
        if self.run_dependent or values is None:
            return self._truthy_set(frame, values)
        key = (id(values), frame.n)
        known = self._sets.get(key)
        if known is None:
            if len(self._sets) >= _SETS_LIMIT:
                self._sets.clear()
            known = self._sets[key] = (values, self._truthy_set(frame, values))
        return known[1]

    def _truthy_set(self, frame: Frame, values: RangeMap | None) -> IntervalSet:
        # The hot loop of the engine (a year: ~40 leaves × 2,000 datasets × a few ranges), kept inline.
        n = frame.n
        cache = {} if self.run_dependent else self._cache
        out: list[tuple[int, int]] = []
        cursor = 1
        holes: bool | None = None
        for first, last, value in values or ():
            if last < cursor:
                continue
            if first > n:
                break
            if first > cursor:
                if holes is None:
                    holes = cache.get(_ABSENT)
                    if holes is None:
                        holes = self._evaluate(frame, None, cache, _ABSENT)
                if holes:
                    if out and out[-1][1] + 1 >= cursor:
                        out[-1] = (out[-1][0], first - 1)
                    else:
                        out.append((cursor, first - 1))
            else:
                first = cursor
            if last > n:
                last = n
            t = type(value)
            if t is str:
                key: Any = value
            elif t is bool or t is int or value is None:
                key = (t, value)
            elif t is float:
                key = (t, repr(value))  # repr tells -0.0 from 0.0, which 1/x would
            else:
                key = None  # arrays and objects: `===` compares them by identity, never share a result
            truth = None if key is None else cache.get(key)
            if truth is None:
                truth = self._evaluate(frame, value, cache, key)
            if truth:
                if out and out[-1][1] + 1 >= first:
                    out[-1] = (out[-1][0], last)
                else:
                    out.append((first, last))
            cursor = last + 1
        if cursor <= n:
            if holes is None:
                holes = cache.get(_ABSENT)
                if holes is None:
                    holes = self._evaluate(frame, None, cache, _ABSENT)
            if holes:
                if out and out[-1][1] + 1 >= cursor:
                    out[-1] = (out[-1][0], n)
                else:
                    out.append((cursor, n))
        if len(out) == 1 and out[0] == (1, n):
            return frame.span
        return IntervalSet.of_sorted(out)


class PerSegment(Plan):
    """A node reading several LS variables that set algebra cannot split: one evaluation per segment."""

    __slots__ = ("test", "sources")

    def __init__(self, test: Callable[[Any], bool], sources: tuple[Source, ...]) -> None:
        self.test = test
        self.sources = sources

    def truthy_set(self, frame: Frame) -> IntervalSet:
        per_source: dict[Source, RangeMap] = {}
        for source in self.sources:
            values = frame.values(source)
            if values is not None:
                per_source[source] = values
        # segments() wants string keys: "kind:key" is unique per source.
        by_id = {f"{kind}:{key}": (kind, key) for kind, key in per_source}
        slots = {sid: frame.slot(source) for sid, source in by_id.items()}
        out = IntervalBuilder()
        for first, last, present in segments({sid: per_source[s] for sid, s in by_id.items()}, frame.n):
            for sid, value in present.items():
                holder, name = slots[sid]
                holder[name] = value
            try:
                truth = self.test(frame.context)
            finally:
                for sid in present:
                    holder, name = slots[sid]
                    del holder[name]
            if truth:
                out.add(first, last)
        return out.build()


class And(Plan):
    __slots__ = ("children",)

    def __init__(self, children: list[Plan]) -> None:
        self.children = children

    def truthy_set(self, frame: Frame) -> IntervalSet:
        # In the rule's order, stopping once nothing is left: the original never evaluates a later child
        # there either, so an evaluation fault shows up exactly where it would have.
        result = frame.span
        for child in self.children:
            result = result & child.truthy_set(frame)
            if not result:
                return EMPTY
        return result

    def verdict(self, frame: Frame) -> bool | None:
        verdicts = [child.verdict(frame) for child in self.children]
        if False in verdicts:
            return False
        return True if all(verdicts) else None


class Or(Plan):
    __slots__ = ("children",)

    def __init__(self, children: list[Plan]) -> None:
        self.children = children

    def truthy_set(self, frame: Frame) -> IntervalSet:
        result = EMPTY
        for child in self.children:
            result = result | child.truthy_set(frame)
            if result == frame.span:
                return result
        return result

    def verdict(self, frame: Frame) -> bool | None:
        verdicts = [child.verdict(frame) for child in self.children]
        if True in verdicts:
            return True
        return False if all(v is False for v in verdicts) else None


class Not(Plan):
    __slots__ = ("child",)

    def __init__(self, child: Plan) -> None:
        self.child = child

    def truthy_set(self, frame: Frame) -> IntervalSet:
        return self.child.truthy_set(frame).complement(1, frame.n)

    def verdict(self, frame: Frame) -> bool | None:
        v = self.child.verdict(frame)
        return None if v is None else not v


class If(Plan):
    """``if [c1, t1, c2, t2, ..., else]``: (c1∧t1) ∪ (¬c1∧c2∧t2) ∪ ... ∪ (¬c1∧¬c2∧...∧else)."""

    __slots__ = ("pairs", "otherwise")

    def __init__(self, pairs: list[tuple[Plan, Plan]], otherwise: Plan | None) -> None:
        self.pairs = pairs
        self.otherwise = otherwise

    def truthy_set(self, frame: Frame) -> IntervalSet:
        remaining = frame.span
        result = EMPTY
        for cond, then in self.pairs:
            chosen = cond.truthy_set(frame) & remaining
            if chosen:
                result = result | (chosen & then.truthy_set(frame))
                remaining = remaining - chosen
                if not remaining:
                    return result
        if self.otherwise is not None:  # no else: null, falsy
            result = result | (remaining & self.otherwise.truthy_set(frame))
        return result

    def verdict(self, frame: Frame) -> bool | None:
        for cond, then in self.pairs:
            v = cond.verdict(frame)
            if v is None:
                return None
            if v:
                return then.verdict(frame)
        return False if self.otherwise is None else self.otherwise.verdict(frame)


_JUNCTIONS: Final = frozenset({"and", "or", "!", "!!", "if", "?:"})


def reads(node: Any) -> tuple[tuple[Source, ...], bool]:
    """The LS sources a (contract-checked) node reads, sorted, and whether it reads run or dataset values."""
    sources: set[Source] = set()
    run_dependent = False
    for variable in jsonlogic.variables(node):
        source = source_of(variable)
        if source is None:
            run_dependent = True
        else:
            sources.add(source)
    return tuple(sorted(sources)), run_dependent


def build(node: Any, path: str = "rule", built: dict[str, Plan] | None = None) -> Plan:
    """The plan of a validated, contract-checked rule node at ``path``. With ``built``, every plan made is
    recorded there by path, and one already there is reused: the explainer's leaves are then the engine's,
    with the truthy sets they already computed."""
    if built is not None and path in built:
        return built[path]
    plan = _build(node, path, built)
    if built is not None:
        built[path] = plan
    return plan


def _build(node: Any, path: str, built: dict[str, Plan] | None) -> Plan:
    sources, run_dependent = reads(node)
    if not sources:
        return Constant(jsonlogic.compile_predicate(node), run_dependent)
    # Truthiness connectives reading LS data are split into their children, even over one source: a run-level
    # child then decides whole datasets (run_level_verdict) without any LS value.
    if is_logic(node):
        op, _, args, paths = split(node, path)
        if op in _JUNCTIONS:
            children = [build(a, p, built) for a, p in zip(args, paths, strict=True)]
            if op == "and":
                return And(children)
            if op == "or":
                return Or(children)
            if op == "!":
                return Not(children[0])
            if op == "!!":
                return children[0]
            pairs = list(zip(children[:-1:2], children[1::2], strict=True))
            return If(pairs, children[-1] if len(children) % 2 else None)
    test = jsonlogic.compile_predicate(node)
    if len(sources) == 1:
        return PerValue(test, sources[0], run_dependent)
    return PerSegment(test, sources)
