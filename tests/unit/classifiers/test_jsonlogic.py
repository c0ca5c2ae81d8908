"""runreg's JSON-logic evaluator behaves exactly like json-logic-js 2.0.5, checked against the real thing."""

from __future__ import annotations

import copy
import json
import math
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from runreg.classifiers.jsonlogic import (
    OPERATORS,
    InvalidRule,
    compile_failing_leaves,
    compile_predicate,
    compile_rule,
    evaluate,
    failing_leaves,
    has_dynamic_vars,
    trace,
    truthy,
    validate,
    variables,
)
from runreg.kernel.errors import InvalidInput
from tests.profiles import scaled

REPO_ROOT = Path(__file__).resolve().parents[3]
ORACLE_SCRIPT = Path(__file__).with_name("jsonlogic_oracle.js")
REFERENCE_MODULE = REPO_ROOT / "tools" / "jsonlogic-js" / "node_modules" / "json-logic-js"

ERROR = object()  # the expected outcome where json-logic-js throws

# ----------------------------------------------------------------------------------------------------
# CMS rules and contexts (spec §4.6, §6.8)
# ----------------------------------------------------------------------------------------------------

RR_GOOD = [
    "l1t-l1tmu",
    "l1t-l1tcalo",
    "hlt-hlt",
    "tracker-pixel",
    "tracker-strip",
    "tracker-track",
    "ecal-ecal",
    "ecal-es",
    "egamma-egamma",
    "hcal-hcal",
    "muon-muon",
    "jetmet-jetmet",
    "lumi-lumi",
]
DCS_PARTS = ["bpix", "fpix", "tibtid", "tecm", "tecp", "tob", "ebm", "ebp", "eem", "eep", "esm", "esp"]
DCS_PARTS += ["hbhea", "hbheb", "hbhec", "hf", "ho", "dtm", "dtp", "dt0", "cscm", "cscp", "rpc"]
DCS_BITS = ["cms_active"] + [f"{part}_ready" for part in DCS_PARTS]
BEAM_BITS = ["beam1_present", "beam2_present", "beam1_stable", "beam2_stable"]

GOLDEN_2018 = {
    "and": [
        {">=": [{"var": "run.oms.energy"}, 6000]},
        {"<=": [{"var": "run.oms.energy"}, 7000]},
        {">=": [{"var": "run.oms.b_field"}, 3.7]},
        {"in": ["25ns", {"var": "run.oms.injection_scheme"}]},
        {"==": [{"in": ["WMass", {"var": "run.oms.hlt_key"}]}, False]},
        {">=": [{"var": "run.oms.recorded_lumi"}, 0.08]},
        *({"==": [{"var": f"lumisection.rr.{c}"}, "GOOD"]} for c in RR_GOOD),
        {"==": [{"var": "lumisection.rr.dc-lowlumi"}, "BAD"]},
        *({"==": [{"var": f"lumisection.oms.{bit}"}, True]} for bit in DCS_BITS + BEAM_BITS),
    ]
}


def golden_context(**changes: Any) -> dict[str, Any]:
    """One LS of a good 2018 collision run as §6.8 builds it; ``changes`` maps dotted paths to new values."""
    ctx: dict[str, Any] = {
        "dataset": {"name": "/PromptReco/Collisions2018A/DQM", "global_state": "COMPLETED"},
        "run": {
            "oms": {
                "energy": 6500,
                "b_field": 3.8,
                "injection_scheme": "25ns_2556b_2544_2215_2332_144bpi_20injV2",
                "hlt_key": "/cdaq/physics/Run2018/2e34/v3.6.1/HLT/V2",
                "recorded_lumi": 152.3,
            },
            "rr": {"class": "Collisions18", "significant": True},
            "run_number": 316187,
        },
        "lumisection": {
            "lumisection_number": 42,
            "oms": {bit: True for bit in DCS_BITS + BEAM_BITS} | {"recorded": 0.031, "delivered": 0.033},
            "rr": {c: "GOOD" for c in RR_GOOD} | {"dt-dt": "GOOD", "dc-lowlumi": "BAD"},
        },
    }
    for dotted, value in changes.items():
        *parents, last = dotted.split(".")
        node = ctx
        for key in parents:
            node = node[key]
        node[last] = value
    return ctx


GEM_GOOD = {
    "and": [
        {"var": "gem_included"},
        {"and": [{"==": [{"var": "gemp_ready"}, True]}, {"==": [{"var": "gemm_ready"}, True]}]},
    ]
}
GEM_BAD = {
    "and": [
        {"var": "gem_included"},
        {"or": [{"==": [{"var": "gemp_ready"}, False]}, {"==": [{"var": "gemm_ready"}, False]}]},
    ]
}
CLASS_COLLISIONS = {
    "if": [
        {
            "and": [
                {"in": ["/cdaq/physics/Run2018", {"var": "hlt_key"}]},
                {"==": [{"var": "beams_present_and_stable"}, True]},
            ]
        },
        True,
        False,
    ]
}
PROMPT_DATASET = {"if": [{"and": [{"in": ["Prompt", {"var": "name"}]}]}, True, False]}

