"""Why LS failed: the combination of failing leaf rules per LS segment, as ``jsonlogic.failing_leaves``."""

from __future__ import annotations

import json
from typing import Any

from runreg.certification.engine_contract import DatasetData, per_ls_contexts
from runreg.certification.engine_intervals import IntervalBuilder, IntervalSet
from runreg.certification.engine_plan import Frame, Plan, build
from runreg.classifiers import jsonlogic
from runreg.classifiers.jsonlogic import InvalidRule
from runreg.classifiers.jsonlogic.syntax import is_logic, split

Combination = tuple[str, ...]
# A leaf is its index in Explainer.leaves; an and/or node is (is_or, children).
_Tree = int | tuple[bool, list["_Tree"]]


def leaf_text(node: Any) -> str:
    """A leaf rule as JSON text, compact like JavaScript's JSON.stringify."""
    return json.dumps(node, separators=(",", ":"), ensure_ascii=False)


class Explainer:
    """A rule opened like failing_leaves opens it: ``and``/``or`` nodes down to leaves, each leaf a plan."""

    def __init__(self, rule: Any, built: dict[str, Plan] | None = None) -> None:
        self.rule = rule
        self._built = built
        self.texts: list[str] = []
        self.plans: list[Plan] = []
        self.tree = self._open(rule, "rule")
        self._memo: dict[tuple[bool, ...], Combination] = {}

    def _open(self, node: Any, path: str) -> _Tree:
        if is_logic(node):
            op, _, args, paths = split(node, path)
            if (op == "and" or op == "or") and args:
                return (op == "or", [self._open(a, p) for a, p in zip(args, paths, strict=True)])
        # Any other node is a leaf (an and/or without operands is falsy and is its own leaf, as there).
        self.texts.append(leaf_text(node))
        self.plans.append(build(node, path, self._built))
        return len(self.plans) - 1

    def _failing(self, tree: _Tree, truths: tuple[bool, ...]) -> tuple[bool, list[str]]:
        if isinstance(tree, int):
            return (True, []) if truths[tree] else (False, [self.texts[tree]])
        is_or, children = tree
        failing: list[str] = []
        for child in children:
            # Leaves are read in place (most of a golden rule is one `and` of leaves): one call per node.
            if isinstance(child, int):
                holds, leaves = truths[child], ([] if truths[child] else [self.texts[child]])
            else:
                holds, leaves = self._failing(child, truths)
            if holds and is_or:
                return True, []
            failing.extend(leaves)
        if is_or or failing:
            return False, failing
        return True, []

    def combination(self, truths: tuple[bool, ...]) -> Combination:
        known = self._memo.get(truths)
        if known is None:
            known = self._memo[truths] = tuple(self._failing(self.tree, truths)[1])
        return known

    def attribute(self, ds: DatasetData, failed: IntervalSet) -> dict[Combination, IntervalSet]:
        frame = Frame(ds)
        failed = failed & frame.span
        if not failed:
            return {}
        try:
            sets = [plan.truthy_set(frame) for plan in self.plans]
        except InvalidRule:
            # A fault on some value: the LS-by-LS definition raises exactly where the original would.
            return attribute_failures_per_ls(self.rule, ds, failed)
        # Sweep the boundaries of every leaf's set: inside two boundaries no leaf changes truthiness.
        changes: dict[int, list[tuple[int, bool]]] = {}
        for index, truthy in enumerate(sets):
            for first, last in truthy:
                changes.setdefault(first, []).append((index, True))
                changes.setdefault(last + 1, []).append((index, False))
        for first, last in failed:
            changes.setdefault(first, [])
            changes.setdefault(last + 1, [])
        state = [False] * len(sets)
        out: dict[Combination, IntervalBuilder] = {}
        bounds = sorted(changes)
        windows, j = failed.ranges, 0
        for i, start in enumerate(bounds[:-1]):
            for index, truth in changes[start]:
                state[index] = truth
            while j < len(windows) and windows[j][1] < start:
                j += 1
            if j == len(windows):
                break
            # Failed ranges' ends are boundaries too, so [start, next - 1] is inside `failed` or outside it.
            if windows[j][0] <= start:
                combo = self.combination(tuple(state))
                if combo:
                    out.setdefault(combo, IntervalBuilder()).add(start, bounds[i + 1] - 1)
        return {combo: builder.build() for combo, builder in out.items()}


def attribute_failures_per_ls(
    rule: Any, ds: DatasetData, failed: IntervalSet
) -> dict[Combination, IntervalSet]:
    """``attribute_failures`` by its definition: ``jsonlogic.failing_leaves`` on each LS of ``failed``."""
    explain = jsonlogic.compile_failing_leaves(rule)
    out: dict[Combination, IntervalBuilder] = {}
    for ls, context in per_ls_contexts(ds, failed & IntervalSet.span(1, ds.ls_count)):
        leaves = explain(context)
        if leaves:
            out.setdefault(tuple(leaf_text(leaf) for leaf in leaves), IntervalBuilder()).add(ls, ls)
    return {combo: builder.build() for combo, builder in out.items()}
