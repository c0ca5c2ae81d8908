"""The pure rules of the workflow cache: slim document, expected numbers, tiers, keys, history, callbacks."""

from __future__ import annotations

from runreg.workflows import model
from runreg.workflows.model import FromDataset, FromParent, Known, Numbers

TASKCHAIN = {
    "RequestName": "pdmvserv_task_EXO-Run3Summer23wmLHEGS-00001__v1_T_230101_120000_1234",
    "RequestType": "TaskChain",
    "TaskChain": 2,
    "PrepID": "task_EXO-Run3Summer23wmLHEGS-00001",
    "RequestPriority": "110000",
    "ProcessingString": {"Task1": "ps1", "Task2": "ps2"},
    "Task1": {"Campaign": "Run3Summer23wmLHEGS", "PrepID": "EXO-Run3Summer23wmLHEGS-00001",
              "ProcessingString": "ps1", "RequestNumEvents": 1000, "FilterEfficiency": 0.5},
    "Task2": {"AcquisitionEra": "Run3Summer23DRPremix", "PrepID": "EXO-Run3Summer23DRPremix-00002"},
    "OutputDatasets": [["/X/A-v1/NANOAODSIM"], "/X/A-v1/GEN-SIM", ["/X/A-v1/MINIAODSIM", ["/X/A-v1/WEIRD"]]],
    "RequestTransition": [{"Status": "new", "UpdateTime": 1, "DN": "someone"}],
    "Comments": "dropped",
}  # fmt: skip


def test_slim_copies_normalises_and_drops() -> None:
    doc = model.slim(TASKCHAIN)
    assert doc["_id"] == TASKCHAIN["RequestName"]
    assert doc["ProcessingString"] == "ps1"  # from Task1, the per-task dict is not kept
    assert doc["RequestPriority"] == 110000
    assert doc["RequestTransition"] == [{"Status": "new", "UpdateTime": 1}]
    tiers = [d.rsplit("/", 1)[1] for d in doc["OutputDatasets"]]
    assert tiers == ["WEIRD", "GEN-SIM", "MINIAODSIM", "NANOAODSIM"]  # unknown first, final tiers last
    assert doc["Campaigns"] == ["Run3Summer23wmLHEGS", "Run3Summer23DRPremix"]
    assert doc["Requests"] == ["EXO-Run3Summer23wmLHEGS-00001", "EXO-Run3Summer23DRPremix-00002"]
    assert doc["LumiList"] == {} and "Comments" not in doc and "InputDataset" not in doc


def test_stepchain_reads_steps_and_a_null_prepid_is_dropped() -> None:
    raw = {"RequestName": "n", "StepChain": 2, "PrepID": None, "Campaign": "Top",
           "Step1": {"Campaign": "C1", "InputDataset": "/In/put/RAW"}, "Step2": {}}  # fmt: skip
    doc = model.slim(raw)
    assert "PrepID" not in doc and doc["Campaigns"] == ["C1"] and doc["InputDataset"] == "/In/put/RAW"
    assert model.campaigns({"RequestName": "n", "AcquisitionEra": "Era"}) == ["Era"]


def test_expected_events_rules_in_order() -> None:
    source = model.expected_events_source
    assert source({"TotalInputFiles": 3, "TotalInputEvents": 100, "FilterEfficiency": 0.25}) == Known(25)
    assert source({"TotalInputFiles": 0, "TotalInputEvents": 100, "RequestNumEvents": 7}) == Known(7)
    assert model.expected_events_source(TASKCHAIN) == Known(1000)  # rule 3; efficiency only for rule 1
    assert model.expected_events_source({"Step1": {"RequestNumEvents": 9}}) == Known(9)
    assert source({"Task1": {"InputDataset": "/a/b/RAW"}}) == FromDataset("/a/b/RAW", None)
    masked = source({"Task1": {"InputDataset": "/a/b/RAW", "LumiList": {"5": [[1, 2]]}}})
    assert masked == FromDataset("/a/b/RAW", {5: [[1, 2]]})
    assert model.expected_events_source({}) == model.UNKNOWN
    assert model.expected_events_source({"RequestType": "Resubmission", "PrepID": "p"}) == FromParent(
        "p", "TotalInputEvents"
    )


