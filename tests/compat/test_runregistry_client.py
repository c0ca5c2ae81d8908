"""The published `runregistry` 3.1.2 client, unchanged, against runreg over a socket: each public function."""

from __future__ import annotations

from collections.abc import Iterator
from types import ModuleType
from typing import Any

import pytest
import requests
import runregistry
import runregistry.runregistry as client_module

from runreg.configuration.model import default_configuration
from runreg.datasets import selection
from runreg.datasets.dctools import export
from runreg.kernel.lsdiff import lumisection_ranges
from runreg.registry.model import OMS_LS_WHITELIST as DCS_WHITELIST
from tests.builders.legacy_seed import (
    COLLISIONS18,
    COMMISSIONING2018_IN_309K,
    CRUZET_MATCHES,
    DT_GOOD_IN_309K,
    INVALID_DATASET,
    INVALID_RUN,
    MOVABLE_RUN,
    OMS_COLLISIONS_RUN,
    OMS_NEWEST_RUN,
    RUNS_IN_309K,
    SIGNED_OFF_DATASET,
    SIGNED_OFF_RUN,
    STRIP_GOOD_IN_309K,
    VALID_DATASET,
    VALID_RUN,
)
from tests.compat.conftest import WORLD, Server

EGROUPS_ERROR = "User needs to be part of any of the following e-groups"
IN_309K = {"run_number": {"and": [{">": 309000}, {"<": 310000}]}}
RUN_KEYS = {"run_number", "oms_attributes", "rr_attributes", "version", "deleted", "DatasetTripletCache"}
COMPRESSED_RUN_KEYS = {
    "class",
    "deleted",
    "lumisections",
    "oms_attributes",
    "run_number",
    "significant",
    "state",
    "stop_reason",
    "version",
}
DATASET_KEYS = {
    "run_number",
    "name",
    "dataset_attributes",
    "datasets_in_gui",
    "deleted",
    "version",
    "Run",
    "DatasetTripletCache",
}
ALL_RUNS = {
    327743,
    309000,
    309113,
    309221,
    309311,
    309421,
    309555,
    310000,
    *COLLISIONS18,
    MOVABLE_RUN,
    SIGNED_OFF_RUN,
    OMS_COLLISIONS_RUN,
    OMS_NEWEST_RUN,
}


@pytest.fixture(autouse=True)
def rr(runreg_server: Server) -> Iterator[ModuleType]:
    """The client as a physicist sets it up for a local server, pointed at ours (rr_client §2.2)."""
    runregistry.setup("local")
    client_module.api_url = runreg_server.base_url
    yield runregistry
    runregistry.setup("local")


def numbers(items: list[dict[str, Any]]) -> set[int]:
    return {item["run_number"] for item in items}


def pairs(datasets: list[dict[str, Any]]) -> set[tuple[int, str]]:
    return {(d["run_number"], d["name"]) for d in datasets}


