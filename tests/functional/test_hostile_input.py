"""The hostile inputs of issue 8, each refused with a 400 (or 413) naming the field and the limit, on both
engines and on both faces; nothing of them is stored."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

from runreg.configuration import service as configuration
from runreg.http.app import create_app
from runreg.kernel import limits
from runreg.kernel.errors import InvalidInput
from runreg.registry import service
from runreg.registry.service import FlagEdit
from runreg.settings import Settings
from runreg.storage.database import Database
from tests.builders.runs import EXPERT, SHIFTER, create_collision_run

RUN = 380567
EDIT = f"/api/v1/runs/{RUN}/lumisections/dt-dt"
WHO = {"email": "alice@cern.ch"}
JSON = {**WHO, "content-type": "application/json"}


@pytest.fixture
def client(db: Database) -> TestClient:
    create_collision_run(db, ls_count=20, run_number=RUN)
    return TestClient(create_app(db, settings=Settings(dev_identity=True)))


def flag_edit(comment: str, **overrides: Any) -> dict[str, Any]:
    return {"first_ls": 1, "last_ls": 2, "status": "BAD", "comment": comment, **overrides}


def refused(response: Any, field: str, *words: str, status: int = 400) -> None:
    """An /api/v1 refusal naming `field` and (in its message) each of `words`."""
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["details"]["field"] == field, error
    for word in words:
        assert word in error["message"], error


def comments_stored(client: TestClient) -> list[str]:
    return [cs["comment"] for cs in client.get("/api/v1/change-sets?limit=500").json()]


# -- sizes ------------------------------------------------------------------------------------------------
def test_a_50_mb_comment_is_refused_before_it_is_read(client: TestClient) -> None:
    before = comments_stored(client)
    response = client.put(EDIT, json=flag_edit("x" * 50_000_000), headers=WHO)

    assert response.status_code == 413
    assert response.json()["error"]["code"] == "body_too_large"
    assert str(limits.MAX_BODY_BYTES) in response.json()["error"]["message"]
    assert comments_stored(client) == before


def test_a_chunked_body_without_length_is_counted_while_read(client: TestClient) -> None:
    chunks = (b"x" * 65536 for _ in range(64))  # 4 MiB, no Content-Length
    response = client.put(EDIT, content=chunks, headers=JSON)
    assert response.status_code == 413


def test_the_body_limit_is_a_setting(db: Database) -> None:
    create_collision_run(db, ls_count=20, run_number=RUN)
    small = TestClient(create_app(db, settings=Settings(dev_identity=True, max_body_bytes=100)))
    assert small.put(EDIT, json=flag_edit("y" * 200), headers=WHO).status_code == 413
    assert small.put(EDIT, json=flag_edit("short"), headers=WHO).status_code == 200


def test_a_comment_beyond_its_limit_is_refused_naming_field_and_limit(client: TestClient) -> None:
    response = client.put(EDIT, json=flag_edit("x" * (limits.MAX_COMMENT_CHARS + 1)), headers=WHO)
    refused(response, "comment", str(limits.MAX_COMMENT_CHARS))


def test_the_legacy_face_refuses_a_long_comment_with_a_400_err(client: TestClient) -> None:
    body = {
        "new_lumisection_range": {"start": 1, "end": 2, "status": "BAD", "comment": "x" * 10_001},
        "run_number": RUN,
        "dataset_name": "online",
        "component": "dt-dt",
    }
    response = client.put("/lumisections/edit_rr_lumisections", json=body, headers=WHO)
    assert response.status_code == 400
    assert "comment" in response.json()["err"] and "10000" in response.json()["err"]


def test_the_service_refuses_a_long_comment_for_every_caller(db: Database) -> None:
    create_collision_run(db, ls_count=20, run_number=RUN)
    with pytest.raises(InvalidInput) as change_set_comment:
        service.edit_flags(
            db, actor=SHIFTER, run_number=RUN, edits=[FlagEdit("dt-dt", 1, 2, "BAD")], comment="x" * 10_001
        )
    with pytest.raises(InvalidInput) as range_comment:
        service.edit_flags(
            db,
            actor=SHIFTER,
            run_number=RUN,
            edits=[FlagEdit("dt-dt", 1, 2, "BAD", "y" * 10_001)],
            comment="ok",
        )
    assert change_set_comment.value.field == "comment"
    assert range_comment.value.field == "edits[0].comment"


def test_too_many_edits_in_one_call_are_refused(db: Database) -> None:
    create_collision_run(db, ls_count=20, run_number=RUN)
    edits = [FlagEdit("dt-dt", 1, 1, "BAD", "why")] * (limits.MAX_EDITS + 1)
    with pytest.raises(InvalidInput, match=f"at most {limits.MAX_EDITS}"):
        service.edit_flags(db, actor=SHIFTER, run_number=RUN, edits=edits, comment="many")


def test_a_200k_leaf_rule_is_refused_before_any_work(client: TestClient) -> None:
    rule = {"and": [True] * 200_000}
    response = client.post("/api/v1/jsons", json={"dataset_pattern": "%", "rule": rule}, headers=WHO)
    refused(response, "rule.and", str(limits.MAX_LIST_ITEMS))
    assert client.get("/api/v1/jsons").json() == []


def test_a_200k_leaf_rule_is_refused_in_a_configuration(db: Database) -> None:
    preset = {"name": "huge", "rule": {"or": [{"==": [{"var": "run.class"}, "x"]}] * 200_000}}
    with pytest.raises(InvalidInput, match=str(limits.MAX_RULE_NODES)):
        configuration.edit(
            db,
            actor=EXPERT,
            change=lambda doc: {**doc, "json_presets": [*doc["json_presets"], preset]},
            comment="huge",
        )


# -- integers against their storage type ---------------------------------------------------------------
@pytest.mark.parametrize(
    "method, path, body",
    [
        ("get", f"/api/v1/runs/{2**31}", None),
        ("get", f"/api/v1/runs/{RUN}?as_of={2**31}", None),
        ("get", f"/api/v1/change-sets?run_number={2**31}", None),
        ("get", f"/api/v1/change-sets/{2**31}", None),
        ("post", f"/api/v1/change-sets/{2**31}/revert", None),
        ("get", f"/api/v1/configuration/versions/{2**31}", None),
        ("post", f"/api/v1/configuration/versions/{2**31}/restore", None),
        ("get", f"/api/v1/jsons/{2**31}", None),
        ("put", EDIT, flag_edit("beyond int32", last_ls=2**31)),
    ],
)
def test_an_integer_beyond_int32_is_refused_naming_it(
    client: TestClient, method: str, path: str, body: Any
) -> None:
    response = client.request(method, path, json=body, headers=WHO)
    assert response.status_code == 400, response.text
    assert str(2**31 - 1) in response.json()["error"]["message"]


@pytest.mark.parametrize(
    "path, field",
    [(f"/api/v1/runs/{2**64}", "run_number"), (f"/api/v1/runs/{RUN}/lumisections?as_of={2**70}", "as_of")],
)
def test_an_integer_beyond_int64_is_refused(client: TestClient, path: str, field: str) -> None:
    refused(client.get(path), field, str(2**31 - 1))


def test_a_legacy_body_integer_beyond_int64_is_a_400(client: TestClient) -> None:
    response = client.post("/lumisections/rr_lumisections", json={"run_number": 2**64})
    assert response.status_code == 400
    assert "run_number" in response.json()["err"]


def test_a_page_beyond_int32_is_refused_on_the_legacy_listing(client: TestClient) -> None:
    response = client.post("/runs_filtered_ordered", json={"filter": {}, "page": 2**63, "page_size": 10})
    assert response.status_code == 400
    assert "page" in response.json()["err"]


def test_the_service_refuses_out_of_range_ids_for_every_caller(db: Database) -> None:
    with pytest.raises(InvalidInput) as run:
        service.run_state(db, 2**63)
    with pytest.raises(InvalidInput) as version:
        configuration.restore(db, actor=SHIFTER, version=2**31)
    assert run.value.field == "run_number"
    assert version.value.field == "version"


# -- nesting ---------------------------------------------------------------------------------------------
def nested_filter(depth: int) -> dict[str, Any]:
    node: dict[str, Any] = {"run_number": 1}
    for _ in range(depth):
        node = {"and": [node]}
    return node


def nested_rule(depth: int) -> Any:
    node: Any = {"var": "run.class"}
    for _ in range(depth):
        node = {"!": [node]}
    return node


def nested_text(depth: int, operator: str, leaf: str) -> str:
    """The JSON text of `depth` nested `{operator: [...]}` (json.dumps itself recurses, so build it)."""
    return f'{{"{operator}": [' * depth + leaf + "]}" * depth


FILTER_1000 = nested_text(1000, "and", '{"run_number": 1}')
RULE_1000 = nested_text(1000, "!", '{"var": "run.class"}')


def test_a_filter_nested_1000_deep_in_a_query_is_a_400(client: TestClient) -> None:
    response = client.get("/api/v1/runs", params={"filter": FILTER_1000})
    refused(response, "filter", "nested deeper")


def test_a_filter_nested_1000_deep_in_a_legacy_body_is_a_400(client: TestClient) -> None:
    response = client.post("/runs_filtered_ordered", content=f'{{"filter": {FILTER_1000}}}', headers=JSON)
    assert response.status_code == 400
    assert "nested deeper" in response.json()["err"]


def test_the_filter_parser_checks_depth_without_recursion(db: Database) -> None:
    with pytest.raises(InvalidInput, match="nested deeper") as deep:
        service.search(db, target="runs", filter=nested_filter(100_000))
    assert deep.value.field.startswith("filter")


def test_a_json_logic_rule_nested_1000_deep_is_a_400(client: TestClient) -> None:
    body = f'{{"dataset_pattern": "%", "rule": {RULE_1000}}}'
    response = client.post("/api/v1/jsons", content=body, headers=JSON)
    assert response.status_code == 400
    assert "nested deeper" in response.json()["error"]["message"]


def test_a_json_logic_rule_sent_as_a_string_nested_1000_deep_is_a_400(client: TestClient) -> None:
    body = {"json_logic": nested_text(5000, "!", '{"var": "run.class"}'), "dataset_name_filter": "%"}
    response = client.post("/json_portal/generate", json=body, headers=WHO)
    assert response.status_code == 400
    assert "json_logic" in response.json()["err"]


def test_rule_validation_checks_depth_without_recursion() -> None:
    from runreg.classifiers import jsonlogic

    with pytest.raises(jsonlogic.InvalidRule, match=f"deeper than {limits.MAX_RULE_DEPTH}") as deep:
        jsonlogic.validate(nested_rule(100_000))
    assert deep.value.path.startswith("rule/!/0/!/0")


# -- text the database cannot store ---------------------------------------------------------------------
def test_a_lone_surrogate_is_refused_naming_the_field(client: TestClient) -> None:
    raw = '{"first_ls": 1, "last_ls": 2, "status": "BAD", "comment": "bad \\ud800 text"}'
    response = client.put(EDIT, content=raw, headers=JSON)
    refused(response, "comment", "surrogate")


def test_a_lone_surrogate_in_a_filter_is_refused(client: TestClient) -> None:
    response = client.get("/api/v1/datasets", params={"filter": '{"name": "\\udfff"}'})
    refused(response, "filter.name", "surrogate")


def test_a_nul_byte_is_refused_naming_the_field(client: TestClient) -> None:
    response = client.put(EDIT, json=flag_edit("nul \u0000 inside"), headers=WHO)
    refused(response, "comment", "NUL")
    assert not any("nul" in comment for comment in comments_stored(client))


def test_a_nul_byte_in_a_filter_value_is_refused(client: TestClient) -> None:
    response = client.get("/api/v1/datasets", params={"filter": json.dumps({"name": "a\u0000b"})})
    refused(response, "filter.name", "NUL")
    legacy = client.post("/datasets_filtered_ordered", json={"filter": {"name": "a\u0000b"}})
    assert legacy.status_code == 400


def test_a_nul_byte_in_the_path_or_query_is_refused(client: TestClient) -> None:
    refused(client.get("/api/v1/runs/1/lumisections?dataset=a%00b"), "query.dataset", "NUL")
    assert client.get("/api/v1/workspaces/%00").status_code in (400, 404)


def test_the_service_refuses_nul_for_every_caller(db: Database) -> None:
    create_collision_run(db, ls_count=20, run_number=RUN)
    with pytest.raises(InvalidInput, match="NUL"):
        service.edit_flags(
            db, actor=SHIFTER, run_number=RUN, edits=[FlagEdit("dt-dt", 1, 2, "BAD")], comment="a\x00b"
        )


# -- configuration ---------------------------------------------------------------------------------------
BOMB = """\
x-a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]
x-b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
x-c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]
x-d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]
x-e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]
x-f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]
json_presets:
  - name: bomb
    rule: {"in": ["lol", *f]}
"""


def test_a_yaml_alias_bomb_is_refused(client: TestClient, db: Database) -> None:
    response = client.post("/api/v1/configuration", json={"yaml": BOMB, "comment": "lol"}, headers=WHO)
    refused(response, "yaml", "aliases expanded", str(limits.MAX_YAML_NODES))
    assert configuration.version_count(db) == 1


def test_a_configuration_restore_without_a_body_works(client: TestClient, db: Database) -> None:
    response = client.post("/api/v1/configuration/versions/1/restore", headers=WHO)
    assert response.status_code == 200, response.text
    assert response.json() == {"version": 2}
    assert configuration.history(db)[0].comment == "restore version 1"
