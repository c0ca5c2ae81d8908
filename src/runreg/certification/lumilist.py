"""Golden-JSON lumi lists with CMSSW `LumiList` semantics, computed on ranges, never on single LS."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from bisect import bisect_right
from collections.abc import Iterable, Iterator, Mapping, Sequence
from functools import reduce
from itertools import chain, compress
from operator import and_, gt, itemgetter, le, lt
from typing import Any, NamedTuple

from runreg.kernel.errors import InvalidInput

__all__ = [
    "GRL_OPEN_END",
    "LumiDiff",
    "LumiList",
    "diff",
    "intersect_all",
    "normalized",
    "union_all",
]

# ATLAS writes an `LBRange` without `End` for "to the end of the run" and stores it as this value.
GRL_OPEN_END = 2**31 - 1
GRL_VERSION = "2.1"  # the version TGoodRunsListWriter writes
GRL_DOCTYPE = '<!DOCTYPE LumiRangeCollection SYSTEM "http://atlas-runquery.cern.ch/LumiRangeCollection.dtd">'

# One run's LS as a flat tuple of half-open bounds (first1, end1, first2, end2, …), `end = last + 1`:
# sorted, disjoint, not touching. Flat, so the operations below slice it into firsts and ends at C speed
# (`flat[0::2]`) and never build a tuple per range; half-open, so that touching is `==`, a complement is the
# same bounds shifted by one position, and none of the hot paths does arithmetic.
Flat = tuple[int, ...]

_first = itemgetter(0)
_second = itemgetter(1)


# --- interval arithmetic on one run ---------------------------------------------------------------------
# Every step is a builtin over whole sequences (`sorted`, `map`, `compress`, slicing), never a Python loop
# per range: that is what keeps a union of two 2,000-run lists of millions of LS well under a second.
#
# The trick that allows it: sort the starts and the ends of a set of ranges *independently*. As every range
# has start < end, `starts[i] < ends[i]`, and counting how many ranges have started and ended before an LS
# shows that
#   * no range covers [ends[i], starts[i + 1]), and every LS covered by no range but inside the span lies
#     in such a gap: blocks of the union break exactly where starts[i + 1] > ends[i];
#   * if no LS is covered three times (true of two normal forms together), the LS covered twice are exactly
#     the non-empty [starts[i + 1], ends[i]).


def _normalize(firsts: Iterable[int], bounds: Iterable[int]) -> Flat:
    """Half-open ranges in any order, overlapping or touching, as one flat normal form (CMSSW's "compact")."""
    starts, ends = sorted(firsts), sorted(bounds)
    if not starts:
        return ()
    tail = starts[1:]
    opens = list(map(gt, tail, ends))
    out = [0] * (2 * (opens.count(True) + 1))
    out[0::2] = [starts[0], *compress(tail, opens)]
    out[1::2] = [*compress(ends, opens), ends[-1]]
    return tuple(out)


def _union(*flats: Flat) -> Flat:
    present = [flat for flat in flats if flat]
    if len(present) <= 1:
        return present[0] if present else ()
    return _normalize(
        chain.from_iterable(flat[0::2] for flat in present),
        chain.from_iterable(flat[1::2] for flat in present),
    )


def _intersection(a: Flat, b: Flat) -> Flat:
    if not a or not b or a[-1] <= b[0] or b[-1] <= a[0]:
        return ()
    starts, ends = sorted(a[0::2] + b[0::2]), sorted(a[1::2] + b[1::2])
    tail = starts[1:]
    both = list(map(lt, tail, ends))
    # The covered-twice ranges are disjoint but may touch ([1, 5] & [1, 3] + [4, 5]): normalise merges them.
    return _normalize(compress(tail, both), compress(ends, both))


def _complement(flat: Flat, top: int) -> Flat:
    """The LS of [1, top) that `flat` lacks (top >= its end): (1, first1), (end1, first2), …, (endn, top)."""
    gaps = (1, *flat, top)
    start = 2 if gaps[1] == 1 else 0  # `flat` starts at LS 1: no gap before it
    stop = len(gaps) - 2 if gaps[-2] == top else len(gaps)  # `flat` reaches `top`: no gap after it
    return gaps[start:stop]


def _difference(a: Flat, b: Flat) -> Flat:
    if not a or not b or a[-1] <= b[0] or b[-1] <= a[0]:
        return a
    return _intersection(a, _complement(b, max(a[-1], b[-1])))


def _symmetric_difference(a: Flat, b: Flat) -> Flat:
    # Membership flips at each bound of a half-open normal form, so membership of "exactly one" flips where
    # exactly one of the two flips: at the bounds that belong to one list only. No merging is needed, as two
    # ranges of the result cannot touch (their common bound would be a point where nothing flips).
    return tuple(sorted(set(a).symmetric_difference(b)))


def _closed(flat: Flat) -> Iterator[tuple[int, int]]:
    """The inclusive (first, last) ranges, as golden JSON writes them."""
    return zip(flat[0::2], map(_minus_one, flat[1::2]), strict=True)


def _count(flat: Flat) -> int:
    return sum(flat[1::2]) - sum(flat[0::2])


_plus_one = (1).__add__
_minus_one = (-1).__add__


# --- validation --------------------------------------------------------------------------------------------
def _show(value: object) -> str:
    try:
        text = json.dumps(value)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _run_number(key: object) -> int:
    """A run number from an int or the decimal string of a JSON key ("01", " 1" are refused: ambiguous)."""
    text = str(key) if isinstance(key, int) and not isinstance(key, bool) else key
    if not (isinstance(text, str) and text.isascii() and text.isdigit() and text == str(int(text))):
        raise InvalidInput(
            "run", f"{_show(key)} is not a run number (a positive integer; a decimal string as a JSON key)"
        )
    run = int(text)
    if run < 1:
        raise InvalidInput("run", f"{run} is not a run number: run numbers start at 1", details={"run": run})
    return run


def _unique_run_number(key: object, seen: Mapping[int, object]) -> int:
    # A run given twice (`1` and `"1"` in a mapping) is most likely a mistake; merging would hide it.
    run = _run_number(key)
    if run in seen:
        raise InvalidInput(f"run {run}", "appears more than once", details={"run": run})
    return run


def _refuse_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # `json.loads` keeps only the last of repeated keys: a run written twice would silently lose ranges.
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise InvalidInput(f"run {key}", "appears more than once in the JSON text", details={"run": key})
        out[key] = value
    return out


def _bad_range(run: int, pair: object, reason: str) -> InvalidInput:
    shown = list(pair) if isinstance(pair, list | tuple) else pair
    return InvalidInput(f"run {run}", f"range {_show(shown)} {reason}", details={"run": run, "range": shown})


def _ls_bounds(run: int, pair: object) -> tuple[int, int]:
    """`pair` as a checked (first, last): two integers with 1 <= first <= last."""
    if not isinstance(pair, list | tuple) or len(pair) != 2:
        raise _bad_range(run, pair, "is not a [first, last] pair of LS numbers")
    first, last = pair
    if not all(isinstance(x, int) and not isinstance(x, bool) for x in pair):
        raise _bad_range(run, pair, "holds something other than integer LS numbers")
    if first < 1:
        raise _bad_range(run, pair, "starts below LS 1 (LS 0 is never certified)")
    if first > last:
        raise _bad_range(run, pair, f"is backwards: first LS {first} is after last LS {last}")
    return int(first), int(last)


def _checked_ranges(run: int, value: object) -> tuple[list[int], list[int]]:
    """The first and last LS of a run's ranges, checked: a list of [first, last] with 1 <= first <= last."""
    if isinstance(value, str | bytes | Mapping) or not isinstance(value, Iterable):
        raise InvalidInput(
            f"run {run}", f"expected a list of [first, last] ranges, got {_show(value)}", details={"run": run}
        )
    pairs = value if isinstance(value, list | tuple) else list(value)
    # Checked with builtins over the whole list first; the loop below only runs to name the bad range.
    if set(map(type, pairs)) <= _PAIR_TYPES and set(map(len, pairs)) <= {2}:
        firsts, lasts = list(map(_first, pairs)), list(map(_second, pairs))
        if (
            set(map(type, firsts)) | set(map(type, lasts)) <= {int}
            and (not firsts or min(firsts) >= 1)
            and all(map(le, firsts, lasts))
        ):
            return firsts, lasts
    bounds = [_ls_bounds(run, pair) for pair in pairs]  # raises, or accepts int subclasses such as IntEnum
    return list(map(_first, bounds)), list(map(_second, bounds))


def _checked_lumis(run: int, lumis: Iterable[Any]) -> list[int]:
    numbers = list(lumis)
    if set(map(type, numbers)) <= {int} and (not numbers or min(numbers) >= 1):
        return numbers
    for ls in numbers:
        if not isinstance(ls, int) or isinstance(ls, bool) or ls < 1:
            raise InvalidInput(
                f"run {run}",
                f"{_show(ls)} is not an LS number (an integer >= 1)",
                details={"run": run, "ls": ls},
            )
    return [int(ls) for ls in numbers]


_PAIR_TYPES = frozenset({list, tuple})
_CMSSW_PART = re.compile(r"\s*([0-9]+):([0-9]+)(?:\s*-\s*([0-9]+):([0-9]+))?\s*")


# --- the value ---------------------------------------------------------------------------------------------
class LumiDiff(NamedTuple):
    """Both sides of a comparison: LS only in the first list, LS only in the second."""

    only_in_a: LumiList
    only_in_b: LumiList

    @property
    def same(self) -> bool:
        return not self.only_in_a and not self.only_in_b


class LumiList:
    """An immutable set of (run, LS) pairs, kept per run as sorted, disjoint, non-adjacent ranges.

    Semantics follow CMSSW's `LumiList` (peers.md §2.2): overlapping and adjacent ranges merge, empty runs
    disappear, `&` `|` `-` are intersection, union and "in self, not in other". Two deliberate differences:
    `len()` counts LS, not runs (use `len(x.runs())` for runs), and runs are ordered numerically.
    Operations never expand ranges to single LS; only `pairs()` does, on request.
    """

    __slots__ = ("_hash", "_runs")

    _runs: dict[int, Flat]
    _hash: int | None

    def __init__(self) -> None:
        """The empty list; build others with the `from_*` constructors."""
        self._runs = {}
        self._hash = None

    @classmethod
    def _trusted(cls, runs: Mapping[int, Flat]) -> LumiList:
        """Wrap per-run flat ranges already in normal form: drop empty runs, order runs numerically."""
        out = cls()
        out._runs = {run: runs[run] for run in sorted(runs) if runs[run]}
        return out

    # construction -----------------------------------------------------------------------------------------
    @classmethod
    def from_json(cls, obj: Mapping[Any, Any] | str | bytes) -> LumiList:
        """From a golden JSON, as text or as the decoded object `{"<run>": [[first, last], …]}`.

        Accepts unsorted, overlapping and adjacent ranges and normalises them; raises `InvalidInput` naming
        the run and the range for anything else (LS 0, `first > last`, non-integers, a key that is not a run).
        """
        if isinstance(obj, str | bytes):
            try:
                obj = json.loads(obj, object_pairs_hook=_refuse_duplicate_keys)
            except json.JSONDecodeError as exc:
                raise InvalidInput(
                    "json", f"not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
                ) from None
        if not isinstance(obj, Mapping):
            raise InvalidInput(
                "json", f'expected an object {{"<run>": [[first, last], ...]}}, got {type(obj).__name__}'
            )
        return cls.from_ranges(obj)

    @classmethod
    def from_ranges(cls, ranges: Mapping[Any, Iterable[Sequence[int]]]) -> LumiList:
        """From `{run: [(first, last), …]}`, runs as ints or decimal strings; the checks of `from_json`."""
        firsts: dict[int, list[int]] = {}
        ends: dict[int, list[int]] = {}
        for key, value in ranges.items():
            run = _unique_run_number(key, firsts)
            run_firsts, run_lasts = _checked_ranges(run, value)
            firsts[run] = run_firsts
            ends[run] = list(map(_plus_one, run_lasts))
        return cls._trusted({run: _normalize(firsts[run], ends[run]) for run in firsts})

    @classmethod
    def from_runs_and_lumis(cls, runs_and_lumis: Mapping[Any, Iterable[int]]) -> LumiList:
        """From `{run: [ls, ls, …]}` (any order, duplicates allowed), CMSSW's `runsAndLumis`."""
        numbers: dict[int, list[int]] = {}
        for key, lumis in runs_and_lumis.items():
            run = _unique_run_number(key, numbers)
            numbers[run] = _checked_lumis(run, lumis)
        # Each LS is the range [ls, ls + 1): normalising merges duplicates and neighbours in one go.
        return cls._trusted({run: _normalize(ls, map(_plus_one, ls)) for run, ls in numbers.items()})

    @classmethod
    def from_pairs(cls, pairs: Iterable[tuple[Any, int]]) -> LumiList:
        """From `(run, ls)` pairs, CMSSW's `lumis=`."""
        grouped: dict[Any, list[int]] = {}
        for run, ls in pairs:
            grouped.setdefault(run, []).append(ls)
        return cls.from_runs_and_lumis(grouped)

    @classmethod
    def from_cmssw(cls, lumis_to_process: str | Iterable[str]) -> LumiList:
        """From CMSSW's `lumisToProcess`, `"R:L1-R:L2,R:L"` or a list of such parts (inverse of `cmssw_*`).

        A part spanning two runs (`R1:L1-R2:L2`) is refused: without each run's last LS it has no ranges.
        """
        texts = [lumis_to_process] if isinstance(lumis_to_process, str) else list(lumis_to_process)
        ranges: dict[int, list[tuple[int, int]]] = {}
        for part in chain.from_iterable(text.split(",") for text in texts):
            if not part.strip():
                continue
            match = _CMSSW_PART.fullmatch(part)
            if match is None:
                raise InvalidInput("lumisToProcess", f"{part.strip()!r} is not R:L or R:L1-R:L2")
            run, first = int(match[1]), int(match[2])
            last = first
            if match[3] is not None:
                if int(match[3]) != run:
                    raise InvalidInput(
                        "lumisToProcess", f"{part.strip()!r} spans runs {run} and {match[3]}: not supported"
                    )
                last = int(match[4])
            ranges.setdefault(run, []).append((first, last))
        return cls.from_ranges(ranges)

    @classmethod
    def from_grl_xml(cls, text: str | bytes, *, name: str | None = None) -> LumiList:
        """From ATLAS Good Run List XML: the union of every `NamedLumiRange`, or only the one called `name`.

        An `LBRange` without `End` (ATLAS: to the end of the run) becomes `End = GRL_OPEN_END`, as ATLAS
        itself stores it.
        """
        try:
            root = ET.fromstring(text)
        except ET.ParseError as exc:
            raise InvalidInput("grl", f"not valid XML: {exc}") from None
        if root.tag != "LumiRangeCollection":
            raise InvalidInput("grl", f"the root element is <{root.tag}>, not <LumiRangeCollection>")
        named = root.findall("NamedLumiRange")
        if name is not None:
            named = [block for block in named if (block.findtext("Name") or "").strip() == name]
            if not named:
                raise InvalidInput("grl", f"no NamedLumiRange called {name!r}")
        ranges: dict[int, list[tuple[int, int]]] = {}
        for collection in chain.from_iterable(block.iter("LumiBlockCollection") for block in named):
            run = _run_number((collection.findtext("Run") or "").strip())
            for element in collection.iter("LBRange"):
                start, end = element.get("Start"), element.get("End", str(GRL_OPEN_END))
                if start is None or not _is_decimal(start) or not _is_decimal(end):
                    raise InvalidInput(
                        f"run {run}",
                        f"LBRange Start={start!r} End={end!r} is not a range of LS numbers",
                        details={"run": run},
                    )
                ranges.setdefault(run, []).append((int(start), int(end)))
        return cls.from_ranges(ranges)

    # reading ----------------------------------------------------------------------------------------------
    def runs(self) -> tuple[int, ...]:
        """The runs holding at least one LS, in increasing order."""
        return tuple(self._runs)

    def ranges(self, run: int | str) -> tuple[tuple[int, int], ...]:
        """The inclusive (first, last) ranges of `run`, empty if the run is absent."""
        return tuple(_closed(self._runs.get(_run_number(run), ())))

    def items(self) -> Iterator[tuple[int, tuple[tuple[int, int], ...]]]:
        """(run, ranges) in run order."""
        for run, flat in self._runs.items():
            yield run, tuple(_closed(flat))

    def pairs(self) -> Iterator[tuple[int, int]]:
        """Every (run, ls), in order: expands the ranges, so only for small lists (tests, checks)."""
        for run, flat in self._runs.items():
            for first, end in zip(flat[0::2], flat[1::2], strict=True):
                for ls in range(first, end):
                    yield run, ls

    def ls_count(self, run: int | str | None = None) -> int:
        """How many LS, in all runs or in one."""
        if run is not None:
            return _count(self._runs.get(_run_number(run), ()))
        return sum(map(_count, self._runs.values()))

    def range_count(self) -> int:
        return sum(len(flat) for flat in self._runs.values()) // 2

    def __len__(self) -> int:
        """The number of LS (CMSSW's `len()` counts runs; a golden JSON is measured in LS)."""
        return self.ls_count()

    def __bool__(self) -> bool:
        return bool(self._runs)

    def contains(self, run: int | str, ls: int | None = None) -> bool:
        """Whether LS `ls` of `run` is in the list, or with `ls=None` whether the run has any LS."""
        flat = self._runs.get(_run_number(run), ())
        if ls is None:
            return bool(flat)
        # In (first1, end1, first2, end2, …) an LS is in a [first, end) iff an odd number of bounds are <= it.
        return bisect_right(flat, ls) % 2 == 1

    def __contains__(self, item: object) -> bool:
        """`(run, ls) in x`, or `run in x` for "the run has some LS", as in CMSSW; False for anything else."""
        try:
            if isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], int):
                return self.contains(item[0], item[1])
            if isinstance(item, int | str):
                return self.contains(item)
        except InvalidInput:  # like a set, `in` answers for any value; `contains()` says what is wrong
            pass
        return False

    def issubset(self, other: LumiList) -> bool:
        """Whether every LS of this list is in `other`."""
        theirs = other._runs
        return all(run in theirs and not _difference(flat, theirs[run]) for run, flat in self._runs.items())

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, LumiList):
            return NotImplemented
        return self._runs == other._runs

    def __hash__(self) -> int:
        if self._hash is None:
            self._hash = hash(tuple(self._runs.items()))
        return self._hash

    def __repr__(self) -> str:
        if self.range_count() <= 20:
            return f"LumiList.from_json({self.to_json()!r})"
        return f"<LumiList: {len(self._runs)} runs, {self.range_count()} ranges, {len(self)} LS>"

    # algebra ----------------------------------------------------------------------------------------------
    def __and__(self, other: LumiList) -> LumiList:
        """LS in both lists."""
        if not isinstance(other, LumiList):
            return NotImplemented
        small, large = sorted((self._runs, other._runs), key=len)
        return LumiList._trusted(
            {run: _intersection(flat, large[run]) for run, flat in small.items() if run in large}
        )

    def __or__(self, other: LumiList) -> LumiList:
        """LS in either list."""
        if not isinstance(other, LumiList):
            return NotImplemented
        return union_all((self, other))

    def __sub__(self, other: LumiList) -> LumiList:
        """LS in this list and not in `other` (CMSSW `compareJSON.py --sub`)."""
        if not isinstance(other, LumiList):
            return NotImplemented
        theirs = other._runs
        return LumiList._trusted(
            {
                run: _difference(flat, theirs[run]) if run in theirs else flat
                for run, flat in self._runs.items()
            }
        )

    def __xor__(self, other: LumiList) -> LumiList:
        """LS in exactly one of the lists; `diff()` keeps the two sides apart."""
        if not isinstance(other, LumiList):
            return NotImplemented
        theirs = other._runs
        runs = {run: _symmetric_difference(flat, theirs.get(run, ())) for run, flat in self._runs.items()}
        runs.update((run, flat) for run, flat in theirs.items() if run not in self._runs)
        return LumiList._trusted(runs)

    def filter_runs(self, runs: int | str | range | Iterable[int | str]) -> LumiList:
        """Only the given runs (CMSSW `selectRuns`); a `range` is tested by membership, not expanded."""
        keep = runs if isinstance(runs, range) else _run_set(runs)
        return LumiList._trusted({run: flat for run, flat in self._runs.items() if run in keep})

    def remove_runs(self, runs: int | str | range | Iterable[int | str]) -> LumiList:
        """All but the given runs (CMSSW `removeRuns`, `filterJSON.py --runs`)."""
        drop = runs if isinstance(runs, range) else _run_set(runs)
        return LumiList._trusted({run: flat for run, flat in self._runs.items() if run not in drop})

    def select_run_range(self, min_run: int | None = None, max_run: int | None = None) -> LumiList:
        """Only runs in [min_run, max_run], both inclusive; None leaves that side open."""
        if min_run is not None and max_run is not None and min_run > max_run:
            raise InvalidInput("run range", f"minimum run {min_run} is above maximum run {max_run}")
        return LumiList._trusted(
            {
                run: flat
                for run, flat in self._runs.items()
                if (min_run is None or run >= min_run) and (max_run is None or run <= max_run)
            }
        )

    # writing ----------------------------------------------------------------------------------------------
    def to_json(self) -> dict[str, list[list[int]]]:
        """`{"<run>": [[first, last], …]}`, runs in numeric order, the golden JSON object."""
        return {str(run): [[a, b] for a, b in _closed(flat)] for run, flat in self._runs.items()}

    def to_compact_json_text(self) -> str:
        """The golden JSON as certification files print it: one run per line (CMSSW `LumiList.__str__`)."""
        lines = (
            f'"{run}": [{", ".join(f"[{a}, {b}]" for a, b in _closed(flat))}]'
            for run, flat in self._runs.items()
        )
        return "{" + ",\n ".join(lines) + "}"

    def cmssw_lumis_to_process(self) -> list[str]:
        """The `lumisToProcess` parts, `["273158:1-273158:1279", "273158:1300", …]` (a single LS as `R:L`)."""
        return [
            f"{run}:{first}" if first == last else f"{run}:{first}-{run}:{last}"
            for run, flat in self._runs.items()
            for first, last in _closed(flat)
        ]

    def cmssw_string(self) -> str:
        """The parts comma-joined, CMSSW `LumiList.getCMSSWString()`."""
        return ",".join(self.cmssw_lumis_to_process())

    def to_grl_xml(
        self, name: str = "runreg", version: str = GRL_VERSION, metadata: Mapping[str, str] | None = None
    ) -> str:
        """An ATLAS Good Run List: one `NamedLumiRange`, one `LumiBlockCollection` per run, pretty-printed."""
        root = ET.Element("LumiRangeCollection")
        named = ET.SubElement(root, "NamedLumiRange")
        ET.SubElement(named, "Name").text = name
        ET.SubElement(named, "Version").text = version
        ET.SubElement(named, "Metadata", Name="RunList").text = ",".join(map(str, self._runs))
        for key, value in (metadata or {}).items():
            ET.SubElement(named, "Metadata", Name=key).text = value
        for run, flat in self._runs.items():
            collection = ET.SubElement(named, "LumiBlockCollection")
            ET.SubElement(collection, "Run").text = str(run)
            for first, last in _closed(flat):
                ET.SubElement(collection, "LBRange", Start=str(first), End=str(last))
        ET.indent(root, space="  ")
        body = ET.tostring(root, encoding="unicode")
        return f'<?xml version="1.0"?>\n{GRL_DOCTYPE}\n<!-- This document is created by runreg. -->\n{body}\n'


