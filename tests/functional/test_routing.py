"""The routing gate: every path reaches the route FastAPI alone would pick; hot paths skip the rest."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from starlette.routing import Match

from runreg.http.app import create_app
from runreg.http.routing import route_prefixes
from runreg.settings import Settings
from runreg.storage.database import Database


@pytest.fixture(scope="module")
def app():
    return create_app(Database("sqlite://"), settings=Settings(), oms=None)


def _first_full(routes, scope, *, gated: bool):
    for route in routes:
        matches = route.matches if gated else type(route).matches.__get__(route)
        match, _ = matches(dict(scope))
        if match != Match.NONE:
            return route, match
    return None, Match.NONE


def _sample_paths(app) -> set[tuple[str, str]]:
    """For every route, concrete paths it answers (its parameters filled in two ways), with and without a
    trailing slash, under every method it has and one it has not; and some paths no route has."""
    from fastapi.routing import iter_route_contexts

    samples = {("GET", "/"), ("GET", "/no/such/page"), ("POST", "/api/v2/runs"), ("GET", "/runsx")}
    for context in iter_route_contexts(app.routes):
        methods = getattr(context.original_route, "methods", None) or {"GET"}
        for fill in ("380567", "x"):
            path = re.sub(r"\{[^}]*\}", fill, context.path_format)
            for variant in (path, path.rstrip("/") + "/", path + "/more"):
                for method in methods | {"DELETE", "PATCH"}:
                    samples.add((method, variant))
    return samples


def test_every_path_reaches_the_route_fastapi_alone_would_pick(app):
    gated = [route for route in app.router.routes if route_prefixes(route) is not None]
    assert len(gated) >= 20  # the registry, its API, the pages, the legacy face… each one router
    samples = _sample_paths(app)
    assert len(samples) > 1000
    for method, path in samples:
        scope = {"type": "http", "method": method, "path": path, "root_path": "", "headers": []}
        assert _first_full(app.router.routes, scope, gated=True) == _first_full(
            app.router.routes, scope, gated=False
        ), (method, path)


def test_a_router_refuses_what_none_of_its_routes_begins(app):
    legacy = next(
        route
        for route in app.router.routes
        if route_prefixes(route) and "/runs_filtered_ordered" in route_prefixes(route)
    )
    scope = {"type": "http", "method": "POST", "root_path": "", "headers": []}
    assert legacy.matches(scope | {"path": "/online/global"}) == (Match.NONE, {})
    assert legacy.matches(scope | {"path": "/runs_filtered_ordered"})[0] == Match.FULL


def test_methods_redirects_and_unknown_paths_answer_as_before(app):
    client = TestClient(app)
    assert client.get("/runs_filtered_ordered").status_code == 405  # its path, another method
    assert client.get("/no/such/page").status_code == 404
    assert client.get("/healthz").status_code == 200
    assert client.get("/openapi.json").json()["paths"]["/api/v1/runs"]
