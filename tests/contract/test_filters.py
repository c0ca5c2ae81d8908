"""The table filter language executed on SQLite and PostgreSQL: each test names the exact rows it expects."""

from __future__ import annotations

import time
from typing import Any

import pytest
from sqlalchemy import func, inspect, select

from runreg.kernel.errors import InvalidInput
from runreg.registry import filters, service
from runreg.registry.service import FlagEdit
from runreg.registry.tables import runs
from runreg.storage.database import Database
from tests.builders.runs import CERTIFIER, OMS_WORKER, SHIFTER, create_collision_run

PROMPT = "/PromptReco/Collisions2024A/DQM"
EXPRESS = "/Express/Cosmics2024/DQM"

# 1001 and 1003 are collisions, 1002 cosmics, 1004 commissioning without flags, energy null, no start_time.
WORLD: dict[int, dict[str, Any]] = {
    1001: {
        "rr": {"class": "Collisions24", "significant": True},
        "oms": {"energy": 6800, "hlt_key": "/cdaq/physics/Run2024/v1", "start_time": "2024-05-01T10:00:00Z"},
    },
    1002: {
        "rr": {"class": "Cosmics24", "significant": False},
        "oms": {
            "energy": 900,
            "b_field": 0.0,
            "hlt_key": "/cdaq/cosmic/commissioning2024/v2",
            "start_time": "2024-04-15T08:30:00Z",
        },
    },
    1003: {
        "rr": {"class": "Collisions24", "significant": True},
        "oms": {"energy": 450, "hlt_key": "/cdaq/PHYSICS/Run2024/v3", "start_time": "2024-05-20T23:59:59Z"},
    },
    1004: {
        "rr": {"class": "Commissioning24", "significant": False},
        "oms": {"energy": None, "b_field": 3.79, "hlt_key": "/cdaq/special/HighRate/v1"},
        "components": (),
    },
}


@pytest.fixture
def world(db: Database) -> Database:
    for run_number, spec in WORLD.items():
        create_collision_run(
            db,
            run_number,
            ls_count=10,
            rr=spec["rr"],
            components=spec.get("components", ("tracker-pixel", "tracker-strip", "dt-dt")),
        )
        service.change_run_attributes(
            db, actor=OMS_WORKER, run_number=run_number, oms=spec["oms"], comment="oms"
        )
    flag = FlagEdit("dt-dt", 1, 3, "BAD", "HV trip")
    service.edit_flags(db, actor=SHIFTER, run_number=1002, edits=[flag], comment="dt off")
    standby = FlagEdit("tracker-pixel", 5, 5, "STANDBY")
    service.edit_flags(db, actor=SHIFTER, run_number=1003, edits=[standby], comment="pixel")

    common = {"dt_state": "OPEN", "datasets_in_gui": []}
    datasets = [
        (
            1001,
            PROMPT,
            {"global_state": "OPEN", "appeared_in": ["DBS", "DQM GUI"], "datasets_in_gui": [PROMPT]},
        ),
        (1002, EXPRESS, {"global_state": "COMPLETED", "appeared_in": ["DBS"]}),
        (1003, PROMPT, {"global_state": "waiting dqm gui", "appeared_in": []}),
    ]
    for run_number, name, attributes in datasets:
        service.create_dataset(
            db, actor=OMS_WORKER, run_number=run_number, name=name, attributes=common | attributes
        )
    # Out of `waiting dqm gui` a dataset is opened first (which opens its waiting workspaces too).
    service.move_datasets(
        db,
        actor=CERTIFIER,
        moves=[
            service.DatasetMove(1003, PROMPT, "global", "OPEN"),
            service.DatasetMove(1003, PROMPT, "global", "SIGNOFF"),
        ],
        comment="sign",
    )
    bad = FlagEdit("dt-dt", 2, 4, "BAD", "noisy chamber")
    service.edit_flags(db, actor=CERTIFIER, run_number=1001, dataset=PROMPT, edits=[bad], comment="offline")
    return db


def run_numbers(db: Database, filter: Any, **paging: Any) -> list[int]:
    rows, count, params, *_ = filters.select_runs(filter, **paging)
    with db.reading() as conn:
        numbers = [row.run_number for row in conn.execute(rows, params)]
        total = conn.execute(count, params).scalar_one()
    if "page_size" not in paging:
        assert total == len(numbers)
    return numbers


def dataset_keys(db: Database, filter: Any, **paging: Any) -> list[tuple[int, str]]:
    rows, count, params, *_ = filters.select_datasets(filter, **paging)
    with db.reading() as conn:
        keys = [(row.run_number, row.name) for row in conn.execute(rows, params)]
        total = conn.execute(count, params).scalar_one()
    if "page_size" not in paging:
        assert total == len(keys)
    return keys


