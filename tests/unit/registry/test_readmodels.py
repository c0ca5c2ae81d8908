"""The original's LS arrays, ranges and records computed from a run's state, on hand-made LS patterns."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from runreg.configuration.model import default_configuration
from runreg.kernel.lsdiff import lumisection_ranges
from runreg.registry import model, readmodels
from runreg.registry.events import DatasetCreated, Event, FlagsSet, Layer, OmsValuesSet, RunCreated
from runreg.registry.model import ONLINE, RunState
from tests.profiles import scaled

OFFLINE = "/PromptReco/HICosmics18A/DQM"
GOOD = {"status": "GOOD", "comment": "", "cause": ""}
BAD = {"status": "BAD", "comment": "HV trip", "cause": "HV"}
EMPTY = {"status": "EMPTY", "comment": "", "cause": ""}
NO_DATA = {"err": "No data available for this lumisection"}


def flags(component: str, first: int, last: int, triplet: dict[str, str], **kw: Any) -> FlagsSet:
    return FlagsSet(
        name=kw.get("dataset", ONLINE),
        first_ls=first,
        last_ls=last,
        component=component,
        triplet=triplet,
        layer=kw.get("layer", Layer.AUTOMATIC),
    )


def oms(first: int, last: int, dataset: str = ONLINE, **values: Any) -> OmsValuesSet:
    return OmsValuesSet(name=dataset, first_ls=first, last_ls=last, values=values)


def run_of(*events: Event, ls_count: int = 0) -> RunState:
    run = model.fold(
        327743,
        [
            RunCreated(oms={"ls_duration": ls_count}, rr={"class": "Cosmics18", "state": "OPEN"}),
            DatasetCreated(name=OFFLINE, attributes={"global_state": "OPEN", "dt_state": "OPEN"}),
            *events,
        ],
    )
    assert run is not None
    return run


def expand(ranges: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Ranges back to one element per LS (what a client does with them)."""
    out: list[dict[str, Any]] = []
    for r in ranges:
        assert r["start"] == len(out) + 1, "ranges must be contiguous from LS 1"
        value = {k: v for k, v in r.items() if k not in ("start", "end")}
        out.extend(dict(value) for _ in range(r["end"] - r["start"] + 1))
    return out


# -- hand-made patterns ------------------------------------------------------------------------------------
def test_good_40_then_bad_5_gives_two_ranges_and_45_lumisections() -> None:
    run = run_of(flags("dt-dt", 1, 40, GOOD), flags("dt-dt", 41, 45, BAD), ls_count=45)

    assert readmodels.rr_ranges(run) == [
        {"dt-dt": GOOD, "start": 1, "end": 40},
        {"dt-dt": BAD, "start": 41, "end": 45},
    ]
    assert readmodels.rr_ranges_by_component(run) == {
        "dt-dt": [{**GOOD, "start": 1, "end": 40}, {**BAD, "start": 41, "end": 45}]
    }
    per_ls = readmodels.rr_lumisections(run)
    assert len(per_ls) == 45 and per_ls[39] == {"dt-dt": GOOD} and per_ls[40] == {"dt-dt": BAD}


def test_holes_are_empty_triplets_for_every_component_in_the_per_ls_array() -> None:
    run = run_of(
        flags("dt-dt", 1, 3, GOOD),
        flags("dt-dt", 6, 10, GOOD),
        flags("rpc-hv", 5, 12, BAD),
    )

    per_ls = readmodels.rr_lumisections(run)

    assert len(per_ls) == 12
    assert per_ls[0] == {"dt-dt": GOOD, "rpc-hv": EMPTY}
    assert per_ls[3] == {"dt-dt": EMPTY, "rpc-hv": EMPTY}  # LS 4: no data at all
    assert per_ls[11] == {"dt-dt": EMPTY, "rpc-hv": BAD}
    assert readmodels.rr_ranges(run) == [
        {"dt-dt": GOOD, "rpc-hv": EMPTY, "start": 1, "end": 3},
        {"dt-dt": EMPTY, "rpc-hv": EMPTY, "start": 4, "end": 4},
        {"dt-dt": EMPTY, "rpc-hv": BAD, "start": 5, "end": 5},
        {"dt-dt": GOOD, "rpc-hv": BAD, "start": 6, "end": 10},
        {"dt-dt": EMPTY, "rpc-hv": BAD, "start": 11, "end": 12},
    ]
    # By component, a hole is a range without a triplet, as in the original.
    assert readmodels.rr_ranges_by_component(run) == {
        "dt-dt": [
            {**GOOD, "start": 1, "end": 3},
            {"start": 4, "end": 5},
            {**GOOD, "start": 6, "end": 10},
            {"start": 11, "end": 12},
        ],
        "rpc-hv": [{"start": 1, "end": 4}, {**BAD, "start": 5, "end": 12}],
    }


