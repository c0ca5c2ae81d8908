"""The one place of input limits: text hygiene, storage integers, and the iterative JSON walk."""

from __future__ import annotations

import pytest

from runreg.kernel import limits
from runreg.kernel.errors import InvalidInput
from runreg.kernel.regex import compile_pattern


@pytest.mark.parametrize(
    "text, problem",
    [
        ("é, 😀 ok", None),
        ("a\x00b", "must not contain NUL characters"),
        ("a\ud800b", "lone surrogate (U+D800)"),
        ("\udfff", "lone surrogate (U+DFFF)"),
        ("x" * 11, "at most 10 characters, got 11"),
    ],
)
def test_text_problems_say_what_is_wrong(text: str, problem: str | None) -> None:
    found = limits.text_problem(text, 10)
    assert (found is None) if problem is None else (problem in found)


@pytest.mark.parametrize("value", [2**31, -(2**31) - 1, 2**64])
def test_integers_beyond_int32_are_refused_naming_the_field(value: int) -> None:
    with pytest.raises(InvalidInput, match="between -2147483648 and 2147483647") as refused:
        limits.check_ids(run_number=value)
    assert refused.value.field == "run_number"


def test_int32_bounds_themselves_pass() -> None:
    limits.check_ids(a=2**31 - 1, b=-(2**31), c=None)


def test_the_walk_reports_the_path_of_the_first_problem_in_document_order() -> None:
    document = {"runs": [1, 2, {"comment": "ok"}, {"comment": "bad\x00"}], "later": "\x00"}
    assert limits.json_problem(document) == (("runs", 3, "comment"), "must not contain NUL characters")
    with pytest.raises(InvalidInput) as refused:
        limits.check_json("body", document)
    assert refused.value.field == "body.runs[3].comment"


def test_the_walk_checks_keys_and_64_bit_integers() -> None:
    assert limits.json_problem({"k\ud800": 1})[1].startswith("key must not contain a lone surrogate")
    assert limits.json_problem([2**63 - 1]) is None
    assert limits.json_problem([2**63]) == ((0,), "integers must fit in 64 bits")


def test_the_walk_bounds_depth_without_recursion() -> None:
    deep: list = []
    for _ in range(200_000):  # far beyond the interpreter's recursion limit
        deep = [deep]
    path, reason = limits.json_problem(deep)
    assert reason == f"nested deeper than {limits.MAX_JSON_DEPTH} levels"
    assert path == (0,) * limits.MAX_JSON_DEPTH


def test_the_walk_stops_at_the_node_limit_on_a_shared_structure() -> None:
    """Aliases make a small object graph that expands to 10**12 values: the walk stops at the limit."""
    level: list = ["lol"] * 10
    for _ in range(11):
        level = [level] * 10
    assert limits.json_problem(level, max_nodes=1000)[1] == "more than 1000 values"


def test_a_self_referencing_structure_is_refused_by_depth() -> None:
    loop: list = []
    loop.append(loop)
    assert "nested deeper" in limits.json_problem(loop)[1]


def test_decode_json_meets_deep_nesting_with_a_400_not_a_recursion_error() -> None:
    with pytest.raises(InvalidInput, match="nested deeper") as refused:
        limits.parse_json("filter", "[" * 100_000 + "]" * 100_000)
    assert refused.value.field == "filter"
    with pytest.raises(InvalidInput, match="not valid JSON"):
        limits.parse_json("filter", "{")


def test_re2_refuses_what_it_cannot_run_in_linear_time_and_runs_the_rest() -> None:
    with pytest.raises(InvalidInput, match="RE2 syntax") as backreference:
        compile_pattern("regexp", r"(a)\1")
    assert backreference.value.field == "regexp"
    # Catastrophic for a backtracking engine (2**60 paths), a plain scan for RE2.
    assert compile_pattern("regexp", "(a|a)*b").fullmatch("a" * 60) is None
    assert compile_pattern("regexp", "(a|a)*b").fullmatch("a" * 60 + "b") is not None
    assert compile_pattern("regexp", "x") is compile_pattern("regexp", "x")  # compiled once
