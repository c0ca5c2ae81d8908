"""Luminosity as people reach it: `runreg lumi import|show`, `runreg json lumi`, the /api/v1 upload and the
original's get_data_of_json / luminosity routes."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from runreg.configuration import service as configuration
from runreg.http.app import create_app
from runreg.kernel.actors import SYSTEM
from runreg.settings import Settings
from runreg.storage import migrate
from runreg.storage.database import Database
from tests.builders.runs import create_collision_run
from tests.contract.test_json_portal import PROMPT, offline_dataset
from tests.contract.test_luminosity import brilcalc
from tests.functional.test_cli_and_http import runreg

SECRET = "lumi-test-secret"
LUM_ADMIN = {
    "x-runreg-proxy-secret": SECRET,
    "email": "lumi@cern.ch",
    "egroups": "cms-dqm-runregistry-admins-lum",
}


@pytest.fixture
def cli_world(tmp_path: Path) -> tuple[dict[str, str], Path]:
    url = f"sqlite:///{tmp_path / 'lumi.sqlite'}"
    db = Database(url)
    migrate.upgrade(db)
    configuration.ensure_default(db, actor=SYSTEM)
    create_collision_run(db, 380001, ls_count=10, components=("dt-dt",))
    db.dispose()
    return {**os.environ, "RUNREG_DATABASE_URL": url, "COLUMNS": "200"}, tmp_path


def test_import_then_show_then_the_luminosity_of_a_json(cli_world: tuple[dict[str, str], Path]) -> None:
    env, tmp = cli_world
    csv = tmp / "brilcalc.csv"
    csv.write_text(brilcalc(380001, 10))
    imported = runreg(env, "lumi", "import", str(csv), "--comment", "2024 normtag")
    assert imported.returncode == 0, imported.stderr
    assert "1 runs, 10 LS (normtag_BRIL.json); recorded 1.0000 /pb" in imported.stdout

    shown = runreg(env, "lumi", "show", "380001")
    assert shown.returncode == 0
    lines = [line for line in shown.stdout.splitlines() if "brilcalc" in line or " oms " in line]
    assert "brilcalc (normtag normtag_BRIL.json)" in lines[0] and "oms" in lines[1]  # best first

    golden = tmp / "golden.json"
    golden.write_text(json.dumps({"380001": [[1, 5]]}))
    lumi = runreg(env, "json", "lumi", str(golden))
    assert lumi.returncode == 0, lumi.stderr
    assert (
        "5 LS, delivered 0.5500 /pb, recorded 0.5000 /pb (brilcalc (normtag normtag_BRIL.json): 1 run)"
        in (lumi.stdout)
    )


def test_a_bad_file_names_its_line_and_exits_non_zero(cli_world: tuple[dict[str, str], Path]) -> None:
    env, tmp = cli_world
    csv = tmp / "bad.csv"
    csv.write_text(brilcalc(380001, 3) + "380001:9001,4:4,t,STABLE BEAMS,6800,x,1,50,HFET\n")
    refused = runreg(env, "lumi", "import", str(csv))
    assert refused.returncode == 1
    assert "line 6: delivered 'x' is not a number" in refused.stderr
    assert "no luminosity" not in runreg(env, "lumi", "show", "380001").stdout  # OMS still there, alone


@pytest.fixture
def client(db: Database) -> TestClient:
    for run in (380001, 380002):
        create_collision_run(db, run, ls_count=10, components=("dt-dt",))
        offline_dataset(db, run)
    return TestClient(create_app(db, settings=Settings(proxy_secret=SECRET, dev_identity=False)))


def test_upload_a_brilcalc_file_over_http(client: TestClient) -> None:
    sent = client.post(
        "/api/v1/luminosity/brilcalc?filename=b.csv",
        content=brilcalc(380002, 10),
        headers={**LUM_ADMIN, "content-type": "text/csv"},
    )
    assert sent.status_code == 201, sent.text
    assert sent.json()["runs"] == 1 and sent.json()["lumisections"] == 10
    sources = client.get("/api/v1/runs/380002/luminosity").json()
    assert [s["label"] for s in sources] == ["brilcalc (normtag normtag_BRIL.json)", "oms"]
    figures = client.post(
        "/api/v1/luminosity/of-json", json={"json": {"380001": [[1, 2]], "380002": [[1, 2]]}}
    )
    assert figures.json()["recorded"] == pytest.approx(0.1 + 0.2)
    assert client.get("/api/v1/luminosity/imports").json()[0]["filename"] == "b.csv"


def test_a_bad_upload_is_a_400_naming_the_line(client: TestClient) -> None:
    sent = client.post(
        "/api/v1/luminosity/brilcalc",
        content=brilcalc(380002, 2) + "garbage\n",
        headers={**LUM_ADMIN, "content-type": "text/csv"},
    )
    assert sent.status_code == 400, sent.text
    assert sent.json()["error"]["details"]["field"] == "file", sent.text
    assert "line 5: 1 fields, the header has 9" in sent.json()["error"]["message"]
    backwards = client.post("/api/v1/luminosity/of-json", json={"json": {"380001": [[5, 2]]}})
    assert backwards.status_code == 400 and "ends before it starts" in backwards.text


def test_the_originals_luminosity_routes(client: TestClient) -> None:
    data = client.post("/lumisections/get_data_of_json", json={"json": {f"380001-{PROMPT}": [[1, 2]]}})
    assert data.status_code == 200, data.text
    answer = data.json()
    assert answer["total_recorded_luminosity"] == pytest.approx(0.1)
    assert answer["json_with_data"][f"380001-{PROMPT}"]["1"]["lumisection"]["oms"][
        "recorded"
    ] == pytest.approx(0.05)
    by_key = client.post(
        "/lumisections/get_luminosity_of_json_with_dataset_names",
        json={"json_with_dataset_names": {f"380002-{PROMPT}": [[1, 10]]}},
    )
    assert by_key.json() == {f"380002-{PROMPT}": pytest.approx(0.5)}


def test_the_originals_oms_lumisections_carry_the_per_ls_luminosity(client: TestClient) -> None:
    per_ls = client.post(
        "/lumisections/oms_lumisections", json={"run_number": 380001, "dataset_name": "online"}
    ).json()
    assert len(per_ls) == 10
    assert per_ls[0]["recorded_lumi"] == pytest.approx(0.05)
    assert per_ls[0]["delivered_lumi"] == pytest.approx(0.06)
    assert per_ls[0]["cms_active"] is True  # the DCS bits are still there beside it
    offline = client.post(
        "/lumisections/oms_lumisections", json={"run_number": 380001, "dataset_name": PROMPT}
    ).json()
    assert offline[9]["recorded_lumi"] == pytest.approx(0.05)  # an offline dataset sees the run's OMS values
