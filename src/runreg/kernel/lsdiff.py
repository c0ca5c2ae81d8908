"""Per-LS arrays to LS ranges and back, the change ranges of automatic updates (spec §4.1, §4.2, §4.5)."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from itertools import compress, islice
from operator import is_not, itemgetter
from typing import Any

from runreg.kernel.errors import InvalidInput
from runreg.kernel.ranges import Range, RangeMap, same_value

__all__ = [
    "changed_ranges",
    "lumisection_ranges",
    "ls_list_to_ranges",
    "per_key_ranges",
    "ranges_to_ls_list",
]


def _reducer(whitelist: Collection[str] | None) -> frozenset[str] | None:
    """The set of keys to keep, or None for "keep everything" (no whitelist, or `['*']`)."""
    if whitelist is None:
        return None
    if isinstance(whitelist, str):
        raise TypeError(f"whitelist must be a collection of key names, not the string {whitelist!r}")
    keys = frozenset(whitelist)
    # As in the original, only a whitelist made of '*' alone is the wildcard; elsewhere '*' is a literal key.
    return None if keys == {"*"} else keys


def _reduce(ls: Mapping[str, Any], keep: frozenset[str] | None) -> dict[str, Any]:
    if keep is None:
        return dict(ls)
    return {key: value for key, value in ls.items() if key in keep}


def lumisection_ranges(
    lumisections: Sequence[Mapping[str, Any]], whitelist: Collection[str] | None = None
) -> list[dict[str, Any]]:
    """Maximal runs of consecutive deep-equal LS objects, as `{**values, "start": s, "end": e}` (spec §4.1).

    LS number `i + 1` is `lumisections[i]`; bounds are 1-based and inclusive. Each LS is first reduced to the
    keys of `whitelist` unless it is None or `['*']`. Equality is `same_value` (`True != 1`). An LS holding
    its own "start"/"end" keys has them overwritten by the bounds, as in the original.
    """
    keep = _reducer(whitelist)
    out: list[dict[str, Any]] = []
    current: dict[str, Any] | None = None
    start = 0
    for ls_number, ls in enumerate(lumisections, start=1):
        values = _reduce(ls, keep)
        if current is not None and same_value(values, current):
            continue
        if current is not None:
            out.append({**current, "start": start, "end": ls_number - 1})
        current, start = values, ls_number
    if current is not None:
        out.append({**current, "start": start, "end": len(lumisections)})
    return out


def changed_ranges(
    previous: Sequence[Mapping[str, Any]],
    new: Sequence[Mapping[str, Any]],
    whitelist: Collection[str] | None = None,
) -> list[dict[str, Any]]:
    """The ranges that turn `previous` into `new`, each `{**delta, "start": s, "end": e}` (spec §4.2).

    The delta of LS `i + 1` holds the keys of `new[i]` whose value differs (`same_value`: strict deep
    equality, `True != 1`, a missing key differs from `None`) from `previous[i]`; an LS beyond the end of
    `previous` is compared with `{}`, so all its keys are delta. Both sides are reduced to `whitelist` first
    (None or `['*']`: all keys). One range is returned per maximal block of consecutive LS with the same
    non-empty delta.

    Deliberate differences from the original `getNewLumisectionRanges`:

    * it fixes the [BUG] of spec §10.2: a delta that reappears after an unchanged LS gets its own range
      (the original silently dropped it);
    * as in the original, only the keys of the new LS are looked at: a key present in `previous[i]` but
      absent from `new[i]` is not a delta (a range cannot express a deletion). An LS whose only difference
      is such a removed key therefore has an empty delta; it is treated as unchanged and yields no range,
      where the original emitted a range carrying no values.

    Raises `InvalidInput` if `previous` has more LS than `new`: lumisections cannot be deleted.
    """
    if len(previous) > len(new):
        raise InvalidInput(
            "lumisections",
            f"Lumisections cannot be deleted: the previous state has {len(previous)} lumisections, "
            f"the new one only {len(new)}",
            details={"previous_count": len(previous), "new_count": len(new)},
        )
    keep = _reducer(whitelist)
    out: list[dict[str, Any]] = []
    open_delta: dict[str, Any] | None = None
    start = 0
    for index, new_ls in enumerate(new):
        before = _reduce(previous[index], keep) if index < len(previous) else {}
        after = _reduce(new_ls, keep)
        delta = {
            key: value
            for key, value in after.items()
            if key not in before or not same_value(before[key], value)
        }
        if open_delta is not None and same_value(delta, open_delta):
            continue
        if open_delta is not None:
            out.append({**open_delta, "start": start, "end": index})
        open_delta, start = (delta, index + 1) if delta else (None, 0)
    if open_delta is not None:
        out.append({**open_delta, "start": start, "end": len(new)})
    return out


_HOLE: Any = object()


def per_key_ranges(
    lumisections: Sequence[Mapping[str, Any]], keys: Iterable[str] | None = None
) -> dict[str, RangeMap]:
    """For each key, a `RangeMap` of its values over the LS array (LS `i + 1` is `lumisections[i]`).

    An LS without the key leaves a hole in that key's map; the value `None` (e.g. a null DCS bit) is a value
    and is stored. With `keys=None` every key present in some LS is returned, in order of first appearance;
    otherwise exactly the given keys, in that order (an empty map for a key no LS holds).
    """
    if isinstance(keys, str):
        raise TypeError(f"keys must be a collection of key names, not the string {keys!r}")
    keys = list(dict.fromkeys(key for ls in lumisections for key in ls)) if keys is None else list(keys)
    # Column by column, finding change points by identity first (bools and None are singletons) and checking
    # only those candidates with JSON equality: this runs on every ingested LS of every key.
    out: dict[str, RangeMap] = {}
    count = len(lumisections)
    if count == 0:  # a run OMS reports without lumisections (yet)
        return {key: RangeMap() for key in keys}
    for key, values in zip(keys, _columns(lumisections, keys), strict=True):
        # Candidates (a different object than the LS before) found in C, then checked for JSON equality.
        candidates = compress(range(1, count), map(is_not, islice(values, 1, None), values))
        cuts = [i for i in candidates if not _same_present(values[i - 1], values[i])]
        pieces: list[Range] = []
        for start, end in zip([0, *cuts], [*cuts, count], strict=True):
            if values[start] is not _HOLE:
                pieces.append((start + 1, end, values[start]))
        out[key] = RangeMap.from_sorted(pieces)
    return out


def _columns(lumisections: Sequence[Mapping[str, Any]], keys: Sequence[str]) -> list[Sequence[Any]]:
    """The LS array turned into one column per key, `_HOLE` where an LS lacks the key. OMS sends every key in
    every LS, so the columns are first taken whole by one C-level getter per LS and transposed by zip; only
    an array with a missing key is read key by key."""
    if not keys:
        return []
    try:
        if len(keys) == 1:
            return [list(map(itemgetter(keys[0]), lumisections))]
        return list(zip(*map(itemgetter(*keys), lumisections), strict=True))
    except KeyError:
        return [[ls.get(key, _HOLE) for ls in lumisections] for key in keys]


def _same_present(a: Any, b: Any) -> bool:
    return a is not _HOLE and b is not _HOLE and same_value(a, b)


def ls_list_to_ranges(ls_numbers: Iterable[int]) -> list[list[int]]:
    """`[1, 2, 3, 4, 10, 11, 12]` → `[[1, 4], [10, 12]]`: the maximal inclusive ranges of the LS (spec §4.5).

    Unlike the original, the input may be unsorted and hold duplicates: it is treated as a set.
    """
    out: list[list[int]] = []
    for ls in sorted(set(ls_numbers)):
        if out and out[-1][1] + 1 == ls:
            out[-1][1] = ls
        else:
            out.append([ls, ls])
    return out


def ranges_to_ls_list(ranges: Iterable[Sequence[int]]) -> list[int]:
    """`[[1, 4], [10, 12]]` → `[1, 2, 3, 4, 10, 11, 12]`, the inverse of `ls_list_to_ranges` (spec §4.5).

    The result is sorted and without duplicates even if the ranges overlap or are unsorted (the original
    concatenated them as given). Raises `InvalidInput` for a range that is not `[first, last]` with
    `first <= last`.
    """
    numbers: set[int] = set()
    for pair in ranges:
        if len(pair) != 2 or pair[0] > pair[1]:
            raise InvalidInput(
                "ranges", f"{list(pair)!r} is not an LS range [first, last] with first <= last"
            )
        numbers.update(range(pair[0], pair[1] + 1))
    return sorted(numbers)
