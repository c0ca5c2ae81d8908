"""L1T turn-on metrics, muon metrics and the HCAL RBX metrics against independent computations."""

from __future__ import annotations

import math

import numpy as np
import pytest

from runreg.trends.metrics import Inputs, Undefined, hcal, l1t, muon
from tests.unit.trends.builders import from_contents, map2d, th1

CURVE = np.array([0, 0, 0.1, 0.3, 0.5, 0.7, 0.9, 0.95, 0.95, 0.95])
ERRORS = np.array([0, 0, 0.01, 0.02, 0.02, 0.02, 0.01, 0.01, 0.01, 0.01])
TURN_ON = from_contents(CURVE, 0, 100, errors=ERRORS)  # bins 10 wide, centres 5, 15, ...


def run(metric, main, **others):  # noqa: ANN001, ANN201
    return metric.compute(Inputs(main=main, run=1, **others))


def test_efficiency_mean_and_spread() -> None:
    keep = CURVE > 0
    w = (CURVE[keep] / ERRORS[keep]) ** 2
    mean = (w * CURVE[keep]).sum() / w.sum()
    assert np.allclose(run(l1t.EffMean(), TURN_ON), (mean, mean / math.sqrt(w.sum())))
    std = math.sqrt((w * (CURVE[keep] - mean) ** 2).sum() / w.sum())
    assert np.allclose(run(l1t.EffVariance(), TURN_ON), (std, std / math.sqrt(2 * (keep.sum() - 1))))


def test_turn_on_points_interpolate_linearly() -> None:
    # 0.5 is reached exactly at bin 5 (centre 45); 0.6 lies between 45 (0.5) and 55 (0.7) -> 50
    assert run(l1t.TurnOnCurveEffPoint(0.6), TURN_ON) == (50.0, round(10 / math.sqrt(12), 2))
    x20 = 25 + (0.2 - 0.1) * 10 / 0.2  # between 25 (0.1) and 35 (0.3)
    x80 = 55 + (0.8 - 0.7) * 10 / 0.2
    assert run(l1t.TurnOnCurveHalfWidth(), TURN_ON)[0] == pytest.approx(round(x80, 2) - round(x20, 2))
    with pytest.raises(Undefined, match="never crosses"):
        run(l1t.TurnOnCurveEffPoint(0.99), TURN_ON)


def test_plateau_and_range() -> None:
    curve = np.array([0, 0, 0.1, 0.5, 0.9, 0.95, 0.96, 0.94, 0.95, 0.97, 0.95, 0.96])
    errors = np.where(curve > 0, 0.01, 0.0)
    h = from_contents(curve, 0, 120, errors=errors)
    # x(0.5) = 35; x(0.2) = 25 + 0.1·10/0.4 = 27.5; x(0.8) = 35 + 0.3·10/0.4 = 42.5
    # -> plateau from 35 + 2·15 = 65
    keep = slice(6, 12)  # centres 65 .. 115
    w = (curve[keep] / errors[keep]) ** 2
    assert run(l1t.TurnOnPlateauEff(), h)[0] == pytest.approx((w * curve[keep]).sum() / w.sum())
    mid, half = run(l1t.TurnOnCurveRange(), TURN_ON)
    assert (mid, half) == ((15 + 95) / 2, (95 - 15) / 2)  # starts after bin 2 (centre 15), never 1
    with pytest.raises(Undefined):
        run(l1t.TauSavePlots(), TURN_ON)


def test_muon_metrics() -> None:
    samples = np.random.default_rng(3).exponential(20, 3000)
    h = th1(samples, 50, 0, 100)
    inside = ((samples >= 10) & (samples < 52)).sum()  # bins FindBin(10)=6 .. FindBin(50)=26 -> [10, 52)
    assert run(muon.NOutsideRange(10.0, 50.0), h) == (3000 - inside, 0.0)
    cells = np.arange(24, dtype=float).reshape(6, 4)
    m = map2d(cells)
    m.values[0, 3] = 999.0  # underflow column: excluded now
    assert run(muon.MeanCh(3), m) == (cells[:, 2].mean(), 0.0)


def test_the_rbx_map_covers_each_partition_once() -> None:
    rbxs = hcal.rbx_map()
    hb = [rbx for rbx in rbxs if rbx.startswith("HB")]
    assert len(hb) == 36 and len([r for r in rbxs if r.startswith("HE")]) == 36
    cells = {(eta, phi) for rbx in hb for eta, phi, depth in rbxs[rbx] if depth == 1}
    assert len(cells) == 2 * 16 * 72  # every HB (ieta, iphi) exactly once
    assert {phi for _, phi, _ in rbxs["HBP01"]} == {71, 72, 1, 2}


def _depth_maps() -> tuple[object, object, object]:
    maps = []
    for depth in (1, 2, 3):
        cells = np.full((85, 72), float(depth * 10))
        maps.append(map2d(cells))
    return tuple(maps)


def test_rbx_mean_reads_each_depth_from_its_own_map() -> None:
    d1, d2, d3 = _depth_maps()
    channels = hcal.rbx_map()["HBM01"]
    per_depth = {d: sum(1 for _, _, dd in channels if dd == d) for d in (1, 2, 3)}
    expected = (10 * per_depth[1] + 20 * per_depth[2] + 30 * per_depth[3]) / sum(per_depth.values())
    assert run(hcal.RBXMean("HBM01", (1, 2, 3)), d1, histo1=d2, histo2=d3) == (expected, 0.0)
    assert run(hcal.RBXCountNonZeroChan("HBM01", (1, 2, 3)), d1, histo1=d2, histo2=d3) == (
        float(sum(per_depth.values())),
        0.0,
    )
    eta, phi, _ = channels[0]
    d2.values[eta, phi] = 0.0  # a dead depth-2 channel no longer counts
    count, _ = run(hcal.RBXCountNonZeroChan("HBM01", (1, 2, 3)), d1, histo1=d2, histo2=d3)
    assert count == sum(per_depth.values()) - 1
    with pytest.raises(Undefined, match="unknown RBX"):
        run(hcal.RBXMean("XYZ99", (1,)), d1)
