"""`runreg serve --workers 2` on a real port: ready even when workers start slowly, JSON logs from the worker
processes, metrics summed over them."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from runreg.http.app import app_from_settings
from runreg.settings import get_settings
from tests.builders.network import free_port

RUNREG = [sys.executable, "-m", "runreg.cli.main"]
# What a loaded host does to a worker process: it takes seconds before it can answer its supervisor
# (uvicorn's default allowed 5 s, then killed and replaced it, forever).
SLOW_START = """
import sys, time
if "--multiprocessing-fork" in sys.argv:
    time.sleep(7)
"""


def wait_until_answering(url: str, server: subprocess.Popen[bytes], timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert server.poll() is None, "the server exited"
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{url} did not answer within {timeout} s")


def test_two_slow_starting_workers_become_ready_log_json_and_share_metrics(tmp_path: Path) -> None:
    (tmp_path / "slow").mkdir()
    (tmp_path / "slow" / "sitecustomize.py").write_text(SLOW_START)
    env = {
        **os.environ,
        "RUNREG_DATABASE_URL": f"sqlite:///{tmp_path / 'serve.sqlite'}",
        "PYTHONPATH": os.pathsep.join([str(tmp_path / "slow"), *sys.path]),
    }
    env.pop("RUNREG_ALLOWED_HOSTS", None)
    assert (
        subprocess.run([*RUNREG, "db", "upgrade"], env=env, capture_output=True, timeout=120).returncode == 0
    )
    port = free_port()
    log_file = tmp_path / "serve.log"
    with log_file.open("wb") as log:
        server = subprocess.Popen(
            [*RUNREG, "serve", "--workers", "2", "--port", str(port)], env=env, stdout=log, stderr=log
        )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_answering(f"{base}/healthz", server)
        for _ in range(30):  # a new connection each: the kernel hands them to either worker
            assert httpx.get(f"{base}/api/v1/runs", timeout=10).status_code == 200
        scraped = httpx.get(f"{base}/metrics", timeout=10).text
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)

    lines = [line for line in log_file.read_text().splitlines() if line.strip()]
    records = [json.loads(line) for line in lines]  # every line is a JSON object
    workers = {r["process"] for r in records if r["message"].startswith("Started server process")}
    access = [r for r in records if r["name"] == "runreg.http.access" and r["path"] == "/api/v1/runs"]
    assert len(workers) == 2 and server.pid not in workers
    assert not [r for r in records if "died" in r["message"]], "a worker was killed while starting"
    assert len(access) == 30 and {r["process"] for r in access} <= workers
    assert all(r["request_id"] != "-" and r["status"] == 200 for r in access)
    counted = sum(
        s.value
        for family in text_string_to_metric_families(scraped)
        for s in family.samples
        if s.name == "runreg_http_request_duration_seconds_count" and s.labels["route"] == "/api/v1/runs"
    )
    assert counted == 30  # summed over both processes, whichever one answered the scrape


def test_a_worker_that_cannot_build_its_app_exits_with_the_startup_failure_code(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """So uvicorn's supervisor stops, instead of restarting workers that fail the same way forever."""
    monkeypatch.setenv("RUNREG_DATABASE_URL", f"sqlite:///{tmp_path / 'never-migrated.sqlite'}")
    get_settings.cache_clear()
    try:
        with pytest.raises(SystemExit) as exited:
            app_from_settings()
    finally:
        get_settings.cache_clear()
    assert exited.value.code == 3
