"""DC expert tools over HTTP: the original's routes with their bodies, /api/v1 with previews, exports and the
client snippet; refusals answer 4xx naming the field (or the e-groups) and write nothing."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from runreg.eventlog import tables
from runreg.http.app import create_app
from runreg.registry import service as registry
from runreg.registry.service import FlagEdit
from runreg.settings import Settings
from runreg.storage.database import Database
from tests.builders.cycles import EXPRESS, PROMPT, offline_runs
from tests.builders.runs import CERTIFIER

SECRET = "dctools-http-secret"
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
ONLY_PROMPT = {"name": PROMPT}


@pytest.fixture
def client(db: Database) -> TestClient:
    offline_runs(db, RUNS, names=(PROMPT, EXPRESS))
    for run in RUNS:
        registry.edit_flags(
            db,
            actor=CERTIFIER,
            run_number=run,
            dataset=PROMPT,
            edits=[FlagEdit("dt-dt", 1, 4, "BAD", comment="chamber off")],
            comment="prompt bad",
        )
    return TestClient(create_app(db, settings=Settings(proxy_secret=SECRET, dev_identity=False)))


def change_sets(client: TestClient) -> int:
    with client.app.state.db.reading() as conn:  # type: ignore[attr-defined]
        return conn.execute(select(func.count()).select_from(tables.change_sets)).scalar_one()


def statuses(db: Database, run: int, name: str = PROMPT) -> frozenset[str]:
    return frozenset(
        r["status"] for r in registry.component_ranges(registry.run_state(db, run), name)["dt-dt"]
    )


def test_the_original_batch_update_route_repairs_a_column_as_one_revertible_change_set(
    client: TestClient, db: Database
) -> None:
    before = change_sets(client)
    answer = client.post(
        "/dc_tools/dataset_column_batch_update",
        json={"filter": ONLY_PROMPT, "columns_to_update": ["dt-dt"], "new_status": "GOOD"},
        headers={**DC, "comment": "the chamber was on"},
    )
    assert answer.status_code == 200, answer.text
    changed = answer.json()
    assert sorted(d["run_number"] for d in changed) == list(RUNS)
    assert change_sets(client) == before + 1 and {statuses(db, run) for run in RUNS} == {frozenset({"GOOD"})}
    change_set = changed[0]["change_set_id"]
    reverted = client.post(f"/api/v1/change-sets/{change_set}/revert", json={}, headers=DC)
    assert reverted.status_code == 200, reverted.text
    assert all("BAD" in statuses(db, run) for run in RUNS)


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        (
            "/dc_tools/dataset_column_batch_update",
            {"filter": ONLY_PROMPT, "columns_to_update": ["dt-dt"], "new_status": "GOOD"},
            "comment",
        ),
        (
            "/dc_tools/dataset_column_batch_update",
            {"filter": ONLY_PROMPT, "columns_to_update": ["x-y"], "new_status": "GOOD", "comment": "abc"},
            "columns_to_update[0]",
        ),
        (
            "/dc_tools/dataset_column_batch_update",
            {"filter": {}, "columns_to_update": ["dt-dt"], "new_status": "GOOD", "comment": "abc"},
            "filter",
        ),
        (
            "/dc_tools/duplicate_datasets",
            {
                "filter": ONLY_PROMPT,
                "source_dataset_name": PROMPT,
                "target_dataset_name": "/X/DQM",
                "workspaces_to_duplicate_into": ["nope"],
            },
            "workspaces_to_duplicate_into[0]",
        ),
        (
            "/dc_tools/copy_column_from_datasets",
            {
                "filter": ONLY_PROMPT,
                "source_dataset_name": PROMPT,
                "target_dataset_name": "/Missing/DQM",
                "columns_to_copy": ["dt-dt"],
            },
            "target_dataset_name",
        ),
        ("/dc_tools/change_multiple_dataset_states/dt/OPEN/DONE", {"filter": ONLY_PROMPT}, "to_state"),
    ],
)
def test_bad_input_is_a_400_naming_the_field_and_writes_nothing(
    client: TestClient, path: str, body: dict[str, Any], field: str
) -> None:
    before = change_sets(client)
    answer = client.post(path, json=body, headers=DC)
    assert answer.status_code == 400, answer.text
    assert field in answer.text
    assert change_sets(client) == before


def test_a_certifier_of_one_workspace_may_not_use_the_tools(client: TestClient) -> None:
    before = change_sets(client)
    answer = client.request(
        "DELETE",
        "/dc_tools/hide_datasets",
        json={"filter": ONLY_PROMPT, "reason_for_hiding": "wrong"},
        headers=DT,
    )
    assert answer.status_code == 403, answer.text
    assert "cms-dqm-runregistry-data-certification" in answer.text and change_sets(client) == before
    anonymous = client.post("/api/v1/dctools/hide", json={"filter": ONLY_PROMPT, "reason": "wrong"})
    assert anonymous.status_code == 401


def test_hide_duplicate_states_and_unique_names_through_the_original_routes(
    client: TestClient, db: Database
) -> None:
    copy = "/PromptReco/Collisions2024C-v2/DQM"
    made = client.post(
        "/dc_tools/duplicate_datasets",
        json={
            "filter": {"run_number": RUNS[0]},
            "source_dataset_name": PROMPT,
            "target_dataset_name": copy,
            "workspaces_to_duplicate_into": ["dt"],
        },
        headers=DC,
    )
    assert made.status_code == 200, made.text
    assert len(made.json()) == 1
    names = client.post("/dc_tools/unique_dataset_names", json={"filter": {}}).json()
    assert names == sorted([EXPRESS, PROMPT, copy])
    moved = client.post(
        "/dc_tools/change_multiple_dataset_states/dt/OPEN/SIGNOFF", json={"filter": ONLY_PROMPT}, headers=DC
    )
    assert moved.status_code == 200 and len(moved.json()) == 3
    everywhere = client.post(
        "/dc_tools/change_multiple_dataset_states_in_all_workspaces/COMPLETED",
        json={"filter": ONLY_PROMPT},
        headers=DC,
    )
    assert everywhere.status_code == 200, everywhere.text
    assert registry.run_state(db, RUNS[0]).datasets[PROMPT].attributes["global_state"] == "COMPLETED"
    hidden = client.request(
        "DELETE",
        "/dc_tools/hide_datasets",
        json={"filter": {"name": copy}, "reason_for_hiding": "a test copy"},
        headers=DC,
    )
    assert hidden.status_code == 200, hidden.text
    assert client.post("/dc_tools/unique_dataset_names", json={"filter": {}}).json() == sorted(
        [EXPRESS, PROMPT]
    )


def test_api_v1_preview_then_run(client: TestClient) -> None:
    before = change_sets(client)
    body = {"filter": ONLY_PROMPT, "columns": ["dt-dt"], "new_status": "GOOD", "comment": "fine"}
    shown = client.post("/api/v1/dctools/batch_update/preview", json=body)
    assert shown.status_code == 200, shown.text
    assert (shown.json()["selected"], shown.json()["changing"], shown.json()["needs_confirmation"]) == (
        3,
        3,
        False,
    )
    assert change_sets(client) == before
    everything = client.post("/api/v1/dctools/batch_update/preview", json={**body, "filter": {}}).json()
    assert everything["needs_confirmation"] and everything["selected"] == 6
    done = client.post("/api/v1/dctools/batch_update", json=body, headers=DC)
    assert done.status_code == 200 and done.json()["change_set_id"] and change_sets(client) == before + 1
    unknown = client.post("/api/v1/dctools/sweep", json=body, headers=DC)
    assert unknown.status_code == 400 and "tool" in unknown.text


def test_exports_and_the_client_snippet(client: TestClient) -> None:
    legacy = client.post("/datasets/export_to_csv", json={"filter": ONLY_PROMPT, "columns": ["dt-dt"]})
    assert legacy.status_code == 200
    rows = list(csv.DictReader(io.StringIO(legacy.json())))
    assert [int(r["run_number"]) for r in rows] == sorted(RUNS, reverse=True)
    assert rows[0]["dt-dt.BAD"] == "4" and rows[0]["dataset_name"] == PROMPT
    parquet = client.post(
        "/api/v1/dctools/export", json={"filter": ONLY_PROMPT, "columns": ["dt-dt"], "format": "parquet"}
    )
    assert parquet.status_code == 200 and parquet.headers["content-type"] == "application/vnd.apache.parquet"
    table = pq.read_table(io.BytesIO(parquet.content))
    assert table.num_rows == 3 and table.column("dt-dt.BAD").to_pylist() == [4, 4, 4]
    snippet = client.post("/api/v1/dctools/api-call", json={"filter": ONLY_PROMPT}).json()["python"]
    assert "runregistry.get_datasets(" in snippet and "ignore_filter_transformation=True" in snippet
    namespace: dict[str, Any] = {}
    exec(snippet.split("datasets = ", 1)[1].replace("runregistry.get_datasets", "dict"), {}, namespace)  # noqa: S102
    bad = client.post("/api/v1/dctools/export", json={"filter": ONLY_PROMPT, "columns": ["x-y"]})
    assert bad.status_code == 400 and "columns[0]" in bad.text


@pytest.mark.parametrize(
    "tool", ["duplicate", "copy_columns", "batch_update", "change_states", "hide", "unhide"]
)
def test_every_tool_has_its_page_and_a_bad_filter_is_named(client: TestClient, tool: str) -> None:
    page = client.get(
        "/offline/dc-tools", params={"tool": tool, "filter": json.dumps(ONLY_PROMPT)}, headers=DC
    )
    assert page.status_code == 200 and f'data-tool="{tool}"' in page.text
    assert "runregistry.get_datasets(" in page.text
    broken = client.get("/offline/dc-tools", params={"tool": tool, "filter": "{not json"}, headers=DC)
    assert broken.status_code == 200 and "filter" in broken.text and "field-error" in broken.text


def test_a_reverted_duplication_is_previewed_as_re_created_and_redone_over_http(
    client: TestClient, db: Database
) -> None:
    copy = "/PromptReco/Collisions2024C-v2/DQM"
    body = {"filter": {"run_number": RUNS[0]}, "source_dataset_name": PROMPT, "target_dataset_name": copy}
    made = client.post("/api/v1/dctools/duplicate", json=body, headers=DC)
    assert made.status_code == 200, made.text
    assert made.json()["noted"] == {}
    reverted = client.post(f"/api/v1/change-sets/{made.json()['change_set_id']}/revert", json={}, headers=DC)
    assert reverted.status_code == 200, reverted.text
    again = {**body, "filter": {"run_number": {">=": RUNS[0]}}}
    shown = client.post("/api/v1/dctools/duplicate/preview", json=again).json()
    assert shown["changing"] == 3 and list(shown["noted"].values()) == [1]
    [note] = shown["noted"]
    assert note.startswith(f"{copy} re-created over its copy hidden when its duplication was reverted")
    # The page's preview says it too, beside the count.
    page = client.get("/offline/dc-tools", params={"tool": "duplicate"}, headers=DC)
    form = {**again, "tool": "duplicate", "filter": json.dumps(again["filter"])}
    previewed = client.post(
        "/offline/dc-tools/preview", data=form, headers={**DC, "x-csrf-token": client.cookies["runreg_csrf"]}
    )
    assert page.status_code == 200 and previewed.status_code == 200, previewed.text
    assert (
        '<ul class="noted"><li>1 of them: ' in previewed.text and "re-created over its copy" in previewed.text
    )
    redone = client.post("/api/v1/dctools/duplicate", json=again, headers=DC)
    assert redone.status_code == 200, redone.text
    assert redone.json()["noted"] == shown["noted"]
    assert registry.run_state(db, RUNS[0]).datasets[copy].attributes.get("hidden") is None
    refused = client.post("/api/v1/dctools/duplicate", json=again, headers=DC)
    assert refused.status_code == 400 and "target_dataset_name" in refused.text and "visible" in refused.text
