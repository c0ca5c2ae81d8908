"""The DQM GUI's sample lists over HTTP for a catalogue: the legacy `/data/json/samples?match=&run=` and the
new GUI's `/api/v1/samples?run=&dataset=`, with the faults every simulator offers (500s, slow answers,
truncated or malformed bodies, dropped connections) through `/_simulator/faults`."""

from __future__ import annotations

import argparse
import re
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Protocol
from urllib.parse import parse_qs

import orjson
import uvicorn
from fastapi import FastAPI, Request, Response

from runreg.simulators.control import add_control_routes, take_fault
from runreg.simulators.dqmgui.catalogue import FixedCatalogue, WorldCatalogue
from runreg.simulators.oms.server import FaultSpec, SimulatedClock, SimulatorServer, run_in_thread
from runreg.simulators.oms.server import _OmsApp as FaultInjectingApp  # counts requests, injects faults
from runreg.simulators.oms.world import OmsWorld

__all__ = ["FixedCatalogue", "SimulatorServer", "WorldCatalogue", "create_app", "run_in_thread"]


class Catalogue(Protocol):
    def samples(self) -> list[tuple[int, str]]: ...

    def version(self) -> int | None:
        """Changes whenever the samples do; None: unknown (answers are not cached)."""
        ...


@dataclass
class _Simulator:
    catalogue: Catalogue
    faults: list[FaultSpec] = field(default_factory=list)
    requests: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)
    # (path, query, catalogue version) -> encoded answer: a benchmark must measure runreg, not the simulator
    answers: dict[tuple[str, str, int], bytes] = field(default_factory=dict)

    def cached(self, request: Request, build: Callable[[], Response]) -> Response:
        version = self.catalogue.version()
        if version is None:
            return build()
        key = (request.url.path, request.url.query, version)
        if key not in self.answers:
            answer = build()
            if answer.status_code != 200:
                return answer
            self.answers.clear()
            self.answers[key] = bytes(answer.body)
        return Response(self.answers[key], media_type="application/json")

    def take_fault(self, path: str, query: dict[str, list[str]]) -> FaultSpec | None:
        return take_fault(self, path, query)


def _json(payload: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(payload), status_code=status, media_type="application/json")


def create_app(catalogue: Catalogue) -> FastAPI:
    sim = _Simulator(catalogue)
    app = FaultInjectingApp(title="DQM GUI simulator", docs_url=None, redoc_url=None, openapi_url=None)
    app.simulator = sim

    def selected(request: Request, pattern_param: str) -> list[tuple[int, str]] | Response:
        query = parse_qs(request.url.query)
        rows = catalogue.samples()
        run = query.get("run", [""])[-1]
        if run:
            if not run.isdigit():
                return _json({"error": f"run must be a number, not {run!r}"}, 400)
            rows = [row for row in rows if row[0] == int(run)]
        pattern = query.get(pattern_param, [""])[-1]
        if pattern and pattern != ".*":
            try:
                compiled = re.compile(pattern)
            except re.error as exc:
                return _json({"error": f"bad regular expression: {exc}"}, 400)
            rows = [row for row in rows if compiled.search(row[1])]
        return rows

    def legacy(request: Request) -> Response:
        rows = selected(request, "match")
        if isinstance(rows, Response):
            return rows
        items = [
            {"type": "offline_data", "run": str(run), "dataset": dataset, "version": "", "importversion": 1}
            for run, dataset in rows
        ]
        return _json({"samples": [{"type": "offline_data", "items": items}]})

    def v1(request: Request) -> Response:
        rows = selected(request, "dataset")
        if isinstance(rows, Response):
            return rows
        return _json({"data": [{"run": run, "dataset": dataset, "lumi": 0} for run, dataset in rows]})

    @app.get("/data/json/samples")
    async def legacy_samples(request: Request) -> Response:
        return sim.cached(request, lambda: legacy(request))

    @app.get("/api/v1/samples")
    async def v1_samples(request: Request) -> Response:
        return sim.cached(request, lambda: v1(request))

    add_control_routes(app, sim, FaultSpec)
    return app


def main(argv: list[str] | None = None) -> None:
    """`python -m runreg.simulators.dqmgui.server`: the samples of the OMS simulator's default world."""
    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9530)
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--speed", type=float, default=60.0, help="simulated seconds per wall second")
    parser.add_argument("--hours-in", type=float, default=6.0, help="start the clock this far in")
    args = parser.parse_args(argv)
    world = OmsWorld(seed=args.seed)
    clock = SimulatedClock(world.plans[0].start_time + timedelta(hours=args.hours_in), speed=args.speed)
    uvicorn.run(create_app(WorldCatalogue(world, clock)), host=args.host, port=args.port, log_level="info")


if __name__ == "__main__":
    main()
