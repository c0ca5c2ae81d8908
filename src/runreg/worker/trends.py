"""The trends worker: one incremental pass per unit on the periodic skeleton — discover new or changed
directories under RUNREG_TRENDS_FILES_ROOT, extract the new (or newer, or failed) files in a process pool,
recompute configs whose definition changed. Single instance by the skeleton's lock."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from runreg.storage.database import Database
from runreg.trends import service as trends
from runreg.worker.periodic import Periodic

NAME = "trends"


def trends_worker(
    db: Database,
    *,
    interval_s: float,
    jobs: int,
    root: Path | None = None,
    before: Callable[[], Any] | None = None,
) -> Periodic:
    """`before` runs first in each cycle (the demo writes the DQM files of the runs that ended)."""

    def cycle(stop: threading.Event) -> dict[str, Any]:
        if before is not None:
            before()
        report = trends.nightly_pass(db, jobs=jobs, root=root)
        discovery = report.discovery
        return {
            "new_files": discovery.new_files if discovery else 0,
            "directories_listed": discovery.directories_listed if discovery else 0,
            "files_done": report.done,
            "files_failed": len(report.failed),
            "points": report.points,
            "without_value": report.rejections,
            "recomputed": len(report.recomputed),
            "config_problems": report.config_problems,
        }

    return Periodic(NAME, cycle, interval_s)
