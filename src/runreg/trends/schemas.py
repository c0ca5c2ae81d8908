"""Request and response bodies of the trends' /api/v1 routes."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from runreg.kernel.limits import Id, Name


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TrendQuery(_Body):
    subsystem: Name | None = None
    pd: Name | None = Field(None, description="primary dataset")
    ps: Name | None = Field(None, description="processing string")
    trend_ids: list[Id] | None = Field(None, max_length=1000)
    latest: int | None = Field(None, ge=1, le=100_000, description="the latest N points of each trend")
    from_run: Id | None = None
    to_run: Id | None = None
    runs: list[Id] | None = Field(None, max_length=10_000)
    golden_json: dict[str, Any] | None = Field(
        None, description='only the runs of a golden JSON {"run": [[1, 20]]}'
    )
    significant_only: bool = True


class RunFacts(BaseModel):
    run_class: str
    significant: bool
    oms: dict[str, Any]
    certification: dict[str, Any]
    certified_ls: int | None = None


class PointOut(BaseModel):
    run: int
    value: float
    error: float
    run_info: RunFacts | None = None


class TrendOut(BaseModel):
    trend_id: int
    subsystem: str
    name: str
    pd: str
    processing_string: str
    plot_title: str
    y_title: str
    metric: str
    relative_path: str
    histo1_path: str | None
    histo2_path: str | None
    reference_path: str | None


class SeriesOut(BaseModel):
    trend: TrendOut
    points: list[PointOut]


class RejectionOut(BaseModel):
    run: int
    reason: str
