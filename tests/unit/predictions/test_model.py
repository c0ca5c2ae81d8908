"""The pure rules of ML predictions: validation naming the field, replacement of older predictions, and the
confusion counts (checked against counting LS one by one)."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from runreg.kernel.errors import InvalidInput
from runreg.kernel.ranges import RangeMap
from runreg.predictions.model import (
    NOT_JUDGED,
    Confusion,
    PredictedRange,
    agreement,
    certifier_status,
    check_model,
    confusion,
    parse_predictions,
    replace,
    status_ranges,
)

KNOWN = {"tracker-pixel", "dt-dt"}


def parse(predictions: dict, ls_count: int = 100) -> dict[str, RangeMap]:  # type: ignore[type-arg]
    return parse_predictions(predictions, known_components=KNOWN, ls_count=ls_count, run_number=380567)


def refused(predictions: dict, ls_count: int = 100) -> InvalidInput:  # type: ignore[type-arg]
    with pytest.raises(InvalidInput) as caught:
        parse(predictions, ls_count)
    return caught.value


def test_ranges_become_one_map_per_component_in_ls_order() -> None:
    parsed = parse(
        {
            "dt-dt": [PredictedRange(51, 100, "BAD", 0.7), PredictedRange(1, 50, "GOOD", 0.9)],
            "tracker-pixel": [PredictedRange(1, 10, "GOOD", 1), PredictedRange(11, 20, "GOOD", 1.0)],
        }
    )
    assert parsed["dt-dt"].items() == [
        (1, 50, {"status": "GOOD", "score": 0.9}),
        (51, 100, {"status": "BAD", "score": 0.7}),
    ]
    # Neighbouring ranges of the same verdict are stored as one (range compression).
    assert parsed["tracker-pixel"].items() == [(1, 20, {"status": "GOOD", "score": 1.0})]


@pytest.mark.parametrize(
    ("predictions", "field", "reason"),
    [
        ({}, "predictions", "at least one component"),
        ({"hcal-hcal": [PredictedRange(1, 2, "GOOD", 0.5)]}, "predictions.hcal-hcal", "not a component"),
        ({"dt-dt": []}, "predictions.dt-dt", "at least one LS range"),
        ({"dt-dt": [PredictedRange(0, 2, "GOOD", 0.5)]}, "predictions.dt-dt[0].first_ls", "at least 1"),
        ({"dt-dt": [PredictedRange(5, 2, "GOOD", 0.5)]}, "predictions.dt-dt[0].last_ls", "not be below"),
        ({"dt-dt": [PredictedRange(5, 101, "GOOD", 0.5)]}, "predictions.dt-dt[0].last_ls", "has 100 lumi"),
        ({"dt-dt": [PredictedRange(1, 2, "good", 0.5)]}, "predictions.dt-dt[0].status", "not one of GOOD"),
        ({"dt-dt": [PredictedRange(1, 2, "NOTSET", 0.5)]}, "predictions.dt-dt[0].status", "not one of"),
        ({"dt-dt": [PredictedRange(1, 2, "GOOD", 1.5)]}, "predictions.dt-dt[0].score", "between 0 and 1"),
        ({"dt-dt": [PredictedRange(1, 2, "GOOD", -0.1)]}, "predictions.dt-dt[0].score", "between 0 and 1"),
        ({"dt-dt": [PredictedRange(1, 2, "GOOD", math.nan)]}, "predictions.dt-dt[0].score", "a number"),
        ({"dt-dt": [PredictedRange(1, 2, "GOOD", True)]}, "predictions.dt-dt[0].score", "a number"),
        ({"dt-dt": [PredictedRange(1, 2, "GOOD", "0.5")]}, "predictions.dt-dt[0].score", "a number"),  # type: ignore[arg-type]
        ({"dt-dt": [PredictedRange(2**40, 2**40, "GOOD", 0.5)]}, "predictions.dt-dt[0].first_ls", "32-bit"),
        (
            {"dt-dt": [PredictedRange(1, 10, "GOOD", 0.5), PredictedRange(10, 20, "BAD", 0.5)]},
            "predictions.dt-dt[1].first_ls",
            "also in predictions.dt-dt[0]",
        ),
        ({"dt-dt": [{"first_ls": 1}]}, "predictions.dt-dt[0]", "must be a range"),
    ],
)
def test_every_problem_is_refused_naming_its_field(predictions: dict, field: str, reason: str) -> None:  # type: ignore[type-arg]
    error = refused(predictions)
    assert error.field == field
    assert reason in error.reason


def test_the_size_of_a_submission_is_bounded() -> None:
    many = [PredictedRange(ls, ls, "GOOD", 0.5) for ls in range(1, 20_002)]
    error = refused({"dt-dt": many}, ls_count=30_000)
    assert error.field == "predictions" and "at most 20000" in error.reason


def test_model_and_version_are_required_and_bounded() -> None:
    assert check_model(" ae ", "1.0") == ("ae", "1.0")
    for model, version, field in [("", "1", "model"), ("ae", "  ", "version"), ("x" * 129, "1", "model")]:
        with pytest.raises(InvalidInput) as caught:
            check_model(model, version)
        assert caught.value.field == field


def test_a_newer_submission_replaces_only_the_ls_it_covers() -> None:
    old = replace(RangeMap(), RangeMap([(1, 100, {"status": "GOOD", "score": 0.9})]), submission_id=1)
    new = replace(old, RangeMap([(40, 60, {"status": "BAD", "score": 0.8})]), submission_id=2)
    assert new.items() == [
        (1, 39, {"status": "GOOD", "score": 0.9, "submission": 1}),
        (40, 60, {"status": "BAD", "score": 0.8, "submission": 2}),
        (61, 100, {"status": "GOOD", "score": 0.9, "submission": 1}),
    ]
    # The same verdict sent again is the newer submission's (who/when), not the older one's.
    again = replace(new, RangeMap([(1, 39, {"status": "GOOD", "score": 0.9})]), submission_id=3)
    assert again.items()[0] == (1, 39, {"status": "GOOD", "score": 0.9, "submission": 3})


def triplet(status: str) -> dict[str, str]:
    return {"status": status, "comment": "", "cause": ""}


def test_confusion_counts_ls_per_model_and_certifier_status() -> None:
    predicted = RangeMap(
        [(1, 50, {"status": "GOOD", "score": 0.9}), (51, 60, {"status": "BAD", "score": 0.6})]
    )
    certified = RangeMap(
        [
            (1, 45, triplet("GOOD")),
            (46, 55, triplet("BAD")),
            (56, 57, triplet("NOTSET")),
            (58, 58, triplet("EMPTY")),
        ]
    )
    assert confusion(predicted, certified) == {
        ("GOOD", "GOOD"): 45,
        ("GOOD", "BAD"): 5,
        ("BAD", "BAD"): 5,
        ("BAD", NOT_JUDGED): 5,  # 56–57 NOTSET, 58 EMPTY, 59–60 no status at all
    }


def test_certifier_statuses_nobody_decided_are_not_judged() -> None:
    for status in ("", "EMPTY", "NO VALUE FOUND", "NOTSET"):
        assert certifier_status(triplet(status)) == NOT_JUDGED
    assert certifier_status(None) == NOT_JUDGED
    assert certifier_status(triplet("STANDBY")) == "STANDBY"


statuses = st.sampled_from(["GOOD", "BAD", "STANDBY", "EXCLUDED"])
certifier_statuses = st.sampled_from(["GOOD", "BAD", "STANDBY", "NOTSET", "EMPTY", None])


@given(
    st.lists(st.one_of(st.none(), statuses), min_size=1, max_size=80),
    st.lists(certifier_statuses, min_size=0, max_size=80),
)
def test_confusion_equals_counting_ls_one_by_one(model_ls: list, certifier_ls: list) -> None:  # type: ignore[type-arg]
    predicted = RangeMap(
        [(ls, ls, {"status": s, "score": 0.5}) for ls, s in enumerate(model_ls, start=1) if s is not None]
    )
    certified = RangeMap(
        [(ls, ls, triplet(s)) for ls, s in enumerate(certifier_ls, start=1) if s is not None]
    )
    expected: dict[tuple[str, str], int] = {}
    for ls, mine in enumerate(model_ls, start=1):
        if mine is None:
            continue
        theirs = certifier_ls[ls - 1] if ls <= len(certifier_ls) else None
        key = (mine, NOT_JUDGED if theirs in (None, "NOTSET", "EMPTY") else theirs)
        expected[key] = expected.get(key, 0) + 1
    assert confusion(predicted, certified) == expected


def test_agreement_sums_datasets_per_component_and_model_version() -> None:
    good = RangeMap([(1, 10, {"status": "GOOD", "score": 0.9})])
    bad = RangeMap([(1, 10, {"status": "BAD", "score": 0.9})])
    judged_good = RangeMap([(1, 10, triplet("GOOD"))])
    found = agreement(
        [
            ("dt-dt", "ae", "1", good, judged_good),
            ("dt-dt", "ae", "1", bad, judged_good),
            ("dt-dt", "ae", "2", good, RangeMap()),
            ("tracker-pixel", "ae", "1", bad, RangeMap([(1, 4, triplet("BAD"))])),
        ]
    )
    assert [(c.component, c.version, c.datasets) for c in found] == [
        ("dt-dt", "1", 2),
        ("dt-dt", "2", 1),
        ("tracker-pixel", "1", 1),
    ]
    dt1, dt2, pixel = found
    assert (dt1.predicted, dt1.judged, dt1.agreed, dt1.rate) == (20, 20, 10, 0.5)
    assert dt1.bad_found is None  # no certifier BAD
    assert dt1.bad_confirmed == 0.0  # the model's 10 BAD LS were judged GOOD
    assert (dt2.judged, dt2.not_judged, dt2.rate) == (0, 10, None)
    assert (pixel.bad_found, pixel.bad_confirmed, pixel.not_judged) == (1.0, 1.0, 6)
    assert pixel.rows == ["GOOD", "BAD"] and pixel.columns == ["GOOD", "BAD"]
    assert pixel.as_dict()["matrix"] == {"GOOD": {"GOOD": 0, "BAD": 0}, "BAD": {"GOOD": 0, "BAD": 4}}
    assert pixel.as_dict()["not_judged"] == {"GOOD": 0, "BAD": 6}


def test_matrix_rows_and_columns_show_the_statuses_counted() -> None:
    c = Confusion("dt-dt", "ae", "1", {("STANDBY", "EXCLUDED"): 3, ("GOOD", NOT_JUDGED): 2})
    assert c.rows == ["GOOD", "BAD", "STANDBY"]
    assert c.columns == ["GOOD", "BAD", "EXCLUDED"]


ranges_of = st.lists(
    st.tuples(
        st.integers(1, 60), st.integers(0, 8), st.sampled_from(["GOOD", "BAD"]), st.sampled_from([0.5, 0.9])
    ),
    max_size=12,
)


def disjoint(pieces: list[tuple[int, int, str, float]]) -> RangeMap:
    """Random pieces written one over the other: a sorted, disjoint map as a submission or the store holds."""
    out = RangeMap()
    for first, length, status, score in pieces:
        out.assign(first, first + length, {"status": status, "score": score})
    return out


@given(ranges_of, ranges_of, ranges_of)
def test_replace_equals_writing_the_new_ranges_over_the_old_ones(
    older: list, before: list, new: list
) -> None:  # type: ignore[type-arg]
    current = replace(replace(RangeMap(), disjoint(older), 1), disjoint(before), 2)
    expected = current.copy()
    for first, last, value in disjoint(new):
        expected.assign(first, last, {**value, "submission": 3})
    assert replace(current, disjoint(new), 3) == expected


def test_status_ranges_join_neighbours_of_one_verdict_whatever_their_scores() -> None:
    scored = RangeMap(
        [
            (1, 1, {"status": "GOOD", "score": 0.91, "submission": 1}),
            (2, 2, {"status": "GOOD", "score": 0.97, "submission": 1}),
            (3, 9, {"status": "BAD", "score": 0.6, "submission": 2}),
            (11, 12, {"status": "BAD", "score": 0.6, "submission": 2}),
        ]
    )
    assert status_ranges(scored) == [
        (1, 2, "GOOD", 0.91, 0.97),
        (3, 9, "BAD", 0.6, 0.6),
        (11, 12, "BAD", 0.6, 0.6),
    ]
