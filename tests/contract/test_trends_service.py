"""Trends storage on both engines: extraction, versions, failed-file retry, incremental discovery,
recomputation from stored histograms, and configs paired with trends by identity."""

from __future__ import annotations

import dataclasses
import os
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from runreg.kernel.actors import SYSTEM, Actor, ActorKind
from runreg.kernel.errors import InvalidInput, NotFound, PermissionDenied
from runreg.simulators.dqm_files.generator import file_name, write_file
from runreg.storage.database import Database
from runreg.trends import readmodels, runinfo, service
from runreg.trends.tables import trend_files, trend_histograms, trend_points, trend_rejections, trends
from tests.contract.trends_support import (
    ADC,
    CHARGE,
    RUNS,
    TREE,
    make_files,
    root_entries,
    root_mean,
    write_tree,
)


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object]:
    root = tmp_path_factory.mktemp("dqm")
    return root, make_files(root)


@pytest.fixture
def files(pristine: tuple[Path, object], tmp_path: Path) -> tuple[Path, object]:
    root, manifest = pristine
    copy = tmp_path / "files"
    shutil.copytree(root, copy)
    rebased = [dataclasses.replace(f, path=copy / f.path.relative_to(root)) for f in manifest.files]
    return copy, dataclasses.replace(manifest, files=rebased)


def _points(db: Database, key: str) -> dict[tuple[str, int], tuple[float, float]]:
    subsystem, name = key.split("/")
    with db.reading() as conn:
        listing = service.store.trend_listing(conn, subsystem=subsystem)
        wanted = {t.trend_id: t.primary_dataset for t in listing if t.name == name}
        rows = service.store.points_of(conn, list(wanted), None) if wanted else []
    return {(wanted[r.trend_id], r.run_number): (r.value, r.error) for r in rows}


def _status(db: Database) -> dict[str, str]:
    with db.reading() as conn:
        return {Path(r.path).name: r.status for r in conn.execute(sa.select(trend_files))}


def _extract(db: Database, tree, root: Path, **kwargs):  # noqa: ANN001, ANN202
    return service.extract(db, actor=SYSTEM, tree=tree, root=root, **kwargs)


def test_extraction_stores_one_point_per_trend_and_run_and_the_reasons_of_the_others(
    db: Database, files, tmp_path: Path
) -> None:
    root, manifest = files
    tree = write_tree(tmp_path / "cfg")
    report = _extract(db, tree, root)
    newest = [f for f in manifest.newest()]
    corrupt = [f for f in newest if f.corrupt]
    assert report.done == len(newest) - len(corrupt) and list(report.failed) == [str(corrupt[0].path)]
    assert (
        "could be read" in report.failed[str(corrupt[0].path)]
        or "cannot open" in report.failed[str(corrupt[0].path)]
    )
    adc = _points(db, "PixelPhase1/ADC_mean")
    for f in newest:
        if not f.corrupt:
            assert adc[(f.primary_dataset, f.run)][0] == pytest.approx(
                root_mean(f.path, f.run, ADC), rel=1e-12
            )
    missing = next(f for f in newest if f.missing)
    assert ("ZeroBias", missing.run) not in _points(db, "PixelPhase1/Charge_count")
    with db.reading() as conn:
        reasons = dict(
            conn.execute(sa.select(trend_rejections.c.run_number, trend_rejections.c.reason)).all()
        )
        dupes = conn.execute(
            sa.select(trend_points.c.trend_id, trend_points.c.run_number, sa.func.count())
            .group_by(trend_points.c.trend_id, trend_points.c.run_number)
            .having(sa.func.count() > 1)
        ).all()
    assert f"'{CHARGE}' not in the file" in reasons[missing.run] and dupes == []
    # A second pass finds nothing new and changes nothing; the unchanged corrupt file waits for its
    # back-off (test_an_unchanged_failed_file_waits_for_its_back_off).
    again = _extract(db, tree, root)
    assert again.done == 0 and list(again.failed) == [] and again.discovery.new_files == 0


