"""What the trends pages show: the (subsystem, PD, processing string) choices, the charts of one selection
(display groups overlaid, then every other trend alone), the facts of every shown run for the hover, CSV rows
of the shown points, and the ledger of files with their failures. One call per page."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from runreg.certification import service as certification
from runreg.kernel.errors import InvalidInput, NotFound
from runreg.storage.database import Database
from runreg.trends import readmodels, service, store
from runreg.trends.readmodels import RunSelection, Series, component_status
from runreg.trends.runinfo import RunInfo

MAX_PER_PAGE = 100
LEDGER_ROWS = 500


@dataclass(frozen=True)
class Query:
    subsystem: str | None = None
    pd: str | None = None
    ps: str | None = None
    selection: RunSelection = field(default_factory=RunSelection)
    search: str = ""
    json_id: int | None = None  # a golden JSON of the JSON portal restricts the runs (with golden_json)
    per_page: int = 12
    page: int = 1


@dataclass(frozen=True)
class ChartSeries:
    trend_id: int
    name: str
    config_key: str
    metric: str
    relative_path: str
    rejected: int  # runs of this trend with no value (reasons on the ledger page)
    points: list[tuple[int, float, float]]


@dataclass(frozen=True)
class Chart:
    key: str
    title: str
    y_title: str
    series: list[ChartSeries]
    group: bool = False
    correlation: bool = False


@dataclass
class Exploration:
    choices: dict[str, dict[str, list[str]]]
    subsystem: str | None
    pd: str | None
    ps: str | None
    charts: list[Chart]  # this page's
    total_charts: int
    page: int
    pages: int
    runs: dict[int, dict[str, Any]]  # facts of every shown run, for the hover and the fill bands
    run_classes: list[str]
    components: list[str]
    json_name: str | None = None


def explore(db: Database, query: Query) -> Exploration:
    """The charts of one (subsystem, PD, processing string) under the run filters (defaults: the first
    subsystem, PD and processing string that have points)."""
    if not 1 <= query.per_page <= MAX_PER_PAGE:
        raise InvalidInput("per_page", f"must be between 1 and {MAX_PER_PAGE}")
    selection, json_name = _with_portal_json(db, query)
    choices = readmodels.legacy_selection(db)
    subsystem = query.subsystem or next(iter(choices), None)
    pds = choices.get(subsystem or "", {})
    pd = query.pd if query.pd in pds else next(iter(pds), None)
    ps = query.ps if pd and query.ps in pds[pd] else (pds[pd][0] if pd else None)
    found: list[Series] = []
    infos: dict[int, RunInfo] = {}
    if subsystem and pd and ps:
        found, infos = readmodels.series(db, selection=selection, subsystem=subsystem, pd=pd, ps=ps)
    needle = query.search.strip().lower()
    if needle:
        found = [s for s in found if needle in f"{s.trend.name} {s.trend.plot_title}".lower()]
    with db.reading() as conn:
        rejected = store.rejection_counts(conn, [s.trend.trend_id for s in found])
    charts = _charts(found, rejected, subsystem or "")
    pages = max(1, -(-len(charts) // query.per_page))
    current = min(max(query.page, 1), pages)
    shown = charts[(current - 1) * query.per_page : current * query.per_page]
    runs = {run for chart in shown for s in chart.series for run, _, _ in s.points}
    component = selection.certified[0] if selection.certified else None
    return Exploration(
        choices=choices, subsystem=subsystem, pd=pd, ps=ps, charts=shown, total_charts=len(charts),
        page=current, pages=pages,
        runs={run: facts(infos.get(run), run, component, selection.golden) for run in sorted(runs)},
        run_classes=sorted({i.run_class for i in infos.values() if i.run_class}),
        components=sorted({c for i in infos.values() for c in i.certification}),
        json_name=json_name,
    )  # fmt: skip


def _with_portal_json(db: Database, query: Query) -> tuple[RunSelection, str | None]:
    if query.json_id is None:
        return query.selection, None
    try:
        job = certification.get(db, query.json_id)
    except NotFound as exc:
        raise InvalidInput("json", exc.message) from None
    if job.status != "done" or not job.result:
        raise InvalidInput("json", f"JSON {query.json_id} has no result yet ({job.status})")
    try:
        golden = readmodels.golden_runs(job.result.get("json", {}))
    except InvalidInput as exc:
        raise InvalidInput("json", exc.message) from None
    if query.selection.golden is not None:  # both: the runs of both
        golden = {run: n for run, n in golden.items() if run in query.selection.golden}
    name = f"JSON {job.id}" + (f" ({job.tags})" if job.tags else "")
    return _replace(query.selection, golden=golden), name


def _replace(selection: RunSelection, **changes: Any) -> RunSelection:
    from dataclasses import replace

    return replace(selection, **changes)


def _charts(found: list[Series], rejected: dict[int, int], subsystem: str) -> list[Chart]:
    """First the subsystem's display groups whose series are shown (overlaid), then every other trend."""
    by_name = {s.trend.name: s for s in found}
    used: set[str] = set()
    charts = []
    for group in service.cached_config_tree().groups:
        if group.subsystem != subsystem:
            continue
        members = [by_name[name] for name in group.series if name in by_name]
        if not members:
            continue
        used.update(s.trend.name for s in members)
        charts.append(
            Chart(
                key=f"group-{group.name}", title=group.plot_title or group.name,
                y_title=group.y_title or members[0].trend.y_title,
                series=[_series(s, rejected) for s in members], group=True,
                correlation=group.correlation and len(members) == 2,
            )
        )  # fmt: skip
    for s in found:
        if s.trend.name not in used:
            charts.append(
                Chart(
                    key=f"trend-{s.trend.trend_id}", title=s.trend.plot_title or s.trend.name,
                    y_title=s.trend.y_title, series=[_series(s, rejected)],
                )
            )  # fmt: skip
    return charts


