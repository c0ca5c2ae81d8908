"""Request and response bodies of the predictions routes (/api/v1/predictions…)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from runreg.kernel.limits import MAX_LIST_ITEMS, Id, Int32, ModelName, ModelVersion, Name, Value


class PredictedRangeIn(BaseModel):
    """The service checks the ranges (LS within the run, known status, score in [0, 1]), so a refusal names
    the field as `predictions.<component>[i].<field>` whatever the entry point."""

    model_config = ConfigDict(extra="forbid")

    first_ls: Int32 = Field(json_schema_extra={"minimum": 1})
    last_ls: Int32 = Field(json_schema_extra={"minimum": 1})
    status: Value = Field(description="GOOD, BAD, STANDBY or EXCLUDED")
    score: float = Field(
        allow_inf_nan=False,
        json_schema_extra={"minimum": 0, "maximum": 1},
        description="the model's confidence",
    )


class Submission(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "example": {
                "run_number": 380567,
                "dataset": "/PromptReco/Collisions2024A/DQM",
                "model": "tracker-autoencoder",
                "version": "1.2.0",
                "predictions": {
                    "tracker-pixel": [
                        {"first_ls": 1, "last_ls": 120, "status": "GOOD", "score": 0.97},
                        {"first_ls": 121, "last_ls": 130, "status": "BAD", "score": 0.81},
                    ]
                },
            }
        },
    )

    run_number: Id
    dataset: Name = Field(description="'online' or an offline dataset name (/PromptReco/…/DQM)")
    model: ModelName = Field(min_length=1)
    version: ModelVersion = Field(min_length=1)
    predictions: dict[Value, list[PredictedRangeIn]] = Field(
        min_length=1,
        description=f"per component (<workspace>-<column>), LS ranges that must not overlap; at most "
        f"{MAX_LIST_ITEMS} ranges per component",
    )


class SubmitOut(BaseModel):
    submission_id: int
    components: list[str]
    ranges: int = Field(description="LS ranges received")
    lumisections: int = Field(description="LS predicted, summed over the components")
    stored_ranges: int = Field(description="ranges now in force for these components of this model version")


class SubmissionOut(BaseModel):
    id: int
    model: str
    version: str
    author: str
    actor_kind: str
    submitted_at: str
    components: list[str]
    ranges: int
    lumisections: int


class RangeOut(BaseModel):
    first_ls: int
    last_ls: int
    status: str
    score: float
    submission_id: int
    submitted_by: str
    submitted_at: str


class ComponentPredictionsOut(BaseModel):
    component: str
    model: str
    version: str
    ranges: list[RangeOut]


class DatasetPredictionsOut(BaseModel):
    run_number: int
    dataset: str
    predictions: list[ComponentPredictionsOut]
    submissions: list[SubmissionOut] = Field(description="the dataset's latest submissions, newest first")


class ModelOut(BaseModel):
    model: str
    version: str
    submissions: int
    datasets: int
    components: list[str]
    first_submitted_at: str | None
    last_submitted_at: str | None


class ConfusionOut(BaseModel):
    component: str
    model: str
    version: str
    datasets: int
    predicted_ls: int
    judged_ls: int
    not_judged_ls: int = Field(description="LS predicted that nobody has judged yet (counted apart)")
    agreed_ls: int
    agreement: float | None = Field(description="agreed / judged LS; null when nothing is judged")
    bad_found: float | None = Field(
        description="of the LS certifiers judged BAD, the share the model called BAD"
    )
    bad_confirmed: float | None = Field(
        description="of the judged LS the model called BAD, the share judged BAD"
    )
    matrix: dict[str, dict[str, int]] = Field(
        description="LS per model status (rows), certifier status (columns)"
    )
    not_judged: dict[str, int] = Field(description="LS per model status that nobody has judged yet")


class AgreementOut(BaseModel):
    filter: dict[str, Any]
    basis: str
    datasets: int
    components: list[ConfusionOut]
