"""Luminosity on both engines: brilcalc imports take over from OMS online and say so, bad files write nothing,
and JSON results and the original's routes report the best source (OMS values arrive by test_ingestion)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from runreg.certification import ls_data, service
from runreg.certification.runners import InlineRunner
from runreg.kernel.errors import InvalidInput, PermissionDenied
from runreg.luminosity import service as luminosity
from runreg.luminosity.tables import luminosity_imports, luminosity_series
from runreg.storage.database import Database
from tests.builders.runs import CERTIFIER, EXPERT, SHIFTER, create_collision_run
from tests.contract.test_json_portal import PROMPT, offline_dataset

RULE = {"==": [{"var": "lumisection.rr.dt-dt"}, "GOOD"]}
HEADER = "#run:fill,ls,time,beamstatus,E(GeV),delivered(/ub),recorded(/ub),avgpu,source"


def brilcalc(run: int, ls_count: int, recorded_ub: float = 100_000.0) -> str:
    lines = ["#Data tag : 24v1 , Norm tag: normtag_BRIL.json", HEADER]
    lines += [
        f"{run}:9001,{ls}:{ls},06/01/24 10:00:00,STABLE BEAMS,6800,{recorded_ub * 1.1},{recorded_ub},50,HFET"
        for ls in range(1, ls_count + 1)
    ]
    return "\n".join(lines) + "\n"


def rows(db: Database) -> tuple[int, int]:
    with db.reading() as conn:
        return (
            conn.execute(select(func.count()).select_from(luminosity_series)).scalar_one(),
            conn.execute(select(func.count()).select_from(luminosity_imports)).scalar_one(),
        )


@pytest.fixture
def two_runs(db: Database) -> Database:
    for run in (380001, 380002):
        create_collision_run(db, run, ls_count=10, components=("dt-dt",))
        offline_dataset(db, run)
    return db


def golden(db: Database) -> dict:
    job_id = service.submit(db, InlineRunner(db), actor=CERTIFIER, rule=RULE, dataset_pattern=PROMPT)
    return service.get(db, job_id).result


def test_a_brilcalc_import_switches_its_runs_to_brilcalc_and_the_json_says_so(two_runs: Database) -> None:
    before = golden(two_runs)
    assert before["luminosity_sources"] == {"oms": 2}
    assert before["luminosity"]["recorded"]["total"] == pytest.approx(20 * 0.05)

    report = luminosity.import_brilcalc(two_runs, actor=EXPERT, text=brilcalc(380002, 10), filename="b.csv")
    assert (report.runs, report.lumisections, report.normtag) == (1, 10, "normtag_BRIL.json")

    after = golden(two_runs)
    assert after["luminosity_sources"] == {"brilcalc (normtag normtag_BRIL.json)": 1, "oms": 1}
    assert after["by_run"]["380002"]["luminosity_source"] == "brilcalc (normtag normtag_BRIL.json)"
    # 10 LS × 100,000 /ub = 1 /pb from brilcalc, plus 10 × 0.05 /pb from OMS for the other run.
    assert after["luminosity"]["recorded"]["total"] == pytest.approx(1.0 + 0.5)
    assert after["json"] == before["json"]


def test_a_bad_line_imports_nothing(two_runs: Database) -> None:
    before = rows(two_runs)
    text = brilcalc(380001, 5) + "380002:9001,1:1,t,STABLE BEAMS,6800,1.0,oops,50,HFET\n"
    with pytest.raises(InvalidInput) as refused:
        luminosity.import_brilcalc(two_runs, actor=EXPERT, text=text)
    assert "line 8: recorded 'oops' is not a number" in refused.value.reason
    assert rows(two_runs) == before


def test_an_import_is_refused_without_the_grant_and_writes_nothing(two_runs: Database) -> None:
    before = rows(two_runs)
    with pytest.raises(PermissionDenied) as refused:
        luminosity.import_brilcalc(two_runs, actor=SHIFTER, text=brilcalc(380001, 2))
    assert "cms-dqm-runregistry-admins-lum" in refused.value.details["egroups"]
    assert rows(two_runs) == before


def test_luminosity_of_a_json_per_run_with_its_source(two_runs: Database) -> None:
    luminosity.import_brilcalc(two_runs, actor=EXPERT, text=brilcalc(380001, 10), normtag="mine")
    figures = luminosity.of_selection(two_runs, lumis={380001: [[1, 4]], 380002: [[2, 3]], 390000: [[1, 1]]})
    assert figures["recorded"] == pytest.approx(0.4 + 2 * 0.05)
    assert figures["runs"]["380001"]["source"] == "brilcalc (normtag mine)"
    assert figures["sources"] == {"brilcalc (normtag mine)": 1, "oms": 1, "none": 1}


def test_data_of_json_gives_each_ls_its_context_with_luminosity(two_runs: Database) -> None:
    answer = ls_data.data_of_json(two_runs, json={f"380001-{PROMPT}": [[2, 3]]})
    ls2 = answer["json_with_data"][f"380001-{PROMPT}"]["2"]
    assert ls2["lumisection"]["lumisection_number"] == 2
    assert ls2["lumisection"]["oms"]["recorded"] == pytest.approx(0.05)
    assert ls2["lumisection"]["rr"]["dt-dt"] == "GOOD" and ls2["run"]["rr"]["class"] == "Collisions24"
    assert ls2["dataset"]["name"] == PROMPT
    assert answer["total_recorded_luminosity"] == pytest.approx(0.1)
    by_key = ls_data.recorded_by_key(two_runs, json={f"380002-{PROMPT}": [[1, 10]]})
    assert by_key == {f"380002-{PROMPT}": pytest.approx(0.5)}
    with pytest.raises(InvalidInput, match="not <run number>-<dataset name>"):
        ls_data.data_of_json(two_runs, json={"380001": [[1, 2]]})
