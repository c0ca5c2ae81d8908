"""Which subsystem a failing golden-JSON rule blames: DCS bits and RR columns to subsystems (spec §8.4)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from runreg.classifiers import jsonlogic

#: DCS bit (`lumisection.oms.<bit>`) -> subsystem, as the original's luminosity visualisation divides them.
DCS_SUBSYSTEMS: dict[str, str] = {
    **dict.fromkeys(("tibtid_ready", "tecm_ready", "tecp_ready", "tob_ready"), "strip"),
    **dict.fromkeys(("fpix_ready", "bpix_ready"), "pixel"),
    **dict.fromkeys(("hbhea_ready", "hbheb_ready", "hbhec_ready", "hf_ready", "ho_ready"), "hcal"),
    **dict.fromkeys(("dt0_ready", "dtm_ready", "dtp_ready"), "dt"),
    **dict.fromkeys(("cscm_ready", "cscp_ready"), "csc"),
    **dict.fromkeys(("ebm_ready", "ebp_ready", "eem_ready", "eep_ready"), "ecal"),
    **dict.fromkeys(("esm_ready", "esp_ready"), "es"),
    **dict.fromkeys(("gemm_ready", "gemp_ready"), "gem"),
    "rpc_ready": "rpc",
    "castor_ready": "castor",
    "cms_active": "cms",
    # Not in the original's list: the LHC's bits are nobody's subsystem, but they are a cause of loss.
    **dict.fromkeys(("beam1_present", "beam2_present", "beam1_stable", "beam2_stable"), "beams"),
}

#: RR column (`lumisection.rr.<workspace>-<column>`) -> subsystem where it is not simply the workspace.
COLUMN_SUBSYSTEMS: dict[str, str] = {
    "tracker-pixel": "pixel",
    "tracker-strip": "strip",
    "tracker-track": "tracking",
    "ecal-es": "es",
}

RUN_CONDITIONS = "run conditions"  # a rule on run.* or dataset.* values (energy, field, HLT key...)


def subsystem_of_variable(name: str) -> str:
    """The subsystem a rule variable belongs to: `lumisection.oms.tob_ready` -> strip,
    `lumisection.rr.tracker-pixel` -> pixel, `lumisection.rr.dt-dt` -> dt, `run.oms.energy` -> run conditions.
    An OMS key outside the mapping is its own name without `_ready`."""
    parts = name.split(".")
    if parts[0] != "lumisection" or len(parts) < 3:
        return RUN_CONDITIONS
    source, key = parts[1], parts[2]
    if source == "oms":
        return DCS_SUBSYSTEMS.get(key, key.removesuffix("_ready"))
    if source == "rr":
        return COLUMN_SUBSYSTEMS.get(key, key.split("-", 1)[0])
    return RUN_CONDITIONS


def subsystems_of_rule(rule: Any) -> tuple[str, ...]:
    """The subsystems of every variable a (leaf) rule reads, sorted; a rule reading none is run conditions."""
    found = {subsystem_of_variable(name) for name in jsonlogic.variables(rule)}
    return tuple(sorted(found)) or (RUN_CONDITIONS,)


def lost_by_subsystem(combinations: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Lost LS and recorded luminosity per subsystem from a result's `failures.by_combination`.

    `exclusive`: lost where this subsystem alone is to blame (every failing rule there is its own);
    `inclusive`: lost where it is among those to blame (the inclusive figures of several subsystems add up to
    more than the loss, as one LS can fail for several). Sorted by inclusive luminosity, then LS.
    """
    table: dict[str, dict[str, Any]] = {}
    for combination in combinations:
        blamed = {s for rule in combination["rules"] for s in subsystems_of_rule(rule)}
        for subsystem in blamed:
            row = table.setdefault(
                subsystem,
                {
                    "subsystem": subsystem,
                    "ls": 0,
                    "recorded": 0.0,
                    "exclusive_ls": 0,
                    "exclusive_recorded": 0.0,
                },
            )
            row["ls"] += combination["ls"]
            row["recorded"] += combination["recorded"]
            if len(blamed) == 1:
                row["exclusive_ls"] += combination["ls"]
                row["exclusive_recorded"] += combination["recorded"]
    return sorted(table.values(), key=lambda row: (-row["recorded"], -row["ls"], row["subsystem"]))
