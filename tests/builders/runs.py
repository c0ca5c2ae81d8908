"""Realistic runs built through the same service functions users call."""

from __future__ import annotations

from typing import Any

from runreg.kernel.actors import SERVICES_EGROUP, Actor, ActorKind
from runreg.kernel.ranges import RangeMap
from runreg.luminosity import service as luminosity
from runreg.registry import service
from runreg.storage.database import Database

OMS_WORKER = Actor("oms-ingestion", ActorKind.AUTOMATIC, frozenset({SERVICES_EGROUP}))
SHIFTER = Actor("alice@cern.ch", ActorKind.HUMAN, frozenset({"cms-dqm-runregistry-online-shifters"}))
EXPERT = Actor("expert@cern.ch", ActorKind.HUMAN, frozenset({"cms-dqm-runregistry-experts"}))
CERTIFIER = Actor("certifier@cern.ch", ActorKind.HUMAN, frozenset({"cms-dqm-runregistry-data-certification"}))
ML_AGENT = Actor("tracker-ml@cern.ch", ActorKind.AGENT, frozenset({"cms-dqm-runregistry-ml-agents"}))
GOOD = {"status": "GOOD", "comment": "", "cause": ""}

DCS_BITS = [
    "bpix_ready",
    "fpix_ready",
    "tibtid_ready",
    "tob_ready",
    "tecp_ready",
    "tecm_ready",
    "cms_active",
    "beam1_present",
    "beam2_present",
    "beam1_stable",
    "beam2_stable",
    "dtp_ready",
    "dtm_ready",
    "dt0_ready",
]


def collision_oms_attributes(run_number: int, ls_count: int) -> dict[str, Any]:
    return {
        "run_number": run_number,
        "fill_number": 9000 + run_number % 1000,
        "energy": 6800,
        "b_field": 3.8,
        "injection_scheme": "25ns_2352b_2340_2004_2133_108bpi_24inj",
        "hlt_key": "/cdaq/physics/Run2024/2e34/v1.4.3/HLT/V2",
        "sequence": "GLOBAL-RUN",
        "components": ["DAQ", "DCS", "DQM", "DT", "TRACKER", "ECAL"],
        "tracker_included": True,
        "dt_included": True,
        "recorded_lumi": 120.5,
        "ls_duration": ls_count,
        # A finished run (sign-off needs an end time); pass `end_time=None` in `oms` for a run taking data.
        "end_time": "2024-06-01T18:00:00Z",
    }


def lumisections(ls_count: int, *, off: dict[str, tuple[int, int]] | None = None) -> list[dict[str, Any]]:
    """Per-LS OMS values: every DCS bit true except `off[bit] = (first, last)`."""
    out = []
    for ls in range(1, ls_count + 1):
        values: dict[str, Any] = {bit: True for bit in DCS_BITS}
        for bit, (first, last) in (off or {}).items():
            if first <= ls <= last:
                values[bit] = False
        out.append(values)
    return out


def record_oms_luminosity(
    db: Database, run_number: int, ls_count: int, *, recorded: float = 0.05, delivered: float = 0.06
) -> None:
    """Per-LS luminosity as ingestion records it from OMS (`delivered_lumi`, `recorded_lumi` in /pb)."""
    rows = [{"delivered_lumi": delivered, "recorded_lumi": recorded}] * ls_count
    with db.transaction() as conn:
        luminosity.record_oms(conn, run_number=run_number, lumisections=rows)


def create_collision_run(
    db: Database,
    run_number: int = 380567,
    ls_count: int = 100,
    *,
    components: tuple[str, ...] = ("tracker-pixel", "tracker-strip", "dt-dt"),
    rr: dict[str, Any] | None = None,
    off: dict[str, tuple[int, int]] | None = None,
    oms: dict[str, Any] | None = None,
) -> service.ChangeResult:
    """An OPEN Collisions24 run as ingestion would create it: OMS LS values, 0.05 /pb recorded and 0.06 /pb
    delivered per LS, and GOOD automatic flags."""
    created = service.register_run(
        db,
        actor=OMS_WORKER,
        run_number=run_number,
        oms_attributes={**collision_oms_attributes(run_number, ls_count), **(oms or {})},
        rr_attributes={"class": "Collisions24", "significant": True, **(rr or {})},
        oms_lumisections=lumisections(ls_count, off=off),
        flags={component: RangeMap([(1, ls_count, GOOD)]) for component in components},
    )
    record_oms_luminosity(db, run_number, ls_count)
    return created
