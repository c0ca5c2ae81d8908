"""Pure authorization: an actor may send (method, path) when one of its e-groups has a matching rule."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from runreg.kernel.actors import Actor
from runreg.kernel.errors import PermissionDenied


class PermissionLike(Protocol):
    egroup: str

    def allows(self, method: str, path: str) -> bool: ...


def granting_egroups(permissions: Iterable[PermissionLike], method: str, path: str) -> list[str]:
    """Every e-group whose rules (method + anchored path pattern) allow this request."""
    return sorted({p.egroup for p in permissions if p.allows(method, path)})


def authorize(actor: Actor, method: str, path: str, permissions: Iterable[PermissionLike]) -> None:
    """Fail closed: no rule, no access. The refusal names the e-groups that would grant it."""
    granting = granting_egroups(permissions, method, path)
    if actor.egroups & set(granting):
        return
    if granting:
        message = (
            f"{actor.name} may not {method} {path}: User needs to be part of any of the following "
            f"e-groups to fulfill this action: {', '.join(granting)}"
        )
    else:
        message = (
            f"{actor.name} may not {method} {path}: there is no e-group that is authorized to do this action"
        )
    raise PermissionDenied(message, details={"method": method, "path": path, "egroups": granting})
