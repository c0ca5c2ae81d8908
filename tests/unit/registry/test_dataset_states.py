"""Workspace states of offline datasets: which moves are allowed, from-state checks, the cascades of `global`,
and offline LS edits only while the workspace is OPEN."""

from __future__ import annotations

from typing import Any

import pytest

from runreg.kernel.errors import InvalidInput, InvalidState
from runreg.registry import model
from runreg.registry.events import DatasetAttributesChanged, DatasetCreated, Layer
from runreg.registry.model import NOT_SIGNIFICANT, WAITING_DQM_GUI, RunState

PROMPT = "/PromptReco/Collisions2024D/DQM"


def run_with(**states: str) -> RunState:
    oms = {"ls_duration": 10, "end_time": "2024-06-01T18:00:00Z"}
    run = model.fold(1000, model.register_run(1000, oms=oms, layer=Layer.AUTOMATIC))
    assert run is not None
    attributes: dict[str, Any] = {f"{ws}_state": state for ws, state in states.items()}
    model.apply(run, DatasetCreated(name=PROMPT, attributes=attributes))
    return run


def moved(run: RunState, workspace: str, to_state: str, **kw: Any) -> dict[str, Any]:
    [event] = model.move_dataset(run, PROMPT, workspace, to_state, **kw)
    assert isinstance(event, DatasetAttributesChanged)
    return event.attributes


@pytest.mark.parametrize(
    ("current", "target"),
    [
        ("OPEN", "SIGNOFF"), ("OPEN", "COMPLETED"), ("SIGNOFF", "COMPLETED"), ("SIGNOFF", "OPEN"),
        ("COMPLETED", "SIGNOFF"), ("COMPLETED", "OPEN"), (WAITING_DQM_GUI, "OPEN"), (NOT_SIGNIFICANT, "OPEN"),
    ],
)  # fmt: skip
def test_allowed_moves_by_hand(current: str, target: str) -> None:
    assert moved(run_with(dt=current), "dt", target) == {"dt_state": target}


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (WAITING_DQM_GUI, "SIGNOFF"), (WAITING_DQM_GUI, "COMPLETED"), (WAITING_DQM_GUI, NOT_SIGNIFICANT),
        ("OPEN", NOT_SIGNIFICANT), ("OPEN", WAITING_DQM_GUI), (NOT_SIGNIFICANT, "COMPLETED"),
    ],
)  # fmt: skip
def test_moves_that_skip_a_step_are_refused_naming_what_is_allowed(current: str, target: str) -> None:
    with pytest.raises(InvalidState, match=f"cannot move from {current} to {target} in dt") as refused:
        model.move_dataset(run_with(dt=current), PROMPT, "dt", target)
    assert "it can move to: " in refused.value.message


def test_only_an_automatic_actor_decides_not_significant() -> None:
    run = run_with(dt=WAITING_DQM_GUI)
    assert moved(run, "dt", NOT_SIGNIFICANT, layer=Layer.AUTOMATIC) == {"dt_state": NOT_SIGNIFICANT}
    with pytest.raises(InvalidState, match="it can move to: OPEN"):
        model.move_dataset(run, PROMPT, "dt", NOT_SIGNIFICANT, layer=Layer.MANUAL)


def test_from_state_must_be_the_current_state_and_the_refusal_names_both() -> None:
    run = run_with(dt="SIGNOFF")
    with pytest.raises(InvalidState, match="is SIGNOFF in dt, not OPEN") as refused:
        model.move_dataset(run, PROMPT, "dt", "COMPLETED", from_state="OPEN")
    assert refused.value.details["from_state"] == "OPEN" and refused.value.details["state"] == "SIGNOFF"
    assert moved(run, "dt", "COMPLETED", from_state="SIGNOFF") == {"dt_state": "COMPLETED"}
    with pytest.raises(InvalidInput, match="from_state"):
        model.move_dataset(run, PROMPT, "dt", "COMPLETED", from_state="DONE")


