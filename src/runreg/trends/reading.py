"""Read monitor elements from a DQM GUI ROOT file with uproot into our Histogram values."""

from __future__ import annotations

import struct
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import uproot

from runreg.trends.histogram import STAT_KEYS, Histogram
from runreg.trends.streamers import Unsupported, decode

_MEMBERS = {"tsumw": "fTsumw", "tsumw2": "fTsumw2", "tsumwx": "fTsumwx", "tsumwx2": "fTsumwx2"}
_MEMBERS |= {"tsumwy": "fTsumwy", "tsumwy2": "fTsumwy2", "tsumwxy": "fTsumwxy"}


class UnreadableFile(Exception):  # noqa: N818 — the file's outcome, recorded in the ledger
    pass


def me_location(run: int, relative_path: str) -> str:
    """`Top/rest/of/path` -> `DQMData/Run <run>/Top/Run summary/rest/of/path` (spaces are literal)."""
    top, _, rest = relative_path.partition("/")
    return f"DQMData/Run {run}/{top}/Run summary/{rest}"


def histogram_of(obj: Any) -> Histogram:
    """Our Histogram from an uproot TH1/TH2/TProfile (TH1F/D/I..., TH2F/D..., TProfile, TProfile2D)."""
    classname = obj.classname
    if classname.startswith("TProfile2D"):
        kind = "TProfile2D"
    elif classname.startswith("TProfile"):
        kind = "TProfile"
    elif classname.startswith("TH2"):
        kind = "TH2"
    elif classname.startswith("TH1"):
        kind = "TH1"
    else:
        raise TypeError(f"{classname} is not a 1D or 2D histogram")
    values = np.asarray(obj.values(flow=True), dtype=float)
    errors = np.asarray(obj.errors(flow=True), dtype=float)
    axes = obj.axes
    stats = {}
    for key in STAT_KEYS:
        try:
            stats[key] = float(obj.member(_MEMBERS[key]))
        except (KeyError, AttributeError, ValueError):
            continue
    bin_entries = None
    if kind.startswith("TProfile"):
        bin_entries = np.asarray(obj.member("fBinEntries"), dtype=float).reshape(values.shape[::-1]).T
    return Histogram(
        kind=kind,
        values=values,
        errors=errors,
        x_edges=np.asarray(axes[0].edges(), dtype=float),
        y_edges=np.asarray(axes[1].edges(), dtype=float) if len(axes) > 1 else None,
        entries=float(obj.member("fEntries")),
        stats=stats,
        bin_entries=bin_entries,
        x_labels=tuple(axes[0].labels() or ()),
        y_labels=tuple(axes[1].labels() or ()) if len(axes) > 1 else (),
    )


def read_histograms(
    path: Path, run: int, relative_paths: Iterable[str]
) -> tuple[dict[str, Histogram], dict[str, str]]:
    """The MEs found (by relative path) and the reason for each one not read."""
    found: dict[str, Histogram] = {}
    missing: dict[str, str] = {}
    try:
        # Memory-mapped: fewer system calls than the default source for the many small reads of a DQM file.
        handle = uproot.open(path, handler=uproot.source.file.MemmapSource)
    except Exception as exc:  # noqa: BLE001 — any failure to open is the file's recorded outcome
        raise UnreadableFile(f"cannot open: {type(exc).__name__}: {exc}") from None
    with handle:
        directories: dict[str, Any] = {"": handle}
        for relative in sorted(set(relative_paths)):
            location = me_location(run, relative)
            folder, _, name = location.rpartition("/")
            try:
                found[relative] = read_key(_directory(directories, folder).key(name))
            except KeyError:
                missing[relative] = "not in the file"
            except Exception as exc:  # noqa: BLE001 — a damaged ME stops only itself
                missing[relative] = f"unreadable: {type(exc).__name__}: {exc}"
    return found, missing


def read_key(key: Any) -> Histogram:
    """The histogram behind an uproot key: decoded from its bytes, or by uproot when the decoder does not
    know the object (another class or version, a member it does not model)."""
    try:
        chunk, cursor = key.get_uncompressed_chunk_cursor()
        data = memoryview(chunk.raw_data)[cursor.index - chunk.start :]
        return Histogram(**vars(decode(key.fClassName, data, key.fKeylen)))
    except (Unsupported, struct.error, IndexError):
        return histogram_of(key.get())


def _directory(directories: dict[str, Any], folder: str) -> Any:
    """The directory `folder`, each level read once per file (uproot reads every level of a path again)."""
    if folder not in directories:
        parent, _, name = folder.rpartition("/")
        directories[folder] = _directory(directories, parent)[name]
    return directories[folder]
