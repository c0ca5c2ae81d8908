"""The compiled certification engine against its definition: JSON-logic evaluated LS by LS (§6.8)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from runreg.certification.engine import (
    CompiledRule,
    DatasetData,
    IntervalSet,
    attribute_failures,
    attribute_failures_per_ls,
    combine,
    evaluate_per_ls,
)
from runreg.classifiers import jsonlogic
from runreg.kernel.errors import InvalidInput
from runreg.kernel.ranges import RangeMap
from tests.profiles import scaled

# --- the 2018 collisions golden rule (sample_json_logic.json) ---------------------------------------------
GOOD_COMPONENTS = [
    *("l1t-l1tmu", "l1t-l1tcalo", "hlt-hlt", "tracker-pixel", "tracker-strip", "tracker-track"),
    *("ecal-ecal", "ecal-es", "egamma-egamma", "hcal-hcal", "muon-muon", "jetmet-jetmet", "lumi-lumi"),
]
DCS_BITS = [
    "cms_active",
    *(f"{part}_ready" for part in ("bpix", "fpix", "tibtid", "tecm", "tecp", "tob", "ebm", "ebp", "eem")),
    *(f"{part}_ready" for part in ("eep", "esm", "esp", "hbhea", "hbheb", "hbhec", "hf", "ho", "dtm", "dtp")),
    *(f"{part}_ready" for part in ("dt0", "cscm", "cscp", "rpc")),
    *("beam1_present", "beam2_present", "beam1_stable", "beam2_stable"),
]
ENERGY_MIN = {">=": [{"var": "run.oms.energy"}, 6000]}
GOLDEN_2018 = {
    "and": [
        ENERGY_MIN,
        {"<=": [{"var": "run.oms.energy"}, 7000]},
        {">=": [{"var": "run.oms.b_field"}, 3.7]},
        {"in": ["25ns", {"var": "run.oms.injection_scheme"}]},
        {"==": [{"in": ["WMass", {"var": "run.oms.hlt_key"}]}, False]},
        {">=": [{"var": "run.oms.recorded_lumi"}, 0.08]},
        *({"==": [{"var": f"lumisection.rr.{c}"}, "GOOD"]} for c in GOOD_COMPONENTS),
        {"==": [{"var": "lumisection.rr.dc-lowlumi"}, "BAD"]},
        *({"==": [{"var": f"lumisection.oms.{b}"}, True]} for b in DCS_BITS),
    ]
}
RUN_OMS = {
    "energy": 6500,
    "b_field": 3.8,
    "injection_scheme": "25ns_2556b_2544_2215_2332_144bpi_20injV3",
    "hlt_key": "/cdaq/physics/Run2018/2e34/v3.6.1",
    "recorded_lumi": 12.3,
}
NAME = "/PromptReco/Collisions2018A/DQM"


def leaf(variable: str, value: Any) -> str:
    return json.dumps({"==": [{"var": variable}, value]}, separators=(",", ":"))


def collision_run(
    run_number: int,
    n: int,
    *,
    run_oms: dict[str, Any] | None = None,
    rr: dict[str, RangeMap] | None = None,
    oms: dict[str, RangeMap] | None = None,
) -> DatasetData:
    """A run where everything is GOOD (and not low-lumi) and every bit true on 1..n, except the maps given."""
    good = {c: RangeMap([(1, n, "GOOD")]) for c in GOOD_COMPONENTS} | {
        "dc-lowlumi": RangeMap([(1, n, "BAD")])
    }
    bits = {b: RangeMap([(1, n, True)]) for b in DCS_BITS}
    return DatasetData(
        run_number,
        NAME,
        {"global_state": "OPEN"},
        run_oms or RUN_OMS,
        {"class": "Collisions18"},
        n,
        oms=bits | (oms or {}),
        rr=good | (rr or {}),
    )


@pytest.fixture
def era() -> dict[int, DatasetData]:
    return {
        # Pixel BAD 40-45, ES in STANDBY at the end, low lumi at the start; beam 1 not yet stable on 1-10,
        # TOB's DCS bit null on 60-62 and no cms_active value at all on LS 75.
        316000: collision_run(
            316000,
            100,
            rr={
                "tracker-pixel": RangeMap([(1, 39, "GOOD"), (40, 45, "BAD"), (46, 100, "GOOD")]),
                "ecal-es": RangeMap([(1, 89, "GOOD"), (90, 100, "STANDBY")]),
                "dc-lowlumi": RangeMap([(1, 3, "GOOD"), (4, 100, "BAD")]),
            },
            oms={
                "beam1_stable": RangeMap([(1, 10, False), (11, 100, True)]),
                "tob_ready": RangeMap([(1, 59, True), (60, 62, None), (63, 100, True)]),
                "cms_active": RangeMap([(1, 74, True), (76, 100, True)]),
            },
        ),
        316001: collision_run(316001, 40, run_oms={**RUN_OMS, "energy": 450}),
        316002: collision_run(316002, 30, rr={"lumi-lumi": RangeMap([(1, 24, "GOOD"), (25, 30, "BAD")])}),
        316003: collision_run(316003, 20, run_oms={**RUN_OMS, "hlt_key": "/cdaq/physics/WMass/v1"}),
    }


def test_golden_2018_rule_on_a_realistic_era(era: dict[int, DatasetData]) -> None:
    compiled = CompiledRule(GOLDEN_2018)
    expected = {
        316000: IntervalSet([(11, 39), (46, 59), (63, 74), (76, 89)]),
        316001: IntervalSet(),
        316002: IntervalSet([(1, 24)]),
        316003: IntervalSet(),
    }
    assert {run: compiled.evaluate(ds) for run, ds in era.items()} == expected
    assert {run: evaluate_per_ls(GOLDEN_2018, ds) for run, ds in era.items()} == expected
    assert {run: compiled.run_level_verdict(ds) for run, ds in era.items()} == {
        316000: None,
        316001: False,
        316002: None,
        316003: False,
    }


def test_golden_2018_failures_are_attributed_per_combination_of_leaves(era: dict[int, DatasetData]) -> None:
    ds = era[316000]
    failed = IntervalSet.span(1, 100) - CompiledRule(GOLDEN_2018).evaluate(ds)
    assert attribute_failures(GOLDEN_2018, ds, failed) == {
        (leaf("lumisection.rr.dc-lowlumi", "BAD"), leaf("lumisection.oms.beam1_stable", True)): IntervalSet(
            [(1, 3)]
        ),
        (leaf("lumisection.oms.beam1_stable", True),): IntervalSet([(4, 10)]),
        (leaf("lumisection.rr.tracker-pixel", "GOOD"),): IntervalSet([(40, 45)]),
        (leaf("lumisection.oms.tob_ready", True),): IntervalSet([(60, 62)]),
        (leaf("lumisection.oms.cms_active", True),): IntervalSet([(75, 75)]),
        (leaf("lumisection.rr.ecal-es", "GOOD"),): IntervalSet([(90, 100)]),
    }
    low_energy = era[316001]
    assert attribute_failures(GOLDEN_2018, low_energy, IntervalSet.span(1, 40)) == {
        (json.dumps(ENERGY_MIN, separators=(",", ":")),): IntervalSet([(1, 40)])
    }


def test_needs_lists_the_ls_data_the_rule_reads() -> None:
    needs = CompiledRule(GOLDEN_2018).needs()
    assert needs.rr_components == frozenset(GOOD_COMPONENTS) | {"dc-lowlumi"}
    assert needs.oms_keys == frozenset(DCS_BITS)
    assert not needs.lumisection_number
    other = CompiledRule({"or": [{"var": "lumisection.lumisection_number"}, {"var": "lumisection.oms.a.b"}]})
    assert other.needs() == (frozenset({"a"}), frozenset(), True)


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        (
            {"and": [True, True, True, {"==": [{"var": "lumisection.rr.dt"}, "GOOD"]}]},
            'rule/and/3/==/0: unknown variable "lumisection.rr.dt"',
        ),
        ({"or": [{"var": "energy"}]}, 'rule/or/0: unknown variable "energy"'),
        ({"!": {"var": "run.energy"}}, 'rule/!: unknown variable "run.energy"'),
        ({"==": [{"var": "lumisection.oms"}, 1]}, 'rule/==/0: unknown variable "lumisection.oms"'),
        ({"var": ["dataset.name", {"var": "lumisection.x"}]}, 'rule/var/1: unknown variable "lumisection.x"'),
        (
            {"missing": ["run.oms.energy", "lumisection.rr.x-"]},
            'rule/missing/1: unknown variable "lumisection.rr.x-"',
        ),
        ({"var": {"cat": ["run.oms.", "energy"]}}, "rule: computed variable paths are not supported"),
        ({"==": [{"var": ""}, 1]}, "rule/==/0: computed variable paths are not supported"),
        ({"and": [{"nope": [1]}]}, 'rule/and/0: unknown operator "nope"'),
    ],
)
def test_invalid_rules_name_the_variable_and_its_path(rule: Any, message: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        CompiledRule(rule)
    assert raised.value.field == "rule"
    assert str(raised.value).startswith(message)


def test_contract_variables_are_accepted_and_read_what_they_name() -> None:
    compiled = CompiledRule(
        {
            "and": [
                {"in": ["Prompt", {"var": "dataset.name"}]},
                {"==": [{"var": "dataset.dt_state"}, "OPEN"]},
                {">": [{"var": "run.run_number"}, 1]},
                {"var": "run.rr.significant"},
                {"var": "run.oms.anything.nested"},
                {"<": [{"var": "lumisection.lumisection_number"}, 5]},
                {"var": "lumisection.oms.prescale_index"},
                {"==": [{"var": "lumisection.rr.csc-csc_private"}, "GOOD"]},
                {"some": [{"var": "run.oms.list"}, {"==": [{"var": ""}, 1]}]},  # `""` is the item there
            ]
        }
    )
    assert compiled.needs() == (frozenset({"prescale_index"}), frozenset({"csc-csc_private"}), True)
    ds = DatasetData(
        7,
        "/PromptReco/Collisions2024A/DQM",
        {"dt_state": "OPEN"},
        {"anything": {"nested": 1}, "list": [0, 1]},
        {"significant": True},
        6,
        oms={"prescale_index": RangeMap([(1, 1, 2), (2, 2, 0), (3, 6, 1)])},
        rr={"csc-csc_private": RangeMap([(1, 6, "GOOD")])},
    )
    # LS 2 has prescale index 0 (falsy), LS 5 and 6 fail `lumisection_number < 5`.
    assert compiled.evaluate(ds) == IntervalSet([(1, 1), (3, 4)])
    closed = DatasetData(7, ds.name, {"dt_state": "SIGNOFF"}, ds.run_oms, ds.run_rr, 6, oms=ds.oms, rr=ds.rr)
    assert compiled.evaluate(closed) == IntervalSet()


def test_run_level_verdict_decides_before_any_ls_data() -> None:
    shell = DatasetData(1, "/A/B/DQM", {"global_state": "OPEN"}, {"energy": 450}, {}, 10)
    ls_leaf = {"==": [{"var": "lumisection.rr.dt-dt"}, "GOOD"]}
    assert CompiledRule({"and": [ls_leaf, ENERGY_MIN]}).run_level_verdict(shell) is False
    assert CompiledRule({"and": [ENERGY_MIN, ls_leaf]}).run_level_verdict(shell) is False
    assert CompiledRule({"or": [{"!": ENERGY_MIN}, ls_leaf]}).run_level_verdict(shell) is True
    assert CompiledRule({"and": [{"!": ENERGY_MIN}, ls_leaf]}).run_level_verdict(shell) is None
    assert CompiledRule({"if": [ENERGY_MIN, ls_leaf, False]}).run_level_verdict(shell) is False
    assert CompiledRule({"in": ["OPEN", {"var": "dataset.global_state"}]}).run_level_verdict(shell) is True
    # A verdict agrees with evaluation on any LS data.
    rich = DatasetData(1, "/A/B/DQM", {}, {"energy": 450}, {}, 10, rr={"dt-dt": RangeMap([(1, 10, "GOOD")])})
    assert CompiledRule({"or": [{"!": ENERGY_MIN}, ls_leaf]}).evaluate(shell) == IntervalSet.span(1, 10)
    assert CompiledRule({"and": [ENERGY_MIN, ls_leaf]}).evaluate(rich) == IntervalSet()


def test_a_rule_json_logic_js_throws_on_raises_as_the_original_did() -> None:
    throwing = {"indexOf": 1}
    ds = DatasetData(
        1,
        "/A",
        {},
        {"obj": throwing},
        {},
        6,
        oms={"o": RangeMap([(1, 3, "x"), (4, 6, throwing)])},
        rr={"dt-dt": RangeMap([(1, 3, "GOOD"), (4, 6, "BAD")])},
    )
    with pytest.raises(jsonlogic.InvalidRule, match="b.indexOf is not a function"):
        CompiledRule({"in": ["x", {"var": "run.oms.obj"}]}).evaluate(ds)
    # The throwing value only sits where an earlier `and` child is already falsy: the original never threw.
    guarded = {
        "and": [
            {"==": [{"var": "lumisection.rr.dt-dt"}, "GOOD"]},
            {"in": ["x", {"var": "lumisection.oms.o"}]},
        ]
    }
    assert CompiledRule(guarded).evaluate(ds) == evaluate_per_ls(guarded, ds) == IntervalSet([(1, 3)])
    # Explanations evaluate every child of a falsy `and` (as the original's trace did): there it throws.
    with pytest.raises(jsonlogic.InvalidRule, match="rule/and/1: b.indexOf is not a function"):
        attribute_failures(guarded, ds, IntervalSet([(4, 6)]))


def test_empty_datasets_and_values_beyond_the_last_ls() -> None:
    rule = {"==": [{"var": "lumisection.rr.dt-dt"}, "GOOD"]}
    assert CompiledRule(rule).evaluate(DatasetData(1, "/A", {}, {}, {}, 0)) == IntervalSet()
    ds = DatasetData(1, "/A", {}, {}, {}, 5, rr={"dt-dt": RangeMap([(3, 9, "GOOD")])})
    assert CompiledRule(rule).evaluate(ds) == evaluate_per_ls(rule, ds) == IntervalSet([(3, 5)])
    negated = {"!": rule}
    assert CompiledRule(negated).evaluate(ds) == evaluate_per_ls(negated, ds) == IntervalSet([(1, 2)])


def _pair() -> list[DatasetData]:
    """Two datasets with the same LS values but different run values, both with holes."""
    rr = {
        "dt-dt": RangeMap([(1, 4, "GOOD"), (5, 6, "BAD"), (9, 12, "GOOD")]),
        "csc-csc": RangeMap([(3, 10, "GOOD"), (11, 12, "STANDBY")]),
    }
    oms = {
        "cms_active": RangeMap([(1, 2, None), (3, 8, True), (9, 12, False)]),
        "tags": RangeMap([(1, 5, ["x"]), (6, 12, ["y"])]),
    }
    return [
        DatasetData(
            1, "/A", {"global_state": "OPEN"}, {"energy": 6500, "b_field": 3.8}, {}, 12, oms=oms, rr=rr
        ),
        DatasetData(
            2, "/B", {"global_state": "OPEN"}, {"energy": None, "b_field": 0}, {}, 12, oms=oms, rr=rr
        ),
    ]


DT_GOOD = {"==": [{"var": "lumisection.rr.dt-dt"}, "GOOD"]}
CSC_GOOD = {"==": [{"var": "lumisection.rr.csc-csc"}, "GOOD"]}
ACTIVE = {"var": "lumisection.oms.cms_active"}


@pytest.mark.parametrize(
    "rule",
    [
        # if-chains whose conditions overlap: a later branch only applies where no earlier condition held.
        {"if": [DT_GOOD, {"!": ACTIVE}, CSC_GOOD, True, ACTIVE]},
        {"if": [CSC_GOOD, DT_GOOD, {"!": DT_GOOD}, ACTIVE]},
        {"?:": [{"!": ACTIVE}, CSC_GOOD, DT_GOOD]},
        # One node reading an LS and a run variable: truthiness on the holes depends on the run.
        {"var": ["lumisection.rr.dt-dt", {"var": "run.oms.energy"}]},
        {"and": [CSC_GOOD, {"var": ["lumisection.oms.cms_active", {"var": "run.oms.b_field"}]}]},
        {"<": [{"var": "lumisection.oms.cms_active"}, {"var": "run.oms.b_field"}]},
        # Several LS variables in one value-level node: evaluated per segment.
        {"==": [{"var": "lumisection.rr.dt-dt"}, {"var": "lumisection.rr.csc-csc"}]},
        {"===": [{"and": [DT_GOOD, ACTIVE]}, True]},
        {"!=": [{"or": [{"var": "lumisection.rr.csc-csc"}, ACTIVE]}, "GOOD"]},
        {"in": [{"var": "lumisection.rr.dt-dt"}, {"var": ["lumisection.rr.csc-csc", "BADGOOD"]}]},
        # The LS number: each LS its own segment.
        {"and": [DT_GOOD, {">=": [{"var": "lumisection.lumisection_number"}, 4]}]},
        {"==": [{"var": "lumisection.lumisection_number"}, {"var": "run.run_number"}]},
        {"or": [{"<": [{"var": "lumisection.lumisection_number"}, 2]}, {"==": [ACTIVE, None]}]},
        # Arrays as values: never shared between values (`===` compares them by identity).
        {"in": ["x", {"var": "lumisection.oms.tags"}]},
        {"===": [{"var": "lumisection.oms.tags"}, {"var": "lumisection.oms.tags"}]},
        # Nulls, undefined and loose equality.
        {"==": [ACTIVE, None]},
        {"===": [ACTIVE, None]},
        {"!!": [{"!=": [{"var": "lumisection.rr.csc-csc"}, None]}]},
        {"<": [None, ACTIVE]},
    ],
)
def test_tricky_rules_equal_per_ls_evaluation(rule: Any) -> None:
    compiled = CompiledRule(rule)
    for ds in _pair() + _pair():
        assert compiled.evaluate(ds) == evaluate_per_ls(rule, ds)
        failed = IntervalSet.span(1, ds.ls_count) - evaluate_per_ls(rule, ds)
        for part in (failed, failed & IntervalSet([(3, 7), (11, 11)])):
            assert compiled.attribute_failures(ds, part) == attribute_failures_per_ls(rule, ds, part)


# --- merge policies -----------------------------------------------------------------------------------------
RESULTS = {
    (1, "/B/ReReco/DQM"): IntervalSet([(1, 10)]),
    (1, "/A/PromptReco/DQM"): IntervalSet([(5, 20)]),
    (2, "/A/PromptReco/DQM"): IntervalSet([(3, 4)]),
}


def test_combine_refuses_a_run_with_two_datasets_by_default() -> None:
    with pytest.raises(InvalidInput) as raised:
        combine(RESULTS)
    message = str(raised.value)
    assert "run 1" in message and "/A/PromptReco/DQM" in message and "/B/ReReco/DQM" in message
    assert combine({k: v for k, v in RESULTS.items() if k[1].startswith("/A")}) == {
        1: IntervalSet([(5, 20)]),
        2: IntervalSet([(3, 4)]),
    }


@pytest.mark.parametrize(
    ("policy", "run_1"),
    [("union", [(1, 20)]), ("intersection", [(5, 10)]), ("first", [(5, 20)])],
)
def test_combine_policies(policy: str, run_1: list[tuple[int, int]]) -> None:
    assert combine(RESULTS, policy) == {1: IntervalSet(run_1), 2: IntervalSet([(3, 4)])}


def test_combine_rejects_an_unknown_policy() -> None:
    with pytest.raises(InvalidInput, match="policy"):
        combine(RESULTS, "concatenate")


# --- IntervalSet against Python sets ------------------------------------------------------------------------
interval_lists = st.lists(
    st.tuples(st.integers(-3, 40), st.integers(0, 6)).map(lambda t: (t[0], t[0] + t[1]))
)


def members(s: IntervalSet) -> set[int]:
    return {ls for first, last in s for ls in range(first, last + 1)}


@given(a=interval_lists, b=interval_lists, lo=st.integers(-5, 20), hi=st.integers(0, 50))
@settings(max_examples=scaled(200))
def test_interval_set_is_a_set_of_ls(
    a: list[tuple[int, int]], b: list[tuple[int, int]], lo: int, hi: int
) -> None:
    x, y = IntervalSet(a), IntervalSet(b)
    sx, sy = members(x), members(y)
    assert sx == {ls for first, last in a for ls in range(first, last + 1)}
    assert all(f2 > l1 + 1 for (_, l1), (f2, _) in zip(x.ranges, x.ranges[1:], strict=False))
    for got, want in [(x & y, sx & sy), (x | y, sx | sy), (x - y, sx - sy)]:
        assert members(got) == want
        assert got == IntervalSet((ls, ls) for ls in want)
    assert members(x.complement(lo, hi)) == set(range(lo, hi + 1)) - sx
    assert len(x) == len(sx)
    assert all((ls in x) == (ls in sx) for ls in range(-5, 50))
    assert IntervalSet.selecting(RangeMap((f, la, f % 2 == 0) for f, la in x), bool, lo, hi) == IntervalSet(
        (max(f, lo), min(la, hi)) for f, la in x if f % 2 == 0
    )


# --- the differential test: the compiled engine equals evaluation LS by LS ---------------------------------
COMPONENTS = ["dt-dt", "csc-csc", "tracker-pixel", "ecal-es"]
BITS = ["cms_active", "beam1_stable", "tob_ready"]
STATUSES = ["GOOD", "BAD", "STANDBY", "NO VALUE FOUND"]
_HOLE = object()
_MISSING = object()
RUN_VARS = [
    "run.oms.energy",
    "run.oms.b_field",
    "run.oms.injection_scheme",
    "run.oms.hlt_key",
    "run.run_number",
    "run.rr.class",
    "dataset.name",
    "dataset.global_state",
]
LS_VARS = [f"lumisection.rr.{c}" for c in COMPONENTS] + [f"lumisection.oms.{b}" for b in BITS]
CONSTANTS = [
    None,
    True,
    False,
    0,
    1,
    3.8,
    6500,
    "6500",
    "GOOD",
    "BAD",
    "STANDBY",
    "",
    "25ns",
    "WMass",
    "OPEN",
]


def range_maps(values: st.SearchStrategy[Any], n: int) -> st.SearchStrategy[RangeMap]:
    """A map over 1..n cut in up to 6 pieces, each a value or a hole."""
    cuts = st.lists(st.integers(2, max(n, 2)), max_size=6, unique=True).map(sorted)

    def pieces(draw_cuts: list[int]) -> st.SearchStrategy[RangeMap]:
        bounds = [1, *[c for c in draw_cuts if c <= n], n + 1]
        spans = [(f, nxt - 1) for f, nxt in zip(bounds, bounds[1:], strict=False) if f <= nxt - 1]
        return st.lists(st.one_of(st.just(_HOLE), values), min_size=len(spans), max_size=len(spans)).map(
            lambda vs: RangeMap((f, la, v) for (f, la), v in zip(spans, vs, strict=True) if v is not _HOLE)
        )

    return cuts.flatmap(pieces)


def optional(values: list[Any]) -> st.SearchStrategy[Any]:
    return st.sampled_from([*values, _MISSING])


@st.composite
def datasets(draw: st.DrawFn) -> DatasetData:
    n = draw(st.integers(1, 60))
    run_oms = {
        "energy": draw(optional([6500, 450, None, "6500"])),
        "b_field": draw(optional([3.8, 0, None])),
        "injection_scheme": draw(optional(["25ns_2556b", "50ns_1374b", "", None])),
        "hlt_key": draw(optional(["/cdaq/physics/WMass/v1", "/cdaq/physics/Run2018/v3", None])),
    }
    # Most datasets have most maps; a missing one is a hole on every LS.
    has = draw(st.lists(st.sampled_from([True, True, True, False]), min_size=7, max_size=7))
    rr = {
        c: draw(range_maps(st.sampled_from(STATUSES), n)) for c, h in zip(COMPONENTS, has, strict=False) if h
    }
    oms = {
        b: draw(range_maps(st.sampled_from([True, False, None]), n))
        for b, h in zip(BITS, has[4:], strict=False)
        if h
    }
    return DatasetData(
        run_number=draw(st.integers(316000, 316002)),
        name=draw(st.sampled_from(["/PromptReco/Collisions2018A/DQM", "/Express/Cosmics/DQM"])),
        attributes={"global_state": draw(st.sampled_from(["OPEN", "COMPLETED"]))},
        run_oms={k: v for k, v in run_oms.items() if v is not _MISSING},
        run_rr={"class": draw(st.sampled_from(["Collisions18", "Cosmics18"]))},
        ls_count=n,
        oms=oms,
        rr=rr,
    )


variables_ = st.one_of(
    st.sampled_from(LS_VARS), st.sampled_from(RUN_VARS), st.just("lumisection.lumisection_number")
)
constants = st.sampled_from(CONSTANTS)
plain_vars = variables_.map(lambda v: {"var": v})
var_nodes = st.one_of(
    plain_vars,
    plain_vars,
    st.tuples(variables_, constants).map(lambda t: {"var": [t[0], t[1]]}),
    # A default read from another variable: one node reading an LS and a run variable, or two LS variables.
    st.tuples(variables_, plain_vars).map(lambda t: {"var": [t[0], t[1]]}),
)
operands = st.one_of(var_nodes, var_nodes, constants)
leaves = st.one_of(
    st.tuples(st.sampled_from(["==", "!=", "===", "<", ">="]), operands, operands).map(
        lambda t: {t[0]: [t[1], t[2]]}
    ),
    st.tuples(st.sampled_from(["25ns", "WMass", "GOOD", "O", ""]), var_nodes).map(lambda t: {"in": list(t)}),
    st.tuples(var_nodes, st.lists(constants, max_size=3)).map(lambda t: {"in": list(t)}),
    st.tuples(var_nodes, var_nodes).map(lambda t: {"in": list(t)}),
    var_nodes,
    constants,
)


def _extend(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(
        st.lists(children, min_size=1, max_size=4).map(lambda cs: {"and": cs}),
        st.lists(children, min_size=1, max_size=4).map(lambda cs: {"or": cs}),
        children.map(lambda c: {"!": [c]}),
        children.map(lambda c: {"!": c} if isinstance(c, dict) else {"!": [c]}),
        children.map(lambda c: {"!!": [c]}),
        st.lists(children, min_size=2, max_size=5).map(lambda cs: {"if": cs}),
        # Value-level operations over connectives: evaluated per segment, not by set algebra.
        st.tuples(st.sampled_from(["==", "!=", "==="]), children, operands).map(
            lambda t: {t[0]: [t[1], t[2]]}
        ),
    )


nested = st.recursive(leaves, _extend, max_leaves=10)
rules = st.one_of(leaves, _extend(nested), _extend(nested), _extend(nested))
DIFFERENTIAL = settings(max_examples=scaled(500), suppress_health_check=[HealthCheck.too_slow])


@given(rule=rules, data=st.lists(datasets(), min_size=1, max_size=3))
@DIFFERENTIAL
def test_compiled_rule_equals_per_ls_evaluation(rule: Any, data: list[DatasetData]) -> None:
    compiled = CompiledRule(rule)
    for ds in data + data:  # twice: the second pass runs on caches filled by every dataset
        expected = evaluate_per_ls(rule, ds)
        assert compiled.evaluate(ds) == expected
        verdict = compiled.run_level_verdict(ds)
        if verdict is not None:
            assert expected == (IntervalSet.span(1, ds.ls_count) if verdict else IntervalSet())


@given(rule=rules, data=st.lists(datasets(), min_size=1, max_size=3))
@settings(DIFFERENTIAL, max_examples=scaled(300))
def test_attribute_failures_equals_failing_leaves_per_ls(rule: Any, data: list[DatasetData]) -> None:
    compiled = CompiledRule(rule)
    for ds in data:
        failed = IntervalSet.span(1, ds.ls_count) - evaluate_per_ls(rule, ds)
        expected: dict[tuple[str, ...], set[int]] = {}
        for ls in range(1, ds.ls_count + 1):
            context = {
                "dataset": {**ds.attributes, "name": ds.name},
                "run": {"oms": ds.run_oms, "rr": ds.run_rr, "run_number": ds.run_number},
                "lumisection": {
                    "lumisection_number": ls,
                    "oms": {k: v.get(ls) for k, v in ds.oms.items() if v.get(ls, _HOLE) is not _HOLE},
                    "rr": {k: v.get(ls) for k, v in ds.rr.items() if v.get(ls, _HOLE) is not _HOLE},
                },
            }
            found = jsonlogic.failing_leaves(rule, context)
            assert bool(found) == (ls in failed)
            if found:
                key = tuple(json.dumps(x, separators=(",", ":")) for x in found)
                expected.setdefault(key, set()).add(ls)
        want = {key: IntervalSet((ls, ls) for ls in lss) for key, lss in expected.items()}
        assert compiled.attribute_failures(ds, failed) == want
        assert attribute_failures_per_ls(rule, ds, failed) == want
