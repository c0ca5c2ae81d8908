"""Decode the streamed bytes of ROOT's TH1x, TH2x, TProfile and TProfile2D objects into our Histogram values.

uproot's generic object model builds ~30 Python objects per histogram (bases, axes, attribute sets, lists)
and was 2/3 of the CPU of reading a DQM file; this decoder reads the same members straight from the object's
bytes (decision 0029). It knows the class versions ROOT has written for a decade (TH1 v8, TH2 v5, TAxis v10,
TH1x v3, TH2x v4, TProfile v7, TProfile2D v8) and checks every byte count it crosses: anything else — another
version, a member it does not model (e.g. TAxis' fModLabs), a byte count that does not match — raises
Unsupported and the reader falls back to uproot for that object. Values are those uproot's
`values(flow=True)`, `errors(flow=True)`, `axis.edges()` and `axis.labels()` give (a test compares both on
every class).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

import numpy as np

_BYTE_COUNT = 0x40000000
_CLASS_MASK = 0x80000000
_NEW_CLASS = 0xFFFFFFFF
_MAP_OFFSET = 2
_VERSION_BYTE_COUNT = 0x4000
_IS_REFERENCED = 1 << 4

_U32 = struct.Struct(">I")
_I32 = struct.Struct(">i")
_HEADER = struct.Struct(">IH")
_AXIS_RANGE = struct.Struct(">idd")
_AXIS_TAIL = struct.Struct(">iiH?")
_TH1_STATS = struct.Struct(">hhdddddddd")
_TH1_TAIL = struct.Struct(">ii")
_TH2_STATS = struct.Struct(">dddd")
_PROFILE_STATS = struct.Struct(">idddd")
_TOBJECT = struct.Struct(">hII")

#: The array base of each histogram class: its element type.
_ARRAYS = {"D": ">f8", "F": ">f4", "I": ">i4", "S": ">i2", "C": ">i1"}


class Unsupported(Exception):  # noqa: N818 — not an error: "let uproot read this one"
    pass


@dataclass(frozen=True)
class Decoded:
    """What Histogram needs, as uproot would give it (flow bins included, x first)."""

    kind: str
    values: np.ndarray
    errors: np.ndarray
    x_edges: np.ndarray
    y_edges: np.ndarray | None
    entries: float
    stats: dict[str, float]
    bin_entries: np.ndarray | None
    x_labels: tuple[str, ...]
    y_labels: tuple[str, ...]


@dataclass
class _Axis:
    nbins: int
    edges: np.ndarray
    labels: tuple[str, ...]


class _Reader:
    __slots__ = ("data", "pos", "keylen", "classes")

    def __init__(self, data: bytes | memoryview, keylen: int) -> None:
        self.data = data
        self.pos = 0
        self.keylen = keylen  # references count from the key's start (uproot's cursor origin)
        self.classes: dict[int, str] = {}

    def unpack(self, fmt: struct.Struct) -> tuple:
        values = fmt.unpack_from(self.data, self.pos)
        self.pos += fmt.size
        return values

    def header(self, versions: tuple[int, ...]) -> int:
        """A versioned object's byte count and version: the position where it ends."""
        count, version = _HEADER.unpack_from(self.data, self.pos)
        if not count & _BYTE_COUNT or version not in versions:
            raise Unsupported(f"version {version}")
        end = self.pos + 4 + (count & ~_BYTE_COUNT)
        self.pos += 6
        return end

    def skip_object(self) -> None:
        """A versioned base or member we do not need (TNamed, TAttLine, TList of functions...)."""
        (count,) = _U32.unpack_from(self.data, self.pos)
        if not count & _BYTE_COUNT:
            raise Unsupported("object without a byte count")
        self.pos += 4 + (count & ~_BYTE_COUNT)

    def end(self, where: int) -> None:
        if self.pos != where:
            raise Unsupported(f"object ends at {self.pos}, its byte count says {where}")

    def array(self, dtype: str) -> np.ndarray:
        (n,) = _I32.unpack_from(self.data, self.pos)
        self.pos += 4
        out = np.frombuffer(self.data, dtype=dtype, count=n, offset=self.pos)
        self.pos += n * out.itemsize
        return out

    def string(self) -> str:
        length = self.data[self.pos]
        self.pos += 1
        if length == 255:
            (length,) = _I32.unpack_from(self.data, self.pos)
            self.pos += 4
        text = bytes(self.data[self.pos : self.pos + length]).decode(errors="surrogateescape")
        self.pos += length
        return text

    def tobject(self) -> None:
        version, _, bits = self.unpack(_TOBJECT)
        if version & _VERSION_BYTE_COUNT:
            raise Unsupported("TObject with a byte count")
        if bits & _IS_REFERENCED:
            self.pos += 2

    def object_pointer(self) -> str | list[str] | None:
        """A pointer member (TBufferFile::ReadObjectAny): None, a list of strings or a string."""
        begin = self.pos
        (count,) = self.unpack(_U32)
        if count == 0:
            return None  # a null pointer
        if count & _BYTE_COUNT == 0 or count == _NEW_CLASS:
            raise Unsupported("object pointer without a byte count")
        start = self.pos
        (tag,) = self.unpack(_U32)
        if tag & _CLASS_MASK == 0:
            if tag == 0:
                return None
            raise Unsupported("reference to an object read before")
        if tag == _NEW_CLASS:
            stop = bytes(self.data[self.pos : self.pos + 80]).find(b"\0")
            if stop < 0:
                raise Unsupported("class name without a terminator")
            classname = bytes(self.data[self.pos : self.pos + stop]).decode()
            self.pos += stop + 1
            self.classes[start + self.keylen + _MAP_OFFSET] = classname
        else:
            classname = self.classes.get(tag & ~_CLASS_MASK, "")
        if classname in ("THashList", "TList"):
            value: str | list[str] = self.string_list()
        elif classname == "TObjString":
            end = self.header((1,))
            self.tobject()
            value = self.string()
            self.end(end)
        else:
            raise Unsupported(f"a {classname or 'referenced class'} member")
        self.end(begin + 4 + (count & ~_BYTE_COUNT))
        return value

    def string_list(self) -> list[str]:
        end = self.header((4, 5))
        self.tobject()
        self.string()  # fName
        (size,) = self.unpack(_I32)
        items = []
        for _ in range(size):
            item = self.object_pointer()
            if not isinstance(item, str):
                raise Unsupported("a list of something else than strings")
            items.append(item)
            self.string()  # the item's option
        self.end(end)
        return items

    def axis(self, used: bool = True) -> _Axis:
        end = self.header((10,))
        self.skip_object()  # TNamed
        self.skip_object()  # TAttAxis
        nbins, low, high = self.unpack(_AXIS_RANGE)
        bins = self.array(">f8")
        self.unpack(_AXIS_TAIL)  # fFirst, fLast, fBits2, fTimeDisplay
        self.string()  # fTimeFormat
        labels = self.object_pointer()
        if self.object_pointer() is not None:  # fModLabs
            raise Unsupported("modified axis labels")
        self.end(end)
        if not used:
            return _Axis(nbins, bins, ())
        # uproot's TAxis.edges() and labels()
        edges = bins.astype(float) if len(bins) == nbins + 1 else np.linspace(low, high, nbins + 1)
        found = tuple(labels) if isinstance(labels, list) and len(labels) == nbins else ()
        return _Axis(nbins, edges, found)


