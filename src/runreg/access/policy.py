"""Pure authorization: an actor may do a named action on a target when one of its e-groups is granted it."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from runreg.access.actions import Target, is_known
from runreg.kernel.actors import Actor
from runreg.kernel.errors import PermissionDenied


class PermissionLike(Protocol):
    """What one e-group may do (the configuration's `Permission`)."""

    egroup: str

    def allows(self, action: str, target: Target, actor_name: str) -> bool: ...


def granting_egroups(
    permissions: Iterable[PermissionLike], action: str, target: Target, actor_name: str = ""
) -> list[str]:
    """Every e-group whose grants allow this action on this target."""
    return sorted({p.egroup for p in permissions if p.allows(action, target, actor_name)})


def authorize(actor: Actor, action: str, target: Target, permissions: Iterable[PermissionLike]) -> None:
    """Fail closed: an unknown action, or no grant, is a refusal naming the e-groups that would grant it."""
    if not is_known(action):
        raise PermissionDenied(
            f"{action!r} is not a known action: nobody may do it",
            details={"action": action},
        )
    granting = granting_egroups(permissions, action, target, actor.name)
    if actor.egroups & set(granting):
        return
    what = f"{action}{target.describe()}"
    if granting:
        message = (
            f"{actor.name} may not {what}: User needs to be part of any of the following "
            f"e-groups to fulfill this action: {', '.join(granting)}"
        )
    else:
        message = f"{actor.name} may not {what}: there is no e-group that is authorized to do this action"
    raise PermissionDenied(message, details={"action": action, "egroups": granting})
