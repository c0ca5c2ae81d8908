"""The simulated production world: deterministic from its seed, statuses in order, DBS numbers that grow."""

from __future__ import annotations

from collections import Counter

from runreg.simulators.cmsweb.world import DAY, CmswebWorld

WORLD = CmswebWorld(seed=21, workflows=150)


def test_the_same_seed_gives_the_same_world_and_another_seed_another() -> None:
    again = CmswebWorld(seed=21, workflows=150)
    moment = WORLD.epoch + 9 * DAY
    assert [p.name for p in again.plans] == [p.name for p in WORLD.plans]
    documents = [WORLD.document(p.name, moment) for p in WORLD.plans]
    assert [again.document(p.name, moment) for p in again.plans] == documents
    assert [p.name for p in CmswebWorld(seed=22, workflows=150).plans] != [p.name for p in WORLD.plans]


def test_every_kind_of_workflow_is_there() -> None:
    kinds = Counter(p.request_type for p in WORLD.plans)
    assert {"TaskChain", "StepChain", "ReReco", "Resubmission"} <= set(kinds)
    assert any("RVCMSSW" in p.name for p in WORLD.plans)
    assert any(p.document.get("LumiList") for p in WORLD.plans if p.request_type == "ReReco")
    assert len({c for p in WORLD.plans for c in [p.document.get("Campaign")]}) > 5
    tiers = {d.rsplit("/", 1)[1] for p in WORLD.plans for d in p.outputs}
    assert {"GEN-SIM", "AODSIM", "MINIAODSIM", "NANOAODSIM", "AOD", "MINIAOD", "DQMIO"} <= tiers
    assert any(p.deleted_at for p in WORLD.plans)


def test_statuses_advance_and_the_feed_lists_each_document_once_at_its_latest_revision() -> None:
    plan = next(p for p in WORLD.plans if p.transitions[-1][1] == "normal-archived")
    moments = [when for when, _ in plan.transitions]
    assert moments == sorted(moments)
    middle = moments[6] + 1
    assert WORLD.document(plan.name, middle)["RequestStatus"] == plan.transitions[6][1]
    rows, pending = WORLD.changes(middle, since=0, limit=None)
    names = [name for _, name, _ in rows]
    assert pending == 0 and len(names) == len(set(names)) and plan.name in names
    assert [seq for seq, _, _ in rows] == sorted(seq for seq, _, _ in rows)


def test_dbs_events_grow_while_running_and_stop_when_done() -> None:
    plan = next(p for p in WORLD.plans if p.time_of("running-closed") and not p.outputs[0].endswith("DQMIO"))
    dataset = plan.outputs[0]
    opened, closed = plan.time_of("running-open"), plan.time_of("running-closed")
    assert WORLD.output_state(dataset, opened - 1) is None
    moments = [opened + (closed - opened) * share for share in (0.2, 0.6, 1.0)]
    samples = [WORLD.output_state(dataset, moment)["num_event"] for moment in moments]
    assert samples == sorted(samples) and samples[0] < samples[-1]
    assert WORLD.output_state(dataset, closed + 3 * DAY)["num_event"] == samples[-1]
