"""ReqMgr2 (its CouchDB changes feed and request search), DBS and wmstats over HTTP for a CmswebWorld, plus
the McM / ReReco / RelVal callback targets behind client-credentials tokens, with fault injection."""

from __future__ import annotations

import argparse
import secrets
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

import orjson
import uvicorn
from fastapi import FastAPI, Request, Response
from pydantic import BaseModel
from starlette.types import Receive, Scope, Send

from runreg.simulators.cmsweb.world import CmswebWorld, InputDataset
from runreg.simulators.control import add_control_routes, take_fault
from runreg.simulators.oms.server import ClockStep, FaultSpec, SimulatedClock, _inject, run_in_thread

COUCH = "/couchdb/reqmgr_workload_cache"
DBS = "/dbs/prod/global/DBSReader"
TOKEN_PATH = "/auth/realms/cern/api-access/token"
AUDIENCES = {"prod": "cms-pdmv-prod", "dev": "cms-pdmv-dev"}

__all__ = ["CmswebSimulator", "SimulatedClock", "create_app", "run_in_thread"]


class Names(BaseModel):
    names: list[str]
    change: bool = True


@dataclass
class CmswebSimulator:
    world: CmswebWorld
    clock: Callable[[], datetime]
    client_id: str = "stats2"
    client_secret: str = "callback-secret"
    faults: list[FaultSpec] = field(default_factory=list)
    requests: Counter[str] = field(default_factory=Counter)
    tokens: dict[str, tuple[str, float]] = field(default_factory=dict)  # token -> (audience, expiry)
    callbacks: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    _files: dict[str, tuple[InputDataset, int, int, int]] | None = None

    def now(self) -> float:
        return self.clock().timestamp()

    def take_fault(self, path: str) -> FaultSpec | None:
        return take_fault(self, path)

    def files(self) -> dict[str, tuple[InputDataset, int, int, int]]:
        """LFN → (input dataset, run, first LS, last LS)."""
        if self._files is None:
            self._files = {
                lfn: (source, run, first, last)
                for source in self.world.inputs.values()
                for run in source.runs
                for lfn, first, last in source.files(run)
            }
        return self._files


class _CmswebApp(FastAPI):
    simulator: CmswebSimulator
    # Hot GET routes answered below the framework: a benchmark of thousands of DBS calls per second must
    # measure runreg, not the simulator's routing.
    fast: dict[str, Callable[[dict[str, str]], Response]]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not scope["path"].startswith("/_simulator"):
            with self.simulator.lock:
                self.simulator.requests[scope["path"]] += 1
            fault = self.simulator.take_fault(scope["path"])
            if fault is not None:
                await _inject(fault, self._answer, scope, receive, send)
                return
        await self._answer(scope, receive, send)

    async def _answer(self, scope: Scope, receive: Receive, send: Send) -> None:
        handler = (
            self.fast.get(scope["path"]) if scope["type"] == "http" and scope["method"] == "GET" else None
        )
        if handler is None:
            await super().__call__(scope, receive, send)
            return
        query = {k: v[-1] for k, v in parse_qs(scope["query_string"].decode("latin-1")).items()}
        await handler(query)(scope, receive, send)


def _json(payload: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(payload), status_code=status, media_type="application/json")


def _dbs_error(message: str, status: int = 400) -> Response:
    return _json({"error": {"message": message, "code": 1}, "http": {"code": status}}, status)


def _seq(value: int) -> str:
    return f"{value}-g1AAAAB{value % 9973:04x}"  # CouchDB 3 sequences are opaque strings


def _seq_number(text: str) -> int:
    head = (text or "0").split("-", 1)[0]
    return int(head) if head.isdigit() else 0


