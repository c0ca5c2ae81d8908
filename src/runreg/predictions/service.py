"""ML predictions as a layer of their own: agents (or people granted `predictions:write`) post per-LS verdicts
of a model version for a dataset's components; pages and the API read them beside the certifiers' decisions
and count how often both agree. Predictions never change a flag of the registry."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from runreg.access.actions import Target
from runreg.configuration import service as configuration
from runreg.kernel import limits
from runreg.kernel.actors import Actor
from runreg.kernel.errors import InvalidInput
from runreg.kernel.quality import split_component
from runreg.kernel.ranges import RangeMap
from runreg.predictions import model as rules
from runreg.predictions import store
from runreg.predictions.model import Confusion, PredictedRange
from runreg.predictions.store import Filter, Submission
from runreg.registry import service as registry
from runreg.registry.model import ONLINE
from runreg.storage.database import Database

ACTION = "predictions:write"
#: Datasets one agreement may read (beyond, narrow the filter: the counts would otherwise mislead silently).
MAX_AGREEMENT_DATASETS = 5_000
#: Submissions of a dataset its read lists (newest first).
SUBMISSIONS_SHOWN = 50
BASES = ("effective", "manual")


@dataclass(frozen=True)
class SubmitResult:
    submission_id: int
    components: list[str]
    ranges: int
    lumisections: int
    stored_ranges: int


def prediction_target(run_number: int, dataset: str, component: str) -> Target:
    """What `predictions:write` is checked on: a grant may restrict an agent to datasets, workspaces,
    components."""
    try:
        workspace: str | None = split_component(component)[0]
    except ValueError:
        workspace = None  # an unknown component is refused by validation, after the gate
    return Target(run=run_number, dataset=dataset, workspace=workspace, component=component)


def submit(
    db: Database,
    *,
    actor: Actor,
    run_number: int,
    dataset: str,
    model: str,
    version: str,
    predictions: Mapping[str, Sequence[PredictedRange]],
) -> SubmitResult:
    """Record one model version's predictions of a dataset: per component, LS ranges with a status and a
    score. What they cover replaces that model version's earlier predictions of the same LS; everything is
    validated (run, dataset, components of the configuration, LS within the run, statuses, scores) before
    anything is written, and a refusal names the field."""
    limits.check_ids(run_number=run_number)
    limits.check_text("dataset", dataset, limits.MAX_NAME_CHARS)
    name, release = rules.check_model(model, version)
    if not isinstance(predictions, Mapping) or not predictions:
        raise InvalidInput("predictions", "at least one component with its LS ranges is required")
    components = sorted(str(component) for component in predictions)
    with db.transaction() as conn:
        for component in components:
            configuration.authorize(
                conn, actor=actor, action=ACTION, target=prediction_target(run_number, dataset, component)
            )
        # Runs, datasets and LS are never deleted, nor do LS shrink: what is checked here holds at commit.
        run = registry.run_state(db, run_number)
        run.dataset(dataset)  # InvalidInput naming the dataset
        known = configuration.current(conn)[1].components(ONLINE if dataset == ONLINE else "offline")
        parsed = rules.parse_predictions(
            predictions, known_components=known, ls_count=run.ls_count, run_number=run_number
        )
        sent = sum(len(ranges) for ranges in predictions.values())
        store.lock_run(conn, run_number)
        submission_id = store.insert_submission(
            conn,
            run_number=run_number,
            dataset=dataset,
            model=name,
            version=release,
            author=actor.name,
            actor_kind=actor.kind.value,
            submitted_at=datetime.now(UTC),
            components=sorted(parsed),
            ranges=sent,
            lumisections=sum(ranges.count() for ranges in parsed.values()),
        )
        current = store.current_ranges(conn, run_number, dataset, name, release, list(parsed))
        merged = {
            component: rules.replace(current.get(component, RangeMap()), ranges, submission_id)
            for component, ranges in parsed.items()
        }
        stored = store.replace_ranges(conn, run_number, dataset, name, release, merged)
    return SubmitResult(
        submission_id=submission_id,
        components=sorted(parsed),
        ranges=sent,
        lumisections=sum(ranges.count() for ranges in parsed.values()),
        stored_ranges=stored,
    )


# -- reads --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ModelPredictions:
    """One model version's predictions in force on one component of a dataset."""

    component: str
    model: str
    version: str
    ranges: RangeMap  # values {status, score, submission}

    def as_dict(self, submissions: Mapping[int, Submission]) -> dict[str, Any]:
        return {
            "component": self.component,
            "model": self.model,
            "version": self.version,
            "ranges": [
                {
                    "first_ls": first,
                    "last_ls": last,
                    "status": value["status"],
                    "score": value["score"],
                    "submission_id": value["submission"],
                    "submitted_by": submissions[value["submission"]].author,
                    "submitted_at": submissions[value["submission"]].submitted_at.isoformat(),
                }
                for first, last, value in self.ranges
            ],
        }