def counted(db: Database, listing: filters.ListingQueries) -> int:
    with db.reading() as conn:
        return int(conn.execute(listing.total, listing.params).scalar_one())


# --------------------------------------------------------------------------------------------------
# Runs
# --------------------------------------------------------------------------------------------------
def test_equality_on_columns_and_json_attributes(world: Database) -> None:
    assert run_numbers(world, {}) == [1004, 1003, 1002, 1001]
    assert run_numbers(world, {"rr_attributes.class": "Collisions24"}) == [1003, 1001]
    assert run_numbers(world, {"run_number": {"=": 1002}}) == [1002]
    assert run_numbers(
        world, {"and": [{"run_number": {"=": "1002"}}], "rr_attributes.significant": False}
    ) == [1002]
    assert run_numbers(world, {"oms_attributes.hlt_key": "/cdaq/physics/Run2024/v1"}) == [1001]
    assert run_numbers(world, {"oms_attributes.energy": 900}) == [1002]
    assert run_numbers(world, {"rr_attributes.class": "collisions24"}) == []  # `=` is case-sensitive


def test_not_equal_and_null(world: Database) -> None:
    assert run_numbers(world, {"rr_attributes.class": {"<>": "Collisions24"}}) == [1004, 1002]
    # A missing or null value matches no comparison, `<>` included.
    assert run_numbers(world, {"oms_attributes.energy": {"<>": 900}}) == [1003, 1001]
    assert run_numbers(world, {"oms_attributes.start_time": {"<>": "x"}}) == [1003, 1002, 1001]
    assert run_numbers(world, {"oms_attributes.energy": None}) == [1004]
    assert run_numbers(world, {"oms_attributes.start_time": {"=": None}}) == [1004]
    assert run_numbers(world, {"oms_attributes.energy": {"<>": None}}) == [1003, 1002, 1001]
    assert run_numbers(world, {"run_number": {"<>": None}}) == [1004, 1003, 1002, 1001]


def test_ranges_through_nested_and_or_several_operators(world: Database) -> None:
    assert run_numbers(world, {"run_number": {"and": [{">": 1001}, {"<": 1004}]}}) == [1003, 1002]
    assert run_numbers(world, {"run_number": {">=": 1002, "<=": 1003}}) == [1003, 1002]
    assert run_numbers(
        world, {"and": [{"run_number": {"and": [{">": 1001}]}}, {"run_number": {"<": 1003}}]}
    ) == [1002]
    assert run_numbers(world, {"run_number": {">": 1001.5}}) == [1004, 1003, 1002]
    assert run_numbers(world, {"ls_count": {">=": 10}}) == [1004, 1003, 1002, 1001]


def test_or_lists(world: Database) -> None:
    assert run_numbers(world, {"run_number": {"or": [1001, {"=": 1003}]}}) == [1003, 1001]
    assert run_numbers(world, {"rr_attributes.class": {"OR": ["Cosmics24", "Commissioning24"]}}) == [
        1004,
        1002,
    ]
    assert run_numbers(world, {"or": [{"run_number": 1001}, {"run_number": 1004}]}) == [1004, 1001]
    assert run_numbers(world, {"run_number": {"or": [1001, 1002]}, "rr_attributes.significant": True}) == [
        1001
    ]


def test_like_and_notlike_are_case_insensitive(world: Database) -> None:
    assert run_numbers(world, {"oms_attributes.hlt_key": {"like": "%physics%"}}) == [1003, 1001]
    assert run_numbers(world, {"oms_attributes.hlt_key": {"LIKE": "%PHYSICS%"}}) == [1003, 1001]
    assert run_numbers(world, {"rr_attributes.class": {"like": "cosmics24"}}) == [1002]
    assert run_numbers(world, {"oms_attributes.hlt_key": {"notlike": "%physics%"}}) == [1004, 1002]
    assert run_numbers(world, {"oms_attributes.hlt_key": {"NOTLIKE": "%Physics%"}}) == [1004, 1002]
    assert run_numbers(world, {"run_number": {"like": "%3"}}) == [1003]
    assert run_numbers(world, {"oms_attributes.energy": {"like": "68%"}}) == [1001]
    assert run_numbers(world, {"oms_attributes.start_time": {"notlike": "2024-05%"}}) == [1002]


