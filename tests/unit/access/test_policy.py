"""Authorization against the shipped default permissions: anchored paths, methods, clear refusals."""

from __future__ import annotations

import pytest

from runreg.access.policy import authorize, granting_egroups
from runreg.configuration.model import default_configuration
from runreg.kernel.actors import Actor
from runreg.kernel.errors import PermissionDenied

PERMISSIONS = default_configuration().permissions
SHIFTER = Actor("shifter@cern.ch", egroups=frozenset({"cms-dqm-runregistry-online-shifters"}))
EXPERT = Actor("expert@cern.ch", egroups=frozenset({"cms-dqm-runregistry-experts"}))
GEM = Actor("gem@cern.ch", egroups=frozenset({"cms-dqm-runregistry-offline-gem-certifiers"}))
NOBODY = Actor("nobody@cern.ch")


EXPERTS = "cms-dqm-runregistry-experts"
ONCALL = "cms-dqm-oncall"
DATA_CERTIFICATION = "cms-dqm-runregistry-data-certification"


@pytest.mark.parametrize(
    ("actor", "method", "path"),
    [
        (SHIFTER, "PUT", "/api/v1/runs/380567/lumisections/dt-dt"),
        (SHIFTER, "PUT", "/lumisections/edit_rr_lumisections"),
        (SHIFTER, "POST", "/api/v1/runs/380567/state/SIGNOFF"),
        (EXPERT, "DELETE", "/api/v1/anything/at/all"),
        (GEM, "POST", "/datasets/gem/move_dataset/OPEN/SIGNOFF"),
    ],
)
def test_allowed_through_the_actors_egroup(actor: Actor, method: str, path: str) -> None:
    assert authorize(actor, method, path, PERMISSIONS) is None
    # The same request without that e-group is refused: the grant comes from the e-group, not an open rule.
    with pytest.raises(PermissionDenied):
        authorize(NOBODY, method, path, PERMISSIONS)


# The e-groups each refusal must name, read off the shipped default permissions by hand.
@pytest.mark.parametrize(
    ("actor", "method", "path", "granting"),
    [
        (SHIFTER, "PUT", "/api/v1/runs/380567/class", [ONCALL, EXPERTS]),  # class edits are not for shifters
        (SHIFTER, "POST", "/api/v1/runs/380567/state/COMPLETED", [ONCALL, EXPERTS]),
        (
            SHIFTER,
            "PUT",
            "/api/v1/runs/380567/lumisections/dt-dt/extra",
            [EXPERTS],
        ),  # anchored: no prefix match
        (SHIFTER, "DELETE", "/api/v1/runs/380567/lumisections/dt-dt", [EXPERTS]),  # the method matters
        # Re-opening is only through cycles for subsystem certifiers; the DC team may move any dataset.
        (GEM, "POST", "/datasets/gem/move_dataset/COMPLETED/OPEN", [DATA_CERTIFICATION, EXPERTS]),
        (
            GEM,
            "POST",
            "/datasets/tracker/move_dataset/OPEN/SIGNOFF",
            [
                DATA_CERTIFICATION,
                EXPERTS,
                "cms-dqm-runregistry-offline-tracker-certifiers",
                "cms-dqm-runregistry-offline-tracker-shifters",
            ],
        ),
    ],
)
def test_refused_with_the_egroups_that_would_grant_it(
    actor: Actor, method: str, path: str, granting: list[str]
) -> None:
    with pytest.raises(PermissionDenied) as refusal:
        authorize(actor, method, path, PERMISSIONS)
    assert refusal.value.details == {"method": method, "path": path, "egroups": sorted(granting)}
    assert refusal.value.message == (
        f"{actor.name} may not {method} {path}: User needs to be part of any of the following e-groups "
        f"to fulfill this action: {', '.join(sorted(granting))}"
    )
    assert granting_egroups(PERMISSIONS, method, path) == sorted(granting)


def test_no_rule_no_access_even_for_an_unknown_route() -> None:
    without_experts = [p for p in PERMISSIONS if p.egroup != EXPERTS]
    with pytest.raises(PermissionDenied) as refusal:
        authorize(EXPERT, "POST", "/api/v1/nothing-here", without_experts)
    assert refusal.value.message == (
        "expert@cern.ch may not POST /api/v1/nothing-here: "
        "there is no e-group that is authorized to do this action"
    )
    assert refusal.value.details["egroups"] == []
