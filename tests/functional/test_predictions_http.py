"""/api/v1/predictions over HTTP: an agent behind the SSO proxy posts predictions (recorded as an agent), bad
input answers 400 naming the field and writes nothing, people without the grant get 403, and anyone reads
the predictions of a dataset, the models and the agreement with the certifiers."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from runreg.http.app import create_app
from runreg.registry import service as registry
from runreg.registry.service import FlagEdit
from runreg.settings import Settings
from runreg.storage.database import Database
from tests.builders.runs import CERTIFIER, EXPERT, create_collision_run

SECRET = "proxy-test-secret"
RUN = 380567
OFFLINE = "/PromptReco/Collisions2024A/DQM"
AGENT = {
    "x-runreg-proxy-secret": SECRET,
    "email": "tracker-ml@cern.ch",
    "egroups": "cms-dqm-runregistry-ml-agents",
}
SHIFTER = {**AGENT, "email": "shifter@cern.ch", "egroups": "cms-dqm-runregistry-online-shifters"}


def body(**changes: Any) -> dict[str, Any]:
    return {
        "run_number": RUN,
        "dataset": OFFLINE,
        "model": "tracker-ae",
        "version": "1.2.0",
        "predictions": {
            "tracker-pixel": [
                {"first_ls": 1, "last_ls": 40, "status": "GOOD", "score": 0.95},
                {"first_ls": 41, "last_ls": 50, "status": "BAD", "score": 0.8},
            ]
        },
        **changes,
    }


@pytest.fixture
def client(db: Database) -> TestClient:
    create_collision_run(db, RUN, ls_count=50, components=("tracker-pixel",))
    registry.create_dataset(
        db,
        actor=EXPERT,
        run_number=RUN,
        name=OFFLINE,
        attributes={"global_state": "OPEN", "tracker_state": "OPEN"},
    )
    return TestClient(create_app(db, settings=Settings(proxy_secret=SECRET, dev_identity=False)))


def test_an_agent_posts_and_anyone_reads_the_predictions(client: TestClient) -> None:
    posted = client.post("/api/v1/predictions", json=body(), headers=AGENT)
    assert posted.status_code == 200, posted.text
    assert posted.json() == {
        "submission_id": 1,
        "components": ["tracker-pixel"],
        "ranges": 2,
        "lumisections": 50,
        "stored_ranges": 2,
    }
    read = client.get(f"/api/v1/predictions/{RUN}", params={"dataset": OFFLINE})  # no identity needed
    assert read.status_code == 200, read.text
    (pixel,) = read.json()["predictions"]
    assert (pixel["component"], pixel["model"], pixel["version"]) == ("tracker-pixel", "tracker-ae", "1.2.0")
    assert [
        (r["first_ls"], r["last_ls"], r["status"], r["score"], r["submitted_by"]) for r in pixel["ranges"]
    ] == [
        (1, 40, "GOOD", 0.95, "tracker-ml@cern.ch"),
        (41, 50, "BAD", 0.8, "tracker-ml@cern.ch"),
    ]
    (submission,) = read.json()["submissions"]
    assert (submission["author"], submission["actor_kind"]) == ("tracker-ml@cern.ch", "agent")
    # The dataset name without its leading slash, as in the registry's routes.
    assert client.get(f"/api/v1/predictions/{RUN}", params={"dataset": OFFLINE[1:]}).json() == read.json()
    models = client.get("/api/v1/predictions/models").json()
    assert [(m["model"], m["version"], m["datasets"], m["components"]) for m in models] == [
        ("tracker-ae", "1.2.0", 1, ["tracker-pixel"])
    ]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"predictions": {"tracker-pixel": [{"first_ls": 1, "last_ls": 51, "status": "GOOD", "score": 0.5}]}},
         "predictions.tracker-pixel[0].last_ls"),
        ({"predictions": {"tracker-pixel": [{"first_ls": 1, "last_ls": 5, "status": "OK", "score": 0.5}]}},
         "predictions.tracker-pixel[0].status"),
        ({"predictions": {"tracker-pixel": [{"first_ls": 1, "last_ls": 5, "status": "GOOD", "score": 1.5}]}},
         "predictions.tracker-pixel[0].score"),
        ({"predictions": {"pixel": [{"first_ls": 1, "last_ls": 5, "status": "GOOD", "score": 0.5}]}},
         "predictions.pixel"),
        ({"predictions": {}}, "predictions"),
        ({"dataset": "/Missing/Run/DQM"}, "dataset"),
        ({"predictions": {"tracker-pixel": [{"first_ls": 0, "last_ls": 5, "status": "GOOD", "score": 0.5}]}},
         "predictions.tracker-pixel[0].first_ls"),
        ({"model": ""}, "model"),
    ],
)  # fmt: skip
def test_bad_input_is_a_400_naming_the_field_and_writes_nothing(
    client: TestClient, changes: dict[str, Any], field: str
) -> None:
    response = client.post("/api/v1/predictions", json=body(**changes), headers=AGENT)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["details"]["field"] == field
    assert client.get(f"/api/v1/predictions/{RUN}", params={"dataset": OFFLINE}).json()["submissions"] == []


def test_without_the_grant_a_403_without_identity_a_401(client: TestClient) -> None:
    refused = client.post("/api/v1/predictions", json=body(), headers=SHIFTER)
    assert refused.status_code == 403, refused.text
    assert "cms-dqm-runregistry-ml-agents" in refused.json()["error"]["message"]
    assert client.post("/api/v1/predictions", json=body()).status_code == 401


def test_the_agreement_counts_the_model_against_the_certifiers(client: TestClient, db: Database) -> None:
    assert client.post("/api/v1/predictions", json=body(), headers=AGENT).status_code == 200
    registry.edit_flags(
        db,
        actor=CERTIFIER,
        run_number=RUN,
        dataset=OFFLINE,
        edits=[
            FlagEdit("tracker-pixel", 1, 45, "GOOD", "fine"),
            FlagEdit("tracker-pixel", 46, 48, "BAD", "noisy"),
        ],
        comment="certified",
    )
    found = client.get(
        "/api/v1/predictions/agreement", params={"model": "tracker-ae", "workspace": "tracker"}
    )
    assert found.status_code == 200, found.text
    answer = found.json()
    assert (answer["datasets"], answer["basis"], answer["filter"]) == (
        1,
        "effective",
        {"model": "tracker-ae", "workspace": "tracker"},
    )
    (pixel,) = answer["components"]
    assert pixel["matrix"] == {"GOOD": {"GOOD": 40, "BAD": 0}, "BAD": {"GOOD": 5, "BAD": 3}}
    assert pixel["not_judged"] == {"GOOD": 0, "BAD": 2}
    assert (pixel["judged_ls"], pixel["agreed_ls"], pixel["agreement"]) == (48, 43, 43 / 48)
    bad = client.get("/api/v1/predictions/agreement", params={"run_from": 2, "run_to": 1})
    assert bad.status_code == 400 and bad.json()["error"]["details"]["field"] == "run_to"
    assert client.get("/api/v1/predictions/agreement", params={"basis": "x"}).status_code == 400


def load_example_agent() -> Any:
    path = Path(__file__).resolve().parents[2] / "scripts" / "ml_agent_example.py"
    spec = importlib.util.spec_from_file_location("ml_agent_example", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_example_agent_predicts_from_dcs_bits_and_posts_ranges(db: Database) -> None:
    create_collision_run(db, 380001, ls_count=30, components=("dt-dt",), off={"dtp_ready": (11, 15)})
    app = create_app(db, settings=Settings(proxy_secret=SECRET, dev_identity=False))
    agent = load_example_agent()
    with TestClient(app, headers=AGENT) as client:
        said = agent.run_agent(client, 380001, "online", agent.components(client, "online"))
        assert said.startswith("run 380001: submission 1,") and "dt-dt" in said
        read = client.get("/api/v1/predictions/380001").json()
    dt = next(p for p in read["predictions"] if p["component"] == "dt-dt")
    assert (dt["model"], dt["version"]) == ("demo-dcs-threshold", "0.1")
    assert [(r["first_ls"], r["last_ls"], r["status"]) for r in dt["ranges"]] == [
        (1, 10, "GOOD"),
        (11, 15, "BAD"),
        (16, 30, "GOOD"),
    ]
    assert read["submissions"][0]["actor_kind"] == "agent"
    with TestClient(app, headers=SHIFTER) as person:
        refused = agent.run_agent(person, 380001, "online", {"dt-dt"})
    assert refused.startswith("run 380001: refused (403)")
