"""Pure helpers of the dataset page: state moves, workspace order, the moves' history, DCS-bit bars with the
dataset's corrections, the corrections' history."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from runreg.configuration.model import default_configuration
from runreg.eventlog.store import ChangeSet, LoggedEvent
from runreg.kernel.ranges import RangeMap
from runreg.registry.model import DatasetState, RunState
from runreg.web import dataset_view

WHEN = datetime(2024, 6, 1, 10, 0, tzinfo=UTC)
NAME = "/PromptReco/Collisions2024C/DQM"


def event(
    cs: int, version: int, kind: str, payload: dict[str, Any], first: int = 0, last: int = 0
) -> LoggedEvent:
    change_set = ChangeSet(cs, f"person{cs}@cern.ch", "human", f"why {cs}", WHEN, None)
    return LoggedEvent(change_set, version, kind, NAME, None, first or None, last or None, True, payload)


def test_a_waiting_workspace_only_opens_and_others_move_to_any_other_state() -> None:
    assert dataset_view.state_moves("waiting dqm gui") == ["OPEN"]
    assert dataset_view.state_moves("OPEN") == ["SIGNOFF", "COMPLETED"]
    assert dataset_view.state_moves("COMPLETED") == ["OPEN", "SIGNOFF"]
    assert dataset_view.state_moves("not significant for workspace") == ["OPEN", "SIGNOFF", "COMPLETED"]


def test_workspaces_come_global_first_then_in_configuration_order_then_unknown_ones() -> None:
    attributes = {
        "tracker_state": "OPEN",
        "old_state": "COMPLETED",
        "global_state": "SIGNOFF",
        "csc_state": "OPEN",
    }
    attributes |= {"datasets_in_gui": [], "hidden_state": None}
    states = dataset_view.workspace_states(attributes, default_configuration())
    assert states == [("global", "SIGNOFF"), ("csc", "OPEN"), ("tracker", "OPEN"), ("old", "COMPLETED")]


def test_the_moves_history_knows_each_from_state_and_groups_a_change_set() -> None:
    log = [  # newest first, as the registry gives it
        event(3, 4, "DatasetAttributesChanged", {"attributes": {"dt_state": "SIGNOFF"}}),
        event(2, 3, "DatasetAttributesChanged", {"attributes": {"datasets_in_gui": ["x"]}}),
        event(2, 2, "DatasetAttributesChanged", {"attributes": {"dt_state": "OPEN", "global_state": "OPEN"}}),
        event(
            1,
            1,
            "DatasetCreated",
            {"attributes": {"dt_state": "waiting dqm gui", "global_state": "waiting dqm gui"}},
        ),
    ]
    history = dataset_view.state_history(log)
    assert [(h.change_set.id, h.moves) for h in history] == [
        (3, [("dt", "OPEN", "SIGNOFF")]),
        (2, [("global", "waiting dqm gui", "OPEN"), ("dt", "waiting dqm gui", "OPEN")]),
    ]
    last = dataset_view.last_moves(history)
    assert last["dt"].change_set.id == 3 and last["global"].change_set.id == 2
    # Without the creation in the log, the first move's from-state is unknown.
    assert dataset_view.state_history(log[:1])[0].moves == [("dt", None, "SIGNOFF")]


def test_a_bit_bar_covers_the_run_and_marks_the_corrected_ls() -> None:
    values = RangeMap([(1, 9, True), (10, 14, False), (15, 18, None)])
    corrected = RangeMap([(12, 16, False)])
    bar = dataset_view.value_bar(values, 20, corrected)
    assert [(s["first"], s["last"], s["status"], s["css"]) for s in bar] == [
        (1, 9, "true", "TRUE"),
        (10, 11, "false", "FALSE"),
        (12, 14, "false", "FALSE corrected"),
        (15, 16, "null", "NULL corrected"),
        (17, 18, "null", "NULL"),
        (19, 20, "no value", "EMPTY"),
    ]
    assert bar[2]["comment"] == "corrected on this dataset"


def test_the_dcs_bits_a_dataset_sees_are_the_online_values_with_its_corrections() -> None:
    run = RunState(380000, oms={"ls_duration": 10})
    run.datasets["online"] = DatasetState(
        "online", oms={"dtp_ready": RangeMap([(1, 10, True)]), "prescale_index": RangeMap([(1, 10, 2)])}
    )
    run.datasets[NAME] = DatasetState(NAME, oms={"dtp_ready": RangeMap([(4, 5, False)])})
    bits = dataset_view.dcs_bits(run, NAME)
    assert [b["key"] for b in bits] == ["dtp_ready"]  # the prescale is not a bit
    assert bits[0]["counts"] == {"true": 8, "false": 2} and bits[0]["corrected"] is True


def test_the_corrections_history_lists_the_values_each_change_set_set() -> None:
    log = [
        event(5, 7, "OmsValuesCleared", {"keys": ["dtp_ready"]}, 1, 2),
        event(4, 6, "OmsValuesSet", {"values": {"dtp_ready": False, "tob_ready": True}}, 3, 4),
        event(4, 5, "OmsValuesSet", {"values": {"dtp_ready": True}}, 1, 2),
        event(3, 4, "FlagsSet", {"triplet": {"status": "BAD"}}, 1, 2),
    ]
    history = dataset_view.oms_history(log)
    assert [(h.change_set.id, h.ranges) for h in history] == [
        (5, [(1, 2, {"dtp_ready": "cleared"})]),
        (4, [(1, 2, {"dtp_ready": True}), (3, 4, {"dtp_ready": False, "tob_ready": True})]),
    ]
