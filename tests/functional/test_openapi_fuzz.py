"""A bounded, deterministic schemathesis run over the whole OpenAPI: no request may end in an unhandled error.

Every operation gets a fixed number of valid and invalid requests (derandomized: the same ones on every run).
The app is called through ASGI, where an unhandled exception reaches the test instead of becoming a generic
500: so "0 unhandled 5xx" is checked at its source. The legacy face answers domain errors with 500 `{"err"}`
on purpose (the public client expects it); such answers are told apart by their shape."""

from __future__ import annotations

import contextlib
import json
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

from runreg.http.app import API_PREFIX, create_app
from runreg.settings import Settings
from runreg.storage.database import Database
from tests.builders.runs import create_collision_run

EXAMPLES_PER_OPERATION = 6  # per generation mode; ~50 operations x 2 modes x 6, about 20 s per engine
FUZZ = settings(
    max_examples=EXAMPLES_PER_OPERATION,
    derandomize=True,
    database=None,
    deadline=None,
    phases=[Phase.explicit, Phase.generate],  # no shrinking: every failure is reported as generated
    suppress_health_check=list(HealthCheck),
)
#: The legacy JSON-portal poll answers a failed job with an empty 500, as the original did.
EMPTY_500_ROUTES = {"/json_portal/json"}


def deliberate_legacy_5xx(path: str, status: int, body: bytes) -> bool:
    """A 5xx the legacy face sends by design: outside /api/v1, and the original's `{"err": "..."}` shape."""
    if path.startswith(API_PREFIX) or status != 500:
        return False
    if not body:
        return path in EMPTY_500_ROUTES
    try:
        document = json.loads(body)
    except ValueError:
        return False
    return isinstance(document, dict) and set(document) == {"err"} and isinstance(document["err"], str)


def test_the_legacy_shape_rule_tells_deliberate_errors_from_crashes() -> None:
    assert deliberate_legacy_5xx("/runs_filtered_ordered", 500, b'{"err": "Run must be OPEN"}')
    assert not deliberate_legacy_5xx("/runs_filtered_ordered", 500, b"Internal Server Error")
    assert not deliberate_legacy_5xx("/api/v1/runs", 500, b'{"err": "x"}')
    assert not deliberate_legacy_5xx("/runs_filtered_ordered", 502, b'{"err": "x"}')
    assert not deliberate_legacy_5xx("/runs_filtered_ordered", 500, b"")


def fuzz_operation(operation: Any, mode: GenerationMode, failures: list[str]) -> None:
    @given(case=operation.as_strategy(generation_mode=mode))
    @FUZZ
    def one_request(case: Any) -> None:
        case.headers = {**(case.headers or {}), "email": "fuzzer@cern.ch"}  # dev identity: writes get in
        where = f"{operation.label} [{mode.value}] path={case.path_parameters} query={case.query}"
        try:
            response = case.call()
        except Exception as exc:  # the app raised: an unhandled exception, a 500 in production
            failures.append(f"{where} body={str(case.body)[:200]}: unhandled {type(exc).__name__}: {exc}")
            return
        if response.status_code >= 500 and not deliberate_legacy_5xx(
            case.formatted_path, response.status_code, response.content
        ):
            failures.append(f"{where}: {response.status_code} {response.text[:200]}")

    with contextlib.suppress(Unsatisfiable):  # an operation without parameters has no invalid request
        one_request()


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=lambda m: m.value)
def test_no_request_ends_in_an_unhandled_error(db: Database, mode: GenerationMode) -> None:
    create_collision_run(db, ls_count=20)
    app = create_app(db, settings=Settings(dev_identity=True))
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    failures: list[str] = []
    for operation in operations:
        fuzz_operation(operation, mode, failures)
    assert len(operations) >= 40  # the whole API: /api/v1 and the legacy face
    assert failures == []
