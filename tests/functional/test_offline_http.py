"""Offline datasets over HTTP: the original's routes (get_dataset, waiting, DCS-bit ranges and edits, LS
histories, validated moves, accepted datasets by class, hidden datasets) and their /api/v1 equivalents."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from runreg.http.app import create_app
from runreg.registry import service as registry
from runreg.registry.service import FlagEdit
from runreg.settings import Settings
from runreg.storage.database import Database
from tests.builders.runs import EXPERT, SHIFTER, create_collision_run

SECRET = "proxy-test-secret"
RUN = 380567
PROMPT = "/PromptReco/Collisions2024D/DQM"
EXPRESS = "/Express/Collisions2024/DQM"


def proxy(email: str, egroups: str) -> dict[str, str]:
    return {"x-runreg-proxy-secret": SECRET, "email": email, "egroups": egroups}


CERTIFIER = proxy("dc@cern.ch", "cms-dqm-runregistry-data-certification")
DT = proxy("dt@cern.ch", "cms-dqm-runregistry-offline-dt-certifiers")


@pytest.fixture
def client(db: Database) -> TestClient:
    """Run 380567 (40 LS, dt-dt BAD on 10-12 online) signed off: both Collisions24 datasets waiting."""
    create_collision_run(db, RUN, ls_count=40)
    registry.edit_flags(
        db, actor=SHIFTER, run_number=RUN, edits=[FlagEdit("dt-dt", 10, 12, "BAD", "HV trip")], comment="HV"
    )
    registry.move_run(db, actor=SHIFTER, run_number=RUN, to_state="SIGNOFF")
    return TestClient(create_app(db, settings=Settings(proxy_secret=SECRET, dev_identity=False)))


def legacy_move(client: TestClient, ws: str, src: str, dst: str, name: str = PROMPT, **kw: Any) -> Any:
    body = {"run_number": RUN, "dataset_name": name, "workspace": ws}
    return client.post(
        f"/datasets/{ws}/move_dataset/{src}/{dst}", json=body, headers=kw.get("headers", CERTIFIER)
    )


def dcs_edit(client: TestClient, status: Any, comment: str = "DT+ HV was off", **kw: Any) -> Any:
    body = {
        "run_number": RUN,
        "dataset_name": kw.get("dataset", PROMPT),
        "component": kw.get("bit", "dtp_ready"),
        "new_lumisection_range": {"start": 5, "end": 8, "status": status, "comment": comment},
    }
    return client.put("/lumisections/edit_oms_lumisections", json=body, headers=CERTIFIER)


def test_get_dataset_and_the_waiting_list(client: TestClient) -> None:
    found = client.post("/datasets/get_dataset", json={"run_number": RUN, "dataset_name": PROMPT})
    assert found.status_code == 200
    dataset = found.json()
    assert (dataset["run_number"], dataset["name"], dataset["deleted"]) == (RUN, PROMPT, False)
    assert dataset["dataset_attributes"]["global_state"] == "waiting dqm gui"
    assert dataset["Run"]["rr_attributes"]["state"] == "SIGNOFF"
    assert dataset["DatasetTripletCache"]["triplet_summary"]["dt-dt"]["BAD"] == 3
    missing = client.post("/datasets/get_dataset", json={"run_number": RUN, "dataset_name": "/No/Such/DQM"})
    assert missing.status_code == 200 and missing.json() is None
    waiting = client.get("/datasets_waiting").json()
    assert [(d["run_number"], d["name"]) for d in waiting] == [(RUN, EXPRESS), (RUN, PROMPT)]

    assert legacy_move(client, "global", "waiting dqm gui", "OPEN").status_code == 200
    assert [d["name"] for d in client.get("/datasets_waiting").json()] == [EXPRESS]


def test_hidden_datasets_show_as_deleted_and_are_left_out_of_listings(
    client: TestClient, db: Database
) -> None:
    registry.change_dataset_attributes(
        db,
        actor=EXPERT,
        run_number=RUN,
        name=EXPRESS,
        attributes={"hidden": True, "hidden_reason": "dup"},
        comment="dup",
    )
    record = client.post("/datasets/get_dataset", json={"run_number": RUN, "dataset_name": EXPRESS}).json()
    assert record["deleted"] is True and record["dataset_attributes"]["hidden_reason"] == "dup"
    assert client.get(f"/get_all_dataset_names_of_run/{RUN}").json() == ["online", PROMPT]
    listed = client.post("/datasets_filtered_ordered", json={"filter": {"run_number": RUN}}).json()
    assert [d["name"] for d in listed["datasets"]] == [PROMPT, "online"] and listed["count"] == 2
    assert [d["name"] for d in client.get("/datasets_waiting").json()] == [PROMPT]
    api = client.get(f"/api/v1/runs/{RUN}/datasets").json()
    assert [(d["name"], d["hidden"]) for d in api] == [("online", False), (EXPRESS, True), (PROMPT, False)]


def test_moves_validate_the_from_state(client: TestClient) -> None:
    refused = legacy_move(client, "global", "OPEN", "SIGNOFF")
    # The legacy face answers refusals as the original: 500 {"err"} (the client raises with the text).
    assert refused.status_code == 500, refused.text
    assert "is waiting dqm gui in global, not OPEN" in refused.json()["err"]
    skipped = legacy_move(client, "dt", "waiting dqm gui", "COMPLETED")
    assert skipped.status_code == 500 and "cannot move from waiting dqm gui to COMPLETED" in skipped.text
    opened = legacy_move(client, "global", "waiting dqm gui", "OPEN")
    assert opened.json()["dataset_attributes"]["dt_state"] == "OPEN"
    signed = legacy_move(client, "dt", "OPEN", "SIGNOFF", headers=DT)
    assert signed.status_code == 200 and signed.json()["dataset_attributes"]["dt_state"] == "SIGNOFF"


def test_offline_lumisection_edits_need_the_workspace_open(client: TestClient) -> None:
    edit = {
        "run_number": RUN,
        "dataset_name": PROMPT,
        "component": "dt-dt",
        "new_lumisection_range": {"start": 1, "end": 2, "status": "BAD", "comment": "noisy chamber"},
    }
    refused = client.put("/lumisections/edit_rr_lumisections", json=edit, headers=DT)
    assert refused.status_code == 500
    assert f"Error updating lumisections of {PROMPT} dataset" in refused.json()["err"]
    assert "waiting dqm gui in workspace dt" in refused.json()["err"]
    legacy_move(client, "global", "waiting dqm gui", "OPEN")
    assert client.put("/lumisections/edit_rr_lumisections", json=edit, headers=DT).status_code == 200
    history = client.post(
        "/lumisections/get_rr_lumisection_history", json={"run_number": RUN, "dataset_name": PROMPT}
    ).json()
    manual = [h for h in history if h["manual_change"]]
    assert [(h["start"], h["end"], h["by"], h["jsonb"]) for h in manual] == [
        (1, 2, "dt@cern.ch", {"dt-dt": {"status": "BAD", "comment": "noisy chamber", "cause": ""}})
    ]
    assert history[-1] == manual[-1]  # automatic first, then manual, as the original
    assert {h["name"] for h in history} == {PROMPT} and all(h["version"] for h in history)
    unknown = {"run_number": 1, "dataset_name": PROMPT}
    assert client.post("/lumisections/get_rr_lumisection_history", json=unknown).json() == []


@pytest.mark.parametrize(
    ("status", "value"), [(False, False), ("false", False), ("True", True), (True, True)]
)
def test_dcs_bits_of_an_offline_dataset_true_and_false(client: TestClient, status: Any, value: bool) -> None:
    answer = dcs_edit(client, status)
    assert answer.status_code == 200, answer.text
    assert answer.json()["jsonb"] == {"dtp_ready": value} and answer.json()["name"] == PROMPT
    query = {"run_number": RUN, "dataset_name": PROMPT}
    by_bit = client.post("/lumisections/oms_lumisection_ranges_by_dcs_bit", json=query).json()
    expected = [(1, 4, True), (5, 8, value), (9, 40, True)] if not value else [(1, 40, True)]
    assert [(r["start"], r["end"], r["status"]) for r in by_bit["dtp_ready"]] == expected
    online = client.post(
        "/lumisections/oms_lumisection_ranges_by_dcs_bit", json={**query, "dataset_name": "online"}
    )
    assert [(r["start"], r["end"]) for r in online.json()["dtp_ready"]] == [(1, 40)]  # the run is unchanged
    per_ls = client.post("/lumisections/oms_lumisections", json=query).json()
    assert [ls["dtp_ready"] for ls in per_ls[3:9]] == [True, value, value, value, value, True]
    ranges = client.post("/lumisections/oms_lumisection_ranges", json=query).json()
    assert [(r["start"], r["end"], r["dtp_ready"]) for r in ranges] == expected
    history = client.post("/lumisections/get_oms_lumisection_history", json=query).json()
    mine = [h for h in history if h["name"] == PROMPT]
    assert [(h["start"], h["end"], h["jsonb"], h["manual_change"], h["by"]) for h in mine] == [
        (5, 8, {"dtp_ready": value}, True, "dc@cern.ch")
    ]
    assert any(h["name"] == "online" and not h["manual_change"] for h in history)  # inherited values


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"status": "maybe"}, "new_lumisection_range.status"),
        ({"status": False, "comment": "no"}, "comment"),
        ({"status": False, "bit": "prescale_index"}, "component"),
        ({"status": False, "bit": "nonsense"}, "component"),
    ],
)
def test_dcs_bit_edits_refuse_bad_input_naming_the_field(
    client: TestClient, kw: dict[str, Any], field: str
) -> None:
    answer = dcs_edit(client, **kw)
    assert answer.status_code == 400, answer.text
    assert f" {field}: " in f" {answer.json()['err']}", answer.json()


def test_datasets_accepted_by_class(client: TestClient) -> None:
    everything = client.get("/datasets_accepted").json()
    collisions = client.get("/datasets_accepted/Collisions24").json()
    assert collisions == [a for a in everything if a["class"] == "Collisions24"] and len(collisions) == 3
    assert client.get("/datasets_accepted/NoSuchClass").json() == []


def test_api_dataset_detail_history_dcs_edit_and_moves(client: TestClient) -> None:
    path = f"/api/v1/datasets/{RUN}{PROMPT}"
    detail = client.get(f"/api/v1/runs/{RUN}/datasets{PROMPT}").json()
    assert detail["states"]["global"] == "waiting dqm gui" and detail["oms_overrides"] == []
    assert detail["triplet_summary"]["dt-dt"]["BAD"] == 3 and detail["hidden"] is False
    assert client.get(f"/api/v1/runs/{RUN}/datasets/No/Such/DQM").status_code == 400

    moves = {
        "moves": [
            {"run_number": RUN, "dataset": PROMPT, "workspace": "global", "to_state": "OPEN"},
            {
                "run_number": RUN,
                "dataset": PROMPT,
                "workspace": "dt",
                "to_state": "SIGNOFF",
                "from_state": "OPEN",
            },
        ],
        "comment": "opened, dt certified",
    }
    refused = client.post(
        "/api/v1/dataset-moves", json={**moves, "moves": moves["moves"][1:]}, headers=CERTIFIER
    )
    assert refused.status_code == 409 and "not OPEN" in refused.json()["error"]["message"]
    bad = {"moves": [{**moves["moves"][0], "to_state": "DONE"}]}
    invalid = client.post("/api/v1/dataset-moves", json=bad, headers=CERTIFIER).json()["error"]
    assert invalid["details"]["field"] == "moves[0].state"
    done = client.post("/api/v1/dataset-moves", json=moves, headers=CERTIFIER)
    assert done.status_code == 200 and done.json()["runs"] == {str(RUN): 2}

    stale = client.post(
        f"{path}/workspaces/dt/state/COMPLETED", json={"from_state": "OPEN"}, headers=CERTIFIER
    )
    assert stale.status_code == 409 and "is SIGNOFF in dt, not OPEN" in stale.json()["error"]["message"]
    ok = client.post(
        f"{path}/workspaces/dt/state/COMPLETED", json={"from_state": "SIGNOFF"}, headers=CERTIFIER
    )
    assert ok.status_code == 200

    bits = {"first_ls": 1, "last_ls": 3, "values": {"cms_active": False}, "comment": "CMS inactive (DCS log)"}
    assert client.put(f"{path}/oms-lumisections", json=bits, headers=CERTIFIER).status_code == 200
    short = client.put(f"{path}/oms-lumisections", json={**bits, "comment": "x"}, headers=CERTIFIER)
    assert short.status_code in (400, 422)
    detail = client.get(f"/api/v1/runs/{RUN}/datasets{PROMPT}").json()
    assert detail["oms_overrides"] == ["cms_active"] and detail["dcs_summary"]["cms_active"]["FALSE"] == 3
    assert detail["states"]["dt"] == "COMPLETED"

    states = client.get(f"{path}/history", params={"kind": "states"}).json()
    assert [s["payload"]["attributes"].get("dt_state") for s in states[:3]] == [
        "COMPLETED",
        "SIGNOFF",
        "OPEN",
    ]
    assert states[0]["change_set"]["author"] == "dc@cern.ch" and states[-1]["type"] == "DatasetCreated"
    oms = client.get(f"{path}/history", params={"kind": "oms"}).json()
    assert oms[0]["payload"]["values"] == {"cms_active": False} and {o["dataset"] for o in oms} == {
        PROMPT,
        "online",
    }
    flags = client.get(f"{path}/history", params={"kind": "flags"}).json()
    assert flags and all(f["type"] == "FlagsSet" and f["dataset"] == PROMPT for f in flags)
    assert client.get(f"{path}/history", params={"kind": "nonsense"}).status_code == 400
