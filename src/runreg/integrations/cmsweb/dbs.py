"""DBS (DBSReader): datasets modified since a date, access types in batches, file summaries, and the events
of the files inside a lumi mask."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import orjson

from runreg.integrations.cmsweb.errors import CmswebBadResponse
from runreg.integrations.cmsweb.transport import CmswebHttp

DATASETLIST_BATCH = 500  # DBS refuses very large POST bodies; 500 names stay far below its limit
LFN_BATCH = 200

#: A lumi mask as ReqMgr2 writes it: run → [[first, last], ...] (closed ranges).
Mask = Mapping[int, Sequence[Sequence[int]]]


@dataclass(frozen=True, slots=True)
class FileSummary:
    events: int
    size: int
    lumis: int
    files: int


@dataclass(frozen=True, slots=True)
class DatasetInfo:
    access_type: str
    modified: int | None  # DBS last_modification_date (epoch s), when it says


@runtime_checkable
class DbsSource(Protocol):
    def datasets_modified_since(self, min_ldate: int) -> list[str]:
        """Datasets of any access type changed at or after epoch second `min_ldate`."""
        ...

    def dataset_info(self, datasets: Sequence[str]) -> dict[str, DatasetInfo]:
        """Access type (VALID, PRODUCTION, INVALID...) and last modification of each dataset DBS knows;
        unknown ones are absent."""
        ...

    def file_summary(self, dataset: str, *, valid_only: bool) -> FileSummary | None:
        """Events, bytes, lumisections and files of the dataset; None when DBS has no files for it."""
        ...

    def masked_events(self, dataset: str, mask: Mask) -> int:
        """Events of the dataset inside the lumi mask."""
        ...

    def dataset_lumis(self, dataset: str) -> dict[int, list[int]]:
        """Run → lumisection numbers present in the dataset's files."""
        ...


class DbsClient:
    def __init__(self, http: CmswebHttp) -> None:
        self.http = http

    def datasets_modified_since(self, min_ldate: int) -> list[str]:
        rows = self._rows(
            self.http.get("/datasets", {"min_ldate": int(min_ldate), "dataset_access_type": "*"}), "datasets"
        )
        return list(dict.fromkeys(_text(row, "dataset", "datasets") for row in rows))

    def dataset_info(self, datasets: Sequence[str]) -> dict[str, DatasetInfo]:
        names = list(dict.fromkeys(datasets))
        batches = [names[i : i + DATASETLIST_BATCH] for i in range(0, len(names), DATASETLIST_BATCH)]
        found: dict[str, DatasetInfo] = {}
        for rows in self.http.map(self._datasetlist, batches):
            for row in rows:
                modified = row.get("last_modification_date")
                found[_text(row, "dataset", "datasetlist")] = DatasetInfo(
                    _text(row, "dataset_access_type", "datasetlist"),
                    int(modified)
                    if isinstance(modified, int | float) and not isinstance(modified, bool)
                    else None,
                )
        return found

    def _datasetlist(self, names: list[str]) -> list[dict[str, Any]]:
        body = {"dataset": names, "detail": 1, "dataset_access_type": "*"}
        return self._rows(self.http.post("/datasetlist", body), "datasetlist")

    def file_summary(self, dataset: str, *, valid_only: bool) -> FileSummary | None:
        params: dict[str, Any] = {"dataset": dataset}
        if valid_only:
            params["validFileOnly"] = 1
        rows = self._rows(self.http.get("/filesummaries", params), "filesummaries")
        if not rows:
            return None
        row = rows[0]
        return FileSummary(
            events=_count(row, "num_event"),
            size=_count(row, "file_size"),
            lumis=_count(row, "num_lumi"),
            files=_count(row, "num_file"),
        )

    def masked_events(self, dataset: str, mask: Mask) -> int:
        return sum(self.http.map(lambda run: self._run_events(dataset, run, mask[run]), sorted(mask)))

    def _run_events(self, dataset: str, run: int, ranges: Sequence[Sequence[int]]) -> int:
        """Events of the LS of `run` inside `ranges`: per-LS event counts of the files that hold them, so a
        file only partly inside the mask counts only its masked part (the original counted whole files)."""
        lumi_list = orjson.dumps([[int(a), int(b)] for a, b in ranges]).decode()
        files = self._rows(
            self.http.get(
                "/files",
                {
                    "dataset": dataset,
                    "detail": "true",
                    "run_num": run,
                    "lumi_list": lumi_list,
                    "validFileOnly": 1,
                },
            ),
            "files",
        )
        lfns = [_text(row, "logical_file_name", "files") for row in files]
        file_events = {_text(row, "logical_file_name", "files"): _count(row, "event_count") for row in files}
        inside = _contains(ranges)
        per_file: dict[str, list[tuple[int, int | None]]] = defaultdict(list)
        for start in range(0, len(lfns), LFN_BATCH):
            body = {"logical_file_name": lfns[start : start + LFN_BATCH], "run_num": run, "validFileOnly": 1}
            for row in self._rows(self.http.post("/filelumis", body), "filelumis"):
                events = row.get("event_count")
                per_file[_text(row, "logical_file_name", "filelumis")].append(
                    (int(row["lumi_section_num"]), events if isinstance(events, int) else None)
                )
        total = 0
        for lfn in lfns:
            lumis = per_file.get(lfn, [])
            if lumis and all(events is not None for _, events in lumis):
                total += sum(events or 0 for ls, events in lumis if inside(ls))
            elif lumis:  # an old file without per-LS counts: its masked share of the file's events
                total += file_events[lfn] * sum(1 for ls, _ in lumis if inside(ls)) // len(lumis)
        return total

    def dataset_lumis(self, dataset: str) -> dict[int, list[int]]:
        blocks = self._rows(self.http.get("/blocks", {"dataset": dataset}), "blocks")
        names = [_text(row, "block_name", "blocks") for row in blocks]
        lumis: dict[int, set[int]] = defaultdict(set)
        for rows in self.http.map(self._block_lumis, names):
            for row in rows:
                lumis[int(row["run_num"])].add(int(row["lumi_section_num"]))
        return {run: sorted(numbers) for run, numbers in sorted(lumis.items())}

    def _block_lumis(self, block: str) -> list[dict[str, Any]]:
        return self._rows(self.http.get("/filelumis", {"block_name": block, "validFileOnly": 1}), "filelumis")

    @staticmethod
    def _rows(payload: Any, api: str) -> list[dict[str, Any]]:
        if not isinstance(payload, list) or not all(isinstance(row, dict) for row in payload):
            raise CmswebBadResponse(f"DBS {api} did not answer with a list of objects")
        return payload


def _text(row: Mapping[str, Any], key: str, api: str) -> str:
    value = row.get(key)
    if not isinstance(value, str) or not value:
        raise CmswebBadResponse(f"DBS {api} row without `{key}`: {row!r:.200}")
    return value


def _count(row: Mapping[str, Any], key: str) -> int:
    value = row.get(key)
    if value is None:
        return 0  # DBS answers null sums for a dataset without files
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise CmswebBadResponse(f"DBS `{key}` is {value!r}, expected a count")
    return int(value)


def _contains(ranges: Iterable[Sequence[int]]):  # type: ignore[no-untyped-def]
    pairs = [(int(a), int(b)) for a, b in ranges]
    return lambda ls: any(a <= ls <= b for a, b in pairs)
