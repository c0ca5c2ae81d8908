"""What the request metrics cost per request: `observe_request` in single- and multi-process mode, and a whole
in-process ASGI request to /healthz for scale.

Run: `.venv/bin/python benchmarks/metrics_overhead.py` (no server, no database work).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import timeit

N = 200_000


def observe_cost() -> float:
    from runreg.telemetry import metrics

    seconds = timeit.timeit(
        lambda: metrics.observe_request("GET", "/api/v1/runs/{run_number}", 200, 0.012), number=N
    )
    return seconds / N * 1e6


def request_cost() -> float:
    import asyncio

    from runreg.http.app import create_app
    from runreg.settings import Settings
    from runreg.storage.database import Database

    app = create_app(Database("sqlite://"), settings=Settings(allowed_hosts="bench"))
    scope = {
        "type": "http",
        "method": "GET",
        "path": "/healthz",
        "raw_path": b"/healthz",
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"bench")],
        "http_version": "1.1",
        "scheme": "http",
        "client": ("127.0.0.1", 1),
        "server": ("bench", 80),
    }

    async def receive() -> dict:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict) -> None:
        pass

    async def many(n: int) -> None:
        for _ in range(n):
            await app(dict(scope), receive, send)

    asyncio.run(many(200))  # warm up (route table, first imports)
    n = 5000
    seconds = timeit.timeit(lambda: asyncio.run(many(n)), number=1)
    return seconds / n * 1e6


if __name__ == "__main__":
    if sys.argv[1:] == ["--child"]:
        print(f"{observe_cost():.2f}")
        sys.exit()
    import logging

    logging.disable(logging.CRITICAL)  # the access log line is not what is measured here
    single = observe_cost()
    with tempfile.TemporaryDirectory() as directory:
        child = subprocess.run(
            [sys.executable, __file__, "--child"],
            env={**os.environ, "PROMETHEUS_MULTIPROC_DIR": directory},
            capture_output=True,
            text=True,
            check=True,
        )
    print(f"observe_request: {single:.2f} µs single-process, {float(child.stdout):.2f} µs multi-process")
    print(f"whole in-process request to /healthz (all middleware): {request_cost():.0f} µs")
