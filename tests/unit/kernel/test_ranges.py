"""RangeMap against a brute-force {ls: value} model."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from runreg.kernel.ranges import RangeMap, ranges_from_values, same_value

HOLE = object()
MAX_LS = 30

# Values for which Python's == is too lax (True == 1 == 1.0, False == 0), None as a value, a nested value.
values = st.sampled_from([True, False, None, 0, 1, 1.0, "GOOD", "BAD", {"status": "GOOD"}, [1, True]])
ls_numbers = st.integers(1, MAX_LS)


@st.composite
def bounds(draw: st.DrawFn) -> tuple[int, int]:
    first = draw(ls_numbers)
    return first, draw(st.integers(first, min(first + 12, MAX_LS + 2)))


operations = st.lists(
    st.one_of(
        st.tuples(st.just("assign"), bounds(), values),
        st.tuples(st.just("clear"), bounds(), st.none()),
    ),
    max_size=25,
)


def build(ops: list[tuple[str, tuple[int, int], Any]]) -> tuple[RangeMap, dict[int, Any]]:
    """Apply the operations to a RangeMap and to the brute-force model."""
    ranges, model = RangeMap(), {}
    for op, (first, last), value in ops:
        if op == "assign":
            ranges.assign(first, last, value)
            model.update(dict.fromkeys(range(first, last + 1), value))
        else:
            ranges.clear(first, last)
            for ls in range(first, last + 1):
                model.pop(ls, None)
    return ranges, model


def per_ls(pieces: list[tuple[int, int, Any]]) -> dict[int, Any]:
    return {ls: value for first, last, value in pieces for ls in range(first, last + 1)}


def same_content(got: dict[int, Any], wanted: dict[int, Any]) -> bool:
    return got.keys() == wanted.keys() and all(same_value(got[ls], wanted[ls]) for ls in got)


def assert_canonical(ranges: RangeMap) -> None:
    """Sorted, disjoint, non-empty, maximal (no two touching ranges with equal values), index in sync."""
    pieces = ranges.items()
    assert all(first <= last for first, last, _ in pieces)
    for (_, left_last, left), (right_first, _, right) in zip(pieces, pieces[1:], strict=False):
        assert left_last < right_first
        assert left_last + 1 < right_first or not same_value(left, right)
    assert ranges._firsts == [first for first, _, _ in pieces]
    assert len(ranges) == len(pieces) and bool(ranges) == bool(pieces)


def model_gaps(model: dict[int, Any], first: int, last: int) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for ls in range(first, last + 1):
        if ls in model:
            continue
        if out and out[-1][1] == ls - 1:
            out[-1] = (out[-1][0], ls)
        else:
            out.append((ls, ls))
    return out


# --- model-based ----------------------------------------------------------------------------------
class RangeMapMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.ranges = RangeMap()
        self.model: dict[int, Any] = {}

    @rule(span=bounds(), value=values)
    def assign(self, span: tuple[int, int], value: Any) -> None:
        self.ranges.assign(*span, value)
        self.model.update(dict.fromkeys(range(span[0], span[1] + 1), value))

    @rule(span=bounds())
    def clear(self, span: tuple[int, int]) -> None:
        self.ranges.clear(*span)
        for ls in range(span[0], span[1] + 1):
            self.model.pop(ls, None)

    @rule(span=bounds())
    def read(self, span: tuple[int, int]) -> None:
        first, last = span
        sliced = self.ranges.slice(first, last)
        assert all(first <= f <= l_ <= last for f, l_, _ in sliced)
        assert same_content(per_ls(sliced), {ls: v for ls, v in self.model.items() if first <= ls <= last})
        assert self.ranges.gaps(first, last) == model_gaps(self.model, first, last)

    @invariant()
    def same_as_model(self) -> None:
        assert_canonical(self.ranges)
        assert same_content(per_ls(self.ranges.items()), self.model)
        for ls in range(0, MAX_LS + 4):
            got = self.ranges.get(ls, HOLE)
            assert (got is HOLE) == (ls not in self.model)
            if ls in self.model:
                assert same_value(got, self.model[ls])
        assert self.ranges.count() == len(self.model)
        assert self.ranges.last_ls == max(self.model, default=0)
        # Canonical: the same per-LS content built LS by LS gives an equal map.
        assert self.ranges == RangeMap((ls, ls, v) for ls, v in sorted(self.model.items()))


TestRangeMapMachine = RangeMapMachine.TestCase


# --- operations against brute force ---------------------------------------------------------------
@given(operations, operations)
def test_overlay_matches_brute_force(base_ops, top_ops):
    base, base_model = build(base_ops)
    top, top_model = build(top_ops)
    before = (base.items(), top.items())
    merged = base.overlay(top)
    assert_canonical(merged)
    assert same_content(per_ls(merged.items()), {**base_model, **top_model})
    assert (base.items(), top.items()) == before, "overlay must not modify its operands"


@given(operations, bounds())
def test_slice_gaps_get_count_match_brute_force(ops, span):
    ranges, model = build(ops)
    first, last = span
    sliced = ranges.slice(first, last)
    assert sliced == sorted(sliced, key=lambda piece: piece[0])
    assert all(first <= f <= l_ <= last for f, l_, _ in sliced)
    assert same_content(per_ls(sliced), {ls: v for ls, v in model.items() if first <= ls <= last})
    gaps = ranges.gaps(first, last)
    assert gaps == model_gaps(model, first, last)
    assert sum(b - a + 1 for a, b in gaps) + sum(b - a + 1 for a, b, _ in sliced) == last - first + 1
    assert all(ranges.get(ls, HOLE) is HOLE for a, b in gaps for ls in range(a, b + 1))
    assert ranges.count() == len(model)


@given(operations)
def test_rebuilding_from_items_and_copy(ops):
    ranges, _ = build(ops)
    assert RangeMap(ranges.items()) == ranges
    before = ranges.items()
    clone = ranges.copy()
    assert clone == ranges
    clone.assign(1, MAX_LS + 5, "other")
    assert clone.items() == [(1, MAX_LS + 5, "other")]
    assert ranges.items() == before, "a copy is independent"


@given(st.lists(st.one_of(st.none(), st.sampled_from([True, False, 0, 1, "GOOD"])), max_size=30), ls_numbers)
def test_ranges_from_values_matches_brute_force(raw, first_ls):
    ranges = ranges_from_values(raw, first_ls=first_ls)
    assert_canonical(ranges)
    expected = {first_ls + i: v for i, v in enumerate(raw) if v is not None}
    assert same_content(per_ls(ranges.items()), expected)


# --- examples -------------------------------------------------------------------------------------
def test_assign_merges_equal_neighbours_and_splits_on_overwrite():
    ranges = RangeMap()
    ranges.assign(1, 5, "GOOD")
    ranges.assign(6, 10, "GOOD")
    assert ranges.items() == [(1, 10, "GOOD")]
    ranges.assign(4, 6, "BAD")
    assert ranges.items() == [(1, 3, "GOOD"), (4, 6, "BAD"), (7, 10, "GOOD")]
    ranges.clear(2, 8)
    assert ranges.items() == [(1, 1, "GOOD"), (9, 10, "GOOD")]
    assert ranges.gaps(1, 12) == [(2, 8), (11, 12)]
    assert ranges.get(5, "none") == "none" and ranges.get(9) == "GOOD"


def test_booleans_are_not_numbers():
    """Python's True == 1 must not merge a DCS bit with a number (bug fixed in ranges.py)."""
    ranges = RangeMap()
    ranges.assign(1, 1, False)
    ranges.assign(2, 2, 0)
    ranges.assign(3, 3, True)
    ranges.assign(4, 4, 1)
    assert ranges.items() == [(1, 1, False), (2, 2, 0), (3, 3, True), (4, 4, 1)]
    assert ranges.get(1) is False and ranges.get(3) is True
    assert ranges_from_values([True, 1, None, 0, False]).items() == [
        (1, 1, True),
        (2, 2, 1),
        (4, 4, 0),
        (5, 5, False),
    ]
    assert RangeMap([(1, 1, True)]) != RangeMap([(1, 1, 1)])


def test_none_is_a_value_in_assign():
    ranges = RangeMap()
    ranges.assign(1, 3, None)
    assert ranges.count() == 3 and ranges.gaps(1, 3) == [] and ranges.get(2, HOLE) is None


def test_empty_spans_are_refused():
    with pytest.raises(ValueError):
        RangeMap().assign(3, 2, True)
    with pytest.raises(ValueError):
        RangeMap().clear(3, 2)


def test_same_value():
    assert same_value({"a": [1, {"b": None}]}, {"a": (1.0, {"b": None})})
    assert not same_value(True, 1) and not same_value(0, False) and not same_value(None, 0)
    assert not same_value({"a": 1}, {"a": 1, "b": 2}) and not same_value([1], [1, 1])
    assert not same_value({"a": True}, {"a": 1}) and not same_value("1", 1)
