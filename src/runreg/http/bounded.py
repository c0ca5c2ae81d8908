"""Pure-ASGI guard in front of every route: body size, JSON nesting, and text the database cannot store."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from runreg.kernel.errors import BodyTooLarge, RunregError
from runreg.kernel.limits import check_json, check_text, decode_json

Render = Callable[[Request, RunregError], Response]


class BoundedInputMiddleware:
    """Refuses, before any route runs: a body over `max_body_bytes` (413, read no further); a JSON body that
    is not JSON, is nested too deep, or holds NUL, lone surrogates or integers beyond 64 bits; NUL in the
    path or query (400 naming where). Route schemas then apply per-field limits, services again (CLI)."""

    def __init__(self, app: ASGIApp, *, max_body_bytes: int, render: Render) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.render = render

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        try:
            _check_url(scope)
            body = await _read_body(scope, receive, self.max_body_bytes)
            if body and _is_json(scope):
                _check_json_body(body)
        except RunregError as exc:
            await self.render(Request(scope), exc)(scope, receive, send)
            return
        await self.app(scope, _replay(body, receive), send)


def _check_url(scope: Scope) -> None:
    check_text("path", scope["path"], max_chars=None)
    query = scope.get("query_string", b"").decode("latin-1")
    for name, value in parse_qsl(query, keep_blank_values=True):
        check_text(f"query.{name[:40]}", name, max_chars=None)
        check_text(f"query.{name[:40]}", value, max_chars=None)


async def _read_body(scope: Scope, receive: Receive, limit: int) -> bytes:
    declared = dict(scope["headers"]).get(b"content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge(limit)
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":  # client went away: let the app see the same
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:  # a chunked body has no Content-Length: count while reading
            raise BodyTooLarge(limit)
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _is_json(scope: Scope) -> bool:
    """FastAPI decodes a body as JSON when it says so, or when it says nothing at all."""
    content_type = dict(scope["headers"]).get(b"content-type", b"").lower()
    return not content_type or b"json" in content_type


def _check_json_body(body: bytes) -> None:
    # The decoder FastAPI uses, so we judge exactly what the route gets. Strings are bounded per field by the
    # route schemas (a configuration import carries a whole YAML file in one), here only by the body size.
    # Fields are named as the route schemas name them: `comment`, `rule.and[3]`, not `body.comment`.
    check_json("", decode_json("body", body), max_chars=None)


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed
