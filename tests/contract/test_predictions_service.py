"""ML predictions on both engines: an agent's submission is stored range-compressed in its own layer, a newer
one of the same model version replaces what it covers (who and when kept per range and per submission), bad
input writes nothing and names the field, the registry's flags never change, and the agreement counts the
model against the certifiers' effective (or only manual) statuses."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from runreg.kernel.errors import InvalidInput, PermissionDenied, RunNotFound
from runreg.predictions import service as predictions
from runreg.predictions.model import NOT_JUDGED, PredictedRange
from runreg.predictions.tables import prediction_ranges, prediction_submissions
from runreg.registry import service as registry
from runreg.registry.service import FlagEdit
from runreg.storage.database import Database
from tests.builders.runs import CERTIFIER, EXPERT, ML_AGENT, SHIFTER, create_collision_run

RUN = 380567
OFFLINE = "/PromptReco/Collisions2024A/DQM"


def rows(db: Database) -> tuple[int, int]:
    with db.reading() as conn:
        return tuple(  # type: ignore[return-value]
            conn.execute(select(func.count()).select_from(table)).scalar_one()
            for table in (prediction_submissions, prediction_ranges)
        )


def post(
    db: Database, ranges: dict, *, dataset: str = OFFLINE, version: str = "1.0", actor=ML_AGENT, run=RUN
):  # type: ignore[no-untyped-def,type-arg]
    return predictions.submit(
        db,
        actor=actor,
        run_number=run,
        dataset=dataset,
        model="tracker-ae",
        version=version,
        predictions={c: [PredictedRange(*r) for r in rs] for c, rs in ranges.items()},
    )


@pytest.fixture
def world(db: Database) -> Database:
    create_collision_run(db, RUN, ls_count=100, components=("tracker-pixel", "dt-dt"))
    registry.create_dataset(
        db,
        actor=EXPERT,
        run_number=RUN,
        name=OFFLINE,
        attributes={"global_state": "OPEN", "tracker_state": "OPEN", "dt_state": "OPEN"},
    )
    return db


def test_a_submission_is_stored_range_compressed_with_who_and_when(world: Database) -> None:
    result = post(
        world,
        {
            "tracker-pixel": [(1, 40, "GOOD", 0.9), (41, 60, "GOOD", 0.9), (61, 100, "BAD", 0.7)],
            "dt-dt": [(1, 100, "GOOD", 0.99)],
        },
    )
    assert (result.components, result.ranges, result.lumisections, result.stored_ranges) == (
        ["dt-dt", "tracker-pixel"],
        4,
        200,
        3,  # 1–40 and 41–60 have one verdict: stored as one range
    )
    found = predictions.dataset_predictions(world, run_number=RUN, dataset=OFFLINE)
    pixel = found.of_component("tracker-pixel")[0]
    assert (pixel.model, pixel.version) == ("tracker-ae", "1.0")
    assert [(a, b, v["status"], v["score"]) for a, b, v in pixel.ranges] == [
        (1, 60, "GOOD", 0.9),
        (61, 100, "BAD", 0.7),
    ]
    (submission,) = found.submissions
    assert (submission.author, submission.actor_kind, submission.components) == (
        "tracker-ml@cern.ch",
        "agent",
        ["dt-dt", "tracker-pixel"],
    )
    assert pixel.as_dict(found.by_id)["ranges"][0]["submitted_by"] == "tracker-ml@cern.ch"


def test_predictions_never_change_the_registry(world: Database) -> None:
    before = registry.run_state(world, RUN)
    history = registry.history(world, run_number=RUN, limit=100)
    post(world, {"tracker-pixel": [(1, 100, "BAD", 0.99)]}, dataset="online")
    after = registry.run_state(world, RUN)
    assert registry.component_ranges(after) == registry.component_ranges(before)
    assert registry.history(world, run_number=RUN, limit=100) == history


def test_a_newer_submission_of_the_same_version_replaces_what_it_covers(world: Database) -> None:
    first = post(world, {"tracker-pixel": [(1, 100, "GOOD", 0.9)]})
    second = post(world, {"tracker-pixel": [(30, 39, "BAD", 0.8)]})
    post(world, {"tracker-pixel": [(1, 100, "BAD", 0.6)]}, version="2.0")  # another version: side by side
    found = predictions.dataset_predictions(world, run_number=RUN, dataset=OFFLINE)
    v1, v2 = found.of_component("tracker-pixel")
    assert [(a, b, v["status"], v["submission"]) for a, b, v in v1.ranges] == [
        (1, 29, "GOOD", first.submission_id),
        (30, 39, "BAD", second.submission_id),
        (40, 100, "GOOD", first.submission_id),
    ]
    assert [(a, b, v["status"]) for a, b, v in v2.ranges] == [(1, 100, "BAD")]
    assert [s.version for s in found.submissions] == ["2.0", "1.0", "1.0"]  # the history: newest first
    (shown,) = predictions.latest_verdicts(world, run_number=RUN, dataset=OFFLINE)["tracker-pixel"]
    assert (shown.version, shown.last_submission.id) == ("2.0", 3)  # type: ignore[union-attr]
    assert [(a, b, v["status"]) for a, b, v in shown.ranges] == [(1, 100, "BAD")]


def test_the_latest_verdicts_are_statuses_alone_with_their_score_bounds(world: Database) -> None:
    scores = [(ls, ls, "GOOD" if ls <= 50 else "BAD", 0.5 + ls / 1000) for ls in range(1, 101)]
    post(world, {"dt-dt": scores})
    (dt,) = predictions.latest_verdicts(world, run_number=RUN, dataset=OFFLINE)["dt-dt"]
    assert [(a, b, v["status"], v["min_score"], v["max_score"]) for a, b, v in dt.ranges] == [
        (1, 50, "GOOD", 0.501, 0.55),
        (51, 100, "BAD", 0.551, 0.6),
    ]
    assert predictions.latest_verdicts(world, run_number=RUN, dataset="online") == {}
    (found,) = predictions.dataset_predictions(world, run_number=RUN, dataset=OFFLINE).of_component("dt-dt")
    assert len(found.ranges) == 100  # every score kept


@pytest.mark.parametrize(
    ("ranges", "dataset", "field"),
    [
        ({"tracker-pixel": [(1, 101, "GOOD", 0.5)]}, OFFLINE, "predictions.tracker-pixel[0].last_ls"),
        ({"tracker-pixel": [(1, 10, "MAYBE", 0.5)]}, OFFLINE, "predictions.tracker-pixel[0].status"),
        ({"tracker-pixel": [(1, 10, "GOOD", 2.0)]}, OFFLINE, "predictions.tracker-pixel[0].score"),
        ({"tracker-nothing": [(1, 10, "GOOD", 0.5)]}, OFFLINE, "predictions.tracker-nothing"),
        ({"tracker-pixel": [(1, 10, "GOOD", 0.5)]}, "/Nowhere/Run/DQM", "dataset"),
        (
            {"dt-dt": [(1, 10, "GOOD", 0.5)], "tracker-pixel": [(1, 10, "GOOD", 0.5), (5, 6, "BAD", 0.5)]},
            OFFLINE,
            "predictions.tracker-pixel[1].first_ls",
        ),
    ],
)
def test_bad_input_names_the_field_and_writes_nothing(
    world: Database, ranges: dict, dataset: str, field: str
) -> None:  # type: ignore[type-arg]
    post(world, {"dt-dt": [(1, 100, "GOOD", 0.9)]})
    before = rows(world)
    with pytest.raises(InvalidInput) as refused:
        post(world, ranges, dataset=dataset)
    assert refused.value.field == field
    assert rows(world) == before


def test_an_unknown_run_is_not_found_and_writes_nothing(world: Database) -> None:
    with pytest.raises(RunNotFound):
        post(world, {"dt-dt": [(1, 10, "GOOD", 0.9)]}, run=RUN + 1)
    assert rows(world) == (0, 0)


def test_offline_components_are_checked_against_the_offline_workspaces(world: Database) -> None:
    # csc-occupancy is an offline column only: accepted on an offline dataset, refused online.
    post(world, {"csc-occupancy": [(1, 10, "GOOD", 0.9)]})
    with pytest.raises(InvalidInput) as refused:
        post(world, {"csc-occupancy": [(1, 10, "GOOD", 0.9)]}, dataset="online")
    assert refused.value.field == "predictions.csc-occupancy"


def test_people_need_the_grant_too(world: Database) -> None:
    with pytest.raises(PermissionDenied) as refused:
        post(world, {"dt-dt": [(1, 10, "GOOD", 0.9)]}, actor=SHIFTER)
    assert "cms-dqm-runregistry-ml-agents" in refused.value.details["egroups"]
    post(world, {"dt-dt": [(1, 10, "GOOD", 0.9)]}, actor=EXPERT)  # experts have every action
    assert (
        predictions.dataset_predictions(world, run_number=RUN, dataset=OFFLINE).submissions[0].actor_kind
        == "human"
    )


def certify(db: Database, component: str, first: int, last: int, status: str) -> None:
    registry.edit_flags(
        db,
        actor=CERTIFIER,
        run_number=RUN,
        dataset=OFFLINE,
        edits=[FlagEdit(component, first, last, status, "checked in the DQM GUI")],
        comment="certified",
    )


def test_agreement_counts_the_model_against_the_certifiers(world: Database) -> None:
    post(world, {"tracker-pixel": [(1, 80, "GOOD", 0.9), (81, 100, "BAD", 0.8)]})
    certify(world, "tracker-pixel", 1, 70, "GOOD")
    certify(world, "tracker-pixel", 71, 85, "BAD")
    # LS 86–100 nobody judged yet.
    found = predictions.agreement(world, model="tracker-ae")
    (pixel,) = found.confusions
    assert found.datasets == 1
    assert pixel.counts == {
        ("GOOD", "GOOD"): 70,
        ("GOOD", "BAD"): 10,
        ("BAD", "BAD"): 5,
        ("BAD", NOT_JUDGED): 15,
    }
    assert (pixel.judged, pixel.agreed, pixel.not_judged) == (85, 75, 15)
    assert pixel.bad_found == pytest.approx(5 / 15)


def test_agreement_reads_the_effective_status_or_only_what_people_set(world: Database) -> None:
    # Online: the classifiers made every LS GOOD (automatic); a shifter marks 1–10 BAD (manual).
    post(world, {"dt-dt": [(1, 100, "BAD", 0.8)]}, dataset="online")
    registry.edit_flags(
        world, actor=SHIFTER, run_number=RUN, edits=[FlagEdit("dt-dt", 1, 10, "BAD", "HV trip")], comment="HV"
    )
    (effective,) = predictions.agreement(world, dataset="online").confusions
    assert effective.counts == {("BAD", "BAD"): 10, ("BAD", "GOOD"): 90}
    (manual,) = predictions.agreement(world, dataset="online", basis="manual").confusions
    assert manual.counts == {("BAD", "BAD"): 10, ("BAD", NOT_JUDGED): 90}


def test_agreement_filters_models_workspaces_datasets_and_runs(world: Database) -> None:
    create_collision_run(world, RUN + 1, ls_count=20, components=("dt-dt",))
    post(world, {"tracker-pixel": [(1, 100, "GOOD", 0.9)], "dt-dt": [(1, 100, "GOOD", 0.9)]})
    post(world, {"dt-dt": [(1, 100, "GOOD", 0.9)]}, dataset="online", version="2.0")
    post(world, {"dt-dt": [(1, 20, "GOOD", 0.9)]}, dataset="online", run=RUN + 1)

    def seen(**selection: object) -> list[tuple[str, str, int]]:
        found = predictions.agreement(world, **selection)  # type: ignore[arg-type]
        return [(c.component, c.version, c.datasets) for c in found.confusions]

    assert seen() == [("dt-dt", "1.0", 2), ("dt-dt", "2.0", 1), ("tracker-pixel", "1.0", 1)]
    assert seen(workspace="tracker") == [("tracker-pixel", "1.0", 1)]
    assert seen(version="2.0") == [("dt-dt", "2.0", 1)]
    assert seen(dataset="/PromptReco/*") == [("dt-dt", "1.0", 1), ("tracker-pixel", "1.0", 1)]
    assert seen(dataset="online", run_from=RUN + 1) == [("dt-dt", "1.0", 1)]
    assert seen(model="another") == []
    assert seen(dataset="/PromptReco_Collisions2024A_DQM") == []  # `_` is no wildcard


def test_agreement_refuses_a_filter_over_its_limit(world: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    post(world, {"dt-dt": [(1, 10, "GOOD", 0.9)]})
    post(world, {"dt-dt": [(1, 10, "GOOD", 0.9)]}, dataset="online")
    monkeypatch.setattr(predictions, "MAX_AGREEMENT_DATASETS", 1)
    with pytest.raises(InvalidInput) as refused:
        predictions.agreement(world)
    assert refused.value.field == "filter"
    assert len(predictions.agreement(world, dataset="online").confusions) == 1
    with pytest.raises(InvalidInput) as refused:
        predictions.agreement(world, basis="guess")
    assert refused.value.field == "basis"


def test_models_lists_each_version_with_its_datasets(world: Database) -> None:
    post(world, {"dt-dt": [(1, 10, "GOOD", 0.9)]})
    post(world, {"tracker-pixel": [(1, 10, "GOOD", 0.9)]})
    post(world, {"dt-dt": [(1, 10, "GOOD", 0.9)]}, dataset="online")
    post(world, {"dt-dt": [(1, 10, "GOOD", 0.9)]}, version="2.0")
    listed = [
        (m["model"], m["version"], m["submissions"], m["datasets"], m["components"])
        for m in predictions.models(world)
    ]
    assert listed == [
        ("tracker-ae", "1.0", 3, 2, ["dt-dt", "tracker-pixel"]),
        ("tracker-ae", "2.0", 1, 1, ["dt-dt"]),
    ]
