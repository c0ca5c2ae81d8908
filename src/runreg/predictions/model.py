"""Pure rules of ML predictions: what a submission may say, how a newer one replaces an older one, and how
often a model agrees with the certifiers (confusion counts over LS ranges, never per LS)."""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from runreg.kernel import limits
from runreg.kernel.errors import InvalidInput
from runreg.kernel.quality import UNJUDGED_STATUSES, Status
from runreg.kernel.ranges import Range, RangeMap

#: What a model may predict for an LS. NOTSET is not a prediction: a model without an opinion on an LS leaves
#: the LS out of its submission.
PREDICTED_STATUSES = (Status.GOOD.value, Status.BAD.value, Status.STANDBY.value, Status.EXCLUDED.value)
#: The certifiers' column for LS nobody has judged yet: no status, EMPTY, NO VALUE FOUND or NOTSET.
NOT_JUDGED = "not judged"
_UNJUDGED = frozenset({*UNJUDGED_STATUSES, Status.NOTSET.value})
#: Display order of statuses in matrices (rows and columns).
STATUS_ORDER = (*PREDICTED_STATUSES, Status.NOTSET.value)


@dataclass(frozen=True)
class PredictedRange:
    """A model's verdict on LS first_ls..last_ls of one component: a status and a score in [0, 1]."""

    first_ls: int
    last_ls: int
    status: str
    score: float


def check_model(model: Any, version: Any) -> tuple[str, str]:
    """The model's name and version, stripped; InvalidInput naming `model` or `version`."""
    out = []
    for field_name, value, most in (
        ("model", model, limits.MAX_MODEL_CHARS),
        ("version", version, limits.MAX_MODEL_VERSION_CHARS),
    ):
        if not isinstance(value, str) or not value.strip():
            raise InvalidInput(field_name, "required: a non-empty text")
        out.append(limits.check_text(field_name, value.strip(), most))
    return out[0], out[1]


def parse_predictions(
    predictions: Mapping[str, Sequence[PredictedRange]],
    *,
    known_components: Collection[str],
    ls_count: int,
    run_number: int,
) -> dict[str, RangeMap]:
    """Per component, the predicted ranges as a RangeMap of {status, score}. Every problem is refused naming
    its field (`predictions.<component>[i].<field>`) before anything is decided: one bad range refuses all."""
    if not isinstance(predictions, Mapping) or not predictions:
        raise InvalidInput("predictions", "at least one component with its LS ranges is required")
    total = sum(len(ranges) if isinstance(ranges, Sequence) else 0 for ranges in predictions.values())
    limits.check_count("predictions", total, limits.MAX_PREDICTION_RANGES, "LS ranges in one submission")
    known = set(known_components)
    out: dict[str, RangeMap] = {}
    for component, ranges in predictions.items():
        where = f"predictions.{component}"
        limits.check_text("predictions", component)
        if component not in known:
            raise InvalidInput(where, f"{component!r} is not a component of this dataset's workspaces")
        if not isinstance(ranges, Sequence) or isinstance(ranges, str) or not ranges:
            raise InvalidInput(where, "at least one LS range is required")
        out[component] = _component_ranges(where, ranges, ls_count, run_number)
    return out


def _component_ranges(where: str, ranges: Sequence[Any], ls_count: int, run_number: int) -> RangeMap:
    checked: list[tuple[int, int, dict[str, Any], int]] = []
    for index, item in enumerate(ranges):
        at = f"{where}[{index}]"
        if not isinstance(item, PredictedRange):
            raise InvalidInput(at, "must be a range {first_ls, last_ls, status, score}")
        first = limits.check_int(f"{at}.first_ls", item.first_ls)
        last = limits.check_int(f"{at}.last_ls", item.last_ls)
        if first < 1:
            raise InvalidInput(f"{at}.first_ls", f"must be at least 1, got {first}")
        if last < first:
            raise InvalidInput(f"{at}.last_ls", f"must not be below first_ls ({first}), got {last}")
        if last > ls_count:
            raise InvalidInput(f"{at}.last_ls", f"run {run_number} has {ls_count} lumisections, got {last}")
        if item.status not in PREDICTED_STATUSES:
            raise InvalidInput(
                f"{at}.status", f"{str(item.status)[:40]!r} is not one of {', '.join(PREDICTED_STATUSES)}"
            )
        score = item.score
        if isinstance(score, bool) or not isinstance(score, int | float) or not math.isfinite(score):
            raise InvalidInput(f"{at}.score", f"must be a number between 0 and 1, got {str(score)[:40]}")
        if not 0 <= score <= 1:
            raise InvalidInput(f"{at}.score", f"must be between 0 and 1, got {score}")
        checked.append((first, last, {"status": item.status, "score": float(score)}, index))
    checked.sort(key=lambda piece: piece[0])
    for (_, before_last, _, before), (first, _, _, index) in zip(checked, checked[1:], strict=False):
        if first <= before_last:
            raise InvalidInput(
                f"{where}[{index}].first_ls",
                f"LS {first} is also in {where}[{before}]: ranges of one component must not overlap",
            )
    return RangeMap.from_stored(_merged([(first, last, value) for first, last, value, _ in checked]))


