"""The original HDQM routes under /hdqm/api/ (shapes of spec §8, all working) and /api/v1/trends."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from runreg.http.app import create_app
from runreg.kernel.actors import SYSTEM
from runreg.storage.database import Database
from runreg.trends import runinfo, service
from tests.builders.runs import create_collision_run
from tests.contract.trends_support import ADC, RUNS, make_files, root_mean, write_tree

ZB = {"subsystem": "PixelPhase1", "pd": "ZeroBias", "processing_string": "PromptReco"}


@pytest.fixture(scope="module")
def dqm_files(tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201
    root = tmp_path_factory.mktemp("dqm")
    return root, make_files(root)


@pytest.fixture
def client(db: Database, dqm_files, tmp_path: Path) -> TestClient:
    runinfo.forget()  # the registry is rebuilt for every test
    root, _ = dqm_files
    service.extract(db, actor=SYSTEM, tree=write_tree(tmp_path / "cfg"), root=root)
    for run in RUNS[:3]:
        create_collision_run(db, run, ls_count=20)
    create_collision_run(db, RUNS[3], ls_count=20, rr={"significant": False})
    return TestClient(create_app(db))


def test_data_has_the_original_shape_sorted_by_run_with_latest_per_trend(
    client: TestClient, dqm_files
) -> None:
    _, manifest = dqm_files
    answer = client.get("/hdqm/api/data", params={**ZB, "latest": 2})
    assert answer.status_code == 200
    body = answer.json()
    assert {item["metadata"]["name"] for item in body} == {"ADC_mean", "Charge_count"}
    adc = next(item for item in body if item["metadata"]["name"] == "ADC_mean")
    assert set(adc["metadata"]) == {
        "y_title",
        "plot_title",
        "name",
        "subsystem",
        "pd",
        "processing_string",
        "relative_path",
        "histo1_path",
        "histo2_path",
        "reference_path",
        "trend_id",
    }
    # significant runs only (RUNS[3] is not, RUNS[4] is unknown to the registry): the latest 2 of RUNS[:3]
    assert [p["run"] for p in adc["trends"]] == RUNS[1:3]
    newest = {f.run: f for f in manifest.newest() if f.primary_dataset == "ZeroBias"}
    first = adc["trends"][0]
    assert first["value"] == pytest.approx(root_mean(newest[RUNS[1]].path, RUNS[1], ADC), rel=1e-12)
    assert first["oms_info"]["fill_number"] == 9000 + RUNS[1] % 1000 and "delivered_lumi" in first["oms_info"]
    ranged = client.get("/hdqm/api/data", params={**ZB, "from_run": RUNS[0], "to_run": RUNS[1]}).json()
    assert [p["run"] for p in ranged[0]["trends"]] == RUNS[:2]
    listed = client.get(
        "/hdqm/api/data",
        params={**ZB, "runs": f"{RUNS[2]},{RUNS[0]}", "trend_id": adc["metadata"]["trend_id"]},
    ).json()
    assert len(listed) == 1 and [p["run"] for p in listed[0]["trends"]] == [RUNS[0], RUNS[2]]


def test_data_refuses_bad_requests_with_a_message(client: TestClient) -> None:
    missing = client.get("/hdqm/api/data", params={"pd": "ZeroBias", "processing_string": "PromptReco"})
    assert missing.status_code == 400 and missing.json() == {"message": "subsystem: is required"}
    both = client.get("/hdqm/api/data", params={**ZB, "latest": 3, "runs": "1,2"})
    assert both.status_code == 400 and "only one of" in both.json()["message"]
    assert client.get("/hdqm/api/data", params={**ZB, "runs": "1,x"}).json() == {
        "message": "runs: must be comma-separated run numbers"
    }
    unknown = client.get("/hdqm/api/data", params={**ZB, "pd": "Nope"})
    assert unknown.status_code == 200 and unknown.json() == []


def test_selection_plot_selection_runs_and_index(client: TestClient) -> None:
    assert client.get("/hdqm/api/").json() == "HDQM REST API"
    assert client.get("/hdqm/api/selection").json() == {
        "PixelPhase1": {"Muon-Tagged": ["ReReco-Pix-2024"], "ZeroBias": ["PromptReco"]},
        "Tracker": {"Muon-Tagged": ["ReReco-Pix-2024"], "ZeroBias": ["PromptReco"]},
    }
    plots = client.get("/hdqm/api/plot_selection").json()
    assert sorted(p["name"] for p in plots["PixelPhase1"]["ZeroBias"]["PromptReco"]) == [
        "ADC_mean",
        "Charge_count",
    ]
    assert all(isinstance(p["id"], int) for p in plots["Tracker"]["Muon-Tagged"]["ReReco-Pix-2024"])
    assert client.get("/hdqm/api/runs").json() == RUNS


def test_expand_url_redirects_to_the_dqm_gui(client: TestClient) -> None:
    trend_id = client.get("/hdqm/api/plot_selection").json()["PixelPhase1"]["ZeroBias"]["PromptReco"]
    trend_id = next(p["id"] for p in trend_id if p["name"] == "ADC_mean")
    params = {
        "run": RUNS[2],
        "trend_id": trend_id,
        "subsystem": "PixelPhase1",
        "pd": "ZeroBias",
        "ps": "PromptReco",
    }
    gui = client.get(
        "/hdqm/api/expand_url", params={**params, "url_type": "main_gui_url"}, follow_redirects=False
    )
    assert gui.status_code == 302
    assert gui.headers["location"] == (
        f"https://cmsweb.cern.ch/dqm/offline/start?runnr={RUNS[2]};dataset=/ZeroBias/Run2024A-PromptReco-v1/DQMIO;"
        f"workspace=Everything;root=PixelPhase1/Digis;focus={ADC};zoom=yes;"
    )
    image = client.get(
        "/hdqm/api/expand_url", params={**params, "url_type": "main_image_url"}, follow_redirects=False
    )
    assert image.headers["location"].startswith(
        f"https://cmsweb.cern.ch/dqm/offline/plotfairy/archive/{RUNS[2]}/ZeroBias/Run2024A-PromptReco-v1/DQMIO/{ADC}?"
    )
    none = client.get("/hdqm/api/expand_url", params={**params, "url_type": "optional1_gui_url"})
    assert none.status_code == 404 and "no optional1" in none.json()["message"]
    bad = client.get("/hdqm/api/expand_url", params={**params, "url_type": "sideways"})
    assert bad.status_code == 400 and bad.json()["message"].startswith("url_type: must be one of")


def test_v1_query_with_a_golden_json_and_run_facts(client: TestClient) -> None:
    golden = {str(RUNS[0]): [[1, 10]], str(RUNS[2]): [[1, 20]]}
    answer = client.post(
        "/api/v1/trends/query",
        json={"subsystem": "PixelPhase1", "pd": "ZeroBias", "ps": "PromptReco", "golden_json": golden},
    )
    assert answer.status_code == 200
    series = {s["trend"]["name"]: s for s in answer.json()}
    points = series["ADC_mean"]["points"]
    assert [p["run"] for p in points] == [RUNS[0], RUNS[2]]
    assert (
        points[0]["run_info"]["run_class"] == "Collisions24" and points[0]["run_info"]["certified_ls"] == 10
    )
    assert points[0]["run_info"]["certification"]  # the run's triplet summary from the registry
    everything = client.post(
        "/api/v1/trends/query",
        json={
            "trend_ids": [series["ADC_mean"]["trend"]["trend_id"]],
            "significant_only": False,
            "latest": 100,
        },
    )
    assert [p["run"] for p in everything.json()[0]["points"]] == RUNS[
        :4
    ]  # RUNS[4]: its ZeroBias file is corrupt


def test_v1_errors_name_the_field(client: TestClient) -> None:
    bad = client.post("/api/v1/trends/query", json={"latest": 0})
    assert bad.status_code == 400 and bad.json()["error"]["details"]["field"] == "latest"
    golden = client.post("/api/v1/trends/query", json={"golden_json": {"abc": [[1, 2]]}})
    assert golden.status_code == 400 and golden.json()["error"]["details"]["field"] == "golden_json"
    both = client.post("/api/v1/trends/query", json={"latest": 3, "from_run": 1, "to_run": 2})
    assert both.status_code == 400 and both.json()["error"]["details"]["field"] == "runs"
    assert client.get("/api/v1/trends/999999/points").status_code == 404


def test_v1_listing_points_rejections_configs_and_files(client: TestClient) -> None:
    listed = client.get("/api/v1/trends", params={"subsystem": "PixelPhase1", "pd": "ZeroBias"}).json()
    charge = next(t for t in listed if t["name"] == "Charge_count")
    rejections = client.get(f"/api/v1/trends/{charge['trend_id']}/rejections").json()
    assert len(rejections) == 1 and "not in the file" in rejections[0]["reason"]
    points = client.get(
        f"/api/v1/trends/{charge['trend_id']}/points", params={"significant_only": False}
    ).json()
    assert [p["run"] for p in points["points"]] == sorted(p["run"] for p in points["points"])
    configs = client.get("/api/v1/trends/configs").json()
    assert len(configs["configs"]) >= 50 and configs["problems"] == [] and configs["groups"]
    assert client.get("/api/v1/trends/files").json() == {
        "pending": 0,
        "done": 9,
        "failed": 1,
        "superseded": 2,
    }