def test_numbers_compare_as_numbers_and_strings_as_text(world: Database) -> None:
    assert run_numbers(world, {"oms_attributes.energy": {">": 1000}}) == [1001]
    assert run_numbers(world, {"oms_attributes.energy": {">": 500, "<=": 900}}) == [1002]
    # "6800", "900" and "450" are all after "1000" as text: a string value compares text.
    assert run_numbers(world, {"oms_attributes.energy": {">": "1000"}}) == [1003, 1002, 1001]
    assert run_numbers(world, {"oms_attributes.energy": "6800"}) == [1001]
    assert run_numbers(world, {"oms_attributes.b_field": {">=": 3.8}}) == [1003, 1001]
    assert run_numbers(world, {"oms_attributes.b_field": 0}) == [1002]
    # The text of a JSON number or boolean is the same on both engines.
    assert run_numbers(world, {"oms_attributes.b_field": "3.8"}) == [1003, 1001]
    assert run_numbers(world, {"oms_attributes.b_field": {"like": "0.0"}}) == [1002]
    assert run_numbers(world, {"rr_attributes.significant": {"like": "TR%"}}) == [1003, 1001]
    # A text value at a numeric comparison is no number: no match (and no cast error on PostgreSQL).
    assert run_numbers(world, {"oms_attributes.hlt_key": {">": 5}}) == []


def test_booleans(world: Database) -> None:
    assert run_numbers(world, {"rr_attributes.significant": True}) == [1003, 1001]
    assert run_numbers(world, {"rr_attributes.significant": {"=": False}}) == [1004, 1002]
    assert run_numbers(world, {"rr_attributes.significant": {"<>": True}}) == [1004, 1002]
    assert run_numbers(world, {"oms_attributes.tracker_included": True}) == [1004, 1003, 1002, 1001]
    assert run_numbers(world, {"rr_attributes.significant": "true"}) == [1003, 1001]  # as text
    assert run_numbers(world, {"oms_attributes.energy": True}) == []  # a number is not a boolean


def test_dates_as_iso_strings_compare_lexicographically(world: Database) -> None:
    assert run_numbers(world, {"oms_attributes.start_time": {">=": "2024-05-01T00:00:00Z"}}) == [1003, 1001]
    window = {"and": [{">": "2024-04-01"}, {"<": "2024-05-02"}]}
    assert run_numbers(world, {"oms_attributes.start_time": window}) == [1002, 1001]


def test_triplet_summary_of_the_online_dataset(world: Database) -> None:
    assert run_numbers(world, {"triplet_summary.dt-dt.BAD": {">": 0}}) == [1002]
    assert run_numbers(world, {"triplet_summary.tracker-pixel.STANDBY": {">": 0}}) == [1003]
    assert run_numbers(world, {"triplet_summary.dt-dt.GOOD": {">=": 10}}) == [1003, 1001]
    assert run_numbers(world, {"triplet_summary.dt-dt.GOOD": {"=": 7}}) == [1002]
    assert run_numbers(world, {"triplet_summary.dt-dt.EMPTY": 0}) == [1003, 1002, 1001]
    # The offline dataset of 1001 has BAD LS in dt-dt, but the runs table reads the online summary.
    assert run_numbers(world, {"run_number": 1001, "triplet_summary.dt-dt.BAD": {">": 0}}) == []
    listing = filters.select_runs({"run_number": 1002})
    with world.reading() as conn:
        row = conn.execute(listing.rows, listing.params).one()
    assert row.triplet_summary["dt-dt"]["BAD"] == 3 and row.rr_attributes["class"] == "Cosmics24"


def test_filters_of_one_shape_answer_each_with_its_own_values(world: Database) -> None:
    for _ in range(2):  # the second round runs the statements the first one built
        assert run_numbers(world, {"rr_attributes.class": "Collisions24"}) == [1003, 1001]
        assert run_numbers(world, {"rr_attributes.class": "Cosmics24"}) == [1002]
        assert run_numbers(world, {"run_number": {">": 1002}}, page=0, page_size=1) == [1004]
        assert run_numbers(world, {"run_number": {">": 1001}}, page=1, page_size=1) == [1003]


def test_or_across_families_keeps_its_or_meaning(world: Database) -> None:
    mixed = {"or": [{"rr_attributes.class": "Commissioning24"}, {"triplet_summary.dt-dt.BAD": {">": 0}}]}
    assert run_numbers(world, mixed) == [1004, 1002]
    nested = {
        "or": [{"oms_attributes.energy": {">": 1000}}, {"triplet_summary.tracker-pixel.STANDBY": {">": 0}}]
    }
    assert run_numbers(world, nested) == [1003, 1001]
    assert run_numbers(world, {"and": [mixed, {"rr_attributes.significant": False}]}) == [1004, 1002]