def test_a_stored_empty_triplet_next_to_a_hole_is_one_range() -> None:
    run = run_of(flags("dt-dt", 1, 2, EMPTY), flags("dt-dt", 5, 6, GOOD))

    assert readmodels.rr_ranges(run) == [
        {"dt-dt": EMPTY, "start": 1, "end": 4},
        {"dt-dt": GOOD, "start": 5, "end": 6},
    ]


def test_manual_triplets_show_over_automatic_ones() -> None:
    run = run_of(flags("dt-dt", 1, 10, GOOD), flags("dt-dt", 3, 4, BAD, layer=Layer.MANUAL))

    assert [r["dt-dt"]["status"] for r in readmodels.rr_ranges(run)] == ["GOOD", "BAD", "GOOD"]


def test_offline_datasets_inherit_online_oms_values_and_override_them() -> None:
    run = run_of(
        oms(1, 6, cms_active=True, bpix_ready=True, recorded=0.5),
        oms(8, 9, cms_active=True, bpix_ready=True, recorded=0.5),
        oms(4, 5, dataset=OFFLINE, bpix_ready=False),
        flags("dt-dt", 1, 9, GOOD, dataset=OFFLINE),
    )
    on = {"cms_active": True, "bpix_ready": True, "recorded": 0.5}

    online = readmodels.oms_lumisections(run)
    offline = readmodels.oms_lumisections(run, OFFLINE)

    assert online == [on] * 6 + [NO_DATA] + [on] * 2
    assert offline[3] == {**on, "bpix_ready": False} and offline[2] == on and offline[6] == NO_DATA
    # The OMS ranges keep DCS bits only (no luminosity); the hole at LS 7 has no bits at all.
    assert readmodels.oms_ranges(run) == [
        {"bpix_ready": True, "cms_active": True, "start": 1, "end": 6},
        {"start": 7, "end": 7},
        {"bpix_ready": True, "cms_active": True, "start": 8, "end": 9},
    ]
    assert readmodels.joint_ranges(run, OFFLINE) == [
        {**on, "dt-dt": GOOD, "start": 1, "end": 3},
        {**on, "bpix_ready": False, "dt-dt": GOOD, "start": 4, "end": 5},
        {**on, "dt-dt": GOOD, "start": 6, "end": 6},
        {**NO_DATA, "dt-dt": GOOD, "start": 7, "end": 7},
        {**on, "dt-dt": GOOD, "start": 8, "end": 9},
    ]


def test_joint_ranges_are_as_long_as_the_longer_side_and_rr_keys_win() -> None:
    run = run_of(oms(1, 3, cms_active=True, **{"dt-dt": "oms"}), flags("dt-dt", 1, 5, GOOD))

    assert readmodels.joint_ranges(run) == [
        {"cms_active": True, "dt-dt": GOOD, "start": 1, "end": 3},
        {"dt-dt": GOOD, "start": 4, "end": 5},
    ]


def test_a_dataset_without_lumisections_reads_empty() -> None:
    run = run_of()

    assert readmodels.rr_lumisections(run) == readmodels.oms_lumisections(run) == []
    assert readmodels.rr_ranges(run) == readmodels.oms_ranges(run) == readmodels.joint_ranges(run) == []
    assert readmodels.rr_ranges_by_component(run) == {}


def test_results_do_not_share_the_empty_triplet() -> None:
    run = run_of(flags("dt-dt", 1, 1, GOOD), flags("rpc-hv", 2, 2, GOOD))
    readmodels.rr_ranges(run)[0]["rpc-hv"]["status"] = "CHANGED"

    assert readmodels.rr_ranges(run)[0]["rpc-hv"] == EMPTY


