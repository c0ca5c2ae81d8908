"""IntervalSet: a set of LS numbers kept as sorted, disjoint, non-adjacent inclusive ranges."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from itertools import starmap
from operator import sub
from typing import Any

from runreg.kernel.ranges import RangeMap

Interval = tuple[int, int]


class IntervalSet:
    """An immutable set of LS numbers stored as maximal inclusive ranges ``((first, last), ...)``.

    ``len`` counts LS, ``ls in s`` tests one LS, and iterating yields the ``(first, last)`` ranges (what a
    golden JSON lists). ``&``, ``|`` and ``-`` are the set operations; ``complement`` is taken within a span.
    """

    __slots__ = ("ranges",)

    ranges: tuple[Interval, ...]

    def __init__(self, ranges: Iterable[tuple[int, int] | list[int]] = ()) -> None:
        self.ranges = _normalise(ranges)

    @classmethod
    def _trusted(cls, ranges: tuple[Interval, ...]) -> IntervalSet:
        # The operations below already produce maximal sorted ranges: skip normalising them again.
        out = cls.__new__(cls)
        out.ranges = ranges
        return out

    @classmethod
    def of_sorted(cls, ranges: list[Interval]) -> IntervalSet:
        """From ranges already sorted, disjoint and non-adjacent (not checked: the engine's fast path)."""
        return cls._trusted(tuple(ranges)) if ranges else EMPTY

    @classmethod
    def empty(cls) -> IntervalSet:
        return EMPTY

    @classmethod
    def span(cls, first: int, last: int) -> IntervalSet:
        """Every LS of [first, last] (empty when last < first)."""
        return cls._trusted(((first, last),)) if first <= last else EMPTY

    @classmethod
    def selecting(
        cls, values: RangeMap, predicate: Callable[[Any], bool], first: int = 1, last: int | None = None
    ) -> IntervalSet:
        """The LS of [first, last] (default: all) whose value in ``values`` satisfies ``predicate``."""
        hi = values.last_ls if last is None else last
        return cls(
            (max(f, first), min(la, hi)) for f, la, v in values if la >= first and f <= hi and predicate(v)
        )

    # reading -------------------------------------------------------------------------------------
    def __iter__(self) -> Iterator[Interval]:
        return iter(self.ranges)

    def __len__(self) -> int:
        # Σ (last - first + 1) as len - Σ (first - last), the sum taken in C: a failing set of a run whose
        # bits flip LS after LS has thousands of ranges, and a golden JSON counts tens of thousands of sets.
        return len(self.ranges) - sum(starmap(sub, self.ranges))

    def __bool__(self) -> bool:
        return bool(self.ranges)

    def __contains__(self, ls: object) -> bool:
        if not isinstance(ls, int):
            return False
        lo, hi = 0, len(self.ranges)
        while lo < hi:
            mid = (lo + hi) // 2
            first, last = self.ranges[mid]
            if ls < first:
                hi = mid
            elif ls > last:
                lo = mid + 1
            else:
                return True
        return False

    def __eq__(self, other: object) -> bool:
        return isinstance(other, IntervalSet) and self.ranges == other.ranges

    def __hash__(self) -> int:
        return hash(self.ranges)

    def __repr__(self) -> str:
        return f"IntervalSet({list(self.ranges)!r})"

    def as_lists(self) -> list[list[int]]:
        """The golden-JSON form ``[[first, last], ...]``."""
        return [[first, last] for first, last in self.ranges]

    # set operations ------------------------------------------------------------------------------
    def __and__(self, other: IntervalSet) -> IntervalSet:
        a, b = self.ranges, other.ranges
        if a == b:
            return self
        if not a or not b:
            return EMPTY
        out: list[Interval] = []
        i = j = 0
        na, nb = len(a), len(b)
        while i < na and j < nb:
            af, al = a[i]
            bf, bl = b[j]
            lo = af if af > bf else bf
            hi = al if al < bl else bl
            if lo <= hi:
                out.append((lo, hi))
            if al < bl:
                i += 1
            else:
                j += 1
        return IntervalSet._trusted(tuple(out))

    def __or__(self, other: IntervalSet) -> IntervalSet:
        a, b = self.ranges, other.ranges
        if not b or a == b:
            return self
        if not a:
            return other
        return IntervalSet._trusted(_coalesce(sorted(a + b)))

    def __sub__(self, other: IntervalSet) -> IntervalSet:
        if not self.ranges or not other.ranges:
            return self
        return self & other.complement(self.ranges[0][0], self.ranges[-1][1])

    def complement(self, first: int, last: int) -> IntervalSet:
        """The LS of [first, last] not in this set."""
        out: list[Interval] = []
        cursor = first
        for f, la in self.ranges:
            if la < cursor:
                continue
            if f > last:
                break
            if f > cursor:
                out.append((cursor, f - 1))
            cursor = la + 1
        if cursor <= last:
            out.append((cursor, last))
        return IntervalSet._trusted(tuple(out))


def _coalesce(ranges: Iterable[Interval]) -> tuple[Interval, ...]:
    """Sorted ranges (by first) merged where they overlap or touch."""
    out: list[Interval] = []
    for first, last in ranges:
        if out and first <= out[-1][1] + 1:
            if last > out[-1][1]:
                out[-1] = (out[-1][0], last)
        else:
            out.append((first, last))
    return tuple(out)


def _normalise(ranges: Iterable[tuple[int, int] | list[int]]) -> tuple[Interval, ...]:
    pairs = sorted((int(first), int(last)) for first, last in ranges if first <= last)
    return _coalesce(pairs)


EMPTY = IntervalSet._trusted(())


class IntervalBuilder:
    """Collects ranges given in increasing order, merging the touching ones: the hot path of the engine."""

    __slots__ = ("out",)

    def __init__(self) -> None:
        self.out: list[Interval] = []

    def add(self, first: int, last: int) -> None:
        out = self.out
        if out and out[-1][1] + 1 >= first:
            out[-1] = (out[-1][0], last)
        else:
            out.append((first, last))

    def build(self) -> IntervalSet:
        return IntervalSet._trusted(tuple(self.out)) if self.out else EMPTY
