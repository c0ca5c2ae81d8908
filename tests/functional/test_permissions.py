"""Every mutating route: 401 without identity; 403 from the service's gate for an identity without the grant,
with a valid request (so the refusal cannot come from validation), naming the e-groups; the legacy edit route
authorizes the dataset and component of its body."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from runreg.certification import service as certification
from runreg.datasets import service as cycles
from runreg.http.app import create_app
from runreg.registry import service as registry
from runreg.settings import Settings
from runreg.storage.database import Database
from tests.builders.runs import CERTIFIER, EXPERT, create_collision_run

SECRET = "proxy-test-secret"
RUN = 380567
OFFLINE = "/PromptReco/Collisions2024A/DQM"
FLAG = {"first_ls": 3, "last_ls": 4, "status": "BAD", "comment": "HV trip"}
MUTATING = {"post", "put", "patch", "delete"}
CYCLE_STATES = {"global_state": "pending", "dt_state": "pending"}

#: A valid request for every mutating route: (concrete path, JSON body). A new route without an entry fails
#: `test_every_mutating_route_has_a_sample`.
SAMPLES: dict[tuple[str, str], tuple[str, Any]] = {
    ("PUT", "/api/v1/runs/{run_number}/class"): (f"/api/v1/runs/{RUN}/class", {"value": "Cosmics24"}),
    ("PUT", "/api/v1/runs/{run_number}/stop_reason"): (f"/api/v1/runs/{RUN}/stop_reason", {"value": "dump"}),
    ("POST", "/api/v1/runs/{run_number}/state/{state}"): (f"/api/v1/runs/{RUN}/state/SIGNOFF", None),
    ("POST", "/api/v1/runs/{run_number}/hide"): (f"/api/v1/runs/{RUN}/hide", {"reason": "a test run"}),
    ("POST", "/api/v1/runs/{run_number}/show"): (f"/api/v1/runs/{RUN}/show", {"reason": "physics"}),
    ("PUT", "/api/v1/runs/{run_number}/oms-lumisections"): (
        f"/api/v1/runs/{RUN}/oms-lumisections",
        {"first_ls": 1, "last_ls": 2, "values": {"dtp_ready": False}, "comment": "wrong bit"},
    ),
    ("PUT", "/api/v1/runs/{run_number}/lumisections/{component}"): (
        f"/api/v1/runs/{RUN}/lumisections/dt-dt",
        FLAG,
    ),
    ("PUT", "/api/v1/datasets/{run_number}/{name}/lumisections/{component}"): (
        f"/api/v1/datasets/{RUN}{OFFLINE}/lumisections/dt-dt",
        FLAG,
    ),
    ("POST", "/api/v1/datasets/{run_number}/{name}/workspaces/{workspace}/state/{state}"): (
        f"/api/v1/datasets/{RUN}{OFFLINE}/workspaces/dt/state/SIGNOFF",
        None,
    ),
    ("PUT", "/api/v1/datasets/{run_number}/{name}/oms-lumisections"): (
        f"/api/v1/datasets/{RUN}{OFFLINE}/oms-lumisections",
        {"first_ls": 1, "last_ls": 2, "values": {"cms_active": False}, "comment": "CMS not active"},
    ),
    ("POST", "/api/v1/dataset-moves"): (
        "/api/v1/dataset-moves",
        {
            "moves": [{"run_number": RUN, "dataset": OFFLINE, "workspace": "dt", "to_state": "SIGNOFF"}],
            "comment": "dt certified",
        },
    ),
    ("POST", "/api/v1/change-sets/{change_set_id}/revert"): ("/api/v1/change-sets/2/revert", None),
    ("POST", "/api/v1/runs/{run_number}/refresh"): (f"/api/v1/runs/{RUN}/refresh", None),
    ("POST", "/api/v1/runs/{run_number}/reset_and_refresh"): (f"/api/v1/runs/{RUN}/reset_and_refresh", None),
    ("POST", "/api/v1/runs/{run_number}/significant"): (f"/api/v1/runs/{RUN}/significant", None),
    ("POST", "/api/v1/configuration"): ("/api/v1/configuration", "CURRENT_YAML"),
    ("POST", "/api/v1/configuration/versions/{version}/restore"): (
        "/api/v1/configuration/versions/1/restore",
        {},
    ),
    ("POST", "/api/v1/jsons"): ("/api/v1/jsons", {"dataset_pattern": "online", "preset": "golden"}),
    ("POST", "/api/v1/luminosity/brilcalc"): (
        "/api/v1/luminosity/brilcalc",
        "#run:fill,ls,delivered,recorded",
    ),
    ("DELETE", "/api/v1/jsons/{job_id}"): ("/api/v1/jsons/1", None),
    ("POST", "/runs/move_run/{from_state}/{to_state}"): ("/runs/move_run/OPEN/SIGNOFF", {"run_number": RUN}),
    ("PUT", "/lumisections/edit_rr_lumisections"): (
        "/lumisections/edit_rr_lumisections",
        {
            "new_lumisection_range": {"start": 3, "end": 4, "status": "BAD", "comment": "HV trip"},
            "run_number": RUN,
            "dataset_name": "online",
            "component": "dt-dt",
        },
    ),
    ("PUT", "/lumisections/edit_oms_lumisections"): (
        "/lumisections/edit_oms_lumisections",
        {
            "new_lumisection_range": {"start": 3, "end": 4, "status": "false", "comment": "DT+ off"},
            "run_number": RUN,
            "dataset_name": OFFLINE,
            "component": "dtp_ready",
        },
    ),
    ("POST", "/datasets/{workspace}/move_dataset/{from_state}/{to_state}"): (
        "/datasets/dt/move_dataset/OPEN/SIGNOFF",
        {"run_number": RUN, "dataset_name": OFFLINE, "workspace": "dt"},
    ),
    ("PUT", "/manual_run_edit/{run}/class"): (f"/manual_run_edit/{RUN}/class", {"class": "Cosmics24"}),
    ("PUT", "/manual_run_edit/{run}/stop_reason"): (
        f"/manual_run_edit/{RUN}/stop_reason",
        {"stop_reason": "x"},
    ),
    ("POST", "/runs/mark_significant"): ("/runs/mark_significant", {"run_number": RUN}),
    ("POST", "/runs/refresh_run/{run_number}"): (f"/runs/refresh_run/{RUN}", None),
    ("POST", "/runs/reset_and_refresh_run/{run_number}"): (f"/runs/reset_and_refresh_run/{RUN}", None),
    ("POST", "/api/v1/workflows/{name}/update"): ("/api/v1/workflows/some_workflow/update", None),
    ("POST", "/stats/api/update"): ("/stats/api/update", {"workflow_name": "some_workflow"}),
    ("POST", "/cycles"): (
        "/cycles",
        {
            "cycle_name": "another",
            "deadline": "2024-07-15",
            "cycle_attributes": {"global_state": "pending"},
            "filter": {"name": OFFLINE},
        },
    ),
    ("PUT", "/cycles"): (
        "/cycles",
        {"id_cycle": 1, "cycle_name": "renamed", "deadline": "2024-07-15", "cycle_attributes": CYCLE_STATES},
    ),
    ("DELETE", "/cycles"): ("/cycles", {"id_cycle": 1}),
    ("POST", "/cycles/add_datasets_to_cycle"): (
        "/cycles/add_datasets_to_cycle",
        {"id_cycle": 1, "filter": {"name": OFFLINE}},
    ),
    ("POST", "/cycles/delete_datasets_from_cycle"): (
        "/cycles/delete_datasets_from_cycle",
        {"id_cycle": 1, "filter": {"name": OFFLINE}},
    ),
    ("PUT", "/cycles/mark_cycle_complete/{workspace}"): ("/cycles/mark_cycle_complete/dt", {"id_cycle": 1}),
    ("PUT", "/cycles/mark_cycle_pending/{workspace}"): ("/cycles/mark_cycle_pending/dt", {"id_cycle": 1}),
    ("POST", "/cycles/move_all_datasets_to/{workspace}"): (
        "/cycles/move_all_datasets_to/dt",
        {"id_cycle": 1, "to_state": "SIGNOFF"},
    ),
    ("POST", "/cycles/move_dataset/{workspace}/{from_state}/{to_state}"): (
        "/cycles/move_dataset/dt/OPEN/SIGNOFF",
        {"id_cycle": 1, "run_number": RUN, "dataset_name": OFFLINE, "workspace": "dt"},
    ),
    ("POST", "/api/v1/cycles"): (
        "/api/v1/cycles",
        {"name": "another", "deadline": "2024-07-15", "workspaces": ["global"], "filter": {"name": OFFLINE}},
    ),
    ("PUT", "/api/v1/cycles/{cycle_id}"): (
        "/api/v1/cycles/1",
        {"name": "renamed", "deadline": "2024-07-15", "workspaces": ["global", "dt"]},
    ),
    ("DELETE", "/api/v1/cycles/{cycle_id}"): ("/api/v1/cycles/1", None),
    ("POST", "/api/v1/cycles/{cycle_id}/datasets"): (
        "/api/v1/cycles/1/datasets",
        {"filter": {"name": OFFLINE}},
    ),
    ("POST", "/api/v1/cycles/{cycle_id}/datasets/remove"): (
        "/api/v1/cycles/1/datasets/remove",
        {"filter": {"name": OFFLINE}},
    ),
    ("POST", "/api/v1/cycles/{cycle_id}/workspaces/{workspace}/state/{state}"): (
        "/api/v1/cycles/1/workspaces/dt/state/completed",
        None,
    ),
    ("POST", "/api/v1/cycles/{cycle_id}/workspaces/{workspace}/datasets/state/{state}"): (
        "/api/v1/cycles/1/workspaces/dt/datasets/state/SIGNOFF",
        None,
    ),
    ("POST", "/api/v1/cycles/{cycle_id}/datasets/{run_number}/{name}/workspaces/{workspace}/state/{state}"): (
        f"/api/v1/cycles/1/datasets/{RUN}{OFFLINE}/workspaces/dt/state/SIGNOFF",
        None,
    ),
    ("POST", "/dc_tools/duplicate_datasets"): (
        "/dc_tools/duplicate_datasets",
        {"filter": {"name": OFFLINE}, "source_dataset_name": OFFLINE, "target_dataset_name": "/Copy/DQM"},
    ),
    ("POST", "/dc_tools/copy_column_from_datasets"): (
        "/dc_tools/copy_column_from_datasets",
        {
            "filter": {"name": OFFLINE},
            "source_dataset_name": OFFLINE,
            "target_dataset_name": "/Other/DQM",
            "columns_to_copy": ["dt-dt"],
        },
    ),
    ("POST", "/dc_tools/dataset_column_batch_update"): (
        "/dc_tools/dataset_column_batch_update",
        {
            "filter": {"name": OFFLINE},
            "columns_to_update": ["dt-dt"],
            "new_status": "BAD",
            "comment": "noise",
        },
    ),
    ("POST", "/dc_tools/change_multiple_dataset_states/{workspace}/{from_state}/{to_state}"): (
        "/dc_tools/change_multiple_dataset_states/dt/OPEN/SIGNOFF",
        {"filter": {"name": OFFLINE}},
    ),
    ("POST", "/dc_tools/change_multiple_dataset_states_in_all_workspaces/{to_state}"): (
        "/dc_tools/change_multiple_dataset_states_in_all_workspaces/SIGNOFF",
        {"filter": {"name": OFFLINE}},
    ),
    ("DELETE", "/dc_tools/hide_datasets"): (
        "/dc_tools/hide_datasets",
        {"filter": {"name": OFFLINE}, "reason_for_hiding": "wrong era"},
    ),
    ("POST", "/api/v1/dctools/{tool}"): (
        "/api/v1/dctools/hide",
        {"filter": {"name": OFFLINE}, "reason": "wrong era"},
    ),
    ("POST", "/api/v1/predictions"): (
        "/api/v1/predictions",
        {
            "run_number": RUN,
            "dataset": OFFLINE,
            "model": "dt-ae",
            "version": "1",
            "predictions": {"dt-dt": [{"first_ls": 1, "last_ls": 20, "status": "GOOD", "score": 0.9}]},
        },
    ),
    ("POST", "/json_portal/generate"): (
        "/json_portal/generate",
        {"json_logic": {"==": [{"var": "lumisection.rr.dt-dt"}, "GOOD"]}, "dataset_name_filter": "online"},
    ),
}


class NullRunner:
    def submit(self, job_id: int) -> None:
        pass


class NoOms:
    def run(self, run_number: int) -> Any:
        raise AssertionError("OMS reached before the permission check")

    def lumisections(self, run_number: int, **_: Any) -> Any:
        raise AssertionError("OMS reached before the permission check")


def mutating_routes(client: TestClient) -> list[tuple[str, str]]:
    schema = client.get("/openapi.json").json()
    return sorted(
        (method.upper(), path)
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
        if method in MUTATING and not operation.get("x-read-only")
    )


@pytest.fixture
def client(db: Database) -> TestClient:
    create_collision_run(db, RUN, ls_count=20)
    registry.create_dataset(
        db,
        actor=EXPERT,
        run_number=RUN,
        name=OFFLINE,
        attributes={"global_state": "OPEN", "dt_state": "OPEN"},
    )
    certification.submit(db, NullRunner(), actor=CERTIFIER, dataset_pattern="online", preset="golden")
    cycles.create_cycle(
        db,
        actor=CERTIFIER,
        name="cycle",
        deadline="2024-07-15",
        workspaces=["global", "dt"],
        filter={"name": OFFLINE},
    )
    settings = Settings(proxy_secret=SECRET, dev_identity=False)
    return TestClient(create_app(db, settings=settings, oms=NoOms()))


def request(client: TestClient, route: tuple[str, str], headers: dict[str, str] | None = None) -> Any:
    path, body = SAMPLES[route]
    if body == "CURRENT_YAML":
        yaml = client.get("/api/v1/configuration?format=yaml").text
        body = {"yaml": yaml, "comment": "same again"}
    return client.request(route[0], path, json=body, headers=headers or {})


def proxy(email: str, egroups: str) -> dict[str, str]:
    return {"x-runreg-proxy-secret": SECRET, "email": email, "egroups": egroups}


def test_every_mutating_route_has_a_sample(client: TestClient) -> None:
    assert set(mutating_routes(client)) == set(SAMPLES)


def test_every_mutating_route_needs_an_identity(client: TestClient) -> None:
    for route in mutating_routes(client):
        response = request(client, route)
        assert response.status_code == 401, (route, response.text)


def test_every_mutating_route_is_gated_by_the_service(client: TestClient, db: Database) -> None:
    history = client.get("/api/v1/change-sets").json()
    for route in mutating_routes(client):
        response = request(client, route, proxy("someone@cern.ch", "cms-some-other-group"))
        assert response.status_code == 403, (route, response.text)
        body = response.json()
        message = body["error"]["message"] if "error" in body else body["message"]
        assert "someone@cern.ch may not" in message and "cms-dqm-runregistry-experts" in message, (
            route,
            message,
        )
    assert client.get("/api/v1/change-sets").json() == history  # nothing written


def test_the_legacy_edit_route_authorizes_the_dataset_and_component_of_its_body(client: TestClient) -> None:
    gem = proxy("gem@cern.ch", "cms-dqm-runregistry-offline-gem-certifiers")
    dt = proxy("dt@cern.ch", "cms-dqm-runregistry-offline-dt-certifiers")
    edit = {
        "new_lumisection_range": {"start": 3, "end": 4, "status": "BAD", "comment": "chamber noise"},
        "run_number": RUN,
        "dataset_name": OFFLINE,
        "component": "dt-dt",
    }
    refused = client.put("/lumisections/edit_rr_lumisections", json=edit, headers=gem)
    assert refused.status_code == 403, refused.text
    assert "cms-dqm-runregistry-offline-dt-certifiers" in refused.json()["message"]
    online = client.put(
        "/lumisections/edit_rr_lumisections", json={**edit, "dataset_name": "online"}, headers=dt
    )
    assert online.status_code == 403, online.text  # an offline certifier never edits the online dataset
    allowed = client.put("/lumisections/edit_rr_lumisections", json=edit, headers=dt)
    assert allowed.status_code == 200, allowed.text
    ranges = client.get(f"/api/v1/runs/{RUN}/lumisections/components", params={"dataset": OFFLINE}).json()[
        "dt-dt"
    ]
    assert [(r["start"], r["end"], r["status"]) for r in ranges if "status" in r] == [(3, 4, "BAD")]


def test_a_forged_proxy_header_is_refused(client: TestClient) -> None:
    forged = {
        "x-runreg-proxy-secret": "guess",
        "email": "expert@cern.ch",
        "egroups": "cms-dqm-runregistry-experts",
    }
    response = client.put(f"/api/v1/runs/{RUN}/class", json={"value": "Cosmics24"}, headers=forged)
    assert response.status_code == 401
    # Without the proxy secret the identity headers are simply not believed.
    unproven = {"email": "expert@cern.ch", "egroups": "cms-dqm-runregistry-experts"}
    assert client.put(f"/api/v1/runs/{RUN}/class", json={"value": "x"}, headers=unproven).status_code == 401


def test_an_outside_identity_never_carries_the_workers_egroup(client: TestClient) -> None:
    worker_claim = proxy("intruder@cern.ch", "runreg-services")
    response = request(client, ("POST", "/api/v1/runs/{run_number}/significant"), worker_claim)
    assert response.status_code == 403
    assert "intruder@cern.ch may not" in response.json()["error"]["message"]


def test_the_right_egroup_through_the_proxy_can_write(client: TestClient) -> None:
    headers = proxy("shifter@cern.ch", "cms-dqm-runregistry-online-shifters")
    response = client.put(f"/api/v1/runs/{RUN}/lumisections/dt-dt", headers=headers, json=FLAG)
    assert response.status_code == 200, response.text
    ranges = client.get(f"/api/v1/runs/{RUN}/lumisections/components").json()["dt-dt"]
    assert [(r["start"], r["end"], r["status"]) for r in ranges] == [
        (1, 2, "GOOD"),
        (3, 4, "BAD"),
        (5, 20, "GOOD"),
    ]
    history = client.get(f"/api/v1/runs/{RUN}/history").json()
    assert history[0]["author"] == "shifter@cern.ch" and history[0]["actor_kind"] == "human"
