"""The DQM GUI simulator: run and dataset filters of both routes, bad queries answered 400, eras and kinds."""

from __future__ import annotations

import httpx

from runreg.simulators.dqmgui.catalogue import FixedCatalogue, era_of
from runreg.simulators.dqmgui.server import create_app, run_in_thread

ITEMS = [
    (380001, "/ZeroBias/Run2024C-PromptReco-v1/DQMIO"),
    (380002, "/StreamExpress/Run2024C-Express-v1/DQMIO"),
]


def test_filters_and_bad_queries() -> None:
    catalogue = FixedCatalogue(list(ITEMS))
    with run_in_thread(create_app(catalogue)) as server, httpx.Client(base_url=server.base_url) as http:
        legacy = http.get("/data/json/samples", params={"match": "Express", "run": "380002"}).json()
        assert [(int(i["run"]), i["dataset"]) for i in legacy["samples"][0]["items"]] == [ITEMS[1]]
        v1 = http.get("/api/v1/samples", params={"run": 380001}).json()
        assert v1 == {"data": [{"run": 380001, "dataset": ITEMS[0][1], "lumi": 0}]}
        assert http.get("/data/json/samples", params={"match": "("}).status_code == 400
        assert http.get("/api/v1/samples", params={"run": "x"}).status_code == 400
        catalogue.add(
            [(380003, "/Cosmics/Run2024D-PromptReco-v1/DQMIO")]
        )  # a new version: not the cached list
        assert len(http.get("/api/v1/samples").json()["data"]) == 3


def test_eras_follow_the_shipped_rules() -> None:
    assert era_of(380000) == "C" and era_of(380252) == "C" and era_of(380253) == "D"
