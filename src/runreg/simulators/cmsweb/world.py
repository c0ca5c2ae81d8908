"""A deterministic production world from a seed: workflows of every kind, their status timelines, the
revisions ReqMgr2's changes feed reports, and the DBS datasets they fill over time."""

from __future__ import annotations

import hashlib
import random
import threading
from bisect import bisect_right, insort
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

DEFAULT_EPOCH = datetime(2026, 3, 2, 8, 0, tzinfo=UTC).timestamp()
STEP_S = 900.0  # DBS numbers move in steps (blocks closing), so "modified since" has something to say
DAY = 86400.0

_PWGS = ("EXO", "HIG", "SUS", "TOP", "SMP", "BPH", "B2G", "TSG", "BTV", "JME")
_PRIMARIES = ("TTTo2L2Nu_TuneCP5_13p6TeV", "DYJetsToLL_M-50_TuneCP5", "WToLNu_4J_TuneCP5", "QCD_PT-15to7000",
              "GluGluHToGG_M125_TuneCP5", "ZprimeToTT_M3000_W30", "BsToMuMu_SoftQCD",
              "TTbar_14TeV")  # fmt: skip
_MC_CAMPAIGNS = (
    ("Run3Summer23wmLHEGS", "Run3Summer23DRPremix", "Run3Summer23MiniAODv4", "Run3Summer23NanoAODv12"),
    (
        "Run3Summer22EEwmLHEGS",
        "Run3Summer22EEDRPremix",
        "Run3Summer22EEMiniAODv4",
        "Run3Summer22EENanoAODv12",
    ),
    (
        "RunIISummer20UL18wmLHEGEN",
        "RunIISummer20UL18SIM",
        "RunIISummer20UL18RECO",
        "RunIISummer20UL18MiniAODv2",
    ),
)
_MC_TIERS = ("GEN-SIM", "AODSIM", "MINIAODSIM", "NANOAODSIM")
_DATA_PDS = ("ZeroBias", "JetMET0", "Muon0", "EGamma1", "ParkingDoubleMuonLowMass0")
_ERAS = ("Run2024C", "Run2024D", "Run2024E")
_RERECO_TIERS = ("AOD", "MINIAOD", "NANOAOD", "DQMIO", "USER", "RAW-RECO", "ALCARECO")
_RELVAL_TIERS = ("GEN-SIM", "GEN-SIM-DIGI-RAW", "GEN-SIM-RECO", "MINIAODSIM", "NANOAODSIM", "DQMIO")
_DONE = ("new", "assignment-approved", "assigned", "staging", "staged", "acquired", "running-open",
         "running-closed", "completed", "closed-out", "announced", "normal-archived")  # fmt: skip
_ABORTED = ("new", "assignment-approved", "assigned", "acquired", "running-open", "aborted",
            "aborted-completed", "aborted-archived")  # fmt: skip
_REJECTED = ("new", "assignment-approved", "rejected", "rejected-archived")
ACTIVE = frozenset({"assigned", "staging", "staged", "acquired", "running-open", "running-closed"})
# Input data: every run has this many LS in the simulated data-taking (runs 380000..).
_FIRST_RUN = 380000
_LS_PER_FILE = 25


def _digest(*parts: object) -> int:
    return int.from_bytes(hashlib.blake2b("|".join(map(str, parts)).encode(), digest_size=8).digest(), "big")


def _sample(rng: random.Random) -> str:
    """A primary dataset: a physics process at one of many mass points or cuts (so most datasets are unique,
    and a few are written by more than one workflow)."""
    return f"{rng.choice(_PRIMARIES)}_M-{rng.randrange(100, 6000, 5)}"


def _stamp(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).strftime("%y%m%d_%H%M%S")


@dataclass
class InputDataset:
    """A data (or MC) dataset already in DBS: runs with their LS and per-LS event counts."""

    name: str
    runs: dict[int, int]  # run -> number of LS
    events_per_ls: int

    def ls_events(self, run: int, ls: int) -> int:
        return self.events_per_ls + _digest(self.name, run, ls) % 97

    def files(self, run: int) -> list[tuple[str, int, int]]:
        """(LFN, first LS, last LS) of the run's files."""
        count = self.runs[run]
        era = self.name.split("/")[2]
        return [
            (f"/store/data/{era}/{self.name.split('/')[1]}/{run}/{first:05d}.root", first,
             min(count, first + _LS_PER_FILE - 1))
            for first in range(1, count + 1, _LS_PER_FILE)
        ]  # fmt: skip

    @property
    def total_events(self) -> int:
        return sum(self.ls_events(run, ls) for run, count in self.runs.items() for ls in range(1, count + 1))

    @property
    def total_lumis(self) -> int:
        return sum(self.runs.values())


