"""The runs and datasets the public client's own tests expect (rr_client §6.6), built through the services."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from runreg.ingestion import service as ingestion
from runreg.integrations.oms import OmsSource
from runreg.kernel.actors import SERVICES_EGROUP, Actor, ActorKind
from runreg.kernel.ranges import RangeMap
from runreg.registry import service
from runreg.registry.service import FlagEdit
from runreg.storage.database import Database
from tests.builders.runs import record_oms_luminosity

OMS_WORKER = Actor("oms-ingestion", ActorKind.AUTOMATIC, frozenset({SERVICES_EGROUP}))
DATASET_WORKER = Actor("dataset-creation", ActorKind.AUTOMATIC, frozenset({SERVICES_EGROUP}))
EXPERT = Actor("expert@cern.ch", ActorKind.HUMAN, frozenset({"cms-dqm-runregistry-experts"}))

# The client suite's constants (rr_client §6.3, §6.4).
VALID_RUN = 327743
VALID_DATASET = "/PromptReco/HICosmics18A/DQM"
INVALID_RUN = 420420420
INVALID_DATASET = "/PromptKikiriko/HELLOCosmics18Z/DQM"
SIGNED_OFF_RUN = 362874
SIGNED_OFF_DATASET = "/PromptReco/Commissioning2021/DQM"
# Runs that only the write tests change, so the read tests' expectations hold in any order.
MOVABLE_RUN = 355555
# From the OMS simulator (its runs are 380000+): a significant collisions run and, the newest run of all, an
# OPEN commissioning run that is not significant.
OMS_COLLISIONS_RUN = 380007
OMS_NEWEST_RUN = 380008

# What the filters must find, exactly.
RUNS_IN_309K = {309113, 309221, 309311, 309421, 309555}  # 309000 < run < 310000
DT_GOOD_IN_309K = {309113, 309311, 309421, 309555}
STRIP_GOOD_IN_309K = {309113, 309221, 309421, 309555}
COMMISSIONING2018_IN_309K = {309113, 309221, 309311}  # hlt_key ILIKE %commissioning2018%
COLLISIONS18 = {319579, 320500}
CRUZET_MATCHES = {(309421, "/PromptReco/Cosmics18CRUZET/DQM"), (309555, "/PromptReco/Cosmics18CRUZETv2/DQM")}

GOOD = {"status": "GOOD", "comment": "", "cause": ""}
Triplet = dict[str, str]
Spans = Sequence[tuple[int, int, Triplet]]


def triplet(status: str, comment: str = "", cause: str = "") -> Triplet:
    return {"status": status, "comment": comment, "cause": cause}


def seed(db: Database, oms: OmsSource | None = None) -> None:
    """Every run and dataset below; with `oms`, also the two newest runs, ingested from OMS."""
    _cosmics_327743(db)
    _commissioning_2018(db)
    _cruzet(db)
    _collisions_2018(db)
    _run(db, MOVABLE_RUN, {"dt-dt": [(1, 30, GOOD)]}, run_class="Collisions22", hlt_key=_physics_key(2022))
    signed_off = {"dt-dt": [(1, 30, GOOD)], "tracker-strip": [(1, 30, GOOD)]}
    hlt_key = "/cdaq/special/Commissioning2021/v1.0/HLT/V3"
    _run(db, SIGNED_OFF_RUN, signed_off, run_class="Commissioning2021", hlt_key=hlt_key, state="SIGNOFF")
    workspaces = ("dt", "ctpps", "tracker")
    _dataset(db, SIGNED_OFF_RUN, SIGNED_OFF_DATASET, {}, state="waiting dqm gui", workspaces=workspaces)
    if oms is not None:
        for run_number in (OMS_COLLISIONS_RUN, OMS_NEWEST_RUN):
            oms_run = oms.run(run_number)
            assert oms_run is not None, f"the OMS simulator has no run {run_number}"
            ingestion.ingest_run(db, oms, oms_run)


def _cosmics_327743(db: Database) -> None:
    """Cosmics with the GOOD×40 then BAD×5 pattern, and an offline dataset whose OMS bits are corrected."""
    hv_trip = triplet("BAD", "HV trip", "HV")
    strips_off = triplet("EXCLUDED", "strips off")
    online = {
        "dt-dt": [(1, 40, GOOD), (41, 45, hv_trip)],
        "rpc-hv": [(1, 45, GOOD)],
        "tracker-track_private": [(1, 20, GOOD), (21, 45, strips_off)],
    }
    hlt_key = "/cdaq/cosmic/HICosmics18/v1.2/HLT/V1"
    _run(db, VALID_RUN, online, run_class="Cosmics18", hlt_key=hlt_key, ls_count=45, state="SIGNOFF",
         off={"dt0_ready": (41, 45)})  # fmt: skip
    offline = {
        "dt-dt": [(1, 40, GOOD), (41, 45, hv_trip)],
        "rpc-hv": [(1, 45, GOOD)],
        "tracker-track": [(1, 20, GOOD), (21, 45, strips_off)],
    }
    _dataset(db, VALID_RUN, VALID_DATASET, offline, state="COMPLETED", workspaces=("dt", "rpc", "tracker"),
             in_gui=["/Cosmics/HIRun2018A-PromptReco-v1/DQMIO"])  # fmt: skip
    service.set_oms_values(
        db,
        actor=EXPERT,
        run_number=VALID_RUN,
        dataset=VALID_DATASET,
        first_ls=10,
        last_ls=12,
        values={"dt0_ready": False},
        comment="DT0 HV was still ramping (DCS log)",
    )


def _commissioning_2018(db: Database) -> None:
    """Commissioning runs of 2018 around 309000-310000, their HLT keys in mixed case."""
    good = [(1, 30, GOOD)]
    runs = [
        # run, HLT key, online dt-dt, online tracker-strip, run state, dataset state
        (309000, "/cdaq/special/Commissioning2018/v1/HLT/V1", good, good, "SIGNOFF", "OPEN"),
        (309113, "/cdaq/physics/Commissioning2018/v3.2/HLT/V1", good, good, "SIGNOFF", "OPEN"),
        (309221, "/cdaq/cosmic/COMMISSIONING2018/v2.0/HLT/V4", [(1, 30, triplet("BAD", "no HV", "HV"))],
         [(1, 10, GOOD), (11, 30, triplet("STANDBY"))], "SIGNOFF", "SIGNOFF"),
        (309311, "/cdaq/special/commissioning2018/MWGR3/v1/HLT/V2", good,
         [(1, 30, triplet("BAD", "strip FED errors", "DAQ"))], "COMPLETED", "COMPLETED"),
        (310000, "/cdaq/special/Commissioning2018/v4/HLT/V1", good, good, "SIGNOFF", "OPEN"),
    ]  # fmt: skip
    for run_number, hlt_key, dt, strip, state, dataset_state in runs:
        flags = {"dt-dt": dt, "tracker-strip": strip}
        _run(db, run_number, flags, run_class="Commissioning2018", hlt_key=hlt_key, state=state)
        offline = {"tracker-strip": [(1, 30, triplet("STANDBY" if run_number == 309221 else "GOOD"))]}
        _dataset(db, run_number, "/PromptReco/Commissioning2018/DQM", offline, state=dataset_state,
                 workspaces=("tracker", "dt"))  # fmt: skip


def _cruzet(db: Database) -> None:
    """Cosmics at zero field: only two datasets pass the client suite's custom filter (rr_client §5.6)."""
    online = {"dt-dt": [(1, 30, GOOD)], "tracker-strip": [(1, 30, GOOD)]}
    hlt_key = "/cdaq/cosmic/CRUZET2018/v1.1/HLT/V2"
    strip = [(1, 30, GOOD)]
    excluded = {
        "ecal-ecal": [(1, 20, GOOD), (21, 30, triplet("EXCLUDED", "EE- off"))],
        "tracker-strip": strip,
    }
    all_good = {"ecal-ecal": [(1, 30, GOOD)], "tracker-strip": strip}
    datasets = {
        309421: [
            ("/PromptReco/Cosmics18CRUZET/DQM", excluded, "COMPLETED"),  # matches
            ("/Express/Cosmics18CRUZET/DQM", excluded, "COMPLETED"),  # not PromptReco
            ("/PromptReco/Cosmics18CRUZET_ReReco/DQM", all_good, "COMPLETED"),  # no EXCLUDED LS
        ],
        309555: [
            ("/PromptReco/Cosmics18CRUZET/DQM", excluded, "OPEN"),  # not COMPLETED
            ("/PromptReco/Cosmics18CRUZETv2/DQM", excluded, "COMPLETED"),  # matches
        ],
    }
    # 309555's class is in lower case: the filter's `like` must match it regardless of case.
    for run_number, run_class in ((309421, "Cosmics18CRUZET"), (309555, "cosmics18cruzet")):
        _run(db, run_number, online, run_class=run_class, hlt_key=hlt_key, state="COMPLETED")
        for name, flags, state in datasets[run_number]:
            _dataset(db, run_number, name, flags, state=state, workspaces=("ecal", "tracker"))