def test_typed_reads_of_different_keys_are_not_confused_by_the_statement_cache(world: Database) -> None:
    assert run_numbers(world, {"oms_attributes.energy": {">": 1000}}) == [1001]
    assert run_numbers(world, {"oms_attributes.fill_number": {">": 1000}}) == [1004, 1003, 1002, 1001]
    assert run_numbers(world, {"oms_attributes.energy": {">": 1000}}) == [1001]
    assert run_numbers(world, {"rr_attributes.class": {"like": "c%"}}) == [1004, 1003, 1002, 1001]
    assert run_numbers(world, {"rr_attributes.stop_reason": {"like": "c%"}}) == []


EVIL = "x'); DROP TABLE runs; --"


def test_injection_attempts_are_refused_or_bound(world: Database) -> None:
    with pytest.raises(InvalidInput) as caught:
        filters.select_runs({f"rr_attributes.{EVIL}": 1})
    assert caught.value.field == f"filter.rr_attributes.{EVIL}"
    with pytest.raises(InvalidInput):
        filters.select_runs({}, sortings=[[f"oms_attributes.{EVIL}", "ASC"]])
    assert run_numbers(world, {"rr_attributes.class": EVIL}) == []
    assert run_numbers(world, {"oms_attributes.hlt_key": {"like": f"%{EVIL}%"}}) == []
    assert run_numbers(world, {"rr_attributes.class": {"notlike": EVIL}}) == [1004, 1003, 1002, 1001]
    assert dataset_keys(world, {"name": EVIL, "datasets_in_gui": EVIL}) == []
    with world.reading() as conn:
        assert inspect(conn).has_table("runs")
        assert conn.execute(select(func.count()).select_from(runs)).scalar_one() == 4


def test_paging_count_and_sorting(world: Database) -> None:
    assert run_numbers(world, {}, page=0, page_size=3) == [1004, 1003, 1002]
    assert run_numbers(world, {}, page=1, page_size=3) == [1001]
    assert run_numbers(world, {}, page=2, page_size=3) == []
    assert run_numbers(world, {}, page=2**31 - 1, page_size=10_000) == []  # an offset past 32 bits
    listing = filters.select_runs({"rr_attributes.class": "Collisions24"}, page=5, page_size=1)
    assert counted(world, listing) == 2
    listing = filters.select_runs({"triplet_summary.dt-dt.GOOD": {">": 0}}, page=0, page_size=1)
    assert counted(world, listing) == 3

    def ordered(*sortings: list[str]) -> list[int]:
        return run_numbers(world, {}, sortings=list(sortings))

    assert ordered(["run_number", "ASC"]) == [1001, 1002, 1003, 1004]
    assert ordered(["oms_attributes.energy", "ASC"]) == [1003, 1002, 1001, 1004]  # numeric, missing last
    assert ordered(["oms_attributes.energy", "DESC"]) == [1001, 1002, 1003, 1004]
    assert ordered(["oms_attributes.hlt_key", "ASC"]) == [1003, 1002, 1001, 1004]  # byte-wise text
    assert ordered(["rr_attributes.class", "ASC"]) == [1003, 1001, 1004, 1002]  # ties: run_number DESC
    assert ordered(["rr_attributes.class", "ASC"], ["run_number", "ASC"]) == [1001, 1003, 1004, 1002]
    assert ordered(["rr_attributes.significant", "DESC"]) == [1003, 1001, 1004, 1002]
    assert ordered(["oms_attributes.start_time", "DESC"]) == [1003, 1001, 1002, 1004]
    assert ordered(["triplet_summary.dt-dt.BAD", "DESC"]) == [1002, 1004, 1003, 1001]
    assert ordered(["oms_attributes.b_field", "ASC"]) == [1002, 1004, 1003, 1001]
    assert run_numbers(world, {"rr_attributes.significant": True}, sortings=[["ls_count", "ASC"]]) == [
        1003,
        1001,
    ]


