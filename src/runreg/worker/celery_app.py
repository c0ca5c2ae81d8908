"""The Celery application: broker and result settings from runreg's settings; tasks from the domains."""

from __future__ import annotations

from typing import Any

from celery import Celery, signals

from runreg.settings import get_settings
from runreg.telemetry.logs import configure_logging


def make_celery() -> Celery:
    settings = get_settings()
    app = Celery("runreg", broker=settings.redis_url)
    app.conf.update(
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,  # one job at a time per process: jobs are long, fairness matters
        broker_transport_options=_redis_transport(settings.job_visibility_timeout_s),
        broker_connection_retry_on_startup=True,
        task_ignore_result=True,  # results live in the database, not in Redis
        imports=("runreg.certification.tasks",),
    )
    app.set_default()
    return app


def _redis_transport(visibility_timeout_s: int) -> dict[str, int]:
    """A message taken by a worker that died is handed out again once unacknowledged for the visibility
    timeout — but only when a worker's sweep looks: Kombu sweeps every interval × throttle seconds (10 × 10 by
    default, so up to 100 s late). One sweep every ≤ 10 s (one small Redis query) bounds the delay."""
    return {
        "visibility_timeout": visibility_timeout_s,
        "unacked_restore_interval": max(1, min(10, visibility_timeout_s // 2)),
        "unacked_restore_throttle": 1,
    }


@signals.setup_logging.connect
def _json_logs(**_: Any) -> None:
    """A receiver here means Celery leaves logging alone: its processes log JSON lines like the servers."""
    configure_logging()


celery_app = make_celery()