# ----------------------------------------------------------------------------------------------------
# The behaviour table: (rule, data, expected). Every expectation is also checked against json-logic-js below.
# ----------------------------------------------------------------------------------------------------

CMS_CASES = [
    pytest.param(GOLDEN_2018, golden_context(), True, id="golden-good-ls"),
    pytest.param(
        GOLDEN_2018, golden_context(**{"lumisection.oms.cms_active": None}), False, id="golden-null-dcs"
    ),
    pytest.param(
        GOLDEN_2018, golden_context(**{"lumisection.rr.hlt-hlt": "BAD"}), False, id="golden-bad-hlt"
    ),
    pytest.param(
        GOLDEN_2018, golden_context(**{"lumisection.rr.dc-lowlumi": "GOOD"}), False, id="golden-lowlumi"
    ),
    pytest.param(GOLDEN_2018, golden_context(**{"run.oms.energy": 2510}), False, id="golden-energy"),
    pytest.param(
        GOLDEN_2018, golden_context(**{"run.oms.hlt_key": "/cdaq/WMass/v1"}), False, id="golden-wmass"
    ),
    pytest.param(GOLDEN_2018, golden_context(**{"run.oms.hlt_key": None}), True, id="golden-null-hltkey"),
    pytest.param(
        GOLDEN_2018, golden_context(**{"run.oms.injection_scheme": None}), False, id="golden-no-scheme"
    ),
    pytest.param(GOLDEN_2018, golden_context(**{"run.oms.energy": "6500"}), True, id="golden-string-energy"),
    pytest.param(GOLDEN_2018, golden_context(**{"run.oms.b_field": None}), False, id="golden-null-bfield"),
    pytest.param(GOLDEN_2018, {}, False, id="golden-empty-context"),
    pytest.param({"==": [{"var": "lumisection.rr.dt-dt"}, "GOOD"]}, golden_context(), True, id="ls-copy-dt"),
    pytest.param({"var": "lumisection.rr.csc-csc"}, golden_context(), None, id="ls-absent-component"),
    pytest.param(
        GEM_GOOD, {"gem_included": True, "gemp_ready": True, "gemm_ready": True}, True, id="gem-good"
    ),
    pytest.param(
        GEM_BAD, {"gem_included": True, "gemp_ready": True, "gemm_ready": True}, False, id="gem-good-bad"
    ),
    pytest.param(
        GEM_GOOD, {"gem_included": True, "gemp_ready": False, "gemm_ready": True}, False, id="gem-p-off"
    ),
    pytest.param(
        GEM_BAD, {"gem_included": True, "gemp_ready": False, "gemm_ready": True}, True, id="gem-p-off-bad"
    ),
    # A null DCS bit is neither true nor false: the LS stays NO VALUE FOUND.
    pytest.param(
        GEM_GOOD, {"gem_included": True, "gemp_ready": None, "gemm_ready": True}, False, id="gem-null"
    ),
    pytest.param(
        GEM_BAD, {"gem_included": True, "gemp_ready": None, "gemm_ready": True}, False, id="gem-null-bad"
    ),
    pytest.param(
        GEM_GOOD, {"gem_included": None, "gemp_ready": True, "gemm_ready": True}, None, id="gem-not-incl"
    ),
    pytest.param(GEM_GOOD, {"gemp_ready": True, "gemm_ready": True}, None, id="gem-included-missing"),
    pytest.param(
        GEM_GOOD, {"gem_included": 1, "gemp_ready": 1, "gemm_ready": "1"}, True, id="gem-loose-bits"
    ),
    pytest.param(
        CLASS_COLLISIONS,
        {"hlt_key": "/cdaq/physics/Run2018/2e34/v3.6.1/HLT/V2", "beams_present_and_stable": True},
        True,
        id="class-collisions",
    ),
    pytest.param(
        CLASS_COLLISIONS,
        {"hlt_key": "/cdaq/special/2019/MWGR1/cosmics", "beams_present_and_stable": False},
        False,
        id="class-cosmics",
    ),
    pytest.param(CLASS_COLLISIONS, {"hlt_key": None}, False, id="class-null-hltkey"),
    pytest.param(PROMPT_DATASET, {"name": "/PromptReco/Collisions2018A/DQM"}, True, id="dataset-prompt"),
    pytest.param(PROMPT_DATASET, {"name": "/Express/Collisions2018A/DQM"}, False, id="dataset-express"),
    pytest.param(PROMPT_DATASET, {"name": None}, False, id="dataset-null-name"),
    pytest.param(PROMPT_DATASET, {}, False, id="dataset-no-name"),
]

