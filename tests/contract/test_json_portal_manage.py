"""Managing golden JSONs on both engines: saved presets, tags, the official flag, the pattern preview and the
comparison of two JSONs by the lumi-list algebra."""

from __future__ import annotations

import pytest

from runreg.certification import comparison, service
from runreg.certification.runners import InlineRunner
from runreg.kernel.errors import InvalidInput, PermissionDenied
from runreg.registry import service as registry
from runreg.registry.service import FlagEdit
from runreg.storage.database import Database
from tests.builders.runs import CERTIFIER, EXPERT, SHIFTER, create_collision_run
from tests.contract.test_json_portal import PROMPT, RULE, offline_dataset

DT_ONLY = {"==": [{"var": "lumisection.rr.dt-dt"}, "GOOD"]}


@pytest.fixture
def year(db: Database) -> Database:
    create_collision_run(db, 380001, ls_count=20, off={"bpix_ready": (5, 6)})
    create_collision_run(db, 380002, ls_count=10)
    registry.edit_flags(
        db, actor=SHIFTER, run_number=380002, edits=[FlagEdit("dt-dt", 8, 10, "BAD", "HV trip")], comment="HV"
    )
    for run_number in (380001, 380002):
        offline_dataset(db, run_number)
    return db


def submit(db: Database, rule: object, **kwargs: object) -> int:
    return service.submit(db, InlineRunner(db), actor=CERTIFIER, rule=rule, dataset_pattern=PROMPT, **kwargs)


def test_saved_presets_are_owned_and_used_by_name(year: Database) -> None:
    assert service.save_preset(year, actor=CERTIFIER, name="dt", rule=DT_ONLY, dataset_pattern=PROMPT)
    assert [(p.name, p.owner) for p in service.list_presets(year) if p.owner] == [("dt", CERTIFIER.name)]
    with pytest.raises(PermissionDenied, match="certification:preset:write .owner certifier@cern.ch."):
        service.save_preset(year, actor=SHIFTER, name="dt", rule=RULE)
    with pytest.raises(PermissionDenied):
        service.delete_preset(year, actor=SHIFTER, name="dt")
    with pytest.raises(InvalidInput, match="preset of the configuration"):
        service.save_preset(year, actor=EXPERT, name="golden", rule=RULE)
    with pytest.raises(InvalidInput, match="rule/and/0/==/0"):
        service.save_preset(year, actor=CERTIFIER, name="bad", rule={"and": [{"==": [{"var": "x.y"}, 1]}]})

    job = service.get(
        year, service.submit(year, InlineRunner(year), actor=CERTIFIER, preset="dt", dataset_pattern=PROMPT)
    )
    assert job.rule == DT_ONLY and job.result["json"] == {"380001": [[1, 20]], "380002": [[1, 7]]}

    assert not service.save_preset(year, actor=EXPERT, name="dt", rule=RULE)  # experts edit anyone's
    assert (
        service.find_preset(year, "dt").rule == RULE
        and service.find_preset(year, "dt").owner == CERTIFIER.name
    )
    service.delete_preset(year, actor=CERTIFIER, name="dt")
    assert service.find_preset(year, "dt") is None


def test_tags_by_the_owner_and_the_official_flag_by_certification(year: Database) -> None:
    job_id = submit(year, RULE)
    assert (
        service.set_tags(year, actor=CERTIFIER, job_id=job_id, tags=" era A,  golden , era A")
        == "era A, golden"
    )
    with pytest.raises(PermissionDenied, match="certification:json:tag"):
        service.set_tags(year, actor=SHIFTER, job_id=job_id, tags="mine")
    with pytest.raises(PermissionDenied, match="certification:json:official"):
        service.set_official(year, actor=SHIFTER, job_id=job_id, official=True)
    service.set_official(year, actor=CERTIFIER, job_id=job_id, official=True)
    assert [j.id for j in service.list_jobs(year, official=True)] == [job_id]
    assert service.get(year, job_id).tags == "era A, golden"
    assert service.list_jobs(year, created_by="nobody@cern.ch") == []


def test_the_pattern_preview_counts_names_and_runs(year: Database) -> None:
    matches = service.matching_datasets(year, dataset_pattern="/PromptReco/Collisions2024_/DQM")
    assert (matches.names, matches.runs, matches.examples) == (1, 2, [PROMPT])
    assert service.matching_datasets(year, dataset_pattern="%").names == 2  # online too
    with pytest.raises(InvalidInput, match="unclosed"):
        service.matching_datasets(year, dataset_pattern="/Prompt[Reco")


def test_comparing_two_jsons_splits_runs_ls_and_luminosity(year: Database) -> None:
    a, b = (
        submit(year, DT_ONLY),
        submit(year, RULE),
    )  # A: 380001 1-20, 380002 1-7; B: without LS 5-6 of 380001
    result = comparison.compare(year, a=a, b=b)

    assert result.only_a.lumis.to_json() == {"380001": [[5, 6]]}
    assert (result.only_a.runs, result.only_a.ls) == (1, 2)
    assert result.only_a.recorded == pytest.approx(2 * 0.05)
    assert result.only_a.delivered == pytest.approx(2 * 0.06)
    assert result.only_b.ls == 0 and result.only_b.recorded == 0
    assert result.both.lumis.to_json() == {"380001": [[1, 4], [7, 20]], "380002": [[1, 7]]}
    assert result.both.recorded == pytest.approx(25 * 0.05)
    assert [(r.run, r.only_a, r.only_b, r.both_ls) for r in result.runs] == [(380001, ((5, 6),), (), 18)]


def test_only_finished_jsons_are_compared(year: Database) -> None:
    class Never:
        def submit(self, job_id: int) -> None:
            pass

    queued = service.submit(year, Never(), actor=CERTIFIER, rule=RULE, dataset_pattern=PROMPT)
    with pytest.raises(InvalidInput, match=f"JSON {queued} is queued"):
        comparison.compare(year, a=submit(year, RULE), b=queued)


def test_results_carry_luminosity_per_run(year: Database) -> None:
    result = service.get(year, submit(year, RULE)).result
    run = result["by_run"]["380001"]
    assert (run["ls"], run["ls_in_json"]) == (20, 18)
    assert run["recorded"] == pytest.approx(20 * 0.05) and run["recorded_in_json"] == pytest.approx(18 * 0.05)
