"""The Stats2 routes the original's users call, and /api/v1/workflows, over a cache filled from the cmsweb
simulator (real socket) on both engines."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from runreg.http.app import create_app
from runreg.integrations.cmsweb import connect
from runreg.settings import Settings
from runreg.simulators.cmsweb.server import SimulatedClock, run_in_thread
from runreg.simulators.cmsweb.server import create_app as create_simulator
from runreg.simulators.cmsweb.world import DAY, CmswebWorld
from runreg.storage.database import Database
from runreg.workflows import service

SECRET = "proxy-test-secret"
WORLD = CmswebWorld(seed=11, workflows=80)
NOW = WORLD.epoch + 14 * DAY
EXPERT = {"x-runreg-proxy-secret": SECRET, "email": "pdmv@cern.ch", "egroups": "cms-dqm-runregistry-experts"}
NOBODY = {"x-runreg-proxy-secret": SECRET, "email": "someone@cern.ch", "egroups": "cms-zh"}


@pytest.fixture
def client(db: Database) -> Iterator[TestClient]:
    clock = SimulatedClock(datetime.fromtimestamp(NOW, UTC), speed=0)
    with run_in_thread(create_simulator(WORLD, clock)) as server:
        sources = connect(server.base_url, f"{server.base_url}/dbs/prod/global/DBSReader", backoff_s=0.01)
        service.update(db, sources, clock=lambda: NOW)
        app = create_app(db, settings=Settings(proxy_secret=SECRET, dev_identity=False))
        app.state.cmsweb = sources
        with TestClient(app) as client:
            yield client
        sources.close()


def visible() -> list[str]:
    return sorted(p.name for p in WORLD.plans if WORLD.document(p.name, NOW) is not None)


def test_get_json_answers_the_original_document_shape(client: TestClient) -> None:
    name = visible()[0]
    response = client.get(f"/stats/api/get_json/{name}")
    assert response.status_code == 200
    doc = response.json()
    assert {
        "_id",
        "RequestName",
        "OutputDatasets",
        "Campaigns",
        "Requests",
        "TotalEvents",
        "TotalInputLumis",
        "EventNumberHistory",
        "LastUpdate",
        "RequestTransition",
        "LumiList",
        "RequestPriority",
    } <= set(doc)
    assert response.text.startswith("{\n  ")  # pretty, as the original
    assert list(doc) == sorted(doc)
    assert client.get(f"/stats/get_json/{name}").json() == doc
    missing = client.get("/stats/api/get_json/no_such_workflow")
    assert (missing.status_code, missing.json()) == (404, {})


def test_fetch_returns_every_match_without_a_cap_and_first_parameter_wins(client: TestClient) -> None:
    everything = client.get("/stats/api/fetch").json()
    assert sorted(d["_id"] for d in everything) == visible()
    rereco = client.get("/stats/api/fetch", params={"type": "ReReco"}).json()
    expected = {p.name for p in WORLD.plans if p.request_type == "ReReco" and WORLD.document(p.name, NOW)}
    assert {d["_id"] for d in rereco} == expected
    # §5.1: prepid comes before type, so the type is ignored when both are given.
    prep = next(d["PrepID"] for d in everything if d["RequestType"] == "StepChain")
    both = client.get("/stats/api/fetch", params={"type": "ReReco", "prepid": prep}).json()
    assert both and all(d["PrepID"] == prep for d in both)
    # prepid listings are chronological by the submission stamp in the name
    stamps = [service.model.submitted(d["_id"]) for d in both]
    assert stamps == sorted(stamps)


def test_md_is_a_markdown_table_with_das_links(client: TestClient) -> None:
    text = client.get("/stats/md", params={"type": "StepChain"}).text
    lines = text.splitlines()
    assert lines[0] == "| RequestName | InputDataset | OutputDatasets |"
    steps = [p for p in WORLD.plans if p.request_type == "StepChain" and WORLD.document(p.name, NOW)]
    assert len(lines) == 2 + len(steps)
    assert "das/request?view=list" in text and "%2F" in text
    assert client.get("/stats/md", params={"type": "NoSuchType"}).text == ""


def test_search_redirects_to_the_first_view_that_knows_the_value(client: TestClient) -> None:
    doc = client.get(f"/stats/api/get_json/{visible()[1]}").json()
    dataset = doc["OutputDatasets"][0]
    response = client.get("/stats/search", params={"q": dataset}, follow_redirects=False)
    assert response.status_code == 302
    assert response.headers["location"] == "/stats?output_dataset=" + dataset.replace("/", "%2F")
    unknown = client.get("/stats/search", params={"q": "zzz"}, follow_redirects=False)
    assert unknown.headers["location"] == "/stats?workflow_name=zzz"
    assert (
        client.get("/stats/search", params={"q": " "}, follow_redirects=False).headers["location"] == "/stats"
    )


def test_api_v1_combines_filters_with_wildcards_and_pages_by_cursor(client: TestClient) -> None:
    everything = client.get("/stats/api/fetch").json()
    campaign = next(c for d in everything for c in d["Campaigns"] if c.startswith("Run3Summer23"))
    wanted = {d["_id"] for d in everything if any(c.startswith("Run3Summer23") for c in d["Campaigns"])
              and d["RequestType"] == "TaskChain"}  # fmt: skip
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"campaign": "Run3Summer23*", "type": "TaskChain", "limit": 3}
        if cursor:
            params["cursor"] = cursor
        body = client.get("/api/v1/workflows", params=params).json()
        seen += [w["RequestName"] for w in body["workflows"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert campaign and seen == sorted(wanted) and len(set(seen)) == len(seen)
    too_short = client.get("/api/v1/workflows", params={"campaign": "R*"})
    assert too_short.status_code == 400 and too_short.json()["error"]["details"]["field"] == "campaign"
    assert client.get("/api/v1/workflows", params={"cursor": "garbage"}).status_code == 400


def test_api_v1_workflow_has_its_history_per_dataset(client: TestClient) -> None:
    name = next(n for n in visible() if client.get(f"/stats/api/get_json/{n}").json()["EventNumberHistory"])
    body = client.get(f"/api/v1/workflows/{name}").json()
    assert set(body["History"]) == set(body["OutputDatasets"]) | set(body["History"])
    for dataset, points in body["History"].items():
        assert [p["Time"] for p in points] == sorted(p["Time"] for p in points)
        if points:
            assert body["Datasets"][dataset]["Events"] == points[-1]["Events"]
    assert client.get("/api/v1/workflows/nope").status_code == 404


def test_updating_one_workflow_is_a_permission_checked_post(client: TestClient) -> None:
    name = visible()[2]
    assert (
        client.get("/stats/api/update", params={"workflow_name": name}).status_code == 405
    )  # no GET side effect
    assert client.post("/stats/api/update", params={"workflow_name": name}).status_code == 401
    assert client.post("/stats/api/update", params={"workflow_name": name}, headers=NOBODY).status_code == 403
    done = client.post("/stats/api/update", json={"workflow_name": name}, headers=EXPERT)
    assert done.status_code == 200 and done.json() == {
        "msg": f"Workflow {name} has been updated successfully"
    }
    missing = client.post("/stats/api/update", headers=EXPERT)
    assert missing.status_code == 400
    body = client.post(f"/api/v1/workflows/{name}/update", headers=EXPERT).json()
    assert body == {
        "workflow": name,
        "changed": False,
        "datasets_changed": 0,
        "deleted": False,
        "error": None,
    }
