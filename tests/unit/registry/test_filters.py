"""The table filter language without a database: parsing, every validation error, bound-only SQL."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.dialects import postgresql, sqlite

from runreg.kernel.errors import InvalidInput
from runreg.registry import filters
from runreg.registry.filters import MATCH_ALL, And, Attribute, Comparison, Or, Sorting

RUN = Attribute("run_number")
CLASS = Attribute("rr_attributes", ("class",))
ENERGY = Attribute("oms_attributes", ("energy",))


def runs(filter: Any) -> filters.Node:
    return filters.parse_filter(filter, target="runs")


def datasets(filter: Any) -> filters.Node:
    return filters.parse_filter(filter, target="datasets")


def refused(target: str, filter: Any) -> InvalidInput:
    with pytest.raises(InvalidInput) as caught:
        filters.parse_filter(filter, target=target)  # type: ignore[arg-type]
    return caught.value


# --------------------------------------------------------------------------------------------------
# Parsing
# --------------------------------------------------------------------------------------------------
def test_a_scalar_means_equality_and_several_keys_are_anded() -> None:
    assert runs({"run_number": 5}) == Comparison(RUN, "=", 5)
    assert runs({"run_number": {"=": 5}, "rr_attributes.class": "X"}) == And(
        (Comparison(RUN, "=", 5), Comparison(CLASS, "=", "X"))
    )


def test_an_operator_object_with_several_operators_is_anded() -> None:
    assert runs({"run_number": {">": 1, "<=": 9}}) == And((Comparison(RUN, ">", 1), Comparison(RUN, "<=", 9)))


def test_nested_and_or_lists_of_operator_objects_and_bare_elements() -> None:
    assert runs({"run_number": {"and": [{">": 309000}, {"<": 310000}]}}) == And(
        (Comparison(RUN, ">", 309000), Comparison(RUN, "<", 310000))
    )
    assert runs({"run_number": {"or": [1, 2, {"=": 3}]}}) == Or(
        (Comparison(RUN, "=", 1), Comparison(RUN, "=", 2), Comparison(RUN, "=", 3))
    )
    assert runs({"run_number": {"AND": [{"OR": [{"=": 1}, {"=": 2}]}]}}) == Or(
        (Comparison(RUN, "=", 1), Comparison(RUN, "=", 2))
    )


def test_top_level_and_or_hold_sub_filters() -> None:
    parsed = runs({"or": [{"run_number": 1}, {"and": [{"rr_attributes.class": "X"}, {"run_number": 2}]}]})
    assert parsed == Or(
        (Comparison(RUN, "=", 1), And((Comparison(CLASS, "=", "X"), Comparison(RUN, "=", 2))))
    )
    assert runs({"OR": [{"run_number": 1}]}) == Comparison(RUN, "=", 1)


def test_uppercase_aliases_and_notlike_is_case_insensitive_like_its_lowercase_form() -> None:
    hlt = Attribute("oms_attributes", ("hlt_key",))
    assert runs({"oms_attributes.hlt_key": {"LIKE": "%a%"}}) == Comparison(hlt, "like", "%a%")
    assert runs({"oms_attributes.hlt_key": {"NOTLIKE": "%a%"}}) == Comparison(hlt, "notlike", "%a%")
    assert runs({"oms_attributes.hlt_key": {"notlike": "%a%"}}) == Comparison(hlt, "notlike", "%a%")


@pytest.mark.parametrize(
    "empty", [None, {}, {"and": []}, {"or": []}, {"or": [{}]}, {"run_number": {"or": []}}]
)
def test_empty_filters_and_empty_groups_impose_no_condition(empty: Any) -> None:
    assert runs(empty) == MATCH_ALL


def test_run_numbers_sent_as_strings_by_the_web_ui_become_integers() -> None:
    assert runs({"and": [{"run_number": {"=": "380567"}}]}) == Comparison(RUN, "=", 380567)
    assert runs({"run_number": {">": 1.0}}) == Comparison(RUN, ">", 1)
    assert runs({"run_number": {">": 1.5}}) == Comparison(RUN, ">", 1.5)


def test_null_means_is_null_and_like_keeps_its_string_pattern() -> None:
    assert runs({"oms_attributes.energy": None}) == Comparison(ENERGY, "=", None)
    assert runs({"run_number": {"<>": None}}) == Comparison(RUN, "<>", None)
    assert runs({"run_number": {"like": "%67"}}) == Comparison(RUN, "like", "%67")


def test_column_paths_of_each_target() -> None:
    assert runs({"triplet_summary.dt-dt.NO VALUE FOUND": {">": 0}}) == Comparison(
        Attribute("triplet_summary", ("dt-dt", "NO VALUE FOUND")), ">", 0
    )
    assert runs({"ls_count": {">": 5}}) == Comparison(Attribute("ls_count"), ">", 5)
    assert datasets({"name": "online", "dataset_attributes.global_state": "OPEN"}) == And(
        (
            Comparison(Attribute("name"), "=", "online"),
            Comparison(Attribute("dataset_attributes", ("global_state",)), "=", "OPEN"),
        )
    )
    assert datasets({"oms_attributes.energy": {">": 1}}) == Comparison(ENERGY, ">", 1)
    assert runs({"oms_attributes.Key with-dash_1": 1}) == Comparison(
        Attribute("oms_attributes", ("Key with-dash_1",)), "=", 1
    )


def test_containment_takes_a_value_or_a_list() -> None:
    gui = Attribute("datasets_in_gui")
    appeared = Attribute("dataset_attributes", ("appeared_in",))
    assert datasets({"datasets_in_gui": "/A/B/DQM"}) == Comparison(gui, "contains", ("/A/B/DQM",))
    assert datasets({"datasets_in_gui": {"contains": "/A/B/DQM"}}) == Comparison(
        gui, "contains", ("/A/B/DQM",)
    )
    assert datasets({"dataset_attributes.appeared_in": {"contains": ["DBS", "DQM GUI"]}}) == Comparison(
        appeared, "contains", ("DBS", "DQM GUI")
    )
    assert runs({"oms_attributes.components": {"contains": "DT"}}) == Comparison(
        Attribute("oms_attributes", ("components",)), "contains", ("DT",)
    )


# --------------------------------------------------------------------------------------------------
# Validation: the field names the attribute, the reason names the problem
# --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("target", "key", "reason"),
    [
        ("runs", "foo", "unknown attribute"),
        ("runs", "name", "unknown attribute"),
        ("runs", "dataset_attributes.global_state", "unknown attribute"),
        ("runs", "datasets_in_gui", "unknown attribute"),
        ("runs", "triplet_summaryXYZ", "unknown attribute"),
        ("runs", "rr_attributes", "not a valid key"),
        ("runs", "oms_attributes.", "not a valid key"),
        ("runs", "oms_attributes.a.b", "not a valid key"),
        ("runs", "oms_attributes.x'", "not a valid key"),
        ("runs", 'oms_attributes.x"', "not a valid key"),
        ("runs", "oms_attributes.trailing ", "not a valid key"),
        ("runs", "oms_attributes.-dash", "not a valid key"),
        ("runs", "rr_attributes.x'); DROP TABLE runs; --", "not a valid key"),
        ("runs", "triplet_summary.dt-dt.good", "not a status"),
        ("runs", "triplet_summary.dt-dt", "not a status"),
        ("runs", "triplet_summary.dt-dt.GOOD.x", "not a status"),
        ("runs", "triplet_summary.dt.GOOD", "not a component"),
        ("runs", "triplet_summary.dt-dt-x.GOOD", "not a component"),
        ("runs", "triplet_summary.dt'-dt.GOOD", "not a component"),
        ("datasets", "dataset_name", "unknown attribute"),
        ("datasets", "ls_count", "unknown attribute"),
        ("datasets", "deleted", "unknown attribute"),
        ("datasets", "dataset_attributes.a;b", "not a valid key"),
    ],
)
def test_unknown_or_unsafe_attributes_are_refused(target: str, key: str, reason: str) -> None:
    error = refused(target, {key: 1})
    assert error.field == f"filter.{key}"
    assert reason in error.reason


def test_an_unknown_attribute_inside_a_group_is_named_too() -> None:
    error = refused("runs", {"or": [{"run_number": 1}, {"and": [{"oms_attributes.x": 1}, {"bogus": 2}]}]})
    assert error.field == "filter.or[1].and[1].bogus"
    assert "unknown attribute" in error.reason and "run_number" in error.reason


@pytest.mark.parametrize("op", ["~", "in", "Like", "ilike", "not", "$gt", "xor"])
def test_unknown_operators_are_refused_by_name(op: str) -> None:
    error = refused("runs", {"rr_attributes.class": {op: "x"}})
    assert error.field == "filter.rr_attributes.class"
    assert f"unknown operator {op!r}" in error.reason


@pytest.mark.parametrize(
    ("target", "filter", "field", "reason"),
    [
        ("runs", {"oms_attributes.hlt_key": {"like": 5}}, "filter.oms_attributes.hlt_key", "string pattern"),
        ("runs", {"oms_attributes.hlt_key": {"notlike": None}}, "filter.oms_attributes.hlt_key", "null"),
        ("runs", {"oms_attributes.energy": {"<": None}}, "filter.oms_attributes.energy", "null"),
        ("runs", {"rr_attributes.significant": {">": True}}, "filter.rr_attributes.significant", "booleans"),
        ("runs", {"oms_attributes.components": ["DT"]}, "filter.oms_attributes.components", "needs a string"),
        (
            "runs",
            {"oms_attributes.energy": {"=": {"x": 1}}},
            "filter.oms_attributes.energy",
            "needs a string",
        ),
        ("runs", {"oms_attributes.energy": {">": float("nan")}}, "filter.oms_attributes.energy", "needs a"),
        ("runs", {"oms_attributes.energy": {"or": [[1]]}}, "filter.oms_attributes.energy", "needs a string"),
        ("runs", {"run_number": "abc"}, "filter.run_number", "not an integer"),
        ("runs", {"run_number": True}, "filter.run_number", "not booleans"),
        ("runs", {"run_number": {"contains": 1}}, "filter.run_number", "JSON arrays"),
        (
            "runs",
            {"triplet_summary.dt-dt.BAD": {"contains": 1}},
            "filter.triplet_summary.dt-dt.BAD",
            "triplet",
        ),
        ("datasets", {"name": 5}, "filter.name", "strings"),
        ("datasets", {"datasets_in_gui": {"<": "x"}}, "filter.datasets_in_gui", "only supports 'contains'"),
        ("datasets", {"datasets_in_gui": {"contains": []}}, "filter.datasets_in_gui", "non-empty list"),
        ("datasets", {"datasets_in_gui": {"contains": True}}, "filter.datasets_in_gui", "string or number"),
        ("datasets", {"datasets_in_gui": None}, "filter.datasets_in_gui", "string or number"),
    ],
)
def test_values_must_fit_their_operator(target: str, filter: Any, field: str, reason: str) -> None:
    error = refused(target, filter)
    assert error.field == field
    assert reason in error.reason


@pytest.mark.parametrize(
    ("filter", "field", "reason"),
    [
        ([{"run_number": 1}], "filter", "JSON object"),
        ("run_number = 1", "filter", "JSON object"),
        ({"and": {"run_number": 1}}, "filter.and", "must be a list"),
        ({"or": [1]}, "filter.or[0]", "filter object"),
        ({"run_number": {"or": {"=": 1}}}, "filter.run_number", "must be a list"),
        ({"run_number": {}}, "filter.run_number", "at least one operator"),
        ({1: 2}, "filter", "keys must be strings"),
    ],
)
def test_malformed_structure_is_refused(filter: Any, field: str, reason: str) -> None:
    error = refused("runs", filter)
    assert error.field == field
    assert reason in error.reason


def test_depth_and_size_are_bounded() -> None:
    deep: dict[str, Any] = {"run_number": 1}
    for _ in range(filters.MAX_DEPTH + 1):
        deep = {"and": [deep]}
    assert "nested deeper" in refused("runs", deep).reason
    wide = {"run_number": {"or": list(range(filters.MAX_CONDITIONS + 1))}}
    assert "more than" in refused("runs", wide).reason


def test_an_unknown_target_is_a_programming_error() -> None:
    with pytest.raises(ValueError):
        filters.parse_filter({}, target="cycles")  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------------------
# Sortings and paging
# --------------------------------------------------------------------------------------------------
def test_sortings_use_the_filter_vocabulary() -> None:
    assert filters.parse_sortings(
        [["oms_attributes.energy", "DESC"], ("run_number", "asc")], target="runs"
    ) == (
        Sorting(ENERGY, True),
        Sorting(RUN, False),
    )
    assert filters.parse_sortings(None, target="datasets") == ()
    assert filters.parse_sortings([["rr_attributes.class", "ASC"]], target="datasets") == (
        Sorting(CLASS, False),
    )


@pytest.mark.parametrize(
    ("sortings", "field", "reason"),
    [
        ([["bogus", "ASC"]], "sortings.bogus", "unknown attribute"),
        ([["dt-dt", "ASC"]], "sortings.dt-dt", "unknown attribute"),
        ([["oms_attributes.a'b", "ASC"]], "sortings.oms_attributes.a'b", "not a valid key"),
        ([["run_number", "UP"]], "sortings[0]", "ASC or DESC"),
        ([["run_number"]], "sortings[0]", "pair"),
        (["run_number"], "sortings[0]", "pair"),
        ({"run_number": "ASC"}, "sortings", "list"),
        ([["run_number", "ASC"]] * 9, "sortings", "at most"),
    ],
)
def test_bad_sortings_are_refused(sortings: Any, field: str, reason: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        filters.parse_sortings(sortings, target="runs")
    assert caught.value.field == field
    assert reason in caught.value.reason


def test_sorting_on_the_gui_list_is_refused() -> None:
    with pytest.raises(InvalidInput, match="cannot sort"):
        filters.parse_sortings([["datasets_in_gui", "ASC"]], target="datasets")


@pytest.mark.parametrize(
    ("page", "page_size", "field"),
    [
        (-1, 50, "page"),
        (0, 0, "page_size"),
        (0, 10_001, "page_size"),
        (True, 5, "page"),
        (0, "50", "page_size"),
    ],
)
def test_paging_is_validated(page: Any, page_size: Any, field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        filters.select_runs({}, page=page, page_size=page_size)
    assert caught.value.field == field
    assert filters.check_paging(3, 10_000) == (3, 10_000)


# --------------------------------------------------------------------------------------------------
# SQL: values and keys travel as bound parameters on both dialects
# --------------------------------------------------------------------------------------------------
EVIL = "x'); DROP TABLE runs; --"


@pytest.mark.parametrize("dialect", [sqlite.dialect(), postgresql.psycopg.dialect()], ids=["sqlite", "pg"])
def test_user_values_and_keys_never_reach_the_sql_text(dialect: Any) -> None:
    rows, count, params, *_ = filters.select_datasets(
        {
            "or": [
                {"rr_attributes.class": EVIL},
                {"name": {"like": EVIL}},
                {"dataset_attributes.odd_key_name": {"notlike": EVIL}},
                {"datasets_in_gui": EVIL},
                {"triplet_summary.dt-dt.BAD": {">": 0}},
            ]
        },
        sortings=[["oms_attributes.other_odd_key", "ASC"]],
    )
    for query in (rows, count):
        compiled = query.compile(dialect=dialect)
        sql = str(compiled)
        assert "DROP" not in sql and "odd_key" not in sql and "dt-dt" not in sql
        assert {name for name in params if name in compiled.params} == {
            name for name in params if name.startswith("v")
        } | ({"page_limit", "page_offset"} if query is rows else set())
    assert EVIL in params.values()


SHAPES = [
    {},
    {"run_number": 5, "rr_attributes.significant": True},
    {"or": [{"run_number": {">": 2.5}}, {"ls_count": {"like": "1%"}}, {"rr_attributes.class": None}]},
    {"and": [{"oms_attributes.energy": {"<=": 6800}}, {"or": [{"rr_attributes.stop_reason": {"<>": None}}]}]},
    {"triplet_summary.dt-dt.BAD": {">": 0}, "oms_attributes.hlt_key": {"notlike": "%cosmic%"}},
]


@pytest.mark.parametrize("filter", SHAPES + [{"name": {"like": "%Prompt%"}, "datasets_in_gui": "a"}])
def test_a_filter_binds_its_values_in_the_order_filter_values_names_them(filter: Any) -> None:
    target = "datasets" if "name" in filter else "runs"
    node = filters.parse_filter(filter, target=target)
    binds = filters._Binds()
    filters._sql(node, filters._columns(target), binds)
    assert binds.values == list(filters.filter_values(node))


def test_filters_of_one_shape_share_a_statement_and_differ_in_their_values() -> None:
    first = filters.select_runs({"run_number": 1, "rr_attributes.class": "A"}, page=0, page_size=5)
    second = filters.select_runs({"run_number": 2, "rr_attributes.class": "B"}, page=3, page_size=5)
    assert first.rows is second.rows and first.total is second.total
    assert (first.params["v0"], first.params["v1"], first.params["page_offset"]) == (1, "A", 0)
    assert (second.params["v0"], second.params["v1"], second.params["page_offset"]) == (2, "B", 15)
    other_type = filters.select_runs({"run_number": 1, "rr_attributes.class": 7}, page=0, page_size=5)
    other_keys = filters.select_runs({"run_number": 1, "rr_attributes.stop_reason": "A"}, page=0, page_size=5)
    assert other_type.rows is not first.rows and other_keys.rows is not first.rows


def test_compiled_filters_name_the_joined_tables() -> None:
    where = filters.compile_filter({"triplet_summary.dt-dt.BAD": {">": 0}}, target="runs")
    assert "dataset_summaries.triplet_summary" in str(where.compile(dialect=sqlite.dialect()))
    rows, count, *_ = filters.select_runs({"run_number": 1})
    assert "dataset_summaries" in str(rows) and "LEFT OUTER JOIN" in str(rows)
    assert "dataset_summaries" not in str(count)  # a count only joins what the filter uses


def test_the_statement_cache_key_of_a_typed_json_read_includes_its_path_and_kind() -> None:
    from runreg.registry.tables import runs as runs_table

    def key(path: tuple[str, ...], kind: filters.JsonKind) -> Any:
        return filters.JsonScalar(runs_table.c.oms_attributes, path, kind)._generate_cache_key()

    assert key(("energy",), "number") == key(("energy",), "number")
    assert key(("energy",), "number") != key(("fill_number",), "number")
    assert key(("energy",), "number") != key(("energy",), "text")
