"""The Historic DQM page's full-screen plot over HTTP on both engines: the plot asked in the URL is on the
page shown, trends of another dataset added to it, hostile settings refused naming the field; and the
side-panel route /trends/preview: the run's registry facts and the stored bins of the config's MEs, equal
to ROOT's, 404 naming what is missing, 400 naming the parameter."""

from __future__ import annotations

import numpy as np
import pytest
import uproot
from fastapi.testclient import TestClient

from runreg.simulators.dqm_files.generator import MISSING_ME, me_key
from tests.contract.trends_support import ADC, RUNS
from tests.functional.test_trends_pages import PIXEL, client, dqm_files, payload  # noqa: F401

DIGIS = "DigisPerClusterPerPixel"  # main ME, optional1 and optional2, no reference


def trend_ids(client: TestClient, **params: str) -> dict[str, int]:  # noqa: F811
    data = payload(client.get("/trends", params={**PIXEL, "per_page": "100", **params}).text)
    return {s["name"]: s["trend_id"] for c in data["charts"] for s in c["series"]}


def chart_key(client: TestClient, name: str) -> str:  # noqa: F811
    data = payload(client.get("/trends", params={**PIXEL, "per_page": "100"}).text)
    return next(c["key"] for c in data["charts"] if any(s["name"] == name for s in c["series"]))


def test_the_full_screen_plot_is_on_the_page_shown_with_what_can_be_added(client: TestClient) -> None:  # noqa: F811
    key = chart_key(client, DIGIS)
    everything = payload(client.get("/trends", params={**PIXEL, "per_page": "100"}).text)
    position = [c["key"] for c in everything["charts"]].index(key)
    answer = client.get("/trends", params={**PIXEL, "per_page": "2", "fs": key, "sel": str(RUNS[1])})
    assert answer.status_code == 200 and 'id="fullscreen"' in answer.text
    data = payload(answer.text)
    assert data["fullscreen"]["key"] == key and data["fullscreen"]["sel"] == RUNS[1]
    assert key in [c["key"] for c in data["charts"]]  # page position // 2 + 1, whatever page was asked
    assert f"page {position // 2 + 1} of" in answer.text
    choices = data["fullscreen"]["plot_selection"]
    assert "ReReco-Pix-2024" in choices["PixelPhase1"]["Muon-Tagged"]
    # without fs: no full-screen panel, no plot selection
    plain = client.get("/trends", params=PIXEL)
    assert 'id="fullscreen"' not in plain.text and payload(plain.text)["fullscreen"] is None
    # a plot that has no point in the selection: said, not an error
    gone = client.get("/trends", params={**PIXEL, "fs": "trend-999999"})
    assert gone.status_code == 200 and 'id="fs-missing"' in gone.text
    assert payload(gone.text)["fullscreen"] is None


def test_a_trend_of_another_dataset_is_added_to_the_full_screen_plot(client: TestClient) -> None:  # noqa: F811
    key = chart_key(client, DIGIS)
    other = payload(client.get("/trends", params={**PIXEL, "fs": key}).text)["fullscreen"]["plot_selection"]
    muon = next(t["id"] for t in other["PixelPhase1"]["Muon-Tagged"]["ReReco-Pix-2024"] if t["name"] == DIGIS)
    data = payload(client.get("/trends", params={**PIXEL, "fs": key, "add": str(muon), "latest": "3"}).text)
    added = data["fullscreen"]["added"]
    assert [s["trend_id"] for s in added] == [muon]
    assert added[0]["name"] == f"{DIGIS} · Muon-Tagged / ReReco-Pix-2024" and added[0]["pd"] == "Muon-Tagged"
    assert [p[0] for p in added[0]["points"]] == RUNS[2:5]  # latest 3 per trend (its 5th file is not corrupt)
    assert {str(run) for run in RUNS[2:5]} <= set(data["runs"])  # their facts are there for the hover
    # a trend added whose points are outside the selected runs: kept, empty
    ranged = {**PIXEL, "fs": key, "add": str(muon), "filter": "range", "from_run": "1", "to_run": "2"}
    assert payload(client.get("/trends", params=ranged).text)["fullscreen"] is None  # nor is the plot there


