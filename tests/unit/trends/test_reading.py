"""The streamer decoder gives exactly what uproot's object model gives, on the simulator's files and on every
histogram class and shape of axis it claims; what it does not know falls back to uproot."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import uproot
from uproot.writing import identify

from runreg.simulators.dqm_files.generator import generate
from runreg.simulators.oms.world import OmsWorld
from runreg.trends import reading
from runreg.trends.histogram import Histogram
from runreg.trends.streamers import Unsupported, decode

FIELDS = ("kind", "values", "errors", "x_edges", "y_edges", "entries", "stats", "bin_entries")


def assert_same(fast: Histogram, slow: Histogram) -> None:
    for name in FIELDS:
        a, b = getattr(fast, name), getattr(slow, name)
        if isinstance(b, np.ndarray):
            assert isinstance(a, np.ndarray) and a.dtype == b.dtype and a.shape == b.shape, name
            assert np.array_equal(a, b, equal_nan=True), name
        else:
            assert a == b, name
    assert (fast.x_labels, fast.y_labels) == (slow.x_labels, slow.y_labels)


def decoded(key) -> Histogram:  # noqa: ANN001 — an uproot key; the decoder, never the fallback
    chunk, cursor = key.get_uncompressed_chunk_cursor()
    data = memoryview(chunk.raw_data)[cursor.index - chunk.start :]
    return Histogram(**vars(decode(key.fClassName, data, key.fKeylen)))


def histogram_keys(handle) -> list:  # noqa: ANN001 — an open uproot file
    return [
        (handle.key(name), handle[name])
        for name, classname in handle.classnames(recursive=True).items()
        if classname.startswith(("TH", "TProfile"))
    ]


def test_every_me_of_the_simulator_decodes_as_uproot_reads_it(tmp_path: Path) -> None:
    world = OmsWorld(runs=40)
    manifest = generate(
        tmp_path, world=world, runs=[world.plans[0].run_number], datasets=(("ZeroBias", "PromptReco"),),
        second_versions=0, corrupt=False, missing_me=False,
    )  # fmt: skip
    classes, labelled = set(), 0
    for f in manifest.files:
        with uproot.open(f.path) as handle:
            for key, obj in histogram_keys(handle):
                fast, slow = decoded(key), reading.histogram_of(obj)
                assert_same(fast, slow)
                classes.add(key.fClassName)
                labelled += bool(fast.x_labels)
    assert classes == {"TH1D", "TH2D", "TProfile"} and labelled >= 3


def _axis(n: int, low: float, high: float, **kwargs):  # noqa: ANN003, ANN202
    return identify.to_TAxis("xaxis", "", n, low, high, **kwargs)


def _th1(dtype: str, *, sumw2: bool = True, axis=None, title: str = "t"):  # noqa: ANN001, ANN202
    contents = np.array([1, 3, 0, 7, 2, 5, 1], dtype=dtype)  # 5 bins and the flow bins
    return identify.to_TH1x(
        fName="h", fTitle=title, data=contents, fEntries=19.0, fTsumw=17.0, fTsumw2=25.0, fTsumwx=40.5,
        fTsumwx2=120.25, fSumw2=contents.astype(float) * 1.5 if sumw2 else np.array([], float),
        fXaxis=axis or _axis(5, 0.0, 5.0),
    )  # fmt: skip


def _th2(dtype: str):  # noqa: ANN202
    rng = np.random.default_rng(2)
    contents = rng.integers(0, 9, (4 + 2) * (3 + 2)).astype(dtype)
    return identify.to_TH2x(
        fName="m", fTitle="m", data=contents, fEntries=80.0, fTsumw=70.0, fTsumw2=90.0, fTsumwx=10.0,
        fTsumwx2=30.0, fTsumwy=12.0, fTsumwy2=33.0, fTsumwxy=5.0, fSumw2=contents.astype(float) * 2.0,
        fXaxis=_axis(4, -2.0, 2.0), fYaxis=identify.to_TAxis("yaxis", "", 3, 0.0, 3.0),
    )  # fmt: skip


def _profile():  # noqa: ANN202
    entries = np.array([0, 4, 2, 0, 3, 1], dtype=float)
    sums = np.array([0, 8.0, 3.0, 0, 9.5, 2.0])
    return identify.to_TProfile(
        fName="p", fTitle="p", data=sums, fEntries=10.0, fTsumw=10.0, fTsumw2=12.0, fTsumwx=20.0,
        fTsumwx2=50.0, fTsumwy=22.5, fTsumwy2=60.0, fSumw2=np.array([0, 17.0, 5.0, 0, 31.0, 4.0]),
        fBinEntries=entries, fBinSumw2=entries * 1.2, fXaxis=_axis(4, 0.0, 4.0),
    )  # fmt: skip


def _profile_2d():  # noqa: ANN202
    rng = np.random.default_rng(4)
    cells = (3 + 2) * (2 + 2)
    entries = rng.integers(0, 4, cells).astype(float)
    sums = entries * rng.uniform(1, 3, cells)
    return identify.to_TProfile2D(
        fName="q", fTitle="q", data=sums, fEntries=entries.sum(), fTsumw=entries.sum(), fTsumw2=entries.sum(),
        fTsumwx=1.0, fTsumwx2=2.0, fTsumwy=3.0, fTsumwy2=4.0, fTsumwxy=5.0, fTsumwz=sums.sum(),
        fTsumwz2=(sums**2).sum(), fSumw2=sums**2 / np.maximum(entries, 1) + 0.5, fBinEntries=entries,
        fBinSumw2=entries, fXaxis=_axis(3, 0.0, 3.0), fYaxis=identify.to_TAxis("yaxis", "", 2, 0.0, 1.0),
    )  # fmt: skip


CASES = {
    "TH1D": lambda: _th1("f8"),
    "TH1F": lambda: _th1("f4"),
    "TH1I": lambda: _th1("i4"),
    "TH1S": lambda: _th1("i2"),
    "TH1C": lambda: _th1("i1"),
    "TH1D without sumw2 (errors from contents)": lambda: _th1("f8", sumw2=False),
    "TH1D with variable bins": lambda: _th1(
        "f8", axis=_axis(5, 0.0, 9.0, fXbins=np.array([0, 1, 2, 4, 6, 9.0]))
    ),
    "TH1D with labels": lambda: _th1(
        "f8",
        axis=_axis(
            5,
            0.0,
            5.0,
            fLabels=identify.to_THashList(
                [identify.to_TObjString(s) for s in ("a", "bb", "c c", "d" * 300, "é")]
            ),
        ),
    ),  # fmt: skip
    "TH1D with fewer labels than bins": lambda: _th1(
        "f8",
        axis=_axis(
            5, 0.0, 5.0, fLabels=identify.to_THashList([identify.to_TObjString(s) for s in ("a", "b")])
        ),
    ),  # fmt: skip
    "TH1D with a long title": lambda: _th1("f8", title="x" * 300),
    "TH2D": lambda: _th2("f8"),
    "TH2F": lambda: _th2("f4"),
    "TH2I": lambda: _th2("i4"),
    "TProfile": _profile,
    "TProfile2D": _profile_2d,
}


@pytest.mark.parametrize("case", CASES)
def test_each_class_decodes_as_uproot_reads_it(tmp_path: Path, case: str) -> None:
    path = tmp_path / "one.root"
    with uproot.recreate(path) as out:
        out["dir/h"] = CASES[case]()
    with uproot.open(path) as handle:
        ((key, obj),) = histogram_keys(handle)
        assert key.fClassName == case.split()[0]
        assert_same(decoded(key), reading.histogram_of(obj))
        assert_same(reading.read_key(handle["dir"].key("h")), reading.histogram_of(obj))


def test_what_the_decoder_does_not_know_is_read_by_uproot(tmp_path: Path) -> None:
    path = tmp_path / "other.root"
    with uproot.recreate(path) as out:
        out["h"] = _th1("f8")
        out["modified"] = _th1("f8", axis=_axis(5, 0.0, 5.0, fModLabs=identify.to_TList([])))
    with uproot.open(path) as handle:
        key = handle.key("h")
        chunk, cursor = key.get_uncompressed_chunk_cursor()
        data = bytearray(chunk.raw_data[cursor.index - chunk.start :])
        data[4:6] = (2).to_bytes(2, "big")  # a TH1D version this decoder has never seen
        with pytest.raises(Unsupported, match="version 2"):
            decode("TH1D", bytes(data), key.fKeylen)
        with pytest.raises(Unsupported, match="TH3D"):
            decode("TH3D", bytes(data), key.fKeylen)
        with pytest.raises(Unsupported, match="modified axis labels"):
            decoded(handle.key("modified"))
        assert_same(reading.read_key(handle.key("modified")), reading.histogram_of(handle["modified"]))
