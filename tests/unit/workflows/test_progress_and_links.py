"""Completion against the workflow's target, the estimated completion from a dataset's recent pace, and the
links to the services following a workflow (URL-encoded)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest

from runreg.workflows import links, progress

DAY = 86400


def test_target_is_lumis_for_rereco_with_a_lumi_list_else_events() -> None:
    rereco = {"RequestType": "ReReco", "LumiList": {"1": [[1, 5]]}, "TotalInputLumis": 5, "TotalEvents": 900}
    assert progress.expected(rereco) == (5, "lumis")
    assert progress.expected({**rereco, "LumiList": {}}) == (900, "events")
    assert progress.expected({"RequestType": "TaskChain", "TotalEvents": -1}) == (None, "events")
    assert progress.completion(250, 1000) == 0.25
    assert progress.completion(1200, 1000) == 1.2  # DBS can count more than the request's estimate
    assert progress.completion(5, None) is None


def test_completion_is_estimated_from_the_last_days_pace() -> None:
    # 100 events an hour during the last day (an older, faster start does not count).
    points = [(0, 0), (10 * DAY, 5000), (10 * DAY + 3600, 5100), (11 * DAY, 5000 + 24 * 100)]
    eta = progress.estimated_completion(points, 10_000)
    assert eta == pytest.approx(11 * DAY + (10_000 - 7400) / (2400 / 86400))
    # Only one recent point: the pace between the last two.
    assert progress.estimated_completion([(0, 0), (3600, 100)], 1000) == pytest.approx(3600 + 900 * 36)


@pytest.mark.parametrize(
    "points, target",
    [
        ([(0, 0), (60, 1000)], 1000),  # done
        ([(0, 500), (60, 500)], 1000),  # not growing
        ([(0, 600), (60, 500)], 1000),  # shrinking (invalidated files)
        ([(60, 500)], 1000),  # one point
        ([(0, 0), (60, 500)], None),  # no target
    ],
)
def test_no_estimate_without_a_pace_or_a_target(points: list[tuple[int, int]], target: int | None) -> None:
    assert progress.estimated_completion(points, target) is None


def test_links_encode_names_and_follow_the_prepid_service() -> None:
    das = urlparse(links.das("/A/B-v1/AOD#x&y"))
    assert parse_qs(das.query)["input"] == ["dataset=/A/B-v1/AOD#x&y"]
    assert links.request("task_EXO-Run3-01234", "EXO-Run3-01234") == (
        "McM",
        "https://cms-pdmv-prod.web.cern.ch/mcm/requests?prepid=EXO-Run3-01234",
    )
    assert links.campaign("ReReco-Run2024C-X-00001", "Run2024C-X")[0] == "ReReco"
    label, url = links.campaign("CMSSW_14_0_0__fullsim-ZEE_14-40225", "CMSSW_14_0_0__fullsim_PU-261126014859")
    assert label == "RelVal"
    assert parse_qs(urlparse(url).query) == {
        "cmssw_release": ["CMSSW_14_0_0"],
        "batch_name": ["fullsim_PU"],
        "campaign_timestamp": ["261126014859"],
    }
    assert links.campaign(None, "X") is None and links.request("weird", "x") is None
    outside = links.workflow("a&b", "P#1")
    assert [label for label, _ in outside] == ["ReqMgr2", "CMS Unified", "Computing status"]
    assert all("a&b" not in url and "P#1" not in url for _, url in outside)


def test_a_running_workflow_without_new_numbers_for_a_day_is_stalled() -> None:
    now = 10 * DAY
    assert progress.stalled("running-open", now - DAY, now)
    assert not progress.stalled("running-open", now - DAY + 60, now)
    assert not progress.stalled("announced", now - 5 * DAY, now)  # done: nothing more to come
    assert not progress.stalled("running-closed", None, now)  # nothing recorded yet
