"""The pure decision of what a sign-off does to a run's offline datasets (registry.signoff)."""

from __future__ import annotations

from typing import Any

import pytest

from runreg.classifiers import classify
from runreg.configuration.model import (
    ComponentClassifier,
    Configuration,
    DatasetAccepted,
    Workspace,
    default_configuration,
)
from runreg.kernel.ranges import RangeMap
from runreg.registry import model, signoff
from runreg.registry.events import DatasetCreated, Event, FlagsSet, Layer, OmsValuesSet
from runreg.registry.model import ONLINE, WAITING_DQM_GUI, RunState

RUN = 380300
PROMPT = "/PromptReco/Collisions2024D/DQM"
EXPRESS = "/Express/Collisions2024/DQM"
ERA_E = "/PromptReco/Collisions2024E/DQM"
ENERGY_6000 = {">=": [{"var": "run.oms.energy"}, 6000]}


def triplet(status: str, comment: str = "") -> dict[str, str]:
    return {"status": status, "comment": comment, "cause": ""}


def signed_off_run(
    ls_count: int = 100,
    run_class: str = "Collisions24",
    run_number: int = RUN,
    cms_off: tuple[int, int] = (40, 45),
) -> RunState:
    """A run being signed off: online dt-dt GOOD but BAD on 10-19, cms_active false on `cms_off`."""
    oms = {"ls_duration": ls_count, "end_time": "2024-06-01T18:00:00Z", "energy": 6800}
    events: list[Event] = [
        *model.register_run(
            run_number, oms=oms, rr={"class": run_class, "significant": True}, layer=Layer.AUTOMATIC
        )
    ]
    run = model.fold(run_number, events)
    assert run is not None
    first, last = cms_off
    cms = RangeMap([(1, ls_count, True)])
    cms.assign(first, last, False)
    dt = RangeMap([(1, ls_count, triplet("GOOD"))])
    dt.assign(10, 19, triplet("BAD", "HV trip"))
    for event in (
        *model.sync_oms_values(run, ONLINE, {"cms_active": cms}),
        *model.sync_automatic_flags(run, ONLINE, "dt-dt", dt),
    ):
        model.apply(run, event)
    run.rr_automatic["state"] = "SIGNOFF"
    return run


def config(**changes: Any) -> Configuration:
    """Two offline workspaces; dt-dt copies the online status, cms-cms follows cms_active and the energy."""
    base = default_configuration()
    values: dict[str, Any] = {
        "workspaces": [
            *[ws for ws in base.workspaces if ws.mode == "online"],
            Workspace(name="global", mode="offline", columns=[]),
            Workspace(name="dt", mode="offline", columns=["dt"]),
            Workspace(name="cms", mode="offline", columns=["cms"]),
        ],
        "component_classifiers": [
            ComponentClassifier(
                component="dt-dt", mode="offline", status="BAD", priority=1,
                rule={"==": [{"var": "lumisection.rr.dt-dt.status"}, "BAD"]},
            ),
            ComponentClassifier(
                component="dt-dt", mode="offline", status="GOOD", priority=2,
                rule={"==": [{"var": "lumisection.rr.dt-dt.status"}, "GOOD"]},
            ),
            ComponentClassifier(
                component="cms-cms", mode="offline", status="GOOD", priority=1,
                rule={"and": [{"var": "lumisection.oms.cms_active"}, ENERGY_6000]},
            ),
        ],
        "datasets_accepted": [
            DatasetAccepted(name=EXPRESS, class_name="Collisions24"),
            DatasetAccepted(name=PROMPT, class_name="Collisions24", run_from=380253, run_to=380947),
            DatasetAccepted(name=ERA_E, class_name="Collisions24", run_from=380948),
            DatasetAccepted(name="/Old/Collisions2024/DQM", class_name="Collisions24", enabled=False),
            DatasetAccepted(name="/PromptReco/Cosmics2024/DQM", class_name="Cosmics24"),
        ],
    }  # fmt: skip
    values.update(changes)
    return base.model_copy(update=values)