def test_the_highest_version_wins_and_replaces_the_older_points(db: Database, files, tmp_path: Path) -> None:
    root, manifest = files
    tree = write_tree(tmp_path / "cfg")
    _extract(db, tree, root)
    twice = [f for f in manifest.files if f.version == 2]
    assert twice and all(_status(db)[f.path.name] == "done" for f in twice)
    assert all(_status(db)[f.path.name.replace("V0002", "V0001")] == "superseded" for f in twice)
    target = twice[0]
    before = _points(db, "PixelPhase1/ADC_mean")[("ZeroBias", target.run)]
    assert before[0] == pytest.approx(root_mean(target.path, target.run, ADC), rel=1e-12)
    v3 = target.path.with_name(
        file_name(target.run, "ZeroBias", target.path.name.split("__")[2].split("-")[0], "PromptReco", 3)
    )
    write_file(v3, target.run, 0.9, seed=4242)
    report = _extract(db, tree, root)
    after = _points(db, "PixelPhase1/ADC_mean")[("ZeroBias", target.run)]
    assert (
        report.done == 1
        and after[0] == pytest.approx(root_mean(v3, target.run, ADC), rel=1e-12)
        and after != before
    )
    statuses = _status(db)
    assert statuses[v3.name] == "done" and statuses[target.path.name] == "superseded"
    with db.reading() as conn:
        file_ids = set(
            conn.execute(
                sa.select(trend_histograms.c.file_id).where(trend_histograms.c.run_number == target.run)
            ).scalars()
        )
        v3_id = conn.execute(sa.select(trend_files.c.id).where(trend_files.c.path == str(v3))).scalar()
        zb_ids = {v3_id} | set(
            conn.execute(
                sa.select(trend_files.c.id).where(
                    trend_files.c.run_number == target.run, trend_files.c.path.contains("Muon-Tagged")
                )
            ).scalars()
        )
    assert file_ids <= zb_ids  # no histogram of the older versions is kept


def test_a_failed_file_is_retried_and_succeeds_once_repaired(db: Database, files, tmp_path: Path) -> None:
    root, manifest = files
    tree = write_tree(tmp_path / "cfg")
    corrupt = next(f for f in manifest.files if f.corrupt)
    _extract(db, tree, root)
    with db.reading() as conn:
        row = conn.execute(sa.select(trend_files).where(trend_files.c.path == str(corrupt.path))).one()
    assert (row.status, row.attempts) == ("failed", 1) and row.reason
    write_file(corrupt.path, corrupt.run, 0.5, seed=99)  # the file is uploaded again, whole
    report = _extract(db, tree, root)
    with db.reading() as conn:
        row = conn.execute(sa.select(trend_files).where(trend_files.c.path == str(corrupt.path))).one()
    assert report.done == 1 and (row.status, row.attempts, row.reason) == ("done", 2, None)
    value = _points(db, "PixelPhase1/ADC_mean")[("ZeroBias", corrupt.run)][0]
    assert value == pytest.approx(root_mean(corrupt.path, corrupt.run, ADC), rel=1e-12)


def test_an_unchanged_failed_file_waits_for_its_back_off(db: Database, files, tmp_path: Path) -> None:
    root, manifest = files
    tree = write_tree(tmp_path / "cfg")
    corrupt = next(f for f in manifest.files if f.corrupt)
    _extract(db, tree, root)
    again = _extract(db, tree, root)  # right away, the file unchanged: not read again
    assert str(corrupt.path) not in again.failed and again.done == 0
    with db.transaction() as conn:  # its back-off (2 minutes after a first failure) has passed
        conn.execute(
            sa.update(trend_files)
            .where(trend_files.c.path == str(corrupt.path))
            .values(processed_at=datetime.now(UTC) - timedelta(minutes=3))
        )
    later = _extract(db, tree, root)
    assert str(corrupt.path) in later.failed
    with db.reading() as conn:
        row = conn.execute(sa.select(trend_files).where(trend_files.c.path == str(corrupt.path))).one()
    assert row.attempts == 2


def test_discovery_lists_only_new_or_changed_directories(db: Database, files) -> None:
    root, _ = files
    first = service.discover(db, root=root)
    assert first.new_files > 0 and first.directories_listed == first.directories_visited
    second = service.discover(db, root=root)
    assert (second.new_files, second.directories_listed) == (
        0,
        0,
    ) and second.directories_visited == first.directories_visited
    block = next(p for p in root.rglob("*xx") if p.is_dir())
    (block / "DQM_V0001_R000380099__ZeroBias__Run2024A-PromptReco-v1__DQMIO.root").write_bytes(b"")
    third = service.discover(db, root=root)
    assert (third.new_files, third.directories_listed) == (1, 1)


