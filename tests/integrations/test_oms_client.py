"""The OMS client against the OMS simulator over a real socket: paging, tokens, and every fault it meets."""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from runreg.integrations.oms import OmsBadResponse, OmsClient, OmsSource, OmsUnavailable, wire
from runreg.settings import Settings
from runreg.simulators.oms.server import SimulatedClock, SimulatorServer, create_app, run_in_thread
from runreg.simulators.oms.world import LS_SECONDS, OmsWorld

WORLD = OmsWorld()
LONG_RUN = next(p for p in WORLD.plans if p.ls_count > 5000)
GROWING = WORLD.plans[150]
NOW = GROWING.start_time + timedelta(seconds=(GROWING.ls_count // 2 + 0.5) * LS_SECONDS)  # mid-run 150


def _client(server: SimulatorServer, **options: Any) -> OmsClient:
    settings: dict[str, Any] = {
        "token_url": server.token_url,
        "client_id": "runreg",
        "client_secret": "simulator-secret",
        "audience": "cmsoms-prod",
        "attempts": 4,
        "backoff_s": 0.01,
        "timeout": 5.0,
    }
    return OmsClient(server.api_url, **(settings | options))


def _start(clock: Any = None, **options: Any) -> SimulatorServer:
    return run_in_thread(create_app(WORLD, clock or SimulatedClock(NOW, speed=0), **options))


@pytest.fixture(scope="module")
def server() -> Iterator[SimulatorServer]:
    with _start() as running:
        yield running


@pytest.fixture
def sim(server: SimulatorServer) -> Iterator[httpx.Client]:
    """Control of the shared simulator, clean of faults and counts before each test."""
    with httpx.Client(base_url=server.base_url) as control:
        control.delete("/_simulator/faults")
        control.delete("/_simulator/stats")
        yield control
        control.delete("/_simulator/faults")


@pytest.fixture
def client(server: SimulatorServer) -> Iterator[OmsClient]:
    with _client(server) as oms:
        yield oms


def _requests(sim: httpx.Client, path: str = "/agg/api/v1/lumisections") -> int:
    return sim.get("/_simulator/stats").json()["requests"].get(path, 0)


def _fault(sim: httpx.Client, kind: str, times: int, **extra: Any) -> None:
    spec = {"path_prefix": "/agg/api/v1/lumisections", "kind": kind, "times": times, **extra}
    sim.post("/_simulator/faults", json=spec).raise_for_status()


# --- reading ---------------------------------------------------------------------------------------------


def test_client_is_an_oms_source_built_from_settings() -> None:
    settings = Settings(oms_url="https://oms.example/agg/api/v1/", oms_token_url=None, oms_timeout_s=7)
    with OmsClient.from_settings(settings) as oms:
        assert isinstance(oms, OmsSource)
        assert oms.base_url == "https://oms.example/agg/api/v1" and oms.token_url is None


def test_recent_runs_come_newest_update_first_across_capped_pages(
    client: OmsClient, sim: httpx.Client
) -> None:
    runs = client.recent_runs(offset=0, limit=130)
    assert len(runs) == 130 and _requests(sim, "/agg/api/v1/runs") == 2  # the simulator caps pages at 100
    updates = [r["last_update"] for r in runs]
    assert updates == sorted(updates, reverse=True)
    assert runs[0]["run_number"] == GROWING.run_number and runs[0]["end_time"] is None
    assert [r["run_number"] for r in client.recent_runs(offset=5, limit=10)] == [
        r["run_number"] for r in runs[5:15]
    ]
    assert len(client.recent_runs(offset=140, limit=49)) == 11  # 151 runs have started by NOW


def test_run_by_number_or_none(client: OmsClient) -> None:
    assert client.run(LONG_RUN.run_number) == WORLD.run(LONG_RUN.run_number, NOW)
    assert client.run(GROWING.run_number)["last_lumisection_number"] == GROWING.ls_count // 2
    assert client.run(LONG_RUN.run_number + 100_000) is None


def test_all_lumisections_of_the_longest_run_over_two_pages(client: OmsClient, sim: httpx.Client) -> None:
    rows = client.lumisections(LONG_RUN.run_number)
    assert [r["lumisection_number"] for r in rows] == list(range(1, 5401))
    assert _requests(sim) == 2
    assert rows == WORLD.lumisections(LONG_RUN.run_number, NOW)


def test_lumisections_of_an_ongoing_run_are_those_completed(client: OmsClient) -> None:
    rows = client.lumisections(GROWING.run_number)
    assert len(rows) == client.run(GROWING.run_number)["last_lumisection_number"] == GROWING.ls_count // 2


def test_fields_projection_keeps_the_lumisection_number(client: OmsClient) -> None:
    rows = client.lumisections(LONG_RUN.run_number, fields=["bpix_ready", "physics_flag"])
    assert len(rows) == 5400
    assert {frozenset(r) for r in rows} == {frozenset({"lumisection_number", "bpix_ready", "physics_flag"})}


def test_unknown_run_has_no_lumisections(client: OmsClient) -> None:
    assert client.lumisections(LONG_RUN.run_number + 100_000) == []


# --- tokens ---------------------------------------------------------------------------------------------


def test_token_is_fetched_once_and_reused(client: OmsClient, sim: httpx.Client) -> None:
    client.run(LONG_RUN.run_number)
    client.recent_runs(offset=0, limit=5)
    client.lumisections(GROWING.run_number, fields=["cms_active"])
    assert _requests(sim, "/auth/token") == 1 == client.token_requests
    assert client.requests_made == 4


def test_token_is_renewed_before_it_expires_and_after_a_401() -> None:
    with (
        _start(token_ttl_s=2) as server,
        _client(server) as oms,
        httpx.Client(base_url=server.base_url) as sim,
    ):
        oms.run(LONG_RUN.run_number)
        time.sleep(1.1)  # past the client's renewal point (halfway through a 2 s token)
        oms.run(LONG_RUN.run_number)
        assert oms.token_requests == 2
        sim.post("/_simulator/tokens/revoke")  # OMS forgets the token the client still trusts
        assert oms.run(LONG_RUN.run_number) is not None
        assert oms.token_requests == 3 and _requests(sim, "/agg/api/v1/runs") == 4


def test_wrong_credentials_fail_at_once(server: SimulatorServer, sim: httpx.Client) -> None:
    with (
        _client(server, client_secret="wrong") as oms,
        pytest.raises(OmsUnavailable, match="refused the client"),
    ):
        oms.run(LONG_RUN.run_number)
    assert _requests(sim, "/auth/token") == 1 and _requests(sim, "/agg/api/v1/runs") == 0


# --- faults ---------------------------------------------------------------------------------------------


def test_server_errors_are_retried_and_logged(
    client: OmsClient, sim: httpx.Client, caplog: pytest.LogCaptureFixture
) -> None:
    _fault(sim, "error500", 2)
    with caplog.at_level(logging.WARNING, logger="runreg.integrations.oms"):
        rows = client.lumisections(GROWING.run_number)
    assert len(rows) == GROWING.ls_count // 2 and _requests(sim) == 3
    retries = [r.getMessage() for r in caplog.records]
    assert len(retries) == 2 and all("HTTP 500" in m and "/lumisections" in m for m in retries)


def test_a_reply_slower_than_the_read_timeout_is_retried(server: SimulatorServer, sim: httpx.Client) -> None:
    _fault(sim, "slow", 1, delay_s=1.0)
    with _client(server, timeout=0.3) as oms:
        started = time.monotonic()
        assert len(oms.lumisections(GROWING.run_number)) == GROWING.ls_count // 2
    assert _requests(sim) == 2 and time.monotonic() - started < 1.0


def test_truncated_json_is_retried(client: OmsClient, sim: httpx.Client) -> None:
    _fault(sim, "truncated", 2)
    assert len(client.lumisections(LONG_RUN.run_number)) == 5400
    assert _requests(sim) == 4  # two cut first pages, then both pages whole


def test_a_dropped_connection_is_retried(client: OmsClient, sim: httpx.Client) -> None:
    _fault(sim, "drop", 1)
    assert len(client.lumisections(GROWING.run_number)) == GROWING.ls_count // 2
    assert _requests(sim) == 2


@pytest.mark.parametrize("variant", ["not_json", "no_data"])
def test_a_malformed_page_is_retried_then_reported_as_a_bad_response(
    client: OmsClient, sim: httpx.Client, variant: str
) -> None:
    # Retried, because a login page or a cut body from a proxy is usually transient; if it persists,
    # OmsBadResponse (not OmsUnavailable) says OMS answers, but not in its API's format.
    _fault(sim, "malformed", 1, variant=variant)
    assert len(client.lumisections(GROWING.run_number)) == GROWING.ls_count // 2
    _fault(sim, "malformed", 10, variant=variant)
    expected = "not JSON" if variant == "not_json" else "no `data`"
    with pytest.raises(OmsBadResponse, match=expected) as failure:
        client.lumisections(GROWING.run_number)
    assert "failed 4 time(s)" in failure.value.message and _requests(sim) == 2 + 4


def test_persistent_server_errors_end_in_oms_unavailable_naming_the_url(
    client: OmsClient, sim: httpx.Client
) -> None:
    _fault(sim, "error500", 10)
    with pytest.raises(
        OmsUnavailable, match=r"/agg/api/v1/lumisections failed 4 time\(s\).*HTTP 500"
    ) as failure:
        client.lumisections(GROWING.run_number)
    assert failure.value.details["attempts"] == 4 and _requests(sim) == 4


def test_a_server_that_is_down_fails_fast() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    oms = OmsClient(f"{base}/agg/api/v1", token_url=f"{base}/auth/token", client_id="c", client_secret="s",
                    attempts=3, backoff_s=0.01)  # fmt: skip
    started = time.monotonic()
    with oms, pytest.raises(OmsUnavailable, match=f"127.0.0.1:{port}.*ConnectError"):
        oms.recent_runs(offset=0, limit=10)
    assert time.monotonic() - started < 2 and oms.requests_made == 3


def test_a_hole_in_the_lumisections_is_a_bad_response() -> None:
    with _start() as server, _client(server) as oms, httpx.Client(base_url=server.base_url) as sim:
        sim.post("/_simulator/holes", json={"run_number": LONG_RUN.run_number, "ls": [4999, 5000, 5001]})
        with pytest.raises(OmsBadResponse, match=r"jump from 4998 to 5002 \(4999-5001 missing\)"):
            oms.lumisections(LONG_RUN.run_number)
        assert _requests(sim) == 2  # not retried: the data itself is incomplete


def test_a_shrunk_run_reports_fewer_lumisections_and_a_newer_update() -> None:
    with _start() as server, _client(server) as oms, httpx.Client(base_url=server.base_url) as sim:
        before = oms.run(LONG_RUN.run_number)
        sim.post("/_simulator/shrink", json={"run_number": LONG_RUN.run_number, "ls": 4000})
        after = oms.run(LONG_RUN.run_number)
        assert after["last_lumisection_number"] == 4000 and after["last_update"] > before["last_update"]
        assert len(oms.lumisections(LONG_RUN.run_number)) == 4000
        assert oms.recent_runs(offset=0, limit=1)[0]["run_number"] == LONG_RUN.run_number


def test_a_moving_clock_makes_the_ongoing_run_grow() -> None:
    with _start() as server, _client(server) as oms, httpx.Client(base_url=server.base_url) as sim:
        before = oms.run(GROWING.run_number)["last_lumisection_number"]
        sim.post("/_simulator/clock", json={"advance_s": 10 * LS_SECONDS}).raise_for_status()
        assert oms.run(GROWING.run_number)["last_lumisection_number"] == before + 10
        assert len(oms.lumisections(GROWING.run_number)) == before + 10


# --- the wire format ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ([], "JSON list"),
        ({"errors": []}, "no `data` member"),
        ({"data": {}}, "`data` is a JSON dict"),
        ({"data": [{"id": "1"}]}, r"data\[0\] has no `attributes`"),
        ({"data": [{"attributes": {"run_number": 1}}]}, "lacks a valid `last_update` \\(missing\\)"),
        ({"data": [{"attributes": {"run_number": "1", "last_update": "x"}}]}, "valid `run_number` \\('1'\\)"),
    ],
)
def test_parse_page_refuses_what_oms_never_sends(payload: Any, message: str) -> None:
    with pytest.raises(OmsBadResponse, match=message):
        wire.parse_page(payload, required=wire.RUN_REQUIRED)


