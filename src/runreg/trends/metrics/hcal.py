"""The `hcal_metrics`: occupancy of the channels of one readout box (RBX) over up to three depth maps.

The RBX map is derived from the HCAL geometry instead of the original's hand-written table: an HB/HE RBX
serves 4 iphi × one side's ieta range; an HO ring-sector RBX serves 6 iphi of its ring. Maps are
ieta × iphi with ieta -42..42 in bins 1..85 and iphi 1..72 in bins 1..72 (hdqm §4.5).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np

from runreg.trends.histogram import Histogram
from runreg.trends.metrics.base import Inputs, Metric, Undefined, register, require_2d

hcal = register("hcal_metrics")
Channel = tuple[int, int, int]  # (ieta bin, iphi bin, depth)
_PARTITIONS = {"HB": (range(1, 17), range(1, 5)), "HE": (range(16, 30), range(1, 8))}
_HO_RINGS = {
    "0": range(1, 5),
    "1P": range(5, 11),
    "2P": range(11, 16),
    "1M": range(5, 11),
    "2M": range(11, 16),
}


def eta_bin(ieta: int) -> int:
    return ieta + 43


@cache
def rbx_map() -> dict[str, tuple[Channel, ...]]:
    rbxs: dict[str, tuple[Channel, ...]] = {}
    for part, (ietas, depths) in _PARTITIONS.items():
        for side, sign in (("M", -1), ("P", 1)):
            for number in range(1, 19):
                phis = [(4 * (number - 1) - 2 + k) % 72 + 1 for k in range(4)]
                rbxs[f"{part}{side}{number:02d}"] = tuple(
                    (eta_bin(sign * ieta), phi, depth) for ieta in ietas for phi in phis for depth in depths
                )
    for ring, ietas in _HO_RINGS.items():
        sign = -1 if ring.endswith("M") else 1
        for number in range(1, 13):
            phis = [(6 * (number - 1) - 2 + k) % 72 + 1 for k in range(6)]
            rbxs[f"HO{ring}{number:02d}"] = tuple(
                (eta_bin(sign * ieta), phi, 4) for ieta in ietas for phi in phis
            )
    return rbxs


@cache
def _cells(rbx: str, depth: int, nx: int, ny: int) -> tuple[np.ndarray, np.ndarray]:
    """(ieta bins, iphi bins) of the RBX's channels at one depth that lie in an nx × ny map, as index
    arrays."""
    chosen = [(eta, phi) for eta, phi, d in rbx_map()[rbx] if d == depth]
    eta = np.array([c[0] for c in chosen], dtype=int)
    phi = np.array([c[1] for c in chosen], dtype=int)
    inside = (eta > 0) & (eta < min(86, nx + 1)) & (phi > 0) & (phi < min(73, ny + 1))
    return eta[inside], phi[inside]


def _live_channels(inputs: Inputs, rbx: str, depths: tuple[int, ...]) -> np.ndarray:
    """Contents of the RBX's non-zero channels, each read from the map of its own depth."""
    if rbx not in rbx_map():
        raise Undefined(f"unknown RBX {rbx!r}")
    if not 1 <= len(depths) <= 3:
        raise Undefined("depths names one to three depth maps")
    maps: list[Histogram | None] = [inputs.main, inputs.histo1, inputs.histo2]
    found = []
    for slot, depth in enumerate(depths):
        h = maps[slot]
        if h is None:
            raise Undefined(f"the map of depth {depth} ({('main', 'histo1', 'histo2')[slot]}) is missing")
        require_2d(h, "RBX metrics")
        eta, phi = _cells(rbx, depth, h.nx, h.ny)
        contents = h.values[eta, phi]
        found.append(contents[contents != 0])
    return np.concatenate(found)


@hcal
@dataclass(frozen=True)
class RBXMean(Metric):
    """Mean content of the RBX's non-zero channels (the original read every depth from the main map)."""

    rbx: str
    depths: tuple[int, ...]

    def compute(self, inputs: Inputs) -> tuple[float, float]:
        values = _live_channels(inputs, self.rbx, self.depths)
        if values.size == 0:
            raise Undefined(f"no live channel in {self.rbx}")
        return float(values.mean()), 0.0


@hcal
@dataclass(frozen=True)
class RBXCountNonZeroChan(Metric):
    rbx: str
    depths: tuple[int, ...]

    def compute(self, inputs: Inputs) -> tuple[float, float]:
        return float(_live_channels(inputs, self.rbx, self.depths).size), 0.0
