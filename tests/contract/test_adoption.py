"""Adoption of an original Run Registry: the generated original (its own schema, written the way the original
writes) is imported into runreg on both engines, verified with zero differences, caught up incrementally,
resumed after kill -9 without duplicating or skipping, and a tampered runreg row is named by verify."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator

import psycopg
import pytest
from sqlalchemy import func, select, text

from runreg.adoption import model, reader
from runreg.adoption import service as adoption
from runreg.adoption.reader import OriginalDatabase
from runreg.certification import service as certification
from runreg.configuration import service as configuration
from runreg.datasets import service as cycles
from runreg.eventlog.tables import change_sets
from runreg.kernel.errors import InvalidInput
from runreg.registry import service as registry
from runreg.storage.database import Database, as_utc
from tests.builders import rr_original
from tests.builders.runs import EXPERT
from tests.conftest import PG_ADMIN_URL

RUNREG = [sys.executable, "-m", "runreg.cli.main"]
RUNS, LS = 8, 40
#: The run the original deleted for good, and the one it deleted then restored (Generator.deletions).
GONE = 1000 + RUNS + rr_original.DELETED_RUN_INDEX
BACK = 1000 + rr_original.RESTORED_RUN_INDEX


@pytest.fixture
def original_url() -> Iterator[str]:
    name = f"rr_original_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = f"{PG_ADMIN_URL.rsplit('/', 1)[0]}/{name}"
    rr_original.create_schema(url)
    yield url
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def original(original_url: str) -> Iterator[OriginalDatabase]:
    with psycopg.connect(original_url) as conn:
        rr_original.Generator(conn).generate(RUNS, LS)
        conn.commit()
    with OriginalDatabase(original_url) as source:
        yield source


def segments_in(url: str) -> int:
    """Change sets the original holds: one per atomic version, one per contiguous block for older events."""
    with psycopg.connect(url) as conn:
        return conn.execute(
            """SELECT count(*) FROM (
                 SELECT atomic_version, lag(atomic_version) OVER (ORDER BY version) AS prev FROM "Event"
               ) e WHERE prev IS NULL OR prev <> atomic_version"""
        ).fetchone()[0]


def count_change_sets(db: Database) -> int:
    with db.reading() as conn:
        return conn.execute(select(func.count()).select_from(change_sets)).scalar_one()


def test_import_reproduces_the_original_and_verify_finds_no_difference(
    db: Database, original: OriginalDatabase, original_url: str
) -> None:
    before = count_change_sets(db)
    report = adoption.import_rr(db, actor=EXPERT, source=original)
    assert report.change_sets == segments_in(original_url) == count_change_sets(db) - before
    checked = adoption.verify(db, source=original)
    assert checked.differences == []
    assert (checked.runs, checked.datasets) == (RUNS, RUNS + RUNS // 2)

    # Manual precedence: auto Collisions26, then manual Cosmics26, then auto Collisions26 again.
    assert registry.run_state(db, 1001).rr["class"] == "Cosmics26"
    # Authors, kinds, times and unicode comments are the original's.
    with db.reading() as conn:
        rows = conn.execute(select(change_sets).order_by(change_sets.c.id)).all()
    by_author = {row.author: row for row in rows}
    assert by_author["auto@auto - bob@cern.ch"].actor_kind == "automatic"
    assert by_author["alice@cern.ch"].actor_kind == "human"
    assert by_author["alice@cern.ch"].comment == "HV trip — Δt ≈ 3 s ✓ 電圧"
    with psycopg.connect(original_url) as conn:
        first_time = conn.execute(
            'SELECT min("createdAt") FROM "Version" WHERE "by" = %s', ("alice@cern.ch",)
        )
        assert (
            min(as_utc(r.created_at) for r in rows if r.author == "alice@cern.ch") == first_time.fetchone()[0]
        )
    # The events that predate atomic versions (placeholder 50000000) created run 1000 first, as they happened.
    assert registry.history(db, run_number=1000, limit=500)[-1].comment == "run creation"
    # A hidden dataset stays hidden; a second sign-off did not make a second dataset.
    hidden = registry.run_state(db, 1000).datasets[rr_original.OFFLINE].attributes
    assert hidden["hidden"] is True
    # A run the original deleted is hidden, in the change set of its deleting event; one restored by a later
    # event not deleted is shown again. Hidden runs are left out of the run listings, not their datasets.
    gone = registry.run_state(db, GONE)
    assert (gone.hidden, gone.hidden_reason) == (True, model.ORIGINAL_DELETION)
    assert registry.history(db, run_number=GONE, limit=1)[0].comment.startswith("delete run: a test run")
    assert not registry.run_state(db, BACK).hidden
    back_history = [cs.comment for cs in registry.history(db, run_number=BACK, limit=2)]
    assert back_history == ["automatic update", "delete run"]
    rows, _ = registry.search(db, target="runs", filter={}, page_size=100, visible_only=True)
    assert {row["run_number"] for row in rows} == set(range(1000, 1000 + RUNS)) - {GONE}
    datasets, _ = registry.search(
        db, target="datasets", filter={"run_number": GONE}, page_size=10, visible_only=True
    )
    assert {d["name"] for d in datasets} == {"online", rr_original.OFFLINE}


def test_events_read_window_by_window_are_one_stream_in_event_order_with_ls_as_ranges(
    original: OriginalDatabase, original_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with psycopg.connect(original_url) as conn:  # an LS event whose LS 3-6 become …-2, 4, 6-…
        conn.execute(
            'DELETE FROM "LumisectionEventAssignation" WHERE lumisection_number IN (3, 5) AND version = ('
            'SELECT min(version) FROM "LumisectionEventAssignation" WHERE lumisection_number BETWEEN 2 AND 6 '
            "GROUP BY version HAVING count(*) = 5 ORDER BY 1 LIMIT 1)"
        )
    upto = original.head().last_event_version
    monkeypatch.setattr(reader, "WINDOW", 100_000)
    whole = list(original.events(0, upto))
    monkeypatch.setattr(reader, "WINDOW", 7)
    assert list(original.events(0, upto)) == whole
    with psycopg.connect(original_url) as conn:
        assert [e.version for e in whole] == [
            row[0] for row in conn.execute('SELECT version FROM "Event" ORDER BY version')
        ]
        assignations: dict[int, list[int]] = {}
        for version, number in conn.execute(
            'SELECT version, lumisection_number FROM "LumisectionEventAssignation" UNION ALL '
            'SELECT version, lumisection_number FROM "OMSLumisectionEventAssignation"'
        ):
            assignations.setdefault(version, []).append(number)
    assert {e.version: list(e.ranges) for e in whole if e.ranges} == {
        version: model.ranges_of(numbers) for version, numbers in assignations.items()
    }
    gapped = [list(e.ranges) for e in whole if (4, 4) in e.ranges]  # gaps kept, not bridged
    assert len(gapped) == 1 and gapped[0][gapped[0].index((4, 4)) - 1][1] == 2


def test_reimport_imports_nothing_and_catch_up_imports_only_what_is_new(
    db: Database, original: OriginalDatabase, original_url: str
) -> None:
    adoption.import_rr(db, actor=EXPERT, source=original)
    again = adoption.import_rr(db, actor=EXPERT, source=original)
    assert again.change_sets == 0 and again.original_events == 0
    with psycopg.connect(original_url) as conn:
        generator = rr_original.Generator(conn, seed=11)
        generator.clock = rr_original.START.replace(month=6)
        generator.more(7, 1003, LS)
        conn.commit()
    caught_up = adoption.import_rr(db, actor=EXPERT, source=original)
    assert caught_up.change_sets == 7
    assert adoption.verify(db, source=original).differences == []
    assert adoption.progress(db, source=original.name)[1] == caught_up.last_atomic_version


def test_every_settings_row_becomes_a_configuration_version_and_untranslatable_rules_are_listed(
    db: Database, original: OriginalDatabase
) -> None:
    before = configuration.version_count(db)
    report = adoption.import_rr(db, actor=EXPERT, source=original)
    assert report.configuration_versions == 12 == configuration.version_count(db) - before
    newest = configuration.history(db, limit=1)[0]
    assert (newest.author, newest.comment) == ("expert@cern.ch", "imported from the original's Settings 12")
    current = configuration.show(db)
    # The edit replaced the class classifier; the deletion removed the significance classifier.
    assert [(c.class_name, c.priority) for c in current.class_classifiers] == [("Collisions26", 2)]
    assert current.significance_classifiers == []
    assert current.datasets_accepted[0].regexps[1] == "/SingleMuon/Run2026A-PromptReco-v.*?/DQMIO"
    gem = next(p for p in current.permissions if p.egroup == "cms-dqm-runregistry-offline-gem-certifiers")
    assert {g.action for g in gem.grants} == {
        "registry:dataset:move", "registry:flags:write", "datasets:cycle:move", "certification:json:create"
    }  # fmt: skip
    assert any(p.egroup == "runreg-services" for p in current.permissions)  # runreg's own e-groups stay
    assert report.notes == [
        "Settings 11: e-group cms-dqm-some-team: route '/weird/.*thing' has no clear runreg meaning; "
        "not granted"
    ]
    again = adoption.import_rr(db, actor=EXPERT, source=original)
    assert again.configuration_versions == 0


def test_golden_jsons_are_imported_pinned_to_their_time_and_regenerate_ls_for_ls(
    db: Database, original: OriginalDatabase
) -> None:
    report = adoption.import_rr(db, actor=EXPERT, source=original)
    assert report.golden_jsons == 3
    jobs = sorted(certification.list_jobs(db, include_deleted=True), key=lambda job: job.id)[-3:]
    assert [(j.created_by, j.official, j.deleted, j.status) for j in jobs] == [
        ("carol@cern.ch", True, False, "done"),
        ("dave@cern.ch", False, False, "done"),
        ("erin@cern.ch", False, True, "done"),
    ]
    past = jobs[0]
    originals = {item["id"]: item for item in original.generated_jsons(0)}
    # Made after the original deleted a run: its dataset is in the JSON there, and here too.
    assert str(GONE) in originals[2]["generated_json"]
    assert str(GONE) in certification.regenerate(db, jobs[1].id)["json"]
    assert certification.regenerate(db, past.id)["json"] == originals[1]["generated_json"]
    # Made mid-history: later change sets changed what the same rule selects now.
    assert certification.regenerate(db, jobs[1].id)["json"] != originals[1]["generated_json"]
    checked = adoption.verify(db, source=original)
    assert checked.golden_jsons == 3 and checked.differences == []
    assert adoption.import_rr(db, actor=EXPERT, source=original).golden_jsons == 0


def test_cycles_are_imported_with_their_states_datasets_and_soft_deletes(
    db: Database, original: OriginalDatabase
) -> None:
    assert adoption.import_rr(db, actor=EXPERT, source=original).cycles == 2
    found = {c.name: c for c in cycles.list_cycles(db, include_deleted=True)}
    prompt, abandoned = found["Cycle 2026A — prompt"], found["Abandoned cycle"]
    assert prompt.states == {"global": "pending", "dt": "completed"} and not prompt.deleted
    assert len(prompt.keys) == RUNS // 2 and all(name != "online" for _, name in prompt.keys)
    assert abandoned.deleted
    with psycopg.connect(original.conn.info.dsn) as conn:
        conn.execute(
            """UPDATE "Cycle" SET cycle_attributes = '{"global_state": "completed"}' WHERE id_cycle = 1"""
        )
    adoption.import_rr(db, actor=EXPERT, source=original)
    assert cycles.get_cycle(db, prompt.id).states == {"global": "completed"}
    assert adoption.verify(db, source=original).differences == []


def test_dry_run_writes_nothing(db: Database, original: OriginalDatabase) -> None:
    before = count_change_sets(db), configuration.version_count(db)
    report = adoption.import_rr(db, actor=EXPERT, source=original, dry_run=True)
    assert report.change_sets > 0 and report.configuration_versions == 12
    assert (count_change_sets(db), configuration.version_count(db)) == before
    assert adoption.progress(db, source=original.name) == (0, 0, 0)


def test_since_starts_after_that_atomic_version(db: Database, original: OriginalDatabase) -> None:
    report = adoption.import_rr(db, actor=EXPERT, source=original, since=10**9)
    assert report.change_sets == 0


def test_a_tampered_runreg_row_is_named_by_verify(db: Database, original: OriginalDatabase) -> None:
    adoption.import_rr(db, actor=EXPERT, source=original)
    with db.transaction() as conn:
        conn.execute(
            text(
                "UPDATE flag_ranges SET status = 'GOOD' WHERE run_number = 1002 AND layer = 'manual' "
                "AND dataset = 'online'"
            )
        )
    report = adoption.verify(db, source=original)
    assert report.differences
    assert all(line.startswith("run 1002 dataset 'online'") for line in report.differences)
    assert any("triplet_summary" in line for line in report.differences)


def test_a_tampered_hidden_flag_is_named_by_verify(db: Database, original: OriginalDatabase) -> None:
    adoption.import_rr(db, actor=EXPERT, source=original)
    with db.transaction() as conn:
        conn.execute(text("UPDATE runs SET hidden = false WHERE run_number = :run"), {"run": GONE})
        conn.execute(text("UPDATE runs SET hidden = true WHERE run_number = :run"), {"run": BACK})
    assert adoption.verify(db, source=original).differences == [
        f"run {BACK} deleted: original False ≠ runreg hidden True",
        f"run {GONE} deleted: original True ≠ runreg hidden False",
    ]


def test_bad_url_and_wrong_schema_are_named(original_url: str) -> None:
    with pytest.raises(InvalidInput, match="postgresql:// URL"):
        OriginalDatabase("mysql://somewhere/runregistry")
    with pytest.raises(InvalidInput, match="cannot connect"):
        OriginalDatabase(PG_ADMIN_URL.rsplit("/", 1)[0] + "/no_such_database_here")
    with pytest.raises(InvalidInput, match="missing table.*Version"):
        OriginalDatabase(PG_ADMIN_URL)


def test_import_killed_mid_way_resumes_without_duplicating_or_skipping(
    db: Database, original_url: str
) -> None:
    with psycopg.connect(original_url) as conn:
        rr_original.Generator(conn).generate(40, 20)
        conn.commit()
    total = segments_in(original_url)
    before = count_change_sets(db)
    env = {**os.environ, "RUNREG_DATABASE_URL": db.url}
    command = [*RUNREG, "import", "rr", "--from", original_url, "--batch", "1"]
    with OriginalDatabase(original_url) as source:
        name = source.name
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while adoption.progress(db, source=name)[2] < total // 3:
            assert process.poll() is None, "the import ended before it could be killed"
            assert time.monotonic() < deadline
            time.sleep(0.01)
        process.send_signal(signal.SIGKILL)
    finally:
        process.kill()
        process.wait(10)
    killed_at = adoption.progress(db, source=name)[2]
    assert total // 3 <= killed_at < total
    assert count_change_sets(db) - before == killed_at  # the progress row commits with its change sets
    resumed = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    assert count_change_sets(db) - before == total
    verified = subprocess.run(
        [*RUNREG, "import", "rr", "verify", "--from", original_url], env=env, capture_output=True, text=True
    )
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "0 differences" in verified.stdout


def test_the_commands_name_a_bad_source_and_fail(db: Database, original_url: str) -> None:
    env = {**os.environ, "RUNREG_DATABASE_URL": db.url, "COLUMNS": "200"}
    wrong = subprocess.run(
        [*RUNREG, "import", "rr", "--from", "mysql://host/runregistry"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert wrong.returncode == 1 and "expected a postgresql:// URL" in wrong.stderr
    not_rr = subprocess.run(
        [*RUNREG, "import", "rr", "verify", "--from", PG_ADMIN_URL], env=env, capture_output=True, text=True
    )
    assert not_rr.returncode == 1 and "not an original Run Registry database" in not_rr.stderr
    missing = subprocess.run([*RUNREG, "import", "rr"], env=env, capture_output=True, text=True)
    assert missing.returncode == 2 and "--from" in missing.stderr


def test_the_generator_computes_the_caches_as_the_originals_view_does(original_url: str) -> None:
    """The generator's DatasetTripletCache (AggregatedLumisection painted on ranges, fast enough for a year)
    is, dataset for dataset, what the original's view LS by LS and its per-LS loop give."""
    with psycopg.connect(original_url) as conn:
        generator = rr_original.Generator(conn)
        runs = generator.generate(RUNS, LS)
        generator.more(20, runs[2], LS, span=15)  # overlapping automatic edits after the manual ones
        stored = {
            (row[0], row[1]): dict(zip(("triplet_summary", "dcs_summary", "rr_ranges", "dcs_ranges",
                                        "recorded", "delivered"), row[2:], strict=True))
            for row in conn.execute(
                'SELECT run_number, name, triplet_summary, dcs_summary, rr_ranges, dcs_ranges, '
                'brilcalc_recorded_luminosity, brilcalc_delivered_luminosity FROM "DatasetTripletCache"'
            )
        }  # fmt: skip
        expected = {
            (run, name): cache
            for run in runs
            for name, cache in rr_original.reference_caches(conn, run).items()
        }
    assert len(stored) == RUNS + RUNS // 2
    assert stored == expected
    assert any(cache["triplet_summary"] for cache in stored.values())


