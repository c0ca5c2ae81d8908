"""The DQM file simulator: layout and names, the MEs the shipped configs read, drifts, versions, faults."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import uproot

from runreg.simulators.dqm_files.generator import MISSING_ME, generate, me_key
from runreg.simulators.oms.world import OmsWorld
from runreg.trends.config import default_config_dir, read_tree
from runreg.trends.discovery import parse_name

WORLD = OmsWorld(runs=120)


@pytest.fixture(scope="module")
def manifest(tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201
    collisions = [p.run_number for p in WORLD.plans if p.kind == "collisions"]
    return generate(
        tmp_path_factory.mktemp("dqm"), world=WORLD, runs=[collisions[0], collisions[1], collisions[-1]]
    )


def test_files_follow_the_dqm_gui_layout_of_the_oms_runs(manifest) -> None:
    runs = {p.run_number for p in WORLD.plans}
    for f in manifest.files:
        name = parse_name(f.path.name)
        assert name is not None and name.run_number == f.run in runs
        assert (name.primary_dataset, name.processing_string) == (f.primary_dataset, f.processing_string)
        era, pd, block = f.path.parts[-4:-1]
        assert (era, pd, block) == (name.era, f.primary_dataset, f"{f.run // 100:07d}xx")
    assert {f.primary_dataset for f in manifest.files} == {"ZeroBias", "Muon-Tagged"}  # a PD with '-'
    assert any("-" in f.processing_string for f in manifest.files)
    assert sorted(f.version for f in manifest.files).count(2) == 2


def test_every_me_of_the_shipped_configs_is_in_a_good_file_and_one_is_missing_on_purpose(manifest) -> None:
    needed = read_tree(default_config_dir()).me_paths()
    good = next(f for f in manifest.files if not f.corrupt and not f.missing)
    with uproot.open(good.path) as handle:
        absent = [me for me in needed if me_key(good.run, me) not in handle]
    assert absent == []
    lacking = next(f for f in manifest.files if f.missing)
    with uproot.open(lacking.path) as handle:
        assert me_key(lacking.run, MISSING_ME) not in handle
        assert me_key(lacking.run, "PixelPhase1/Digis/adc_PXBarrel") in handle


def test_a_corrupt_file_cannot_be_read(manifest) -> None:
    corrupt = next(f for f in manifest.files if f.corrupt)
    with pytest.raises(Exception), uproot.open(corrupt.path) as handle:  # noqa: B017 — any read error will do
        handle[me_key(corrupt.run, "PixelPhase1/Digis/adc_PXBarrel")].values()


def _charge_mean(path: Path, run: int) -> float:
    with uproot.open(path) as handle:
        h = handle[me_key(run, "SiStrip/MechanicalView/TIB/Summary_ClusterStoNCorr_OnTrack__TIB")]
        return h.member("fTsumwx") / h.member("fTsumw")


def test_signal_drifts_down_over_the_year_and_versions_differ(manifest) -> None:
    last_run = max(f.run for f in manifest.files)
    early = next(f for f in manifest.files if f.primary_dataset == "ZeroBias" and f.version == 1)
    late = next(f for f in manifest.files if f.primary_dataset == "Muon-Tagged" and f.run == last_run)
    assert _charge_mean(early.path, early.run) > _charge_mean(late.path, late.run) + 0.5
    v1, v2 = (
        next(
            f
            for f in manifest.files
            if f.run == early.run and f.primary_dataset == "ZeroBias" and f.version == v
        )
        for v in (1, 2)
    )
    with uproot.open(v1.path) as a, uproot.open(v2.path) as b:
        key = me_key(early.run, "PixelPhase1/Digis/adc_PXBarrel")
        assert not np.array_equal(a[key].values(), b[key].values())
