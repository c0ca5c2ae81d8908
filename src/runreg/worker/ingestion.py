"""The ingestion worker: one OMS scan cycle per unit, on the periodic skeleton."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from runreg.ingestion import service as ingestion
from runreg.ingestion.model import ScanPolicy
from runreg.storage.database import Database
from runreg.worker.periodic import Periodic

if TYPE_CHECKING:
    from runreg.integrations.oms.client import OmsSource
    from runreg.settings import Settings

NAME = "ingestion"


def policy_from(settings: Settings) -> ScanPolicy:
    return ScanPolicy(
        window=settings.ingestion_window_runs,
        reconcile_every_s=settings.ingestion_reconcile_every_s or None,
        reconcile_every_scans=settings.ingestion_reconcile_every_scans or None,
    )


def ingestion_worker(
    db: Database, oms: OmsSource, *, interval_s: float, policy: ScanPolicy = ingestion.DEFAULT_POLICY
) -> Periodic:
    def cycle(stop: threading.Event) -> dict[str, Any]:
        before = getattr(oms, "requests_made", 0)
        report = ingestion.run_cycle(db, oms, policy=policy, stop=stop.is_set)
        return {
            "requests": getattr(oms, "requests_made", 0) - before,
            "runs_seen": report.seen,
            "runs_changed": report.runs_changed,
            "changes": report.changes,
            "errors": len(report.failed),
            "scan": report.scan,
            "resumed_at": report.resumed_at,
            "scan_completed": report.scan_completed,
            "missed": len(report.missed),
        }

    return Periodic(NAME, cycle, interval_s)
