"""Pure helpers of the run page: LS bars, per-change-set history, readable rules, LS tables."""

from __future__ import annotations

from datetime import UTC, datetime

from runreg.eventlog.store import ChangeSet, LoggedEvent
from runreg.kernel.ranges import RangeMap
from runreg.web import run_view

WHEN = datetime(2024, 6, 1, 10, 0, tzinfo=UTC)


def flag(cs: ChangeSet, version: int, component: str, first: int, last: int, status: str, **extra: str):  # noqa: ANN201
    triplet = {"status": status, "comment": extra.get("comment", ""), "cause": extra.get("cause", "")}
    return LoggedEvent(
        cs,
        version,
        "FlagsSet",
        "online",
        component,
        first,
        last,
        cs.actor_kind == "human",
        {"triplet": triplet},
    )


def test_a_bar_covers_the_whole_run_with_uncovered_ls_empty_in_proportion() -> None:
    ranges = RangeMap([(1, 9, {"status": "GOOD"}), (10, 20, {"status": "BAD", "comment": "HV trip"})])
    bar = run_view.ls_bar(ranges, 30)
    assert [(s["first"], s["last"], s["status"], s["x"], s["width"]) for s in bar] == [
        (1, 9, "GOOD", 0, 9),
        (10, 20, "BAD", 9, 11),
        (21, 30, "EMPTY", 20, 10),
    ]
    assert bar[1]["comment"] == "HV trip"
    svg = run_view.lsbar_svg("dt-dt", bar)
    assert svg.count("<rect") == 3 and 'viewBox="0 0 30 10"' in svg
    assert "<title>LS 10–20: BAD — HV trip</title>" in svg
    assert run_view.ls_bar(RangeMap(), 0) == []


def test_the_bar_escapes_comments() -> None:
    bar = run_view.ls_bar(RangeMap([(1, 2, {"status": "BAD", "comment": "<script>x</script>"})]), 2)
    assert "<script>" not in run_view.lsbar_svg("dt-dt", bar)


def test_history_groups_a_change_sets_ranges_per_component_newest_first() -> None:
    created = ChangeSet(1, "oms-ingestion", "automatic", "run creation", WHEN)
    edited = ChangeSet(2, "alice@cern.ch", "human", "HV trip", WHEN)
    agent = ChangeSet(3, "ml-agent", "agent", "anomaly", WHEN)
    log = [  # newest first, as the log is read
        flag(agent, 5, "dt-dt", 30, 31, "STANDBY"),
        flag(edited, 4, "dt-dt", 10, 20, "BAD", comment="HV trip", cause="HV"),
        flag(created, 3, "tracker-pixel", 1, 40, "GOOD"),
        flag(created, 2, "dt-dt", 21, 40, "GOOD"),
        flag(created, 1, "dt-dt", 1, 20, "GOOD"),
    ]
    history = run_view.component_history(log)
    dt = history["dt-dt"]
    assert [(h.change_set.id, h.kind, h.layer) for h in dt] == [
        (3, "agent", "automatic"),
        (2, "manual", "manual"),
        (1, "automatic", "automatic"),
    ]
    assert dt[1].ranges == [(10, 20, "BAD", "HV trip", "HV")]
    assert dt[2].ranges == [(1, 20, "GOOD", "", ""), (21, 40, "GOOD", "", "")]
    assert [h.change_set.id for h in history["tracker-pixel"]] == [1]


def test_run_history_says_what_each_change_set_did() -> None:
    created = ChangeSet(1, "oms-ingestion", "automatic", "run creation", WHEN)
    moved = ChangeSet(2, "alice@cern.ch", "human", "sign-off", WHEN)
    log = [
        LoggedEvent(
            moved, 3, "RunAttributesChanged", None, None, None, None, True, {"rr": {"state": "SIGNOFF"}}
        ),
        LoggedEvent(
            created, 2, "RunAttributesChanged", None, None, None, None, False, {"oms": {"end_time": "x"}}
        ),
        LoggedEvent(created, 1, "RunCreated", None, None, None, None, False, {"oms": {}, "rr": {}}),
        LoggedEvent(created, 1, "OmsValuesSet", "online", None, 1, 5, False, None),
    ]
    log.insert(0, flag(ChangeSet(3, "bob@cern.ch", "human", "HV", WHEN), 4, "dt-dt", 10, 20, "BAD"))
    assert [h.what for h in run_view.run_history(log)] == [
        "dt-dt: LS 10–20 BAD",
        "state → SIGNOFF",
        "run created; OMS: end_time; OMS LS values",
    ]


def test_rules_read_as_conditions() -> None:
    assert run_view.rule_text({"==": [{"var": "dtp_ready"}, True]}) == "dtp_ready == true"
    assert run_view.rule_text({"!": [{"var": "castor_included"}]}) == "not castor_included"
    assert run_view.rule_text({"in": ["/cdaq/", {"var": "hlt_key"}]}) == '"/cdaq/" in hlt_key'
    assert run_view.rule_text({"max": [1, 2]}) == '{"max": [1, 2]}'


def test_axis_ticks_are_round_numbers_between_the_first_and_the_last_ls() -> None:
    assert run_view.axis_ticks(2000) == [1, 500, 1000, 1500, 2000]
    assert run_view.axis_ticks(7) == [1, 2, 3, 4, 5, 6, 7]
    assert run_view.axis_ticks(0) == []


def test_values_read_as_people_write_them() -> None:
    assert run_view.shown(["DT", "ECAL"]) == "DT, ECAL"
    assert run_view.shown(None) == "null" and run_view.shown(True) == "true"
    assert run_view.shown(run_view.MISSING) == "missing"
