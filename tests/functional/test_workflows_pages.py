"""The workflow pages over HTTP, on a cache filled from the cmsweb simulator (real socket), both engines: the
table's filters, search and paging, one workflow with its history, the update of one workflow through the
permission gate (CSRF-checked form post), and the share of a data workflow's input in the official golden
JSON."""

from __future__ import annotations

import json
import re

from fastapi.testclient import TestClient

from runreg.certification import service as certification
from runreg.certification.lumilist import LumiList
from runreg.certification.runners import InlineRunner
from runreg.registry import service as registry
from runreg.registry.service import FlagEdit
from runreg.storage.database import Database
from runreg.workflows import overview, reads
from tests.builders.runs import CERTIFIER, SHIFTER, create_collision_run
from tests.functional.test_workflows_http import EXPERT, NOBODY, NOW, WORLD, client, visible

__all__ = ["client"]


def shown(html: str) -> list[str]:
    return re.findall(r'<tr data-workflow="([^"]+)"', html)


def plans(kind: str) -> list[str]:
    return sorted(p.name for p in WORLD.plans if p.request_type == kind and WORLD.document(p.name, NOW))


def test_the_table_lists_filters_and_combines_filters(client: TestClient) -> None:
    page = client.get("/stats")
    assert page.status_code == 200
    assert shown(page.text) == visible()
    assert f"{len(visible())} workflows" in page.text
    assert shown(client.get("/stats", params={"type": "ReReco"}).text) == plans("ReReco")
    doc = client.get(f"/stats/api/get_json/{plans('ReReco')[0]}").json()
    status = doc["RequestTransition"][-1]["Status"]
    by_status = shown(client.get("/stats", params={"type": "ReReco", "status": status}).text)
    assert plans("ReReco")[0] in by_status and set(by_status) <= set(plans("ReReco"))
    campaign = doc["Campaigns"][0]
    both = shown(client.get("/stats", params={"campaign": campaign[:6] + "*", "type": "ReReco"}).text)
    assert plans("ReReco")[0] in both and set(both) <= set(plans("ReReco"))
    # Bad input: the reason next to its field, no table, no 500.
    refused = client.get("/stats", params={"campaign": "R*"})
    assert refused.status_code == 200 and "at least 3 other characters" in refused.text
    assert shown(refused.text) == []


def test_the_search_box_leads_to_the_filtered_table(client: TestClient) -> None:
    doc = client.get(f"/stats/api/get_json/{plans('StepChain')[0]}").json()
    found = client.get("/stats/search", params={"q": doc["PrepID"]})
    assert found.url.path == "/stats" and found.url.params["prepid"] == doc["PrepID"]
    assert shown(found.text) == [doc["_id"]]


def test_listing_pages_by_cursor_with_the_matching_count(db: Database, client: TestClient) -> None:
    seen, cursor = [], None
    while True:
        page = overview.listing(db, filters=[], chronological=True, cursor=cursor, limit=7)
        assert page.matching == page.cached == len(visible())
        seen += [row.name for row in page.rows]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert sorted(seen) == visible() and len(seen) == len(set(seen))
    filters, chronological = reads.parse_filters({"type": "ReReco"}, legacy=False)
    rereco = overview.listing(db, filters=filters, chronological=chronological, cursor=None)
    assert rereco.matching == len(plans("ReReco")) and rereco.cached == len(visible())
    # In the HTML table: the next page's link carries the filters and the cursor; the last has none.
    html = client.get("/stats", params={"order": "submitted", "limit": "30"}).text
    pages = [shown(html)]
    while (following := re.search(r'<a href="(/stats\?[^"]*cursor=[^"]*)" rel="next"', html)) is not None:
        html = client.get(following.group(1).replace("&amp;", "&")).text
        assert "« first page" in html
        pages.append(shown(html))
    total = len(visible())
    assert total > 30 and [len(p) for p in pages] == [min(30, total - k) for k in range(0, total, 30)]
    assert sorted(sum(pages, [])) == visible()
    refused = client.get("/stats", params={"limit": "0"})
    assert refused.status_code == 200 and "must be between 1 and 1000" in refused.text
    forged = client.get("/stats", params={"cursor": "not-a-cursor"})
    assert forged.status_code == 200 and "is not a cursor this server gave out" in forged.text
    long = client.get(f"/stats/workflow/{'x' * 401}")
    assert long.status_code == 400 and "longer than 400 characters" in long.text


def test_a_workflow_page_has_its_datasets_status_history_and_plot_data(client: TestClient) -> None:
    name = plans("ReReco")[0]
    page = client.get(f"/stats/workflow/{name}")
    assert page.status_code == 200
    api = client.get(f"/api/v1/workflows/{name}").json()
    chart = json.loads(re.search(r'id="history-data">(.*?)</script>', page.text, re.S).group(1))
    assert [s["dataset"] for s in chart["series"]] == api["OutputDatasets"]
    assert chart["basis"] == "lumis" and chart["target"] == api["TotalInputLumis"]
    for series in chart["series"]:
        assert series["values"] == [point["Lumis"] for point in api["History"][series["dataset"]]]
    for step in api["RequestTransition"]:
        assert step["Status"] in page.text
    assert "/static/vendor/plotly.js-dist-min/plotly.min.js" in page.text
    missing = client.get("/stats/workflow/no_such_workflow")
    assert missing.status_code == 404 and "not in the cache" in missing.text


