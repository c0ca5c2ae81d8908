"""The pure mapping of an original Run Registry's events to runreg events (rr_backend §3.7)."""

from __future__ import annotations

from datetime import UTC, datetime

from runreg.adoption import model, settings
from runreg.adoption.model import OriginalEvent, VersionInfo
from runreg.kernel.actors import ActorKind
from runreg.registry import model as registry_model
from runreg.registry.model import ONLINE, RunState


def triplet(status: str, comment: str = "") -> dict[str, dict[str, str]]:
    return {"dt-dt": {"status": status, "comment": comment, "cause": ""}}


def replay(events: list[OriginalEvent], run: RunState | None = None) -> RunState:
    state = run or RunState(1000)
    for event in model.decide(state, 1000, events):
        registry_model.apply(state, event)
        state.version += 1
    return state


def ls(
    version: int, first: int, last: int, payload: dict, *, manual: bool = False, kind: str = "ls"
) -> OriginalEvent:
    return OriginalEvent(
        version,
        version,
        kind,
        1000,
        ONLINE,
        payload=payload,
        manual=manual,
        ranges=[(first, last)],
    )


def test_the_worked_example_of_the_spec_merges_automatic_first_then_manual() -> None:
    run = replay(
        [
            OriginalEvent(1, 1, "run", 1000, oms={"ls_duration": 10}, rr={"class": "Collisions18"}),
            ls(2, 1, 10, {"cms_active": True}, kind="oms_ls"),
            ls(3, 1, 10, triplet("GOOD")),
            ls(4, 5, 6, triplet("BAD")),
            ls(5, 6, 8, triplet("STANDBY", "HV trip"), manual=True),
            ls(6, 7, 10, triplet("BAD")),
            OriginalEvent(7, 7, "run", 1000, rr={"class": "Cosmics18"}, manual=True),
            OriginalEvent(8, 8, "run", 1000, rr={"class": "Collisions18"}),
        ]
    )
    summary = model.summaries(run, ONLINE)
    assert summary["rr_ranges"]["dt-dt"] == {"GOOD": [[1, 4]], "BAD": [[5, 5], [9, 10]], "STANDBY": [[6, 8]]}
    assert summary["triplet_summary"]["dt-dt"] == {
        "GOOD": 4, "BAD": 3, "STANDBY": 3, "EMPTY": 0, "comments": ["HV trip"], "causes": []
    }  # fmt: skip
    assert run.rr["class"] == "Cosmics18"


def test_automatic_authors_keep_the_user_who_triggered_them() -> None:
    assert model.actor_of("auto@auto")[0].kind is ActorKind.AUTOMATIC
    actor, user = model.actor_of("auto@auto - bob@cern.ch")
    assert (actor.kind, actor.name, user) == (ActorKind.AUTOMATIC, "auto@auto - bob@cern.ch", "bob@cern.ch")
    assert model.actor_of("alice@cern.ch")[0].is_manual


def test_assignation_rows_become_maximal_ranges() -> None:
    assert model.ranges_of([7, 1, 2, 3, 3, 10, 11]) == [(1, 3), (7, 7), (10, 11)]
    assert model.ranges_of([]) == []


def test_events_before_atomic_versions_are_cut_in_event_order() -> None:
    at = datetime(2026, 1, 1, tzinfo=UTC)
    versions = {n: VersionInfo(n, "auto@auto", str(n), at) for n in (1, 2, 50_000_000)}
    events = [
        OriginalEvent(v, a, "run", 1)
        for v, a in ((1, 50_000_000), (2, 50_000_000), (3, 1), (4, 2), (5, 50_000_000))
    ]
    cut = [(s.info.atomic_version, [e.version for e in s.events]) for s in model.segments(events, versions)]
    assert cut == [(50_000_000, [1, 2]), (1, [3]), (2, [4]), (50_000_000, [5])]


def test_an_online_dcs_correction_shows_through_on_offline_datasets_with_their_own_copy() -> None:
    offline = "/PromptReco/X/DQM"
    run = replay(
        [
            OriginalEvent(1, 1, "run", 1000, oms={}, rr={}),
            ls(2, 1, 10, {"cms_active": True}, kind="oms_ls"),
            OriginalEvent(3, 2, "dataset", 1000, offline, payload={"global_state": "OPEN"}),
            OriginalEvent(4, 2, "oms_ls", 1000, offline, payload={"cms_active": True}, ranges=[(1, 5)]),
            ls(5, 1, 8, {"cms_active": False}, kind="oms_ls"),
        ]
    )
    values = run.oms_values(offline)["cms_active"]
    assert [values.get(n) for n in (1, 5, 8, 9)] == [False, False, False, True]


def test_deleted_datasets_are_hidden_and_dummy_version_bumps_write_nothing() -> None:
    run = replay(
        [
            OriginalEvent(1, 1, "run", 1000, oms={}, rr={}),
            OriginalEvent(2, 1, "dataset", 1000, "/A/B/C", payload={"x": 1}),
        ]
    )
    hide = OriginalEvent(3, 2, "dataset", 1000, "/A/B/C", payload={}, deleted=True)
    assert [type(e).__name__ for e in model.decide(run, 1000, [hide])] == ["DatasetAttributesChanged"]
    run = replay([hide], run)
    assert run.datasets["/A/B/C"].attributes == {"x": 1, "hidden": True}
    bump = OriginalEvent(4, 3, "dataset", 1000, "/A/B/C", payload={}, deleted=True)
    assert model.decide(run, 1000, [bump]) == []


def test_routes_translate_to_named_actions_only_where_the_meaning_is_clear() -> None:
    grants, untranslated = settings.translate_routes(
        ["/datasets/gem/move_dataset/OPEN/SIGNOFF", "/datasets/gem/move_dataset/OPEN/COMPLETED",
         "/dataset_lumisections/gem.*", "/json_portal/generate", "/weird/.*thing", ".*"]
    )  # fmt: skip
    assert grants == [
        {"action": "registry:dataset:move", "dataset": "offline", "workspace": "gem", "from_state": "OPEN",
         "to_state": ["SIGNOFF", "COMPLETED"]},
        {"action": "registry:flags:write", "dataset": "offline", "workspace": "gem"},
        {"action": "certification:json:create"},
        {"action": "*"},
    ]  # fmt: skip
    assert untranslated == ["/weird/.*thing"]


def test_a_deleted_run_event_hides_the_run_and_a_later_one_not_deleted_shows_it_again() -> None:
    run = replay([OriginalEvent(1, 1, "run", 1000, oms={"ls_duration": 10}, rr={}, deleted=True)])
    assert (run.hidden, run.hidden_reason) == (True, model.ORIGINAL_DELETION)
    assert model.decide(run, 1000, [OriginalEvent(2, 2, "run", 1000, deleted=True)]) == []
    again = OriginalEvent(3, 3, "run", 1000, rr={"stop_reason": "beam dump"}, manual=True)
    shown = model.decide(run, 1000, [again])
    assert [type(event).__name__ for event in shown] == ["RunAttributesChanged", "RunVisibilityChanged"]
    run = replay([again], run)
    assert (run.hidden, run.hidden_reason, run.rr["stop_reason"]) == (False, "", "beam dump")
