"""FastAPI dependencies that give route handlers the caller's verified identity (services authorize it)."""

from __future__ import annotations

from fastapi import Request

from runreg.access.identity import identify
from runreg.kernel.actors import Actor
from runreg.kernel.errors import Unauthenticated


def optional_actor(request: Request) -> Actor | None:
    """Reads: the caller's identity if it brings one (verified), else anonymous."""
    return identify(request.headers, request.app.state.settings)


def authenticated_actor(request: Request) -> Actor:
    """Writes: 401 without a verified identity. Whether this actor may do the write is decided by the
    service it calls (the one permission gate, `configuration.service.authorize`), whatever the entry
    point."""
    actor = identify(request.headers, request.app.state.settings)
    if actor is None:
        raise Unauthenticated(
            "this action needs an identity: sign in through the SSO proxy or send a bearer token"
        )
    return actor
