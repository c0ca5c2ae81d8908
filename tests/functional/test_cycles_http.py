"""Cycles over HTTP: the original's routes with their bodies and answers, /api/v1 in runreg's style; bad
input answers 4xx naming the field and writes nothing."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

from runreg.datasets import service as cycles
from runreg.http.app import create_app
from runreg.registry import service as registry
from runreg.settings import Settings
from runreg.storage.database import Database
from tests.builders.cycles import EXPRESS, PROMPT, offline_runs

SECRET = "cycles-http-secret"
RUNS = (379501, 379502, 379503)
DC = {
    "x-runreg-proxy-secret": SECRET,
    "email": "dc@cern.ch",
    "egroups": "cms-dqm-runregistry-data-certification",
}
DT = {
    "x-runreg-proxy-secret": SECRET,
    "email": "dt@cern.ch",
    "egroups": "cms-dqm-runregistry-offline-dt-certifiers",
}
NEW = {
    "cycle_name": "2024C prompt",
    "deadline": "2024-07-15T18:00:00Z",
    "cycle_attributes": {"global_state": "pending", "dt_state": "pending"},
    "filter": {"name": PROMPT},
}


@pytest.fixture
def client(db: Database) -> TestClient:
    offline_runs(db, RUNS, names=(PROMPT, EXPRESS))
    settings = Settings(proxy_secret=SECRET, dev_identity=False)
    return TestClient(create_app(db, settings=settings))


def history_size(db: Database) -> tuple[int, int]:
    listed = cycles.list_cycles(db, include_deleted=True)
    return len(listed), sum(len(cycles.cycle_view(db, c.id).history) for c in listed)


def dt_states(client: TestClient) -> dict[int, str]:
    [cycle] = client.get("/cycles/dt").json()
    return {d["run_number"]: d["dataset_attributes"]["dt_state"] for d in cycle["datasets"]}


# -- the original's routes -----------------------------------------------------------------------------------
def test_the_web_uis_routes_create_list_and_complete_a_cycle(client: TestClient) -> None:
    created = client.post("/cycles", json=NEW, headers=DC)
    assert created.status_code == 200, created.text
    body = created.json()
    assert body["cycle_name"] == "2024C prompt" and body["deadline"] == "2024-07-15T18:00:00.000Z"
    assert [(d["run_number"], d["name"]) for d in body["datasets"]] == [
        (run, PROMPT) for run in reversed(RUNS)
    ]
    assert [(r["id_cycle"], r["run_number"]) for r in body["CycleDataset"]] == [
        (1, run) for run in reversed(RUNS)
    ]

    [listed] = client.get("/cycles/global").json()
    assert {"id_cycle", "cycle_name", "cycle_attributes", "deadline", "datasets", "deleted"} <= set(listed)
    assert listed["cycle_attributes"] == {"global_state": "pending", "dt_state": "pending"}
    assert listed["datasets"][0]["dataset_attributes"]["dt_state"] == "OPEN"

    refused = client.put("/cycles/mark_cycle_complete/dt", json={"id_cycle": 1}, headers=DT)
    assert refused.status_code == 500 and "3 of its datasets are not COMPLETED" in refused.json()["err"]
    moved = client.post(
        "/cycles/move_all_datasets_to/dt", json={"id_cycle": 1, "to_state": "COMPLETED"}, headers=DT
    )
    assert moved.status_code == 200, moved.text
    assert {d["dataset_attributes"]["dt_state"] for d in moved.json()["datasets"]} == {"COMPLETED"}
    done = client.put("/cycles/mark_cycle_complete/dt", json={"id_cycle": 1}, headers=DT)
    assert done.status_code == 200 and done.json()["cycle_attributes"]["dt_state"] == "completed"
    assert "datasets" not in done.json()  # the saved row, as the original answers

    back = client.put("/cycles/mark_cycle_pending/dt", json={"id_cycle": 1}, headers=DT)
    assert back.json()["cycle_attributes"]["dt_state"] == "pending"
    reopened = client.post(
        "/cycles/move_dataset/dt/COMPLETED/OPEN",
        json={"id_cycle": 1, "run_number": RUNS[0], "dataset_name": PROMPT, "workspace": "dt"},
        headers=DT,
    )
    assert reopened.status_code == 200, reopened.text
    assert reopened.json()["dataset_attributes"]["dt_state"] == "OPEN" and reopened.json()["name"] == PROMPT
    stale = client.post(
        "/cycles/move_dataset/dt/COMPLETED/SIGNOFF",
        json={"id_cycle": 1, "run_number": RUNS[0], "dataset_name": PROMPT, "workspace": "dt"},
        headers=DT,
    )
    assert stale.status_code == 500 and "is OPEN in dt, not COMPLETED" in stale.json()["err"]
    assert dt_states(client)[RUNS[0]] == "OPEN"


def test_edit_membership_and_delete_through_the_original_routes(client: TestClient) -> None:
    client.post("/cycles", json={**NEW, "filter": {"name": PROMPT, "run_number": RUNS[0]}}, headers=DC)
    grown = client.post("/cycles/add_datasets", json={"id_cycle": 1, "filter": {"name": PROMPT}}, headers=DC)
    assert grown.status_code == 200 and len(grown.json()["datasets"]) == 3
    again = client.post(
        "/cycles/add_datasets_to_cycle", json={"id_cycle": 1, "filter": {"name": EXPRESS}}, headers=DC
    )
    assert len(again.json()["datasets"]) == 6
    shrunk = client.post(
        "/cycles/delete_datasets_from_cycle", json={"id_cycle": 1, "filter": {"name": EXPRESS}}, headers=DC
    )
    assert len(shrunk.json()["datasets"]) == 3
    edited = client.put(
        "/cycles",
        json={
            "id_cycle": 1,
            "cycle_name": "2024C prompt v2",
            "deadline": "2024-07-20",
            "cycle_attributes": {"global_state": "pending", "dt_state": "pending", "csc_state": "pending"},
        },
        headers=DC,
    )
    assert edited.status_code == 200, edited.text
    assert edited.json()["cycle_attributes"] == {
        "global_state": "pending",
        "dt_state": "pending",
        "csc_state": "pending",
    }
    deleted = client.request("DELETE", "/cycles", json={"id_cycle": 1}, headers=DC)
    assert deleted.status_code == 200 and deleted.json()["deleted"] is True
    assert client.get("/cycles/global").json() == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**NEW, "cycle_name": ""}, "cycle_name"),
        ({**NEW, "deadline": "someday"}, "deadline"),
        ({**NEW, "cycle_attributes": {"dt_state": "pending"}}, "cycle_attributes"),
        ({**NEW, "cycle_attributes": {"global": "pending"}}, "cycle_attributes.global"),
        ({**NEW, "cycle_attributes": {"global_state": "completed"}}, "cycle_attributes.global_state"),
        ({**NEW, "filter": {"name": "/No/Such/DQM"}}, "filter"),
        ({**NEW, "filter": [1, 2]}, "filter"),
        ({**NEW, "filter": {"run_number": {"~": 1}}}, "filter"),
    ],
)
def test_bad_legacy_input_names_the_original_field_and_writes_nothing(
    client: TestClient, db: Database, body: dict[str, Any], field: str
) -> None:
    response = client.post("/cycles", json=body, headers=DC)
    assert response.status_code in (400, 500), response.text
    assert response.json()["err"].startswith(field), response.json()
    assert history_size(db) == (0, 0)


# -- /api/v1 -------------------------------------------------------------------------------------------------
def test_api_v1_creates_previews_completes_and_tells_who_did_it(client: TestClient, db: Database) -> None:
    preview = client.get("/api/v1/cycles/preview", params={"filter": json.dumps({"name": PROMPT})})
    assert preview.json()["count"] == 3 and preview.json()["datasets"][0] == {
        "run_number": RUNS[2],
        "name": PROMPT,
    }
    created = client.post(
        "/api/v1/cycles",
        json={
            "name": "c",
            "deadline": "2024-07-15",
            "workspaces": ["global", "dt"],
            "filter": {"name": PROMPT},
        },
        headers=DC,
    )
    assert created.status_code == 201, created.text
    cycle_id = created.json()["id"]
    assert created.json()["datasets_count"] == 3 and created.json()["states"] == {
        "global": "pending",
        "dt": "pending",
    }

    refused = client.post(f"/api/v1/cycles/{cycle_id}/workspaces/dt/state/completed", headers=DT)
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "invalid_state"
    moved = client.post(f"/api/v1/cycles/{cycle_id}/workspaces/dt/datasets/state/COMPLETED", headers=DT)
    assert moved.status_code == 200 and len(moved.json()["moved"]) == 3
    assert moved.json()["change_set_id"] is not None
    done = client.post(
        f"/api/v1/cycles/{cycle_id}/workspaces/dt/state/completed", json={"comment": "all fine"}, headers=DT
    )
    assert done.status_code == 200 and done.json()["states"]["dt"] == "completed"

    detail = client.get(f"/api/v1/cycles/{cycle_id}").json()
    assert detail["progress"]["dt"] == {"completed": 3, "to_certify": 3}
    assert detail["datasets"][0]["states"] == {"global": "OPEN", "dt": "COMPLETED"}
    newest = client.get(f"/api/v1/cycles/{cycle_id}/history").json()[0]
    assert (newest["kind"], newest["author"], newest["workspace"], newest["comment"]) == (
        "completed",
        "dt@cern.ch",
        "dt",
        "all fine",
    )
    one = client.post(
        f"/api/v1/cycles/{cycle_id}/datasets/{RUNS[0]}{PROMPT}/workspaces/global/state/SIGNOFF",
        json={"from_state": "OPEN"},
        headers=DC,
    )
    assert one.status_code == 200, one.text
    assert registry.run_state(db, RUNS[0]).datasets[PROMPT].attributes["global_state"] == "SIGNOFF"


@pytest.mark.parametrize(
    ("method", "path", "body", "field"),
    [
        ("POST", "/api/v1/cycles", {"name": "c", "deadline": "x", "workspaces": ["global"]}, "deadline"),
        ("POST", "/api/v1/cycles", {"name": "c", "deadline": "2024-07-15", "workspaces": []}, "workspaces"),
        (
            "POST",
            "/api/v1/cycles",
            {"name": "c", "deadline": "2024-07-15", "workspaces": ["dt"]},
            "workspaces",
        ),
        ("POST", "/api/v1/cycles", {"name": "", "deadline": "2024-07-15", "workspaces": ["global"]}, "name"),
        ("POST", "/api/v1/cycles/1/workspaces/dt/state/done", None, "state"),
        ("POST", "/api/v1/cycles/1/workspaces/dt/datasets/state/FINISHED", None, "to_state"),
        ("POST", "/api/v1/cycles/1/workspaces/ecal/state/completed", None, "workspace"),
        ("POST", "/api/v1/cycles/1/datasets", {"filter": {"name": "/No/Such/DQM"}}, "filter"),
        (
            "PUT",
            "/api/v1/cycles/1",
            {"name": "c", "deadline": "2024-07-15", "workspaces": ["global", "x"]},
            "workspaces",
        ),
    ],
)
def test_bad_api_input_is_a_400_naming_the_field_and_writes_nothing(
    client: TestClient, db: Database, method: str, path: str, body: Any, field: str
) -> None:
    client.post(
        "/api/v1/cycles",
        json={
            "name": "c0",
            "deadline": "2024-07-15",
            "workspaces": ["global", "dt"],
            "filter": {"name": PROMPT},
        },
        headers=DC,
    )
    before = history_size(db)
    response = client.request(method, path, json=body, headers=DC)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["details"]["field"] == field
    assert history_size(db) == before


def test_an_unknown_cycle_is_a_404(client: TestClient) -> None:
    assert client.get("/api/v1/cycles/77").status_code == 404
    response = client.post("/api/v1/cycles/77/workspaces/dt/state/completed", headers=DC)
    assert response.status_code == 404 and "cycle 77 does not exist" in response.json()["error"]["message"]