EDGE_CASES = [
    # Loose equality
    ({"==": ["", 0]}, {}, True),
    ({"==": [None, 0]}, {}, False),
    ({"==": [None, False]}, {}, False),
    ({"==": ["1", True]}, {}, True),
    ({"==": ["0", False]}, {}, True),
    ({"==": [[0], False]}, {}, True),
    ({"==": [[], ""]}, {}, True),
    ({"==": [[None], ""]}, {}, True),
    ({"==": ["\n 1 \t", 1]}, {}, True),
    ({"==": ["0x1f", 31]}, {}, True),
    ({"==": [{"var": "o"}, "[object Object]"]}, {"o": {}}, True),
    ({"==": [{"var": "missing"}, None]}, {}, True),
    ({"==": [{"and": []}, None]}, {}, True),  # undefined == null
    ({"==": [1, 1, {"bogus": 1}]}, {}, ERROR),  # extra arguments are still evaluated
    ({"!=": ["a", "A"]}, {}, True),
    ({"!=": [0, False]}, {}, False),
    # Strict equality: no coercion, arrays only equal themselves
    ({"===": [1, 1.0]}, {}, True),
    ({"===": ["1", 1]}, {}, False),
    ({"===": [None, {"var": "missing"}]}, {}, True),
    ({"===": [[1], [1]]}, {}, False),
    ({"===": [{"var": "a"}, {"var": "a"}]}, {"a": [1]}, True),
    ({"!==": [1, "1"]}, {}, True),
    # Truthiness
    ({"!!": [[]]}, {}, False),
    ({"!!": [{"var": "o"}]}, {"o": {}}, True),
    ({"!!": ["0"]}, {}, True),
    ({"!!": [0.0]}, {}, False),
    ({"!": []}, {}, True),
    ({"!": [[]]}, {}, True),
    ({"!": {"var": "a"}}, {"a": 0}, True),
    # and / or / if: short circuit, return the deciding value
    ({"and": []}, {}, None),
    ({"or": []}, {}, None),
    ({"and": [1, "", 2]}, {}, ""),
    ({"and": [1, "x"]}, {}, "x"),
    ({"or": [0, [], "x"]}, {}, "x"),
    ({"or": [0, None]}, {}, None),
    ({"and": True}, {}, True),
    ({"and": [False, {"bogus": 1}]}, {}, False),
    ({"if": []}, {}, None),
    ({"if": [False]}, {}, False),
    ({"if": [False, 1]}, {}, None),
    ({"if": [[], 1, 2]}, {}, 2),
    ({"if": [True, 1, {"bogus": 1}]}, {}, 1),
    ({"?:": [0, 1, "", 2, 3]}, {}, 3),
    ({"if": True}, {}, True),
    # Relational: strings as strings (UTF-16 order), the rest as numbers, NaN is false, 3-arg between
    ({"<": [None, 1]}, {}, True),
    ({"<=": [None, 0]}, {}, True),
    ({"<": [{"var": "missing"}, 1]}, {}, True),  # var without default gives null, not undefined
    ({">=": [{"and": []}, 0]}, {}, False),
    ({"<": ["10", "9"]}, {}, True),
    ({"<": ["10", 9]}, {}, False),
    ({"<": [[2], 10]}, {}, True),
    ({"<": [[2], "10"]}, {}, False),
    ({"<": ["abc", 1]}, {}, False),
    ({">=": ["abc", 1]}, {}, False),
    ({"<": ["😀", "\uff5e"]}, {}, True),
    ({"<=": ["\uff5e", "😀"]}, {}, False),
    ({"<": [1, 2, 3]}, {}, True),
    ({"<": [1, 3, 3]}, {}, False),
    ({"<=": [1, 3, 3]}, {}, True),
    ({"<": [1, 2, {"and": []}]}, {}, True),  # an undefined third argument means "no third argument"
    ({">": [2, 1, 0]}, {}, True),  # ">" ignores a third argument
    ({">": [True, 0]}, {}, True),
    # Arithmetic: + and * use parseFloat, - / % use Number()
    ({"+": ["12abc", " 3"]}, {}, 15),
    ({"+": ["1e", "-.5"]}, {}, 0.5),
    ({"+": ["0x10"]}, {}, 0),
    ({"+": []}, {}, 0),
    ({"+": [True]}, {}, None),  # NaN
    ({"*": ["2"]}, {}, "2"),  # one argument comes back untouched
    ({"*": ["2", "3x"]}, {}, 6),
    ({"*": []}, {}, ERROR),
    ({"-": ["0x10"]}, {}, -16),
    ({"-": ["0b11", " 1 "]}, {}, 2),
    ({"-": ["-0x10"]}, {}, None),
    ({"-": [[], [5]]}, {}, -5),
    ({"-": [True, None]}, {}, 1),
    ({"/": [1, 0]}, {}, None),  # Infinity
    ({"<": [{"/": [1, {"-": [0]}]}, 0]}, {}, True),  # 1 / -0 is -Infinity
    ({"/": [7, 2]}, {}, 3.5),
    ({"%": [-7, 2]}, {}, -1),
    ({"%": [5, 0]}, {}, None),
    ({"%": [5.5, 2]}, {}, 1.5),
    ({"min": []}, {}, None),
    ({"max": ["3", [4], None]}, {}, 4),
    ({"max": [1, "x"]}, {}, None),
    ({"min": [3, "-1", False]}, {}, -1),
    # Strings
    (
        {"cat": [1.0, 0.5, 1e21, 1e-7, -0.0, None, True, [1, [2, None]], {}]},
        {},
        "10.51e+211e-70true1,2,[object Object]",
    ),
    ({"cat": [{"/": [1, 3]}]}, {}, "0.3333333333333333"),
    ({"substr": ["jsonlogic", 4]}, {}, "logic"),
    ({"substr": ["jsonlogic", -5]}, {}, "logic"),
    ({"substr": ["jsonlogic", 1, 3]}, {}, "son"),
    ({"substr": ["jsonlogic", 4, -2]}, {}, "log"),
    ({"substr": ["jsonlogic", 0, "-2"]}, {}, ""),  # `temp.length + end` concatenates a string end
    ({"substr": ["a😀b", 1, 2]}, {}, "😀"),
    ({"substr": []}, {}, "undefined"),
    ({"substr": [12345, "1", "2.9"]}, {}, "23"),
    # in: substring for strings (needle stringified), strict membership for arrays, false otherwise
    ({"in": ["Spring", "Springfield"]}, {}, True),
    ({"in": [None, "xnullx"]}, {}, True),
    ({"in": [1, "a1"]}, {}, True),
    ({"in": ["", ""]}, {}, False),
    ({"in": ["", "a"]}, {}, True),
    ({"in": ["", {"var": "s"}]}, {"s": ""}, False),
    ({"in": ["a", {"var": "missing"}]}, {}, False),
    ({"in": ["a", 0]}, {}, False),
    ({"in": ["a", {"var": "o"}]}, {"o": {"a": 1}}, False),
    ({"in": ["a", {"var": "o"}]}, {"o": {"indexOf": 1}}, ERROR),
    ({"in": ["1", [1, 2]]}, {}, False),
    ({"in": [{"var": "n"}, [1, 2]]}, {"n": 1.0}, True),
    ({"in": [{"var": "o"}, [{"var": "o"}]]}, {"o": [1]}, True),
    ({"in": [{"var": "o"}, [[1]]]}, {"o": [1]}, False),
    ({"in": [{"var": "k"}, ["GOOD", "STANDBY"]]}, {"k": "STANDBY"}, True),
    ({"in": [{"var": "k"}, ["GOOD", "STANDBY"]]}, {"k": None}, False),
    # var
    ({"var": "a.b.c"}, {"a": {"b": {"c": 1}}}, 1),
    ({"var": ["a", 5]}, {"a": None}, None),  # present-but-null wins over the default
    ({"var": ["a.b", 5]}, {"a": None}, 5),
    ({"var": ["a", 5]}, {"a": False}, False),
    ({"var": ["a", 5]}, {}, 5),
    ({"var": ["a", {"and": []}]}, {}, None),  # an undefined default is null
    ({"var": ["", 5]}, {"a": 1}, {"a": 1}),
    ({"var": []}, [1], [1]),
    ({"var": ""}, None, None),
    ({"var": "0"}, ["z"], "z"),
    ({"var": 1}, ["y", "z"], "z"),
    ({"var": "arr.1"}, {"arr": [10, 20]}, 20),
    ({"var": "arr.01"}, {"arr": [10, 20]}, None),
    ({"var": "arr.length"}, {"arr": [10, 20]}, 2),
    ({"var": "s.length"}, {"s": "a😀"}, 3),
    ({"var": "s.0"}, {"s": "xyz"}, "x"),
    ({"var": "n.x"}, {"n": 7}, None),
    ({"var": 1.5}, {"1": {"5": "x"}}, "x"),
    ({"var": True}, {"true": 1}, 1),
    ({"var": [["a", "b"]]}, {"a,b": 2}, 2),
    ({"var": {"cat": ["run.", {"var": "k"}]}}, {"k": "x", "run": {"x": 9}}, 9),
    # missing / missing_some
    ({"missing": ["a", "b", "c"]}, {"a": None, "b": "", "c": 0}, ["a", "b"]),
    ({"missing": [["a", "b"], "c"]}, {}, ["a", "b"]),  # an array first argument hides the rest
    ({"missing": [{"merge": ["a", ["b"]]}]}, {"b": 1}, ["a"]),
    ({"missing_some": [1, ["a", "b"]]}, {"a": 1}, []),
    ({"missing_some": [2, ["a", "b", "c"]]}, {"a": 1}, ["b", "c"]),
    ({"missing_some": ["1", ["a"]]}, {}, ["a"]),
    ({"missing_some": [1, None]}, {}, ERROR),
    # merge and the array operations
    ({"merge": [1, [2, [3]], None, "ab"]}, {}, [1, 2, [3], None, "ab"]),
    ({"map": [{"var": "a"}, {"*": [{"var": ""}, 2]}]}, {"a": [1, 2]}, [2, 4]),
    ({"map": [[1, 2]]}, {}, [None, None]),
    ({"map": ["abc", 1]}, {}, []),
    ({"filter": [{"var": "a"}, {">": [{"var": ""}, 1]}]}, {"a": [1, 2, 3]}, [2, 3]),
    ({"reduce": [[1, 2, 3], {"+": [{"var": "current"}, {"var": "accumulator"}]}, 0]}, {}, 6),
    (
        {"reduce": [[1, 2], {"var": ""}]},
        {},
        {"current": 2, "accumulator": {"current": 1, "accumulator": None}},
    ),
    ({"reduce": ["x", 1, 7]}, {}, 7),
    ({"all": [[], True]}, {}, False),
    ({"all": [[1, []], {"var": ""}]}, {}, False),
    ({"none": [[], True]}, {}, True),
    ({"some": [[0, ""], {"var": ""}]}, {}, False),
    ({"some": [{"var": "xs"}, {"==": [{"var": "s"}, "BAD"]}]}, {"xs": [{"s": "GOOD"}, {"s": "BAD"}]}, True),
    # Data literals, arrays of rules, log, unknown operators
    ({"a": 1, "b": 2}, {}, {"a": 1, "b": 2}),
    ({}, {}, {}),
    ([{"var": "a"}, 1], {"a": 2}, [2, 1]),
    ({"log": [[1, {"and": []}]]}, {}, [1, None]),
    ({"bogus": 1}, {}, ERROR),
    ({"var.x": 1}, {}, ERROR),
    (True, {}, True),
    ("GOOD", {}, "GOOD"),
]