def _merged(ranges: Iterable[Range]) -> list[Range]:
    """Sorted, disjoint ranges with neighbours of equal value joined. Prediction values hold only text and
    floats (scores are never booleans), so plain equality is the right one — and ten times cheaper than the
    general `same_value` on the 20,000 ranges a submission may bring."""
    out: list[Range] = []
    for first, last, value in ranges:
        if out and out[-1][1] + 1 == first and out[-1][2] == value:
            out[-1] = (out[-1][0], last, value)
        else:
            out.append((first, last, value))
    return out


def replace(current: RangeMap, new: RangeMap, submission_id: int) -> RangeMap:
    """The stored predictions of one (run, dataset, component, model, version) after a submission: the new
    ranges (remembering which submission set them) replace whatever was there; other LS keep theirs. One
    sweep over both maps (both sorted and disjoint), so a per-LS submission over a per-LS one stays linear."""
    top = [(first, last, {**value, "submission": submission_id}) for first, last, value in new]
    kept: list[Range] = []
    j = 0
    for first, last, value in current:
        while j < len(top) and top[j][1] < first:
            j += 1
        start, k = first, j
        while start <= last and k < len(top) and top[k][0] <= last:
            if top[k][0] > start:
                kept.append((start, top[k][0] - 1, value))
            start = max(start, top[k][1] + 1)
            k += 1
        if start <= last:
            kept.append((start, last, value))
    return RangeMap.from_stored(_merged(sorted(kept + top, key=lambda piece: piece[0])))


def status_ranges(predictions: RangeMap) -> list[tuple[int, int, str, float, float]]:
    """The predicted statuses alone, neighbours of one status joined, with the lowest and highest score they
    hold: what the agreement counts with and the run page draws. A model giving a score per LS stores 2,000
    ranges for a 2,000-LS run, but its verdict changes only a few times."""
    out: list[tuple[int, int, str, float, float]] = []
    for first, last, value in predictions:
        status, score = str(value["status"]), float(value["score"])
        if out and out[-1][1] + 1 == first and out[-1][2] == status:
            start, _, _, low, high = out[-1]
            out[-1] = (start, last, status, min(low, score), max(high, score))
        else:
            out.append((first, last, status, score, score))
    return out


# -- agreement -----------------------------------------------------------------------------------------------
def certifier_status(triplet: Mapping[str, Any] | None) -> str:
    """The certifiers' verdict on an LS for the confusion matrix: its status, or NOT_JUDGED."""
    status = (triplet or {}).get("status") or ""
    return NOT_JUDGED if status in _UNJUDGED else str(status)


def confusion(predicted: RangeMap, reference: RangeMap) -> dict[tuple[str, str], int]:
    """LS counts per (model status, certifier status) where `predicted` holds a prediction; `reference` holds
    the certifiers' triplets (LS it does not cover are NOT_JUDGED). O(ranges of both), whatever the LS."""
    counts: dict[tuple[str, str], int] = {}

    def add(key: tuple[str, str], n: int) -> None:
        counts[key] = counts.get(key, 0) + n

    for first, last, value in predicted:
        mine = str(value.get("status"))
        cursor = first
        for r_first, r_last, triplet in reference.slice(first, last):
            if r_first > cursor:
                add((mine, NOT_JUDGED), r_first - cursor)
            add((mine, certifier_status(triplet)), r_last - r_first + 1)
            cursor = r_last + 1
        if cursor <= last:
            add((mine, NOT_JUDGED), last - cursor + 1)
    return counts


