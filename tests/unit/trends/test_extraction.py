"""One config on one run's histograms: a point, or the recorded reason there is none (never NaN or inf)."""

from __future__ import annotations

import numpy as np

from runreg.trends.config import parse_file
from runreg.trends.extraction import Point, Rejection, evaluate
from tests.unit.trends.builders import th1

SECTION = """
[plot:Thing]
metric = {metric}
relativePath = A/main
yTitle = y
{extra}
"""


def config(metric: str, extra: str = ""):  # noqa: ANN201
    (found,), _, problems = parse_file("S", "S/a.ini", SECTION.format(metric=metric, extra=extra))
    assert problems == []
    return found


def test_nan_and_inf_are_rejected_with_the_reason() -> None:
    broken = th1([1.0, 2.0], 4, 0, 4)
    broken.values[2] = np.nan
    outcome = evaluate(config("basic.BinCount(2, True)"), {"A/main": broken}, 1, {})
    assert outcome == Rejection("S/Thing", "value is nan")
    infinite = th1([1.0], 4, 0, 4)
    infinite.errors[2] = np.inf
    assert evaluate(config("basic.MaxExcursion()"), {"A/main": infinite}, 1, {}) == Rejection(
        "S/Thing", "error is inf"
    )


def test_threshold_is_the_minimum_number_of_entries() -> None:
    h = th1([1.5] * 5, 4, 0, 4)
    assert evaluate(config("basic.Count()", "threshold = 6"), {"A/main": h}, 1, {}) == Rejection(
        "S/Thing", "5 entries, fewer than the threshold 6"
    )
    assert evaluate(config("basic.Count()", "threshold = 5"), {"A/main": h}, 1, {}) == Point(
        "S/Thing", 5.0, 0.0
    )


def test_a_missing_optional_me_gives_no_point() -> None:
    h = th1([1.5] * 5, 4, 0, 4)
    found = config("basic.RecoFraction(2)", "histo1Path = A/events")
    outcome = evaluate(found, {"A/main": h}, 1, {"A/events": "not in the file"})
    assert outcome == Rejection("S/Thing", "histo1 'A/events' not in the file")