def decode(classname: str, data: bytes | memoryview, keylen: int) -> Decoded:
    """The histogram streamed in `data` (an object's uncompressed bytes, `keylen` its key's length)."""
    reader = _Reader(data, keylen)
    if classname in ("TProfile", "TProfile2D"):
        return _profile(reader, classname)
    if len(classname) == 4 and classname[:3] in ("TH1", "TH2") and classname[3] in _ARRAYS:
        end = reader.header((3,) if classname[2] == "1" else (4,))
        found = _histogram(reader, classname[:3], _ARRAYS[classname[3]])
        reader.end(end)
        return found.counts()
    raise Unsupported(classname)


@dataclass
class _Streamed:
    """A TH1 or TH2 as streamed: its axes, statistics and flat arrays (ROOT's cell order)."""

    dimension: int
    x: _Axis
    y: _Axis
    entries: float
    stats: dict[str, float]
    contents: np.ndarray
    sumw2: np.ndarray

    @property
    def shape(self) -> tuple[int, ...]:
        return (self.x.nbins + 2,) if self.dimension == 1 else (self.x.nbins + 2, self.y.nbins + 2)

    def decoded(self, kind: str, values: np.ndarray, errors: np.ndarray, bin_entries=None) -> Decoded:  # noqa: ANN001
        two = self.dimension == 2
        return Decoded(
            kind=kind,
            values=_flow_order(values, self.shape),
            errors=_flow_order(errors, self.shape),
            x_edges=self.x.edges,
            y_edges=self.y.edges if two else None,
            entries=self.entries,
            stats=self.stats,
            bin_entries=None if bin_entries is None else _flow_order(bin_entries, self.shape),
            x_labels=self.x.labels,
            y_labels=self.y.labels if two else (),
        )

    def counts(self) -> Decoded:
        """A TH1/TH2 as uproot's values() and errors(): fSumw2 where positive, else the positive contents."""
        variances = np.zeros(len(self.contents))
        source = self.sumw2 if len(self.sumw2) == len(self.contents) else self.contents
        positive = source > 0
        variances[positive] = source[positive]
        return self.decoded(f"TH{self.dimension}", self.contents, np.sqrt(variances))