@dataclass(frozen=True)
class DatasetPredictions:
    run_number: int
    dataset: str
    predictions: list[ModelPredictions]
    submissions: list[Submission]  # newest first, at most SUBMISSIONS_SHOWN
    by_id: dict[int, Submission]

    def of_component(self, component: str) -> list[ModelPredictions]:
        return [p for p in self.predictions if p.component == component]


@dataclass(frozen=True)
class Verdicts:
    """One model version's statuses on one component of a dataset, by status alone: ranges of {status,
    min_score, max_score}; and the newest submission holding any of them (who, when)."""

    component: str
    model: str
    version: str
    ranges: RangeMap
    last_submission: Submission | None


def latest_verdicts(db: Database, *, run_number: int, dataset: str = ONLINE) -> dict[str, list[Verdicts]]:
    """Per component of a dataset, each model's most recently submitted version (what a page draws beside the
    people's decisions). Reads the statuses alone: a model that scores every LS costs a handful of rows."""
    limits.check_ids(run_number=run_number)
    limits.check_text("dataset", dataset, limits.MAX_NAME_CHARS)
    with db.reading() as conn:
        rows = store.dataset_verdicts(conn, run_number, dataset)
        if not rows:
            return {}
        newest = store.newest_submissions(conn, run_number, dataset)
        by_id = store.submissions_by_id(conn, list(newest.values()))
    grouped: dict[tuple[str, str, str], list[Any]] = {}
    for row in rows:
        value = {"status": row.status, "min_score": row.min_score, "max_score": row.max_score}
        grouped.setdefault((row.component, row.model, row.version), []).append(
            (row.first_ls, row.last_ls, value)
        )
    shown: dict[str, dict[str, Verdicts]] = {}
    for (component, name, release), ranges in sorted(grouped.items()):
        last = by_id.get(newest.get((component, name, release), -1))
        held = shown.setdefault(component, {}).get(name)
        if held is None or (last and held.last_submission and last.id > held.last_submission.id):
            shown[component][name] = Verdicts(component, name, release, RangeMap.from_stored(ranges), last)
    return {component: list(by_model.values()) for component, by_model in shown.items()}


def dataset_predictions(db: Database, *, run_number: int, dataset: str = ONLINE) -> DatasetPredictions:
    """Every model version's predictions in force on a dataset, per component, with who submitted each range
    and when, and the dataset's latest submissions."""
    limits.check_ids(run_number=run_number)
    limits.check_text("dataset", dataset, limits.MAX_NAME_CHARS)
    with db.reading() as conn:
        rows = store.dataset_ranges(conn, run_number, dataset)
        grouped: dict[tuple[str, str, str], list[Any]] = {}
        for row in rows:
            grouped.setdefault((row.component, row.model, row.version), []).append(
                (
                    row.first_ls,
                    row.last_ls,
                    {"status": row.status, "score": row.score, "submission": row.submission_id},
                )
            )
        by_id = store.submissions_by_id(conn, [row.submission_id for row in rows])
        recent = store.submissions_of(conn, run_number, dataset, SUBMISSIONS_SHOWN)
    predictions = [
        ModelPredictions(component, name, release, RangeMap.from_stored(ranges))
        for (component, name, release), ranges in sorted(grouped.items())
    ]
    return DatasetPredictions(
        run_number, dataset, predictions, recent, {**by_id, **{s.id: s for s in recent}}
    )