def _series(s: Series, rejected: dict[int, int]) -> ChartSeries:
    t = s.trend
    return ChartSeries(
        trend_id=t.trend_id, name=t.name, config_key=f"{t.subsystem}/{t.name}", metric=t.metric,
        relative_path=t.relative_path, rejected=rejected.get(t.trend_id, 0), points=s.points,
    )  # fmt: skip


def facts(
    info: RunInfo | None, run: int, component: str | None, golden: dict[int, int] | None
) -> dict[str, Any]:
    """What the hover says about a run: class, significance, OMS summary, components with BAD LS."""
    if info is None:
        return {"run": run, "known": False}
    oms = info.oms_info()
    bad = sorted(c for c in info.certification if component_status(info, c) == "BAD")
    out = {
        "run": run, "known": True, "class": info.run_class, "significant": info.significant,
        "fill": oms.get("fill_number"), "start": oms.get("start_time"), "end": oms.get("end_time"),
        "duration": oms.get("duration"), "delivered": oms.get("delivered_lumi"),
        "recorded": oms.get("recorded_lumi"), "b_field": oms.get("b_field"), "energy": oms.get("energy"),
        "bad": bad,
    }  # fmt: skip
    if component:
        out["component"] = {"name": component, "status": component_status(info, component)}
    if golden is not None:
        out["certified_ls"] = golden.get(run)
    return out


def csv_rows(exploration: Exploration) -> Iterator[list[Any]]:
    """The shown points, one row per (trend, run), with the run's facts."""
    yield ["subsystem", "pd", "processing_string", "trend", "trend_id", "run", "value", "error",
           "run_class", "significant", "fill", "start_time", "delivered_lumi", "bad_components"]  # fmt: skip
    for chart in exploration.charts:
        for s in chart.series:
            for run, value, error in s.points:
                f = exploration.runs.get(run, {})
                yield [
                    exploration.subsystem, exploration.pd, exploration.ps, s.name, s.trend_id, run,
                    repr(value), repr(error), f.get("class", ""), f.get("significant", ""),
                    f.get("fill", ""), f.get("start", ""), f.get("delivered", ""), " ".join(f.get("bad", [])),
                ]  # fmt: skip


@dataclass
class Ledger:
    counts: dict[str, int]
    failed: list[Any]
    trend: Any | None = None
    rejections: list[tuple[int, str]] = field(default_factory=list)
    problems: list[Any] = field(default_factory=list)


def ledger(db: Database, *, trend_id: int | None = None) -> Ledger:
    """Files by status, the failed ones with their reason (retried by the next pass), the config tree's
    problems, and with `trend_id` the runs of that trend without a value and why."""
    with db.reading() as conn:
        failed = store.files_with_status(conn, store.FAILED, LEDGER_ROWS)
        listing = store.trend_listing(conn, trend_ids_=[trend_id]) if trend_id else []
    trend = listing[0] if listing else None
    result = Ledger(readmodels.ledger(db), failed, trend, problems=service.cached_config_tree().problems)
    if trend is not None:
        result.rejections = readmodels.rejections(db, trend_id=trend_id, first=None, last=None)
    return result
