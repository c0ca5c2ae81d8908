"""/api/v1/trends routes: trend series with the registry's run facts, rejections, configs and groups."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request

from runreg.kernel.limits import Id, Name
from runreg.trends import readmodels, service
from runreg.trends.schemas import PointOut, RejectionOut, RunFacts, SeriesOut, TrendOut, TrendQuery

router = APIRouter(prefix="/trends", tags=["trends"])
# A POST that only reads (a golden JSON does not fit in a query string): the permission test tells it by this.
READ_ONLY = {"x-read-only": True}


def _trend(row: Any) -> TrendOut:
    return TrendOut(
        trend_id=row.trend_id, subsystem=row.subsystem, name=row.name, pd=row.primary_dataset,
        processing_string=row.processing_string, plot_title=row.plot_title, y_title=row.y_title,
        metric=row.metric, relative_path=row.relative_path, histo1_path=row.histo1_path,
        histo2_path=row.histo2_path, reference_path=row.reference_path,
    )  # fmt: skip


def _series(
    found: list[readmodels.Series], infos: dict[int, Any], golden: dict[int, int] | None
) -> list[SeriesOut]:
    def facts(run: int) -> RunFacts | None:
        info = infos.get(run)
        if info is None:
            return None
        certified = golden.get(run) if golden else None
        return RunFacts(run_class=info.run_class, significant=info.significant, oms=info.oms_info(),
                        certification=info.certification, certified_ls=certified)  # fmt: skip

    return [
        SeriesOut(
            trend=_trend(s.trend),
            points=[PointOut(run=r, value=v, error=e, run_info=facts(r)) for r, v, e in s.points],
        )
        for s in found
    ]


@router.get("", response_model=list[TrendOut])
def list_trends(
    request: Request,
    subsystem: Name | None = None,
    pd: Name | None = None,
    ps: Name | None = None,
) -> list[TrendOut]:
    """Non-empty trends, optionally of one subsystem, primary dataset and processing string."""
    rows = readmodels.trend_rows(request.app.state.db, subsystem=subsystem, pd=pd, ps=ps)
    return [_trend(row) for row in rows]


@router.post("/query", response_model=list[SeriesOut], openapi_extra=READ_ONLY)
def query(request: Request, body: TrendQuery) -> list[SeriesOut]:
    """Points of the matching trends, sorted by run; latest N per trend; a golden JSON keeps only its runs."""
    selection = readmodels.RunSelection.build(
        latest=body.latest, first=body.from_run, last=body.to_run, runs=body.runs,
        golden_json=body.golden_json, significant_only=body.significant_only,
    )  # fmt: skip
    found, infos = readmodels.series(
        request.app.state.db, selection=selection, subsystem=body.subsystem, pd=body.pd, ps=body.ps,
        trend_ids_=body.trend_ids,
    )  # fmt: skip
    return _series(found, infos, selection.golden)


@router.get("/{trend_id}/points", response_model=SeriesOut)
def points(
    request: Request,
    trend_id: Id,
    latest: int | None = Query(None, ge=1, le=100_000),
    from_run: Id | None = None,
    to_run: Id | None = None,
    significant_only: bool = True,
) -> SeriesOut:
    """One trend's points (default: the latest 50 significant runs)."""
    selection = readmodels.RunSelection.build(
        latest=latest, first=from_run, last=to_run, significant_only=significant_only
    )
    found, infos = readmodels.one_series(request.app.state.db, trend_id=trend_id, selection=selection)
    return _series([found], infos, None)[0]


@router.get("/{trend_id}/rejections", response_model=list[RejectionOut])
def rejections(
    request: Request, trend_id: Id, from_run: Id | None = None, to_run: Id | None = None
) -> list[RejectionOut]:
    """Why runs of a trend have no point (ME missing, fit failed, NaN, below threshold)."""
    rows = readmodels.rejections(request.app.state.db, trend_id=trend_id, first=from_run, last=to_run)
    return [RejectionOut(run=run, reason=reason) for run, reason in rows]


@router.get("/configs")
def configs() -> dict[str, Any]:
    """The config tree in use: its trends, display groups and the problems found while reading it."""
    tree = service.cached_config_tree()
    return {
        "configs": [
            {
                "key": c.key,
                "subsystem": c.subsystem,
                "name": c.name,
                "metric": c.metric_expression,
                "relative_path": c.relative_path,
                "plot_title": c.plot_title,
                "y_title": c.y_title,
                "source": c.source,
            }
            for c in tree.configs
        ],  # fmt: skip
        "groups": [
            {
                "subsystem": g.subsystem,
                "name": g.name,
                "plot_title": g.plot_title,
                "y_title": g.y_title,
                "series": list(g.series),
                "correlation": g.correlation,
            }
            for g in tree.groups
        ],  # fmt: skip
        "problems": [
            {"file": p.file, "section": p.section, "key": p.key, "message": p.message, "severity": p.severity}
            for p in tree.problems
        ],
    }


@router.get("/files")
def files(request: Request) -> dict[str, int]:
    """How many DQM files the ledger holds by status (pending, done, failed, superseded)."""
    return readmodels.ledger(request.app.state.db)
