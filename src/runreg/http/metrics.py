"""Request latency by route template, method and status class, observed around every HTTP request."""

from __future__ import annotations

import time
from typing import Any

from fastapi.routing import iter_route_contexts
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from runreg.telemetry import metrics


class MetricsMiddleware:
    """Pure ASGI. After routing, the scope holds the matched route; its full template (with the prefix of the
    router that included it) labels the request, so `/api/v1/runs/380567` counts as
    `/api/v1/runs/{run_number}`; unrouted paths count as `unmatched`."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.templates: dict[int, str] = {}

    def template(self, scope: Scope) -> str:
        route = scope.get("route")
        if route is None:
            return "unmatched"
        found = self.templates.get(id(route))
        if found is None:
            # Built on first use, when every router is included (and again if routes were added later).
            self.templates = _templates(scope["app"].routes)
            found = self.templates.get(id(route)) or getattr(route, "path", None) or "unmatched"
            self.templates[id(route)] = found  # never rebuilt twice for the same route
        return found

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_and_note_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_note_status)
        finally:
            metrics.observe_request(
                scope["method"], self.template(scope), status, time.perf_counter() - started
            )


def _templates(routes: Any) -> dict[int, str]:
    """FastAPI keeps included routers as a tree; its route contexts give each route's effective template."""
    return {
        id(context.original_route): context.path_format
        for context in iter_route_contexts(routes)
        if context.path_format
    }
