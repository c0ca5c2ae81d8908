"""The JSON portal end to end on both engines: exact golden JSON, anti-JSON, luminosity, failures, as-of."""

from __future__ import annotations

import pytest

from runreg.certification import service
from runreg.certification.runners import InlineRunner
from runreg.configuration.model import default_configuration
from runreg.kernel.actors import Actor, ActorKind
from runreg.kernel.errors import InvalidInput, PermissionDenied
from runreg.registry import service as registry
from runreg.registry.service import FlagEdit
from runreg.storage.database import Database
from tests.builders.runs import OMS_WORKER, SHIFTER, create_collision_run

EXPERT_EGROUP = "cms-dqm-runregistry-experts"
EXPERT = Actor("expert@cern.ch", ActorKind.HUMAN, frozenset({EXPERT_EGROUP}))
CERTIFIER = Actor("certifier@cern.ch", ActorKind.HUMAN, frozenset({"cms-dqm-runregistry-data-certification"}))
PROMPT = "/PromptReco/Collisions2024A/DQM"
RULE = {
    "and": [
        {">=": [{"var": "run.oms.energy"}, 6000]},
        {"==": [{"var": "lumisection.rr.dt-dt"}, "GOOD"]},
        {"==": [{"var": "lumisection.rr.tracker-pixel"}, "GOOD"]},
        {"==": [{"var": "lumisection.oms.bpix_ready"}, True]},
    ]
}


def offline_dataset(db: Database, run_number: int, name: str = PROMPT) -> None:
    """An offline dataset whose flags copy the online ones (what dataset creation at sign-off does)."""
    registry.create_dataset(
        db,
        actor=OMS_WORKER,
        run_number=run_number,
        name=name,
        attributes={"global_state": "OPEN", "dt_state": "OPEN", "tracker_state": "OPEN"},
    )
    run = registry.run_state(db, run_number)
    edits = [
        FlagEdit(component, f, last, value["status"], value["comment"] or "copied")
        for component, flags in run.datasets["online"].flags.items()
        for f, last, value in flags.effective()
    ]
    registry.edit_flags(
        db, actor=OMS_WORKER, run_number=run_number, dataset=name, edits=edits, comment="copy"
    )


@pytest.fixture
def year(db: Database) -> Database:
    create_collision_run(db, 380001, ls_count=20, off={"bpix_ready": (5, 6)})
    create_collision_run(db, 380002, ls_count=10)
    registry.edit_flags(
        db, actor=SHIFTER, run_number=380002, edits=[FlagEdit("dt-dt", 8, 10, "BAD", "HV trip")], comment="HV"
    )
    for run_number in (380001, 380002):
        offline_dataset(db, run_number)
    create_collision_run(db, 380003, ls_count=10)  # no offline dataset: not matched
    return db


def test_golden_json_luminosity_and_failures(year: Database) -> None:
    job_id = service.submit(
        year,
        InlineRunner(year),
        actor=CERTIFIER,
        rule=RULE,
        dataset_pattern="/PromptReco/Collisions2024_/DQM",
    )
    job = service.get(year, job_id)

    assert job.status == "done", job.error
    result = job.result
    assert result["json"] == {"380001": [[1, 4], [7, 20]], "380002": [[1, 7]]}
    assert result["anti_json"] == {"380001": [[5, 6]], "380002": [[8, 10]]}
    assert result["json_with_dataset_names"] == {
        f"380001-{PROMPT}": [[1, 4], [7, 20]],
        f"380002-{PROMPT}": [[1, 7]],
    }
    recorded = result["luminosity"]["recorded"]
    assert recorded["total"] == pytest.approx(30 * 0.05)
    assert recorded["in_json"] == pytest.approx(25 * 0.05)
    assert recorded["lost"] == pytest.approx(5 * 0.05)
    by_rule = {str(item["rule"]): item for item in result["failures"]["by_rule"]}
    assert by_rule[str(RULE["and"][3])]["ls"] == 2 and by_rule[str(RULE["and"][1])]["ls"] == 3


def test_regenerating_as_of_the_pinned_change_set_gives_the_identical_json(year: Database) -> None:
    job_id = service.submit(year, InlineRunner(year), actor=CERTIFIER, rule=RULE, dataset_pattern=PROMPT)
    before = service.get(year, job_id).result
    registry.edit_flags(
        year,
        actor=CERTIFIER,
        run_number=380001,
        dataset=PROMPT,
        edits=[FlagEdit("dt-dt", 1, 20, "BAD", "late finding")],
        comment="recertify",
    )

    again = service.regenerate(year, job_id)
    now = service.get(
        year, service.submit(year, InlineRunner(year), actor=CERTIFIER, rule=RULE, dataset_pattern=PROMPT)
    ).result

    assert again["json"] == before["json"] and again["change_set_id"] == before["change_set_id"]
    assert "380001" not in now["json"]


