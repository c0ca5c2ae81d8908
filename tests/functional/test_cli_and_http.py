"""The command line and the HTTP app end to end on a fresh SQLite file, as a newcomer would use them."""

from __future__ import annotations

import getpass
import os
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from runreg.http.app import create_app
from runreg.registry import service
from runreg.registry.service import FlagEdit
from runreg.storage.database import Database
from tests.builders.rich_tables import body_rows
from tests.builders.runs import SHIFTER, create_collision_run

RUNREG = [sys.executable, "-m", "runreg.cli.main"]


def runreg(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*RUNREG, *args], env=env, capture_output=True, text=True, timeout=120)


@pytest.fixture
def sqlite_env(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "RUNREG_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.sqlite'}", "COLUMNS": "200"}


def test_commands_refuse_an_unmigrated_database_then_work_after_upgrade(sqlite_env: dict[str, str]) -> None:
    refused = runreg(sqlite_env, "config", "history")
    assert refused.returncode == 2 and "runreg db upgrade" in refused.stderr

    assert runreg(sqlite_env, "db", "upgrade").returncode == 0
    history = runreg(sqlite_env, "config", "history")
    assert history.returncode == 0 and "shipped default configuration" in history.stdout


def test_revert_from_the_command_line(sqlite_env: dict[str, str]) -> None:
    runreg(sqlite_env, "db", "upgrade")
    db = Database(sqlite_env["RUNREG_DATABASE_URL"])
    create_collision_run(db, ls_count=20)
    edit = service.edit_flags(
        db, actor=SHIFTER, run_number=380567, edits=[FlagEdit("dt-dt", 1, 20, "EXCLUDED")], comment="wrong"
    )

    refused = runreg(
        {**sqlite_env, "RUNREG_CLI_EGROUPS": '["cms-dqm-runregistry-online-shifters"]'},
        "changes",
        "revert",
        str(edit.change_set_id),
    )
    done = runreg(sqlite_env, "changes", "revert", str(edit.change_set_id))
    missing = runreg(sqlite_env, "changes", "revert", "999")

    assert refused.returncode == 1 and "may not registry:change_set:revert" in refused.stderr
    assert done.returncode == 0, done.stderr
    assert service.run_state(db, 380567).datasets["online"].flags["dt-dt"].manual.items() == []
    # The CLI acts as the configured local operator, recorded with the OS user.
    (revert,) = [cs for cs in service.history(db, run_number=380567) if cs.reverts == edit.change_set_id]
    assert revert.author == f"local-operator ({getpass.getuser()})"
    assert missing.returncode == 1 and "change set 999 does not exist" in missing.stderr
    after = table_rows(runreg(sqlite_env, "runs", "ranges", "380567").stdout)
    assert after == {  # dt-dt was EXCLUDED on 1-20 before the revert
        "dt-dt": ["1-20", "GOOD", ""],
        "tracker-pixel": ["1-20", "GOOD", ""],
        "tracker-strip": ["1-20", "GOOD", ""],
    }
    db.dispose()


def test_offline_datasets_from_the_command_line(sqlite_env: dict[str, str]) -> None:
    runreg(sqlite_env, "db", "upgrade")
    db = Database(sqlite_env["RUNREG_DATABASE_URL"])
    create_collision_run(db, ls_count=20)
    service.move_run(db, actor=SHIFTER, run_number=380567, to_state="SIGNOFF")
    prompt = "/PromptReco/Collisions2024D/DQM"

    stale = runreg(
        sqlite_env, "runs", "move-dataset", "380567", prompt, "global", "OPEN", "--from", "SIGNOFF"
    )
    opened = runreg(
        sqlite_env, "runs", "move-dataset", "380567", prompt, "global", "OPEN", "--comment", "in GUI"
    )
    shown = runreg(sqlite_env, "runs", "datasets", "380567")

    assert stale.returncode == 1 and "is waiting dqm gui in global, not SIGNOFF" in stale.stderr
    assert opened.returncode == 0, opened.stderr
    assert service.run_state(db, 380567).datasets[prompt].attributes["dt_state"] == "OPEN"
    assert "global: OPEN" in " ".join(shown.stdout.split()) and "/Express/Collisions2024/DQM" in shown.stdout
    db.dispose()


