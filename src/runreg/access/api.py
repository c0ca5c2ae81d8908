"""FastAPI dependencies that give route handlers a verified, authorized actor."""

from __future__ import annotations

from fastapi import Request

from runreg.access.identity import identify
from runreg.access.policy import authorize
from runreg.kernel.actors import Actor
from runreg.kernel.errors import Unauthenticated


def optional_actor(request: Request) -> Actor | None:
    """Reads: the caller's identity if it brings one (verified), else anonymous."""
    return identify(request.headers, request.app.state.settings)


def authorized_actor(request: Request) -> Actor:
    """Writes: 401 without a verified identity, 403 unless an e-group permits this method and path."""
    actor = identify(request.headers, request.app.state.settings)
    if actor is None:
        raise Unauthenticated(
            "this action needs an identity: sign in through the SSO proxy or send a bearer token"
        )
    # The app hands us the current permissions (part of the versioned configuration) through a provider,
    # so access needs no knowledge of where configuration is stored.
    authorize(actor, request.method, request.url.path, request.app.state.permissions())
    return actor