def test_parse_page_checks_what_each_item_type_needs_unless_told() -> None:
    with pytest.raises(OmsBadResponse, match="lumisection_number"):
        wire.parse_page({"data": [{"type": "lumisections", "attributes": {"run_number": 1}}]})
    assert wire.parse_page({"data": [{"type": "other", "attributes": {}}]}) == ([{}], None, None)


def test_parse_page_returns_attributes_next_link_and_total() -> None:
    page = {
        "data": [{"attributes": {"lumisection_number": 1}}],
        "links": {"next": "u"},
        "meta": {"totalResourceCount": 9},
    }
    assert wire.parse_page(page, required=wire.LS_REQUIRED) == ([{"lumisection_number": 1}], "u", 9)
    with pytest.raises(OmsBadResponse, match="lumisection_number"):
        wire.parse_page({"data": [{"attributes": {}}]}, required=wire.LS_REQUIRED)


def test_lumisection_numbering_must_be_1_to_n() -> None:
    def rows(*numbers: int) -> list[dict[str, int]]:
        return [{"lumisection_number": n, "run_number": 7} for n in numbers]

    wire.check_lumisections(rows(1, 2, 3), 7)
    with pytest.raises(OmsBadResponse, match="lumisection 2 twice"):
        wire.check_lumisections(rows(1, 2, 2, 3), 7)
    with pytest.raises(OmsBadResponse, match="jump from 0 to 2"):
        wire.check_lumisections(rows(2, 3), 7)
    with pytest.raises(OmsBadResponse, match="some of run 7"):
        wire.check_lumisections(rows(1), 8)
    assert wire.parse_time("2024-05-01T08:00:00Z") == datetime.fromisoformat("2024-05-01T08:00:00+00:00")


def test_per_ls_luminosity_arrives_in_inverse_picobarn_whatever_unit_oms_states() -> None:
    def item(ls: int, units: str | None) -> dict[str, Any]:
        meta = (
            {"row": {"recorded_lumi": {"units": units}, "delivered_lumi": {"units": units}}} if units else {}
        )
        attributes = {"lumisection_number": ls, "recorded_lumi": 2.0, "delivered_lumi": 4.0, "init_lumi": 1.5}
        return {"type": "lumisections", "attributes": attributes, "meta": meta}

    rows, _, _ = wire.parse_page(
        {"data": [item(1, "ub^{-1}"), item(2, "pb^{-1}"), item(3, None), item(4, "/nb")]}
    )
    assert [r["recorded_lumi"] for r in rows] == pytest.approx([2e-6, 2.0, 2.0, 2e-3])
    assert [r["delivered_lumi"] for r in rows] == pytest.approx([4e-6, 4.0, 4.0, 4e-3])
    assert {r["init_lumi"] for r in rows} == {1.5}  # instantaneous luminosity is not converted
    with pytest.raises(OmsBadResponse, match="not a luminosity unit"):
        wire.parse_page({"data": [item(1, "Hz/cm^2")]})
