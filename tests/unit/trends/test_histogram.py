"""Our histogram value: ROOT's statistics, bin lookup, compact storage, and reading ROOT files with uproot."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import uproot

from runreg.simulators.dqm_files.catalogue import Filled, MonitorElement
from runreg.simulators.dqm_files.writer import to_root
from runreg.trends.histogram import Histogram
from runreg.trends.reading import histogram_of, read_histograms
from tests.unit.trends.builders import th1, th2

RNG = np.random.default_rng(7)


def test_moments_from_bins_match_numpy_on_the_bin_centres() -> None:
    samples = RNG.normal(5, 2, 5000)
    h = th1(samples, 50, 0, 10)
    inside = samples[(samples >= 0) & (samples < 10)]
    centres = np.floor(inside / 0.2) * 0.2 + 0.1
    assert math.isclose(h.mean(), centres.mean(), rel_tol=1e-9)
    assert math.isclose(h.std_dev(), centres.std(), rel_tol=1e-9)
    assert math.isclose(h.mean_error(), centres.std() / math.sqrt(inside.size), rel_tol=1e-9)
    assert math.isclose(h.std_dev_error(), centres.std() / math.sqrt(2 * inside.size), rel_tol=1e-9)


def test_find_bin_is_roots() -> None:
    h = th1([1.0], 10, 0, 10)
    assert [h.find_bin(v) for v in (-0.1, 0.0, 0.99, 1.0, 9.99, 10.0, 50)] == [0, 1, 1, 2, 10, 11, 11]


def test_storage_round_trip_keeps_everything() -> None:
    h = th2(RNG.normal(size=100), RNG.normal(size=100), 5, -2, 2, 4, -2, 2)
    back = Histogram.from_bytes(h.to_bytes())
    assert back.kind == "TH2" and back.entries == 100
    assert np.array_equal(back.values, h.values) and np.array_equal(back.errors, h.errors)
    assert np.array_equal(back.x_edges, h.x_edges) and np.array_equal(back.y_edges, h.y_edges)
    labelled = th1([0.5, 1.5], 2, 0, 2, labels=("a", "b"))
    assert Histogram.from_bytes(labelled.to_bytes()).label_bin("b") == 2


def _write(tmp_path: Path, me: MonitorElement, filled: Filled) -> Path:
    path = tmp_path / "f.root"
    with uproot.recreate(path) as out:
        out["DQMData/Run 1/Top/Run summary/dir/" + me.path.rsplit("/", 1)[-1]] = to_root(me, filled)
    return path


def test_a_th1_read_from_root_uses_the_stored_fill_statistics(tmp_path: Path) -> None:
    samples = RNG.exponential(3, 4000)
    me = MonitorElement("Top/dir/pt", "TH1", (20, 0, 10), lambda *_: Filled(), labels=())
    path = _write(tmp_path, me, Filled(x=samples))
    found, missing = read_histograms(path, 1, ["Top/dir/pt", "Top/dir/absent"])
    h = found["Top/dir/pt"]
    inside = samples[samples < 10]
    assert missing == {"Top/dir/absent": "not in the file"}
    assert h.entries == 4000 and h.kind == "TH1"
    assert math.isclose(h.mean(), inside.mean(), rel_tol=1e-12)  # the exact mean, not the bin centres'
    assert math.isclose(h.std_dev(), inside.std(), rel_tol=1e-9)
    assert h.content(21) == (samples >= 10).sum()  # overflow kept


def test_a_profile_and_a_labelled_axis_are_read(tmp_path: Path) -> None:
    x, y = RNG.uniform(0, 4, 1000), RNG.normal(10, 1, 1000)
    me = MonitorElement("Top/dir/prof", "TProfile", (4, 0, 4), lambda *_: Filled())
    with uproot.open(_write(tmp_path, me, Filled(x=x, y=y))) as f:
        h = histogram_of(f["DQMData/Run 1/Top/Run summary/dir/prof"])
    expected = [y[(x >= k) & (x < k + 1)].mean() for k in range(4)]
    assert h.kind == "TProfile" and np.allclose(h.in_range(), expected)
    assert math.isclose(h.mean(2), y.mean(), rel_tol=1e-12)
    assert np.array_equal(h.bin_entries[1:-1], [((x >= k) & (x < k + 1)).sum() for k in range(4)])
    labelled = MonitorElement("Top/dir/lab", "TH1", (2, 0, 2), lambda *_: Filled(), labels=("Good", "Bad"))
    with uproot.open(_write(tmp_path, labelled, Filled(x=np.array([0.5, 1.5, 1.5])))) as f:
        h = histogram_of(f["DQMData/Run 1/Top/Run summary/dir/lab"])
    assert h.x_labels == ("Good", "Bad") and h.content(h.label_bin("Bad")) == 2


def test_a_corrupt_file_is_unreadable(tmp_path: Path) -> None:
    import pytest

    from runreg.trends.reading import UnreadableFile

    bad = tmp_path / "bad.root"
    bad.write_bytes(b"root\x00garbage")
    with pytest.raises(UnreadableFile):
        read_histograms(bad, 1, ["A/b"])
