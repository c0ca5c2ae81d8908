"""The OMS simulator's HTTP surface, spoken to raw: JSON:API shape, paging links, filters, tokens."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest

from runreg.simulators.oms.server import SimulatedClock, create_app, run_in_thread
from runreg.simulators.oms.world import OmsWorld

WORLD = OmsWorld(runs=40)
NOW = WORLD.plans[-1].end_time + timedelta(hours=1)
RUN = WORLD.plans[2].run_number  # the long run


@pytest.fixture(scope="module")
def http() -> Iterator[httpx.Client]:
    server = run_in_thread(create_app(WORLD, SimulatedClock(NOW, speed=0), token_ttl_s=0.3))
    with server, httpx.Client(base_url=server.base_url) as client:
        yield client


def _token(http: httpx.Client) -> dict[str, str]:
    form = {"grant_type": "client_credentials", "client_id": "runreg", "client_secret": "simulator-secret"}
    body = http.post("/auth/token", data={**form, "audience": "cmsoms-prod"}).json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 0.3
    return {"Authorization": f"Bearer {body['access_token']}"}


def test_the_api_wants_a_valid_unexpired_token(http: httpx.Client) -> None:
    missing = http.get("/agg/api/v1/runs")
    assert missing.status_code == 401 and missing.json()["errors"][0]["detail"] == "missing bearer token"
    headers = _token(http)
    assert http.get("/agg/api/v1/runs", headers=headers).status_code == 200
    time.sleep(0.35)
    expired = http.get("/agg/api/v1/runs", headers=headers)
    assert expired.status_code == 401 and expired.json()["errors"][0]["detail"] == "token expired"
    bad = http.post(
        "/auth/token", data={"grant_type": "client_credentials", "client_id": "x", "client_secret": "y"}
    )
    assert bad.status_code == 401 and bad.json()["error"] == "invalid_client"


def test_runs_page_is_json_api_with_next_link_units_and_totals(http: httpx.Client) -> None:
    page = http.get(
        "/agg/api/v1/runs", params={"sort": "-last_update", "page[limit]": 15}, headers=_token(http)
    )
    body = page.json()
    assert body["meta"] == {"totalResourceCount": 40, "count": 15}
    first = body["data"][0]
    assert first["type"] == "runs" and first["id"] == str(first["attributes"]["run_number"])
    assert first["meta"]["row"]["delivered_lumi"] == {"units": "pb^{-1}"}
    updates = [item["attributes"]["last_update"] for item in body["data"]]
    assert updates == sorted(updates, reverse=True)
    following = http.get(body["links"]["next"], headers=_token(http)).json()
    assert following["meta"]["count"] == 15 and "prev" in following["links"]
    last = http.get("/agg/api/v1/runs", params={"page[offset]": 30, "page[limit]": 15}, headers=_token(http))
    assert last.json()["meta"]["count"] == 10 and "next" not in last.json()["links"]


def test_runs_filter_in_both_forms_and_fields_projection(http: httpx.Client) -> None:
    headers = _token(http)
    for key in ("filter[run_number]", "filter[run_number][EQ]", "filter[run_number][eq]"):
        params = {key: RUN, "fields": "run_number,hlt_key,energy"}
        (item,) = http.get("/agg/api/v1/runs", params=params, headers=headers).json()["data"]
        assert set(item["attributes"]) == {"run_number", "hlt_key", "energy"}
        assert item["meta"]["row"] == {"energy": {"units": "GeV"}}
    above = http.get(
        "/agg/api/v1/runs", params={"filter[run_number][GT]": RUN, "page[limit]": 100}, headers=headers
    )
    assert above.json()["meta"]["totalResourceCount"] == 37


def test_lumisection_pages_are_capped_at_5000_and_sorted(http: httpx.Client) -> None:
    params = {"filter[run_number]": RUN, "page[limit]": 9000, "fields": "lumisection_number,bpix_ready"}
    body = http.get("/agg/api/v1/lumisections", params=params, headers=_token(http)).json()
    assert body["meta"] == {"totalResourceCount": 5400, "count": 5000}
    assert [item["attributes"]["lumisection_number"] for item in body["data"]] == list(range(1, 5001))
    assert body["data"][0]["id"] == f"{RUN}_1" and body["data"][0]["type"] == "lumisections"
    assert "page%5Boffset%5D=5000" in body["links"]["next"]


@pytest.mark.parametrize(
    ("path", "params", "reason"),
    [
        ("/agg/api/v1/lumisections", {}, "exactly one filter[run_number]=R"),
        ("/agg/api/v1/lumisections", {"filter[run_number]": "abc"}, "must be an integer, got 'abc'"),
        ("/agg/api/v1/runs", {"sort": "-hlt_key"}, "cannot sort runs by '-hlt_key'"),
        ("/agg/api/v1/runs", {"fields": "run_number,nonsense"}, "unknown fields: nonsense"),
        ("/agg/api/v1/runs", {"filter[run_number][ABOUT]": 1}, "unknown filter operator 'ABOUT'"),
        ("/agg/api/v1/runs", {"page[limit]": 0}, "page[limit] >= 1"),
    ],
)
def test_queries_it_cannot_answer_are_400_with_a_reason(
    http: httpx.Client, path: str, params: dict, reason: str
) -> None:
    answer = http.get(path, params=params, headers=_token(http))
    assert answer.status_code == 400
    [error] = answer.json()["errors"]
    assert (error["status"], error["title"]) == ("400", "Bad Request") and reason in error["detail"]


def test_stats_count_requests_per_path_and_faults_are_consumed(http: httpx.Client) -> None:
    http.delete("/_simulator/stats")
    headers = _token(http)
    http.post("/_simulator/faults", json={"path_prefix": "/agg/api/v1/runs", "kind": "error500", "times": 2})
    codes = [http.get("/agg/api/v1/runs", headers=headers).status_code for _ in range(3)]
    assert codes == [500, 500, 200]
    stats = http.get("/_simulator/stats").json()
    assert stats["requests"] == {"/auth/token": 1, "/agg/api/v1/runs": 3} and stats["total"] == 4
    assert http.post("/_simulator/faults", json={"kind": "explode"}).status_code == 422