def _collisions_2018(db: Database) -> None:
    flags = {"dt-dt": [(1, 60, GOOD)], "tracker-strip": [(1, 60, GOOD)], "tracker-pixel": [(1, 60, GOOD)]}
    offline = {"tracker-strip": [(1, 60, GOOD)], "tracker-pixel": [(1, 60, GOOD)]}
    for run_number in sorted(COLLISIONS18):
        _run(db, run_number, flags, run_class="Collisions18", hlt_key=_physics_key(2018), ls_count=60,
             state="SIGNOFF", energy=6500)  # fmt: skip
        for name in ("/Express/Collisions2018/DQM", "/PromptReco/Collisions2018A/DQM"):
            _dataset(db, run_number, name, offline, state="COMPLETED", workspaces=("tracker",))


# -- building blocks -----------------------------------------------------------------------------------------
def _physics_key(year: int) -> str:
    return f"/cdaq/physics/Run{year}/2e34/v3.6.1/HLT/V2"


def _run(
    db: Database,
    run_number: int,
    flags: Mapping[str, Spans],
    *,
    run_class: str,
    hlt_key: str,
    ls_count: int = 30,
    state: str = "OPEN",
    energy: float = 0,
    off: Mapping[str, tuple[int, int]] | None = None,
) -> None:
    """A run as ingestion creates it (OMS attributes, per-LS DCS bits, automatic flags), then moved by an
    expert to `state` (sign-off checks every certifiable component it has)."""
    collisions = energy > 0
    components = ["DAQ", "DCS", "DQM", "DT", "RPC", "TRACKER", "ECAL", "TRG"]
    oms = {
        "run_number": run_number,
        "fill_number": 7000 + run_number % 1000 if collisions else None,
        "energy": energy,
        "b_field": 3.8 if "CRUZET" not in hlt_key.upper() else 0.0,
        "hlt_key": hlt_key,
        "l1_key": f"l1_trg_{run_class.lower()}/v2",
        "sequence": "GLOBAL-RUN",
        "components": components,
        **{f"{c.lower()}_included": True for c in components},
        "stable_beam": collisions,
        "beams_present_and_stable": collisions,
        "injection_scheme": "25ns_2556b_2544_2215_2332_144bpi_20injV3" if collisions else None,
        "start_time": f"2018-0{1 + run_number % 9}-12T08:{run_number % 60:02d}:00Z",
        "end_time": f"2018-0{1 + run_number % 9}-12T20:{run_number % 60:02d}:00Z",
        "ls_duration": ls_count,
    }
    lumisections = []
    for ls in range(1, ls_count + 1):
        values: dict[str, Any] = {
            bit: True
            for bit in (
                "cms_active",
                "dt0_ready",
                "dtp_ready",
                "dtm_ready",
                "rpc_ready",
                "tibtid_ready",
                "tob_ready",
                "tecp_ready",
                "tecm_ready",
                "bpix_ready",
                "fpix_ready",
                "ebp_ready",
            )
        }
        values.update(
            {bit: collisions for bit in ("beam1_present", "beam2_present", "beam1_stable", "beam2_stable")}
        )
        for bit, (first, last) in (off or {}).items():
            if first <= ls <= last:
                values[bit] = False
        values.update(
            prescale_index=1 if collisions else 0, prescale_name="2e34" if collisions else "Cosmics"
        )
        lumisections.append(values)
    service.register_run(
        db,
        actor=OMS_WORKER,
        run_number=run_number,
        oms_attributes=oms,
        rr_attributes={"class": run_class, "significant": True},
        oms_lumisections=lumisections,
        flags={component: RangeMap(spans) for component, spans in flags.items()},
    )
    if collisions:
        record_oms_luminosity(db, run_number, ls_count, recorded=0.4, delivered=0.42)
    if state != "OPEN":
        service.move_run(db, actor=EXPERT, run_number=run_number, to_state=state, comment="signed off")


def _dataset(
    db: Database,
    run_number: int,
    name: str,
    flags: Mapping[str, Spans],
    *,
    state: str,
    workspaces: Sequence[str],
    in_gui: Sequence[str] = (),
) -> None:
    """An offline dataset as dataset creation makes it (automatic flags), in `state` globally and in each of
    `workspaces`."""
    attributes = {
        "global_state": state,
        **{f"{workspace}_state": state for workspace in workspaces},
        "appeared_in": ["DQM GUI"] if in_gui or state != "waiting dqm gui" else [],
        "datasets_in_gui": list(in_gui),
    }
    service.create_dataset(db, actor=DATASET_WORKER, run_number=run_number, name=name, attributes=attributes)
    edits = [FlagEdit(c, first, last, **t) for c, spans in flags.items() for first, last, t in spans]
    if edits:
        service.edit_flags(
            db,
            actor=DATASET_WORKER,
            run_number=run_number,
            dataset=name,
            edits=edits,
            comment="dataset creation",
        )