def _is_decimal(text: str) -> bool:
    return text.strip().isascii() and text.strip().isdigit()


def _run_set(runs: int | str | Iterable[int | str]) -> frozenset[int]:
    if isinstance(runs, int | str):
        return frozenset((_run_number(runs),))
    return frozenset(map(_run_number, runs))


# --- n-ary operations ------------------------------------------------------------------------------------
def union_all(lists: Iterable[LumiList]) -> LumiList:
    """LS in any of the lists, merged in one pass per run (CMSSW `mergeJSON.py`)."""
    per_run: dict[int, list[Flat]] = {}
    for lumis in lists:
        for run, flat in lumis._runs.items():
            per_run.setdefault(run, []).append(flat)
    return LumiList._trusted({run: _union(*flats) for run, flats in per_run.items()})


def intersect_all(lists: Iterable[LumiList]) -> LumiList:
    """LS in every one of the lists (at least one list)."""
    materialised = list(lists)
    if not materialised:
        raise ValueError("intersect_all needs at least one LumiList")
    return reduce(and_, materialised)


def diff(a: LumiList, b: LumiList) -> LumiDiff:
    """Both sides: LS in `a` not in `b`, LS in `b` not in `a` (CMSSW `compareJSON.py --diff`)."""
    return LumiDiff(a - b, b - a)


def normalized(obj: Mapping[Any, Any] | str | bytes) -> dict[str, list[list[int]]]:
    """A golden JSON in normal form: checked, ranges sorted and merged, empty runs dropped."""
    return LumiList.from_json(obj).to_json()
