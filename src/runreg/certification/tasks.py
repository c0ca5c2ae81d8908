"""Celery tasks of certification: thin wrappers calling the service (the same job code runs in-process)."""

from __future__ import annotations

from celery import shared_task

from runreg.certification import service
from runreg.storage.database import database_from_settings


@shared_task(
    bind=True,
    name="runreg.certification.generate_json",
    acks_late=True,
    reject_on_worker_lost=True,
    max_retries=None,
)
def generate_json(self, job_id: int) -> None:  # noqa: ANN001 — the bound Celery task
    """acks_late + reject_on_worker_lost: a worker killed mid-job leaves the message unacknowledged, so Redis
    hands it to another worker; `run_job` is idempotent. A job another live worker holds (a redelivery of a
    job longer than the visibility timeout) is looked at again a lease later, so the message is never lost."""
    db = database_from_settings()
    try:
        outcome = service.run_job(db, job_id)
    finally:
        db.dispose()
    if outcome == "held":
        raise self.retry(countdown=service.JOB_LEASE_S)
