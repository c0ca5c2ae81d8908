"""Operating the HTTP app: probes, Prometheus metrics, local API docs, trusted hosts."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from runreg.certification import service as certification
from runreg.certification.runners import InlineRunner
from runreg.http.app import create_app
from runreg.ingestion import service as ingestion
from runreg.settings import Settings
from runreg.storage import migrate
from runreg.storage.database import Database
from tests.builders.network import free_port
from tests.builders.runs import create_collision_run
from tests.conftest import PG_ADMIN_URL, _pg_admin
from tests.contract.test_ingestion import START, WORLD, oms  # noqa: F401 — the OMS simulator fixture
from tests.contract.test_json_portal import CERTIFIER, offline_dataset


@pytest.fixture(params=["sqlite", "postgresql"])
def unmigrated(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """An empty database: reachable, but no schema."""
    if request.param == "sqlite":
        db = Database(f"sqlite:///{tmp_path / 'empty.sqlite'}")
        yield db
        db.dispose()
        return
    name = f"runreg_empty_{uuid.uuid4().hex[:12]}"
    with _pg_admin() as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    db = Database(f"{PG_ADMIN_URL.rsplit('/', 1)[0]}/{name}")
    yield db
    db.dispose()
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def sample(text: str, name: str, **labels: str) -> float:
    """The value of one sample of the exposition text (0 when absent)."""
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
                return s.value
    return 0.0


# -- probes --------------------------------------------------------------------------------------------------
def test_healthz_and_readyz_on_a_current_database(db: Database) -> None:
    client = TestClient(create_app(db))

    alive = client.get("/healthz")
    ready = client.get("/readyz")

    assert alive.status_code == 200 and alive.json()["status"] == "ok"
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready", "checks": {"database": "ok", "schema": "ok"}}


def test_readyz_names_the_schema_on_an_unmigrated_database_and_healthz_stays_up(
    unmigrated: Database,
) -> None:
    client = TestClient(create_app(unmigrated))

    ready = client.get("/readyz")

    assert client.get("/healthz").status_code == 200
    assert ready.status_code == 503
    body = ready.json()
    assert body["failing"] == ["schema"] and body["checks"]["database"] == "ok"
    assert f"at revision none, this runreg needs {migrate.head_revision()}" in body["checks"]["schema"]


def test_readyz_names_the_database_when_it_is_unreachable(tmp_path: Path) -> None:
    gone = Database(f"postgresql://postgres@127.0.0.1:{free_port()}/nothing")
    client = TestClient(create_app(gone))

    ready = client.get("/readyz")

    assert ready.status_code == 503
    assert ready.json()["failing"] == ["database", "schema"]
    assert ready.json()["checks"]["database"].startswith("unreachable: OperationalError")
    gone.dispose()


def test_readyz_checks_the_broker_only_when_jobs_go_through_celery(db: Database) -> None:
    reachable = Settings(jobs_backend="celery", redis_url="redis://127.0.0.1:6379/13")
    down = Settings(jobs_backend="celery", redis_url=f"redis://127.0.0.1:{free_port()}/0")

    up = TestClient(create_app(db, settings=reachable)).get("/readyz")
    refused = TestClient(create_app(db, settings=down)).get("/readyz")

    assert up.status_code == 200 and up.json()["checks"]["broker"] == "ok"
    assert refused.status_code == 503 and refused.json()["failing"] == ["broker"]
    assert refused.json()["checks"]["broker"].startswith("unreachable: ConnectionError")


# -- trusted hosts -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("dev_identity", [False, True])
def test_a_foreign_host_header_is_refused_also_in_dev_mode(db: Database, dev_identity: bool) -> None:
    settings = Settings(dev_identity=dev_identity, allowed_hosts=None, host="127.0.0.1")
    client = TestClient(create_app(db, settings=settings), base_url="http://127.0.0.1:9500")

    evil = client.get("/api/v1/runs", headers={"host": "evil.example"})
    evil_write = client.put(
        "/api/v1/runs/1/class", json={"value": "x"}, headers={"host": "evil.example:9500", "email": "a@b"}
    )

    assert evil.status_code == 400 and evil_write.status_code == 400
    assert client.get("/api/v1/runs").status_code == 200
    assert client.get("/api/v1/runs", headers={"host": "localhost:9500"}).status_code == 200
    # Probes and scrapers address a replica by its IP: exempt.
    assert client.get("/healthz", headers={"host": "10.1.2.3:9500"}).status_code == 200


def test_allowed_hosts_setting_replaces_the_default(db: Database) -> None:
    settings = Settings(allowed_hosts="cmsrunregistry.web.cern.ch, *.cern.ch")
    client = TestClient(create_app(db, settings=settings), base_url="http://cmsrunregistry.web.cern.ch")

    assert client.get("/api/v1/runs").status_code == 200
    assert client.get("/api/v1/runs", headers={"host": "other.cern.ch"}).status_code == 200
    assert client.get("/api/v1/runs", headers={"host": "127.0.0.1"}).status_code == 400


# -- API docs ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_api_docs_reference_only_local_assets_that_are_served(db: Database, page: str) -> None:
    client = TestClient(create_app(db))

    html = client.get(page)
    urls = re.findall(
        r"""(?:src|href)=["']([^"']+)["']|url:\s*["']([^"']+)["']|spec-url=["']([^"']+)""", html.text
    )
    urls = [next(u for u in match if u) for match in urls]

    assert html.status_code == 200
    assert not re.search(r"https?://|//cdn|fonts\.googleapis", html.text), "an external URL in the page"
    assert "/openapi.json" in urls and len(urls) >= 3
    scripts = [url for url in urls if url.endswith(".js")]
    assert scripts, "no script in the page"
    for url in urls:
        asset = client.get(url)
        assert asset.status_code == 200 and asset.content, url
    for url in scripts:  # the real bundles, not placeholders
        assert len(client.get(url).content) > 500_000, url


