"""The simulated OMS world: deterministic, realistic, and growing with time like a real run."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from runreg.simulators.oms.world import LS_SECONDS, READY_KEYS, OmsWorld, RunPlan


@pytest.fixture(scope="module")
def world() -> OmsWorld:
    return OmsWorld()


def _at_ls(plan: RunPlan, ls: float):
    return plan.start_time + timedelta(seconds=ls * LS_SECONDS)


def _first(world: OmsWorld, kind: str, *, min_ls: int = 0) -> RunPlan:
    return next(p for p in world.plans if p.kind == kind and p.ls_count >= min_ls)


def test_the_same_seed_gives_the_same_world_and_another_seed_another() -> None:
    one, two = OmsWorld(seed=7, runs=60), OmsWorld(seed=7, runs=60)
    late = one.plans[-1].end_time
    assert one.runs_at(late) == two.runs_at(late)
    for plan in one.plans[::10]:
        assert one.lumisections(plan.run_number, late) == two.lumisections(plan.run_number, late)
    other = OmsWorld(seed=8, runs=60)
    assert [p.ls_count for p in other.plans] != [p.ls_count for p in one.plans]


def test_timeline_starts_at_first_run_with_increasing_numbers_small_gaps_and_no_overlap(
    world: OmsWorld,
) -> None:
    assert len(world.plans) == 500 and world.plans[0].run_number == 380000
    assert world.plans[0].start_time >= world.epoch
    for before, after in zip(world.plans, world.plans[1:], strict=False):
        assert 1 <= after.run_number - before.run_number <= 6
        assert after.start > before.end
    assert {p.kind for p in world.plans} == {"collisions", "cosmics", "commissioning"}


def test_runs_last_50_to_3000_ls_except_one_early_run_over_5000(world: OmsWorld) -> None:
    long_runs = [p for p in world.plans if p.ls_count > 5000]
    assert len(long_runs) == 1 and world.plans.index(long_runs[0]) < 5
    assert all(50 <= p.ls_count <= 3000 for p in world.plans if p is not long_runs[0])


def test_collisions_runs_look_like_2024_proton_physics(world: OmsWorld) -> None:
    collisions = [p for p in world.plans if p.kind == "collisions"]
    for plan in collisions:
        run = world.run(plan.run_number, plan.end_time)
        assert run is not None
        assert (run["energy"], run["b_field"], run["sequence"]) == (6800.0, 3.8, "GLOBAL-RUN")
        assert run["fill_type_runtime"] == "PROTONS" and run["fill_number"] == plan.fill_number > 9000
        assert re.fullmatch(r"25ns_\d+b_\d+_\d+_\d+_\d+bpi_\d+inj|Multi_.*", run["injection_scheme"])
        assert re.fullmatch(r"/cdaq/physics/Run2024/2e34/v1\.4\.\d+/HLT/V\d", run["hlt_key"])
        assert run["stable_beam"] is True and run["delivered_lumi"] > run["recorded_lumi"] > 0
        assert len(run["components"]) >= 16 and {"DAQ", "DCS", "TRG"} <= set(run["components"])
        assert run["daq_included"] is True and run["dt_included"] == ("DT" in run["components"])
    assert any(len(world.run(p.run_number, p.end_time)["components"]) == 16 for p in collisions)


def test_cosmics_and_commissioning_have_no_beam(world: OmsWorld) -> None:
    cosmic = _first(world, "cosmics")
    run = world.run(cosmic.run_number, cosmic.end_time)
    assert run["fill_number"] is None and run["energy"] in (0.0, None) and run["stable_beam"] is False
    assert run["hlt_key"].startswith("/cdaq/cosmic/") and run["delivered_lumi"] is None
    for ls in world.lumisections(cosmic.run_number, cosmic.end_time):
        assert not (ls["beam1_present"] or ls["beam2_present"] or ls["beam1_stable"] or ls["beam2_stable"])
        assert ls["physics_flag"] is False
    for plan in (p for p in world.plans if p.kind == "commissioning"):
        hlt_key = world.run(plan.run_number, plan.end_time)["hlt_key"]
        assert hlt_key is None or hlt_key.startswith("/cdaq/special/")


def test_an_ongoing_run_grows_then_ends(world: OmsWorld) -> None:
    plan = world.plans[10]
    assert world.run(plan.run_number, plan.start_time - timedelta(seconds=1)) is None
    early, later = (
        world.run(plan.run_number, _at_ls(plan, 20.5)),
        world.run(plan.run_number, _at_ls(plan, 40.2)),
    )
    assert early["end_time"] is None and early["last_lumisection_number"] == 20
    assert later["end_time"] is None and later["last_lumisection_number"] == 40
    assert later["last_update"] > early["last_update"] and later["duration"] > early["duration"]
    assert len(world.lumisections(plan.run_number, _at_ls(plan, 40.2))) == 40
    done = world.run(plan.run_number, plan.end_time + timedelta(hours=5))
    assert done["end_time"] is not None and done["last_lumisection_number"] == plan.ls_count
    assert done == world.run(plan.run_number, plan.end_time + timedelta(days=30))  # finished runs stay put
    assert (
        world.lumisections(plan.run_number, _at_ls(plan, 40.2))
        == world.lumisections(plan.run_number, plan.end_time)[:40]
    )


def test_runs_at_lists_only_started_runs_and_ls_counts_match(world: OmsWorld) -> None:
    now = _at_ls(world.plans[30], 12.7)
    runs = world.runs_at(now)
    assert [r["run_number"] for r in runs] == [p.run_number for p in world.plans[:31]]
    assert [r["end_time"] is None for r in runs] == [False] * 30 + [True]
    for run in runs[::6] + runs[-1:]:
        ls = world.lumisections(run["run_number"], now)
        assert len(ls) == run["last_lumisection_number"]
        assert [x["lumisection_number"] for x in ls] == list(range(1, len(ls) + 1))


def test_collisions_lumisections_are_realistic(world: OmsWorld) -> None:
    plan = next(p for p in world.plans if p.kind == "collisions" and p.pre_stable_ls >= 4)
    rows = world.lumisections(plan.run_number, plan.end_time)
    first, settled = rows[0], rows[plan.pre_stable_ls + 40]
    assert set(READY_KEYS) <= set(first) and len(READY_KEYS) == 30
    assert first["beam1_stable"] is False and first["tob_ready"] is False and first["bpix_ready"] is False
    assert first["beam1_present"] is True and first["physics_flag"] is False
    assert settled["beam1_stable"] is True and settled["tob_ready"] is True
    assert rows[-1]["init_lumi"] < settled["init_lumi"]  # luminosity decays over the run
    assert all(a["end_time"] == b["start_time"] for a, b in zip(rows, rows[1:], strict=False))
    assert len({r["prescale_index"] for r in rows}) >= 3
    run = world.run(plan.run_number, plan.end_time)
    assert sum(r["delivered_lumi"] for r in rows) == pytest.approx(run["delivered_lumi"], rel=1e-3)


def test_across_the_year_bits_drop_out_and_some_come_back_null(world: OmsWorld) -> None:
    drop_outs = nulls = castor_on = 0
    for plan in world.plans[:60]:
        rows = world.lumisection_rows(plan.run_number, plan.end_time)
        settled = rows[plan.pre_stable_ls + 35 :]
        drop_outs += any(r["ebp_ready"] is False or r["dtp_ready"] is False for r in settled)
        nulls += any(r["hf_ready"] is None or r["cscp_ready"] is None for r in rows)
        castor_on += any(r["castor_ready"] for r in rows)
    assert drop_outs >= 3 and nulls >= 1 and castor_on == 0


def test_lumisections_are_copies_and_generated_lazily_one_run_at_a_time() -> None:
    world = OmsWorld(seed=11)
    plan = max((p for p in world.plans if p.ls_count <= 3000), key=lambda p: p.ls_count)
    assert len(world._ls_cache) == 0  # building a 500-run world generates no lumisection yet
    rows = world.lumisections(plan.run_number, plan.end_time)
    assert len(rows) == plan.ls_count > 2500
    assert list(world._ls_cache) == [plan.run_number]  # only the run asked for
    rows[0]["bpix_ready"] = "tampered"
    assert world.lumisections(plan.run_number, plan.end_time)[0]["bpix_ready"] != "tampered"
    assert world.lumisections(999, plan.end_time) == [] and world.run(999, plan.end_time) is None
