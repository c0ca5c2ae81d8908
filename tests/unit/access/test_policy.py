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
def test_allowed(actor: Actor, method: str, path: str) -> None:
    authorize(actor, method, path, PERMISSIONS)


@pytest.mark.parametrize(
    ("actor", "method", "path"),
    [
        (SHIFTER, "PUT", "/api/v1/runs/380567/class"),  # class edits are for experts
        (SHIFTER, "POST", "/api/v1/runs/380567/state/COMPLETED"),
        (SHIFTER, "PUT", "/api/v1/runs/380567/lumisections/dt-dt/extra"),  # anchored: no prefix match
        (SHIFTER, "DELETE", "/api/v1/runs/380567/lumisections/dt-dt"),  # the method matters
        (GEM, "POST", "/datasets/gem/move_dataset/COMPLETED/OPEN"),  # re-open only through cycles
        (GEM, "POST", "/datasets/tracker/move_dataset/OPEN/SIGNOFF"),
    ],
)
def test_refused_with_the_egroups_that_would_grant_it(actor: Actor, method: str, path: str) -> None:
    with pytest.raises(PermissionDenied) as refusal:
        authorize(actor, method, path, PERMISSIONS)
    granting = granting_egroups(PERMISSIONS, method, path)
    assert refusal.value.details["egroups"] == granting
    if granting:
        assert "User needs to be part of any of the following e-groups" in refusal.value.message
        assert granting[0] in refusal.value.message
    else:
        assert "there is no e-group that is authorized" in refusal.value.message


def test_no_rule_no_access_even_for_an_unknown_route() -> None:
    with pytest.raises(PermissionDenied, match="no e-group that is authorized"):
        authorize(
            NOBODY,
            "POST",
            "/api/v1/nothing-here",
            [p for p in PERMISSIONS if p.egroup != "cms-dqm-runregistry-experts"],
        )
