"""Which waiting offline datasets the DQM GUI now shows, and what each waiting workspace becomes (pure: no
I/O). A dataset is in the GUI when a sample of its run matches one of the regular expressions (RE2,
unanchored search) of an enabled datasets-accepted rule of the same name whose run range holds the run
(rr_backend §6.6); each of its workspaces still `waiting dqm gui` then becomes OPEN if that workspace's
offline dataset classifier holds on the dataset, else `not significant for workspace`."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from runreg.classifiers import jsonlogic
from runreg.configuration.model import DatasetAccepted, OfflineDatasetClassifier
from runreg.kernel.regex import compile_pattern
from runreg.registry.model import GLOBAL, NOT_SIGNIFICANT, WAITING_DQM_GUI, RunStatus, workspace_states

IN_GUI = "datasets_in_gui"
#: {sample: ISO time of the ping that first saw it}: when each GUI sample of the dataset appeared.
IN_GUI_SEEN = "datasets_in_gui_seen"


def samples_by_run(samples: Iterable[tuple[int, str]]) -> dict[int, list[str]]:
    """The GUI's samples grouped by run (each name once, in the GUI's order)."""
    out: dict[int, dict[str, None]] = {}
    for run, dataset in samples:
        out.setdefault(run, {})[dataset] = None
    return {run: list(names) for run, names in out.items()}


@dataclass(frozen=True)
class _Rule:
    run_from: int | None
    run_to: int | None
    pattern: Any  # one RE2 alternation of the rule's regexps
    # sample -> whether it matches: every run has the same few sample names, so each is searched once
    seen: dict[str, bool] = field(default_factory=dict, compare=False)

    def holds(self, run: int) -> bool:
        return (self.run_from is None or run >= self.run_from) and (self.run_to is None or run <= self.run_to)

    def matches(self, sample: str) -> bool:
        found = self.seen.get(sample)
        if found is None:
            if len(self.seen) > 100_000:
                self.seen.clear()
            found = self.seen[sample] = self.pattern.search(sample) is not None
        return found


class SampleMatcher:
    """The enabled datasets-accepted rules by dataset name, each rule's regexps compiled once into one
    alternation."""

    def __init__(self, rules: Iterable[DatasetAccepted]) -> None:
        self._by_name: dict[str, list[_Rule]] = {}
        for rule in rules:
            if not rule.enabled or not rule.regexps:
                continue
            alternation = "|".join(f"(?:{regexp})" for regexp in rule.regexps)
            field = f"datasets_accepted[{rule.name}].regexps"
            pattern = compile_pattern(field, alternation, max_chars=1 << 16)
            self._by_name.setdefault(rule.name, []).append(_Rule(rule.run_from, rule.run_to, pattern))

    def names(self) -> set[str]:
        return set(self._by_name)

    def matching(self, name: str, run: int, samples: Sequence[str]) -> list[str]:
        """The samples of `run` that show dataset `name` in the GUI (in the GUI's order)."""
        rules = [rule for rule in self._by_name.get(name, ()) if rule.holds(run)]
        if not rules or not samples:
            return []
        return [sample for sample in samples if any(rule.matches(sample) for rule in rules)]


def new_samples(attributes: Mapping[str, Any], found: Sequence[str]) -> list[str]:
    """`found` samples the dataset does not list yet."""
    known = attributes.get(IN_GUI)
    known_set = set(known) if isinstance(known, list) else set()
    return [sample for sample in found if sample not in known_set]


def in_gui_attributes(attributes: Mapping[str, Any], new: Sequence[str], seen_at: str) -> dict[str, Any]:
    """The dataset's GUI attributes with `new` samples added (a union: nothing is ever dropped)."""
    known = attributes.get(IN_GUI)
    seen = attributes.get(IN_GUI_SEEN)
    return {
        IN_GUI: [*(known if isinstance(known, list) else []), *new],
        IN_GUI_SEEN: {**(seen if isinstance(seen, dict) else {}), **{sample: seen_at for sample in new}},
    }


class StateDecider:
    """The enabled offline dataset classifiers, one per workspace (the first), compiled once."""

    def __init__(self, classifiers: Iterable[OfflineDatasetClassifier]) -> None:
        #: workspace -> the key of its rule; workspaces sharing a rule (most subsystems: "PromptReco only")
        #: share one compiled predicate, evaluated once per dataset.
        self._rules: dict[str, str] = {}
        self._compiled: dict[str, Callable[[Any], bool]] = {}
        for classifier in classifiers:
            if classifier.enabled and classifier.workspace not in self._rules:
                key = orjson.dumps(classifier.rule, option=orjson.OPT_SORT_KEYS).decode()
                self._rules[classifier.workspace] = key
                if key not in self._compiled:
                    self._compiled[key] = jsonlogic.compile_predicate(classifier.rule)

    def moves(
        self, context: Mapping[str, Any], attributes: Mapping[str, Any]
    ) -> tuple[list[tuple[str, str]], list[str]]:
        """(workspace, new state) for each workspace waiting, subsystems first and `global` last (opening
        `global` opens what is still waiting), and the waiting workspaces without a classifier (left
        waiting, unless `global` opens them)."""
        waiting = sorted(ws for ws, state in workspace_states(attributes).items() if state == WAITING_DQM_GUI)
        moves: list[tuple[str, str]] = []
        unclassified: list[str] = []
        verdicts: dict[str, bool] = {}
        for ws in sorted(waiting, key=lambda ws: ws == GLOBAL):
            key = self._rules.get(ws)
            if key is None:
                unclassified.append(ws)
                continue
            if key not in verdicts:
                verdicts[key] = self._compiled[key](context)
            moves.append((ws, RunStatus.OPEN.value if verdicts[key] else NOT_SIGNIFICANT))
        return moves, unclassified


def classifier_context(
    run_number: int, name: str, attributes: Mapping[str, Any], oms: Mapping[str, Any], rr: Mapping[str, Any]
) -> dict[str, Any]:
    """What an offline dataset classifier reads: the dataset record (`name`, `run_number`,
    `dataset_attributes`) and its run's attributes (`run.oms`, `run.rr`)."""
    return {
        "name": name,
        "run_number": run_number,
        "dataset_attributes": dict(attributes),
        "run": {"oms": dict(oms), "rr": dict(rr)},
    }