@dataclass
class Confusion:
    """How one model version's predictions of one component compare with the certifiers', summed over
    datasets: LS counts per (model status, certifier status)."""

    component: str
    model: str
    version: str
    counts: dict[tuple[str, str], int] = field(default_factory=dict)
    datasets: int = 0

    def add(self, counts: Mapping[tuple[str, str], int]) -> None:
        self.datasets += 1
        for key, n in counts.items():
            self.counts[key] = self.counts.get(key, 0) + n

    def cell(self, predicted: str, certified: str) -> int:
        return self.counts.get((predicted, certified), 0)

    @property
    def predicted(self) -> int:
        """LS with a prediction."""
        return sum(self.counts.values())

    @property
    def not_judged(self) -> int:
        """LS the model predicted and nobody has judged yet: counted apart, never as (dis)agreement."""
        return sum(n for (_, certified), n in self.counts.items() if certified == NOT_JUDGED)

    @property
    def judged(self) -> int:
        return self.predicted - self.not_judged

    @property
    def agreed(self) -> int:
        return sum(n for (predicted, certified), n in self.counts.items() if predicted == certified)

    @property
    def rate(self) -> float | None:
        """Agreed / judged LS; None when nothing judged."""
        return self.agreed / self.judged if self.judged else None

    @property
    def bad_found(self) -> float | None:
        """Of the LS certifiers judged BAD, the fraction the model also called BAD (recall on BAD)."""
        bad = sum(n for (_, certified), n in self.counts.items() if certified == Status.BAD.value)
        return self.cell(Status.BAD.value, Status.BAD.value) / bad if bad else None

    @property
    def bad_confirmed(self) -> float | None:
        """Of the judged LS the model called BAD, the share certifiers judged BAD too (precision on BAD)."""
        called = sum(
            n
            for (predicted, certified), n in self.counts.items()
            if predicted == Status.BAD.value and certified != NOT_JUDGED
        )
        return self.cell(Status.BAD.value, Status.BAD.value) / called if called else None

    @property
    def rows(self) -> list[str]:
        """Model statuses of the matrix: GOOD and BAD always, the others where counted."""
        seen = {predicted for predicted, _ in self.counts}
        return _ordered(seen | {Status.GOOD.value, Status.BAD.value})

    @property
    def columns(self) -> list[str]:
        """Certifier statuses of the matrix (GOOD and BAD always, others where counted); NOT_JUDGED apart."""
        seen = {certified for _, certified in self.counts if certified != NOT_JUDGED}
        return _ordered(seen | {Status.GOOD.value, Status.BAD.value})

    def as_dict(self) -> dict[str, Any]:
        return {
            "component": self.component,
            "model": self.model,
            "version": self.version,
            "datasets": self.datasets,
            "predicted_ls": self.predicted,
            "judged_ls": self.judged,
            "not_judged_ls": self.not_judged,
            "agreed_ls": self.agreed,
            "agreement": self.rate,
            "bad_found": self.bad_found,
            "bad_confirmed": self.bad_confirmed,
            "matrix": {row: {column: self.cell(row, column) for column in self.columns} for row in self.rows},
            "not_judged": {row: self.cell(row, NOT_JUDGED) for row in self.rows},
        }


def _ordered(statuses: Iterable[str]) -> list[str]:
    rank = {status: index for index, status in enumerate(STATUS_ORDER)}
    return sorted(statuses, key=lambda status: (rank.get(status, len(rank)), status))


def agreement(
    pairs: Iterable[tuple[str, str, str, RangeMap, RangeMap]],
) -> list[Confusion]:
    """Confusions per (component, model, version) from (component, model, version, predicted, reference)
    of each dataset, sorted by component, model and version."""
    out: dict[tuple[str, str, str], Confusion] = {}
    for component, model, version, predicted, reference in pairs:
        key = (component, model, version)
        if key not in out:
            out[key] = Confusion(component, model, version)
        out[key].add(confusion(predicted, reference))
    return [out[key] for key in sorted(out)]
