"""The simulated brilcalc CSV reads back through runreg's own parser as OMS's values times the correction."""

from __future__ import annotations

import pytest

from runreg.luminosity import model
from runreg.simulators.brilcalc import byls_lines
from runreg.simulators.oms.world import OmsWorld


def test_the_csv_parses_to_the_worlds_luminosity_scaled_by_the_correction() -> None:
    world = OmsWorld(runs=3)
    text = "\n".join(byls_lines(world, at=world.end, normtag="normtag_x.json", correction=0.985)) + "\n"
    parsed = model.parse_brilcalc(text)
    assert parsed.normtag == "normtag_x.json"
    assert sorted(parsed.series) == sorted(p.run_number for p in world.plans)
    for series in parsed.series.values():
        online = model.from_oms(series.run_number, world.lumisection_rows(series.run_number, world.end))
        assert series.ls_count == online.ls_count
        assert series.total("recorded") == pytest.approx(0.985 * online.total("recorded"), rel=1e-4, abs=1e-6)


def test_only_the_runs_asked_for_and_known_at_that_time() -> None:
    world = OmsWorld(runs=3)
    first, second = world.plans[0], world.plans[1]
    text = "\n".join(byls_lines(world, at=second.start_time, runs=[first.run_number, second.run_number]))
    parsed = model.parse_brilcalc(text + "\n")
    assert list(parsed.series) == [first.run_number]  # the second has not started
