"""The Historic DQM pages over HTTP: the view in the query string, run filters (class, a component's
certification, golden JSON uploaded or from the JSON portal), CSV of the shown points, errors naming the
field, the ledger page, and recompute for an admin only."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest
from fastapi.testclient import TestClient

from runreg.certification import service as certification
from runreg.http.app import create_app
from runreg.kernel.actors import SYSTEM
from runreg.settings import Settings
from runreg.storage.database import Database
from runreg.trends import runinfo, service
from tests.builders.runs import CERTIFIER, create_collision_run
from tests.contract.trends_support import ADC, RUNS, make_files, root_mean

SECRET = "trends-pages-secret"
PIXEL = {"subsystem": "PixelPhase1", "pd": "ZeroBias", "ps": "PromptReco", "significant": "0"}


def proxy(email: str, egroups: str) -> dict[str, str]:
    return {"x-runreg-proxy-secret": SECRET, "email": email, "egroups": egroups}


EXPERT = proxy("expert@cern.ch", "cms-dqm-runregistry-experts")
SHIFTER = proxy("shifter@cern.ch", "cms-dqm-runregistry-online-shifters")


@pytest.fixture(scope="module")
def dqm_files(tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201
    root = tmp_path_factory.mktemp("dqm")
    return root, make_files(root)


@pytest.fixture
def client(db: Database, dqm_files) -> TestClient:
    runinfo.forget()
    root, _ = dqm_files
    service.extract(db, actor=SYSTEM, tree=service.config_tree(), root=root)
    for run in RUNS[:3]:
        create_collision_run(db, run, ls_count=20)
    create_collision_run(db, RUNS[3], ls_count=20, rr={"class": "Cosmics24"})
    return TestClient(create_app(db, settings=Settings(proxy_secret=SECRET, dev_identity=False)))


def payload(html: str) -> dict:
    found = re.search(r'<script type="application/json" id="trends-data">(.*?)</script>', html, re.S)
    assert found
    return json.loads(found.group(1))


def shown_runs(html: str, name: str) -> list[int]:
    data = payload(html)
    series = [s for c in data["charts"] for s in c["series"] if s["name"] == name]
    assert series, f"{name} not shown"
    return [p[0] for p in series[0]["points"]]


def test_the_page_draws_the_chosen_trends_with_the_runs_facts(client: TestClient, dqm_files) -> None:
    _, manifest = dqm_files
    page = client.get("/trends", params=PIXEL, headers=SHIFTER)
    assert page.status_code == 200
    data = payload(page.text)
    assert (data["subsystem"], data["pd"], data["ps"]) == ("PixelPhase1", "ZeroBias", "PromptReco")
    group = next(c for c in data["charts"] if c["key"] == "group-ADC_Pix_group")
    assert [s["name"] for s in group["series"]] == ["ADC_Barrel_mean", "ADC_Barrel_stddev"]
    points = group["series"][0]["points"]
    assert [p[0] for p in points] == RUNS[:4]  # RUNS[4]: its file is corrupt
    newest = {f.run: f for f in manifest.newest() if f.primary_dataset == "ZeroBias"}
    assert points[0][1] == pytest.approx(root_mean(newest[RUNS[0]].path, RUNS[0], ADC), rel=1e-12)
    facts = data["runs"][str(RUNS[0])]
    assert facts["class"] == "Collisions24" and facts["fill"] == 9000 + RUNS[0] % 1000 and facts["known"]
    assert 'href="/trends/ledger?trend=' in page.text  # the trend whose ME is missing in one file
    # defaults: the first subsystem with points, its first PD and processing string
    first = payload(client.get("/trends").text)
    assert first["subsystem"] == "CSC" and first["pd"] == "Muon-Tagged"


def test_run_filters_class_certification_range_and_latest(client: TestClient) -> None:
    by_class = client.get("/trends", params={**PIXEL, "run_class": "Cosmics24"}).text
    assert shown_runs(by_class, "ADC_Barrel_mean") == [RUNS[3]]
    significant = client.get("/trends", params={**PIXEL, "significant": "1"}).text
    assert shown_runs(significant, "ADC_Barrel_mean") == RUNS[:4]
    certified = client.get("/trends", params={**PIXEL, "component": "tracker-pixel", "status": "GOOD"}).text
    assert shown_runs(certified, "ADC_Barrel_mean") == RUNS[:4]
    bad = client.get("/trends", params={**PIXEL, "component": "tracker-pixel", "status": "BAD"}).text
    assert "ADC_Barrel_mean" not in json.dumps(payload(bad)["charts"])
    ranged = client.get(
        "/trends", params={**PIXEL, "filter": "range", "from_run": RUNS[1], "to_run": RUNS[2]}
    )
    assert shown_runs(ranged.text, "ADC_Barrel_mean") == RUNS[1:3]
    latest = client.get("/trends", params={**PIXEL, "latest": 2}).text
    assert shown_runs(latest, "ADC_Barrel_mean") == RUNS[2:4]
    listed = client.get("/trends", params={**PIXEL, "filter": "list", "runs": f"{RUNS[3]}, {RUNS[0]}"}).text
    assert shown_runs(listed, "ADC_Barrel_mean") == [RUNS[0], RUNS[3]]


def test_bad_input_is_shown_next_to_its_field(client: TestClient) -> None:
    for params, text in [
        ({"filter": "range", "from_run": "12x", "to_run": "5"}, "not a positive whole number"),
        ({"filter": "range", "from_run": "9", "to_run": "5"}, "after to_run"),
        ({"filter": "list", "runs": "1,a"}, "run numbers"),
        ({"latest": "0"}, "between 1"),
        ({"per_page": "1000"}, "between 1"),
        ({"component": "tracker-pixel", "status": "MAYBE"}, "GOOD, BAD, NONE"),
        ({"json": "77"}, "does not exist"),
        ({"filter": "range", "from_run": "1", "to_run": "99999999999"}, "32-bit"),
        ({"filter": "list", "runs": "1,99999999999"}, "32-bit"),
        ({"search": "x" * 300}, "search"),
    ]:
        answer = client.get("/trends", params={**PIXEL, **params})
        assert answer.status_code == 400, (params, answer.status_code)
        assert 'class="field-error"' in answer.text and text in answer.text, params


def test_a_nul_in_the_query_is_refused_naming_the_field(client: TestClient) -> None:
    answer = client.get("/trends", params={**PIXEL, "pd": "Zero\x00Bias"})
    assert answer.status_code == 400 and "pd" in answer.text and "NUL" in answer.text


def test_golden_json_uploaded_or_from_the_json_portal(client: TestClient, db: Database) -> None:
    first = client.get("/trends", headers=SHIFTER)
    token = re.search(r'data-csrf="([^"]+)"', first.text).group(1)
    golden = json.dumps({str(RUNS[0]): [[1, 10]], str(RUNS[2]): [[1, 20]]})
    posted = client.post("/trends", data={**PIXEL, "csrf": token, "golden_json": golden}, headers=SHIFTER)
    assert posted.status_code == 200
    assert shown_runs(posted.text, "ADC_Barrel_mean") == [RUNS[0], RUNS[2]]
    assert payload(posted.text)["runs"][str(RUNS[0])]["certified_ls"] == 10
    forged = client.post("/trends", data={**PIXEL, "golden_json": golden}, headers=SHIFTER)
    assert forged.status_code == 403
    broken = client.post("/trends", data={**PIXEL, "csrf": token, "golden_json": "{run"}, headers=SHIFTER)
    assert broken.status_code == 400 and "field-error" in broken.text
    # a JSON of the JSON portal, by its id in the URL
    job = certification.submit(db, _Inline(db), actor=CERTIFIER, dataset_pattern="online", preset="golden")
    portal = client.get("/trends", params={**PIXEL, "json": job})
    assert portal.status_code == 200 and f"JSON {job}" in portal.text
    in_json = {int(run) for run in certification.get(db, job).result["json"]}
    charts = payload(portal.text)["charts"]
    shown = {p[0] for c in charts for s in c["series"] for p in s["points"]}
    assert shown == in_json & set(RUNS[:4])


class _Inline:
    def __init__(self, db: Database) -> None:
        self.db = db

    def submit(self, job_id: int) -> None:
        certification.run_job(self.db, job_id)


def test_csv_has_the_shown_points(client: TestClient) -> None:
    answer = client.get("/trends", params={**PIXEL, "format": "csv", "latest": 2, "search": "meanrms"})
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    assert {r["trend"] for r in rows} == {"ADC_Barrel_meanrms"}
    assert [int(r["run"]) for r in rows] == RUNS[2:4]
    assert rows[0]["run_class"] == "Collisions24" and float(rows[0]["value"]) > 0


def test_ledger_page_lists_failed_files_and_a_trends_runs_without_value(client: TestClient) -> None:
    ledger = client.get("/trends/ledger")
    assert ledger.status_code == 200
    assert 'data-status="failed"><b>1</b>' in ledger.text and "DQM_V0001_R000380013" in ledger.text
    data = payload(client.get("/trends", params=PIXEL).text)
    ids = {s["name"]: s["trend_id"] for c in data["charts"] for s in c["series"]}
    charge = next(name for name in ids if name.startswith("Charge_Barrel_Landau_MPV"))
    one = client.get("/trends/ledger", params={"trend": ids[charge]})
    assert "not in the file" in one.text and str(RUNS[1]) in one.text
    assert client.get("/trends/ledger", params={"trend": "x"}).status_code == 200
    huge = client.get("/trends/ledger", params={"trend": "99999999999"})
    assert huge.status_code == 200 and "32-bit" in huge.text


def test_recompute_from_the_page_is_for_those_granted_it(client: TestClient) -> None:
    token = re.search(r'data-csrf="([^"]+)"', client.get("/trends", headers=SHIFTER).text).group(1)
    form = {"csrf": token, "config": "PixelPhase1/ADC_Barrel_mean"}
    refused = client.post("/trends/recompute", data=form, headers=SHIFTER)
    assert refused.status_code == 403
    anonymous = client.post("/trends/recompute", data=form)
    assert anonymous.status_code == 401
    done = client.post("/trends/recompute", data=form, headers=EXPERT)
    assert done.status_code == 200 and "recomputed" in done.text
    unknown = client.post("/trends/recompute", data={**form, "config": "Nope"}, headers=EXPERT)
    assert unknown.status_code == 404
    page = client.get("/trends", params=PIXEL, headers=SHIFTER).text
    assert "disabled" in page and "Recompute" in page
