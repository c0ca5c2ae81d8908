"""The DQM GUI pinger through its service, on SQLite and PostgreSQL: only waiting datasets are looked at; a
dataset whose sample appears gets it recorded (with when) and its waiting workspaces moved by the offline
dataset classifiers, automatic, by the pinger, in one change set per ping; nothing twice; the GUI failing
writes nothing."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from runreg.datasets import gui_service as pinger
from runreg.eventlog.tables import change_sets, events
from runreg.integrations.dqmgui import DqmGuiUnavailable, Sample
from runreg.kernel.actors import Actor, ActorKind
from runreg.kernel.errors import PermissionDenied
from runreg.registry import service
from runreg.registry.model import NOT_SIGNIFICANT, WAITING_DQM_GUI
from runreg.registry.tables import datasets
from runreg.storage.database import Database
from tests.builders.runs import SHIFTER, create_collision_run

RUN, OTHER = 380567, 380568
PROMPT = "/PromptReco/Collisions2024D/DQM"
EXPRESS = "/Express/Collisions2024/DQM"
ZB = "/ZeroBias/Run2024D-PromptReco-v1/DQMIO"
EXPRESS_SAMPLE = "/StreamExpress/Run2024D-Express-v1/DQMIO"
NOW = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)


class FakeGui:
    """A DqmGuiSource answering a given list (or failing), counting calls."""

    def __init__(self, samples: list[tuple[int, str]] | None = None, error: Exception | None = None) -> None:
        self.items = list(samples or [])
        self.error = error
        self.calls = 0

    def samples(self, match: str | None = None) -> list[Sample]:
        self.calls += 1
        if self.error is not None:
            raise self.error
        return [Sample(run, name) for run, name in self.items]


def attributes(db: Database, run: int, name: str) -> dict:
    with db.reading() as conn:
        row = conn.execute(
            select(datasets.c.attributes).where(datasets.c.run_number == run, datasets.c.name == name)
        ).scalar_one()
    return dict(row)


def counts(db: Database) -> tuple[int, int]:
    with db.reading() as conn:
        return (
            conn.execute(select(func.count()).select_from(change_sets)).scalar_one(),
            conn.execute(select(func.count()).select_from(events)).scalar_one(),
        )


@pytest.fixture
def signed_off(db: Database) -> Database:
    for run in (RUN, OTHER):
        create_collision_run(db, run, ls_count=20)
        service.move_run(db, actor=SHIFTER, run_number=run, to_state="SIGNOFF")
    return db


def test_nothing_waiting_asks_the_gui_nothing(db: Database) -> None:
    gui = FakeGui([(RUN, ZB)])
    report = pinger.ping(db, gui)
    assert report.waiting == 0 and gui.calls == 0 and report.change_set_id is None


def test_a_sample_that_appears_opens_or_rules_out_each_waiting_workspace(signed_off: Database) -> None:
    db = signed_off
    gui = FakeGui([(RUN, ZB), (RUN, "/HLTPhysics/Run2024D-PromptReco-v1/DQMIO"), (999999, ZB)])
    before = counts(db)

    report = pinger.ping(db, gui, now=lambda: NOW)

    assert gui.calls == 1
    assert report.waiting == 4 and report.datasets == 1 and report.recorded == 1
    assert counts(db)[0] == before[0] + 1 and counts(db)[1] == before[1] + 1  # one change set, one event
    prompt = attributes(db, RUN, PROMPT)
    assert prompt["datasets_in_gui"] == [ZB]
    assert prompt["datasets_in_gui_seen"] == {ZB: "2024-06-01T12:00:00+00:00"}
    # The default classifiers open PromptReco everywhere they exist: global and the subsystems.
    assert prompt["global_state"] == "OPEN" and prompt["dt_state"] == "OPEN"
    assert WAITING_DQM_GUI not in prompt.values()
    # Express has no sample yet: still waiting, and the other run too.
    assert attributes(db, RUN, EXPRESS)["global_state"] == WAITING_DQM_GUI
    assert attributes(db, OTHER, PROMPT)["global_state"] == WAITING_DQM_GUI
    with db.reading() as conn:
        cs = conn.execute(select(change_sets).where(change_sets.c.id == report.change_set_id)).one()
        event = conn.execute(select(events).where(events.c.change_set_id == cs.id)).one()
    assert cs.author == pinger.PINGER.name and cs.actor_kind == "automatic"
    assert event.manual is False and event.type == "DatasetAttributesChanged"


def test_express_is_not_significant_in_the_subsystems(signed_off: Database) -> None:
    db = signed_off
    report = pinger.ping(db, FakeGui([(RUN, EXPRESS_SAMPLE)]))
    express = attributes(db, RUN, EXPRESS)
    assert express["global_state"] == "OPEN"  # the global classifier opens Express
    assert express["dt_state"] == express["tracker_state"] == NOT_SIGNIFICANT  # subsystems: Prompt only
    assert report.opened >= 1 and report.not_significant >= 1


def test_a_second_ping_changes_nothing_and_only_reads_waiting_datasets(signed_off: Database) -> None:
    db = signed_off
    gui = FakeGui([(RUN, ZB), (OTHER, ZB)])
    pinger.ping(db, gui)
    after_first = counts(db)
    second = pinger.ping(db, gui)
    assert counts(db) == after_first and second.change_set_id is None
    assert second.waiting == 2  # the two Express datasets, still without a sample


def test_the_gui_down_writes_nothing_and_the_next_ping_catches_up(signed_off: Database) -> None:
    db = signed_off
    before = counts(db)
    with pytest.raises(DqmGuiUnavailable):
        pinger.ping(db, FakeGui(error=DqmGuiUnavailable("GET x failed 3 time(s)")))
    assert counts(db) == before
    assert attributes(db, RUN, PROMPT)["global_state"] == WAITING_DQM_GUI
    report = pinger.ping(db, FakeGui([(RUN, ZB)]))
    assert report.datasets == 1 and attributes(db, RUN, PROMPT)["global_state"] == "OPEN"


def test_the_gate_refuses_an_actor_without_the_action(signed_off: Database) -> None:
    db = signed_off
    stranger = Actor("bot", ActorKind.AUTOMATIC, frozenset({"nobody"}))
    before = counts(db)
    with pytest.raises(PermissionDenied):
        pinger.ping(db, FakeGui([(RUN, ZB)]), actor=stranger)
    assert counts(db) == before


def test_a_workspace_opened_by_hand_is_left_alone(signed_off: Database) -> None:
    db = signed_off
    from tests.builders.runs import EXPERT

    service.move_dataset(db, actor=EXPERT, run_number=RUN, name=PROMPT, workspace="dt", to_state="OPEN")
    service.move_dataset(
        db, actor=EXPERT, run_number=RUN, name=PROMPT, workspace="dt", to_state="SIGNOFF", comment="done"
    )
    pinger.ping(db, FakeGui([(RUN, ZB)]))
    prompt = attributes(db, RUN, PROMPT)
    assert prompt["dt_state"] == "SIGNOFF" and prompt["global_state"] == "OPEN"


KILLED_PING = """
import sys, time
from runreg.datasets import gui_service
from runreg.integrations.dqmgui import Sample
from runreg.registry import store
from runreg.storage.database import Database