def _histogram(reader: _Reader, base: str, dtype: str) -> _Streamed:
    """TH1 or TH2 (with TH1 inside), then the contents array."""
    end2 = reader.header((5,)) if base == "TH2" else None
    end1 = reader.header((8,))
    for _ in range(4):  # TNamed, TAttLine, TAttFill, TAttMarker
        reader.skip_object()
    (ncells,) = reader.unpack(_I32)
    x, y = reader.axis(), reader.axis(used=base == "TH2")
    reader.axis(used=False)  # z
    fields = reader.unpack(_TH1_STATS)
    stats = dict(zip(("tsumw", "tsumw2", "tsumwx", "tsumwx2"), fields[3:7], strict=True))
    reader.array(">f8")  # fContour
    sumw2 = reader.array(">f8")
    reader.string()  # fOption
    reader.skip_object()  # fFunctions
    (buffer_size,) = reader.unpack(_I32)
    reader.pos += 1 + 8 * buffer_size  # a pointer's speed bump, then fBuffer
    reader.unpack(_TH1_TAIL)
    reader.end(end1)
    if end2 is not None:
        _, *sums = reader.unpack(_TH2_STATS)
        stats |= dict(zip(("tsumwy", "tsumwy2", "tsumwxy"), sums, strict=True))
        reader.end(end2)
    contents = reader.array(dtype)
    found = _Streamed(
        1 if end2 is None else 2, x, y, float(fields[2]), {k: float(v) for k, v in stats.items()},
        contents.astype(float), sumw2.astype(float),
    )  # fmt: skip
    if len(contents) != ncells or int(np.prod(found.shape)) != ncells:
        raise Unsupported(f"{len(contents)} contents for {ncells} cells")
    return found


def _flow_order(flat: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """ROOT stores 2D cells with x running fastest; ours are indexed [x, y]."""
    return flat if len(shape) == 1 else flat.reshape(shape[::-1]).T


def _profile(reader: _Reader, classname: str) -> Decoded:
    two = classname == "TProfile2D"
    end = reader.header((8,) if two else (7,))
    inner_end = reader.header((4,) if two else (3,))  # the TH2D / TH1D it derives from
    streamed = _histogram(reader, "TH2" if two else "TH1", ">f8")
    reader.end(inner_end)
    bin_entries = reader.array(">f8").astype(float)
    _, _, _, sum_y, sum_y2 = reader.unpack(_PROFILE_STATS)  # fErrorMode, limits, Σwy, Σwy² (Σwz... in 2D)
    bin_sumw2 = reader.array(">f8").astype(float)
    reader.end(end)
    if len(bin_entries) != len(streamed.contents):
        raise Unsupported(f"{len(bin_entries)} bin entries for {len(streamed.contents)} cells")
    if not two:
        streamed.stats |= {"tsumwy": float(sum_y), "tsumwy2": float(sum_y2)}
    values, errors = _profile_means(streamed.contents, streamed.sumw2, bin_entries, bin_sumw2)
    return streamed.decoded(classname, values, errors, bin_entries)


def _profile_means(
    sums: np.ndarray, sum_squares: np.ndarray, entries: np.ndarray, entry_sumw2: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """ROOT's TProfile bin means and errors on the mean (TProfileHelper::GetBinError, error mode ""), as
    uproot computes them: fSumw2 holds Σwy² per bin, fBinSumw2 Σw²."""
    filled = entries != 0
    means = np.zeros(len(sums))
    means[filled] = sums[filled] / entries[filled]
    if len(sum_squares) != len(sums):
        sum_squares = np.zeros(len(sums))
    if len(entry_sumw2) == len(entries):  # effective entries (Σw)²/Σw² where Σw² > 0
        effective = np.zeros(len(entries))
        weighted = entry_sumw2 > 0
        effective[weighted] = entries[weighted] ** 2 / entry_sumw2[weighted]
    else:
        effective = entries
    spread = np.zeros(len(sums))
    spread[filled] = abs(sum_squares[filled] / entries[filled] - means[filled] ** 2)
    errors = np.zeros(len(sums))
    errors[filled] = np.sqrt(spread)[filled] / np.sqrt(effective[filled])
    return means, errors