@pytest.mark.parametrize(
    ("params", "field", "reason"),
    [
        ({"add": "12,abc"}, "add", "trend ids separated by commas"),
        ({"add": "999999"}, "add", "no trend with points has id 999999"),
        ({"add": ",".join(str(n) for n in range(1, 10))}, "add", "at most 8"),
        ({"add": "99999999999"}, "add", "32-bit"),
        ({"sel": "-4"}, "sel", "not a positive whole number"),
        ({"ylo": "low"}, "ylo", "not a number"),
        ({"ylo": "5", "yhi": "1"}, "ylo", "not below"),
        ({"fs": "x" * 300}, "fs", "fs"),
    ],
)
def test_hostile_full_screen_settings_are_refused_naming_the_field(
    client: TestClient,  # noqa: F811
    params: dict[str, str],
    field: str,
    reason: str,
) -> None:
    key = chart_key(client, DIGIS)
    answer = client.get("/trends", params={**PIXEL, "fs": key, **params})
    assert answer.status_code == 400, answer.status_code
    assert 'class="field-error"' in answer.text and reason in answer.text and field in answer.text


def test_the_preview_holds_the_stored_bins_of_the_configs_mes_and_the_runs_facts(
    client: TestClient,  # noqa: F811
    dqm_files,  # noqa: ANN001, F811
) -> None:
    _, manifest = dqm_files
    ids = trend_ids(client)
    answer = client.get("/trends/preview", params={"trend": ids[DIGIS], "run": RUNS[0]})
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/json"
    body = answer.json()
    assert body["trend"]["pd"] == "ZeroBias" and body["run"]["fill_number"] == 9000 + RUNS[0] % 1000
    assert body["run"]["known"] and body["run"]["class"] == "Collisions24"
    roles = {me["role"]: me for me in body["mes"]}
    assert list(roles) == ["main", "optional1", "optional2", "reference"]
    assert roles["reference"]["histogram"] is None and "names no reference" in roles["reference"]["note"]
    newest = {f.run: f.path for f in manifest.newest() if f.primary_dataset == "ZeroBias"}
    with uproot.open(newest[RUNS[0]]) as f:
        for role in ("main", "optional1", "optional2"):
            me = roles[role]
            drawn, root = me["histogram"], f[me_key(RUNS[0], me["path"])]
            assert drawn["merged"] == [1] and drawn["dimension"] == 1
            assert np.allclose(drawn["values"], root.values(flow=False), rtol=1e-12)
            assert np.allclose(drawn["x_edges"], root.axis().edges(), rtol=1e-12)
    # a 2D map: z[y][x] of the stored bins
    occupancy = next(name for name in ids if name.startswith("Occupancy_Layer1"))
    mapped = client.get("/trends/preview", params={"trend": ids[occupancy], "run": RUNS[0]}).json()
    main = mapped["mes"][0]["histogram"]
    with uproot.open(newest[RUNS[0]]) as f:
        root = f[me_key(RUNS[0], mapped["mes"][0]["path"])].values(flow=False)
    assert main["dimension"] == 2 and np.allclose(np.array(main["z"]).T, root, rtol=1e-12)


def test_a_me_the_file_did_not_hold_is_said_not_stored(client: TestClient) -> None:  # noqa: F811
    ids = trend_ids(client)
    charge = next(
        name
        for name, trend in ids.items()
        if client.get("/trends/preview", params={"trend": trend, "run": RUNS[0]}).json()["mes"][0]["path"]
        == MISSING_ME
    )
    main = client.get("/trends/preview", params={"trend": ids[charge], "run": RUNS[1]}).json()["mes"][0]
    assert main["histogram"] is None
    assert main["note"] == f"not stored: the DQM file of run {RUNS[1]} has no {MISSING_ME}"
    assert ADC not in main["note"]


@pytest.mark.parametrize(
    ("params", "status", "text"),
    [
        ({"run": str(RUNS[0])}, 400, "trend: required"),
        ({"trend": "1"}, 400, "run: required"),
        ({"trend": "abc", "run": "1"}, 400, "not a positive whole number"),
        ({"trend": "-3", "run": "1"}, 400, "not a positive whole number"),
        ({"trend": "1", "run": "99999999999"}, 400, "32-bit"),
        ({"trend": "1", "run": "1 OR 1=1"}, 400, "not a positive whole number"),
        ({"trend": "999999", "run": str(RUNS[0])}, 404, "trend 999999 does not exist"),
        ({"trend": "digis", "run": "1"}, 404, "no stored histogram of run 1 in ZeroBias / PromptReco"),
        # its file is corrupt: nothing stored
        ({"trend": "digis", "run": str(RUNS[4])}, 404, f"no stored histogram of run {RUNS[4]}"),
    ],
)
def test_the_preview_refuses_naming_what_is_wrong_or_missing(
    client: TestClient,  # noqa: F811
    params: dict[str, str],
    status: int,
    text: str,
) -> None:
    if params.get("trend") == "digis":
        params = {**params, "trend": str(trend_ids(client)[DIGIS])}
    answer = client.get("/trends/preview", params=params)
    assert answer.status_code == status and text in answer.json()["error"]["message"]
