"""The OMS API v1 (JSON:API) over HTTP, with OAuth2 client credentials and fault injection for tests."""

from __future__ import annotations

import argparse
import asyncio
import operator
import re
import secrets
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal
from urllib.parse import parse_qs

import orjson
import uvicorn
from fastapi import FastAPI, Request, Response
from pydantic import BaseModel, Field
from starlette.datastructures import QueryParams
from starlette.types import Message, Receive, Scope, Send

from runreg.simulators.control import add_control_routes, take_fault
from runreg.simulators.oms.world import LS_UNITS, RUN_UNITS, OmsWorld, iso

API = "/agg/api/v1"
RUNS_PAGE_CAP = 100
LS_PAGE_CAP = 5000
DEFAULT_PAGE = 10  # JSON:API default when a client forgets page[limit]: paging bugs show up at once
_FILTER = re.compile(r"filter\[(\w+)\](?:\[(\w+)\])?")
_OPS = {"EQ", "NEQ", "LT", "GT", "LE", "GE", "LIKE", "CT"}
_COMPARE = {
    "EQ": operator.eq,
    "NEQ": operator.ne,
    "LT": operator.lt,
    "GT": operator.gt,
    "LE": operator.le,
    "GE": operator.ge,
}
_RUN_SORTS = {"last_update", "run_number", "start_time"}


class SimulatedClock:
    """Time that starts at `start` and runs `speed` times faster than the wall (0: stands still); `advance`
    jumps ahead."""

    def __init__(self, start: datetime, speed: float = 1.0) -> None:
        self._start = start if start.tzinfo else start.replace(tzinfo=UTC)
        self._speed = speed
        self._wall0 = time.monotonic()
        self._offset = 0.0
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        with self._lock:
            elapsed = (time.monotonic() - self._wall0) * self._speed + self._offset
        return self._start + timedelta(seconds=elapsed)

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._offset += seconds


class FaultSpec(BaseModel):
    path_prefix: str = "/"
    # Only requests whose query has these values, e.g. {"page[offset]": "49"}: the second page of runs.
    query: dict[str, str] = Field(default_factory=dict)
    kind: Literal["error500", "slow", "truncated", "malformed", "drop"]
    times: int = Field(1, ge=1)
    delay_s: float = Field(2.0, ge=0)
    # malformed only: an HTML page (what an SSO gateway answers) or well-formed JSON without `data`.
    variant: Literal["not_json", "no_data"] = "not_json"


class ClockStep(BaseModel):
    advance_s: float


class Shrink(BaseModel):
    run_number: int
    ls: int = Field(ge=0)


class Holes(BaseModel):
    run_number: int
    ls: list[int]


@dataclass
class _Simulator:
    world: OmsWorld
    clock: Callable[[], datetime]
    client_id: str
    client_secret: str
    token_ttl_s: float
    require_auth: bool
    faults: list[FaultSpec] = field(default_factory=list)
    requests: Counter[str] = field(default_factory=Counter)
    tokens: dict[str, float] = field(default_factory=dict)  # token -> monotonic expiry
    shrunk: dict[int, tuple[int, str]] = field(default_factory=dict)  # run -> (LS kept, when)
    holes: dict[int, set[int]] = field(default_factory=dict)  # run -> LS numbers OMS has lost
    lock: threading.Lock = field(default_factory=threading.Lock)

    def take_fault(self, path: str, query: dict[str, list[str]]) -> FaultSpec | None:
        return take_fault(self, path, query)

    def issue_token(self) -> str:
        token = secrets.token_urlsafe(24)
        with self.lock:
            self.tokens[token] = time.monotonic() + self.token_ttl_s
        return token

    def token_problem(self, authorization: str | None) -> str | None:
        if not self.require_auth:
            return None
        if not authorization or not authorization.startswith("Bearer "):
            return "missing bearer token"
        expiry = self.tokens.get(authorization.removeprefix("Bearer ").strip())
        if expiry is None:
            return "unknown token"
        if expiry <= time.monotonic():
            return "token expired"
        return None


class _OmsApp(FastAPI):
    """FastAPI app whose outermost layer counts requests and injects faults on the raw connection."""

    simulator: _Simulator

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not scope["path"].startswith("/_simulator"):
            with self.simulator.lock:
                self.simulator.requests[scope["path"]] += 1
            query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
            fault = self.simulator.take_fault(scope["path"], query)
            if fault is not None:
                await _inject(fault, super().__call__, scope, receive, send)
                return
        await super().__call__(scope, receive, send)


