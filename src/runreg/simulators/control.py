"""The control routes every simulator offers its tests: inject and clear faults, read and reset counts."""

# No `from __future__ import annotations`: FastAPI reads the fault model from the annotation when defined.

import threading
from collections import Counter
from typing import Any, Protocol

import orjson
from fastapi import FastAPI, Response
from pydantic import BaseModel


class Controlled(Protocol):
    lock: threading.Lock
    faults: list[Any]
    requests: Counter[str]


def add_control_routes(app: FastAPI, sim: Controlled, fault_model: type[BaseModel]) -> None:
    """`/_simulator/faults` (POST one, DELETE all) and `/_simulator/stats` (GET, DELETE) on `app`."""

    async def add_fault(spec: fault_model) -> Response:  # type: ignore[valid-type]
        with sim.lock:
            sim.faults.append(spec)
        return _json({"faults": [f.model_dump() for f in sim.faults]})

    async def clear_faults() -> Response:
        with sim.lock:
            sim.faults.clear()
        return _json({"faults": []})

    async def stats() -> Response:
        with sim.lock:
            return _json({"requests": dict(sim.requests), "total": sum(sim.requests.values())})

    async def reset_stats() -> Response:
        with sim.lock:
            sim.requests.clear()
        return _json({"requests": {}, "total": 0})

    app.add_api_route("/_simulator/faults", add_fault, methods=["POST"])
    app.add_api_route("/_simulator/faults", clear_faults, methods=["DELETE"])
    app.add_api_route("/_simulator/stats", stats, methods=["GET"])
    app.add_api_route("/_simulator/stats", reset_stats, methods=["DELETE"])


def _json(payload: Any) -> Response:
    return Response(orjson.dumps(payload), media_type="application/json")
