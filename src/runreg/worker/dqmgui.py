"""The DQM GUI pinger on the periodic skeleton: one ping per unit (rr_backend §6.6: every 10 minutes)."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from runreg.datasets import gui_service as pinger
from runreg.storage.database import Database
from runreg.worker.periodic import Periodic

if TYPE_CHECKING:
    from runreg.integrations.dqmgui.client import DqmGuiSource

NAME = "dqmgui"


def pinger_worker(db: Database, dqmgui: DqmGuiSource, *, interval_s: float) -> Periodic:
    """A failed ping (GUI down, garbage, database away) raises: the skeleton logs and records it in the
    heartbeat, nothing was written, and the next ping comes at the usual time."""

    def cycle(stop: threading.Event) -> dict[str, Any]:
        before = getattr(dqmgui, "requests_made", 0)
        report = pinger.ping(db, dqmgui)
        return {"requests": getattr(dqmgui, "requests_made", 0) - before, **report.summary()}

    return Periodic(NAME, cycle, interval_s)
