"""Failing golden-JSON rules are blamed on subsystems by the DCS bits and RR columns they read (spec §8.4)."""

from __future__ import annotations

import pytest

from runreg.certification.subsystems import (
    RUN_CONDITIONS,
    lost_by_subsystem,
    subsystem_of_variable,
    subsystems_of_rule,
)


@pytest.mark.parametrize(
    ("variable", "subsystem"),
    [
        ("lumisection.oms.tibtid_ready", "strip"),
        ("lumisection.oms.tecm_ready", "strip"),
        ("lumisection.oms.tob_ready", "strip"),
        ("lumisection.oms.bpix_ready", "pixel"),
        ("lumisection.oms.fpix_ready", "pixel"),
        ("lumisection.oms.hbheb_ready", "hcal"),
        ("lumisection.oms.hf_ready", "hcal"),
        ("lumisection.oms.ho_ready", "hcal"),
        ("lumisection.oms.dt0_ready", "dt"),
        ("lumisection.oms.cscp_ready", "csc"),
        ("lumisection.oms.eep_ready", "ecal"),
        ("lumisection.oms.esm_ready", "es"),
        ("lumisection.oms.rpc_ready", "rpc"),
        ("lumisection.oms.castor_ready", "castor"),
        ("lumisection.oms.cms_active", "cms"),
        ("lumisection.oms.beam1_stable", "beams"),
        ("lumisection.oms.zdc_ready", "zdc"),  # not in the map: its own name
        ("lumisection.rr.tracker-pixel", "pixel"),
        ("lumisection.rr.tracker-strip", "strip"),
        ("lumisection.rr.tracker-track", "tracking"),
        ("lumisection.rr.ecal-es", "es"),
        ("lumisection.rr.ecal-ecal", "ecal"),
        ("lumisection.rr.dt-dt", "dt"),
        ("lumisection.rr.l1t-l1tmu", "l1t"),
        ("lumisection.rr.dc-lowlumi", "dc"),
        ("run.oms.energy", RUN_CONDITIONS),
        ("dataset.name", RUN_CONDITIONS),
    ],
)
def test_each_variable_belongs_to_its_subsystem(variable: str, subsystem: str) -> None:
    assert subsystem_of_variable(variable) == subsystem


def test_a_rule_is_blamed_on_every_subsystem_it_reads() -> None:
    rule = {"and": [{"var": "lumisection.oms.tob_ready"}, {"==": [{"var": "lumisection.rr.dt-dt"}, "GOOD"]}]}
    assert subsystems_of_rule(rule) == ("dt", "strip")
    assert subsystems_of_rule({"==": [1, 1]}) == (RUN_CONDITIONS,)


def test_lost_luminosity_per_subsystem_is_exclusive_when_one_subsystem_alone_fails() -> None:
    tob = {"==": [{"var": "lumisection.oms.tob_ready"}, True]}
    tecp = {"==": [{"var": "lumisection.oms.tecp_ready"}, True]}
    dt = {"==": [{"var": "lumisection.rr.dt-dt"}, "GOOD"]}
    combinations = [
        {"rules": [tob], "ls": 4, "recorded": 0.4},
        {"rules": [tob, tecp], "ls": 2, "recorded": 0.2},  # both strip: still strip alone
        {"rules": [tob, dt], "ls": 3, "recorded": 0.3},
        {"rules": [dt], "ls": 1, "recorded": 0.1},
    ]
    rows = {row["subsystem"]: row for row in lost_by_subsystem(combinations)}
    assert rows["strip"]["ls"] == 9 and rows["strip"]["exclusive_ls"] == 6
    assert rows["strip"]["recorded"] == pytest.approx(0.9)
    assert rows["strip"]["exclusive_recorded"] == pytest.approx(0.6)
    assert rows["dt"]["ls"] == 4 and rows["dt"]["exclusive_ls"] == 1
    assert [row["subsystem"] for row in lost_by_subsystem(combinations)] == ["strip", "dt"]
