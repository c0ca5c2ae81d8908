"""Celery tasks of certification: thin wrappers calling the service (the same job code runs in-process)."""

from __future__ import annotations

from celery import shared_task

from runreg.certification import service
from runreg.storage.database import database_from_settings


@shared_task(name="runreg.certification.generate_json", acks_late=True, reject_on_worker_lost=True)
def generate_json(job_id: int) -> None:
    """acks_late + reject_on_worker_lost: a worker killed mid-job leaves the message unacknowledged, so Redis
    hands it to another worker; `run_job` is idempotent."""
    db = database_from_settings()
    try:
        service.run_job(db, job_id)
    finally:
        db.dispose()