# -- records -----------------------------------------------------------------------------------------------
def test_run_and_dataset_records_have_the_uncompressed_server_shapes() -> None:
    run = run_of(
        oms(1, 4, cms_active=True),
        flags("dt-dt", 1, 4, GOOD),
        flags("dt-dt", 1, 3, GOOD, dataset=OFFLINE),
        ls_count=4,
    )

    record = readmodels.run_record_of(run)
    dataset = readmodels.dataset_record_of(run, OFFLINE)

    assert set(record) == {
        "run_number",
        "oms_attributes",
        "rr_attributes",
        "version",
        "deleted",
        "DatasetTripletCache",
    }
    assert record["DatasetTripletCache"] == {
        "triplet_summary": {"dt-dt": {"EMPTY": 0, "GOOD": 4, "comments": [], "causes": []}}
    }
    assert (record["deleted"], record["version"], record["rr_attributes"]["class"]) == (
        False,
        run.version,
        "Cosmics18",
    )
    assert set(dataset) == {
        "run_number",
        "name",
        "dataset_attributes",
        "datasets_in_gui",
        "deleted",
        "version",
        "Run",
        "DatasetTripletCache",
    }
    assert set(dataset["Run"]) == {"rr_attributes", "oms_attributes"}
    assert dataset["DatasetTripletCache"]["triplet_summary"]["dt-dt"]["EMPTY"] == 1
    assert dataset["DatasetTripletCache"]["dcs_summary"]["cms_active"] == {
        "TRUE": 4,
        "FALSE": 0,
        "NULL": 0,
        "EMPTY": 0,
    }
    assert dataset["dataset_attributes"] == {"global_state": "OPEN", "dt_state": "OPEN"}


def test_dataset_names_put_online_first() -> None:
    run = run_of(DatasetCreated(name="/Express/Cosmics18/DQM"))

    assert readmodels.dataset_names(run) == [ONLINE, "/Express/Cosmics18/DQM", OFFLINE]


def test_accepted_datasets_are_shaped_like_the_original_rows() -> None:
    rules = default_configuration().datasets_accepted

    records = readmodels.datasets_accepted_records(rules)

    assert len(records) == len(rules) and [r["id"] for r in records] == list(range(1, len(rules) + 1))
    first = records[1]
    assert set(first) == {"id", "name", "regexp", "enabled", "class", "run_from", "run_to"}
    assert first["regexp"].split("\n") == rules[1].regexps and first["class"] == rules[1].class_name


# -- property: ranges are the per-LS arrays collapsed (rr_backend §4.1) -----------------------------------
TRIPLETS = st.sampled_from([GOOD, BAD, EMPTY, {"status": "STANDBY", "comment": "", "cause": ""}])
COMPONENTS = st.sampled_from(["dt-dt", "rpc-hv", "tracker-strip"])
SPANS = st.tuples(st.integers(1, 30), st.integers(0, 8)).map(lambda t: (t[0], t[0] + t[1]))
OMS_VALUES = st.dictionaries(
    st.sampled_from(["cms_active", "bpix_ready", "recorded", "prescale_name"]),
    st.one_of(st.booleans(), st.none(), st.sampled_from([0.5, "p1"])),
    min_size=1,
)


@st.composite
def runs(draw: st.DrawFn) -> RunState:
    events: list[Event] = []
    for component, (first, last), triplet, dataset, manual in draw(
        st.lists(st.tuples(COMPONENTS, SPANS, TRIPLETS, st.sampled_from([ONLINE, OFFLINE]), st.booleans()))
    ):
        layer = Layer.MANUAL if manual else Layer.AUTOMATIC
        events.append(flags(component, first, last, triplet, dataset=dataset, layer=layer))
    for (first, last), values, dataset in draw(
        st.lists(st.tuples(SPANS, OMS_VALUES, st.sampled_from([ONLINE, OFFLINE])), max_size=6)
    ):
        events.append(oms(first, last, dataset, **values))
    return run_of(*events)


@settings(max_examples=scaled(200))
@given(runs(), st.sampled_from([ONLINE, OFFLINE]))
def test_ranges_expand_to_the_per_ls_arrays(run: RunState, dataset: str) -> None:
    rr = readmodels.rr_lumisections(run, dataset)
    oms_ls = readmodels.oms_lumisections(run, dataset)
    joint = [
        {**(oms_ls[i] if i < len(oms_ls) else {}), **(rr[i] if i < len(rr) else {})}
        for i in range(max(len(rr), len(oms_ls)))
    ]

    assert expand(readmodels.rr_ranges(run, dataset)) == rr
    assert readmodels.rr_ranges(run, dataset) == lumisection_ranges(rr)
    assert expand(readmodels.joint_ranges(run, dataset)) == joint
    assert readmodels.joint_ranges(run, dataset) == lumisection_ranges(joint)
    assert readmodels.oms_ranges(run, dataset) == lumisection_ranges(oms_ls, readmodels.OMS_LS_WHITELIST)
    for component, ranges in readmodels.rr_ranges_by_component(run, dataset).items():
        effective = run.datasets[dataset].flags[component].effective()
        own = [dict(effective.get(ls) or {}) for ls in range(1, len(rr) + 1)]
        assert ranges == lumisection_ranges(own)
        assert [ls[component] for ls in rr] == [t or EMPTY for t in own]
