"""Which waiting datasets the DQM GUI shows and what their waiting workspaces become (datasets.gui, pure)."""

from __future__ import annotations

import pytest

from runreg.configuration.model import DatasetAccepted, OfflineDatasetClassifier
from runreg.datasets import gui
from runreg.kernel.errors import InvalidState
from runreg.registry import model
from runreg.registry.events import DatasetAttributesChanged, Layer
from runreg.registry.model import NOT_SIGNIFICANT, WAITING_DQM_GUI, DatasetState, RunState

PROMPT = "/PromptReco/Collisions2024D/DQM"
ZB = "/ZeroBias/Run2024D-PromptReco-v1/DQMIO"
MU = "/Muon0/Run2024D-PromptReco-v2/DQMIO"


def rule(**overrides: object) -> DatasetAccepted:
    fields = {
        "name": PROMPT,
        "class": "Collisions24",
        "run_from": 380253,
        "run_to": 380947,
        "regexps": ["/ZeroBias/Run2024D-PromptReco-v.*?/DQMIO", "/Muon0/Run2024D-PromptReco-v.*?/DQMIO"],
    }
    return DatasetAccepted.model_validate(fields | overrides)


def test_samples_are_grouped_by_run_once_each_in_the_gui_order() -> None:
    grouped = gui.samples_by_run([(1, "/b"), (2, "/a"), (1, "/a"), (1, "/b")])
    assert grouped == {1: ["/b", "/a"], 2: ["/a"]}


def test_any_regexp_of_a_rule_whose_range_holds_the_run_matches_unanchored() -> None:
    matcher = gui.SampleMatcher([rule()])
    samples = [ZB, MU, "/JetMET0/Run2024D-PromptReco-v1/DQMIO", "/x" + ZB]
    assert matcher.matching(PROMPT, 380567, samples) == [ZB, MU, "/x" + ZB]
    assert matcher.matching(PROMPT, 380000, samples) == []  # outside the rule's runs
    assert matcher.matching("/Other/DQM", 380567, samples) == []  # no rule of that name


def test_disabled_rules_and_rules_without_regexps_match_nothing() -> None:
    matcher = gui.SampleMatcher([rule(enabled=False), rule(name="/Empty/DQM", regexps=[])])
    assert matcher.names() == set()
    assert matcher.matching(PROMPT, 380567, [ZB]) == []


def test_two_rules_of_one_name_cover_their_own_runs() -> None:
    later = rule(run_from=381000, run_to=None, regexps=["/ZeroBias/Run2024E-.*"])
    matcher = gui.SampleMatcher([rule(), later])
    assert matcher.matching(PROMPT, 381500, [ZB, "/ZeroBias/Run2024E-PromptReco-v1/DQMIO"]) == [
        "/ZeroBias/Run2024E-PromptReco-v1/DQMIO"
    ]


def test_new_samples_are_unioned_with_when_they_were_seen() -> None:
    attributes = {"datasets_in_gui": [ZB], "datasets_in_gui_seen": {ZB: "t0"}}
    assert gui.new_samples(attributes, [ZB, MU]) == [MU]
    assert gui.in_gui_attributes(attributes, [MU], "t1") == {
        "datasets_in_gui": [ZB, MU],
        "datasets_in_gui_seen": {ZB: "t0", MU: "t1"},
    }
    assert gui.new_samples({"datasets_in_gui": "garbage"}, [ZB]) == [ZB]


def decider() -> gui.StateDecider:
    prompt_only = {"if": [{"in": ["Prompt", {"var": "name"}]}, True, False]}
    return gui.StateDecider(
        [
            OfflineDatasetClassifier(workspace="global", rule=True),
            OfflineDatasetClassifier(workspace="dt", rule=prompt_only),
            OfflineDatasetClassifier(workspace="dt", rule=False),  # a second one for dt: the first wins
            OfflineDatasetClassifier(workspace="csc", rule=True, enabled=False),
        ]
    )


def test_each_waiting_workspace_gets_its_classifiers_verdict_global_last() -> None:
    attributes = {"global_state": WAITING_DQM_GUI, "dt_state": WAITING_DQM_GUI, "csc_state": WAITING_DQM_GUI}
    prompt = gui.classifier_context(380567, PROMPT, attributes, {}, {})
    moves, unclassified = decider().moves(prompt, attributes)
    assert moves == [("dt", "OPEN"), ("global", "OPEN")] and unclassified == ["csc"]
    express = gui.classifier_context(380567, "/Express/Collisions2024/DQM", attributes, {}, {})
    assert decider().moves(express, attributes)[0] == [("dt", NOT_SIGNIFICANT), ("global", "OPEN")]


def test_workspaces_no_longer_waiting_are_not_moved() -> None:
    attributes = {"global_state": "OPEN", "dt_state": "SIGNOFF"}
    assert decider().moves({"name": PROMPT}, attributes) == ([], [])


def run_with(attributes: dict) -> RunState:
    run = RunState(380567)
    run.datasets[PROMPT] = DatasetState(PROMPT, dict(attributes))
    return run


def test_settling_records_the_moves_and_samples_as_one_automatic_event() -> None:
    run = run_with(
        {"global_state": WAITING_DQM_GUI, "dt_state": WAITING_DQM_GUI, "csc_state": WAITING_DQM_GUI}
    )
    events = model.settle_dataset(
        run,
        PROMPT,
        [("dt", NOT_SIGNIFICANT), ("global", "OPEN")],
        {"datasets_in_gui": [ZB]},
        layer=Layer.AUTOMATIC,
    )
    assert events == [
        DatasetAttributesChanged(
            name=PROMPT,
            attributes={
                "dt_state": NOT_SIGNIFICANT,
                "global_state": "OPEN",
                "csc_state": "OPEN",  # opening global opens what is still waiting
                "datasets_in_gui": [ZB],
            },
        )
    ]
    assert run.datasets[PROMPT].attributes["dt_state"] == WAITING_DQM_GUI  # decided, not applied


def test_settling_validates_every_move_as_the_model_does() -> None:
    run = run_with({"global_state": WAITING_DQM_GUI, "dt_state": "OPEN"})
    with pytest.raises(InvalidState, match="cannot move from OPEN"):
        model.settle_dataset(run, PROMPT, [("dt", NOT_SIGNIFICANT)], layer=Layer.AUTOMATIC)
    with pytest.raises(InvalidState, match="cannot move from waiting dqm gui"):  # a person only opens
        model.settle_dataset(run, PROMPT, [("global", NOT_SIGNIFICANT)], layer=Layer.MANUAL)