def test_updating_one_workflow_from_its_page_needs_the_csrf_token_and_the_permission(
    client: TestClient,
) -> None:
    name = plans("TaskChain")[0]
    client.get(f"/stats/workflow/{name}", headers=NOBODY)  # the CSRF cookie of this browser
    token = client.cookies.get("runreg_csrf")
    assert 'disabled title="' in client.get(f"/stats/workflow/{name}", headers=NOBODY).text
    forged = client.post(f"/stats/workflow/{name}/update", headers=EXPERT)
    assert forged.status_code == 403 and "stale" in forged.text
    refused = client.post(f"/stats/workflow/{name}/update", headers={**NOBODY, "x-csrf-token": token})
    assert refused.status_code == 403 and "workflows:update" in refused.text
    done = client.post(f"/stats/workflow/{name}/update", headers={**EXPERT, "x-csrf-token": token})
    assert done.status_code == 200 and "read again" in done.text
    assert done.headers["HX-Trigger"] == "workflow-changed"


def test_a_data_workflows_input_share_in_the_latest_official_golden_json(
    db: Database, client: TestClient
) -> None:
    name = next(n for n in plans("ReReco") if WORLD.plan(n).document.get("LumiList"))
    plan = WORLD.plan(name)
    fragment = client.get(f"/stats/workflow/{name}/golden")
    assert "no official golden JSON yet" in fragment.text
    # The registry certifies the input's runs: dt-dt BAD on LS 1-10 of the first run, all else GOOD.
    source = WORLD.inputs[plan.document["InputDataset"]]
    first = min(int(run) for run in plan.document["LumiList"])
    for run, count in source.runs.items():
        create_collision_run(db, run, ls_count=count)
    registry.edit_flags(
        db, actor=SHIFTER, run_number=first, edits=[FlagEdit("dt-dt", 1, 10, "BAD", "HV trip")], comment="HV"
    )
    rule = {"==": [{"var": "lumisection.rr.dt-dt"}, "GOOD"]}
    job = certification.submit(
        db, InlineRunner(db), actor=CERTIFIER, rule=rule, dataset_pattern="online", official=True
    )
    reads_mask = LumiList.from_ranges({int(r): v for r, v in plan.document["LumiList"].items()})
    golden = LumiList.from_json(certification.get(db, job).result["json"])
    expected = (reads_mask & golden).ls_count()
    assert 0 < expected < reads_mask.ls_count()
    fragment = client.get(f"/stats/workflow/{name}/golden")
    share = float(re.search(r'data-share="([0-9.]+)"', fragment.text).group(1))
    assert share == round(expected / reads_mask.ls_count(), 4)
    assert f"{expected:,} of {reads_mask.ls_count():,} LS" in fragment.text
    assert f'/json_portal/{job}"' in fragment.text
    mc = client.get(f"/stats/workflow/{plans('StepChain')[0]}/golden")
    assert "does not read a data dataset" in mc.text


def test_a_failed_update_is_shown_on_the_workflow_page_and_counted_in_the_table(client: TestClient) -> None:
    import httpx

    name = plans("StepChain")[0]
    base = client.app.state.cmsweb.reqmgr2.http.base_url
    fault = {"path_prefix": "/couchdb/reqmgr_workload_cache/", "kind": "error500", "times": 10}
    httpx.post(f"{base}/_simulator/faults", json=fault).raise_for_status()
    try:
        client.get(f"/stats/workflow/{name}", headers=EXPERT)
        token = client.cookies.get("runreg_csrf")
        failed = client.post(f"/stats/workflow/{name}/update", headers={**EXPERT, "x-csrf-token": token})
    finally:
        httpx.delete(f"{base}/_simulator/faults")
    assert failed.status_code == 400 and "ReqMgr2 or DBS failed" in failed.text
    page = client.get(f"/stats/workflow/{name}")
    assert 'id="wf-failure"' in page.text and "The next update tries again" in page.text
    assert "1 failed</b>" in client.get("/stats").text
    client.post(f"/stats/workflow/{name}/update", headers={**EXPERT, "x-csrf-token": token})
    assert 'id="wf-failure"' not in client.get(f"/stats/workflow/{name}").text


def test_a_running_workflow_whose_numbers_stopped_moving_is_flagged(client: TestClient) -> None:
    # The cache was filled at the simulated NOW (March 2026): for a running workflow that is days ago.
    running = next(n for n in visible() if WORLD.plan(n).status_at(NOW) in ("running-open", "running-closed")
                   and WORLD.plan(n).target_events > 0)  # fmt: skip
    done = next(n for n in visible() if WORLD.plan(n).status_at(NOW) == "normal-archived")
    assert 'id="wf-stalled"' in client.get(f"/stats/workflow/{running}").text
    assert 'id="wf-stalled"' not in client.get(f"/stats/workflow/{done}").text