def test_a_remembered_total_is_counted_again_after_any_write_and_after_its_time(
    world: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    significant = {"rr_attributes.significant": True}

    def total() -> int:  # page 1 of size 1: the service has to count (a short first page does not)
        return service.search(world, target="runs", filter=significant, page=1, page_size=1)[1]

    assert total() == 2
    create_collision_run(world, 1005, ls_count=10, rr={"class": "Collisions24", "significant": True})
    assert total() == 3  # the new run's change set is newer than the remembered count
    # A row changed behind the log's back (no change set) stays unseen until the memo's time is up.
    with world.transaction() as conn:
        conn.execute(
            runs.update().where(runs.c.run_number == 1005).values(rr_attributes={"significant": False})
        )
    assert total() == 3
    clock = time.monotonic() + 6
    monkeypatch.setattr(time, "monotonic", lambda: clock)
    assert total() == 2


# --------------------------------------------------------------------------------------------------
# Datasets
# --------------------------------------------------------------------------------------------------
def test_datasets_include_online_and_filter_on_their_own_columns(world: Database) -> None:
    assert dataset_keys(world, {"run_number": 1001}) == [(1001, PROMPT), (1001, "online")]
    assert dataset_keys(world, {"run_number": 1004, "name": "online"}) == [(1004, "online")]
    assert dataset_keys(world, {"name": {"and": [{"<>": "online"}]}}) == [
        (1003, PROMPT),
        (1002, EXPRESS),
        (1001, PROMPT),
    ]
    assert dataset_keys(world, {"name": {"like": "%/promptreco/%"}}) == [(1003, PROMPT), (1001, PROMPT)]
    states = {"and": [{"or": [{"=": "OPEN"}, {"=": "SIGNOFF"}, {"=": "COMPLETED"}]}]}
    assert dataset_keys(world, {"dataset_attributes.global_state": states}) == [
        (1003, PROMPT),
        (1002, EXPRESS),
        (1001, PROMPT),
    ]
    assert dataset_keys(world, {"dataset_attributes.global_state": "SIGNOFF"}) == [(1003, PROMPT)]
    assert len(dataset_keys(world, {})) == 7


def test_datasets_filter_on_their_run_and_their_own_summary(world: Database) -> None:
    assert dataset_keys(world, {"rr_attributes.class": {"like": "cosmics%"}}) == [
        (1002, EXPRESS),
        (1002, "online"),
    ]
    assert dataset_keys(world, {"oms_attributes.energy": {">": 1000}, "name": {"<>": "online"}}) == [
        (1001, PROMPT)
    ]
    assert dataset_keys(world, {"triplet_summary.dt-dt.BAD": {">": 0}}) == [(1002, "online"), (1001, PROMPT)]
    mixed = {"or": [{"rr_attributes.class": "Commissioning24"}, {"triplet_summary.dt-dt.BAD": {">=": 3}}]}
    assert dataset_keys(world, mixed) == [(1004, "online"), (1002, "online"), (1001, PROMPT)]


def test_datasets_json_array_containment(world: Database) -> None:
    assert dataset_keys(world, {"datasets_in_gui": PROMPT}) == [(1001, PROMPT)]
    assert dataset_keys(world, {"datasets_in_gui": {"contains": EXPRESS}}) == []
    assert dataset_keys(world, {"dataset_attributes.appeared_in": {"contains": "DBS"}}) == [
        (1002, EXPRESS),
        (1001, PROMPT),
    ]
    both = {"dataset_attributes.appeared_in": {"contains": ["DBS", "DQM GUI"]}}
    assert dataset_keys(world, both) == [(1001, PROMPT)]
    # A string holding the value is not an array containing it.
    assert dataset_keys(world, {"dataset_attributes.global_state": {"contains": "OPEN"}}) == []
    assert run_numbers(world, {"oms_attributes.components": {"contains": "DT"}}) == [1004, 1003, 1002, 1001]


def test_datasets_paging_and_sorting(world: Database) -> None:
    assert dataset_keys(world, {}, page=0, page_size=3) == [
        (1004, "online"),
        (1003, PROMPT),
        (1003, "online"),
    ]
    listing = filters.select_datasets({"name": {"<>": "online"}}, page=1, page_size=2)
    with world.reading() as conn:
        assert [(r.run_number, r.name) for r in conn.execute(listing.rows, listing.params)] == [
            (1001, PROMPT)
        ]
    assert counted(world, listing) == 3
    by_state = dataset_keys(
        world, {"name": {"<>": "online"}}, sortings=[["dataset_attributes.global_state", "ASC"]]
    )
    assert by_state == [(1002, EXPRESS), (1001, PROMPT), (1003, PROMPT)]
    by_class = dataset_keys(world, {"run_number": {"<": 1003}}, sortings=[["rr_attributes.class", "DESC"]])
    assert by_class == [(1002, EXPRESS), (1002, "online"), (1001, PROMPT), (1001, "online")]
    by_bad = dataset_keys(world, {"run_number": 1001}, sortings=[["triplet_summary.dt-dt.BAD", "DESC"]])
    assert by_bad == [(1001, PROMPT), (1001, "online")]
    by_name = dataset_keys(world, {"run_number": 1001}, sortings=[["name", "DESC"]])
    assert by_name == [(1001, "online"), (1001, PROMPT)]