@dataclass
class Plan:
    """One workflow's whole life: its ReqMgr2 document (without the status parts) and when statuses change."""

    name: str
    request_type: str
    document: dict[str, Any]
    transitions: list[tuple[float, str]]
    outputs: list[str]
    target_events: int  # events each output dataset will reach (0 for DQMIO)
    target_lumis: int
    deleted_at: float | None = None

    def status_at(self, moment: float) -> str | None:
        times = [when for when, _ in self.transitions]
        index = bisect_right(times, moment)
        return self.transitions[index - 1][1] if index else None

    def time_of(self, status: str) -> float | None:
        return next((when for when, name in self.transitions if name == status), None)


@dataclass
class _Revision:
    time: float
    name: str
    kind: str  # "plan" (a status change), "touch", "retouch" (same content) or "delete"
    seq: int = 0


def _when(revision: _Revision) -> float:
    return revision.time


@dataclass
class CmswebWorld:
    """`workflows` plans from `seed`, created over `span_days` from `epoch` (epoch seconds)."""

    seed: int = 2026
    workflows: int = 120
    epoch: float = DEFAULT_EPOCH
    span_days: float = 20.0
    plans: list[Plan] = field(init=False)
    inputs: dict[str, InputDataset] = field(init=False)
    _by_name: dict[str, Plan] = field(init=False)
    _revisions: dict[str, list[_Revision]] = field(init=False)
    _priority_bumps: dict[str, list[float]] = field(init=False)
    _lock: threading.Lock = field(init=False, default_factory=threading.Lock)
    _counter: int = field(init=False, default=0)

    def __post_init__(self) -> None:
        rng = random.Random(self.seed)
        self.inputs = {}
        self.plans = []
        self._parents: list[Plan] = []  # who a resubmission may come from
        for index in range(self.workflows):
            plan = self._plan(rng, index)
            self.plans.append(plan)
            if plan.request_type in ("TaskChain", "ReReco") and plan.time_of("running-open"):
                self._parents.append(plan)
        self._by_name = {plan.name: plan for plan in self.plans}
        self._by_prep_id: dict[str, list[Plan]] = {}
        for plan in self.plans:
            self._by_prep_id.setdefault(plan.document["PrepID"], []).append(plan)
        self._revisions = {}
        self._priority_bumps = {}
        for plan in self.plans:
            revisions = [_Revision(when, plan.name, "plan") for when, _ in plan.transitions]
            if plan.deleted_at is not None:
                revisions.append(_Revision(plan.deleted_at, plan.name, "delete"))
            for revision in revisions:
                revision.seq = self._seq_for(revision.time)
            self._revisions[plan.name] = revisions

    # --- building ----------------------------------------------------------------------------------------

    def _plan(self, rng: random.Random, index: int) -> Plan:
        created = self.epoch + rng.uniform(0, self.span_days * DAY)
        roll = rng.random()
        if roll < 0.08 and self._parents:
            return self._resubmission(rng, rng.choice(self._parents[-50:]), created, index)
        if roll < 0.45:
            return self._taskchain(rng, created, index)
        if roll < 0.65:
            return self._stepchain(rng, created, index)
        if roll < 0.85:
            return self._rereco(rng, created, index)
        return self._relval(rng, created, index)

    def _timeline(self, rng: random.Random, created: float) -> list[tuple[float, str]]:
        roll = rng.random()
        statuses = _REJECTED if roll < 0.04 else _ABORTED if roll < 0.1 else _DONE
        moment = created
        timeline = []
        for status in statuses:
            timeline.append((round(moment, 3), status))
            running = status in ("running-open", "running-closed")
            moment += rng.uniform(0.1, 0.6) * DAY if running else rng.uniform(600, 6 * 3600)
        return timeline

    def _base(
        self, rng: random.Random, name: str, kind: str, timeline: list[tuple[float, str]]
    ) -> dict[str, Any]:
        return {
            "_id": name,
            "RequestName": name,
            "RequestType": kind,
            "RequestPriority": rng.choice((63000, 85000, 110000, 130000)),
            "CMSSWVersion": rng.choice(
                ("CMSSW_13_0_13", "CMSSW_13_3_1_patch1", "CMSSW_14_0_7", "CMSSW_10_6_17_patch1")
            ),
            "SizePerEvent": rng.choice((500, 1200, 2500)),
            "TimePerEvent": rng.choice((1.5, 10.0, 40.0)),
            "Requestor": "pdmvserv",
            "Group": "ppd",
            "Team": "production",
            "SiteWhitelist": ["T1_US_FNAL", "T2_CH_CERN"],
            "Comments": {
                "WorkFlowDesc": ["simulated"],
                "CheckList": [],
                "CMSSWVersion": "",
                "GenericComment": "",
            },
        }

    def _taskchain(self, rng: random.Random, created: float, index: int) -> Plan:
        pwg = rng.choice(_PWGS)
        campaigns = rng.choice(_MC_CAMPAIGNS)
        serial = 10000 + index
        prep = f"task_{pwg}-{campaigns[0]}-{serial:05d}"
        name = f"pdmvserv_{prep}__v1_T_{_stamp(created)}_{index:04d}"
        primary = _sample(rng)
        timeline = self._timeline(rng, created)
        doc = self._base(rng, name, "TaskChain", timeline)
        ntasks = rng.choice((2, 3, 4))
        processing = f"{campaigns[min(1, ntasks - 1)][:3]}_v{rng.randrange(1, 9)}"
        outputs, events = [], rng.choice((50_000, 200_000, 500_000, 2_000_000))
        efficiency = rng.choice((1.0, 1.0, 0.25))
        for task in range(1, ntasks + 1):
            campaign = campaigns[task - 1]
            request = f"{pwg}-{campaign}-{serial + task - 1:05d}"
            dataset = f"/{primary}/{campaign}-{processing}-v{rng.randrange(1, 3)}/{_MC_TIERS[task - 1]}"
            outputs.append(dataset)
            doc[f"Task{task}"] = {
                "TaskName": f"{request}_{task}",
                "Campaign": campaign,
                "AcquisitionEra": campaign,
                "ProcessingString": processing,
                "PrepID": request,
                "KeepOutput": True,
            }
        doc["TaskChain"] = ntasks
        doc["Task1"]["RequestNumEvents"] = events
        if efficiency != 1.0:
            doc["Task1"]["FilterEfficiency"] = efficiency
        doc.update(
            PrepID=prep,
            Campaign=campaigns[0],
            AcquisitionEra=campaigns[0],
            ProcessingString={"Task1": processing},
        )
        # ReqMgr2 keeps OutputDatasets flat; a few old documents nest them per task.
        doc["OutputDatasets"] = [outputs[:1], outputs[1:]] if index % 7 == 0 else list(outputs)
        doc.update(TotalInputLumis=0, TotalInputEvents=events, TotalInputFiles=0)
        return self._finish(rng, doc, timeline, outputs, int(events * efficiency), 0)

    def _stepchain(self, rng: random.Random, created: float, index: int) -> Plan:
        pwg = rng.choice(_PWGS)
        campaigns = rng.choice(_MC_CAMPAIGNS)
        prep = f"{pwg}-{campaigns[0]}-{20000 + index:05d}"
        name = f"pdmvserv_{prep}__v1_T_{_stamp(created)}_{index:04d}"
        timeline = self._timeline(rng, created)
        doc = self._base(rng, name, "StepChain", timeline)
        primary = _sample(rng)
        processing = f"{campaigns[2][:6]}_v{rng.randrange(1, 4)}"
        steps = rng.choice((3, 4))
        outputs = []
        for step in range(1, steps + 1):
            campaign = campaigns[step - 1]
            doc[f"Step{step}"] = {
                "StepName": f"{prep}_{step}",
                "Campaign": campaign,
                "AcquisitionEra": campaign,
                "ProcessingString": processing,
                "PrepID": prep,
            }
            if step >= 2:
                outputs.append(f"/{primary}/{campaigns[-1]}-{processing}-v1/{_MC_TIERS[step - 1]}")
        events = rng.choice((100_000, 400_000, 1_000_000))
        doc["StepChain"] = steps
        doc["Step1"]["RequestNumEvents"] = events
        doc.update(
            PrepID=prep, Campaign=campaigns[0], ProcessingString=processing, OutputDatasets=list(outputs)
        )
        doc.update(TotalInputLumis=0, TotalInputEvents=events, TotalInputFiles=0)
        return self._finish(rng, doc, timeline, outputs, events, 0)

    def _input(self, rng: random.Random, pd: str, era: str) -> InputDataset:
        name = f"/{pd}/{era}-v1/RAW"
        if name not in self.inputs:
            first = _FIRST_RUN + _ERAS.index(era) * 400 + _DATA_PDS.index(pd) * 3
            runs = {first + k * 7: 40 + _digest(name, k) % 260 for k in range(3 + _digest(name) % 4)}
            self.inputs[name] = InputDataset(name, runs, 600 + _digest(pd) % 400)
        return self.inputs[name]

    def _rereco(self, rng: random.Random, created: float, index: int) -> Plan:
        pd, era = rng.choice(_DATA_PDS), rng.choice(_ERAS)
        source = self._input(rng, pd, era)
        processing = f"ReReco{rng.choice(('2024', 'PromptFix'))}_v{rng.randrange(1, 40)}"
        prep = f"ReReco-{era}-{pd}-{processing}-{30000 + index:05d}"
        name = f"pdmvserv_{prep}_{_stamp(created)}_{index:04d}"
        timeline = self._timeline(rng, created)
        doc = self._base(rng, name, "ReReco", timeline)
        # Half of them process a lumi mask (part of each run), the others the whole dataset.
        runs = sorted(source.runs)
        if index % 2:
            mask = {str(run): [[1, max(1, source.runs[run] // 2)], [source.runs[run] - 9, source.runs[run]]]
                    for run in runs[: 2 + index % 2]}  # fmt: skip
        else:
            mask = {str(run): [[1, count]] for run, count in source.runs.items()}
        masked_lumis = sum(b - a + 1 for ranges in mask.values() for a, b in ranges)
        masked_events = sum(source.ls_events(int(run), ls) for run, ranges in mask.items() for a, b in ranges
                            for ls in range(a, b + 1))  # fmt: skip
        tiers = rng.sample(_RERECO_TIERS, rng.choice((3, 4, 5)))
        outputs = [f"/{pd}/{era}-{processing}-v1/{tier}" for tier in tiers]
        doc.update(
            PrepID=prep,
            Campaign=f"{era}-{processing}",
            AcquisitionEra=era,
            ProcessingString=processing,
            InputDataset=source.name,
            LumiList=mask,
            RunWhitelist=sorted(int(r) for r in mask),
            TotalInputLumis=masked_lumis,
            TotalInputEvents=masked_events,
            TotalInputFiles=sum(len(source.files(int(run))) for run in mask),
            OutputDatasets=list(outputs),
        )
        if (
            index % 5 == 0
        ):  # assigned before ReqMgr2 computed its inputs: expected events from DBS and the mask
            doc.pop("TotalInputEvents")
            doc["TotalInputFiles"] = 0
            doc["Task1"] = {
                "InputDataset": source.name,
                "LumiList": mask,
                "PrepID": prep,
                "Campaign": doc["Campaign"],
            }
            doc["TaskChain"] = 1
        return self._finish(rng, doc, timeline, outputs, masked_events, masked_lumis)

    def _relval(self, rng: random.Random, created: float, index: int) -> Plan:
        release = rng.choice(("CMSSW_14_0_0", "CMSSW_14_1_0_pre3"))
        sample = rng.choice(("TTbar_14TeV", "ZEE_14", "SingleMuPt10"))
        batch = f"{release}__fullsim_{rng.choice(('noPU', 'PU'))}-{_stamp(created - DAY).replace('_', '')}"
        prep = f"{release}__fullsim-{sample}-{40000 + index:05d}"
        name = f"pdmvserv_RVCMSSW_{release[6:]}{sample}__{_stamp(created)}_{index:04d}"
        timeline = self._timeline(rng, created)
        doc = self._base(rng, name, "TaskChain", timeline)
        tiers = _RELVAL_TIERS[: rng.choice((4, 5, 6))]
        outputs = [f"/RelVal{sample}/{release}-{release[6:]}_RV-v1/{tier}" for tier in tiers]
        events = rng.choice((9000, 18000))
        for task in range(1, 3):
            doc[f"Task{task}"] = {"Campaign": batch, "AcquisitionEra": release, "PrepID": prep,
                                  "ProcessingString": f"{release[6:]}_RV"}  # fmt: skip
        doc["Task1"]["RequestNumEvents"] = events
        doc.update(TaskChain=2, PrepID=prep, Campaign=batch, OutputDatasets=outputs, TotalInputLumis=0)
        return self._finish(rng, doc, timeline, outputs, events, 0)

    def _resubmission(self, rng: random.Random, parent: Plan, created: float, index: int) -> Plan:
        start = max(created, (parent.time_of("running-closed") or parent.transitions[-1][0]) + 3600)
        name = f"pdmvserv_ACDC0_{parent.document['PrepID']}_{_stamp(start)}_{index:04d}"
        timeline = self._timeline(rng, start)
        doc = self._base(rng, name, "Resubmission", timeline)
        doc.update(
            PrepID=parent.document["PrepID"],
            OriginalRequestName=parent.name,
            InitialTaskPath=f"/{parent.name}/Task1",
            Campaign=parent.document.get("Campaign"),
            AcquisitionEra=parent.document.get("AcquisitionEra"),
            ProcessingString=parent.document.get("ProcessingString"),
            OutputDatasets=list(parent.outputs),
            LumiList=parent.document.get("LumiList", {}),
            TotalInputEvents=None,
            TotalInputLumis=None,
        )
        if isinstance(doc["ProcessingString"], dict):
            doc["ProcessingString"] = next(iter(doc["ProcessingString"].values()))
        return self._finish(rng, doc, timeline, list(parent.outputs), 0, 0, parent=parent)

    def _finish(
        self,
        rng: random.Random,
        doc: dict[str, Any],
        timeline: list[tuple[float, str]],
        outputs: list[str],
        events: int,
        lumis: int,
        parent: Plan | None = None,
    ) -> Plan:
        plan = Plan(doc["RequestName"], doc["RequestType"], doc, timeline, outputs, events, lumis)
        last = timeline[-1]
        if last[1].endswith("archived") and last[1] != "normal-archived" and rng.random() < 0.35:
            plan.deleted_at = last[0] + rng.uniform(0.5, 3) * DAY
        return plan

    def _seq_for(self, moment: float) -> int:
        # Monotonic in time (the feed's order), unique per revision (the counter breaks ties).
        self._counter += 1
        return int(moment * 1000) * 1_000_000 + self._counter

    # --- what ReqMgr2 reports at a moment ----------------------------------------------------------------

    def plan(self, name: str) -> Plan | None:
        return self._by_name.get(name)

    def _latest(self, name: str, moment: float) -> _Revision | None:
        revisions = self._revisions.get(name, [])
        times = [r.time for r in revisions]
        index = bisect_right(times, moment)
        return revisions[index - 1] if index else None

    def changes(
        self, moment: float, *, since: int, limit: int | None
    ) -> tuple[list[tuple[int, str, bool]], int]:
        """(seq, name, deleted) of documents whose latest revision by `moment` is after `since`, in seq order,
        and how many more there are beyond `limit`."""
        with self._lock:
            latest = [self._latest(name, moment) for name in self._revisions]
        rows = sorted((r.seq, r.name, r.kind == "delete") for r in latest if r is not None and r.seq > since)
        if limit is None or len(rows) <= limit:
            return rows, 0
        return rows[:limit], len(rows) - limit

    def current_seq(self, moment: float) -> int:
        with self._lock:
            latest = [self._latest(name, moment) for name in self._revisions]
        return max((r.seq for r in latest if r is not None), default=0)

    def document(self, name: str, moment: float) -> dict[str, Any] | None:
        plan = self._by_name.get(name)
        latest = self._latest(name, moment)
        if plan is None or latest is None or latest.kind == "delete":
            return None
        doc = {key: value for key, value in plan.document.items()}
        transitions = [(when, status) for when, status in plan.transitions if when <= moment]
        doc["RequestStatus"] = transitions[-1][1]
        doc["RequestTransition"] = [
            {"Status": status, "UpdateTime": int(when), "DN": "/DC=ch/DC=cern/OU=Users/CN=pdmvserv"}
            for when, status in transitions
        ]
        with self._lock:
            bumps = sum(1 for when in self._priority_bumps.get(name, []) if when <= moment)
        doc["RequestPriority"] = plan.document["RequestPriority"] + bumps
        doc["_rev"] = f"{len(transitions) + bumps}-{_digest(name, latest.seq):016x}"
        return doc

    def search_prep_id(self, prep_id: str, moment: float) -> list[dict[str, Any]]:
        return [
            doc
            for plan in self._by_prep_id.get(prep_id, [])
            if (doc := self.document(plan.name, moment)) is not None
        ]

    def active(self, moment: float) -> list[str]:
        return [
            plan.name
            for plan in self.plans
            if plan.status_at(moment) in ACTIVE
            and (latest := self._latest(plan.name, moment))
            and latest.kind != "delete"
        ]

    # --- changes made by a test or the benchmark ---------------------------------------------------------

    def touch(self, names: list[str], moment: float, *, change: bool = True) -> None:
        """A new revision of each workflow now: its priority goes up by one, or (change=False) a revision
        whose content is the same as before (ReqMgr2 rewrites documents without changing them)."""
        with self._lock:
            for name in names:
                if name not in self._by_name:
                    raise KeyError(name)
                if change:
                    self._priority_bumps.setdefault(name, []).append(moment)
                insort(
                    self._revisions[name], _Revision(moment, name, "touch", self._seq_for(moment)), key=_when
                )

    def delete(self, names: list[str], moment: float) -> None:
        with self._lock:
            for name in names:
                if name not in self._by_name:
                    raise KeyError(name)
                insort(
                    self._revisions[name], _Revision(moment, name, "delete", self._seq_for(moment)), key=_when
                )

    # --- what DBS reports at a moment --------------------------------------------------------------------

    def _contributors(self) -> dict[str, list[Plan]]:
        found: dict[str, list[Plan]] = {}
        for plan in self.plans:
            for dataset in plan.outputs:
                found.setdefault(dataset, []).append(plan)
        return found

    def output_state(self, dataset: str, moment: float) -> dict[str, Any] | None:
        """DBS's view of an output dataset: access type, events, bytes, lumis, files, last modification."""
        plans = self._outputs().get(dataset)
        if not plans:
            return None
        owner = plans[0]
        opened = owner.time_of("running-open")
        if opened is None or opened > moment:
            return None
        dqm = dataset.endswith("/DQMIO")
        events = lumis = 0
        modified = opened
        for plan in plans:
            start = plan.time_of("running-open")
            if start is None or start > moment:
                continue
            end = plan.time_of("running-closed") or plan.time_of("aborted") or start + DAY
            end = max(end, start + STEP_S)
            stepped = min(moment, end) - (min(moment, end) - start) % STEP_S
            share = min(1.0, (stepped - start) / (end - start))
            target = owner.target_events if plan is owner else int(owner.target_events * 0.03)
            target_lumis = owner.target_lumis if plan is owner else 0
            events += 0 if dqm else int(target * 0.98 * share)
            lumis += int(target_lumis * share)
            modified = max(modified, stepped)
        if owner.document["RequestType"] != "ReReco":
            lumis = events // 500
        status = owner.status_at(moment)
        access = "PRODUCTION"
        if status in ("announced", "normal-archived"):
            access = "VALID"
            modified = max(modified, owner.time_of("announced") or modified)
        elif status is not None and status.startswith("aborted"):
            access = "INVALID"
            modified = max(modified, owner.time_of("aborted") or modified)
        size_per_event = owner.document.get("SizePerEvent", 1000) * (
            1 if not dataset.endswith("NANOAODSIM") else 0.05
        )
        return {
            "dataset": dataset,
            "dataset_access_type": access,
            "num_event": events,
            "num_lumi": lumis,
            "file_size": int(events * size_per_event),
            "num_file": (events + 4999) // 5000 if events else (1 if dqm else 0),
            "last_modification_date": int(modified),
        }

    def _outputs(self) -> dict[str, list[Plan]]:
        cached = getattr(self, "_outputs_cache", None)
        if cached is None:
            cached = self._contributors()
            object.__setattr__(self, "_outputs_cache", cached)
        return cached

    def dbs_datasets(self) -> list[str]:
        return list(self._outputs())