def table_rows(text: str) -> dict[str, list[str]]:
    return {row[0]: row[1:] for row in body_rows(text)}


def test_http_reads_runs_as_of_and_reports_errors_as_json(db: Database) -> None:
    created = create_collision_run(db, ls_count=30)
    service.edit_flags(
        db, actor=SHIFTER, run_number=380567, edits=[FlagEdit("dt-dt", 3, 4, "BAD", "HV off")], comment="HV"
    )
    client = TestClient(create_app(db))

    assert client.get("/healthz").json()["status"] == "ok"
    now = client.get("/api/v1/runs/380567/lumisections/components").json()["dt-dt"]
    then = client.get(f"/api/v1/runs/380567/lumisections/components?as_of={created.change_set_id}").json()
    missing = client.get("/api/v1/runs/1")

    assert [r["status"] for r in now] == ["GOOD", "BAD", "GOOD"]
    assert [r["status"] for r in then["dt-dt"]] == ["GOOD"]
    assert missing.status_code == 404
    assert missing.json()["error"] == {
        "code": "not_found",
        "message": "run 1 does not exist",
        "details": {"run_number": 1},
    }
    assert client.get("/api/v1/change-sets?run_number=380567").json()[0]["comment"] == "HV"


def test_http_lists_runs_with_the_filter_language(db: Database) -> None:
    create_collision_run(db, 380001, ls_count=10)
    create_collision_run(db, 380002, ls_count=10, rr={"class": "Cosmics24"})
    service.edit_flags(
        db, actor=SHIFTER, run_number=380002, edits=[FlagEdit("dt-dt", 1, 2, "BAD", "noise")], comment="noise"
    )
    client = TestClient(create_app(db))

    collisions = client.get(
        "/api/v1/runs", params={"filter": '{"rr_attributes.class": {"like": "collisions%"}}'}
    )
    either = client.get(
        "/api/v1/runs",
        params={
            "filter": '{"or": [{"rr_attributes.class": "Collisions24"}, '
            '{"triplet_summary.dt-dt.BAD": {">": 0}}]}',
            "sort": "run_number:ASC",
        },
    )
    bad = client.get("/api/v1/runs", params={"filter": '{"rr_attributes.class": {"~": "x"}}'})

    assert [r["run_number"] for r in collisions.json()["items"]] == [380001]
    assert [r["run_number"] for r in either.json()["items"]] == [380001, 380002]
    assert either.json()["total"] == 2
    past_the_end = client.get("/api/v1/runs", params={"page": 3, "page_size": 1}).json()
    assert (past_the_end["items"], past_the_end["total"], past_the_end["pages"]) == ([], 2, 2)
    assert bad.status_code == 400 and "~" in bad.json()["error"]["message"]


def test_http_lumisection_views_agree_with_each_other(db: Database) -> None:
    create_collision_run(db, ls_count=12, off={"bpix_ready": (5, 6)})
    service.edit_flags(
        db, actor=SHIFTER, run_number=380567, edits=[FlagEdit("dt-dt", 3, 4, "BAD", "HV off")], comment="HV"
    )
    client = TestClient(create_app(db))

    per_ls = client.get("/api/v1/runs/380567/lumisections").json()
    ranges = client.get("/api/v1/runs/380567/lumisections/ranges").json()
    oms = client.get("/api/v1/runs/380567/oms-lumisections/ranges").json()
    missing = client.get("/api/v1/runs/380567/lumisections", params={"dataset": "/Nope/Run2024A/DQM"})

    assert len(per_ls) == 12 and per_ls[2]["dt-dt"]["status"] == "BAD"
    expanded = [
        {k: v for k, v in r.items() if k not in ("start", "end")}
        for r in ranges
        for _ in range(r["start"], r["end"] + 1)
    ]
    assert expanded == per_ls
    assert [(r["start"], r["end"], r["bpix_ready"]) for r in oms] == [
        (1, 4, True),
        (5, 6, False),
        (7, 12, True),
    ]
    assert missing.status_code == 400 and "/Nope/Run2024A/DQM" in missing.json()["error"]["message"]