ALL_CASES = CMS_CASES + [pytest.param(*case, id=f"edge{i}") for i, case in enumerate(EDGE_CASES)]


def same_json(a: Any, b: Any) -> bool:
    """Equality of JSON values that, unlike ==, does not confuse true with 1."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same_json(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same_json(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


def as_json(value: Any) -> Any:
    """What JSON.stringify makes of a result: NaN and the infinities become null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, list | tuple):
        return [as_json(x) for x in value]
    if isinstance(value, dict):
        return {k: as_json(x) for k, x in value.items()}
    return value


def outcome(fn: Any, *args: Any) -> Any:
    try:
        return as_json(fn(*args))
    except InvalidRule:
        return ERROR


# ----------------------------------------------------------------------------------------------------
# Behaviour table
# ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("rule", "data", "expected"), ALL_CASES)
def test_evaluate_matches_json_logic_js_behaviour(rule: Any, data: Any, expected: Any) -> None:
    got = outcome(evaluate, rule, data)
    assert got is ERROR if expected is ERROR else same_json(got, expected), (got, expected)


@pytest.mark.parametrize(("rule", "data", "expected"), ALL_CASES)
def test_compiled_rule_gives_what_evaluate_gives(rule: Any, data: Any, expected: Any) -> None:
    interpreted = outcome(evaluate, rule, data)
    compiled = outcome(compile_rule(rule), data)
    assert compiled is ERROR if interpreted is ERROR else same_json(compiled, interpreted)
    if interpreted is not ERROR:
        assert compile_predicate(rule)(data) is truthy(evaluate(rule, data))


