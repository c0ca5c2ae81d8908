"""The .ini config tree: metric expressions parsed (never evaluated), problems named by file, section, key."""

from __future__ import annotations

from pathlib import Path

import pytest

from runreg.trends import config
from runreg.trends.config import MetricSyntaxError, parse_file, parse_metric, read_tree
from runreg.trends.metrics import REGISTRY
from runreg.trends.metrics.basic import BinCount
from runreg.trends.metrics.fits import Landau
from runreg.trends.metrics.hcal import RBXMean

GOOD = """
[plot:Ntracks_Pixel]
metric = basic.BinCount(2)
relativePath = PixelPhase1/Tracks/ntracks
plotTitle = Pixel number of tracks
yTitle = Number of Tracks in Pixel
threshold = 10
runOffset = 3
"""


def test_metric_expressions_become_typed_instances() -> None:
    assert parse_metric("basic.BinCount(16,False)") == BinCount(16, False)
    landau = parse_metric("fits.Landau(0, 16., 24., (18.,2.))")
    assert landau == Landau(0, 16.0, 24.0, (18.0, 2.0))
    assert parse_metric("hcal_metrics.RBXMean('HBM01',[1,2,3])") == RBXMean("HBM01", (1, 2, 3))
    assert parse_metric("fits.Landau(par=1, min=-4, max=10)").min == -4.0  # ints widen to floats


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("basic.Nope()", "unknown metric 'basic.Nope'"),
        ("os.system('rm -rf /')", "unknown metric 'os.system'"),
        ("basic.Mean(__import__('os'))", "is not a literal"),
        ("basic.BinCount(2 + len('x'))", "is not a literal"),
        ("basic.Mean", "must be a call"),
        ("Mean()", "module.Class"),
        ("basic.BinCount()", "needs the argument 'bin'"),
        ("basic.BinCount(1.5)", "argument 'bin'"),
        ("basic.Mean(1)", "at most 0 arguments"),
        ("basic.BinCount(1, wrong=2)", "no argument 'wrong'"),
        ("basic.Mean(", "not an expression"),
        ("fits.Landau(0, 1., 2., (1., 'a'))", "argument 'defaults'"),
        ("basic.Quantile(1e999)", "finite"),
    ],
)
def test_bad_metric_expressions_are_refused_with_the_reason(expression: str, message: str) -> None:
    with pytest.raises(MetricSyntaxError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_metric(expression)


def test_a_good_section_keeps_its_keys_and_ignores_the_legacy_ones() -> None:
    configs, groups, problems = parse_file("PixelPhase1", "PixelPhase1/a.ini", GOOD)
    assert problems == [] and groups == []
    (found,) = configs
    assert (found.key, found.plot_title, found.threshold) == (
        "PixelPhase1/Ntracks_Pixel",
        "Pixel number of tracks",
        10,
    )
    assert found.me_paths == {"main": "PixelPhase1/Tracks/ntracks"}


def test_a_bad_section_is_reported_with_file_section_and_key_and_stops_only_itself() -> None:
    text = (
        GOOD
        + """
[plot:Broken]
metric = basic.Unknown()
relativePath = A/b
yTitle = y

[plot:NoPath]
metric = basic.Mean()
yTitle = y

[plot:bad name!]
metric = basic.Mean()
relativePath = A/b
yTitle = y

[plot:NeedsHisto1]
metric = basic.PixelEfficiency()
relativePath = A/b
yTitle = y

[plot:BadThreshold]
metric = basic.Mean()
relativePath = A/b
yTitle = y
threshold = many

[something]
key = value

[plot:After]
metric = basic.Mean()
relativePath = A/c
yTitle = y
colour = red
"""
    )
    configs, _, problems = parse_file("Sub", "Sub/f.ini", text)
    assert [c.name for c in configs] == ["Ntracks_Pixel", "After"]
    where = {(p.file, p.section, p.key, p.severity) for p in problems}
    assert ("Sub/f.ini", "plot:Broken", "metric", "error") in where
    assert ("Sub/f.ini", "plot:NoPath", "relativepath", "error") in where
    assert ("Sub/f.ini", "plot:bad name!", "", "error") in where
    assert ("Sub/f.ini", "plot:NeedsHisto1", "metric", "error") in where
    assert ("Sub/f.ini", "plot:BadThreshold", "threshold", "error") in where
    assert ("Sub/f.ini", "something", "", "warning") in where
    assert ("Sub/f.ini", "plot:After", "colour", "warning") in where
    broken = next(p for p in problems if p.section == "plot:Broken")
    assert "unknown metric 'basic.Unknown'" in str(broken) and str(broken).startswith(
        "Sub/f.ini:[plot:Broken]:metric"
    )


def test_a_name_starting_with_the_prefix_letters_keeps_them() -> None:
    text = "[plot:plotted_tracks]\nmetric = basic.Mean()\nrelativePath = A/b\nyTitle = y\n"
    (found,), _, _ = parse_file("S", "S/f.ini", text)
    assert found.name == "plotted_tracks"  # the original's strip('plot:') dropped the leading letters


def test_a_duplicate_section_in_one_file_keeps_the_first_and_the_rest_of_the_file() -> None:
    text = (
        GOOD
        + GOOD.replace("BinCount(2)", "BinCount(3)")
        + "\n[plot:Other]\nmetric = basic.Mean()\nrelativePath = A/b\nyTitle = y\n"
    )
    configs, _, problems = parse_file("S", "S/f.ini", text)
    assert [(c.name, c.metric) for c in configs] == [
        ("Ntracks_Pixel", BinCount(2)),
        ("Other", parse_metric("basic.Mean()")),
    ]
    (duplicate,) = problems
    assert duplicate.section == "plot:Ntracks_Pixel" and "duplicate section" in duplicate.message


def _tree(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    return tmp_path


def test_a_duplicate_name_across_files_of_a_subsystem_keeps_the_first_definition(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {
            "DT/a.ini": GOOD,
            "DT/b.ini": GOOD.replace("BinCount(2)", "BinCount(5)")
            + "\n[plot:Third]\nmetric = basic.Mean()\nrelativePath = A/b\nyTitle = y\n",
            "DT/c.ini": GOOD,
            "CSC/a.ini": GOOD,  # the same name in another subsystem is another trend
            "CSC/deeper/ignored.ini": GOOD,
        },
    )
    tree = read_tree(root)
    assert sorted(c.key for c in tree.configs) == ["CSC/Ntracks_Pixel", "DT/Ntracks_Pixel", "DT/Third"]
    assert tree.by_key()["DT/Ntracks_Pixel"].metric == BinCount(2)
    duplicates = [p for p in tree.problems if "duplicate name" in p.message]
    assert [(p.file, p.section) for p in duplicates] == [
        ("DT/b.ini", "plot:Ntracks_Pixel"),
        ("DT/c.ini", "plot:Ntracks_Pixel"),
    ]


def test_display_groups_name_series_without_the_prefix_and_unknown_series_are_reported(
    tmp_path: Path,
) -> None:
    groups = """
[group:Both]
plotTitle = Both
yTitle = y
series = plot:Ntracks_Pixel, Missing

[group:Corr]
series = Ntracks_Pixel
correlation = true
"""
    tree = read_tree(_tree(tmp_path, {"S/a.ini": GOOD + groups}))
    (group,) = tree.groups
    assert (group.name, group.series) == ("Both", ("Ntracks_Pixel",))
    messages = {(p.section, p.key): p.message for p in tree.problems}
    assert "Missing" in messages[("group:Both", "series")]
    assert "exactly 2 series" in messages[("group:Corr", "correlation")]


def test_an_unreadable_file_is_reported_and_the_others_are_read(tmp_path: Path) -> None:
    root = _tree(tmp_path, {"S/a.ini": GOOD, "S/b.ini": "x"})
    (tmp_path / "S/b.ini").write_bytes(b"\xff\xfe[plot:")
    tree = read_tree(root)
    assert [c.name for c in tree.configs] == ["Ntracks_Pixel"]
    assert any(p.file == "S/b.ini" and "unreadable" in p.message for p in tree.problems)


def test_the_shipped_tree_is_clean_large_and_uses_every_metric() -> None:
    tree = read_tree(config.default_config_dir())
    assert tree.problems == ()
    assert len(tree.configs) >= 50
    assert len({c.subsystem for c in tree.configs}) >= 8
    assert {c.metric.qualified_name() for c in tree.configs} == set(REGISTRY)
    assert len(tree.groups) >= 5


def test_the_computation_hash_follows_the_metric_not_the_titles() -> None:
    (a,), _, _ = parse_file("S", "S/a.ini", GOOD)
    (b,), _, _ = parse_file("S", "S/a.ini", GOOD.replace("Pixel number of tracks", "Another title"))
    (c,), _, _ = parse_file("S", "S/a.ini", GOOD.replace("BinCount(2)", "BinCount(3)"))
    assert a.computation_hash() == b.computation_hash() != c.computation_hash()


def test_the_setting_points_at_another_tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from runreg.settings import get_settings
    from runreg.trends import service

    _tree(tmp_path, {"Mine/a.ini": GOOD})
    monkeypatch.setenv("RUNREG_TRENDS_CONFIG_DIR", str(tmp_path))
    get_settings.cache_clear()
    try:
        assert [c.key for c in service.config_tree().configs] == ["Mine/Ntracks_Pixel"]
    finally:
        get_settings.cache_clear()
