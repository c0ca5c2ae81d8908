"""Server time of `/online/global` over 50,000 runs on PostgreSQL, and the time Chromium takes to show it.

Run: `.venv/bin/python benchmarks/online_page.py [--requests 200] [--pg postgresql://…/postgres]`. It seeds a
scratch PostgreSQL database as benchmarks/http_load.py does (500 runs through the registry service, their
projection rows replicated to 50,000 runs), then
1. requests the page in process (no network) as a signed-in shifter: the default view and a filtered, sorted
   view; prints p50/p95/max server time in ms;
2. serves the app with uvicorn on a socket and loads the page in Debian's headless Chromium (Playwright),
   `--loads` times in fresh contexts: time to `load` (every script and style) and to the tables drawn;
   prints p50/max.
The issue's bars: server p95 <= 60 ms; fully rendered in Chromium <= 1 s.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import threading
import time
import uuid
import warnings
from pathlib import Path

import psycopg
import uvicorn

sys.path.insert(0, str(Path(__file__).parent))
from http_load import seed  # noqa: E402 — the same 50,000 runs as the load benchmark

from runreg.http.app import create_app  # noqa: E402
from runreg.settings import Settings  # noqa: E402
from runreg.storage.database import Database  # noqa: E402

SECRET = "bench-proxy-secret"
SHIFTER = {
    "x-runreg-proxy-secret": SECRET,
    "email": "shifter@cern.ch",
    "egroups": "cms-dqm-runregistry-online-shifters",
}
VIEWS = {
    "default": "/online/global",
    "filtered": "/online/global?class=Collisions&significant=yes&ls_min=50&sort=ls:desc",
}


def percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
    return f"p50 {statistics.median(ordered):6.1f}  p95 {p95:6.1f}  max {ordered[-1]:6.1f} ms"


def server_times(app: object, requests: int) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient
    with TestClient(app, headers=SHIFTER, base_url="http://127.0.0.1") as client:  # runs the start-up
        _measure(client, requests)


def _measure(client: object, requests: int) -> None:
    for name, path in VIEWS.items():
        for _ in range(5):
            assert client.get(path).status_code == 200  # warm the configuration cache and plans
        samples = []
        for _ in range(requests):
            began = time.perf_counter()
            response = client.get(path)
            samples.append((time.perf_counter() - began) * 1000)
            assert response.status_code == 200, response.text[:200]
        print(f"server  {name:9s} {percentiles(samples)}  ({len(response.content) // 1024} KiB)")


def browser_times(app: object, loads: int) -> None:
    from playwright.sync_api import sync_playwright

    port = 9593
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=shutil.which("chromium") or "/usr/bin/chromium")
            loaded, drawn = [], []
            for _ in range(loads):
                context = browser.new_context(
                    extra_http_headers=SHIFTER, viewport={"width": 1600, "height": 1000}
                )
                page = context.new_page()
                began = time.perf_counter()
                page.goto(f"http://127.0.0.1:{port}/online/global", wait_until="load")
                loaded.append((time.perf_counter() - began) * 1000)
                page.wait_for_selector("#all-runs tbody tr[data-run]")
                drawn.append((time.perf_counter() - began) * 1000)
                context.close()
            browser.close()
        print(f"chromium load     {percentiles(loaded)}")
        print(f"chromium drawn    {percentiles(drawn)}")
    finally:
        server.should_exit = True
        thread.join(5)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--loads", type=int, default=20)
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    name = f"runreg_online_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(args.pg, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = args.pg.rsplit("/", 1)[0] + f"/{name}"
    try:
        began = time.perf_counter()
        runs = seed(url)
        print(f"seeded {len(runs)} runs in {time.perf_counter() - began:.0f} s")
        db = Database(url)
        settings = Settings(proxy_secret=SECRET, allowed_hosts=["127.0.0.1", "testserver"])
        app = create_app(db, settings=settings)
        server_times(app, args.requests)
        browser_times(app, args.loads)
        db.dispose()
    finally:
        with psycopg.connect(args.pg, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