def test_evaluate_leaves_rule_and_data_untouched() -> None:
    rule, data = copy.deepcopy(GOLDEN_2018), golden_context()
    evaluate(rule, data)
    compile_rule(rule)(data)
    failing_leaves(rule, data)
    trace(rule, data)
    assert rule == GOLDEN_2018
    assert data == golden_context()


def test_truthy_follows_json_logic() -> None:
    assert [truthy(v) for v in ([], [0], {}, "", "0", 0, 0.0, -0.0, math.nan, None, False, 1)] == [
        False,
        True,
        True,
        False,
        True,
        False,
        False,
        False,
        False,
        False,
        False,
        True,
    ]


def test_runtime_errors_name_the_failing_node() -> None:
    rule = {"and": [True, {"or": [False, {"*": []}]}]}
    with pytest.raises(InvalidRule, match=r"^rule/and/1/or/1: Reduce of empty array"):
        evaluate(rule, {})
    with pytest.raises(InvalidRule, match=r"^rule/and/1/or/1: Reduce of empty array"):
        compile_rule(rule)({})
    with pytest.raises(InvalidRule, match=r'^rule/if/0: unknown operator "bogus"'):
        evaluate({"if": [{"bogus": [1]}, 1, 2]})


# ----------------------------------------------------------------------------------------------------
# validate, variables
# ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "rule",
    [GOLDEN_2018, GEM_GOOD, GEM_BAD, CLASS_COLLISIONS, PROMPT_DATASET, True, {"var": ""}, {"var": []}]
    + [
        {"some": [{"var": "xs"}, {"==": [{"var": "s"}, "BAD"]}]},
        {"missing": [["a", "b"]]},
        {"missing_some": [1, ["a", "b"]]},
        {"var": {"cat": ["run.", {"var": "k"}]}},
        {"in": [{"var": "k"}, ["GOOD", "STANDBY"]]},
        {"==": [{"var": "o"}, {"a": 1, "b": [{"c": 1}]}]},
    ],
)
def test_validate_accepts_well_formed_rules(rule: Any) -> None:
    assert validate(rule) is None
    # Accepted means usable: it compiles, and evaluates like the interpreter on the golden context.
    context = golden_context() | {"xs": [{"s": "BAD"}], "k": "GOOD", "o": {"a": 1, "b": [{"c": 1}]}}
    interpreted = outcome(evaluate, rule, context)
    assert interpreted is not ERROR
    assert same_json(outcome(compile_rule(rule), context), interpreted)


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ({"and": [True, True, True, {"=": [1, 1]}]}, 'rule/and/3: unknown operator "="'),
        ({"and": [True, True, True, {"==": [{"=x": 1}, 1]}]}, 'rule/and/3/==/0: unknown operator "=x"'),
        ({"var.x": 1}, 'rule: unknown operator "var.x"'),
        ({"==": [1, 2, 3]}, 'rule/==: "==" takes 2 arguments, got 3'),
        ({"!": [1, 2]}, 'rule/!: "!" takes 1 argument, got 2'),
        ({"<": [1]}, 'rule/<: "<" takes 2 or 3 arguments, got 1'),
        ({"and": []}, 'rule/and: "and" takes at least 1 argument, got 0'),
        ({"*": []}, 'rule/*: "*" takes at least 1 argument, got 0'),
        ({"or": [{"var": True}]}, "rule/or/0/var: var path must be a string, an integer or a rule, got true"),
        ({"var": [["a"], 1]}, 'rule/var/0: var path must be a string, an integer or a rule, got ["a"]'),
        ({"var": [1.5]}, "rule/var/0: var path must be a string, an integer or a rule, got 1.5"),
        ({"var": ["a", 1, 2]}, 'rule/var: "var" takes 0 to 2 arguments, got 3'),
        ({"missing": [["a", None]]}, 'rule/missing/0/1: "missing" keys must be strings'),
        ({"missing": [["a"], "b"]}, 'rule/missing: "missing" with an array of keys ignores further'),
        ({"missing_some": [1, None]}, 'rule/missing_some/1: "missing_some" needs an array of keys, got null'),
        ({"missing_some": ["1", ["a"]]}, 'rule/missing_some/0: "missing_some" needs a count first, got "1"'),
        ({"/": [1, {"a/b": 2}]}, 'rule/~1/1: unknown operator "a/b"'),
        ([1, {"x": 1}], 'rule/1: unknown operator "x"'),
        ({"==": [{"var": "x"}, {"a": math.nan, "b": 1}]}, "rule/==/1/a: not a JSON value: nan"),
    ],
)
def test_validate_names_the_offending_node(rule: Any, message: str) -> None:
    with pytest.raises(InvalidRule) as caught:
        validate(rule)
    assert str(caught.value).startswith(message), str(caught.value)
    assert isinstance(caught.value, InvalidInput)
    assert caught.value.field == "rule"
    assert caught.value.details["path"] == message.split(":")[0]