def test_a_resubmission_takes_the_first_non_resubmission_sibling() -> None:
    siblings = [
        {"RequestType": "Resubmission", "TotalInputEvents": 5, "TotalInputLumis": 5},
        {"RequestType": "ReReco", "TotalInputEvents": None, "TotalInputLumis": None},
        {"RequestType": "ReReco", "TotalInputEvents": 200, "TotalInputLumis": 40},
    ]
    assert model.from_parent(siblings, FromParent("p", "TotalInputEvents"), 0.5) == 100
    assert model.from_parent(siblings, FromParent("p", "TotalInputLumis"), 0.5) == 40
    assert model.from_parent([], FromParent("p", "TotalInputLumis"), 1.0) == -1  # never None
    assert model.expected_lumis_source({"RequestType": "Resubmission"}) == model.UNKNOWN


def test_lumis_are_tracked_for_rereco_with_a_mask_and_known_lumis_only() -> None:
    base = {"RequestType": "ReReco", "LumiList": {"1": [[1, 2]]}, "TotalInputLumis": 2}
    assert model.lumis_tracked(base)
    assert model.lumis_tracked(base | {"RequestType": "resubmission"})
    assert not model.lumis_tracked(base | {"RequestType": "TaskChain"})
    assert not model.lumis_tracked(base | {"LumiList": {}})
    assert not model.lumis_tracked(base | {"TotalInputLumis": -1})


def test_the_dirty_check_compares_content_not_bookkeeping() -> None:
    doc = model.slim(TASKCHAIN)
    stored = doc | {"LastUpdate": 5, "_rev": "3-abc"}
    assert model.same_content(stored, doc)  # the original's check could never say this
    assert not model.same_content(stored, doc | {"RequestPriority": 1})
    assert not model.same_content(None, doc)
    reordered = dict(reversed(list(doc.items())))
    assert model.same_content(reordered, doc)


def test_view_keys_and_submission_stamp() -> None:
    doc = model.slim(TASKCHAIN)
    keys = model.view_keys(doc)
    assert ("prepid", TASKCHAIN["PrepID"]) in keys and ("type", "TaskChain") in keys
    assert ("processing_string", "ps1") in keys and ("campaign", "Run3Summer23DRPremix") in keys
    assert sum(1 for kind, _ in keys if kind == "output_dataset") == 4 and len(keys) == len(set(keys))
    assert model.submitted(TASKCHAIN["RequestName"]) == "230101_120000"
    assert model.submitted("no_stamp") == ""


def test_history_entries_carry_every_dataset_forward() -> None:
    a1, b1, a2 = Numbers("PRODUCTION", 10, 100), Numbers("NONE", 0, 0), Numbers("VALID", 20, 200)
    entries = model.history_entries([(1, "/a", a1), (1, "/b", b1), (5, "/a", a2)])
    assert entries == [
        {"Time": 1, "Datasets": {"/a": a1.as_entry(), "/b": b1.as_entry()}},
        {"Time": 5, "Datasets": {"/a": {"Type": "VALID", "Events": 20, "Size": 200}, "/b": b1.as_entry()}},
    ]
    assert Numbers("VALID", 1, 2, 0).as_entry() == {"Type": "VALID", "Events": 1, "Size": 2, "Lumis": 0}


def test_numbers_of_a_dataset_dbs_does_not_know_and_of_a_valid_one_with_zero_lumis() -> None:
    assert model.numbers(None, None, with_lumis=True) == Numbers("NONE", 0, 0, 0)
    # The original's cache bug recorded such a dataset as NONE/0: its lumis are really 0, its events are not.
    assert model.numbers("VALID", (500, 9, 0), with_lumis=True) == Numbers("VALID", 500, 9, 0)
    assert model.numbers("VALID", (500, 9, 7), with_lumis=False) == Numbers("VALID", 500, 9, None)


def test_callback_targets_and_service_types() -> None:
    assert model.callback_target({"RequestType": "ReReco"}) == "rereco"
    assert model.callback_target({"PrepID": "ReReco-Run2024C-x-00001"}) == "rereco"
    assert model.callback_target({"_id": "pdmvserv_RVCMSSW_14_0_0TTbar"}) == "relval"
    assert model.callback_target({}) == "mcm"  # a missing RequestType no longer crashes
    assert model.service_type("ReReco-Run2024C-ZeroBias-00001") == "rereco_machine"
    assert model.service_type("CMSSW_14_0_0__fullsim-TTbar-00001") == "relval_machine"
    assert model.service_type("task_EXO-Run3Summer23wmLHEGS-00001") == "mc"
    assert model.service_type(None) == "unknown"