def create_app(world: CmswebWorld, clock: Callable[[], datetime], *, token_ttl_s: float = 300) -> FastAPI:
    sim = CmswebSimulator(world, clock)
    app = _CmswebApp(title="cmsweb simulator", docs_url=None, redoc_url=None, openapi_url=None)
    app.simulator = sim
    app.fast = {}

    # --- ReqMgr2 -------------------------------------------------------------------------------------

    @app.get(f"{COUCH}/_changes")
    async def changes(request: Request) -> Response:
        params = request.query_params
        since = _seq_number(params.get("since", "0"))
        limit = int(params["limit"]) if "limit" in params else None
        now = sim.now()
        rows, pending = world.changes(now, since=since, limit=limit)
        include = params.get("include_docs") == "true"
        results = [
            {"seq": _seq(seq), "id": name, "changes": [{"rev": f"1-{seq % 65521:x}"}]}
            | ({"deleted": True} if deleted else {})
            | ({"doc": world.document(name, now)} if include and not deleted else {})
            for seq, name, deleted in rows
        ]
        last = rows[-1][0] if rows else max(since, world.current_seq(now))
        return _json({"results": results, "last_seq": _seq(last), "pending": pending})

    @app.get(COUCH + "/{name:path}")
    async def document(name: str) -> Response:
        found = world.document(name, sim.now())
        if found is None:
            reason = "deleted" if world.plan(name) is not None else "missing"
            return _json({"error": "not_found", "reason": reason}, 404)
        return _json(found)

    @app.get("/reqmgr2/data/request")
    async def request_search(request: Request) -> Response:
        prep_id = request.query_params.get("prep_id")
        if not prep_id:
            return _json({"error": "the simulator answers prep_id searches only"}, 400)
        masks = request.query_params.getlist("mask")
        found = world.search_prep_id(prep_id, sim.now())
        shown = {doc["RequestName"]: ({k: doc.get(k) for k in masks} if masks else doc) for doc in found}
        return _json({"result": [shown]})

    # --- wmstats -------------------------------------------------------------------------------------

    @app.get("/wmstatsserver/data/filtered_requests")
    async def filtered_requests(request: Request) -> Response:
        return _json({"result": [{"RequestName": name} for name in world.active(sim.now())]})

    # --- DBS -----------------------------------------------------------------------------------------

    def dataset_row(name: str, now: float) -> dict[str, Any] | None:
        if name in world.inputs:
            source = world.inputs[name]
            return {
                "dataset": name,
                "dataset_access_type": "VALID",
                "num_event": source.total_events,
                "num_lumi": source.total_lumis,
                "file_size": source.total_events * 1_000_000,
                "num_file": sum(len(source.files(run)) for run in source.runs),
                "last_modification_date": int(world.epoch) - 86400,
            }
        return world.output_state(name, now)

    @app.get(f"{DBS}/datasets")
    async def datasets(request: Request) -> Response:
        params = request.query_params
        now = sim.now()
        if "min_ldate" in params:
            since = int(params["min_ldate"])
            rows = [row for name in world.dbs_datasets() if (row := dataset_row(name, now)) is not None]
            return _json(
                [{"dataset": row["dataset"]} for row in rows if row["last_modification_date"] >= since]
            )
        if "dataset" in params:
            row = dataset_row(params["dataset"], now)
            return _json([] if row is None else [{"dataset": row["dataset"]}])
        return _dbs_error("give min_ldate or dataset")

    @app.post(f"{DBS}/datasetlist")
    async def datasetlist(request: Request) -> Response:
        try:
            body = orjson.loads(await request.body())
            names = body["dataset"]
        except (orjson.JSONDecodeError, KeyError, TypeError):
            return _dbs_error("datasetlist needs a JSON body with a `dataset` list")
        if not isinstance(names, list) or len(names) > 1000:
            return _dbs_error("`dataset` must be a list of at most 1000 names")
        now = sim.now()
        rows = [row for name in names if (row := dataset_row(name, now)) is not None]
        return _json([{"dataset": r["dataset"], "dataset_access_type": r["dataset_access_type"],
                       "last_modification_date": r["last_modification_date"]} for r in rows])  # fmt: skip

    empty = [{"num_file": 0, "num_event": None, "num_lumi": None, "file_size": None, "num_block": 0}]

    def filesummaries(params: dict[str, str]) -> Response:
        name = params.get("dataset")
        if not name:
            return _dbs_error("filesummaries needs a dataset")
        row = dataset_row(name, sim.now())
        valid_only = params.get("validFileOnly") == "1"
        if row is None or (valid_only and row["dataset_access_type"] not in ("VALID", "PRODUCTION")):
            return _json(empty)
        return _json(
            [{k: row[k] for k in ("num_file", "num_event", "num_lumi", "file_size")} | {"num_block": 1}]
        )

    app.fast[f"{DBS}/filesummaries"] = filesummaries

    @app.get(f"{DBS}/files")
    async def files(request: Request) -> Response:
        params = request.query_params
        source = world.inputs.get(params.get("dataset", ""))
        if source is None:
            return _json([])
        try:
            run = int(params["run_num"])
            ranges = orjson.loads(params.get("lumi_list", "[]"))
        except (KeyError, ValueError, orjson.JSONDecodeError):
            return _dbs_error("files needs run_num and a JSON lumi_list")
        if run not in source.runs:
            return _json([])
        found = []
        for lfn, first, last in source.files(run):
            if not ranges or any(a <= last and first <= b for a, b in ranges):
                events = sum(source.ls_events(run, ls) for ls in range(first, last + 1))
                found.append({"logical_file_name": lfn, "event_count": events, "is_file_valid": 1,
                              "dataset": source.name, "file_size": events * 1_000_000})  # fmt: skip
        return _json(found)

    @app.get(f"{DBS}/blocks")
    async def blocks(request: Request) -> Response:
        source = world.inputs.get(request.query_params.get("dataset", ""))
        if source is None:
            return _json([])
        return _json([{"block_name": f"{source.name}#run{run}-0001"} for run in source.runs])

    def lumi_rows(source: InputDataset, run: int, lfn: str, first: int, last: int) -> list[dict[str, Any]]:
        return [
            {
                "logical_file_name": lfn,
                "run_num": run,
                "lumi_section_num": ls,
                "event_count": source.ls_events(run, ls),
            }
            for ls in range(first, last + 1)
        ]

    @app.get(f"{DBS}/filelumis")
    async def filelumis_of_block(request: Request) -> Response:
        block = request.query_params.get("block_name", "")
        name, _, tail = block.partition("#run")
        source = world.inputs.get(name)
        run = int(tail.split("-")[0]) if tail.split("-")[0].isdigit() else None
        if source is None or run not in source.runs:
            return _json([])
        return _json([row for lfn, a, b in source.files(run) for row in lumi_rows(source, run, lfn, a, b)])

    @app.post(f"{DBS}/filelumis")
    async def filelumis_of_files(request: Request) -> Response:
        try:
            body = orjson.loads(await request.body())
            lfns, run = body["logical_file_name"], body.get("run_num")
        except (orjson.JSONDecodeError, KeyError, TypeError):
            return _dbs_error("filelumis needs `logical_file_name`")
        rows = []
        for lfn in lfns:
            known = sim.files().get(lfn)
            if known is not None and (run is None or known[1] == int(run)):
                rows.extend(lumi_rows(known[0], known[1], lfn, known[2], known[3]))
        return _json(rows)

    # --- callback targets (McM, ReReco, RelVal) and their token endpoint --------------------------------

    @app.post(TOKEN_PATH)
    async def token(request: Request) -> Response:
        form = {k: v[0] for k, v in parse_qs((await request.body()).decode()).items()}
        if form.get("grant_type") != "client_credentials":
            return _json({"error": "unsupported_grant_type"}, 400)
        if form.get("client_id") != sim.client_id or form.get("client_secret") != sim.client_secret:
            return _json({"error": "invalid_client"}, 401)
        value = secrets.token_urlsafe(18)
        with sim.lock:
            sim.tokens[value] = (form.get("audience", ""), time.monotonic() + token_ttl_s)
        return _json({"access_token": value, "token_type": "Bearer", "expires_in": int(token_ttl_s)})

    def receive_callback(
        request: Request, env: str, target: str, prepid: str | None, name: str | None
    ) -> Response:
        header = request.headers.get("authorization", "")
        audience, expiry = sim.tokens.get(header.removeprefix("Bearer "), ("", 0.0))
        if env not in AUDIENCES or audience != AUDIENCES[env] or expiry < time.monotonic():
            return _json({"message": "token missing, expired or for another audience"}, 403)
        if "x-ssl-client-cert" in request.headers:  # our callbacks never carry the grid certificate
            return _json({"message": "unexpected client certificate"}, 400)
        with sim.lock:
            sim.callbacks.append({"env": env, "target": target, "prepid": prepid, "workflow": name})
        return _json({"results": True})

    @app.get("/{env}/mcm/restapi/requests/fetch_stats_by_wf/{name:path}")
    async def mcm(env: str, name: str, request: Request) -> Response:
        return receive_callback(request, env, "mcm", None, name)

    @app.post("/{env}/rereco/api/requests/update_workflows")
    async def rereco(env: str, request: Request) -> Response:
        body = orjson.loads(await request.body() or b"{}")
        return receive_callback(request, env, "rereco", body.get("prepid"), None)

    @app.post("/{env}/relval/api/relvals/update_workflows")
    async def relval(env: str, request: Request) -> Response:
        body = orjson.loads(await request.body() or b"{}")
        return receive_callback(request, env, "relval", body.get("prepid"), None)

    # --- control -------------------------------------------------------------------------------------

    add_control_routes(app, sim, FaultSpec)

    @app.get("/_simulator/callbacks")
    async def callbacks() -> Response:
        with sim.lock:
            return _json({"callbacks": list(sim.callbacks)})

    @app.delete("/_simulator/callbacks")
    async def clear_callbacks() -> Response:
        with sim.lock:
            sim.callbacks.clear()
        return _json({"callbacks": []})

    @app.post("/_simulator/clock")
    async def move_clock(step: ClockStep) -> Response:
        advance = getattr(sim.clock, "advance", None)
        if advance is None:
            return _json({"error": "this clock cannot be moved"}, 409)
        advance(step.advance_s)
        return _json({"now": sim.now()})

    @app.get("/_simulator/clock")
    async def read_clock() -> Response:
        return _json({"now": sim.now()})

    @app.post("/_simulator/touch")
    async def touch(body: Names) -> Response:
        try:
            world.touch(body.names, sim.now(), change=body.change)
        except KeyError as exc:
            return _json({"error": f"unknown workflow {exc}"}, 404)
        return _json({"touched": len(body.names)})

    @app.post("/_simulator/delete")
    async def delete(body: Names) -> Response:
        try:
            world.delete(body.names, sim.now())
        except KeyError as exc:
            return _json({"error": f"unknown workflow {exc}"}, 404)
        return _json({"deleted": len(body.names)})

    return app


def main(argv: list[str] | None = None) -> None:
    """`python -m runreg.simulators.cmsweb.server`: serve a world whose clock starts a few days in."""
    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9520)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--workflows", type=int, default=300)
    parser.add_argument("--speed", type=float, default=600.0, help="simulated seconds per wall second")
    parser.add_argument(
        "--days-in", type=float, default=5.0, help="start the clock this far into the timeline"
    )
    args = parser.parse_args(argv)
    world = CmswebWorld(seed=args.seed, workflows=args.workflows)
    start = datetime.fromtimestamp(world.epoch + args.days_in * 86400, UTC)
    uvicorn.run(create_app(world, SimulatedClock(start, speed=args.speed)), host=args.host, port=args.port)


if __name__ == "__main__":
    main()
