"""One run, several matching datasets: how their certified LS make the run's entry in the golden JSON."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from runreg.certification.engine_intervals import EMPTY, IntervalSet
from runreg.kernel.errors import InvalidInput

MERGE_POLICIES: Final = ("refuse", "union", "intersection", "first")


def combine(results: Mapping[tuple[int, str], IntervalSet], policy: str = "refuse") -> dict[int, IntervalSet]:
    """The certified LS of each run, from the certified LS of each ``(run, dataset)``.

    The original silently concatenated the ranges of every matching dataset of a run (unsorted, duplicated);
    here a run with several matching datasets follows ``policy``:

    * ``"refuse"`` (default): raise InvalidInput naming the run and two of its datasets, so the pattern can
      be narrowed (e.g. ``/PromptReco/...`` and ``/ReReco/...`` of the same run both matched);
    * ``"union"``: an LS is certified if it is certified in any of the run's datasets;
    * ``"intersection"``: an LS is certified only if it is certified in all of them;
    * ``"first"``: the dataset whose name sorts first decides alone.

    A run with one dataset is that dataset's result whatever the policy. Every run of ``results`` is in the
    answer, with an empty set when nothing is certified.
    """
    if policy not in MERGE_POLICIES:
        raise InvalidInput(
            "policy", f"unknown merge policy {policy!r}; choose one of {', '.join(MERGE_POLICIES)}"
        )
    by_run: dict[int, list[tuple[str, IntervalSet]]] = {}
    for (run_number, name), certified in results.items():
        by_run.setdefault(run_number, []).append((name, certified))
    out: dict[int, IntervalSet] = {}
    for run_number in sorted(by_run):
        datasets = sorted(by_run[run_number], key=lambda item: item[0])
        if len(datasets) == 1 or policy == "first":
            out[run_number] = datasets[0][1]
        elif policy == "refuse":
            (first, _), (second, _) = datasets[:2]
            raise InvalidInput(
                "dataset_pattern",
                f"run {run_number} matches several datasets ({first!r} and {second!r}"
                + (f" and {len(datasets) - 2} more" if len(datasets) > 2 else "")
                + "): narrow the pattern, or choose the merge policy union, intersection or first",
                details={"run_number": run_number, "datasets": [name for name, _ in datasets]},
            )
        elif policy == "union":
            merged = EMPTY
            for _, certified in datasets:
                merged = merged | certified
            out[run_number] = merged
        else:
            merged = datasets[0][1]
            for _, certified in datasets[1:]:
                merged = merged & certified
            out[run_number] = merged
    return out