class Gui:
    def samples(self, match=None):
        return [Sample(int(sys.argv[2]), sys.argv[3])]

written = store.save_dataset_attributes

def then_wait(*args, **kwargs):
    written(*args, **kwargs)
    print("WRITTEN", flush=True)  # every row of the ping is written, the transaction not committed
    time.sleep(120)

store.save_dataset_attributes = then_wait
gui_service.ping(Database(sys.argv[1]), Gui())
"""


def test_a_ping_killed_mid_write_loses_nothing_and_duplicates_nothing(signed_off: Database) -> None:
    import os
    import signal
    import subprocess
    import sys
    from pathlib import Path

    db = signed_off
    before = counts(db)
    src = Path(__file__).resolve().parents[2] / "src"
    env = {**os.environ, "PYTHONPATH": f"{src}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    url = db.engine.url.render_as_string(hide_password=False)
    child = subprocess.Popen(
        [sys.executable, "-c", KILLED_PING, url, str(RUN), ZB], stdout=subprocess.PIPE, env=env, text=True
    )
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "WRITTEN"
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(30)
    assert counts(db) == before  # the killed transaction left nothing
    assert attributes(db, RUN, PROMPT)["global_state"] == WAITING_DQM_GUI

    report = pinger.ping(db, FakeGui([(RUN, ZB)]))  # the next ping does the work, once
    assert report.datasets == 1 and counts(db) == (before[0] + 1, before[1] + 1)
    assert attributes(db, RUN, PROMPT)["datasets_in_gui"] == [ZB]
    assert pinger.ping(db, FakeGui([(RUN, ZB)])).change_set_id is None
    assert counts(db) == (before[0] + 1, before[1] + 1)


def test_the_worker_keeps_pinging_through_a_gui_that_is_down(signed_off: Database) -> None:
    import threading

    from runreg.worker import heartbeats, periodic
    from runreg.worker.dqmgui import NAME, pinger_worker

    db = signed_off

    class FlakyGui(FakeGui):
        """Down for the first two pings, then showing the sample; stops the worker after the fourth."""

        def samples(self, match: str | None = None) -> list[Sample]:
            self.calls += 1
            if self.calls >= 4:
                stop.set()
            if self.calls <= 2:
                raise DqmGuiUnavailable(
                    "GET https://gui/data/json/samples failed 3 time(s); last failure: HTTP 500"
                )
            return [Sample(RUN, ZB)]

    stop = threading.Event()
    gui = FlakyGui()
    ok = periodic.run(db, pinger_worker(db, gui, interval_s=0.01), stop=stop, beat_every_s=60)
    assert ok and gui.calls == 4
    beat = heartbeats.read(db, NAME)
    assert beat is not None and beat.cycles == 4 and beat.failed_cycles == 2
    assert attributes(db, RUN, PROMPT)["global_state"] == "OPEN"
    assert attributes(db, RUN, PROMPT)["datasets_in_gui"] == [ZB]
