"""DQM files and a small config tree shared by the trends contract and functional tests."""

from __future__ import annotations

import shutil
from pathlib import Path

import uproot

from runreg.simulators.dqm_files.generator import generate, me_key
from runreg.simulators.oms.world import OmsWorld
from runreg.trends.config import read_tree

WORLD = OmsWorld(runs=16)
RUNS = [380006, 380007, 380009, 380012, 380013]
ADC = "PixelPhase1/Digis/adc_PXBarrel"
CHARGE = "PixelPhase1/Tracks/charge_PXBarrel"  # missing from the second file of ZeroBias
TREE = {
    "PixelPhase1/digis.ini": f"""
[plot:ADC_mean]
metric = basic.Mean()
relativePath = {ADC}
yTitle = ADC

[plot:Charge_count]
metric = basic.Count()
relativePath = {CHARGE}
yTitle = clusters

[group:ADC]
series = ADC_mean, Charge_count
""",
    "Tracker/tracks.ini": """
[plot:NumberOfTrack_mean]
metric = basic.Mean()
relativePath = Tracking/TrackParameters/GeneralProperties/NumberOfTracks_GenTk
yTitle = tracks
""",
}


def make_files(root: Path):  # noqa: ANN201
    return generate(
        root,
        world=WORLD,
        runs=RUNS,
        datasets=(("ZeroBias", "PromptReco"), ("Muon-Tagged", "ReReco-Pix-2024")),
    )


def write_tree(root: Path, files: dict[str, str] = TREE):  # noqa: ANN201
    if root.exists():
        shutil.rmtree(root)
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return read_tree(root)


def root_mean(path: Path, run: int, me: str) -> float:
    """The ME's mean from ROOT's own fill sums, read with uproot alone."""
    with uproot.open(path) as f:
        h = f[me_key(run, me)]
        return h.member("fTsumwx") / h.member("fTsumw")


def root_entries(path: Path, run: int, me: str) -> float:
    with uproot.open(path) as f:
        return float(f[me_key(run, me)].member("fEntries"))
