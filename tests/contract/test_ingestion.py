"""Runs arrive from OMS: the ingestion cycle against our OMS simulator over a real socket, on both engines."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import func, select

from runreg.configuration import service as configuration
from runreg.eventlog.tables import change_sets, events
from runreg.ingestion import service as ingestion
from runreg.ingestion.tables import oms_run_marks
from runreg.integrations.oms import OmsClient, OmsUnavailable
from runreg.kernel.actors import Actor, ActorKind
from runreg.kernel.ranges import RangeMap
from runreg.luminosity import service as luminosity
from runreg.registry import service as registry
from runreg.registry.model import ONLINE
from runreg.registry.service import FlagEdit
from runreg.simulators.oms.server import SimulatedClock, SimulatorServer, create_app, run_in_thread
from runreg.simulators.oms.world import LS_SECONDS, OmsWorld
from runreg.storage.database import Database

WORLD = OmsWorld(runs=14)
GROWING = WORLD.plans[11]  # ongoing when the tests start
LONGEST = next(plan for plan in WORLD.plans if plan.ls_count > 5000)
START = GROWING.start_time + timedelta(minutes=20)
SHIFTER = Actor("alice@cern.ch", ActorKind.HUMAN, frozenset({"cms-dqm-oncall"}))  # edits class too
EXPERT = Actor("expert@cern.ch", ActorKind.HUMAN, frozenset({"cms-dqm-runregistry-experts"}))


@dataclass
class Oms:
    server: SimulatorServer
    client: OmsClient
    clock: SimulatedClock
    control: httpx.Client

    def requests(self, path_part: str) -> int:
        counts = self.control.get("/_simulator/stats").json()["requests"]
        return sum(n for path, n in counts.items() if path_part in path)

    def fault(self, path: str, kind: str, times: int) -> None:
        self.control.post("/_simulator/faults", json={"path_prefix": path, "kind": kind, "times": times})

    def advance(self, seconds: float) -> None:
        self.clock.advance(seconds)


@pytest.fixture
def oms() -> Iterator[Oms]:
    clock = SimulatedClock(START, speed=0)
    with run_in_thread(create_app(WORLD, clock)) as server, httpx.Client(base_url=server.base_url) as control:
        client = OmsClient(
            server.api_url,
            token_url=server.token_url,
            client_id="runreg",
            client_secret="simulator-secret",
            audience="cmsoms-prod",
            attempts=3,
            backoff_s=0.01,
            timeout=5.0,
        )
        yield Oms(server, client, clock, control)


def counts(db: Database) -> tuple[int, int]:
    with db.reading() as conn:
        return (
            conn.execute(select(func.count()).select_from(change_sets)).scalar_one(),
            conn.execute(select(func.count()).select_from(events)).scalar_one(),
        )


def statuses(run: registry.RunState, component: str) -> set[str]:
    return {value["status"] for _, _, value in run.datasets[ONLINE].flags[component].effective()}


def test_first_cycle_creates_and_classifies_every_run(db: Database, oms: Oms) -> None:
    report = ingestion.run_cycle(db, oms.client)

    expected = WORLD.runs_at(START)
    assert report.count("created") == len(expected) == 12 and not report.failed
    collisions = registry.run_state(db, WORLD.plans[3].run_number)
    assert WORLD.plans[3].kind == "collisions"
    assert (collisions.rr["class"], collisions.rr["significant"], collisions.rr["state"]) == (
        "Collisions24",
        True,
        "OPEN",
    )
    assert collisions.oms["tracker_included"] is True and collisions.oms["beams_present_and_stable"] is True
    assert "GOOD" in statuses(collisions, "tracker-pixel")
    assert collisions.datasets[ONLINE].flags["tracker-pixel"].effective().gaps(1, collisions.ls_count) == []
    commissioning = registry.run_state(
        db, next(p.run_number for p in WORLD.plans if p.kind == "commissioning")
    )
    assert commissioning.rr["significant"] is False and commissioning.datasets[ONLINE].flags == {}
    growing = registry.run_state(db, GROWING.run_number)
    assert growing.ls_count == GROWING.completed_ls(START.timestamp()) and growing.oms["end_time"] is None


def test_a_quiet_cycle_writes_nothing_and_downloads_no_lumisections(db: Database, oms: Oms) -> None:
    ingestion.run_cycle(db, oms.client)
    before = counts(db)
    oms.control.delete("/_simulator/stats")

    report = ingestion.run_cycle(db, oms.client)

    assert counts(db) == before
    assert report.outcomes == {} and not report.failed
    assert oms.requests("/lumisections") == 0
    assert oms.requests("/runs") == 1


def test_a_growing_run_records_only_its_new_lumisections(db: Database, oms: Oms) -> None:
    ingestion.run_cycle(db, oms.client)
    before = registry.run_state(db, GROWING.run_number).ls_count
    oms.advance(100 * LS_SECONDS)

    report = ingestion.run_cycle(db, oms.client)

    after = registry.run_state(db, GROWING.run_number)
    assert report.outcomes == {"updated": 1}
    assert after.ls_count == before + 100
    last_change = registry.history(db, run_number=GROWING.run_number, limit=1)[0]
    with db.reading() as conn:
        ranges = conn.execute(
            select(events.c.type, events.c.first_ls, events.c.last_ls).where(
                events.c.change_set_id == last_change.id, events.c.first_ls.is_not(None)
            )
        ).all()
    # OMS values and automatic flags for exactly the 100 new LS: nothing re-written over those already stored.
    assert {(r.first_ls, r.last_ls) for r in ranges} == {(before + 1, before + 100)}
    assert {r.type for r in ranges} == {"OmsValuesSet", "FlagsSet"}


def test_ingestion_keeps_each_runs_oms_luminosity_as_one_row_and_follows_a_growing_run(
    db: Database, oms: Oms
) -> None:
    ingestion.run_cycle(db, oms.client)
    finished = next(p for p in WORLD.plans if p.peak_lumi is not None and p.run_number != GROWING.run_number)
    expected = sum(
        max(0.0, ls["recorded_lumi"] or 0.0) for ls in WORLD.lumisections(finished.run_number, oms.clock())
    )
    (source,) = luminosity.sources(db, run_number=finished.run_number)
    assert source["source"] == "oms" and source["ls"] == finished.ls_count
    assert source["recorded"] == pytest.approx(expected) and expected > 0

    before = luminosity.sources(db, run_number=GROWING.run_number)[0]
    oms.advance(100 * LS_SECONDS)
    ingestion.run_cycle(db, oms.client)
    after = luminosity.sources(db, run_number=GROWING.run_number)[0]
    assert after["ls"] == before["ls"] + 100 and after["recorded"] > before["recorded"]


def test_the_run_longer_than_5000_ls_is_ingested_whole(db: Database, oms: Oms) -> None:
    ingestion.run_cycle(db, oms.client)
    run = registry.run_state(db, LONGEST.run_number)
    assert run.ls_count == LONGEST.ls_count == 5400
    assert run.datasets[ONLINE].flags["dt-dt"].effective().last_ls == 5400
    assert oms.requests("/lumisections") == len(WORLD.runs_at(START)) + 1  # the long run needed two pages


def test_manual_decisions_survive_refresh_and_reset(db: Database, oms: Oms) -> None:
    ingestion.run_cycle(db, oms.client)
    run_number = GROWING.run_number
    registry.edit_flags(
        db,
        actor=SHIFTER,
        run_number=run_number,
        edits=[FlagEdit("tracker-pixel", 1, 20, "BAD", "pixel HV trip")],
        comment="shift",
    )
    registry.change_run_attributes(
        db, actor=SHIFTER, run_number=run_number, rr={"class": "Commissioning24"}, comment="special run"
    )
    oms.advance(30 * LS_SECONDS)

    ingestion.refresh_run(db, oms.client, actor=SHIFTER, run_number=run_number)
    ingestion.refresh_run(db, oms.client, actor=SHIFTER, run_number=run_number, reset=True)

    run = registry.run_state(db, run_number)
    assert run.rr["class"] == "Commissioning24"
    pixel = run.datasets[ONLINE].flags["tracker-pixel"].effective()
    assert pixel.get(1)["status"] == pixel.get(20)["status"] == "BAD"
    assert run.ls_count == GROWING.completed_ls(START.timestamp()) + 30


def test_a_shrinking_run_is_refused_and_flagged_for_a_person(db: Database, oms: Oms) -> None:
    ingestion.run_cycle(db, oms.client)
    victim = WORLD.plans[3]
    oms.control.post("/_simulator/shrink", json={"run_number": victim.run_number, "ls": 100})
    oms.advance(60)

    report = ingestion.run_cycle(db, oms.client)

    run = registry.run_state(db, victim.run_number)
    assert report.count("refused") == 1
    assert run.ls_count == victim.ls_count
    assert run.rr["run_needs_to_be_updated_manually"] is True


def test_rr_changes_to_a_signed_off_run_are_refused_but_oms_facts_are_kept(db: Database) -> None:
    from tests.builders.runs import OMS_WORKER, create_collision_run

    create_collision_run(db, ls_count=10)
    registry.move_run(db, actor=SHIFTER, run_number=380567, to_state="SIGNOFF")
    bad = {"status": "BAD", "comment": "", "cause": ""}
    update = registry.AutomaticUpdate(
        oms_attributes={"end_time": "2024-05-01T12:00:00Z"},
        rr_attributes={"class": "Collisions24", "significant": True},
        oms_values={"cms_active": RangeMap([(1, 12, True)])},
        ls_count=12,
        flags={"dt-dt": RangeMap([(1, 12, bad)])},
    )
    with db.transaction() as conn:
        outcome = registry.apply_automatic_update(
            conn, actor=OMS_WORKER, run_number=380567, update=update, comment="run update"
        )

    run = registry.run_state(db, 380567)
    assert outcome.kind == "refused" and "SIGNOFF" in outcome.reason
    assert run.rr["run_needs_to_be_updated_manually"] is True
    assert run.oms["end_time"] == "2024-05-01T12:00:00Z" and run.ls_count == 12
    assert statuses(run, "dt-dt") == {"GOOD"}


def test_transient_oms_errors_are_retried(db: Database, oms: Oms) -> None:
    oms.fault("/agg/api/v1/lumisections", "error500", 2)
    oms.fault("/agg/api/v1/runs", "truncated", 1)
    report = ingestion.run_cycle(db, oms.client)
    assert report.count("created") == 12 and not report.failed
    # The faults were met and retried: 13 LS pages (12 runs, the long one in two) plus the two 500s, and the
    # run list twice (the truncated reply, then the whole one).
    assert oms.requests("/lumisections") == 13 + 2 and oms.requests("/runs") == 1 + 1
    for run in WORLD.runs_at(START):
        assert registry.run_state(db, run["run_number"]).ls_count == run["last_lumisection_number"]


def test_a_run_whose_lumisections_stay_malformed_fails_alone_and_is_retried_next_cycle(
    db: Database, oms: Oms
) -> None:
    ingestion.run_cycle(db, oms.client)
    oms.advance(50 * LS_SECONDS)
    oms.fault("/agg/api/v1/lumisections", "malformed", 10)
    stored = registry.run_state(db, GROWING.run_number).ls_count

    failing = ingestion.run_cycle(db, oms.client)

    assert set(failing.failed) == {GROWING.run_number}
    assert registry.run_state(db, GROWING.run_number).ls_count == stored  # never half-written
    with db.reading() as conn:
        assert conn.execute(
            select(oms_run_marks.c.error).where(oms_run_marks.c.run_number == GROWING.run_number)
        ).scalar_one()
    oms.control.delete("/_simulator/faults")

    recovered = ingestion.run_cycle(db, oms.client)

    assert recovered.count("updated") == 1 and not recovered.failed
    assert registry.run_state(db, GROWING.run_number).ls_count == stored + 50


def test_oms_down_fails_the_cycle_and_writes_nothing(db: Database) -> None:
    dead = OmsClient("http://127.0.0.1:9/agg/api/v1", attempts=2, backoff_s=0.01, timeout=1.0)
    before = counts(db)
    with pytest.raises(OmsUnavailable):
        ingestion.run_cycle(db, dead)
    assert counts(db) == before


def test_a_classifier_failing_on_one_run_does_not_stop_the_others(db: Database, oms: Oms) -> None:
    def add_broken_rule(document: dict) -> dict:
        # Throws (as json-logic-js does) only for runs without a fill; the other runs are unaffected.
        rule = {"missing_some": [1, {"if": [{"var": "fill_number"}, ["hlt_key"], None]}]}
        document["class_classifiers"].append({"class": "Broken", "priority": 0, "rule": rule})
        return document

    configuration.edit(db, actor=EXPERT, change=add_broken_rule, comment="a rule with a bug")
    report = ingestion.run_cycle(db, oms.client)

    without_fill = {r["run_number"] for r in WORLD.runs_at(START) if r["fill_number"] is None}
    assert 0 < len(without_fill) < 12 and set(report.failed) == without_fill
    assert report.count("created") == 12 - len(without_fill)
    assert "Cannot read properties of null" in report.failed[min(without_fill)]
