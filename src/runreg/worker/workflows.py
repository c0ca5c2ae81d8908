"""The Stats2 worker: one incremental workflow update (ReqMgr2 changes feed, DBS numbers) per cycle, on the
periodic skeleton (single instance, heartbeat, a line per cycle; SIGTERM stops after the batch under way)."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from runreg.storage.database import Database
from runreg.worker.periodic import Periodic
from runreg.workflows import service

if TYPE_CHECKING:
    from runreg.integrations.cmsweb import CmswebSources
    from runreg.integrations.pdmv import CallbackSink

NAME = "workflows"


def workflows_worker(
    db: Database,
    sources: CmswebSources,
    *,
    interval_s: float,
    triggers: Sequence[str] = (),
    callbacks: CallbackSink | None = None,
) -> Periodic:
    def cycle(stop: threading.Event) -> dict[str, Any]:
        report = service.update(db, sources, triggers=triggers, callbacks=callbacks, stop=stop.is_set)
        return {
            "changed": report.documents_changed,
            "unchanged": report.documents_unchanged,
            "deleted": report.deleted,
            "recalculated": report.recalculated,
            "dataset_changes": report.datasets_changed,
            "callbacks": report.callbacks_sent,
            "errors": len(report.failures),
            "stopped": report.stopped,
        }

    return Periodic(NAME, cycle, interval_s)
