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


def take_fault(sim: Controlled, path: str, query: dict[str, list[str]] | None = None) -> Any | None:
    """The first fault for this request (its path prefix, and its query values when `query` is given), used
    up by one; None when the request is to be answered normally."""
    with sim.lock:
        for fault in sim.faults:
            if not path.startswith(fault.path_prefix):
                continue
            if query is not None and not all(query.get(k) == [v] for k, v in fault.query.items()):
                continue
            fault.times -= 1
            if fault.times == 0:
                sim.faults.remove(fault)
            return fault
    return None


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
