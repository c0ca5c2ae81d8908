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
        broker_transport_options={"visibility_timeout": settings.job_visibility_timeout_s},
        broker_connection_retry_on_startup=True,
        task_ignore_result=True,  # results live in the database, not in Redis
        imports=("runreg.certification.tasks",),
    )
    app.set_default()
    return app


@signals.setup_logging.connect
def _json_logs(**_: Any) -> None:
    """A receiver here means Celery leaves logging alone: its processes log JSON lines like the servers."""
    configure_logging()


celery_app = make_celery()
