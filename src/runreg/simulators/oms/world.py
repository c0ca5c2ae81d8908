"""A deterministic CMS timeline of fills, runs and lumisections from a seed, as OMS reports them."""

from __future__ import annotations

import random
import threading
import time
from bisect import bisect_right
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import groupby
from typing import Any

LS_SECONDS = 23.31  # 2**18 LHC orbits
DEFAULT_EPOCH = datetime(2024, 4, 2, 6, 0, tzinfo=UTC)

COMPONENTS = (
    "CSC", "DAQ", "DCS", "DQM", "DT", "ECAL", "ES", "HCAL", "HF",
    "PIXEL", "RPC", "SCAL", "TCDS", "TRACKER", "TRG", "GEM", "CTPPS",
)  # fmt: skip
# Central systems are never left out of a global run; a detector occasionally is.
_DROPPABLE_COMPONENTS = ("CSC", "DT", "ECAL", "ES", "HCAL", "HF", "PIXEL", "RPC", "GEM", "CTPPS")

DCS_BITS = (
    "bpix", "fpix", "tibtid", "tob", "tecp", "tecm", "ebp", "ebm", "eep", "eem", "esp", "esm", "hbhea",
    "hbheb", "hbhec", "hf", "ho", "dtp", "dtm", "dt0", "cscp", "cscm", "rpc", "castor", "zdc", "gemp",
    "gemm", "rp_time", "rp_sect_45", "rp_sect_56",
)  # fmt: skip
READY_KEYS = tuple(f"{bit}_ready" for bit in DCS_BITS)
_TRACKER = ("bpix_ready", "fpix_ready", "tibtid_ready", "tob_ready", "tecp_ready", "tecm_ready")
_PPS = ("rp_time_ready", "rp_sect_45_ready", "rp_sect_56_ready")
# Bits that can drop out for a while: everything that is normally on.
_DROPPABLE_BITS = tuple(k for k in READY_KEYS if k not in ("castor_ready", "zdc_ready"))

INST_LUMI_UNITS = "10^{34}cm^{-2}s^{-1}"
RUN_UNITS = {
    "energy": "GeV",
    "b_field": "T",
    "duration": "s",
    "init_lumi": INST_LUMI_UNITS,
    "end_lumi": INST_LUMI_UNITS,
    "delivered_lumi": "pb^{-1}",
    "recorded_lumi": "pb^{-1}",
    "hlt_physics_rate": "Hz",
    "l1_rate": "Hz",
}
LS_UNITS = {
    "init_lumi": INST_LUMI_UNITS,
    "end_lumi": INST_LUMI_UNITS,
    "delivered_lumi": "pb^{-1}",
    "recorded_lumi": "pb^{-1}",
}

# pb^-1 delivered in one LS at 1e34 cm^-2 s^-1: 1e34 * 23.31 s = 23.31e34 cm^-2, and 1 pb^-1 = 1e36 cm^-2.
_PB_PER_LS_AT_1E34 = LS_SECONDS / 100.0
_PRESCALE_NAMES = (
    "Emergency", "2p2E34", "2p0E34", "1p8E34", "1p6E34", "1p4E34", "1p2E34", "1p0E34", "8p0E33", "6p0E33",
)  # fmt: skip
_SCHEMES = (
    "25ns_2352b_2340_2004_2133_108bpi_24inj",
    "25ns_2374b_2361_2048_2097_144bpi_20inj",
    "25ns_1227b_1215_1054_1102_144bpi_11inj",
    "25ns_601b_589_522_540_108bpi_7inj",
    "Multi_56b_52_24_32_8bpi_8inj",
)


