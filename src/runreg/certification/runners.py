"""Job runners: the same job code in a thread of this process (embedded default) or on Celery workers."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from runreg.storage.database import Database


class InProcessRunner:
    """One job at a time in a background thread: the embedded default, no Redis needed."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="json-jobs")

    def submit(self, job_id: int) -> None:
        from runreg.certification.service import run_job

        self.pool.submit(run_job, self.db, job_id)


class CeleryRunner:
    """Jobs as Celery tasks through Redis; `runreg worker` processes them."""

    def submit(self, job_id: int) -> None:
        from runreg.certification.tasks import generate_json

        generate_json.delay(job_id)


class InlineRunner:
    """Runs the job at once in the caller's thread: for scripts and tests that want the result on return."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def submit(self, job_id: int) -> None:
        from runreg.certification.service import run_job

        run_job(self.db, job_id)
