"""Every mutating route of the OpenAPI schema refuses without identity (401) and without e-group (403)."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from runreg.http.app import create_app
from runreg.settings import Settings
from runreg.storage.database import Database
from tests.builders.runs import create_collision_run

SECRET = "proxy-test-secret"
SAMPLE_PARAMS = {
    "run_number": "380567",
    "state": "SIGNOFF",
    "component": "dt-dt",
    "workspace": "tracker",
    "name": "PromptReco/Collisions2024A/DQM",
    "version": "1",
    "change_set_id": "1",
    "from_state": "OPEN",
    "to_state": "SIGNOFF",
    "run": "380567",
    "attribute": "class",
    "job_id": "1",
}
MUTATING = {"post", "put", "patch", "delete"}


def mutating_routes(client: TestClient) -> list[tuple[str, str]]:
    schema = client.get("/openapi.json").json()
    routes = []
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            if method in MUTATING and not operation.get("x-read-only"):
                routes.append((method.upper(), path))
    return sorted(routes)


def concrete(path: str) -> str:
    return re.sub(r"\{(\w+)(:path)?\}", lambda m: SAMPLE_PARAMS[m.group(1)], path)


@pytest.fixture
def client(db: Database) -> TestClient:
    create_collision_run(db, ls_count=20)
    settings = Settings(proxy_secret=SECRET, dev_identity=False)
    return TestClient(create_app(db, settings=settings))


def test_there_are_mutating_routes_to_check(client: TestClient) -> None:
    routes = mutating_routes(client)
    assert ("PUT", "/api/v1/runs/{run_number}/lumisections/{component}") in routes
    assert ("POST", "/api/v1/change-sets/{change_set_id}/revert") in routes
    assert len(routes) >= 12


def test_every_mutating_route_needs_an_identity(client: TestClient) -> None:
    for method, path in mutating_routes(client):
        response = client.request(method, concrete(path), json={})
        assert response.status_code == 401, (method, path, response.text)


def test_every_mutating_route_needs_the_right_egroup(client: TestClient) -> None:
    headers = {"x-runreg-proxy-secret": SECRET, "email": "someone@cern.ch", "egroups": "cms-some-other-group"}
    for method, path in mutating_routes(client):
        response = client.request(method, concrete(path), json={}, headers=headers)
        assert response.status_code == 403, (method, path, response.text)
        body = response.json()
        message = body["error"]["message"] if "error" in body else body["message"]
        assert "cms-dqm-runregistry-experts" in message, (method, path, message)


def test_a_forged_proxy_header_is_refused(client: TestClient) -> None:
    headers = {
        "x-runreg-proxy-secret": "guess",
        "email": "expert@cern.ch",
        "egroups": "cms-dqm-runregistry-experts",
    }
    response = client.put("/api/v1/runs/380567/class", json={"value": "Cosmics24"}, headers=headers)
    assert response.status_code == 401
    # Without the proxy secret the identity headers are simply not believed.
    unproven = {"email": "expert@cern.ch", "egroups": "cms-dqm-runregistry-experts"}
    assert client.put("/api/v1/runs/380567/class", json={"value": "x"}, headers=unproven).status_code == 401


def test_the_right_egroup_through_the_proxy_can_write(client: TestClient) -> None:
    headers = {
        "x-runreg-proxy-secret": SECRET,
        "email": "shifter@cern.ch",
        "egroups": "cms-dqm-runregistry-online-shifters",
    }
    response = client.put(
        "/api/v1/runs/380567/lumisections/dt-dt",
        headers=headers,
        json={"first_ls": 3, "last_ls": 4, "status": "BAD", "comment": "HV trip"},
    )
    assert response.status_code == 200, response.text
    ranges = client.get("/api/v1/runs/380567/lumisections/components").json()["dt-dt"]
    assert [(r["start"], r["end"], r["status"]) for r in ranges] == [
        (1, 2, "GOOD"),
        (3, 4, "BAD"),
        (5, 20, "GOOD"),
    ]
    history = client.get("/api/v1/runs/380567/history").json()
    assert history[0]["author"] == "shifter@cern.ch" and history[0]["actor_kind"] == "human"
