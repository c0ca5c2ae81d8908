"""Offline component classification per segment gives what evaluating every LS in the offline context
would."""

from __future__ import annotations

import random
from typing import Any

import pytest

from runreg.classifiers import classify
from runreg.configuration.model import ComponentClassifier
from runreg.kernel.ranges import RangeMap

STATUSES = ("GOOD", "BAD", "STANDBY")


def random_ranges(rng: random.Random, ls_count: int, values: list[Any]) -> RangeMap:
    out = RangeMap()
    cuts = sorted(rng.sample(range(2, ls_count + 1), rng.randint(0, 5)))
    bounds = [1, *cuts, ls_count + 1]
    for first, stop in zip(bounds, bounds[1:], strict=False):
        if rng.random() < 0.9:  # sometimes a hole: the key is absent there
            out.assign(first, stop - 1, rng.choice(values))
    return out


def rules() -> list[ComponentClassifier]:
    """Rules reading an online component, a DCS bit, both, the run, or a whole side."""
    rr = {"var": "lumisection.rr.dt-dt.status"}
    cms_rule = {"and": [{"var": "lumisection.oms.cms_active"}, {">": [{"var": "run.oms.energy"}, 1]}]}
    specs = [
        ("dt-dt", "BAD", 1, {"==": [rr, "BAD"]}),
        ("dt-dt", "GOOD", 2, {"==": [rr, "GOOD"]}),
        ("csc-csc", "BAD", 1, {"==": [{"var": "lumisection.oms.cscp_ready"}, False]}),
        ("csc-csc", "GOOD", 2, {"and": [{"var": "lumisection.oms.cscp_ready"}, {"==": [rr, "GOOD"]}]}),
        ("cms-cms", "GOOD", 1, cms_rule),
        ("muon-muon", "STANDBY", 1, {"!": [{"var": "lumisection.rr.csc-csc"}]}),
        ("muon-muon", "GOOD", 2, {"some": [[1], {"var": "lumisection.oms.dtp_ready"}]}),
        ("tracker-strip", "GOOD", 1, {"!!": [{"var": "lumisection.oms"}]}),
    ]  # fmt: skip
    return [
        ComponentClassifier(component=c, mode="offline", status=s, priority=p, rule=r) for c, s, p, r in specs
    ]


@pytest.mark.parametrize("seed", range(25))
def test_per_segment_equals_per_ls(seed: int) -> None:
    rng = random.Random(seed)
    ls_count = rng.randint(1, 120)
    oms = {
        key: random_ranges(rng, ls_count, [True, False, None])
        for key in ("cscp_ready", "cms_active", "dtp_ready")
    }
    triplets = [{"status": s, "comment": "", "cause": ""} for s in STATUSES]
    flags = {c: random_ranges(rng, ls_count, triplets) for c in ("dt-dt", "csc-csc")}
    classifiers = classify.ComponentClassifierSet(rules(), mode="offline")
    run = {"oms_attributes": {"energy": rng.choice([0, 6800])}, "rr_attributes": {"class": "Collisions24"}}

    fast = classifiers.offline_statuses(**run, oms_per_ls=oms, flags_per_ls=flags, ls_count=ls_count)

    for component, compiled in classifiers.rules.items():
        slow = RangeMap()
        for ls in range(1, ls_count + 1):
            context = classify.context_for(**run, per_ls=oms, flags=flags, ls=ls, mode="offline")
            status = next((r.status for r in compiled if r.predicate(context)), "NO VALUE FOUND")
            slow.assign(ls, ls, {"status": status, "comment": "", "cause": ""})
        assert fast[component] == slow, component
