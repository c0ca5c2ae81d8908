"""Per-LS arrays ⇄ LS ranges and the change ranges of automatic updates (spec §4.1, §4.2, §4.5)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from runreg.kernel.errors import InvalidInput
from runreg.kernel.lsdiff import (
    changed_ranges,
    ls_list_to_ranges,
    lumisection_ranges,
    per_key_ranges,
    ranges_to_ls_list,
)
from runreg.kernel.ranges import RangeMap, same_value

HOLE = object()


# --- fixtures and strategies ----------------------------------------------------------------------
def run_328645() -> list[dict[str, Any]]:
    """The 94-LS fixture of `test/get_ranges_test.js`: every LS carries the same four DCS bits."""
    return [{"cscp_ready": False, "dtp_ready": False, "ebm_ready": True, "hf_ready": True} for _ in range(94)]


def with_changes(lumisections: list[dict[str, Any]], changes: dict[int, dict[str, Any]]) -> list[dict]:
    out = [dict(ls) for ls in lumisections]
    for ls_number, delta in changes.items():
        out[ls_number - 1].update(delta)
    return out


# Values chosen so that Python's == is too lax (True == 1, False == 0) and None is a value.
json_values = st.sampled_from([True, False, None, 0, 1, 2.5, "x", "y"])
ls_objects = st.dictionaries(st.sampled_from(["a", "b", "c"]), json_values, max_size=3)
ls_arrays = st.lists(ls_objects, max_size=25)


@st.composite
def previous_and_new(draw: st.DrawFn) -> tuple[list[dict], list[dict]]:
    """A previous state and a new one at least as long, the new one often close to the previous one."""
    previous = draw(ls_arrays)
    new = [dict(ls) for ls in previous]
    for index in draw(st.lists(st.integers(0, max(len(new) - 1, 0)), max_size=8)):
        if new:
            new[index] = draw(ls_objects)
    new += draw(st.lists(ls_objects, max_size=5))
    return previous, new


def values_of(ls_range: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in ls_range.items() if k not in ("start", "end")}


def expand(ranges: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Ranges as returned by lumisection_ranges back to the per-LS array."""
    out: list[dict[str, Any]] = []
    for ls_range in ranges:
        assert ls_range["start"] == len(out) + 1 <= ls_range["end"] + 1
        out += [values_of(ls_range) for _ in range(ls_range["start"], ls_range["end"] + 1)]
    return out


def delta_of(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in after.items() if k not in before or not same_value(before[k], v)}


# --- §4.1 lumisection_ranges ----------------------------------------------------------------------
def test_lumisection_ranges_of_nothing_is_empty():
    assert lumisection_ranges([]) == []


def test_lumisection_ranges_groups_consecutive_equal_ls():
    lumisections = [{"a": 1}, {"a": 1}, {"a": 2}, {"a": 1}, {}, {}]
    assert lumisection_ranges(lumisections) == [
        {"a": 1, "start": 1, "end": 2},
        {"a": 2, "start": 3, "end": 3},
        {"a": 1, "start": 4, "end": 4},
        {"start": 5, "end": 6},
    ]


def test_lumisection_ranges_of_the_unchanged_fixture_is_one_range():
    assert lumisection_ranges(run_328645()) == [
        {"cscp_ready": False, "dtp_ready": False, "ebm_ready": True, "hf_ready": True, "start": 1, "end": 94}
    ]


def test_lumisection_ranges_compares_strictly():
    ranges = lumisection_ranges([{"a": True}, {"a": 1}, {"a": None}, {}])
    assert [(r["start"], r["end"]) for r in ranges] == [(1, 1), (2, 2), (3, 3), (4, 4)]
    assert ranges[0]["a"] is True and ranges[1]["a"] == 1 and ranges[1]["a"] is not True


def test_lumisection_ranges_deep_equality_of_nested_values():
    lumisections = [{"cms": {"status": "GOOD", "comment": ""}}, {"cms": {"comment": "", "status": "GOOD"}}]
    assert lumisection_ranges(lumisections) == [
        {"cms": {"status": "GOOD", "comment": ""}, "start": 1, "end": 2}
    ]


