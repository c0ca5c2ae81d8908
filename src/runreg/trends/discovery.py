"""DQM GUI file names and the incremental walk of the file tree (directories whose mtime did not change are
not listed again; their remembered subdirectories are still visited)."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

# DQM_V<version>_R<run>__<PD>__<Era>-<ProcessingString>-v<n>__<Tier>.root; the PD and the processing string
# may contain '-', the era does not, and the processing version is the last '-v<n>'.
FILE_NAME = re.compile(
    r"^DQM_V(?P<version>\d{4})_R(?P<run>\d{9})__(?P<pd>[^_].*?)__(?P<era>[A-Za-z0-9]+)-(?P<ps>.+)-v(?P<pv>\d+)"
    r"__(?P<tier>[A-Za-z0-9]+)\.root$"
)
MAX_DEPTH = 6


@dataclass(frozen=True)
class DqmFileName:
    version: int
    run_number: int
    primary_dataset: str
    era: str
    processing_string: str
    processing_version: int
    tier: str

    @property
    def dataset_name(self) -> str:
        processing = f"{self.era}-{self.processing_string}-v{self.processing_version}"
        return f"/{self.primary_dataset}/{processing}/{self.tier}"


def parse_name(name: str) -> DqmFileName | None:
    match = FILE_NAME.match(name)
    if match is None:
        return None
    return DqmFileName(
        version=int(match["version"]),
        run_number=int(match["run"]),
        primary_dataset=match["pd"],
        era=match["era"],
        processing_string=match["ps"],
        processing_version=int(match["pv"]),
        tier=match["tier"],
    )


@dataclass(frozen=True)
class DirectoryMark:
    mtime_ns: int
    subdirectories: tuple[str, ...]


@dataclass
class Walk:
    files: list[Path] = field(default_factory=list)
    marks: dict[str, DirectoryMark] = field(default_factory=dict)  # changed or new directories only
    listed: int = 0
    visited: int = 0


def walk(root: Path, known: Mapping[str, DirectoryMark]) -> Walk:
    """Files in directories that are new or changed since `known`; the marks to remember."""
    result = Walk()
    _visit(root, known, result, 0)
    return result


def _visit(directory: Path, known: Mapping[str, DirectoryMark], result: Walk, depth: int) -> None:
    try:
        mtime = directory.stat().st_mtime_ns
    except OSError:
        return
    result.visited += 1
    key = str(directory)
    mark = known.get(key)
    if mark is not None and mark.mtime_ns == mtime:
        subdirectories = mark.subdirectories
    else:
        result.listed += 1
        names: list[str] = []
        try:
            with os.scandir(directory) as entries:
                for entry in entries:
                    if entry.is_dir(follow_symlinks=False):
                        names.append(entry.name)
                    elif entry.name.endswith(".root") and entry.name.startswith("DQM_V"):
                        result.files.append(Path(entry.path))
        except OSError:
            return
        subdirectories = tuple(sorted(names))
        result.marks[key] = DirectoryMark(mtime, subdirectories)
    if depth < MAX_DEPTH:
        for name in subdirectories:
            _visit(directory / name, known, result, depth + 1)
