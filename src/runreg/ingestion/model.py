"""Pure ingestion rules: which OMS data RR keeps, what it derives, and which runs need processing."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from runreg.kernel.ranges import RangeMap
from runreg.registry.model import OMS_LS_WHITELIST

#: Per-LS OMS attributes the registry keeps; everything else OMS sends per LS is dropped.
LS_WHITELIST = OMS_LS_WHITELIST
BEAM_BITS = ("beam1_present", "beam2_present", "beam1_stable", "beam2_stable")
#: Per-LS attributes OMS publishes (peers.md §1.9) beyond the whitelist: rules may read them.
OMS_LS_ATTRIBUTES = frozenset(
    {*LS_WHITELIST, "run_number", "lumisection_number", "start_time", "end_time", "init_lumi", "end_lumi",
     "delivered_lumi", "recorded_lumi", "bpix_ready", "fpix_ready"}
)  # fmt: skip


@dataclass(frozen=True)
class RunMark:
    """What the registry last ingested of a run, to tell whether OMS has anything new."""

    last_update: str | None
    end_time: str | None
    ls_count: int


def needs_processing(oms_run: Mapping[str, Any], mark: RunMark | None) -> bool:
    """New runs, and runs whose OMS last_update, end_time or LS count moved since the last ingestion."""
    if mark is None:
        return True
    return (
        str(oms_run.get("last_update")) != str(mark.last_update)
        or _text(oms_run.get("end_time")) != mark.end_time
        or int(oms_run.get("last_lumisection_number") or 0) != mark.ls_count
    )


def mark_of(oms_run: Mapping[str, Any], ls_count: int) -> RunMark:
    return RunMark(_text(oms_run.get("last_update")), _text(oms_run.get("end_time")), ls_count)


def derive_oms_attributes(
    oms_run: Mapping[str, Any], lumisections: Sequence[Mapping[str, Any]]
) -> dict[str, Any]:
    """OMS run attributes plus what RR computes: `<component>_included`, `beams_present_and_stable`
    (true when some LS has both beams present and stable — the original's version can never be true) and
    `ls_duration` (the number of LS OMS returned)."""
    attributes = dict(oms_run)
    for component in oms_run.get("components") or []:
        attributes[f"{str(component).lower()}_included"] = True
    attributes["beams_present_and_stable"] = any(
        all(ls.get(bit) is True for bit in BEAM_BITS) for ls in lumisections
    )
    attributes["ls_duration"] = len(lumisections)
    return attributes


def run_rule_context(
    reduced: Mapping[str, Any], oms_attributes: Mapping[str, Any], rr: Mapping[str, Any]
) -> dict[str, Any]:
    """What class and significance rules read (rr_backend §4.6): LS attributes reduced over the run, the OMS
    attributes, then the RR attributes (later wins)."""
    return {**reduced, **oms_attributes, **rr}


def component_run_context(oms_attributes: Mapping[str, Any], rr: Mapping[str, Any]) -> dict[str, Any]:
    """The run part of what an online component rule reads; each LS's own OMS values go on top. RR's
    `beams_present_and_stable` is left out so the LS's beam bits decide."""
    return {**oms_attributes, **{k: v for k, v in rr.items() if k != "beams_present_and_stable"}}


def kept_ls_values(per_key: Mapping[str, RangeMap]) -> dict[str, RangeMap]:
    return {key: per_key[key] for key in LS_WHITELIST if key in per_key}


def _text(value: Any) -> str | None:
    return None if value is None else str(value)