def test_legacy_and_extra_triplet_keys_are_kept_as_runreg_triplets_and_the_dropped_keys_reported(
    db: Database, original: OriginalDatabase, original_url: str
) -> None:
    with psycopg.connect(original_url) as conn:
        generator = rr_original.Generator(conn, seed=5)
        generator.clock = rr_original.START.replace(month=7)
        component = generator.components[0]
        with generator.w.version("auto@auto", "legacy rows", generator.tick()):  # only a status: old rows
            generator.w.ls_event(1003, "online", {component: {"status": "GOOD"}}, 1, 10, manual=False)
        with generator.w.version("auto@auto", "full rows", generator.tick()):
            full = {"status": "GOOD", "comment": "", "cause": ""}
            generator.w.ls_event(1003, "online", {component: full}, 11, 20, manual=False)
        with generator.w.version("frank@cern.ch", "a client's own key", generator.tick()):
            triplet = {"status": "BAD", "comment": "noisy strip", "cause": None, "shifter_id": 42}
            generator.w.ls_event(1003, "online", {component: triplet}, 30, 31, manual=True)
        generator.w.refresh_caches()
        conn.commit()
    report = adoption.import_rr(db, actor=EXPERT, source=original)
    assert adoption.verify(db, source=original).differences == []
    flags = registry.run_state(db, 1003).datasets["online"].flags[component]
    # LS 1-20 are GOOD in the original's eyes: one automatic range in runreg, not two.
    first_ranges = [(a, b, v) for a, b, v in flags.automatic if a <= 20]
    assert len(first_ranges) == 1 and first_ranges[0][0] == 1 and first_ranges[0][1] >= 20
    assert first_ranges[0][2] == {"status": "GOOD", "comment": "", "cause": ""}
    assert list(flags.manual)[-1] == (30, 31, {"status": "BAD", "comment": "noisy strip", "cause": ""})
    notes = [note for note in report.notes if "triplet key" in note]
    assert notes == [
        "triplet key 'shifter_id' not kept (runreg keeps status, comment and cause): 1 triplet(s), "
        f"first in run 1003 dataset 'online' component {component!r} LS 30-31"
    ]


def test_an_original_triplet_becomes_exactly_status_comment_and_cause() -> None:
    assert model.triplet_of({"status": "GOOD"}) == ({"status": "GOOD", "comment": "", "cause": ""}, [])
    assert model.triplet_of("BAD") == ({"status": "BAD", "comment": "", "cause": ""}, [])
    assert model.triplet_of(None) == ({"status": "", "comment": "", "cause": ""}, [])
    assert model.triplet_of({"status": "BAD", "comment": "x y", "cause": None, "b": 1, "a": 2}) == (
        {"status": "BAD", "comment": "x y", "cause": ""},
        ["a", "b"],
    )