def models(db: Database) -> list[dict[str, Any]]:
    """Every model version that submitted predictions, with its submissions, datasets and components."""
    with db.reading() as conn:
        return store.models(conn)


@dataclass(frozen=True)
class Agreement:
    """Confusion counts per (component, model, version) over the datasets a filter selects."""

    filter: Filter
    basis: str
    datasets: int
    confusions: list[Confusion]


def agreement(
    db: Database,
    *,
    model: str | None = None,
    version: str | None = None,
    component: str | None = None,
    workspace: str | None = None,
    dataset: str | None = None,
    run_from: int | None = None,
    run_to: int | None = None,
    basis: str = "effective",
) -> Agreement:
    """How often each model version agrees with the certifiers, per component: LS counts of (model status,
    certifier status) where the certifiers' status is the registry's effective one (a person's decision over
    the automatic one) — or with `basis="manual"` only what people set. LS nobody has judged yet (no status,
    EMPTY, NO VALUE FOUND, NOTSET) are counted apart."""
    selection = _filter(model, version, component, workspace, dataset, run_from, run_to)
    if basis not in BASES:
        raise InvalidInput("basis", f"{basis!r} is not one of {', '.join(BASES)}")
    with db.reading() as conn:
        pairs = store.selected_datasets(conn, selection, MAX_AGREEMENT_DATASETS)
        if len(pairs) > MAX_AGREEMENT_DATASETS:
            raise InvalidInput(
                "filter",
                f"selects predictions on more than {MAX_AGREEMENT_DATASETS} datasets: narrow it (runs, "
                "dataset, model or workspace)",
            )
        predicted = list(store.selected_ranges(conn, selection))
    components = {key[2] for key, _ in predicted}
    reference = registry.flags_of_datasets(
        db, datasets=pairs, components=components, manual_only=basis == "manual"
    )
    confusions = rules.agreement(
        (key[2], key[3], key[4], ranges, reference.get((key[0], key[1], key[2]), RangeMap()))
        for key, ranges in predicted
    )
    return Agreement(selection, basis, len(pairs), confusions)


def _blank(value: str | None) -> str | None:
    """A filter field left empty selects everything."""
    return value.strip() or None if value is not None else None


def _filter(
    model_name: str | None,
    version: str | None,
    component: str | None,
    workspace: str | None,
    dataset: str | None,
    run_from: int | None,
    run_to: int | None,
) -> Filter:
    limits.check_ids(run_from=run_from, run_to=run_to)
    if run_from is not None and run_to is not None and run_to < run_from:
        raise InvalidInput("run_to", f"must not be below run_from ({run_from}), got {run_to}")
    for field_name, value, most in (
        ("model", model_name, limits.MAX_MODEL_CHARS),
        ("version", version, limits.MAX_MODEL_VERSION_CHARS),
        ("component", component, limits.MAX_VALUE_CHARS),
        ("workspace", workspace, limits.MAX_VALUE_CHARS),
        ("dataset", dataset, limits.MAX_NAME_CHARS),
    ):
        if value is not None:
            limits.check_text(field_name, value, most)
    return Filter(
        model=_blank(model_name),
        version=_blank(version),
        component=_blank(component),
        workspace=_blank(workspace),
        dataset=_blank(dataset),
        run_from=run_from,
        run_to=run_to,
    )
