"""/api/v1/predictions: ML agents post per-LS predictions; anyone reads them and the agreement with the
certifiers (thin handlers over predictions.service)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Literal

from fastapi import APIRouter, Depends, Query, Request

from runreg.access.api import authenticated_actor
from runreg.kernel.actors import Actor
from runreg.kernel.limits import Id, ModelName, ModelVersion, Name, Value
from runreg.predictions import service
from runreg.predictions.model import PredictedRange
from runreg.predictions.schemas import (
    AgreementOut,
    DatasetPredictionsOut,
    ModelOut,
    Submission,
    SubmissionOut,
    SubmitOut,
)
from runreg.predictions.store import Submission as StoredSubmission
from runreg.registry.model import ONLINE
from runreg.storage.database import Database

router = APIRouter(tags=["predictions"])
WRITE = Depends(authenticated_actor)


def _db(request: Request) -> Database:
    return request.app.state.db


def _dataset_name(name: str) -> str:
    """As the registry's routes: offline names start with '/', which a query may leave out."""
    return name if name == ONLINE or name.startswith("/") else f"/{name}"


def _submission(s: StoredSubmission) -> SubmissionOut:
    return SubmissionOut(
        id=s.id,
        model=s.model,
        version=s.version,
        author=s.author,
        actor_kind=s.actor_kind,
        submitted_at=s.submitted_at.isoformat(),
        components=s.components,
        ranges=s.ranges,
        lumisections=s.lumisections,
    )


@router.post("/predictions")
def submit(request: Request, body: Submission, actor: Actor = WRITE) -> SubmitOut:
    """Post one model version's per-LS predictions for components of a dataset (needs `predictions:write`,
    granted to the ML agents' e-group). LS they cover replace that model version's earlier predictions of
    the same LS; the registry's flags are never changed. Any invalid range refuses the whole submission,
    naming its field."""
    result = service.submit(
        _db(request),
        actor=actor,
        run_number=body.run_number,
        dataset=_dataset_name(body.dataset),
        model=body.model,
        version=body.version,
        predictions={
            component: [PredictedRange(r.first_ls, r.last_ls, r.status, r.score) for r in ranges]
            for component, ranges in body.predictions.items()
        },
    )
    return SubmitOut(**asdict(result))


@router.get("/predictions/models")
def list_models(request: Request) -> list[ModelOut]:
    """Every model version that posted predictions: submissions, datasets, components, first and last time."""
    return [
        ModelOut(
            **{
                **row,
                "first_submitted_at": row["first_submitted_at"].isoformat()
                if row["first_submitted_at"]
                else None,
                "last_submitted_at": row["last_submitted_at"].isoformat()
                if row["last_submitted_at"]
                else None,
            }
        )
        for row in service.models(_db(request))
    ]


@router.get("/predictions/agreement")
def agreement(
    request: Request,
    model: ModelName | None = Query(None, description="only this model"),
    version: ModelVersion | None = Query(None, description="only this version"),
    component: Value | None = Query(None, description="only this component (<workspace>-<column>)"),
    workspace: Value | None = Query(None, description="only components of this workspace"),
    dataset: Name | None = Query(
        None, description="a dataset name, or a pattern with * (e.g. /PromptReco/*)"
    ),
    run_from: Id | None = Query(None),
    run_to: Id | None = Query(None),
    basis: Literal["effective", "manual"] = Query(
        "effective",
        description="effective: the registry's status (a person's over the automatic one); manual: only what "
        "people set",
    ),
) -> AgreementOut:
    """Per component and model version, LS counts of the model's status against the certifiers' (a confusion
    matrix), the agreement rate over judged LS, and the LS nobody has judged yet, counted apart."""
    found = service.agreement(
        _db(request),
        model=model,
        version=version,
        component=component,
        workspace=workspace,
        dataset=dataset,
        run_from=run_from,
        run_to=run_to,
        basis=basis,
    )
    return AgreementOut(
        filter={k: v for k, v in asdict(found.filter).items() if v is not None},
        basis=found.basis,
        datasets=found.datasets,
        components=[c.as_dict() for c in found.confusions],  # type: ignore[misc]
    )


@router.get("/predictions/{run_number}")
def dataset_predictions(
    request: Request,
    run_number: Id,
    dataset: Name = Query(ONLINE, description="'online' or an offline dataset name"),
) -> DatasetPredictionsOut:
    """Every model version's predictions in force on a dataset, per component, with who submitted each range
    and when, and the dataset's latest submissions."""
    found = service.dataset_predictions(_db(request), run_number=run_number, dataset=_dataset_name(dataset))
    return DatasetPredictionsOut(
        run_number=found.run_number,
        dataset=found.dataset,
        predictions=[p.as_dict(found.by_id) for p in found.predictions],  # type: ignore[misc]
        submissions=[_submission(s) for s in found.submissions],
    )
