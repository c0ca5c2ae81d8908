"""Prometheus metrics: what the HTTP shell, the ingestion and the JSON jobs count, and their exposition.

Domains call the small functions below (no HTTP import, no prometheus_client import in domain code).
`serve --workers N` runs N processes: each writes its values to files in PROMETHEUS_MULTIPROC_DIR
(prometheus_client's multi-process mode, chosen when that variable is set before the first metric exists) and
/metrics in any of them sums all of them.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Protocol

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.metrics_core import Metric
from prometheus_client.multiprocess import MultiProcessCollector

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# Seconds; a listing takes ~1-100 ms, a golden-JSON read up to seconds.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

_http_requests = Histogram(
    "runreg_http_request_duration_seconds",
    "HTTP requests by route template (never the raw path), method and status class.",
    ["method", "route", "status"],
    buckets=LATENCY_BUCKETS,
)
_ingested_runs = Counter(
    "runreg_ingestion_runs",
    "Runs the OMS ingestion processed, by outcome (created, updated, unchanged, refused, error).",
    ["outcome"],
)
_oms_requests = Counter("runreg_oms_requests", "Requests sent to OMS, by kind (data or token).", ["kind"])
_json_jobs = Counter("runreg_json_jobs", "Golden-JSON job events (submitted, done, failed).", ["event"])


def observe_request(method: str, route: str, status: int, seconds: float) -> None:
    """`route` is the matched route's template; the label values stay a small, bounded set."""
    method = method if method in KNOWN_METHODS else "OTHER"
    _http_requests.labels(method, route, f"{status // 100}xx").observe(seconds)


def ingested(outcome: str) -> None:
    _ingested_runs.labels(outcome).inc()


def oms_request(*, token: bool = False) -> None:
    _oms_requests.labels("token" if token else "data").inc()


def json_job(event: str) -> None:
    _json_jobs.labels(event).inc()


class Collector(Protocol):
    def collect(self) -> Iterable[Metric]: ...


def prepare_multiprocess_dir(path: str | None = None) -> Path:
    """Before the worker processes start: a directory for their metric files, emptied (files of a previous
    run would add old counts to the new ones) and exported to the environment the workers inherit."""
    directory = Path(path or os.environ.get(MULTIPROC_ENV) or tempfile.mkdtemp(prefix="runreg-metrics-"))
    if directory.exists():
        shutil.rmtree(directory)
    directory.mkdir(parents=True)
    os.environ[MULTIPROC_ENV] = str(directory)
    return directory


def exposition(extra: Iterable[Collector] = ()) -> tuple[bytes, str]:
    """The text format of every metric (summed over processes in multi-process mode) plus `extra`
    collectors that compute their values at scrape time."""
    sources: list[Collector] = list(extra)
    if os.environ.get(MULTIPROC_ENV):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
        sources.append(registry)
    else:
        sources.append(REGISTRY)
    return generate_latest(_Together(sources)), CONTENT_TYPE_LATEST


class _Together:
    def __init__(self, sources: list[Collector]) -> None:
        self.sources = sources

    def collect(self) -> Iterator[Metric]:
        for source in self.sources:
            yield from source.collect()