def applied(run: RunState, events: list[Event]) -> RunState:
    for event in events:
        model.apply(run, event)
    return run


def statuses(run: RunState, dataset: str, component: str) -> list[tuple[int, int, str]]:
    return [(f, last, t["status"]) for f, last, t in run.datasets[dataset].flags[component].effective()]


def test_one_dataset_per_enabled_rule_of_the_class_covering_the_run() -> None:
    outcome = signoff.decide(signed_off_run(), signoff.Plan.of(config()))

    assert outcome.created == (EXPRESS, PROMPT) and outcome.kept == () and outcome.note == ""
    created = [e for e in outcome.events if isinstance(e, DatasetCreated)]
    assert [e.name for e in created] == [EXPRESS, PROMPT]
    assert created[0].attributes == {
        "global_state": WAITING_DQM_GUI,
        "dt_state": WAITING_DQM_GUI,
        "cms_state": WAITING_DQM_GUI,
        "appeared_in": [],
        "datasets_in_gui": [],
    }
    # The OMS values are inherited from the online dataset, never copied.
    assert not [e for e in outcome.events if isinstance(e, OmsValuesSet)]
    assert "offline datasets created: /Express/Collisions2024/DQM, /PromptReco/Collisions2024D/DQM" in (
        outcome.describe()
    )


@pytest.mark.parametrize(
    ("run_number", "run_class", "expected"),
    [
        (380253, "Collisions24", (EXPRESS, PROMPT)),  # bounds are inclusive
        (380947, "Collisions24", (EXPRESS, PROMPT)),
        (380948, "Collisions24", (EXPRESS, ERA_E)),
        (380100, "Collisions24", (EXPRESS,)),
        (380300, "Cosmics24", ("/PromptReco/Cosmics2024/DQM",)),
    ],
)
def test_rules_match_class_and_run_range(run_number: int, run_class: str, expected: tuple[str, ...]) -> None:
    rules = signoff.accepted_for(config().datasets_accepted, run_class, run_number)
    assert tuple(rule.name for rule in rules) == expected


def test_a_name_given_by_two_rules_is_created_once() -> None:
    twice = [
        DatasetAccepted(name=EXPRESS, class_name="Collisions24"),
        DatasetAccepted(name=EXPRESS, class_name="Collisions24"),
    ]
    outcome = signoff.decide(signed_off_run(), signoff.Plan.of(config(datasets_accepted=twice)))
    assert outcome.created == (EXPRESS,)


def test_no_rule_no_dataset_and_the_outcome_says_why() -> None:
    outcome = signoff.decide(signed_off_run(run_class="Commissioning24"), signoff.Plan.of(config()))
    assert outcome.events == [] and outcome.created == ()
    assert outcome.note == (
        "no enabled datasets-accepted rule for class Commissioning24 covers run 380300: no offline dataset"
    )
    assert outcome.describe() == outcome.note


def test_offline_components_are_classified_per_segment_from_the_online_data() -> None:
    run = signed_off_run()
    outcome = signoff.decide(run, signoff.Plan.of(config()))
    after = applied(run, outcome.events)

    # dt-dt copies the online status (not its comment: classification never writes one).
    assert statuses(after, PROMPT, "dt-dt") == [(1, 9, "GOOD"), (10, 19, "BAD"), (20, 100, "GOOD")]
    assert after.datasets[PROMPT].flags["dt-dt"].automatic.get(12) == triplet("BAD")
    # cms-cms reads an OMS bit of the LS and an OMS attribute of the run; no rule holds -> NO VALUE FOUND.
    assert statuses(after, PROMPT, "cms-cms") == [
        (1, 39, "GOOD"),
        (40, 45, "NO VALUE FOUND"),
        (46, 100, "GOOD"),
    ]
    assert all(
        e.layer is Layer.AUTOMATIC and e.triplet["comment"] == ""
        for e in outcome.events
        if isinstance(e, FlagsSet)
    )
    assert after.datasets[PROMPT].flags.keys() == {"dt-dt", "cms-cms"}  # only components with rules


