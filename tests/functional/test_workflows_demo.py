"""The demo's Stats2 part: the cmsweb simulator and the workflow update every few seconds fill the cache, and
running workflows' numbers grow from one update to the next (what `make run` shows on /stats)."""

from __future__ import annotations

import threading
import time

from runreg.cli.demo import start_workflows_demo
from runreg.settings import Settings
from runreg.storage.database import Database
from runreg.worker import heartbeats
from runreg.workflows import service
from tests.builders.network import free_port


def test_the_demo_fills_the_cache_and_histories_grow(db: Database) -> None:
    stop = threading.Event()
    # The demo's loop, every 2 s instead of 10: three updates without waiting for the demo's pace.
    settings = start_workflows_demo(db, Settings(demo_cmsweb_port=free_port()), stop, interval_s=2.0)
    try:
        assert settings.cmsweb_url.endswith(str(settings.demo_cmsweb_port))
        assert settings.dbs_url == f"{settings.cmsweb_url}/dbs/prod/global/DBSReader"
        deadline = time.monotonic() + 120
        while (beat := heartbeats.read(db, "workflows")) is None or beat.cycles < 3:
            assert time.monotonic() < deadline, "the demo's workflow update did not run three times"
            time.sleep(0.5)
        assert service.counts(db)["workflows"] > 50
        assert beat.last_summary is not None and beat.failed_cycles == 0
        with db.reading() as conn:
            from sqlalchemy import func, select

            from runreg.workflows.tables import workflow_history

            per_dataset = (
                conn.execute(
                    select(func.count())
                    .select_from(workflow_history)
                    .group_by(workflow_history.c.name, workflow_history.c.dataset)
                )
                .scalars()
                .all()
            )
        assert max(per_dataset) >= 2  # some dataset's numbers changed between updates
    finally:
        stop.set()
