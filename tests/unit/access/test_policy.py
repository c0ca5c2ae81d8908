"""Authorization of named actions on targets against the shipped default permissions, with clear refusals."""

from __future__ import annotations

import pytest

from runreg.access.actions import ACTIONS, Target, known_pattern, matches_action
from runreg.access.policy import authorize
from runreg.configuration.model import default_configuration
from runreg.kernel.actors import SERVICES_EGROUP, Actor, ActorKind
from runreg.kernel.errors import PermissionDenied

PERMISSIONS = default_configuration().permissions
SHIFTER = Actor("shifter@cern.ch", egroups=frozenset({"cms-dqm-runregistry-online-shifters"}))
ONCALL = Actor("oncall@cern.ch", egroups=frozenset({"cms-dqm-oncall"}))
EXPERT = Actor("expert@cern.ch", egroups=frozenset({"cms-dqm-runregistry-experts"}))
GEM = Actor("gem@cern.ch", egroups=frozenset({"cms-dqm-runregistry-offline-gem-certifiers"}))
DC = Actor("dc@cern.ch", egroups=frozenset({"cms-dqm-runregistry-data-certification"}))
WORKER = Actor("oms-ingestion", egroups=frozenset({SERVICES_EGROUP}))
AGENT = Actor("tracker-ml@cern.ch", ActorKind.AGENT, frozenset({"cms-dqm-runregistry-ml-agents"}))
NOBODY = Actor("nobody@cern.ch")


def allowed(actor: Actor, action: str, target: Target, permissions: list) -> bool:
    try:
        authorize(actor, action, target, permissions)
    except PermissionDenied:
        return False
    return True


OFFLINE = "/PromptReco/Collisions2024A/DQM"


def online_flags(component: str) -> Target:
    return Target(run=380567, dataset="online", workspace=component.split("-")[0], component=component)


def offline_flags(component: str) -> Target:
    return Target(run=380567, dataset=OFFLINE, workspace=component.split("-")[0], component=component)


def dataset_move(workspace: str, from_state: str, to_state: str) -> Target:
    return Target(run=380567, dataset=OFFLINE, workspace=workspace, from_state=from_state, to_state=to_state)


@pytest.mark.parametrize(
    ("actor", "action", "target"),
    [
        (SHIFTER, "registry:flags:write", online_flags("dt-dt")),
        (SHIFTER, "registry:run:move", Target(run=1, from_state="OPEN", to_state="SIGNOFF")),
        (SHIFTER, "registry:run:edit_stop_reason", Target(run=1)),
        (ONCALL, "registry:run:edit_class", Target(run=1)),
        (ONCALL, "registry:run:move", Target(run=1, from_state="SIGNOFF", to_state="OPEN")),
        (EXPERT, "configuration:import", Target()),
        (EXPERT, "registry:change_set:revert_closed", Target()),
        (GEM, "registry:flags:write", offline_flags("gem-gem")),
        (GEM, "registry:dataset:move", dataset_move("gem", "OPEN", "SIGNOFF")),
        (GEM, "registry:dataset:move", dataset_move("gem", "COMPLETED", "SIGNOFF")),
        (GEM, "certification:json:delete", Target(owner="gem@cern.ch")),
        (DC, "registry:dataset:move", dataset_move("tracker", "COMPLETED", "OPEN")),
        (WORKER, "ingestion:update", Target(run=1)),
        (AGENT, "predictions:write", offline_flags("tracker-pixel")),
        (AGENT, "predictions:write", online_flags("dt-dt")),
        (EXPERT, "predictions:write", offline_flags("tracker-pixel")),
    ],
)
def test_allowed(actor: Actor, action: str, target: Target) -> None:
    authorize(actor, action, target, PERMISSIONS)
    assert allowed(actor, action, target, PERMISSIONS)


