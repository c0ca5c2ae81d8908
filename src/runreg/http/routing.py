"""Route lookup that does not try every route: each included router refuses at once a path none of its routes
can begin."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from starlette._utils import get_route_path
from starlette.routing import BaseRoute, Match
from starlette.types import Scope

_PARAMETER = re.compile(r"\{[^}]*\}")


def gate_included_routers(app: FastAPI) -> None:
    """FastAPI finds a request's route by asking the app's routes one after the other, each included router
    asking all of its own — about 2.6 µs a route. The public client's `/runs_filtered_ordered`, 216th of 216,
    took 566 µs to find: a third of that request's Python time (docs/PERFORMANCE.md). Every route's path
    begins with its literal text up to its first `{parameter}`, so a router none of whose routes begins
    the request's path cannot match it, nor partly match it (a 405 needs the path to match). Each included
    router is given a `matches` that says so with one `str.startswith`, then asks FastAPI's own; the routes,
    their order and everything FastAPI derives from them (OpenAPI, url_for, 405s, slash redirects) stay as
    they are. Call once, after every router is included."""
    for route in app.router.routes:
        if not hasattr(route, "original_router"):
            continue  # a plain route or mount: one regular expression, nothing to skip
        prefixes = tuple(
            sorted(
                {
                    _PARAMETER.split(context.path_format, maxsplit=1)[0]
                    for context in iter_route_contexts([route])
                }
            )
        )
        route.matches = _gated(route.matches, prefixes)  # type: ignore[method-assign]


def _gated(
    matches: Callable[[Scope], tuple[Match, Scope]], prefixes: tuple[str, ...]
) -> Callable[[Scope], tuple[Match, Scope]]:
    def gated(scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] in ("http", "websocket") and not get_route_path(scope).startswith(prefixes):
            return Match.NONE, {}
        return matches(scope)

    gated.prefixes = prefixes  # type: ignore[attr-defined] — for tests and for a curious reader
    return gated


def route_prefixes(route: BaseRoute) -> tuple[str, ...] | None:
    """The literal beginnings a gated router accepts (None for a route that is not gated)."""
    matches: Any = route.__dict__.get("matches")
    return getattr(matches, "prefixes", None)