def test_rules_are_evaluated_once_per_segment_not_per_ls(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = {"n": 0}
    compile_predicate = classify.jsonlogic.compile_predicate

    def counting(rule: Any) -> Any:
        predicate = compile_predicate(rule)

        def counted(context: Any) -> Any:
            calls["n"] += 1
            return predicate(context)

        return counted

    monkeypatch.setattr(classify.jsonlogic, "compile_predicate", counting)
    run = signed_off_run(ls_count=500_000, cms_off=(1000, 250_000))
    outcome = signoff.decide(run, signoff.Plan.of(config()))
    assert outcome.created
    # dt-dt's rules read dt-dt only: segments 1-9 (BAD no, GOOD yes), 10-19 (BAD), 20-500000 (BAD no, GOOD
    # yes) = 5 evaluations; cms-cms's rule reads cms_active only: 1-999, 1000-250000, 250001-500000 = 3.
    assert calls["n"] == 5 + 3


def test_signing_off_again_creates_nothing_and_resyncs_only_differing_automatic_flags() -> None:
    plan = signoff.Plan.of(config())
    run = signed_off_run()
    run = applied(run, signoff.decide(run, plan).events)
    # A certifier's manual decision on the offline dataset, and dt certified there.
    model.apply(
        run,
        FlagsSet(
            name=PROMPT,
            first_ls=1,
            last_ls=5,
            component="cms-cms",
            triplet=triplet("BAD", "x"),
            layer=Layer.MANUAL,
        ),
    )
    run.datasets[EXPRESS].attributes["dt_state"] = "SIGNOFF"

    again = signoff.decide(run, plan)
    assert again.events == [] and again.created == () and again.kept == (EXPRESS, PROMPT)

    # Back OPEN, the online dt-dt is corrected, signed off again: only the changed ranges are written, and
    # not where dt is already signed off.
    for event in model.sync_automatic_flags(run, ONLINE, "dt-dt", RangeMap([(1, 100, triplet("GOOD"))])):
        model.apply(run, event)
    resync = signoff.decide(run, plan)
    assert [(e.name, e.component, e.first_ls, e.last_ls, e.triplet["status"]) for e in resync.events] == [
        (PROMPT, "dt-dt", 10, 19, "GOOD")
    ]
    assert resync.left_alone == ((EXPRESS, "dt"),)
    assert "1 automatic flag ranges re-synced" in resync.describe()
    assert "flags left alone where already signed off: /Express/Collisions2024/DQM in dt" in resync.describe()
    after = applied(run, resync.events)
    assert statuses(after, PROMPT, "cms-cms")[0] == (1, 5, "BAD")  # the manual decision stays on top


def test_a_rule_reading_a_whole_side_sees_every_key() -> None:
    whole = ComponentClassifier(
        component="cms-cms", mode="offline", status="GOOD", priority=1,
        rule={"==": [{"var": "lumisection.oms"}, {"var": "lumisection.oms"}]},
    )  # fmt: skip
    classifiers = classify.ComponentClassifierSet([whole], mode="offline")
    assert classifiers.oms_keys_read is None and classifiers.rr_components_read == frozenset()
    context = classify.context_for(
        oms_attributes={"energy": 1},
        rr_attributes={"class": "C"},
        per_ls={"cms_active": RangeMap([(1, 3, True)])},
        flags={"dt-dt": RangeMap([(2, 3, triplet("BAD"))])},
        ls=2,
        mode="offline",
    )
    assert context == {
        "run": {"oms": {"energy": 1}, "rr": {"class": "C"}},
        "lumisection": {"oms": {"cms_active": True}, "rr": {"dt-dt": triplet("BAD")}},
    }