def test_variables_of_the_golden_rule() -> None:
    expected = {
        "run.oms.energy",
        "run.oms.b_field",
        "run.oms.injection_scheme",
        "run.oms.hlt_key",
        "run.oms.recorded_lumi",
        "lumisection.rr.dc-lowlumi",
        *(f"lumisection.rr.{c}" for c in RR_GOOD),
        *(f"lumisection.oms.{bit}" for bit in DCS_BITS + BEAM_BITS),
    }
    assert variables(GOLDEN_2018) == expected
    assert not has_dynamic_vars(GOLDEN_2018)


def test_variables_skip_scoped_and_computed_paths() -> None:
    rule = {
        "and": [
            {"some": [{"var": "lumisections"}, {"==": [{"var": "status"}, "BAD"]}]},
            {"var": ["run.a", {"var": "run.fallback"}]},
            {"missing": ["x", 1]},
            {"missing_some": [1, ["y", "z"]]},
        ]
    }
    assert variables(rule) == {"lumisections", "run.a", "run.fallback", "x", "1", "y", "z"}
    assert not has_dynamic_vars(rule)
    assert variables({"var": {"cat": ["run.", {"var": "k"}]}}) == {"k"}
    assert has_dynamic_vars({"var": {"cat": ["run.", {"var": "k"}]}})
    assert has_dynamic_vars({"!!": {"var": ""}})
    assert has_dynamic_vars({"missing": [{"var": "keys"}]})
    assert not has_dynamic_vars({"map": [{"var": "xs"}, {"var": ""}]})


@pytest.mark.parametrize("op", sorted(OPERATORS))
def test_validate_knows_every_operator_evaluate_knows(op: str) -> None:
    try:
        validate({op: [1]})
    except InvalidRule as error:
        assert "unknown operator" not in str(error)


# ----------------------------------------------------------------------------------------------------
# Explaining false results (spec §4.6 trace, §6.8 diagnostics)
# ----------------------------------------------------------------------------------------------------


def test_failing_leaves_of_a_golden_ls_with_two_culprits() -> None:
    ctx = golden_context(**{"lumisection.rr.tracker-strip": "BAD", "lumisection.oms.hbhea_ready": None})
    leaves = failing_leaves(GOLDEN_2018, ctx)
    assert leaves == [
        {"==": [{"var": "lumisection.rr.tracker-strip"}, "GOOD"]},
        {"==": [{"var": "lumisection.oms.hbhea_ready"}, True]},
    ]
    assert all(any(leaf is child for child in GOLDEN_2018["and"]) for leaf in leaves)
    assert failing_leaves(GOLDEN_2018, golden_context()) == []
    assert compile_failing_leaves(GOLDEN_2018)(ctx) == leaves


def test_failing_leaves_recurse_into_false_and_or() -> None:
    gem = {"gem_included": True, "gemp_ready": False, "gemm_ready": None}
    assert failing_leaves(GEM_GOOD, gem) == [
        {"==": [{"var": "gemp_ready"}, True]},
        {"==": [{"var": "gemm_ready"}, True]},
    ]
    # A false `or` blames every child; a true `or` blames none.
    assert failing_leaves(GEM_BAD, {"gem_included": True, "gemp_ready": None, "gemm_ready": True}) == [
        {"==": [{"var": "gemp_ready"}, False]},
        {"==": [{"var": "gemm_ready"}, False]},
    ]
    assert failing_leaves(GEM_BAD, {"gem_included": None, "gemp_ready": False}) == [{"var": "gem_included"}]
    assert failing_leaves(PROMPT_DATASET, {"name": "/Express"}) == [PROMPT_DATASET]  # `if` is a leaf
    assert failing_leaves({"and": []}, {}) == [{"and": []}]