@pytest.mark.parametrize(
    ("actor", "action", "target", "granting"),
    [
        # The legacy edit route's body chooses dataset and component: the target decides, not the URL.
        (SHIFTER, "registry:flags:write", offline_flags("dt-dt"), "cms-dqm-runregistry-data-certification"),
        (
            GEM,
            "registry:flags:write",
            offline_flags("tracker-pixel"),
            "cms-dqm-runregistry-offline-tracker-certifiers",
        ),
        (GEM, "registry:flags:write", online_flags("gem-gem"), "cms-dqm-runregistry-online-shifters"),
        # Offline certifier grants never match the online dataset.
        (
            GEM,
            "registry:dataset:move",
            Target(run=1, dataset="online", workspace="gem", from_state="OPEN", to_state="SIGNOFF"),
            None,
        ),
        # Forward moves only: re-opening is for the data-certification team.
        (
            GEM,
            "registry:dataset:move",
            dataset_move("gem", "COMPLETED", "OPEN"),
            "cms-dqm-runregistry-data-certification",
        ),
        (SHIFTER, "registry:run:edit_class", Target(run=1), "cms-dqm-oncall"),
        (
            SHIFTER,
            "registry:run:move",
            Target(run=1, from_state="OPEN", to_state="COMPLETED"),
            "cms-dqm-oncall",
        ),
        # `own`: a certifier may delete their own JSONs only.
        (
            GEM,
            "certification:json:delete",
            Target(owner="someone-else@cern.ch"),
            "cms-dqm-runregistry-experts",
        ),
        (SHIFTER, "configuration:import", Target(), "cms-dqm-runregistry-experts"),
        (NOBODY, "ingestion:update", Target(run=1), SERVICES_EGROUP),
        # An ML agent predicts; it never sets a flag, online or offline.
        (
            AGENT,
            "registry:flags:write",
            offline_flags("tracker-pixel"),
            "cms-dqm-runregistry-data-certification",
        ),
        (AGENT, "registry:flags:write", online_flags("dt-dt"), "cms-dqm-runregistry-online-shifters"),
        (SHIFTER, "predictions:write", online_flags("dt-dt"), "cms-dqm-runregistry-ml-agents"),
    ],
)
def test_refused_naming_the_egroups_that_would_grant_it(
    actor: Actor, action: str, target: Target, granting: str | None
) -> None:
    with pytest.raises(PermissionDenied) as refusal:
        authorize(actor, action, target, PERMISSIONS)
    assert not allowed(actor, action, target, PERMISSIONS)
    assert action in refusal.value.message
    assert "cms-dqm-runregistry-experts" in refusal.value.details["egroups"]  # experts hold `*`
    if granting is not None:
        assert granting in refusal.value.details["egroups"]
        assert "User needs to be part of any of the following e-groups" in refusal.value.message
        assert granting in refusal.value.message
    for egroup in actor.egroups:
        assert egroup not in refusal.value.details["egroups"]


def test_a_grant_constraining_a_field_the_target_lacks_does_not_match() -> None:
    # A flags grant limited to `online` must not match a target that names no dataset at all.
    with pytest.raises(PermissionDenied):
        authorize(SHIFTER, "registry:flags:write", Target(run=1, component="dt-dt"), PERMISSIONS)


def test_unknown_actions_fail_closed_even_for_experts() -> None:
    with pytest.raises(PermissionDenied, match="not a known action"):
        authorize(EXPERT, "registry:flags:wrte", Target(), PERMISSIONS)
    assert not allowed(EXPERT, "registry:flags:wrte", Target(), PERMISSIONS)


def test_no_grant_no_access() -> None:
    without_experts = [p for p in PERMISSIONS if p.egroup != "cms-dqm-runregistry-experts"]
    with pytest.raises(PermissionDenied, match="no e-group that is authorized"):
        authorize(NOBODY, "registry:maintenance:rebuild", Target(run=1), without_experts)


def test_action_patterns() -> None:
    assert matches_action("*", "registry:flags:write")
    assert matches_action("registry:*", "registry:flags:write")
    assert matches_action("registry:flags:*", "registry:flags:write")
    assert not matches_action("registry:flags:*", "registry:flag")
    assert not matches_action("registry", "registry:flags:write")
    assert not matches_action("trends:*", "registry:flags:write")
    assert known_pattern("certification:*") and not known_pattern("certfication:*")
    assert all(":" in action and description for action, description in ACTIONS.items())