def test_lumisection_ranges_whitelist_reduces_each_ls_first():
    lumisections = [{"a": 1, "noise": 1}, {"a": 1, "noise": 2}, {"a": 2, "noise": 2}]
    assert lumisection_ranges(lumisections, ["a"]) == [
        {"a": 1, "start": 1, "end": 2},
        {"a": 2, "start": 3, "end": 3},
    ]
    assert lumisection_ranges(lumisections, ["*"]) == lumisection_ranges(lumisections)
    assert lumisection_ranges(lumisections, ["absent"]) == [{"start": 1, "end": 3}]
    assert len(lumisection_ranges(lumisections, None)) == 3


def test_whitelist_given_as_a_string_is_refused():
    with pytest.raises(TypeError):
        lumisection_ranges([{"a": 1}], "a")


@given(ls_arrays)
def test_lumisection_ranges_round_trip_and_are_maximal(lumisections):
    ranges = lumisection_ranges(lumisections)
    back = expand(ranges)
    assert len(back) == len(lumisections)
    assert all(same_value(x, y) for x, y in zip(back, lumisections, strict=True))
    for left, right in zip(ranges, ranges[1:], strict=False):
        assert left["end"] + 1 == right["start"]
        assert not same_value(values_of(left), values_of(right))


@given(ls_arrays, st.lists(st.sampled_from(["a", "b", "c"]), max_size=3))
def test_lumisection_ranges_with_whitelist_equals_ranges_of_reduced_ls(lumisections, whitelist):
    reduced = [{k: v for k, v in ls.items() if k in whitelist} for ls in lumisections]
    assert lumisection_ranges(lumisections, whitelist) == lumisection_ranges(reduced)


# --- §4.2 changed_ranges: the acceptance cases of get_ranges_test.js -----------------------------
def test_acceptance_one_bit_changed_in_the_middle():
    previous = run_328645()
    new = with_changes(previous, {5: {"cscp_ready": True}})
    assert changed_ranges(previous, new) == [{"start": 5, "end": 5, "cscp_ready": True}]


def test_acceptance_first_ls_changed():
    previous = run_328645()
    new = with_changes(previous, {1: {"cscp_ready": True}})
    assert changed_ranges(previous, new) == [{"start": 1, "end": 1, "cscp_ready": True}]


def test_acceptance_last_ls_changed():
    previous = run_328645()
    new = with_changes(previous, {94: {"cscp_ready": True}})
    assert changed_ranges(previous, new) == [{"start": 94, "end": 94, "cscp_ready": True}]


def test_acceptance_two_ls_with_different_deltas():
    previous = run_328645()
    new = with_changes(
        previous,
        {3: {"cscp_ready": True, "dtp_ready": True}, 6: {"ebm_ready": False, "hf_ready": False}},
    )
    assert changed_ranges(previous, new) == [
        {"start": 3, "end": 3, "cscp_ready": True, "dtp_ready": True},
        {"start": 6, "end": 6, "ebm_ready": False, "hf_ready": False},
    ]


def test_acceptance_values_keep_their_types():
    previous = run_328645()
    [change] = changed_ranges(previous, with_changes(previous, {5: {"cscp_ready": True}}))
    assert change["cscp_ready"] is True


# --- §4.2 beyond the acceptance cases -------------------------------------------------------------
def test_same_delta_after_an_unchanged_ls_is_not_dropped():
    """The [BUG] of spec §10.2: the original returned only the first range."""
    previous = [{"a": False} for _ in range(6)]
    new = with_changes(previous, {3: {"a": True}, 5: {"a": True}})
    assert changed_ranges(previous, new) == [
        {"a": True, "start": 3, "end": 3},
        {"a": True, "start": 5, "end": 5},
    ]


def test_consecutive_identical_deltas_form_one_range_and_different_ones_split():
    previous = [{"a": False, "b": False} for _ in range(8)]
    new = with_changes(
        previous, {2: {"a": True}, 3: {"a": True}, 4: {"a": True, "b": True}, 5: {"b": True}, 6: {"b": True}}
    )
    assert changed_ranges(previous, new) == [
        {"a": True, "start": 2, "end": 3},
        {"a": True, "b": True, "start": 4, "end": 4},
        {"b": True, "start": 5, "end": 6},
    ]


def test_no_change_gives_no_range():
    assert changed_ranges(run_328645(), run_328645()) == []
    assert changed_ranges([], []) == []


