"""Hiding a run end to end: /api/v1 and `runreg runs hide|unhide` through the gate (experts only by default,
refusals naming the e-groups), and every run listing — the API's search, the legacy /runs_filtered_ordered the
public client calls, the online tables — leaving it out while its own page and GET say it is hidden."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from fastapi.testclient import TestClient

from runreg.http.app import create_app
from runreg.registry import service
from runreg.settings import Settings
from runreg.storage.database import Database
from tests.builders.runs import create_collision_run

SECRET = "hidden-runs-secret"
RUN, OTHER = 380567, 380568
EXPERT = {
    "x-runreg-proxy-secret": SECRET,
    "email": "expert@cern.ch",
    "egroups": "cms-dqm-runregistry-experts",
}
SHIFTER = {
    "x-runreg-proxy-secret": SECRET,
    "email": "alice@cern.ch",
    "egroups": "cms-dqm-runregistry-online-shifters",
}
REFUSAL = (
    "alice@cern.ch may not registry:run:hide (run 380567): User needs to be part of any of the following "
    "e-groups to fulfill this action: cms-dqm-runregistry-experts"
)
RUNREG = [sys.executable, "-m", "runreg.cli.main"]


def legacy_runs(client: TestClient, filter: dict | None = None) -> list[int]:
    answer = client.post("/runs_filtered_ordered", json={"filter": filter or {}, "page": 0, "page_size": 50})
    assert answer.status_code == 200, answer.text
    assert answer.json()["count"] == len(answer.json()["runs"])
    return [run["run_number"] for run in answer.json()["runs"]]


def test_hide_and_show_over_http_and_every_run_listing_leaves_a_hidden_run_out(db: Database) -> None:
    create_collision_run(db, RUN, ls_count=10)
    create_collision_run(db, OTHER, ls_count=10)
    client = TestClient(create_app(db, settings=Settings(proxy_secret=SECRET, dev_identity=False)))
    before = len(service.history(db, limit=100))

    refused = client.post(f"/api/v1/runs/{RUN}/hide", json={"reason": "not mine"}, headers=SHIFTER)
    assert refused.status_code == 403
    assert refused.json()["error"]["message"] == REFUSAL
    anonymous = client.post(f"/api/v1/runs/{RUN}/hide", json={"reason": "who am I"})
    assert anonymous.status_code == 401
    no_reason = client.post(f"/api/v1/runs/{RUN}/hide", json={"reason": "  "}, headers=EXPERT)
    assert no_reason.status_code == 400 and "reason" in no_reason.json()["error"]["message"]
    assert len(service.history(db, limit=100)) == before

    hid = client.post(f"/api/v1/runs/{RUN}/hide", json={"reason": "test run"}, headers=EXPERT)
    assert hid.status_code == 200, hid.text
    assert hid.json()["runs"] == {str(RUN): 1}
    # Read by number, saying so; left out of the listings unless asked for.
    one = client.get(f"/api/v1/runs/{RUN}").json()
    assert (one["hidden"], one["hidden_reason"]) == (True, "test run")
    listed = client.get("/api/v1/runs").json()
    assert ([r["run_number"] for r in listed["items"]], listed["total"]) == ([OTHER], 1)
    everything = client.get("/api/v1/runs", params={"include_hidden": "true"}).json()["items"]
    assert {r["run_number"]: r["hidden"] for r in everything} == {RUN: True, OTHER: False}
    assert legacy_runs(client) == [OTHER]
    assert legacy_runs(client, {"run_number": RUN}) == []  # the client's get_run: {} as for a deleted run
    online = client.get("/online/global")
    assert online.status_code == 200 and f"/runs/{OTHER}" in online.text and f"/runs/{RUN}" not in online.text
    page = client.get(f"/runs/{RUN}")
    assert page.status_code == 200 and 'id="hidden-run"' in page.text and "test run" in page.text
    assert 'id="hidden-run"' not in client.get(f"/runs/{OTHER}").text

    shown = client.post(f"/api/v1/runs/{RUN}/show", json={"reason": "physics after all"}, headers=SHIFTER)
    assert shown.status_code == 403
    shown = client.post(f"/api/v1/runs/{RUN}/show", json={"reason": "physics after all"}, headers=EXPERT)
    assert shown.status_code == 200, shown.text
    again = client.post(f"/api/v1/runs/{RUN}/show", json={"reason": "twice"}, headers=EXPERT)
    assert again.status_code == 409 and "not hidden" in again.json()["error"]["message"]
    assert legacy_runs(client) == [OTHER, RUN]
    assert client.get(f"/api/v1/runs/{RUN}").json()["hidden"] is False


def test_hide_and_unhide_from_the_command_line(tmp_path: Path) -> None:
    env = {**os.environ, "RUNREG_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.sqlite'}", "COLUMNS": "200"}

    def runreg(*args: str, **more: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*RUNREG, *args], env={**env, **more}, capture_output=True, text=True, timeout=120
        )

    assert runreg("db", "upgrade").returncode == 0
    db = Database(env["RUNREG_DATABASE_URL"])
    create_collision_run(db, RUN, ls_count=10)

    refused = runreg(
        "runs",
        "hide",
        str(RUN),
        "-m",
        "not mine",
        RUNREG_CLI_EGROUPS='["cms-dqm-runregistry-online-shifters"]',
    )
    assert refused.returncode == 1
    assert "may not registry:run:hide (run 380567)" in refused.stderr
    assert "cms-dqm-runregistry-experts" in refused.stderr
    assert not service.run_state(db, RUN).hidden
    missing_reason = runreg("runs", "hide", str(RUN))
    assert missing_reason.returncode == 2 and "--reason" in missing_reason.stderr

    hid = runreg("runs", "hide", str(RUN), "--reason", "a test run")
    assert hid.returncode == 0, hid.stderr
    assert f"run {RUN} is hidden" in hid.stdout and "runreg changes revert" in hid.stdout
    assert service.run_state(db, RUN).hidden_reason == "a test run"
    assert '"hidden": true' in runreg("runs", "show", str(RUN)).stdout
    twice = runreg("runs", "hide", str(RUN), "-m", "again")
    assert twice.returncode == 1 and "already hidden (a test run)" in twice.stderr

    shown = runreg("runs", "unhide", str(RUN), "-m", "physics after all")
    assert shown.returncode == 0, shown.stderr
    assert not service.run_state(db, RUN).hidden
    db.dispose()


def test_the_run_page_hides_and_shows_the_run_for_an_expert_and_draws_the_button_refused_for_a_shifter(
    db: Database,
) -> None:
    create_collision_run(db, RUN, ls_count=10)
    client = TestClient(create_app(db, settings=Settings(proxy_secret=SECRET, dev_identity=False)))
    shifter_page = client.get(f"/runs/{RUN}", headers=SHIFTER).text
    assert 'data-refusal="' + REFUSAL + '"' in shifter_page and ">Hide run</button>" in shifter_page
    client.get(f"/runs/{RUN}", headers=EXPERT)  # the browser's CSRF cookie
    token = {"x-csrf-token": client.cookies["runreg_csrf"]}

    forged = client.post(
        f"/runs/{RUN}/visibility", data={"hidden": "1", "reason": "duplicate"}, headers=EXPERT
    )
    refused = client.post(
        f"/runs/{RUN}/visibility", data={"hidden": "1", "reason": "not mine"}, headers={**SHIFTER, **token}
    )
    too_short = client.post(
        f"/runs/{RUN}/visibility", data={"hidden": "1", "reason": "x"}, headers={**EXPERT, **token}
    )
    assert forged.status_code == 403 and not service.run_state(db, RUN).hidden
    assert "registry:run:hide" in refused.text and not service.run_state(db, RUN).hidden
    assert "reason" in too_short.text and not service.run_state(db, RUN).hidden

    hidden = client.post(
        f"/runs/{RUN}/visibility", data={"hidden": "1", "reason": "test run"}, headers={**EXPERT, **token}
    )
    assert hidden.status_code == 200 and "hidden from the run tables" in hidden.text
    assert service.run_state(db, RUN).hidden_reason == "test run"
    page = client.get(f"/runs/{RUN}", headers=EXPERT).text
    assert 'id="hidden-run"' in page and ">Show run again</button>" in page
    shown = client.post(
        f"/runs/{RUN}/visibility", data={"hidden": "0", "reason": "was fine"}, headers={**EXPERT, **token}
    )
    assert shown.status_code == 200 and not service.run_state(db, RUN).hidden