def iso(ts: float) -> str:
    """OMS timestamps: UTC, second precision, trailing Z."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


@dataclass(frozen=True, slots=True)
class RunPlan:
    """Everything decided up front about one run; its lumisections are derived from it on demand."""

    run_number: int
    kind: str  # "collisions" | "cosmics" | "commissioning"
    start: float  # POSIX seconds
    ls_count: int
    fill_number: int | None
    pre_stable_ls: int  # LS before stable beams (collisions, first run of a fill)
    peak_lumi: float | None  # 1e34 cm^-2 s^-1 at the first stable LS
    decay: float  # inst. lumi ratio from one LS to the next
    live_fraction: float
    hlt_rate: float
    l1_rate: float
    static: dict[str, Any] = field(repr=False)

    @property
    def end(self) -> float:
        return self.start + self.ls_count * LS_SECONDS

    @property
    def start_time(self) -> datetime:
        return datetime.fromtimestamp(self.start, UTC)

    @property
    def end_time(self) -> datetime:
        return datetime.fromtimestamp(self.end, UTC)

    def completed_ls(self, ts: float) -> int:
        # The epsilon absorbs float and microsecond rounding: at `end_time` the last LS counts as complete.
        return max(0, min(self.ls_count, int((ts - self.start) / LS_SECONDS + 1e-6)))


class OmsWorld:
    """Runs and lumisections as OMS would report them at any instant; same seed, same world.

    The timeline opens with two cosmics runs, then a fill whose first run is the one run over 5,000 LS;
    afterwards fills of collisions runs, cosmics and commissioning runs follow at random.
    """

    def __init__(
        self,
        seed: int = 2024,
        epoch: datetime = DEFAULT_EPOCH,
        first_run: int = 380000,
        runs: int = 500,
        ls_per_run: int | None = None,
    ) -> None:
        """`ls_per_run` gives every run that many LS (benchmarks of runs of one size) instead of sizes
        drawn per kind of run."""
        self.seed = seed
        self.epoch = _aware(epoch)
        self.plans: tuple[RunPlan, ...] = tuple(
            _plan_timeline(random.Random(seed), self.epoch.timestamp(), first_run, runs, ls_per_run)
        )
        self._starts = [p.start for p in self.plans]
        self._by_number = {p.run_number: p for p in self.plans}
        self._finished_records: dict[int, dict[str, Any]] = {}
        self._ls_cache: OrderedDict[int, list[dict[str, Any]]] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def end(self) -> datetime:
        """When the last run of the timeline ends."""
        return self.plans[-1].end_time if self.plans else self.epoch

    def plan(self, run_number: int) -> RunPlan | None:
        return self._by_number.get(run_number)

    def runs_at(self, now: datetime) -> list[dict[str, Any]]:
        """Every run started by `now`, in run-number order, as OMS shows it at that instant."""
        ts = _aware(now).timestamp()
        started = self.plans[: bisect_right(self._starts, ts)]
        return [self._record(p, ts) for p in started]

    def run(self, run_number: int, now: datetime) -> dict[str, Any] | None:
        plan = self._by_number.get(run_number)
        ts = _aware(now).timestamp()
        if plan is None or plan.start > ts:
            return None
        return self._record(plan, ts)

    def lumisections(self, run_number: int, now: datetime) -> list[dict[str, Any]]:
        """The LS of the run completed by `now` (fresh dicts, the caller may change them)."""
        return [dict(row) for row in self.lumisection_rows(run_number, now)]

    def lumisection_rows(self, run_number: int, now: datetime) -> list[dict[str, Any]]:
        """Like `lumisections` but the rows are shared with a cache: read them, never change them."""
        plan = self._by_number.get(run_number)
        if plan is None:
            return []
        done = plan.completed_ls(_aware(now).timestamp())
        return self._all_rows(plan)[:done] if done else []

    def _record(self, plan: RunPlan, ts: float) -> dict[str, Any]:
        done = plan.completed_ls(ts)
        if done == plan.ls_count:
            cached = self._finished_records.get(plan.run_number)
            if cached is None:
                cached = self._finished_records[plan.run_number] = _run_record(plan, plan.ls_count)
            return {**cached, "components": list(cached["components"])}
        return _run_record(plan, done)

    def _all_rows(self, plan: RunPlan) -> list[dict[str, Any]]:
        # A few runs are asked for over and over (the one growing, the one being ingested): keep a handful.
        with self._lock:
            rows = self._ls_cache.get(plan.run_number)
            if rows is not None:
                self._ls_cache.move_to_end(plan.run_number)
                return rows
        rows = _lumisection_rows(plan, self.seed)
        with self._lock:
            self._ls_cache[plan.run_number] = rows
            while len(self._ls_cache) > 8:
                self._ls_cache.popitem(last=False)
        return rows


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


# --- the timeline -------------------------------------------------------------------------------------


def _plan_timeline(
    rng: random.Random, epoch: float, first_run: int, count: int, ls_per_run: int | None = None
) -> list[RunPlan]:
    plans: list[RunPlan] = []
    t = epoch + rng.uniform(60, 600)
    run_number = first_run
    fill = 9500 + rng.randint(0, 40)
    menus = _Menus()
    long_run_done = False
    block = 0
    while len(plans) < count:
        # The first two blocks are fixed so that the one very long run sits early in any world.
        if block == 0:
            kind, size = "cosmics", 2
        else:
            kind = "collisions" if block == 1 else rng.choices(_KINDS, _KIND_WEIGHTS)[0]
            size = rng.randint(*_BLOCK_SIZES[kind])
        scheme = rng.choice(_SCHEMES) if kind == "collisions" else None
        if kind == "collisions":
            fill += rng.randint(1, 6)
        for position in range(size):
            if len(plans) == count:
                break
            if plans:
                run_number += 1 if rng.random() < 0.8 else rng.randint(2, 6)  # aborted and local runs
            if kind == "collisions" and not long_run_done:
                ls_count, long_run_done = 5400, True
            else:
                ls_count = int(rng.triangular(50, _MAX_LS[kind], _MODE_LS[kind]))
            if ls_per_run is not None:  # drawn all the same: the rest of the world stays as with this seed
                ls_count = ls_per_run
            plans.append(
                _plan_run(
                    rng, kind, run_number, t, ls_count, fill, scheme, first_in_fill=position == 0, menus=menus
                )
            )
            t = plans[-1].end + rng.uniform(45, 400)
        t += rng.uniform(600, 5400)
        block += 1
    return plans


_KINDS = ("collisions", "cosmics", "commissioning")
_KIND_WEIGHTS = (0.55, 0.33, 0.12)
_BLOCK_SIZES = {"collisions": (1, 4), "cosmics": (1, 3), "commissioning": (1, 2)}
_MAX_LS = {"collisions": 3000, "cosmics": 3000, "commissioning": 1500}
_MODE_LS = {"collisions": 1300, "cosmics": 400, "commissioning": 120}


@dataclass
class _Menus:
    """Trigger menus and releases move forward during the year."""

    hlt_patch: int = 3
    cosmic_patch: int = 1
    l1_version: int = 2
    cmssw_patch: int = 7

    def evolve(self, rng: random.Random) -> None:
        if rng.random() < 0.06:
            self.hlt_patch += 1
        if rng.random() < 0.04:
            self.cosmic_patch += 1
        if rng.random() < 0.02:
            self.l1_version += 1
        if rng.random() < 0.02:
            self.cmssw_patch += 1


def _plan_run(
    rng: random.Random,
    kind: str,
    run_number: int,
    start: float,
    ls_count: int,
    fill: int,
    scheme: str | None,
    *,
    first_in_fill: bool,
    menus: _Menus,
) -> RunPlan:
    menus.evolve(rng)
    components = list(COMPONENTS)
    if kind == "collisions":
        if rng.random() < 0.1:
            components.remove(rng.choice(_DROPPABLE_COMPONENTS))
    elif kind == "cosmics":
        if rng.random() < 0.7:
            components.remove("CTPPS")  # the Roman pots stay out without beams
    else:
        keep = set(rng.sample(_DROPPABLE_COMPONENTS, rng.randint(2, 6)))
        components = [c for c in COMPONENTS if c not in _DROPPABLE_COMPONENTS or c in keep]
    collisions = kind == "collisions"
    l1 = menus.l1_version
    if collisions:
        hlt_key: str | None = f"/cdaq/physics/Run2024/2e34/v1.4.{menus.hlt_patch}/HLT/V{rng.randint(1, 3)}"
        l1_key, l1_menu, mode = (
            f"l1_trg_collisions2024/v{l1 + 100}",
            f"L1Menu_Collisions2024_v1_{l1}_0",
            "collisions2024",
        )
    elif kind == "cosmics":
        hlt_key = f"/cdaq/cosmic/commissioning2024/v1.1.{menus.cosmic_patch}/HLT/V{rng.randint(1, 4)}"
        l1_key, l1_menu, mode = f"l1_trg_cosmics2024/v{l1 + 30}", "L1Menu_Cosmics2024_v1_0_0", "cosmics2024"
    else:
        hlt_key = (
            None if rng.random() < 0.3 else f"/cdaq/special/2024/{rng.choice(_SPECIAL)}/v{rng.randint(1, 9)}"
        )
        l1_key, l1_menu, mode = (
            f"l1_trg_commissioning2024/v{l1 + 10}",
            "L1Menu_Commissioning2024_v1_0_0",
            "special",
        )
    energy: float | None = 6800.0 if collisions else (0.0 if rng.random() < 0.5 else None)
    hlt_rate = rng.uniform(1200, 1900) if collisions else rng.uniform(20, 400)
    static: dict[str, Any] = {
        "run_number": run_number,
        "fill_number": fill if collisions else None,
        "sequence": "GLOBAL-RUN",
        "energy": energy,
        "b_field": 3.8 if collisions or rng.random() < 0.9 else 0.0,
        "injection_scheme": scheme,
        "clock_type": "LHC" if collisions or rng.random() < 0.7 else "LOCAL",
        "components": components,
        "hlt_key": hlt_key,
        "l1_key": l1_key,
        "l1_key_stripped": l1_key.rsplit("/", 1)[0],
        "l1_menu": l1_menu,
        "l1_hlt_mode": f"{mode}/v{l1 + 20}",
        "l1_hlt_mode_stripped": mode,
        "trigger_mode": f"l1_hlt_{mode}/v{l1 + 20}",
        "cmssw_version": f"CMSSW_14_0_{menus.cmssw_patch}",
        "initial_prescale_index": rng.randint(1, 3) if collisions else 0,
        "hlt_physics_rate": round(hlt_rate, 1),
        "tier0_transfer": kind != "commissioning" or rng.random() < 0.5,
        "fill_type_runtime": "PROTONS" if collisions else None,
        "fill_type_party1": "PROTON" if collisions else None,
        "fill_type_party2": "PROTON" if collisions else None,
    }
    for component in COMPONENTS:
        static[f"{component.lower()}_included"] = component in components
    return RunPlan(
        run_number=run_number,
        kind=kind,
        start=start,
        ls_count=ls_count,
        fill_number=fill if collisions else None,
        pre_stable_ls=rng.randint(4, 20) if collisions and first_in_fill else 0,
        peak_lumi=rng.uniform(1.4, 2.1) * (1.0 if first_in_fill else rng.uniform(0.55, 0.9))
        if collisions
        else None,
        decay=1.0 - rng.uniform(1 / 3000, 1 / 1500),  # 10 to 20 hours of luminosity lifetime
        live_fraction=rng.uniform(0.92, 0.985),
        hlt_rate=hlt_rate,
        l1_rate=rng.uniform(95_000, 110_000) if collisions else rng.uniform(100, 3000),
        static=static,
    )


_SPECIAL = ("circulating", "splashes", "timing_scan", "vdm", "ecal_laser", "hcal_calib")


def _run_record(plan: RunPlan, completed: int) -> dict[str, Any]:
    finished = completed == plan.ls_count
    elapsed = completed * LS_SECONDS
    record = dict(plan.static)
    record["components"] = list(plan.static["components"])
    stable = max(0, completed - plan.pre_stable_ls) if plan.peak_lumi is not None else 0
    if plan.peak_lumi is not None:
        # Sum of a geometric series: the LS-by-LS luminosity decays by `decay` per LS.
        r = plan.decay
        per_ls0 = _PB_PER_LS_AT_1E34 * plan.peak_lumi * (1 + r) / 2
        delivered = per_ls0 * (1 - r**stable) / (1 - r)
        record |= {
            "delivered_lumi": round(delivered, 3),
            "recorded_lumi": round(delivered * plan.live_fraction, 3),
            "init_lumi": round(plan.peak_lumi, 4) if stable else 0.0,
            "end_lumi": round(plan.peak_lumi * r**stable, 4) if stable else 0.0,
        }
    else:
        record |= {"delivered_lumi": None, "recorded_lumi": None, "init_lumi": None, "end_lumi": None}
    last_update = plan.start + elapsed
    record |= {
        "start_time": iso(plan.start),
        "end_time": iso(plan.end) if finished else None,
        "last_update": iso(last_update),
        "duration": round(elapsed),
        "last_lumisection_number": completed,
        "stable_beam": stable > 0,
        "hlt_physics_counter": int(plan.hlt_rate * elapsed),
        "l1_triggers_counter": int(plan.l1_rate * elapsed),
        "l1_rate": round(plan.l1_rate, 1),
    }
    return record


# --- lumisections -------------------------------------------------------------------------------------


def _lumisection_rows(plan: RunPlan, seed: int) -> list[dict[str, Any]]:
    """All LS of the finished run; the first k are exactly what OMS shows after k LS."""
    rng = random.Random(f"oms-ls:{seed}:{plan.run_number}")
    n = plan.ls_count
    collisions = plan.kind == "collisions"
    base: dict[str, Any] = dict.fromkeys(READY_KEYS, True)
    base["castor_ready"] = False
    base["zdc_ready"] = collisions and rng.random() < 0.1
    columns: dict[str, list[Any]] = {}

    def paint(key: str, lo: int, hi: int, value: Any) -> None:
        lo, hi = max(0, lo), min(n, hi)
        if hi > lo:
            column = columns.get(key)
            if column is None:
                column = columns[key] = [base[key]] * n
            column[lo:hi] = [value] * (hi - lo)

    ls_flags = {"cms_active": True, "physics_flag": collisions}
    ls_flags |= dict.fromkeys(("beam1_present", "beam2_present", "beam1_stable", "beam2_stable"), collisions)
    base |= ls_flags
    if collisions:
        pre = plan.pre_stable_ls
        for key in ("beam1_stable", "beam2_stable"):
            paint(key, 0, pre, False)
        tracker_on = pre + rng.randint(0, 3)  # HV goes up once stable beams are declared
        for key in _TRACKER:
            paint(key, 0, tracker_on, False)
        paint("physics_flag", 0, tracker_on, False)
        pps_in = pre + rng.randint(5, 30)  # the Roman pots move in later still
        for key in _PPS:
            paint(key, 0, pps_in, False)
    else:
        base |= dict.fromkeys(_PPS, None)
        if plan.kind == "cosmics" and rng.random() < 0.3:
            base |= {"bpix_ready": False, "fpix_ready": False}
        if plan.kind == "commissioning":
            base |= dict.fromkeys(rng.sample(_DROPPABLE_BITS[:-3], rng.randint(4, 12)), False)
            if rng.random() < 0.3:
                base |= {"beam1_present": True, "beam2_present": True}
    usually_on = [key for key in _DROPPABLE_BITS if base[key]]
    for _ in range(rng.randint(0, 4)):
        lo = rng.randrange(n)
        paint(rng.choice(usually_on), lo, lo + rng.randint(3, 40), False)
    if rng.random() < 0.2:  # DCS data missing for a few LS: bits come back null
        lo = rng.randrange(n)
        keys = READY_KEYS if rng.random() < 0.5 else rng.sample(READY_KEYS, 5)
        span = rng.randint(1, 4)
        for key in keys:
            paint(key, lo, lo + span, None)
    if rng.random() < 0.1:
        lo = rng.randrange(n)
        span = rng.randint(1, 5)
        paint("cms_active", lo, lo + span, False)
        if collisions:
            paint("physics_flag", lo, lo + span, False)

    prescale = plan.static["initial_prescale_index"]
    base |= {"prescale_index": prescale, "prescale_name": _PRESCALE_NAMES[prescale]}
    # Prescale columns change a few times as the luminosity decays (levelling), never before stable beams.
    after_stable = range(plan.pre_stable_ls + 1, n)
    changes_wanted = rng.randint(2, 4) if collisions else rng.randint(0, 1)
    steps = sorted(rng.sample(after_stable, min(len(after_stable), changes_wanted)))
    for step in steps:
        prescale = min(prescale + 1, len(_PRESCALE_NAMES) - 1)
        paint("prescale_index", step, n, prescale)
        paint("prescale_name", step, n, _PRESCALE_NAMES[prescale])

    changes: dict[int, list[tuple[str, Any]]] = {}
    for key, column in columns.items():
        position = 0
        for value, group in groupby(column):
            if position:
                changes.setdefault(position, []).append((key, value))
            position += len(list(group))

    state: dict[str, Any] = {
        "run_number": plan.run_number,
        "lumisection_number": 0,
        "fill_number": plan.fill_number,
        "start_time": None,
        "end_time": None,
        **{key: base[key] for key in ls_flags},
        "prescale_index": base["prescale_index"],
        "prescale_name": base["prescale_name"],
        "init_lumi": None,
        "end_lumi": None,
        "delivered_lumi": None,
        "recorded_lumi": None,
        "pileup": None,
        **{key: base[key] for key in READY_KEYS},
    }
    for key, column in columns.items():
        state[key] = column[0]
    bounds = [iso(plan.start + i * LS_SECONDS) for i in range(n + 1)]
    lumi = _lumi_columns(plan) if plan.peak_lumi is not None else None
    if lumi is not None:
        state |= {
            "init_lumi": 0.0,
            "end_lumi": 0.0,
            "delivered_lumi": 0.0,
            "recorded_lumi": 0.0,
            "pileup": 0.0,
        }
    rows: list[dict[str, Any]] = []
    append = rows.append
    get_changes = changes.get
    for i in range(n):
        step_changes = get_changes(i)
        if step_changes:
            for key, value in step_changes:
                state[key] = value
        row = state.copy()
        row["lumisection_number"] = i + 1
        row["start_time"] = bounds[i]
        row["end_time"] = bounds[i + 1]
        if lumi is not None and i >= plan.pre_stable_ls:
            row["init_lumi"], row["end_lumi"], row["delivered_lumi"], recorded, row["pileup"] = lumi[i]
            row["recorded_lumi"] = recorded if row["cms_active"] else 0.0
        append(row)
    return rows


def _lumi_columns(plan: RunPlan) -> list[tuple[float, float, float, float, float]]:
    """Per LS: instantaneous luminosity at start and end, delivered and recorded pb^-1, pile-up."""
    assert plan.peak_lumi is not None
    r, live, pre, n = plan.decay, plan.live_fraction, plan.pre_stable_ls, plan.ls_count
    # Rounding through integers is a fraction of the cost of round(x, k) and yields the same short decimals.
    inst = [int(plan.peak_lumi * r**j * 10_000 + 0.5) for j in range(n - pre + 1)]
    values: list[tuple[float, float, float, float, float]] = [(0.0, 0.0, 0.0, 0.0, 0.0)] * pre
    scale = _PB_PER_LS_AT_1E34 / 2 / 10_000
    for start, end in zip(inst, inst[1:], strict=False):
        delivered = (start + end) * scale
        values.append(
            (
                start / 10_000,
                end / 10_000,
                int(delivered * 1e6 + 0.5) / 1e6,
                int(delivered * live * 1e6 + 0.5) / 1e6,
                int(start * 0.285 + 0.5) / 100,
            )
        )
    return values