def test_unknown_state_workspace_dataset_and_same_state_are_refused() -> None:
    run = run_with(dt="OPEN")
    with pytest.raises(InvalidInput, match="state: 'DONE' is not one of"):
        model.move_dataset(run, PROMPT, "dt", "DONE")
    with pytest.raises(InvalidInput, match="workspace: .* has no state in 'gem'"):
        model.move_dataset(run, PROMPT, "gem", "SIGNOFF")
    with pytest.raises(InvalidInput, match="dataset"):
        model.move_dataset(run, "/Express/Collisions2024/DQM", "dt", "SIGNOFF")
    with pytest.raises(InvalidInput, match="online dataset has no workspace states"):
        model.move_dataset(run, model.ONLINE, "dt", "SIGNOFF")
    with pytest.raises(InvalidState, match="already OPEN in dt"):
        model.move_dataset(run, PROMPT, "dt", "OPEN")


def test_opening_global_opens_every_workspace_still_waiting() -> None:
    run = run_with(
        **{"global": WAITING_DQM_GUI, "dt": WAITING_DQM_GUI, "csc": NOT_SIGNIFICANT, "ecal": "OPEN"}
    )
    assert moved(run, "global", "OPEN") == {"global_state": "OPEN", "dt_state": "OPEN"}
    # Opening a subsystem workspace opens nothing else.
    assert moved(run, "dt", "OPEN") == {"dt_state": "OPEN"}


def test_global_is_completed_only_when_no_subsystem_workspace_is_open_or_waiting() -> None:
    run = run_with(**{"global": "SIGNOFF", "dt": "OPEN", "csc": WAITING_DQM_GUI, "ecal": "COMPLETED"})
    with pytest.raises(
        InvalidState, match=r"still to be certified: csc \(waiting dqm gui\), dt \(OPEN\)"
    ) as no:
        model.move_dataset(run, PROMPT, "global", "COMPLETED")
    assert no.value.details["workspaces"] == ["csc", "dt"]
    done = run_with(**{"global": "SIGNOFF", "dt": "SIGNOFF", "csc": NOT_SIGNIFICANT, "ecal": "COMPLETED"})
    assert moved(done, "global", "COMPLETED") == {"global_state": "COMPLETED"}
    # A subsystem completes whatever global is.
    assert moved(run, "dt", "COMPLETED") == {"dt_state": "COMPLETED"}


@pytest.mark.parametrize("state", [WAITING_DQM_GUI, "SIGNOFF", "COMPLETED", NOT_SIGNIFICANT, None])
def test_offline_statuses_are_edited_by_hand_only_while_the_workspace_is_open(state: str | None) -> None:
    run = run_with(**({"dt": state} if state else {}), tracker="OPEN")

    def edit(component: str, layer: Layer = Layer.MANUAL) -> list[Any]:
        return model.set_flags(
            run,
            dataset=PROMPT,
            component=component,
            first_ls=1,
            last_ls=2,
            status="BAD",
            comment="noisy",
            layer=layer,
            known_components=["dt-dt", "tracker-pixel"],
        )

    shown = "has no state" if state is None else f"is {state}"
    with pytest.raises(InvalidState, match=f"{shown} in workspace dt: .* only be edited while it is OPEN"):
        edit("dt-dt")
    assert edit("tracker-pixel")  # another workspace of the same dataset is OPEN
    assert edit("dt-dt", Layer.AUTOMATIC)  # classification is not a person's edit


def test_hidden_and_workspace_states_helpers() -> None:
    assert (
        model.is_hidden({"hidden": True})
        and not model.is_hidden({"hidden": "yes"})
        and not model.is_hidden({})
    )
    attributes = {"global_state": "OPEN", "dt_state": "SIGNOFF", "appeared_in": [], "note_state": 3}
    assert model.workspace_states(attributes) == {"global": "OPEN", "dt": "SIGNOFF"}
