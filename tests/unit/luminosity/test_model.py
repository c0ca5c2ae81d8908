"""Dense per-LS luminosity, source ranking, units, and brilcalc's --byls CSV checked line by line."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from runreg.kernel.errors import InvalidInput
from runreg.kernel.lumi_units import per_pb
from runreg.luminosity import model
from runreg.luminosity.model import LumiSeries

HEADER = "#run:fill,ls,time,beamstatus,E(GeV),delivered(/pb),recorded(/pb),avgpu,source"
BRILCALC = f"""#Data tag : 24v1 , Norm tag: normtag_BRIL.json
{HEADER}
380001:9001,1:1,06/01/24 10:00:00,STABLE BEAMS,6800,0.060,0.050,55.1,HFET
380001:9001,2:2,06/01/24 10:00:23,STABLE BEAMS,6800,0.061,0.051,55.0,HFET
380001:9001,3:0,06/01/24 10:00:46,STABLE BEAMS,6800,0.062,0.000,54.9,HFET
380001:9001,4:3,06/01/24 10:01:09,STABLE BEAMS,6800,0.063,0.052,54.8,HFET
380002:9001,1:1,06/01/24 12:00:00,STABLE BEAMS,6800,0.070,0.065,50.0,PLTZERO
#Summary:
#nfill,nrun,nls,ncms,totdelivered(/pb),totrecorded(/pb)
#1,2,5,4,0.316,0.218
"""


def series(recorded: list[float], delivered: list[float] | None = None) -> LumiSeries:
    values = np.array(recorded, dtype=float)
    return LumiSeries(1, model.OMS, "", np.array(delivered or recorded, dtype=float), values)


@pytest.mark.parametrize(
    ("unit", "factor"),
    [
        ("/pb", 1.0),
        ("pb^{-1}", 1.0),
        ("/ub", 1e-6),
        ("ub^{-1}", 1e-6),
        ("/nb", 1e-3),
        ("1/fb", 1e3),
        ("fb-1", 1e3),
    ],
)
def test_units_convert_to_inverse_picobarn(unit: str, factor: float) -> None:
    assert per_pb(unit) == factor


def test_an_unknown_unit_is_refused_naming_the_field() -> None:
    with pytest.raises(InvalidInput) as refused:
        per_pb("Hz/cm^2", field="delivered")
    assert refused.value.field == "delivered" and "Hz/cm^2" in refused.value.reason


def test_sums_count_missing_and_negative_values_as_zero() -> None:
    s = series([0.5, math.nan, -1.0, 0.25, 1.0])
    assert s.total("recorded") == pytest.approx(1.75)
    assert s.over("recorded", [(2, 4)]) == pytest.approx(0.25)
    assert s.over("recorded", [(1, 1), (5, 9)]) == pytest.approx(1.5)  # beyond the series counts 0
    assert s.measured == 4


@given(
    st.lists(st.floats(min_value=-1, max_value=5, allow_nan=False), min_size=1, max_size=60),
    st.lists(st.tuples(st.integers(1, 70), st.integers(0, 10)), max_size=6),
)
def test_range_sums_equal_the_ls_by_ls_sum(values: list[float], spans: list[tuple[int, int]]) -> None:
    s = series(values)
    ranges = [(first, first + width) for first, width in spans]
    expected = sum(
        max(0.0, values[ls - 1])
        for first, last in ranges
        for ls in range(first, last + 1)
        if ls <= len(values)
    )
    assert s.over("recorded", ranges) == pytest.approx(expected)


def test_brilcalc_with_a_normtag_wins_over_brilcalc_over_oms() -> None:
    oms = series([1.0])
    plain = LumiSeries(1, model.BRILCALC, "", oms.delivered, oms.recorded)
    tagged = LumiSeries(1, model.BRILCALC, "normtag_BRIL.json", oms.delivered, oms.recorded)
    assert model.best([oms, plain, tagged]) is tagged
    assert model.best([oms, plain]) is plain
    assert model.best([oms]) is oms and model.best([]) is None
    assert tagged.label == "brilcalc (normtag normtag_BRIL.json)" and oms.label == "oms"


def test_arrays_survive_encoding_with_their_holes() -> None:
    values = np.array([0.1, math.nan, 3.0])
    assert model.same(model.decode(model.encode(values)), values)
    assert not model.same(values, np.array([0.1, math.nan, 3.5]))


def test_oms_lumisections_become_dense_arrays() -> None:
    rows = [{"delivered_lumi": 0.06, "recorded_lumi": 0.05}, {"delivered_lumi": None, "recorded_lumi": None}]
    s = model.from_oms(7, rows)
    assert s.source == "oms" and s.ls_count == 2
    assert s.total("recorded") == pytest.approx(0.05) and math.isnan(s.recorded[1])


def test_a_brilcalc_file_gives_one_series_per_run_on_cms_ls_numbers() -> None:
    parsed = model.parse_brilcalc(BRILCALC)
    assert parsed.normtag == "normtag_BRIL.json"  # from the header when not given
    assert sorted(parsed.series) == [380001, 380002]
    first = parsed.series[380001]
    assert first.ls_count == 3  # LS 3:0 was outside CMS: CMS LS 3 is lumi LS 4
    assert list(first.recorded) == pytest.approx([0.050, 0.051, 0.052])
    assert parsed.outside_cms == 1 and parsed.data_lines == 5
    assert model.parse_brilcalc(BRILCALC, normtag="mine").normtag == "mine"


def test_brilcalc_values_in_inverse_microbarn_are_converted() -> None:
    text = BRILCALC.replace("(/pb)", "(/ub)")
    assert model.parse_brilcalc(text).series[380002].total("recorded") == pytest.approx(0.065e-6)


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("380001:9001,5:4,06/01/24,STABLE BEAMS,6800,0.06,0.05,55,HFET,extra", "10 fields, the header has 9"),
        (
            "38000x:9001,5:4,t,STABLE BEAMS,6800,0.06,0.05,55,HFET",
            "run:fill '38000x:9001' is not two integers",
        ),
        ("380001:9001,five:4,t,STABLE BEAMS,6800,0.06,0.05,55,HFET", "ls 'five:4' is not <lumi LS>:<CMS LS>"),
        ("380001:9001,5:4,t,STABLE BEAMS,6800,abc,0.05,55,HFET", "delivered 'abc' is not a number"),
        (
            "380001:9001,5:4,t,STABLE BEAMS,6800,0.06,-0.05,55,HFET",
            "recorded '-0.05' must be a finite number >= 0",
        ),
        ("380001:9001,5:2,t,STABLE BEAMS,6800,0.06,0.05,55,HFET", "run 380001 LS 2 appears twice"),
    ],
)
def test_a_bad_line_is_named_by_number_and_nothing_is_returned(line: str, reason: str) -> None:
    text = BRILCALC.replace("#Summary:", f"{line}\n#Summary:")
    with pytest.raises(InvalidInput) as refused:
        model.parse_brilcalc(text)
    assert refused.value.field == "file"
    assert f"line 8: {reason}" in refused.value.reason and "nothing was imported" in refused.value.reason


def test_a_file_without_header_or_data_is_refused() -> None:
    with pytest.raises(InvalidInput, match="header"):
        model.parse_brilcalc("380001:9001,1:1,t,STABLE BEAMS,6800,0.06,0.05,55,HFET\n")
    with pytest.raises(InvalidInput, match="no lumisection lines"):
        model.parse_brilcalc(HEADER + "\n#Summary:\n")
    with pytest.raises(InvalidInput, match="no `delivered` column"):
        model.parse_brilcalc("#run:fill,ls,recorded(/pb)\n")


_ls_lines = st.lists(
    st.tuples(
        st.integers(1, 3),  # run offset
        st.integers(0, 40),  # CMS LS (0: outside CMS)
        st.floats(0, 1e6, allow_nan=False),
        st.floats(0, 1e6, allow_nan=False),
    ),
    min_size=1,
    max_size=80,
    unique_by=lambda t: (t[0], t[1]) if t[1] else object(),
)


@given(_ls_lines, st.sampled_from(["/ub", "/pb", "/nb"]))
def test_the_columnwise_reading_equals_the_line_by_line_one(lines: list, unit: str) -> None:
    body = [f"#Data tag : 24v1 , Norm tag: tag-{unit}", HEADER.replace("(/pb)", f"({unit})")]
    body += [
        f"{380000 + r}:9001,{i + 1}:{ls},t,STABLE BEAMS,6800,{d!r},{rec!r},50,HFET"
        for i, (r, ls, d, rec) in enumerate(lines)
    ]
    text = "\n".join(body) + "\n#Summary:\n"
    slow = model._line_by_line(text, None, 10_000) if any(ls for _, ls, _, _ in lines) else None
    fast = model._columnwise(text, None, 10_000)
    if slow is None:
        assert fast is None
        return
    assert fast is not None
    assert (fast.normtag, fast.data_lines, fast.outside_cms) == (
        slow.normtag,
        slow.data_lines,
        slow.outside_cms,
    )
    assert sorted(fast.series) == sorted(slow.series)
    for run, series in slow.series.items():
        assert model.same(fast.series[run].delivered, series.delivered)
        assert model.same(fast.series[run].recorded, series.recorded)