def test_a_changed_config_is_recomputed_from_the_stored_histograms(
    db: Database, files, tmp_path: Path
) -> None:
    root, manifest = files
    _extract(db, write_tree(tmp_path / "cfg"), root)
    done = [f for f in manifest.newest() if not f.corrupt]
    entries = {(f.primary_dataset, f.run): root_entries(f.path, f.run, ADC) for f in done}
    for f in manifest.files:  # the ROOT files are gone: only the stored histograms remain
        f.path.unlink(missing_ok=True)
    changed = dict(TREE)
    changed["PixelPhase1/digis.ini"] = TREE["PixelPhase1/digis.ini"].replace(
        "metric = basic.Mean()", "metric = basic.Count()", 1
    )
    report = _extract(db, write_tree(tmp_path / "cfg", changed), root)
    assert report.recomputed == ["PixelPhase1/ADC_mean"]
    assert _points(db, "PixelPhase1/ADC_mean") == {key: (value, 0.0) for key, value in entries.items()}
    assert _extract(db, write_tree(tmp_path / "cfg", changed), root).recomputed == []  # done once


def test_recompute_one_config_over_a_run_range(db: Database, files, tmp_path: Path) -> None:
    root, manifest = files
    tree = write_tree(tmp_path / "cfg")
    _extract(db, tree, root)
    changed = dict(TREE)
    changed["Tracker/tracks.ini"] = TREE["Tracker/tracks.ini"].replace("basic.Mean()", "basic.Count()")
    new_tree = write_tree(tmp_path / "cfg", changed)
    before = _points(db, "Tracker/NumberOfTrack_mean")
    report = service.recompute(
        db, actor=SYSTEM, tree=new_tree, config_name="NumberOfTrack_mean", runs=(RUNS[0], RUNS[1])
    )
    after = _points(db, "Tracker/NumberOfTrack_mean")
    newest = {(f.primary_dataset, f.run): f for f in manifest.newest() if not f.corrupt}
    me = "Tracking/TrackParameters/GeneralProperties/NumberOfTracks_GenTk"
    for key, value in after.items():
        if key[1] in RUNS[:2]:
            assert value == (root_entries(newest[key].path, key[1], me), 0.0)
        else:
            assert value == before[key]  # outside the range: untouched
    assert report.trends == 2 and report.runs == 4
    with pytest.raises(NotFound):
        service.recompute(db, actor=SYSTEM, tree=new_tree, config_name="Nope")
    with pytest.raises(InvalidInput, match="runs"):
        service.recompute(db, actor=SYSTEM, tree=new_tree, config_name="NumberOfTrack_mean", runs=(5, 1))


def test_configs_and_trends_are_paired_by_identity(db: Database, files, tmp_path: Path) -> None:
    root, _ = files
    _extract(db, write_tree(tmp_path / "cfg"), root)
    tracks = _points(db, "Tracker/NumberOfTrack_mean")
    charge = _points(db, "PixelPhase1/Charge_count")
    adc = _points(db, "PixelPhase1/ADC_mean")
    # ADC_mean disappears from the tree: its neighbours keep their own points, new files fill only them.
    without = {
        "PixelPhase1/digis.ini": TREE["PixelPhase1/digis.ini"]
        .split("[plot:Charge_count]")[0]
        .replace("[plot:ADC_mean]", "[plot:Zeta_new]"),
        "Tracker/tracks.ini": TREE["Tracker/tracks.ini"],
    }
    tree = write_tree(tmp_path / "cfg", without)
    report = _extract(db, tree, root)
    assert _points(db, "Tracker/NumberOfTrack_mean") == tracks
    assert _points(db, "PixelPhase1/Charge_count") == {}  # deactivated: not served
    # A new config is back-filled from the stored histograms, with the old ADC_mean's values.
    assert report.recomputed == ["PixelPhase1/Zeta_new"]
    assert _points(db, "PixelPhase1/Zeta_new") == adc and charge