async def _inject(
    fault: FaultSpec, app: Callable[..., Any], scope: Scope, receive: Receive, send: Send
) -> None:
    if fault.kind == "error500":
        await _send_raw(send, 500, _errors(500, "Internal Server Error", "simulated fault"))
    elif fault.kind == "slow":
        await asyncio.sleep(fault.delay_s)
        await app(scope, receive, send)
    elif fault.kind == "malformed":
        if fault.variant == "no_data":
            await _send_raw(send, 200, b'{"meta": {"totalResourceCount": 0}, "links": {}}')
        else:
            await _send_raw(
                send, 200, b"<html><body>Sign in with your CERN account</body></html>", "text/html"
            )
    elif fault.kind == "truncated":
        await app(scope, receive, _Truncating(send))
    else:  # drop: close the TCP connection without a byte of response
        transport = getattr(getattr(send, "__self__", None), "transport", None)
        if transport is not None:
            transport.abort()
            await asyncio.sleep(0.01)  # let the server see the connection lost before the app returns


class _Truncating:
    """Collects the app's response and sends only the first half of the body, as a complete 200 reply."""

    def __init__(self, send: Send) -> None:
        self._send = send
        self._start: Message | None = None
        self._body = bytearray()

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self._start = message
            return
        self._body += message.get("body", b"")
        if message.get("more_body"):
            return
        assert self._start is not None
        half = bytes(self._body[: len(self._body) // 2])
        headers = [(k, v) for k, v in self._start["headers"] if k.lower() != b"content-length"]
        await self._send({**self._start, "headers": [*headers, (b"content-length", str(len(half)).encode())]})
        await self._send({"type": "http.response.body", "body": half})


async def _send_raw(send: Send, status: int, body: bytes, content_type: str = "application/json") -> None:
    headers = [(b"content-type", content_type.encode()), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _errors(status: int, title: str, detail: str) -> bytes:
    return orjson.dumps({"errors": [{"status": str(status), "title": title, "detail": detail}]})


def _json(payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(payload), status_code=status, media_type="application/json", headers=headers)


def _error(status: int, title: str, detail: str, headers: dict[str, str] | None = None) -> Response:
    return Response(_errors(status, title, detail), status, media_type="application/json", headers=headers)


class _BadQuery(Exception):
    pass


def create_app(
    world: OmsWorld,
    clock: Callable[[], datetime],
    *,
    client_id: str = "runreg",
    client_secret: str = "simulator-secret",
    token_ttl_s: float = 300,
    require_auth: bool = True,
) -> FastAPI:
    """The OMS API v1 for `world` as seen at `clock()`; tokens live `token_ttl_s` wall-clock seconds."""
    sim = _Simulator(world, clock, client_id, client_secret, token_ttl_s, require_auth)
    app = _OmsApp(title="OMS simulator", docs_url=None, redoc_url=None, openapi_url=None)
    app.simulator = sim

    @app.exception_handler(_BadQuery)
    async def bad_query(request: Request, exc: _BadQuery) -> Response:
        return _error(400, "Bad Request", str(exc))

    @app.post("/auth/token")
    async def token(request: Request) -> Response:
        form = {k: v[0] for k, v in parse_qs((await request.body()).decode()).items()}
        if form.get("grant_type") != "client_credentials":
            return _json({"error": "unsupported_grant_type"}, 400)
        if form.get("client_id") != sim.client_id or form.get("client_secret") != sim.client_secret:
            return _json({"error": "invalid_client", "error_description": "Invalid client credentials"}, 401)
        ttl = int(sim.token_ttl_s) if float(sim.token_ttl_s).is_integer() else sim.token_ttl_s
        return _json({"access_token": sim.issue_token(), "token_type": "Bearer", "expires_in": ttl})

    def unauthorized(request: Request) -> Response | None:
        problem = sim.token_problem(request.headers.get("authorization"))
        if problem is None:
            return None
        return _error(401, "Unauthorized", problem, {"WWW-Authenticate": 'Bearer error="invalid_token"'})

    @app.get(f"{API}/runs")
    async def runs(request: Request) -> Response:
        if (refused := unauthorized(request)) is not None:
            return refused
        params = request.query_params
        now = sim.clock()
        rows = [_shrunk_run(sim, row) for row in sim.world.runs_at(now)]
        rows = _filtered(rows, _filters(params))
        rows.sort(
            key=_run_sort_key(params.get("sort", "run_number")),
            reverse=params.get("sort", "").startswith("-"),
        )
        return _document(request, "runs", rows, RUNS_PAGE_CAP, RUN_UNITS, lambda r: str(r["run_number"]))

    @app.get(f"{API}/lumisections")
    async def lumisections(request: Request) -> Response:
        if (refused := unauthorized(request)) is not None:
            return refused
        params = request.query_params
        filters = _filters(params)
        run_filter = [raw for attr, op, raw in filters if attr == "run_number" and op == "EQ"]
        if len(run_filter) != 1:
            raise _BadQuery("the simulator needs exactly one filter[run_number]=R on lumisections")
        run_number = _int(run_filter[0], "filter[run_number]")
        rows = sim.world.lumisection_rows(run_number, sim.clock())
        if run_number in sim.shrunk:
            rows = rows[: sim.shrunk[run_number][0]]
        if run_number in sim.holes:
            rows = [row for row in rows if row["lumisection_number"] not in sim.holes[run_number]]
        rows = _filtered(rows, [f for f in filters if f[0] != "run_number"])
        sort = params.get("sort", "lumisection_number")
        if sort.lstrip("-") != "lumisection_number":
            raise _BadQuery(f"cannot sort lumisections by {sort!r}")
        if sort.startswith("-"):
            rows = rows[::-1]
        return _document(
            request,
            "lumisections",
            rows,
            LS_PAGE_CAP,
            LS_UNITS,
            lambda r: f"{run_number}_{r['lumisection_number']}",
        )

    add_control_routes(app, sim, FaultSpec)

    @app.get("/_simulator/clock")
    async def read_clock() -> Response:
        return _json({"now": iso(sim.clock().timestamp())})

    @app.post("/_simulator/clock")
    async def move_clock(step: ClockStep) -> Response:
        advance = getattr(sim.clock, "advance", None)
        if advance is None:
            return _error(409, "Conflict", "this simulator's clock cannot be moved")
        advance(step.advance_s)
        return _json({"now": iso(sim.clock().timestamp())})

    @app.post("/_simulator/shrink")
    async def shrink(body: Shrink) -> Response:
        sim.shrunk[body.run_number] = (body.ls, iso(sim.clock().timestamp()))
        return _json({"run_number": body.run_number, "ls": body.ls})

    @app.post("/_simulator/holes")
    async def holes(body: Holes) -> Response:
        sim.holes.setdefault(body.run_number, set()).update(body.ls)
        return _json({"run_number": body.run_number, "missing": sorted(sim.holes[body.run_number])})

    @app.post("/_simulator/tokens/revoke")
    async def revoke_tokens() -> Response:
        with sim.lock:
            sim.tokens.clear()
        return _json({"revoked": True})

    return app


def _shrunk_run(sim: _Simulator, row: dict[str, Any]) -> dict[str, Any]:
    shrunk = sim.shrunk.get(row["run_number"])
    if shrunk is None:
        return row
    ls, when = shrunk
    return row | {
        "last_lumisection_number": min(ls, row["last_lumisection_number"]),
        "last_update": max(when, row["last_update"]),  # a correction is an update: it must sort first
    }


def _run_sort_key(sort: str) -> Callable[[dict[str, Any]], Any]:
    attr = sort.lstrip("-")
    if attr not in _RUN_SORTS:
        raise _BadQuery(f"cannot sort runs by {sort!r}")
    return lambda row: (row[attr], row["run_number"])


def _filters(params: QueryParams) -> list[tuple[str, str, str]]:
    found = []
    for key, raw in params.multi_items():
        match = _FILTER.fullmatch(key)
        if match:
            op = (match.group(2) or "EQ").upper()  # HDQM writes [eq], RR the bare form
            if op not in _OPS:
                raise _BadQuery(f"unknown filter operator {op!r}")
            found.append((match.group(1), op, raw))
    return found


def _filtered(rows: list[dict[str, Any]], filters: Iterable[tuple[str, str, str]]) -> list[dict[str, Any]]:
    for attr, op, raw in filters:
        if rows and attr not in rows[0]:
            raise _BadQuery(f"unknown attribute {attr!r} in filter")
        rows = [row for row in rows if _matches(row[attr], op, raw)]
    return rows


def _matches(value: Any, op: str, raw: str) -> bool:
    if value is None or raw.lower() == "null":
        same = value is None and raw.lower() == "null"
        return same if op == "EQ" else (not same if op == "NEQ" else False)
    if isinstance(value, list):
        return (raw in value) if op in ("EQ", "CT") else (raw not in value if op == "NEQ" else False)
    target: Any
    if isinstance(value, bool):
        target = raw.lower() == "true"
    elif isinstance(value, int):
        target = _int(raw, "filter")
    elif isinstance(value, float):
        try:
            target = float(raw)
        except ValueError:
            raise _BadQuery(f"filter value {raw!r} is not a number") from None
    else:
        target = raw
    if op == "LIKE":
        return re.fullmatch(re.escape(raw).replace("%", ".*"), str(value)) is not None
    if op == "CT":
        return raw in str(value)
    return bool(_COMPARE[op](value, target))


def _int(raw: str, name: str) -> int:
    try:
        return int(raw)
    except ValueError:
        raise _BadQuery(f"{name} must be an integer, got {raw!r}") from None


def _document(
    request: Request,
    kind: str,
    rows: list[dict[str, Any]],
    cap: int,
    units: dict[str, str],
    id_of: Callable[[dict[str, Any]], str],
) -> Response:
    params = request.query_params
    offset = _int(params.get("page[offset]", "0"), "page[offset]")
    limit = min(_int(params.get("page[limit]", str(DEFAULT_PAGE)), "page[limit]"), cap)
    if offset < 0 or limit < 1:
        raise _BadQuery("page[offset] must be >= 0 and page[limit] >= 1")
    fields = [f for f in params.get("fields", "").split(",") if f] or None
    if fields and rows:
        unknown = [f for f in fields if f not in rows[0]]
        if unknown:
            raise _BadQuery(f"unknown fields: {', '.join(unknown)}")
    meta_row = {k: {"units": u} for k, u in units.items() if fields is None or k in fields}
    page = rows[offset : offset + limit]
    data = [
        {
            "id": id_of(row),
            "type": kind,
            "attributes": row if fields is None else {f: row[f] for f in fields},
            "meta": {"row": meta_row},
        }
        for row in page
    ]
    links: dict[str, str] = {"self": str(request.url)}
    if offset + len(page) < len(rows):
        links["next"] = str(
            request.url.include_query_params(**{"page[offset]": offset + limit, "page[limit]": limit})
        )
    if offset > 0:
        previous = max(0, offset - limit)
        links["prev"] = str(
            request.url.include_query_params(**{"page[offset]": previous, "page[limit]": limit})
        )
    return _json(
        {"data": data, "links": links, "meta": {"totalResourceCount": len(rows), "count": len(data)}}
    )


# --- running it ---------------------------------------------------------------------------------------


@dataclass
class SimulatorServer:
    """A simulator listening on a real socket in a daemon thread."""

    base_url: str
    server: uvicorn.Server
    thread: threading.Thread

    @property
    def api_url(self) -> str:
        return f"{self.base_url}{API}"

    @property
    def token_url(self) -> str:
        return f"{self.base_url}/auth/token"

    def stop(self, timeout: float = 5.0) -> None:
        self.server.should_exit = True
        self.thread.join(timeout)

    def __enter__(self) -> SimulatorServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def run_in_thread(app: FastAPI, host: str = "127.0.0.1", port: int = 0, **tls: Any) -> SimulatorServer:
    """Serve `app` with uvicorn on a real socket (port 0: a free one); returns once it accepts connections.
    `tls`: uvicorn's `ssl_certfile` and `ssl_keyfile`, to serve HTTPS (the base URL then says https)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    bound_host, bound_port = sock.getsockname()[:2]
    # A short graceful shutdown: requests held by a "slow" fault must not keep stop() waiting.
    config = uvicorn.Config(
        app, log_level="warning", access_log=False, lifespan="off", timeout_graceful_shutdown=1, **tls
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, daemon=True, name="oms-simulator"
    )
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"the OMS simulator did not start on {bound_host}:{bound_port}")
        time.sleep(0.01)
    with socket.create_connection((bound_host, bound_port), timeout=5):
        pass
    scheme = "https" if tls.get("ssl_certfile") else "http"
    return SimulatorServer(f"{scheme}://{bound_host}:{bound_port}", server, thread)


def main(argv: list[str] | None = None) -> None:
    """`python -m runreg.simulators.oms.server`: serve a world whose clock starts at its first run."""
    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9510)
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--speed", type=float, default=60.0, help="simulated seconds per wall second")
    parser.add_argument(
        "--hours-in", type=float, default=6.0, help="start the clock this far into the timeline"
    )
    parser.add_argument("--ls-per-run", type=int, help="every run this many LS (for benchmarks)")
    args = parser.parse_args(argv)
    world = OmsWorld(seed=args.seed, ls_per_run=args.ls_per_run)
    clock = SimulatedClock(world.plans[0].start_time + timedelta(hours=args.hours_in), speed=args.speed)
    uvicorn.run(create_app(world, clock), host=args.host, port=args.port, log_level="info")


if __name__ == "__main__":
    main()