def test_deletion_is_refused_with_both_counts():
    with pytest.raises(InvalidInput) as caught:
        changed_ranges(run_328645(), run_328645()[:90])
    assert caught.value.field == "lumisections"
    assert "Lumisections cannot be deleted" in caught.value.message
    assert "94" in caught.value.message and "90" in caught.value.message


def test_growth_new_ls_are_all_delta():
    previous = [{"a": 1, "b": 2}] * 3
    new = [*previous, {"a": 1, "b": 2}, {"a": 1, "b": 2}, {"a": 1}]
    assert changed_ranges(previous, new) == [
        {"a": 1, "b": 2, "start": 4, "end": 5},
        {"a": 1, "start": 6, "end": 6},
    ]
    assert changed_ranges([], [{"a": None}]) == [{"a": None, "start": 1, "end": 1}]


def test_growth_with_empty_new_ls_gives_no_range():
    assert changed_ranges([{"a": 1}], [{"a": 1}, {}]) == []


def test_strict_equality_true_is_not_one_and_none_is_not_missing():
    previous = [{"a": 1}, {"a": 0}, {}, {"a": None}]
    new = [{"a": True}, {"a": False}, {"a": None}, {"a": None}]
    assert changed_ranges(previous, new) == [
        {"a": True, "start": 1, "end": 1},
        {"a": False, "start": 2, "end": 2},
        {"a": None, "start": 3, "end": 3},
    ]


def test_keys_removed_in_new_are_not_deltas():
    previous = [{"a": 1, "b": 1}, {"a": 1, "b": 1}, {"a": 1, "b": 1}]
    new = [{"a": 1}, {"a": 2}, {"a": 1, "b": 1}]
    assert changed_ranges(previous, new) == [{"a": 2, "start": 2, "end": 2}]


def test_nested_values_are_compared_deeply_and_replaced_whole():
    previous = [{"cms": {"status": "GOOD", "comment": ""}}] * 3
    new = [
        {"cms": {"comment": "", "status": "GOOD"}},
        {"cms": {"status": "BAD", "comment": ""}},
        {"cms": {"status": "GOOD", "comment": ""}},
    ]
    assert changed_ranges(previous, new) == [{"cms": {"status": "BAD", "comment": ""}, "start": 2, "end": 2}]


def test_whitelist_restricts_both_sides():
    previous = [{"a": False, "noise": 1}] * 4
    new = [{"a": False, "noise": 2}, {"a": True, "noise": 3}, {"a": True, "noise": 3}, {"a": False}]
    assert changed_ranges(previous, new, ["a"]) == [{"a": True, "start": 2, "end": 3}]
    assert changed_ranges(previous, new, ["*"]) == changed_ranges(previous, new)
    assert changed_ranges(previous, new, None) == [
        {"noise": 2, "start": 1, "end": 1},
        {"a": True, "noise": 3, "start": 2, "end": 3},
    ]
    assert changed_ranges(previous, new, []) == []


def test_inputs_are_not_mutated():
    previous = run_328645()
    new = with_changes(previous, {5: {"cscp_ready": True}})
    snapshot = ([dict(ls) for ls in previous], [dict(ls) for ls in new])
    changed_ranges(previous, new)
    assert (previous, new) == snapshot


@given(previous_and_new())
def test_applying_the_changes_on_previous_reproduces_new(pair):
    previous, new = pair
    result = [dict(ls) for ls in previous] + [{} for _ in range(len(new) - len(previous))]
    for change in changed_ranges(previous, new):
        delta = values_of(change)
        for ls_number in range(change["start"], change["end"] + 1):
            result[ls_number - 1].update(delta)
    for got, wanted in zip(result, new, strict=True):
        for key, value in wanted.items():
            assert key in got and same_value(got[key], value)


@given(previous_and_new())
def test_changed_ranges_are_exactly_the_maximal_blocks_of_identical_deltas(pair):
    previous, new = pair
    deltas = [delta_of(previous[i] if i < len(previous) else {}, ls) for i, ls in enumerate(new)]
    ranges = changed_ranges(previous, new)
    covered: set[int] = set()
    for change in ranges:
        assert 1 <= change["start"] <= change["end"] <= len(new)
        delta = values_of(change)
        assert delta, "a range always carries a change"
        for ls_number in range(change["start"], change["end"] + 1):
            assert same_value(deltas[ls_number - 1], delta)
            assert ls_number not in covered
            covered.add(ls_number)
    assert covered == {i + 1 for i, delta in enumerate(deltas) if delta}
    for left, right in zip(ranges, ranges[1:], strict=False):
        assert left["end"] < right["start"]
        if left["end"] + 1 == right["start"]:
            assert not same_value(deltas[left["end"] - 1], deltas[right["start"] - 1])


@given(previous_and_new(), st.lists(st.sampled_from(["a", "b", "c"]), max_size=3))
def test_changed_ranges_with_whitelist_equals_diff_of_reduced_ls(pair, whitelist):
    previous, new = pair

    def reduce(lss: list[dict]) -> list[dict]:
        return [{k: v for k, v in ls.items() if k in whitelist} for ls in lss]

    assert changed_ranges(previous, new, whitelist) == changed_ranges(reduce(previous), reduce(new))


# --- per_key_ranges -------------------------------------------------------------------------------
def test_per_key_ranges_stores_none_and_leaves_holes():
    lumisections = [{"a": None, "b": True}, {"a": None}, {"a": False, "b": True}, {"a": 0}]
    maps = per_key_ranges(lumisections)
    assert list(maps) == ["a", "b"]
    assert maps["a"].items() == [(1, 2, None), (3, 3, False), (4, 4, 0)]
    assert maps["a"].get(4) == 0 and maps["a"].get(4) is not False
    assert maps["b"].items() == [(1, 1, True), (3, 3, True)]
    assert maps["b"].gaps(1, 4) == [(2, 2), (4, 4)]


def test_per_key_ranges_for_chosen_keys():
    maps = per_key_ranges(run_328645(), ["hf_ready", "absent"])
    assert list(maps) == ["hf_ready", "absent"]
    assert maps["hf_ready"] == RangeMap([(1, 94, True)])
    assert maps["absent"] == RangeMap()
    assert per_key_ranges([]) == {}
    # A run OMS lists before its first lumisection: every chosen key, no range (it used to raise).
    assert per_key_ranges([], ["hf_ready"]) == {"hf_ready": RangeMap()}


@given(ls_arrays)
def test_per_key_ranges_round_trip(lumisections):
    maps = per_key_ranges(lumisections)
    assert set(maps) == {key for ls in lumisections for key in ls}
    for key, ranges in maps.items():
        for ls_number, ls in enumerate(lumisections, start=1):
            got = ranges.get(ls_number, HOLE)
            assert (got is HOLE) == (key not in ls)
            if key in ls:
                assert same_value(got, ls[key])
        assert ranges.last_ls <= len(lumisections)
        pieces = ranges.items()
        for (_, left_last, left), (right_first, _, right) in zip(pieces, pieces[1:], strict=False):
            assert left_last + 1 < right_first or not same_value(left, right)


# --- §4.5 list <-> ranges -------------------------------------------------------------------------
def test_ls_list_to_ranges_example():
    assert ls_list_to_ranges([1, 2, 3, 4, 10, 11, 12]) == [[1, 4], [10, 12]]
    assert ranges_to_ls_list([[1, 4], [10, 12]]) == [1, 2, 3, 4, 10, 11, 12]


def test_ls_list_to_ranges_accepts_unsorted_duplicates():
    assert ls_list_to_ranges([12, 3, 1, 2, 2, 11, 4, 10, 1]) == [[1, 4], [10, 12]]
    assert ls_list_to_ranges([]) == []
    assert ls_list_to_ranges([7]) == [[7, 7]]


def test_ranges_to_ls_list_normalises_overlaps_and_rejects_bad_ranges():
    assert ranges_to_ls_list([[10, 12], [1, 4], [3, 5]]) == [1, 2, 3, 4, 5, 10, 11, 12]
    assert ranges_to_ls_list([]) == []
    with pytest.raises(InvalidInput):
        ranges_to_ls_list([[5, 3]])
    with pytest.raises(InvalidInput):
        ranges_to_ls_list([[1, 2, 3]])


@given(st.lists(st.integers(1, 60), max_size=40))
def test_list_to_ranges_and_back(numbers):
    ranges = ls_list_to_ranges(numbers)
    assert ranges_to_ls_list(ranges) == sorted(set(numbers))
    assert ls_list_to_ranges(ranges_to_ls_list(ranges)) == ranges
    for (_, left_last), (right_first, _) in zip(ranges, ranges[1:], strict=False):
        assert left_last + 1 < right_first
    assert all(first <= last for first, last in ranges)