def test_dry_run_changes_nothing_and_bad_arguments_are_refused(db: Database, files, tmp_path: Path) -> None:
    root, _ = files
    tree = write_tree(tmp_path / "cfg")
    service.discover(db, root=root)
    before = _status(db)
    report = _extract(db, tree, root, dry_run=True)
    assert report.planned and _status(db) == before
    with pytest.raises(InvalidInput, match="jobs"):
        _extract(db, tree, root, jobs=0)
    with pytest.raises(InvalidInput, match="files"):
        _extract(db, tree, root, files=[os.devnull])
    with db.reading() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(trends)).scalar() == 0


def test_the_api_reads_sort_by_run_and_leave_empty_trends_out(db: Database, files, tmp_path: Path) -> None:
    root, _ = files
    _extract(db, write_tree(tmp_path / "cfg"), root)
    selection = readmodels.RunSelection.build(latest=2, significant_only=False)
    found = readmodels.legacy_data(
        db, subsystem="PixelPhase1", pd="ZeroBias", ps="PromptReco", selection=selection
    )
    assert {d["metadata"]["name"] for d in found} == {"ADC_mean", "Charge_count"}
    for item in found:
        runs = [p["run"] for p in item["trends"]]
        assert runs == sorted(runs) and len(runs) == 2
    assert readmodels.legacy_selection(db) == {
        "PixelPhase1": {"Muon-Tagged": ["ReReco-Pix-2024"], "ZeroBias": ["PromptReco"]},
        "Tracker": {"Muon-Tagged": ["ReReco-Pix-2024"], "ZeroBias": ["PromptReco"]},
    }
    # no run is in the registry: with significance required, nothing is shown
    runinfo.forget()
    strict = readmodels.RunSelection.build(latest=2)
    assert (
        readmodels.legacy_data(db, subsystem="PixelPhase1", pd="ZeroBias", ps="PromptReco", selection=strict)
        == []
    )


def test_a_config_subset_and_an_explicit_file_list(db: Database, files, tmp_path: Path) -> None:
    root, manifest = files
    tree = write_tree(tmp_path / "cfg")
    report = _extract(db, tree, root, config_keys=["Tracker/NumberOfTrack_mean"])
    assert (
        report.configs == 1
        and _points(db, "Tracker/NumberOfTrack_mean")
        and not _points(db, "PixelPhase1/ADC_mean")
    )
    assert set(_status(db).values()) == {"pending", "superseded"} or set(_status(db).values()) == {"pending"}
    _extract(db, tree, root)  # the subset left the ledger alone: the full pass does every config
    assert len(_points(db, "PixelPhase1/ADC_mean")) == len([f for f in manifest.newest() if not f.corrupt])
    target = next(f for f in manifest.newest() if not f.corrupt)
    again = _extract(db, tree, root, files=[str(target.path)])
    assert again.planned == [str(target.path)] and again.done == 1  # named files are reprocessed
    older = next(
        f
        for f in manifest.files
        if f.version == 1 and any(g.version == 2 and g.run == f.run for g in manifest.files)
    )
    assert _extract(db, tree, root, files=[str(older.path)]).planned == []  # never over a newer version


def test_writes_go_through_the_permission_gate(db: Database, files, tmp_path: Path) -> None:
    root, _ = files
    tree = write_tree(tmp_path / "cfg")
    stranger = Actor("someone@cern.ch", ActorKind.HUMAN, frozenset({"cms-zh"}))
    with pytest.raises(PermissionDenied, match="trends:extract"):
        service.extract(db, actor=stranger, tree=tree, root=root)
    with pytest.raises(PermissionDenied, match="trends:recompute"):
        service.recompute(db, actor=stranger, tree=tree, config_name="ADC_mean")
    assert _status(db) == {}  # refused before anything was discovered


def test_a_hidden_run_is_unknown_to_the_trends_like_a_run_the_original_registry_deleted(db: Database) -> None:
    from runreg.registry import service as registry
    from tests.builders.runs import EXPERT, create_collision_run

    create_collision_run(db, 380700, ls_count=5)
    create_collision_run(db, 380701, ls_count=5)
    registry.hide_run(db, actor=EXPERT, run_number=380700, reason="test run, not for physics")
    runinfo.forget()
    infos = runinfo.run_infos(db, [380700, 380701])
    assert set(infos) == {380701}
    significant = readmodels.RunSelection.build(latest=2)
    assert significant.kept({380700, 380701}, infos) == {380701}
