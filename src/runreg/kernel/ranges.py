"""Lumisection ranges: a map from inclusive LS ranges to values, kept sorted, disjoint and maximal."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

Range = tuple[int, int, Any]


_SCALARS = frozenset({bool, str, int, float})


def same_value(a: Any, b: Any) -> bool:
    """Deep equality with JSON/JavaScript semantics, the one RangeMap uses to merge neighbouring values.

    Unlike Python's `==`, `True != 1` and `False != 0` (otherwise a DCS bit would merge with, and be read back
    as, a number). `None` equals only `None`; numbers compare by value (`1 == 1.0`, JS has one number type);
    mappings by keys and values; lists/tuples element-wise.
    """
    if a is b:
        return True
    kind = type(a)
    if kind is type(b) and kind in _SCALARS:  # the hot path: DCS bits, strings, numbers of one type
        return bool(a == b)
    if isinstance(a, bool) or isinstance(b, bool) or a is None or b is None:
        return False
    if isinstance(a, Mapping) or isinstance(b, Mapping):
        return (
            isinstance(a, Mapping)
            and isinstance(b, Mapping)
            and a.keys() == b.keys()
            and all(same_value(a[k], b[k]) for k in a)
        )
    if isinstance(a, list | tuple) or isinstance(b, list | tuple):
        return (
            isinstance(a, list | tuple)
            and isinstance(b, list | tuple)
            and len(a) == len(b)
            and all(same_value(x, y) for x, y in zip(a, b, strict=True))
        )
    return bool(a == b)


_NO_VALUE = object()


def values_at(maps: Mapping[str, RangeMap], ls: int) -> dict[str, Any]:
    """The values the maps hold on one LS; a key without a value there is absent (not None: to JSON-logic
    an absent key and a null differ)."""
    out = {}
    for key, ranges in maps.items():
        value = ranges.get(ls, _NO_VALUE)
        if value is not _NO_VALUE:
            out[key] = value
    return out


class RangeMap:
    """Sorted, non-overlapping inclusive ranges of LS numbers, each with a value.

    Adjacent ranges with equal values are always merged, so two maps holding the same per-LS content are
    equal and store the same number of ranges: this is the contract that lets runreg store ranges, never
    one row per LS.
    """

    __slots__ = ("_firsts", "_ranges")

    def __init__(self, ranges: Iterable[Range] = ()) -> None:
        self._ranges: list[Range] = []
        self._firsts: list[int] = []
        for first, last, value in sorted(ranges, key=lambda r: r[0]):
            self.assign(first, last, value)

    # reading -------------------------------------------------------------------------------------
    def __iter__(self) -> Iterator[Range]:
        return iter(self._ranges)

    def __len__(self) -> int:
        return len(self._ranges)

    def __bool__(self) -> bool:
        return bool(self._ranges)

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, RangeMap)
            and len(self._ranges) == len(other._ranges)
            and all(
                mine[:2] == theirs[:2] and same_value(mine[2], theirs[2])
                for mine, theirs in zip(self._ranges, other._ranges, strict=True)
            )
        )

    def __repr__(self) -> str:
        return f"RangeMap({self._ranges!r})"

    def items(self) -> list[Range]:
        return list(self._ranges)

    @classmethod
    def from_sorted(cls, ranges: list[Range]) -> RangeMap:
        """Build from ranges already sorted and disjoint (adjacent equal values are still merged)."""
        out = cls()
        out._ranges = _merge_adjacent(ranges)
        out._firsts = [r[0] for r in out._ranges]
        return out

    @classmethod
    def from_stored(cls, ranges: list[Range]) -> RangeMap:
        """Ranges read back from a projection, which only ever stores a map's own (maximal) ranges: trusted as
        they are, because re-checking hundreds of thousands of them on every golden JSON costs seconds."""
        out = cls()
        out._ranges = ranges
        out._firsts = [r[0] for r in ranges]
        return out

    def copy(self) -> RangeMap:
        clone = RangeMap()
        clone._ranges = list(self._ranges)
        clone._firsts = list(self._firsts)
        return clone

    @property
    def last_ls(self) -> int:
        """The highest LS covered (0 when empty)."""
        return self._ranges[-1][1] if self._ranges else 0

    def get(self, ls: int, default: Any = None) -> Any:
        index = bisect_right(self._firsts, ls) - 1
        if index >= 0:
            first, last, value = self._ranges[index]
            if first <= ls <= last:
                return value
        return default

    def slice(self, first: int, last: int) -> list[Range]:
        """The ranges intersected with [first, last], clipped to it."""
        out: list[Range] = []
        start = max(bisect_right(self._firsts, first) - 1, 0)
        for r_first, r_last, value in self._ranges[start:]:
            if r_first > last:
                break
            if r_last < first:
                continue
            out.append((max(r_first, first), min(r_last, last), value))
        return out

    def gaps(self, first: int, last: int) -> list[tuple[int, int]]:
        """The sub-ranges of [first, last] that hold no value."""
        out: list[tuple[int, int]] = []
        cursor = first
        for r_first, r_last, _ in self.slice(first, last):
            if r_first > cursor:
                out.append((cursor, r_first - 1))
            cursor = r_last + 1
        if cursor <= last:
            out.append((cursor, last))
        return out

    def count(self) -> int:
        """How many LS hold a value."""
        return sum(last - first + 1 for first, last, _ in self._ranges)

    # writing -------------------------------------------------------------------------------------
    def assign(self, first: int, last: int, value: Any) -> None:
        """Set `value` on every LS of [first, last], overwriting what was there."""
        if first > last:
            raise ValueError(f"range [{first}, {last}] is empty")
        self._replace(first, last, [(first, last, value)])

    def clear(self, first: int, last: int) -> None:
        """Remove the values of every LS of [first, last]."""
        if first > last:
            raise ValueError(f"range [{first}, {last}] is empty")
        self._replace(first, last, [])

    def overlay(self, top: RangeMap) -> RangeMap:
        """A new map where `top` wins wherever it holds a value and self shows through elsewhere."""
        merged = self.copy()
        for first, last, value in top:
            merged.assign(first, last, value)
        return merged

    def _replace(self, first: int, last: int, middle: list[Range]) -> None:
        lo = max(bisect_right(self._firsts, first) - 1, 0)
        # Include the range just before `first` so an adjacent equal value can merge with it.
        while lo > 0 and self._ranges[lo - 1][1] >= first - 1:
            lo -= 1
        hi = lo
        head: list[Range] = []
        tail: list[Range] = []
        while hi < len(self._ranges) and self._ranges[hi][0] <= last + 1:
            r_first, r_last, value = self._ranges[hi]
            if r_first < first:
                head.append((r_first, min(r_last, first - 1), value))
            if r_last > last:
                tail.append((max(r_first, last + 1), r_last, value))
            hi += 1
        pieces = _merge_adjacent(head + middle + tail)
        self._ranges[lo:hi] = pieces
        self._firsts[lo:hi] = [p[0] for p in pieces]


def _merge_adjacent(ranges: list[Range]) -> list[Range]:
    out: list[Range] = []
    for first, last, value in ranges:
        if out and out[-1][1] + 1 == first and same_value(out[-1][2], value):
            out[-1] = (out[-1][0], last, out[-1][2])
        else:
            out.append((first, last, value))
    return out


def ranges_from_values(values: Iterable[Any], *, first_ls: int = 1) -> RangeMap:
    """Maximal runs of equal consecutive values; `None` entries are holes (no value)."""
    out = RangeMap()
    pieces: list[Range] = []
    for offset, value in enumerate(values):
        ls = first_ls + offset
        if value is None:
            continue
        if pieces and pieces[-1][1] + 1 == ls and same_value(pieces[-1][2], value):
            pieces[-1] = (pieces[-1][0], ls, pieces[-1][2])
        else:
            pieces.append((ls, ls, value))
    out._ranges = pieces
    out._firsts = [p[0] for p in pieces]
    return out


def differences(old: RangeMap, new: RangeMap) -> list[Range]:
    """The ranges of `new` whose values are not already what `old` holds there (holes in `new` ignored)."""
    out: list[Range] = []
    for first, last, value in new:
        cursor = first
        for o_first, o_last, o_value in old.slice(first, last):
            if o_first > cursor:
                out.append((cursor, o_first - 1, value))
            if not same_value(o_value, value):
                out.append((o_first, o_last, value))
            cursor = o_last + 1
        if cursor <= last:
            out.append((cursor, last, value))
    return _merge_adjacent(out)