def test_two_matching_datasets_in_a_run_follow_the_policy(year: Database) -> None:
    offline_dataset(year, 380001, "/PromptReco/Collisions2024B/DQM")
    registry.edit_flags(
        year,
        actor=CERTIFIER,
        run_number=380001,
        dataset="/PromptReco/Collisions2024B/DQM",
        edits=[FlagEdit("dt-dt", 1, 2, "BAD", "only in B")],
        comment="B",
    )
    pattern = "/PromptReco/Collisions2024_/DQM"

    refused = service.get(
        year, service.submit(year, InlineRunner(year), actor=CERTIFIER, rule=RULE, dataset_pattern=pattern)
    )
    union = service.get(
        year,
        service.submit(
            year, InlineRunner(year), actor=CERTIFIER, rule=RULE, dataset_pattern=pattern, policy="union"
        ),
    ).result
    both = service.get(
        year,
        service.submit(
            year,
            InlineRunner(year),
            actor=CERTIFIER,
            rule=RULE,
            dataset_pattern=pattern,
            policy="intersection",
        ),
    ).result

    assert refused.status == "failed" and "380001" in refused.error and "Collisions2024B" in refused.error
    assert union["json"]["380001"] == [[1, 4], [7, 20]]
    assert both["json"]["380001"] == [[3, 4], [7, 20]]


def test_a_hidden_dataset_takes_no_part_now_or_as_of_a_change_set_after_it_was_hidden(year: Database) -> None:
    from runreg.datasets.dctools import service as dctools

    second = "/PromptReco/Collisions2024B/DQM"
    offline_dataset(year, 380001, second)  # a second matching dataset: the policy would refuse the run
    pattern = "/PromptReco/Collisions2024_/DQM"
    outcome = dctools.hide_datasets(
        year, actor=EXPERT, filter={"and": [{"run_number": 380001}, {"name": second}]}, reason="duplicate"
    )
    assert outcome.change_set_id is not None
    job_id = service.submit(year, InlineRunner(year), actor=CERTIFIER, rule=RULE, dataset_pattern=pattern)
    job = service.get(year, job_id)
    assert job.status == "done", job.error  # only the visible dataset of run 380001 is read
    assert set(job.result["json_with_dataset_names"]) == {f"380001-{PROMPT}", f"380002-{PROMPT}"}
    registry.edit_flags(  # a later change, so regenerating replays history up to the pinned change set
        year,
        actor=CERTIFIER,
        run_number=380002,
        dataset=PROMPT,
        edits=[FlagEdit("dt-dt", 1, 1, "BAD", "late")],
        comment="late",
    )
    assert (
        service.regenerate(year, job_id)["json_with_dataset_names"] == job.result["json_with_dataset_names"]
    )


def test_bad_requests_are_refused_before_any_job(year: Database) -> None:
    with pytest.raises(InvalidInput, match="lumisection.rr.dt"):
        service.submit(
            year,
            InlineRunner(year),
            actor=CERTIFIER,
            rule={"==": [{"var": "lumisection.rr.dt"}, 1]},
            dataset_pattern=PROMPT,
        )
    with pytest.raises(InvalidInput, match="No datasets matched"):
        service.submit(year, InlineRunner(year), actor=CERTIFIER, rule=RULE, dataset_pattern="/Nothing/%")
    assert service.list_jobs(year) == []


def test_presets_and_soft_delete_by_owner_or_expert(year: Database) -> None:
    job_id = service.submit(
        year, InlineRunner(year), actor=CERTIFIER, preset="golden", dataset_pattern=PROMPT
    )
    job = service.get(year, job_id)
    assert job.status == "done", job.error
    golden = next(p for p in default_configuration().json_presets if p.name == "golden")
    assert job.rule == golden.rule
    # The year's runs carry only three components: the golden rule's other components are missing, so no LS
    # is golden, and the failures name such a component.
    assert job.result["json"] == {}
    assert job.result["anti_json"] == {"380001": [[1, 20]], "380002": [[1, 10]]}
    assert any("lumisection.rr.hcal-hcal" in str(item["rule"]) for item in job.result["failures"]["by_rule"])

    with pytest.raises(PermissionDenied, match="may not certification:json:delete .owner certifier@cern.ch."):
        service.delete(year, actor=SHIFTER, job_id=job_id)
    assert [j.id for j in service.list_jobs(year)] == [job_id]
    service.delete(year, actor=CERTIFIER, job_id=job_id)
    assert service.list_jobs(year) == []

    other = service.submit(year, InlineRunner(year), actor=CERTIFIER, rule=RULE, dataset_pattern=PROMPT)
    service.delete(year, actor=EXPERT, job_id=other)
    assert service.list_jobs(year) == []