# -- metrics -------------------------------------------------------------------------------------------------
def test_request_latency_is_counted_by_route_template_method_and_status_class(db: Database) -> None:
    create_collision_run(db, 380567, ls_count=5)
    client = TestClient(create_app(db))
    before = client.get("/metrics").text
    route = "/api/v1/runs/{run_number}"

    for run_number in (380567, 380567, 1, 2, 3):
        client.get(f"/api/v1/runs/{run_number}")
    client.get("/no/such/path/42")
    client.request("BREW", "/api/v1/runs")
    after = client.get("/metrics")

    def delta(name: str, **labels: str) -> float:
        return sample(after.text, name, **labels) - sample(before, name, **labels)

    count = "runreg_http_request_duration_seconds_count"
    assert after.headers["content-type"].startswith("text/plain")
    assert delta(count, route=route, method="GET", status="2xx") == 2
    assert delta(count, route=route, method="GET", status="4xx") == 3
    assert delta(count, route="unmatched", method="GET", status="4xx") == 1
    assert delta(count, method="OTHER", status="4xx") == 1
    assert delta("runreg_http_request_duration_seconds_bucket", route=route, status="2xx", le="+Inf") == 2
    assert "380567" not in after.text and "/no/such/path" not in after.text and "BREW" not in after.text


def test_json_jobs_are_counted_and_their_statuses_read_from_the_database(db: Database) -> None:
    create_collision_run(db, 380001, ls_count=10)
    offline_dataset(db, 380001)
    client = TestClient(create_app(db))
    before = client.get("/metrics").text
    rule = {"==": [{"var": "lumisection.rr.dt-dt"}, "GOOD"]}

    for _ in range(2):
        certification.submit(
            db,
            InlineRunner(db),
            actor=CERTIFIER,
            dataset_pattern="/PromptReco/Collisions2024A/DQM",
            rule=rule,
        )
    after = client.get("/metrics").text

    assert (
        sample(after, "runreg_json_jobs_total", event="submitted")
        - sample(before, "runreg_json_jobs_total", event="submitted")
        == 2
    )
    assert (
        sample(after, "runreg_json_jobs_total", event="done")
        - sample(before, "runreg_json_jobs_total", event="done")
        == 2
    )
    assert sample(after, "runreg_json_jobs_by_status", status="done") == 2
    assert sample(after, "runreg_json_jobs_by_status", status="queued") == 0


def test_ingestion_counts_runs_by_outcome_and_oms_requests(db: Database, oms) -> None:  # noqa: F811
    client = TestClient(create_app(db))
    before = client.get("/metrics").text
    simulator_before = oms.requests("/agg/api")

    report = ingestion.run_cycle(db, oms.client)
    after = client.get("/metrics").text

    def delta(name: str, **labels: str) -> float:
        return sample(after, name, **labels) - sample(before, name, **labels)

    assert report.count("created") == len(WORLD.runs_at(START)) == 12
    assert delta("runreg_ingestion_runs_total", outcome="created") == 12
    assert delta("runreg_oms_requests_total", kind="data") == oms.requests("/agg/api") - simulator_before > 12
    assert delta("runreg_oms_requests_total", kind="token") == 1
