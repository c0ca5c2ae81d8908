"""What a trend shows about each run, read from the registry (class, significance, OMS attributes,
certification) — never over HTTP, always current — and golden-JSON restrictions."""

from __future__ import annotations

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

    def oms_info(self) -> dict[str, Any]:
        return {key: self.oms.get(key) for key in OMS_KEYS}


def run_infos(db: Database, runs: Iterable[int]) -> dict[int, RunInfo]:
    """Registry facts of `runs` (those the registry does not know are absent), one listing page per 10,000."""
    wanted = sorted(set(runs))
    found: dict[int, RunInfo] = {}
    if not wanted:
        return found
    first, last, page = wanted[0], wanted[-1], 0
    while True:
        rows, total = registry.search(
            db, target="runs", filter={"run_number": {">=": first, "<=": last}}, page=page, page_size=PAGE
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
    return RunInfo(
        run_number=int(row["run_number"]),
        run_class=str(rr.get("class") or ""),
        significant=bool(rr.get("significant")),
        oms=dict(row.get("oms_attributes") or {}),
        certification=dict(triplets),
    )


def golden_runs(golden_json: str | bytes | dict[str, Any]) -> dict[int, int]:
    """Run -> number of certified LS of a golden JSON (validated by runreg.certification.lumilist)."""
    lumis = LumiList.from_json(golden_json)
    return {run: lumis.ls_count(run) for run in lumis.runs()}