def test_trace_replaces_and_or_children_with_their_traces() -> None:
    gem = {"gem_included": True, "gemp_ready": True, "gemm_ready": None}
    assert trace(GEM_GOOD, gem) == [
        {
            "and": [
                [{"var": "gem_included"}, {"resulted_value": True}],
                [
                    {
                        "and": [
                            [{"==": [{"var": "gemp_ready"}, True]}, {"resulted_value": True}],
                            [{"==": [{"var": "gemm_ready"}, True]}, {"resulted_value": False}],
                        ]
                    },
                    {"resulted_value": False},
                ],
            ]
        },
        {"resulted_value": False},
    ]
    assert trace(PROMPT_DATASET, {"name": "/PromptReco/x"}) == [PROMPT_DATASET, {"resulted_value": True}]


# ----------------------------------------------------------------------------------------------------
# Differential test against json-logic-js itself
# ----------------------------------------------------------------------------------------------------


class Oracle:
    """One node process running json-logic-js; answers {"result": ...} or {"error": ...} per request."""

    def __init__(self) -> None:
        node = shutil.which("node")
        if node is None:
            pytest.fail("node is not on PATH: the differential test needs it to run json-logic-js")
        if not (REFERENCE_MODULE / "logic.js").is_file():
            pytest.fail(
                f"{REFERENCE_MODULE} is missing: run `npm ci` in tools/jsonlogic-js (make install does)"
            )
        self._stderr = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 - lives as long as node
        self._proc = subprocess.Popen(
            [node, str(ORACLE_SCRIPT)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            text=True,
            encoding="utf-8",
        )
        hello = self._read()
        if hello.get("ready") != "2.0.5":
            pytest.fail(f"the json-logic-js oracle did not start as version 2.0.5: {hello}")

    def _read(self) -> dict[str, Any]:
        assert self._proc.stdout is not None
        line = self._proc.stdout.readline()
        if not line:
            self._stderr.seek(0)
            pytest.fail(f"the json-logic-js oracle died: {self._stderr.read()[-2000:]}")
        return json.loads(line)  # type: ignore[no-any-return]

    def apply_many(self, cases: list[tuple[Any, Any]]) -> list[Any]:
        """json-logic-js results for (rule, data) pairs, ERROR where it throws."""
        assert self._proc.stdin is not None
        answers: list[Any] = []
        # Small chunks: the pipes must not fill up while we are still writing.
        for start in range(0, len(cases), 100):
            chunk = cases[start : start + 100]
            self._proc.stdin.write("".join(json.dumps({"rule": r, "data": d}) + "\n" for r, d in chunk))
            self._proc.stdin.flush()
            for _ in chunk:
                answer = self._read()
                answers.append(ERROR if "error" in answer else answer.get("result"))
        return answers

    def close(self) -> None:
        assert self._proc.stdin is not None
        self._proc.stdin.close()
        self._proc.wait(timeout=10)
        self._stderr.close()


@pytest.fixture(scope="session")
def oracle() -> Iterator[Oracle]:
    reference = Oracle()
    yield reference
    reference.close()


def assert_agrees(oracle: Oracle, cases: list[tuple[Any, Any]]) -> None:
    expected = oracle.apply_many(cases)
    for (rule, data), js in zip(cases, expected, strict=True):
        for name, got in (
            ("evaluate", outcome(evaluate, rule, data)),
            ("compile_rule", outcome(compile_rule(rule), data)),
        ):
            ok = got is ERROR if js is ERROR else got is not ERROR and same_json(got, js)
            assert ok, f"{name}({json.dumps(rule)}, {json.dumps(data)}) = {got!r}; json-logic-js says {js!r}"


def test_behaviour_table_is_what_json_logic_js_does(oracle: Oracle) -> None:
    cases = [(p.values[0], p.values[1]) for p in ALL_CASES]
    expected = oracle.apply_many(cases)
    for p, js in zip(ALL_CASES, expected, strict=True):
        want = p.values[2]
        assert (js is ERROR) if want is ERROR else same_json(js, want), f"{p.id}: json-logic-js gives {js!r}"
    assert_agrees(oracle, cases)


STRINGS = ["", "0", "1", " 1 ", "1.5", "-1", "abc", "a", "true", "null", "0x10", "1e3", "Infinity", "-0"]
STRINGS += ["é", "😀", "\uff5e", "a,b", "GOOD", "BAD", "[object Object]", "undefined", "\n2\n", "12abc", ".5"]
KEYS = ["a", "b", "c", "n", "s", "z", "arr", "obj"]
PATHS = KEYS + [
    "obj.x",
    "obj.y",
    "arr.0",
    "arr.1",
    "arr.length",
    "s.length",
    "s.0",
    "a.b",
    "missing",
    "",
    "q.r",
]

primitives = (
    st.none()
    | st.booleans()
    | st.integers(-3, 3)
    | st.sampled_from([10, 100, 2**40, -(2**31)])
    | st.sampled_from([0.5, -0.0, 1.5, -2.5, 3.0, 1e21, 1e-7, 0.1])
    | st.sampled_from(STRINGS)
)
json_values = st.recursive(
    primitives,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(["x", "y", "w"]), inner, max_size=2)
    ),
    max_leaves=5,
)
datas = st.fixed_dictionaries(
    {},
    optional={key: json_values for key in KEYS}
    | {
        "arr": st.lists(primitives, max_size=3),
        "obj": st.fixed_dictionaries({"x": json_values, "y": primitives}),
    },
)
var_paths = st.sampled_from(PATHS) | st.sampled_from([0, 1])
var_nodes = (
    st.builds(lambda p: {"var": p}, var_paths)
    | st.builds(lambda p: {"var": [p]}, var_paths)
    | st.builds(lambda p, d: {"var": [p, d]}, var_paths, primitives)
)
# {"and": []} is how a rule produces JavaScript undefined, which many operators treat unlike null.
leaves = var_nodes | primitives | st.lists(primitives, max_size=3) | st.just({"and": []})
COMPARISONS = ["==", "!=", "===", "!==", "<", "<=", ">", ">="]