def expand(ranges: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Ranges back to one element per LS, checking they tile 1..N."""
    out: list[dict[str, Any]] = []
    for r in ranges:
        assert r["start"] == len(out) + 1
        value = {k: v for k, v in r.items() if k not in ("start", "end")}
        out.extend(value for _ in range(r["end"] - r["start"] + 1))
    return out


# -- setup --------------------------------------------------------------------------------------------------
def test_setup_targets(rr: ModuleType) -> None:
    rr.setup("production")
    assert "https://cmsrunregistry" in client_module.api_url
    rr.setup("development")
    assert "https://dev-cmsrunregistry" in client_module.api_url
    rr.setup("local")
    assert client_module.api_url == "http://localhost:9500" and client_module._get_token() == ""
    with pytest.raises(Exception, match="Invalid setup target"):
        rr.setup("Olo kaskarikes mas kaneis")


# -- runs ---------------------------------------------------------------------------------------------------
def test_get_run_is_the_compressed_run_or_nothing(rr: ModuleType) -> None:
    run = rr.get_run(VALID_RUN)

    assert set(run) == COMPRESSED_RUN_KEYS
    assert (run["run_number"], run["class"], run["state"], run["significant"]) == (
        VALID_RUN,
        "Cosmics18",
        "SIGNOFF",
        True,
    )
    assert run["lumisections"]["dt-dt"] == {
        "EMPTY": 0,
        "GOOD": 40,
        "BAD": 5,
        "comments": ["HV trip"],
        "causes": ["HV"],
    }
    assert run["oms_attributes"]["hlt_key"].startswith("/cdaq/cosmic/")
    assert rr.get_run(INVALID_RUN) == {}


def test_get_runs_without_a_filter_lists_every_run_newest_first(rr: ModuleType) -> None:
    runs = rr.get_runs()

    assert [r["run_number"] for r in runs] == sorted(ALL_RUNS, reverse=True)
    # The client suite's "latest run" idiom (a single page: the client does not apply `limit` then).
    assert rr.get_runs(limit=1, filter={})[0]["run_number"] == OMS_NEWEST_RUN


def test_paging_gives_the_same_runs_and_limit_cuts_across_pages(rr: ModuleType) -> None:
    paged = rr.get_runs(filter={}, page_size=3)

    assert [r["run_number"] for r in paged] == sorted(ALL_RUNS, reverse=True)
    assert [r["run_number"] for r in rr.get_runs(limit=4, filter={}, page_size=3)] == sorted(ALL_RUNS)[::-1][
        :4
    ]
    ascending = rr.get_runs(filter=IN_309K, sortings=[["run_number", "ASC"]], page_size=2)
    assert [r["run_number"] for r in ascending] == sorted(RUNS_IN_309K)


def test_run_filters_return_exactly_the_matching_runs(rr: ModuleType) -> None:
    assert numbers(rr.get_runs(filter=IN_309K)) == RUNS_IN_309K
    assert numbers(rr.get_runs(filter={**IN_309K, "dt-dt": "GOOD"})) == DT_GOOD_IN_309K
    assert numbers(rr.get_runs(filter={**IN_309K, "tracker-strip": "good"})) == STRIP_GOOD_IN_309K
    assert numbers(rr.get_runs(filter={"class": "Collisions18"})) == COLLISIONS18
    assert numbers(rr.get_runs(filter={"run_number": {"or": [VALID_RUN, SIGNED_OFF_RUN]}})) == {
        VALID_RUN,
        SIGNED_OFF_RUN,
    }
    inclusive = {"run_number": {"and": [{">=": 309000}, {"<=": 310000}]}}
    assert numbers(rr.get_runs(filter=inclusive)) == RUNS_IN_309K | {309000, 310000}
    assert numbers(rr.get_runs(filter={"hlt_key": {"like": "%cosmic%"}, **IN_309K})) == {
        309221,
        309421,
        309555,
    }
    assert numbers(rr.get_runs(filter={**IN_309K, "significant": True, "state": "COMPLETED"})) == {
        309311,
        309421,
        309555,
    }


def test_raw_filters_with_ignore_filter_transformation(rr: ModuleType) -> None:
    """The client suite's ILIKE on mixed-case HLT keys plus the triplet `> 0` idiom, sent as written."""
    raw = {
        **IN_309K,
        "oms_attributes.hlt_key": {"like": "%commissioning2018%"},
        "triplet_summary.dt-dt.GOOD": {">": 0},
    }

    runs = rr.get_runs(filter=raw, ignore_filter_transformation=True)

    assert numbers(runs) == COMMISSIONING2018_IN_309K & DT_GOOD_IN_309K
    either = {"or": [{"run_number": VALID_RUN}, {"rr_attributes.class": {"like": "collisions18"}}]}
    assert numbers(rr.get_runs(filter=either, ignore_filter_transformation=True)) == {
        VALID_RUN,
        *COLLISIONS18,
    }


def test_uncompressed_runs_are_the_server_objects(rr: ModuleType) -> None:
    runs = rr.get_runs(filter={**IN_309K, "dt-dt": "GOOD"}, compress_attributes=False)

    assert numbers(runs) == DT_GOOD_IN_309K
    assert all(set(r) == RUN_KEYS and r["deleted"] is False for r in runs)
    assert all(set(r["DatasetTripletCache"]) == {"triplet_summary"} for r in runs)
    assert all(r["DatasetTripletCache"]["triplet_summary"]["dt-dt"]["GOOD"] > 0 for r in runs)


def test_a_filter_the_server_refuses_raises_its_message(rr: ModuleType) -> None:
    with pytest.raises(ValueError, match="unknown operator"):
        rr.get_runs(filter={"run_number": {"~": 1}}, ignore_filter_transformation=True)
    with pytest.raises(Exception, match="not found within the listed attributes"):
        rr.get_runs(filter={"BRE KAKOS MPELAS": 1})  # refused by the client itself


# -- datasets ------------------------------------------------------------------------------------------------
def test_get_dataset_names_of_run(rr: ModuleType) -> None:
    assert rr.get_dataset_names_of_run(VALID_RUN) == ["online", VALID_DATASET]
    assert rr.get_dataset_names_of_run(INVALID_RUN) == []


def test_get_dataset_is_the_compressed_dataset_or_nothing(rr: ModuleType) -> None:
    dataset = rr.get_dataset(VALID_RUN, VALID_DATASET)
    uncompressed = rr.get_dataset(VALID_RUN, VALID_DATASET, compress_attributes=False)

    assert (dataset["run_number"], dataset["name"]) == (VALID_RUN, VALID_DATASET)
    assert set(dataset) == set(uncompressed["Run"]["rr_attributes"]) | DATASET_KEYS - {
        "Run",
        "DatasetTripletCache",
    } | {"lumisections"}
    assert dataset["state"] == "SIGNOFF"  # the run's online state, a known pitfall of the compression
    assert dataset["dataset_attributes"]["global_state"] == "COMPLETED"
    assert dataset["datasets_in_gui"] == ["/Cosmics/HIRun2018A-PromptReco-v1/DQMIO"]
    assert set(uncompressed) == DATASET_KEYS and set(uncompressed["Run"]) == {
        "rr_attributes",
        "oms_attributes",
    }
    assert uncompressed["DatasetTripletCache"]["dcs_summary"]["dt0_ready"] == {
        "TRUE": 37,
        "FALSE": 8,
        "NULL": 0,
        "EMPTY": 0,
    }
    assert rr.get_dataset(VALID_RUN)["name"] == "online"
    assert rr.get_dataset(INVALID_RUN, INVALID_DATASET) == {}


def test_get_datasets_compressed_or_not(rr: ModuleType) -> None:
    compressed = rr.get_datasets(filter=IN_309K)
    uncompressed = rr.get_datasets(filter=IN_309K, compress_attributes=False)

    assert pairs(compressed) == pairs(uncompressed) and numbers(compressed) == RUNS_IN_309K
    assert all("Run" not in d and "DatasetTripletCache" not in d for d in compressed)
    assert all("Run" in d and set(d) == DATASET_KEYS for d in uncompressed)
    assert len(compressed) == 13  # the five runs' online datasets and their eight offline ones
    # The client applies `limit` only across pages (rr_client §3.1): on one page it returns everything.
    assert rr.get_datasets(limit=5, filter=IN_309K) == compressed
    assert rr.get_datasets(limit=5, filter=IN_309K, page_size=3) == compressed[:5]


def test_dataset_filters_return_exactly_the_matching_datasets(rr: ModuleType) -> None:
    offline_in_range = {
        (309113, "/PromptReco/Commissioning2018/DQM"),
        (309221, "/PromptReco/Commissioning2018/DQM"),
        (309311, "/PromptReco/Commissioning2018/DQM"),
        (309421, "/PromptReco/Cosmics18CRUZET/DQM"),
        (309421, "/Express/Cosmics18CRUZET/DQM"),
        (309421, "/PromptReco/Cosmics18CRUZET_ReReco/DQM"),
        (309555, "/PromptReco/Cosmics18CRUZET/DQM"),
        (309555, "/PromptReco/Cosmics18CRUZETv2/DQM"),
    }
    raw = {
        "and": [IN_309K],
        "name": {"and": [{"<>": "online"}]},
        "dataset_attributes.global_state": {
            "and": [{"or": [{"=": "OPEN"}, {"=": "SIGNOFF"}, {"=": "COMPLETED"}]}]
        },
    }
    cruzet = {
        "dataset_name": {"like": "%/PromptReco/Cosmics18CRUZET%"},
        "run_number": {"and": [{">=": 309000}, {"<=": 310000}]},
        "class": {"like": "Cosmics18CRUZET"},
        "global_state": {"like": "COMPLETED"},
        "ecal-ecal": "EXCLUDED",
    }

    assert pairs(rr.get_datasets(filter=raw, ignore_filter_transformation=True)) == offline_in_range
    assert pairs(rr.get_datasets(filter=cruzet)) == CRUZET_MATCHES
    assert pairs(rr.get_datasets(filter={**IN_309K, "tracker-strip": "GOOD"})) == {
        *((n, "online") for n in STRIP_GOOD_IN_309K),
        *(p for p in offline_in_range if p[0] != 309221),
    }
    assert pairs(rr.get_datasets(filter={"run_number": VALID_RUN, "dataset_name": VALID_DATASET})) == {
        (VALID_RUN, VALID_DATASET)
    }


def test_the_dc_tools_api_call_reads_the_datasets_the_tools_act_on(
    rr: ModuleType, runreg_server: Server
) -> None:
    """The page's "Get API call" snippet, run as printed, reads exactly the datasets of the filter."""
    chosen = {"and": [IN_309K, {"name": {"like": "%Cosmics18CRUZET%"}}]}
    namespace: dict[str, Any] = {}
    exec(export.api_call(chosen), namespace)  # noqa: S102 — our own generated snippet
    expected = set(selection.select(runreg_server.db, filter=chosen, limit=1000).keys)
    assert expected and pairs(namespace["datasets"]) == expected


# -- lumisections --------------------------------------------------------------------------------------------
def test_rr_lumisections_and_their_ranges_agree(rr: ModuleType) -> None:
    for dataset in ("online", VALID_DATASET):
        per_ls = rr.get_lumisections(VALID_RUN, dataset)
        ranges = rr.get_lumisection_ranges(VALID_RUN, dataset)

        assert len(per_ls) == 45 and expand(ranges) == per_ls
        assert ranges == lumisection_ranges(per_ls)
    by_component = rr.get_lumisection_ranges_by_component(VALID_RUN)
    assert set(by_component) == {"dt-dt", "rpc-hv", "tracker-track_private"}
    assert by_component["dt-dt"] == [
        {"status": "GOOD", "comment": "", "cause": "", "start": 1, "end": 40},
        {"status": "BAD", "comment": "HV trip", "cause": "HV", "start": 41, "end": 45},
    ]
    per_ls = rr.get_lumisections(VALID_RUN)
    for component, ranges in by_component.items():
        assert expand(ranges) == [ls[component] for ls in per_ls]


def test_oms_lumisections_inherit_and_override_and_agree_with_the_ranges(rr: ModuleType) -> None:
    online = rr.get_oms_lumisections(VALID_RUN)
    offline = rr.get_oms_lumisections(VALID_RUN, VALID_DATASET)

    assert len(online) == len(offline) == 45
    assert [ls["dt0_ready"] for ls in online][8:13] == [True] * 5
    assert [ls["dt0_ready"] for ls in offline][8:13] == [True, False, False, False, True]
    assert all(ls["dt0_ready"] is False for ls in online[40:])
    ranges = rr.get_oms_lumisection_ranges(VALID_RUN)
    assert ranges == lumisection_ranges(online, DCS_WHITELIST)
    assert [(r["start"], r["end"]) for r in ranges] == [(1, 40), (41, 45)]
    joint = rr.get_joint_lumisection_ranges(VALID_RUN, VALID_DATASET)
    rr_ls = rr.get_lumisections(VALID_RUN, VALID_DATASET)
    assert expand(joint) == [{**o, **r} for o, r in zip(offline, rr_ls, strict=True)]


def test_lumisections_of_unknown_runs_or_datasets_are_empty(rr: ModuleType) -> None:
    assert rr.get_lumisections(INVALID_RUN) == rr.get_oms_lumisections(INVALID_RUN) == []
    assert rr.get_lumisection_ranges(VALID_RUN, INVALID_DATASET) == []
    assert rr.get_lumisection_ranges_by_component(INVALID_RUN) == {}
    assert rr.get_oms_lumisection_ranges(INVALID_RUN) == rr.get_joint_lumisection_ranges(INVALID_RUN) == []


# -- cycles, accepted datasets, JSON -------------------------------------------------------------------------
def test_get_cycles_lists_a_created_cycle_with_its_datasets(rr: ModuleType, runreg_server: Server) -> None:
    """rr_client §3.6 and the client suite's test_client_get_cycles, on a cycle made by the web UI route."""
    created = requests.post(
        f"{runreg_server.base_url}/cycles",
        json={
            "cycle_name": "compat cycle",
            "deadline": "2030-01-01T00:00:00Z",
            "cycle_attributes": {"global_state": "pending", "dt_state": "pending"},
            "filter": {"run_number": VALID_RUN, "name": VALID_DATASET},
        },
        headers={"email": "api@api"},
        timeout=10,
    )
    assert created.status_code == 200, created.text

    [cycle] = [c for c in rr.get_cycles() if c["cycle_name"] == "compat cycle"]

    assert {"id_cycle", "cycle_name", "cycle_attributes", "deadline", "datasets"} <= set(cycle)
    assert cycle["cycle_attributes"] == {"global_state": "pending", "dt_state": "pending"}
    assert pairs(cycle["datasets"]) == {(VALID_RUN, VALID_DATASET)}


def test_datasets_accepted_are_the_configured_rules(rr: ModuleType) -> None:
    configured = default_configuration().datasets_accepted

    accepted = rr.get_datasets_accepted()

    assert [(a["id"], a["name"], a["class"], a["enabled"]) for a in accepted] == [
        (i, rule.name, rule.class_name, rule.enabled) for i, rule in enumerate(configured, start=1)
    ]
    assert [a["regexp"].split("\n") for a in accepted] == [rule.regexps for rule in configured]
    assert [(a["run_from"], a["run_to"]) for a in accepted] == [(r.run_from, r.run_to) for r in configured]
    assert accepted[1]["regexp"].startswith("/ZeroBias/Run2024C-PromptReco-v.*?/DQMIO\n/Muon0/")


def test_create_json(rr: ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(client_module, "JSON_CREATION_SLEEP_TIME", 0.05)
    dataset = "/PromptReco/Collisions2018A/DQM"
    logic = {
        "and": [
            {"==": [{"var": "lumisection.rr.tracker-strip"}, "GOOD"]},
            {">=": [{"var": "run.oms.energy"}, 6000]},
        ]
    }
    result = rr.create_json(logic, dataset)
    # The two 6.5 TeV runs of the seed have tracker-strip GOOD on all 60 LS of it; nothing else matches.
    assert result["generated_json"] == {"319579": [[1, 60]], "320500": [[1, 60]]}
    assert {str(n) for n in COLLISIONS18} == set(result["generated_json"])
    assert result["dataset_name_filter"] == dataset and result["json_logic"] == logic
    strip_bad = {"==": [{"var": "lumisection.rr.tracker-strip"}, "BAD"]}
    assert rr.create_json(strip_bad, dataset)["generated_json"] == {}


# -- writes with the right e-group ---------------------------------------------------------------------------
def test_edit_rr_lumisections_is_read_back_and_survives_a_refresh(rr: ModuleType) -> None:
    answer = rr.edit_rr_lumisections(OMS_COLLISIONS_RUN, 3, 4, "dt-dt", "BAD", comment="HV trip", cause="HV")

    assert answer["jsonb"] == {"dt-dt": {"status": "BAD", "comment": "HV trip", "cause": "HV"}}
    assert (answer["start"], answer["end"], answer["manual_change"]) == (3, 4, True)
    per_ls = rr.get_lumisections(OMS_COLLISIONS_RUN)
    assert per_ls[2]["dt-dt"] == per_ls[3]["dt-dt"] == answer["jsonb"]["dt-dt"]
    assert per_ls[1]["dt-dt"]["comment"] == per_ls[4]["dt-dt"]["comment"] == ""  # the classifiers' own
    refreshed = rr.manually_refresh_components_statuses_for_runs(runs=OMS_COLLISIONS_RUN)
    assert len(refreshed) == 1 and set(refreshed[0]) == RUN_KEYS
    assert rr.get_lumisections(OMS_COLLISIONS_RUN)[2]["dt-dt"]["comment"] == "HV trip"  # manual precedence
    reset = rr.reset_RR_attributes_and_refresh_runs(runs=[OMS_COLLISIONS_RUN])
    assert (
        reset[0]["run_number"] == OMS_COLLISIONS_RUN and reset[0]["rr_attributes"]["class"] == "Collisions24"
    )


def test_change_run_class_is_read_back(rr: ModuleType) -> None:
    answers = rr.change_run_class([MOVABLE_RUN], "Collisions22Special")

    assert answers[0]["rr_attributes"]["class"] == "Collisions22Special" and set(answers[0]) == RUN_KEYS
    assert rr.get_run(MOVABLE_RUN)["class"] == "Collisions22Special"
    rr.change_run_class(MOVABLE_RUN, "Collisions22")
    assert rr.get_run(MOVABLE_RUN)["class"] == "Collisions22"


def test_stop_reason_edit_the_web_ui_sends(rr: ModuleType, runreg_server: Server) -> None:
    """Not a client function, but the same legacy route family (the original's web UI uses it)."""
    url = f"{runreg_server.base_url}/manual_run_edit/{MOVABLE_RUN}/stop_reason"

    answer = requests.put(url, json={"stop_reason": "DAQ crash"}, headers={"email": "api@api"}, timeout=10)

    assert answer.status_code == 200 and answer.json()["rr_attributes"]["stop_reason"] == "DAQ crash"
    assert rr.get_run(MOVABLE_RUN)["stop_reason"] == "DAQ crash"


def test_move_runs_there_and_back(rr: ModuleType) -> None:
    signed = rr.move_runs("OPEN", "SIGNOFF", run=MOVABLE_RUN)

    assert signed[0]["rr_attributes"]["state"] == "SIGNOFF" and "DatasetTripletCache" in signed[0]
    assert rr.get_run(MOVABLE_RUN)["state"] == "SIGNOFF"
    with pytest.raises(Exception, match="Got response 500 when moving datasets: .*already SIGNOFF"):
        rr.move_runs("OPEN", "SIGNOFF", runs=[MOVABLE_RUN])
    assert rr.move_runs("SIGNOFF", "OPEN", runs=[MOVABLE_RUN])[0]["rr_attributes"]["state"] == "OPEN"


def test_move_datasets_opens_every_waiting_workspace_then_signs_one_off(rr: ModuleType) -> None:
    opened = rr.move_datasets(
        "waiting dqm gui", "OPEN", SIGNED_OFF_DATASET, workspace="global", run=SIGNED_OFF_RUN
    )

    states = {k: v for k, v in opened[0]["dataset_attributes"].items() if k.endswith("_state")}
    assert states == {
        "global_state": "OPEN",
        "dt_state": "OPEN",
        "ctpps_state": "OPEN",
        "tracker_state": "OPEN",
    }
    assert set(opened[0]) == DATASET_KEYS
    rr.move_datasets("OPEN", "SIGNOFF", SIGNED_OFF_DATASET, workspace="ctpps", runs=[SIGNED_OFF_RUN])
    attributes = rr.get_dataset(SIGNED_OFF_RUN, SIGNED_OFF_DATASET)["dataset_attributes"]
    assert (attributes["ctpps_state"], attributes["dt_state"], attributes["global_state"]) == (
        "SIGNOFF",
        "OPEN",
        "OPEN",
    )


def test_offline_datasets_of_a_signed_off_run_through_the_client(
    rr: ModuleType, runreg_server: Server
) -> None:
    """A Collisions24 run signed off with the client gets the default rules' datasets; the client reads them,
    opens one, edits it while OPEN (and is refused once signed off), moves it with from-states checked."""
    run, prompt, express = (
        OMS_COLLISIONS_RUN,
        "/PromptReco/Collisions2024C/DQM",
        "/Express/Collisions2024/DQM",
    )
    rr.move_runs("OPEN", "SIGNOFF", run=run)
    try:
        assert rr.get_dataset_names_of_run(run) == ["online", express, prompt]
        dataset = rr.get_dataset(run, prompt)
        assert (dataset["run_number"], dataset["name"], dataset["state"]) == (run, prompt, "SIGNOFF")
        states = {k: v for k, v in dataset["dataset_attributes"].items() if k.endswith("_state")}
        assert set(states.values()) == {"waiting dqm gui"} and {"global_state", "dt_state"} <= set(states)
        waiting = rr.get_datasets(filter={"run_number": run, "global_state": "waiting dqm gui"})
        assert pairs(waiting) == {(run, express), (run, prompt)}
        offline = rr.get_datasets(
            filter={"run_number": {"=": run}, "dataset_name": {"like": "%PromptReco%"}},
            compress_attributes=False,
        )
        assert pairs(offline) == {(run, prompt)} and offline[0]["deleted"] is False

        # The offline statuses are the online ones (default offline classifiers), the OMS values inherited.
        online_ls = rr.get_lumisections(run)
        offline_ls = rr.get_lumisections(run, prompt)
        assert len(offline_ls) == len(online_ls) > 0
        assert [ls["dt-dt"]["status"] for ls in offline_ls] == [ls["dt-dt"]["status"] for ls in online_ls]
        assert expand(rr.get_lumisection_ranges(run, prompt)) == offline_ls
        assert rr.get_oms_lumisections(run, prompt) == rr.get_oms_lumisections(run)
        # The client's get_oms_lumisection_ranges forces `online`; the route itself serves offline datasets.
        oms_ranges = requests.post(
            f"{runreg_server.base_url}/lumisections/oms_lumisection_ranges",
            json={"run_number": run, "dataset_name": prompt},
            timeout=10,
        ).json()
        assert oms_ranges == rr.get_oms_lumisection_ranges(run) != []

        with pytest.raises(Exception, match="only be edited while it is OPEN"):
            rr.edit_rr_lumisections(run, 1, 2, "dt-dt", "BAD", comment="noisy", dataset_name=prompt)
        opened = rr.move_datasets("waiting dqm gui", "OPEN", prompt, workspace="global", run=run)
        assert opened[0]["dataset_attributes"]["dt_state"] == "OPEN"
        answer = rr.edit_rr_lumisections(
            run, 1, 2, "dt-dt", "BAD", comment="noisy chamber", dataset_name=prompt
        )
        assert answer["name"] == prompt and answer["manual_change"] is True
        assert rr.get_lumisections(run, prompt)[1]["dt-dt"]["comment"] == "noisy chamber"
        assert rr.get_lumisections(run)[1]["dt-dt"]["comment"] == ""  # online untouched
        rr.move_datasets("OPEN", "SIGNOFF", prompt, workspace="dt", runs=[run])
        with pytest.raises(Exception, match="is SIGNOFF in workspace dt"):
            rr.edit_rr_lumisections(run, 3, 4, "dt-dt", "BAD", comment="late", dataset_name=prompt)
        with pytest.raises(Exception, match="when moving datasets: .*is SIGNOFF in dt, not OPEN"):
            rr.move_datasets("OPEN", "COMPLETED", prompt, workspace="dt", run=run)
        with pytest.raises(Exception, match="cannot move from waiting dqm gui to SIGNOFF"):
            rr.move_datasets("waiting dqm gui", "SIGNOFF", express, workspace="global", run=run)
    finally:
        rr.move_runs(
            "SIGNOFF", "OPEN", run=run
        )  # later tests refresh it (its datasets stay, as the original)
    # Signing off again duplicates nothing.
    rr.move_runs("OPEN", "SIGNOFF", run=run)
    rr.move_runs("SIGNOFF", "OPEN", run=run)
    assert rr.get_dataset_names_of_run(run) == ["online", express, prompt]
    assert rr.get_dataset(run, prompt)["dataset_attributes"]["dt_state"] == "SIGNOFF"


def test_make_significant_runs(rr: ModuleType) -> None:
    assert rr.get_run(OMS_NEWEST_RUN)["significant"] is False
    assert rr.get_lumisection_ranges(OMS_NEWEST_RUN) == []

    answers = rr.make_significant_runs(run=OMS_NEWEST_RUN)

    assert answers[0]["rr_attributes"]["significant"] is True
    assert rr.get_run(OMS_NEWEST_RUN)["significant"] is True
    # LS statuses are now computed: every LS of the run, for every certifiable online component, judged.
    ranges = rr.get_lumisection_ranges(OMS_NEWEST_RUN)
    per_ls = expand(ranges)
    plan = WORLD.plan(OMS_NEWEST_RUN)
    assert plan is not None and len(per_ls) == plan.ls_count
    certifiable = set(default_configuration().certifiable_components("online"))
    assert all(set(ls) == certifiable for ls in per_ls)
    assert {ls[c]["status"] for ls in per_ls for c in certifiable} <= {"GOOD", "BAD", "STANDBY", "EXCLUDED"}


def test_runs_that_are_not_open_refuse_with_the_original_phrases(rr: ModuleType) -> None:
    with pytest.raises(Exception, match="Run must be in state OPEN") as reset:
        rr.reset_RR_attributes_and_refresh_runs(runs=SIGNED_OFF_RUN)
    assert "resetting and refreshing runs" in str(reset.value)
    with pytest.raises(
        Exception, match="manually refreshing component statuses: .*Run must be in state OPEN"
    ):
        rr.manually_refresh_components_statuses_for_runs(runs=[SIGNED_OFF_RUN])
    with pytest.raises(Exception, match="Run must be in state OPEN to be edited"):
        rr.change_run_class(SIGNED_OFF_RUN, "test")
    with pytest.raises(Exception, match="Run must be in state OPEN to be marked significant"):
        rr.make_significant_runs(runs=[SIGNED_OFF_RUN])
    with pytest.raises(
        Exception, match=f"Error updating lumisections of online dataset, run number: {SIGNED_OFF_RUN}"
    ):
        rr.edit_rr_lumisections(SIGNED_OFF_RUN, 1, 2, "dt-dt", "GOOD")
    with pytest.raises(Exception, match="Run not found"):
        rr.manually_refresh_components_statuses_for_runs(runs=INVALID_RUN)


# -- writes without e-groups ---------------------------------------------------------------------------------
@pytest.mark.usefixtures("without_egroups")
def test_every_write_is_refused_without_egroups(rr: ModuleType, runreg_server: Server) -> None:
    def newest_change_set() -> int:
        log = requests.get(f"{runreg_server.base_url}/api/v1/change-sets", params={"limit": 1}, timeout=10)
        return log.json()[0]["id"]

    before = rr.get_run(SIGNED_OFF_RUN, compress_attributes=False)
    newest_before = rr.get_run(OMS_NEWEST_RUN, compress_attributes=False)
    last_change_set = newest_change_set()
    writes = [
        lambda: rr.move_datasets(
            "waiting dqm gui", "OPEN", SIGNED_OFF_DATASET, workspace="global", run=SIGNED_OFF_RUN
        ),
        lambda: rr.move_datasets(
            "OPEN", "SIGNOFF", SIGNED_OFF_DATASET, workspace="ctpps", runs=[SIGNED_OFF_RUN]
        ),
        lambda: rr.make_significant_runs(run=OMS_NEWEST_RUN),
        lambda: rr.make_significant_runs(runs=[OMS_NEWEST_RUN]),
        lambda: rr.move_runs("OPEN", "SIGNOFF", run=SIGNED_OFF_RUN),
        lambda: rr.move_runs("OPEN", "SIGNOFF", runs=[SIGNED_OFF_RUN]),
        lambda: rr.edit_rr_lumisections(SIGNED_OFF_RUN, 0, 1, "castor-castor", "GOOD"),
        lambda: rr.change_run_class([SIGNED_OFF_RUN], "test"),
        lambda: rr.change_run_class(SIGNED_OFF_RUN, "test"),
        # Deviation: refresh and reset need a permission too (the original left them open).
        lambda: rr.reset_RR_attributes_and_refresh_runs(runs=OMS_NEWEST_RUN),
        lambda: rr.manually_refresh_components_statuses_for_runs(runs=OMS_NEWEST_RUN),
    ]
    for write in writes:
        with pytest.raises(Exception, match=EGROUPS_ERROR):
            write()
    assert rr.get_run(SIGNED_OFF_RUN, compress_attributes=False) == before
    assert rr.get_run(OMS_NEWEST_RUN, compress_attributes=False) == newest_before
    assert newest_change_set() == last_change_set  # not one change set was written


# -- the client's own argument checks (nothing is sent) ------------------------------------------------------
@pytest.mark.parametrize(
    "call",
    [
        lambda rr: rr.move_datasets("MPAMIES", "OPEN", SIGNED_OFF_DATASET, run=SIGNED_OFF_RUN),
        lambda rr: rr.move_datasets("OPEN", "AGKINARES", SIGNED_OFF_DATASET, run=SIGNED_OFF_RUN),
        lambda rr: rr.move_datasets("MPAMIES", "OPEN", SIGNED_OFF_DATASET),
        lambda rr: rr.make_significant_runs(),
        lambda rr: rr.reset_RR_attributes_and_refresh_runs(),
        lambda rr: rr.manually_refresh_components_statuses_for_runs(),
        lambda rr: rr.move_runs("OPEN", "SIGNOFF"),
        lambda rr: rr.move_runs("!!!!", "???", runs=[SIGNED_OFF_RUN]),
        lambda rr: rr.edit_rr_lumisections(SIGNED_OFF_RUN, 0, 1, "castor-castor", "KALHSPERA STHN PAREA ;)"),
        lambda rr: rr.change_run_class(["3455555"], "test"),
        lambda rr: rr.change_run_class("3455555", "test"),
        lambda rr: rr.change_run_class([SIGNED_OFF_RUN], 1),
    ],
)
def test_bad_arguments_raise_value_error(rr: ModuleType, call: Any) -> None:
    with pytest.raises(ValueError):
        call(rr)
