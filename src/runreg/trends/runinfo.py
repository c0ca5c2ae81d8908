"""What a trend shows about each run, read from the registry (class, significance, OMS attributes,
certification) — never over HTTP, always current — and golden-JSON restrictions."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from runreg.certification.lumilist import LumiList
from runreg.registry import service as registry
from runreg.storage.database import Database

PAGE = 10_000
#: The OMS attributes the original's `oms_info` carried, plus era and injection scheme (spec hdqm §7.1).
OMS_KEYS = (
    "start_time", "end_time", "duration", "fill_number", "delivered_lumi", "recorded_lumi", "end_lumi",
    "b_field", "energy", "l1_key", "hlt_key", "l1_rate", "hlt_physics_rate", "fill_type_runtime",
    "stable_beam", "era", "injection_scheme",
)  # fmt: skip


@dataclass(frozen=True)
class RunInfo:
    run_number: int
    run_class: str
    significant: bool
    oms: dict[str, Any] = field(default_factory=dict)
    certification: dict[str, Any] = field(default_factory=dict)

    summary: dict[str, Any] = field(default_factory=dict)  # the OMS_KEYS of `oms`, built once per run

    def oms_info(self) -> dict[str, Any]:
        """The original's `oms_info` (shared by every point of this run: do not change it)."""
        return self.summary


class _Recent:
    """Run facts read in the last `MAX_AGE_S` seconds, per database: a chart re-read, or several charts of one
    page, do not ask the registry again; a sign-off shows within that delay."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        # per database URL, run -> (when read, facts): a chart of 5,000 runs looks each run up by its number
        self.facts: dict[str, dict[int, tuple[float, RunInfo | None]]] = {}

    def get(self, url: str, runs: list[int]) -> tuple[dict[int, RunInfo], list[int]]:
        now, known, missing = time.monotonic(), {}, []
        with self.lock:
            facts = self.facts.get(url, {})
            for run in runs:
                hit = facts.get(run)
                if hit is None or now - hit[0] > MAX_AGE_S:
                    missing.append(run)
                elif hit[1] is not None:
                    known[run] = hit[1]
        return known, missing

    def put(self, url: str, runs: list[int], found: dict[int, RunInfo]) -> None:
        now = time.monotonic()
        with self.lock:
            if sum(len(facts) for facts in self.facts.values()) > MAX_CACHED:
                self.facts.clear()
            facts = self.facts.setdefault(url, {})
            for run in runs:
                facts[run] = (now, found.get(run))


def forget() -> None:
    """Drop the recent run facts (tests that rebuild the registry)."""
    with _recent.lock:
        _recent.facts.clear()


MAX_AGE_S = 30.0
MAX_CACHED = 500_000
_recent = _Recent()


def run_infos(db: Database, runs: Iterable[int]) -> dict[int, RunInfo]:
    """Registry facts of `runs` (those the registry does not know are absent), at most MAX_AGE_S old."""
    known, missing = _recent.get(db.url, sorted(set(runs)))
    if missing:
        fetched = _fetch(db, missing)
        _recent.put(db.url, missing, fetched)
        known.update(fetched)
    return known


def _fetch(db: Database, wanted: list[int]) -> dict[int, RunInfo]:
    """One listing page per 10,000 runs of the registry over the span of `wanted`. A hidden run is not
    listed: the trends know it as the original HDQM knew a run its registry had deleted — as unknown (its
    points are left out whenever a run filter is on, significance included)."""
    found: dict[int, RunInfo] = {}
    first, last, page = wanted[0], wanted[-1], 0
    while True:
        rows, total = registry.search(
            db,
            target="runs",
            filter={"run_number": {">=": first, "<=": last}},
            page=page,
            page_size=PAGE,
            visible_only=True,
        )
        for row in rows:
            info = _info(row)
            found[info.run_number] = info
        page += 1
        if page * PAGE >= total or not rows:
            break
    keep = set(wanted)
    return {run: info for run, info in found.items() if run in keep}


def _info(row: dict[str, Any]) -> RunInfo:
    rr = row.get("rr_attributes") or {}
    triplets = (
        (row.get("DatasetTripletCache") or {}).get("triplet_summary") or row.get("triplet_summary") or {}
    )
    oms = dict(row.get("oms_attributes") or {})
    return RunInfo(
        run_number=int(row["run_number"]),
        run_class=str(rr.get("class") or ""),
        significant=bool(rr.get("significant")),
        oms=oms,
        certification=dict(triplets),
        summary={key: oms.get(key) for key in OMS_KEYS},
    )


def golden_runs(golden_json: str | bytes | dict[str, Any]) -> dict[int, int]:
    """Run -> number of certified LS of a golden JSON (validated by runreg.certification.lumilist)."""
    lumis = LumiList.from_json(golden_json)
    return {run: lumis.ls_count(run) for run in lumis.runs()}