def _core_operations(inner: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return (
        st.builds(lambda op, xs: {op: xs}, st.sampled_from(["and", "or"]), st.lists(inner, max_size=4))
        | st.builds(
            lambda op, xs: {op: xs}, st.sampled_from(COMPARISONS), st.lists(inner, min_size=2, max_size=2)
        )
        | st.builds(
            lambda op, xs: {op: xs}, st.sampled_from(["<", "<="]), st.lists(inner, min_size=1, max_size=3)
        )
        | st.builds(lambda op, x: {op: x}, st.sampled_from(["!", "!!"]), inner | st.lists(inner, max_size=1))
        | st.builds(lambda xs: {"if": xs}, st.lists(inner, max_size=5))
        | st.builds(lambda a, b: {"in": [a, b]}, inner, inner)
        | st.builds(lambda op, xs: {op: xs}, st.sampled_from(["+", "-"]), st.lists(inner, max_size=3))
        | st.builds(lambda p, d: {"var": [p, d]}, var_paths, inner)
    )


def _extended_operations(inner: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    arrays = st.sampled_from([{"var": "arr"}, {"var": "s"}, {"var": "obj"}, [1, 2, 0, "", None]])
    return (
        _core_operations(inner)
        | st.builds(
            lambda op, xs: {op: xs},
            st.sampled_from(["cat", "substr", "*", "/", "%", "min", "max", "merge", "?:"]),
            st.lists(inner, max_size=3),
        )
        | st.builds(
            lambda op, a, f: {op: [a, f]},
            st.sampled_from(["map", "filter", "all", "some", "none"]),
            arrays,
            inner,
        )
        | st.builds(lambda a, f, init: {"reduce": [a, f, init]}, arrays, inner, inner)
        | st.builds(
            lambda keys: {"missing": keys},
            st.lists(st.sampled_from(PATHS), max_size=3) | st.lists(inner, max_size=2),
        )
        | st.builds(
            lambda n, keys: {"missing_some": [n, keys]},
            st.integers(0, 2) | inner,
            st.lists(st.sampled_from(PATHS), max_size=3) | inner,
        )
    )


core_rules = st.recursive(leaves, _core_operations, max_leaves=12)
extended_rules = st.recursive(leaves, _extended_operations, max_leaves=12)
DIFFERENTIAL = settings(max_examples=scaled(300), suppress_health_check=[HealthCheck.too_slow])
GOLDEN_DIFFERENTIAL = settings(DIFFERENTIAL, max_examples=scaled(100))


@DIFFERENTIAL
@given(rule=core_rules, data=st.lists(datas, min_size=1, max_size=4))
def test_agrees_with_json_logic_js_on_random_rules(oracle: Oracle, rule: Any, data: list[Any]) -> None:
    assert_agrees(oracle, [(rule, d) for d in data])


@DIFFERENTIAL
@given(rule=extended_rules, data=st.lists(datas, min_size=1, max_size=4))
def test_agrees_with_json_logic_js_on_random_rules_with_every_operator(
    oracle: Oracle, rule: Any, data: list[Any]
) -> None:
    assert_agrees(oracle, [(rule, d) for d in data])


@GOLDEN_DIFFERENTIAL
@given(
    data=st.lists(datas, min_size=1, max_size=4), status=st.sampled_from(["GOOD", "BAD", None, "", 1, True])
)
def test_agrees_with_json_logic_js_on_golden_rule_contexts(
    oracle: Oracle, data: list[Any], status: Any
) -> None:
    contexts = [
        golden_context(
            **{
                "lumisection.rr.hlt-hlt": status,
                "lumisection.oms.cms_active": d.get("a"),
                "run.oms.energy": d.get("n"),
            }
        )
        for d in data
    ]
    assert_agrees(oracle, [(GOLDEN_2018, c) for c in contexts] + [(GEM_GOOD, d) for d in data])
