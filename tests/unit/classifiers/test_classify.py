"""Classification of runs and of component statuses per LS segment (rr_backend §4.6)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from runreg.classifiers import classify
from runreg.configuration.model import default_configuration
from runreg.kernel.lsdiff import per_key_ranges
from runreg.kernel.ranges import RangeMap


@dataclass
class Rule:
    rule: Any
    priority: int = 0
    enabled: bool = True
    class_name: str = ""
    component: str = "dt-dt"
    status: str = "GOOD"
    mode: str = "online"


def test_lowest_priority_truthy_enabled_class_rule_wins() -> None:
    rules = [
        Rule({"in": ["/cdaq/physics/", {"var": "hlt_key"}]}, priority=5, class_name="Collisions24"),
        Rule({"in": ["/cdaq/", {"var": "hlt_key"}]}, priority=10, class_name="Commissioning24"),
        Rule(True, priority=1, class_name="Disabled", enabled=False),
    ]
    assert classify.run_class({"hlt_key": "/cdaq/physics/Run2024/v1"}, rules) == "Collisions24"
    assert classify.run_class({"hlt_key": "/cdaq/special/x"}, rules) == "Commissioning24"
    assert classify.run_class({"hlt_key": "/other"}, rules) == ""


def test_significance_needs_an_enabled_rule_of_the_run_class() -> None:
    rules = [
        Rule({">": [{"var": "hlt_physics_counter"}, 1000]}, class_name="Collisions24"),
        Rule(True, class_name="Cosmics24", enabled=False),
    ]
    assert classify.is_significant({"hlt_physics_counter": 5000}, "Collisions24", rules)
    assert not classify.is_significant({"hlt_physics_counter": 10}, "Collisions24", rules)
    assert not classify.is_significant({}, "Cosmics24", rules)
    assert not classify.is_significant({"hlt_physics_counter": 5000}, "", rules)


def test_reduced_ls_attributes_are_true_if_true_somewhere_and_null_is_false() -> None:
    per_key = per_key_ranges([{"a": False, "b": None, "c": None}, {"a": True, "b": False, "c": None}])
    assert classify.reduce_ls_attributes(per_key) == {"a": True, "b": False, "c": False}


def test_segments_split_at_every_boundary_and_drop_missing_keys() -> None:
    per_key = {"x": RangeMap([(1, 4, True), (5, 10, False)]), "y": RangeMap([(3, 6, 1)])}
    assert classify.segments(per_key, 10) == [
        (1, 2, {"x": True}),
        (3, 4, {"x": True, "y": 1}),
        (5, 6, {"x": False, "y": 1}),
        (7, 10, {"x": False}),
    ]


def test_component_statuses_priority_and_no_value_found() -> None:
    rules = classify.ComponentClassifierSet(
        [
            Rule({"==": [{"var": "dtp_ready"}, True]}, priority=4, status="GOOD"),
            Rule({"==": [{"var": "dtp_ready"}, False]}, priority=3, status="BAD"),
            Rule({"!": [{"var": "dt_included"}]}, priority=1, status="EXCLUDED"),
            Rule(True, priority=0, status="STANDBY", mode="offline"),
        ]
    )
    per_ls = per_key_ranges([{"dtp_ready": True}] * 3 + [{"dtp_ready": False}] * 2 + [{"dtp_ready": None}])

    included = rules.statuses({"dt_included": True}, per_ls, 6)["dt-dt"]
    excluded = rules.statuses({}, per_ls, 6)["dt-dt"]

    assert [(f, last, v["status"]) for f, last, v in included] == [
        (1, 3, "GOOD"),
        (4, 5, "BAD"),
        (6, 6, "NO VALUE FOUND"),
    ]
    assert [(f, last, v["status"]) for f, last, v in excluded] == [(1, 6, "EXCLUDED")]


def test_default_configuration_classifies_a_clean_collision_ls_good() -> None:
    config = default_configuration()
    rules = classify.ComponentClassifierSet(config.component_classifiers)
    bits = {key: True for key in rules.keys_read if key.endswith("_ready")} | {
        "cms_active": True,
        "beam1_present": True,
        "beam2_present": True,
        "beam1_stable": True,
        "beam2_stable": True,
    }
    run_context = {
        f"{name}_included": True
        for name in ("tracker", "pixel", "dt", "csc", "ecal", "es", "hcal", "rpc", "gem", "ctpps", "castor")
    }
    statuses = rules.statuses(run_context, per_key_ranges([bits] * 5), 5)
    assert statuses["tracker-pixel"].items() == [(1, 5, {"status": "GOOD", "comment": "", "cause": ""})]
    assert statuses["dt-dt"].get(3)["status"] == "GOOD"
    off = per_key_ranges([bits] * 2 + [{**bits, "bpix_ready": False}] * 3)
    assert rules.statuses(run_context, off, 5)["tracker-pixel"].get(4)["status"] == "BAD"


def test_context_for_the_run_and_for_one_lumisection() -> None:
    per_ls = {
        "bpix_ready": RangeMap([(1, 5, True), (6, 9, False)]),
        "beam1_stable": RangeMap([(3, 9, True)]),
    }
    oms = {"hlt_key": "/cdaq/physics/v1", "beams_present_and_stable": True, "energy": 6800}
    rr = {"class": "Collisions24", "beams_present_and_stable": False}

    run = classify.context_for(oms_attributes=oms, rr_attributes=rr, per_ls=per_ls)
    # LS bits reduced over the run (true if true on some LS), then OMS, then RR on top.
    assert run == {
        "bpix_ready": True,
        "beam1_stable": True,
        "hlt_key": "/cdaq/physics/v1",
        "energy": 6800,
        "beams_present_and_stable": False,
        "class": "Collisions24",
    }
    ls2 = classify.context_for(oms_attributes=oms, rr_attributes=rr, per_ls=per_ls, ls=2)
    # Component rules see the OMS-derived beams_present_and_stable, and only the values the LS has.
    assert ls2 == {
        "hlt_key": "/cdaq/physics/v1",
        "energy": 6800,
        "beams_present_and_stable": True,
        "class": "Collisions24",
        "bpix_ready": True,
    }
    assert (
        classify.context_for(oms_attributes=oms, rr_attributes=rr, per_ls=per_ls, ls=7)["bpix_ready"] is False
    )
