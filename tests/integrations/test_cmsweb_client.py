"""The ReqMgr2, DBS and wmstats clients against the cmsweb simulator over a real socket, and their HTTP
hygiene (encoding, TLS, certificate, retries) on a recording transport."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest

from runreg.integrations.cmsweb import (
    CmswebBadResponse,
    CmswebHttp,
    CmswebSources,
    CmswebUnavailable,
    ReqMgr2Client,
    connect,
)
from runreg.settings import Settings
from runreg.simulators.cmsweb.server import SimulatedClock, create_app, run_in_thread
from runreg.simulators.cmsweb.world import DAY, CmswebWorld

WORLD = CmswebWorld(seed=3, workflows=60)
NOW = WORLD.epoch + 10 * DAY


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    clock = SimulatedClock(datetime.fromtimestamp(NOW, UTC), speed=0)
    with run_in_thread(create_app(WORLD, clock)) as server:
        yield server.base_url


@pytest.fixture
def sources(base_url: str) -> Iterator[CmswebSources]:
    with httpx.Client(base_url=base_url) as control:
        control.delete("/_simulator/faults")
    with connect(base_url, f"{base_url}/dbs/prod/global/DBSReader", backoff_s=0.01, timeout=5) as sources:
        yield sources


def test_the_changes_feed_pages_with_limit_and_resumes_from_last_seq(sources: CmswebSources) -> None:
    seen: list[str] = []
    since = "0"
    while True:
        page = sources.reqmgr2.changes(since=since, limit=7)
        seen += page.changed + page.deleted
        since = page.last_seq
        if page.pending == 0:
            break
        assert len(page.changed) + len(page.deleted) == 7
    visible = {p.name for p in WORLD.plans if WORLD.plan(p.name).transitions[0][0] <= NOW}
    assert set(seen) == visible and len(seen) == len(set(seen))
    again = sources.reqmgr2.changes(since=since, limit=7)
    assert again.empty  # nothing new since the end


def test_documents_and_the_prep_id_search(sources: CmswebSources) -> None:
    plan = next(p for p in WORLD.plans if WORLD.document(p.name, NOW))
    doc = sources.reqmgr2.workflow(plan.name)
    assert doc is not None and doc["RequestName"] == plan.name and doc["RequestStatus"] == plan.status_at(NOW)
    assert sources.reqmgr2.workflow("no_such_workflow") is None
    found = sources.reqmgr2.requests_by_prep_id(plan.document["PrepID"], fields=["RequestType"])
    assert {"RequestName": plan.name, "RequestType": plan.request_type} in found


def test_dbs_numbers_and_batched_access_types(sources: CmswebSources) -> None:
    outputs = [d for p in WORLD.plans for d in p.outputs]
    known = {d for d in outputs if WORLD.output_state(d, NOW) is not None}
    infos = sources.dbs.dataset_info([*outputs, "/Not/In/DBS"])
    assert set(infos) == known
    for dataset, info in infos.items():
        state = WORLD.output_state(dataset, NOW)
        assert info.access_type == state["dataset_access_type"]
        assert info.modified == state["last_modification_date"]
    dataset = next(iter(sorted(known)))
    state = WORLD.output_state(dataset, NOW)
    summary = sources.dbs.file_summary(dataset, valid_only=False)
    assert summary is not None and (summary.events, summary.size, summary.lumis) == (
        state["num_event"], state["file_size"], state["num_lumi"]
    )  # fmt: skip
    modified = sources.dbs.datasets_modified_since(int(NOW - 3600))
    assert all(WORLD.output_state(d, NOW)["last_modification_date"] >= NOW - 3600 for d in modified)


def test_masked_events_count_only_masked_lumisections_and_dataset_lumis_cross_block_names(
    sources: CmswebSources,
) -> None:
    source = next(iter(WORLD.inputs.values()))
    run = sorted(source.runs)[0]
    mask = {run: [[3, 7], [30, 31]]}  # inside files of 25 LS: whole files would count far more
    expected = sum(source.ls_events(run, ls) for ls in [*range(3, 8), 30, 31])
    assert sources.dbs.masked_events(source.name, mask) == expected
    lumis = sources.dbs.dataset_lumis(source.name)  # block names carry '#': they must be encoded
    assert lumis == {r: list(range(1, n + 1)) for r, n in sorted(source.runs.items())}


def test_wmstats_active_workflows(sources: CmswebSources) -> None:
    assert set(sources.wmstats.active_workflows()) == set(WORLD.active(NOW))


def test_faults_are_retried_and_a_persistent_one_is_reported(base_url: str, sources: CmswebSources) -> None:
    def fault(control: httpx.Client, kind: str, times: int) -> None:
        control.post(
            "/_simulator/faults", json={"path_prefix": "/wmstatsserver", "kind": kind, "times": times}
        )

    with httpx.Client(base_url=base_url) as control:
        for kind in ("error500", "truncated", "drop"):
            fault(control, kind, 1)
            assert set(sources.wmstats.active_workflows()) == set(WORLD.active(NOW))
        fault(control, "truncated", 5)
        with pytest.raises(CmswebBadResponse):
            sources.wmstats.active_workflows()
        fault(control, "error500", 5)
        with pytest.raises(CmswebUnavailable):
            sources.wmstats.active_workflows()
        control.delete("/_simulator/faults")


def test_names_are_url_encoded_and_tls_is_verified() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(404, json={"error": "not_found"})

    client = ReqMgr2Client(CmswebHttp("https://cmsweb.example", transport=httpx.MockTransport(handler)))
    assert client.workflow('a#b&c+d e/f"g') is None
    assert seen[0].url.raw_path == b"/couchdb/reqmgr_workload_cache/a%23b%26c%2Bd%20e%2Ff%22g"
    context = CmswebHttp("https://cmsweb.example")._http._transport._pool._ssl_context
    assert context.verify_mode.name == "CERT_REQUIRED"


def test_a_refusal_is_not_retried_and_a_wrong_shape_is_refused() -> None:
    calls = []

    def refuse(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(403, text="forbidden")

    http = CmswebHttp("https://cmsweb.example", transport=httpx.MockTransport(refuse), backoff_s=0)
    with pytest.raises(CmswebUnavailable, match="HTTP 403"):
        http.get("/x")
    assert len(calls) == 1
    wrong = httpx.MockTransport(lambda request: httpx.Response(200, json={"a": 1}))
    shaped = CmswebHttp("https://x", transport=wrong)
    with pytest.raises(CmswebBadResponse, match="results"):
        ReqMgr2Client(shaped).changes(since="0", limit=5)


def test_settings_build_clients_with_the_grid_certificate_only_for_cmsweb(tmp_path) -> None:  # noqa: ANN001
    with pytest.raises(ValueError, match="certificate"):
        CmswebHttp("https://x", key="key.pem")
    settings = Settings(
        cmsweb_url="https://cmsweb.example", dbs_url="https://dbs.example/dbs/prod/global/DBSReader"
    )
    from runreg.integrations.cmsweb import from_settings

    with from_settings(settings) as built:
        assert built.reqmgr2.http.base_url == "https://cmsweb.example"  # type: ignore[attr-defined]
        assert built.dbs.http.base_url == "https://dbs.example/dbs/prod/global/DBSReader"  # type: ignore[attr-defined]
