"""What the domains' HTTP routes share beyond identity: answering JSON without FastAPI's encoder walk."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi.responses import Response


def json_answer(payload: Any, *, status_code: int = 200) -> Response:
    """`payload` (plain dicts, lists, str, numbers, datetimes) serialised by orjson in one C call: for the
    hot listing routes, FastAPI's jsonable_encoder + response-model pass costs more than the query."""
    return Response(orjson.dumps(payload), status_code=status_code, media_type="application/json")
