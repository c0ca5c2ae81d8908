"""The DQM GUI client against our DQM GUI simulator over real sockets: both sample-list formats, samples
appearing hours after a run ends, faults retried or reported by name, TLS verified against a self-signed
certificate, the grid certificate from the settings, garbage and oversized answers refused."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from runreg.integrations.dqmgui import DqmGuiBadResponse, DqmGuiClient, DqmGuiUnavailable, Sample
from runreg.settings import Settings
from runreg.simulators.dqmgui.catalogue import FixedCatalogue, WorldCatalogue
from runreg.simulators.dqmgui.server import create_app, run_in_thread
from runreg.simulators.oms.server import SimulatedClock
from runreg.simulators.oms.world import OmsWorld

WORLD = OmsWorld()
ZB = "/ZeroBias/Run2024C-PromptReco-v1/DQMIO"


@pytest.fixture(scope="module")
def clock() -> SimulatedClock:
    return SimulatedClock(WORLD.plans[30].start_time, speed=0)


@pytest.fixture(scope="module")
def base_url(clock: SimulatedClock) -> Iterator[str]:
    with run_in_thread(create_app(WorldCatalogue(WORLD, clock))) as server:
        yield server.base_url


def client(base_url: str, **options: object) -> DqmGuiClient:
    return DqmGuiClient(base_url, backoff_s=0.01, **options)  # type: ignore[arg-type]


def test_both_formats_list_the_same_samples_and_match_filters_on_the_server(base_url: str) -> None:
    legacy = client(base_url).samples()
    v1 = client(base_url, api="v1").samples()
    assert legacy == v1 and legacy
    assert all(isinstance(s, Sample) and s.dataset.startswith("/") for s in legacy)
    prompt = client(base_url).samples(match="PromptReco")
    assert prompt and all("PromptReco" in s.dataset for s in prompt) and len(prompt) < len(legacy)


def test_samples_appear_hours_after_the_run_ends(base_url: str, clock: SimulatedClock) -> None:
    ended = [p for p in WORLD.plans[:31] if p.end_time <= clock()]
    newest = max(ended, key=lambda p: p.end)
    before = {s.dataset for s in client(base_url).samples() if s.run == newest.run_number}
    clock.advance(7 * 3600)
    after = {s.dataset for s in client(base_url).samples() if s.run == newest.run_number}
    assert before < after  # PromptReco came later than Express (or than nothing)
    assert any("PromptReco" in name for name in after - before)


def test_faults_are_retried_and_persistent_ones_are_reported(base_url: str) -> None:
    gui = client(base_url)
    expected = gui.samples()
    with httpx.Client(base_url=base_url) as control:

        def fault(kind: str, times: int, **extra: object) -> None:
            spec = {"path_prefix": "/data/json", "kind": kind, "times": times, **extra}
            control.post("/_simulator/faults", json=spec).raise_for_status()

        for kind in ("error500", "truncated", "drop", "malformed"):
            fault(kind, 1)
            assert gui.samples() == expected
        fault("truncated", 3)
        with pytest.raises(DqmGuiBadResponse, match="not JSON"):
            gui.samples()
        fault("error500", 3)
        with pytest.raises(DqmGuiUnavailable, match="HTTP 500"):
            gui.samples()
        fault("slow", 3, delay_s=1.0)
        with pytest.raises(DqmGuiUnavailable, match="timed out"):
            client(base_url, timeout=0.2).samples()
        control.delete("/_simulator/faults")
        stats = control.get("/_simulator/stats").json()
        assert stats["requests"]["/data/json/samples"] >= 12
    assert gui.samples() == expected


def test_garbage_of_the_right_syntax_is_refused_by_name() -> None:
    answers = {
        "has no `samples` list": {"rows": []},
        "samples[0] of the DQM GUI answer has no `items`": {"samples": [{"type": "x"}]},
        "samples[0].items[1].run": {
            "samples": [{"items": [{"run": 1, "dataset": "/a"}, {"run": "x1", "dataset": "/a"}]}]
        },
        "samples[0].items[0] of the DQM GUI answer has no run": {"samples": [{"items": [{"run": 1}]}]},
        "items[0].dataset": {"samples": [{"items": [{"run": 1, "dataset": 7}]}]},
    }
    for reason, body in answers.items():
        transport = httpx.MockTransport(lambda request, body=body: httpx.Response(200, json=body))
        with pytest.raises(DqmGuiBadResponse, match=re.escape(reason)):
            DqmGuiClient("https://gui.example", transport=transport).samples()
    v1 = httpx.MockTransport(lambda request: httpx.Response(200, json={"data": [{"run": 5, "dataset": ZB}]}))
    assert DqmGuiClient("https://gui.example", api="v1", transport=v1).samples() == [Sample(5, ZB)]


def test_an_oversized_answer_is_refused_without_reading_it_all() -> None:
    big = {"samples": [{"items": [{"run": 1, "dataset": ZB}] * 1000}]}
    transport = httpx.MockTransport(lambda request: httpx.Response(200, json=big))
    gui = DqmGuiClient("https://gui.example", transport=transport, max_bytes=1000, attempts=1)
    with pytest.raises(DqmGuiBadResponse, match="over the limit"):
        gui.samples()


def test_a_refusal_is_not_retried() -> None:
    calls: list[httpx.Request] = []

    def refuse(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(403, text="<html>Forbidden</html>")

    with pytest.raises(DqmGuiUnavailable, match="HTTP 403"):
        DqmGuiClient("https://gui.example", transport=httpx.MockTransport(refuse), backoff_s=0).samples()
    assert len(calls) == 1


@pytest.fixture(scope="module")
def self_signed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1"]
        + ["-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )
    return cert, key


def test_tls_is_verified_and_a_trusted_certificate_is_accepted(self_signed: tuple[Path, Path]) -> None:
    cert, key = self_signed
    catalogue = FixedCatalogue([(380001, ZB)])
    app = create_app(catalogue)
    with run_in_thread(app, ssl_certfile=str(cert), ssl_keyfile=str(key)) as server:
        assert server.base_url.startswith("https://")
        with pytest.raises(DqmGuiUnavailable, match="CERTIFICATE_VERIFY_FAILED|certificate verify failed"):
            DqmGuiClient(server.base_url, attempts=1).samples()  # the system CAs do not know it
        trusted = DqmGuiClient(server.base_url, verify=str(cert), attempts=1)
        assert trusted.samples() == [Sample(380001, ZB)]


def test_settings_build_the_client_with_the_grid_certificate(self_signed: tuple[Path, Path]) -> None:
    cert, key = self_signed
    settings = Settings(
        dqmgui_url="https://cmsweb.cern.ch/dqm/offline",
        dqmgui_cert=str(cert),
        dqmgui_key=str(key),
        dqmgui_api="v1",
    )
    with DqmGuiClient.from_settings(settings) as built:
        assert built.api == "v1" and built.http.base_url == "https://cmsweb.cern.ch/dqm/offline"
        context = built.http._http._transport._pool._ssl_context  # type: ignore[attr-defined]
        assert context.verify_mode.name == "CERT_REQUIRED"
    with pytest.raises(ValueError, match="certificate"):
        DqmGuiClient("https://x", key=str(key))
    with pytest.raises(ValueError, match="api"):
        DqmGuiClient("https://x", api="v2")  # type: ignore[arg-type]


def test_the_express_delay_is_shorter_than_the_prompt_one(clock: SimulatedClock) -> None:
    catalogue = WorldCatalogue(WORLD, clock, express_delay=timedelta(0), prompt_delay=timedelta(days=1000))
    assert all("PromptReco" not in dataset for _, dataset in catalogue.samples())
