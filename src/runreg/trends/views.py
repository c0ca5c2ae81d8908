"""What the trends pages show: the (subsystem, PD, processing string) choices, the charts of one selection
(display groups overlaid, then every other trend alone), the facts of every shown run for the hover, one
plot full screen with trends of any dataset added to it, the side panel of a (trend, run) (its run's facts
and the stored histograms of its MEs), CSV rows of the shown points, and the ledger of files with their
failures. One call per page."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from runreg.certification import service as certification
from runreg.kernel.errors import InvalidInput, NotFound
from runreg.storage.database import Database
from runreg.trends import readmodels, service, store
from runreg.trends.histogram import Histogram
from runreg.trends.readmodels import RunSelection, Series, component_status
from runreg.trends.runinfo import RunInfo, run_infos

MAX_PER_PAGE = 100
LEDGER_ROWS = 500
MAX_ADDED = 8  # trends added to the full-screen plot
#: The bins a preview draws at most (more are merged): a 1D histogram's, a 2D map's along each axis.
PREVIEW_BINS_1D = 1000
PREVIEW_BINS_2D = 200


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
    fullscreen: str | None = None  # the key of the plot shown full screen (its page is shown)
    added: tuple[int, ...] = ()  # trends of any dataset added to the full-screen plot


@dataclass(frozen=True)
class ChartSeries:
    trend_id: int
    name: str
    config_key: str
    metric: str
    relative_path: str
    rejected: int  # runs of this trend with no value (reasons on the ledger page)
    points: list[tuple[int, float, float]]
    subsystem: str = ""
    pd: str = ""
    ps: str = ""


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
    fullscreen: str | None = None  # the key of the plot shown full screen, when it is on this page
    missing_fullscreen: str | None = None  # the plot asked full screen has no point in this selection
    added: list[ChartSeries] = field(default_factory=list)
    plot_selection: dict[str, Any] | None = None  # full screen: every trend that can be added


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
    keys = [chart.key for chart in charts]
    fullscreen = query.fullscreen if query.fullscreen in keys else None
    if fullscreen:  # the page that holds it
        current = keys.index(fullscreen) // query.per_page + 1
    shown = charts[(current - 1) * query.per_page : current * query.per_page]
    added: list[ChartSeries] = []
    if fullscreen and query.added:
        added, more = _added(db, query.added, selection)
        infos = {**more, **infos}
    runs = {run for chart in shown for s in [*chart.series, *added] for run, _, _ in s.points}
    component = selection.certified[0] if selection.certified else None
    return Exploration(
        choices=choices, subsystem=subsystem, pd=pd, ps=ps, charts=shown, total_charts=len(charts),
        page=current, pages=pages,
        runs={run: facts(infos.get(run), run, component, selection.golden) for run in sorted(runs)},
        run_classes=sorted({i.run_class for i in infos.values() if i.run_class}),
        components=sorted({c for i in infos.values() for c in i.certification}),
        json_name=json_name, fullscreen=fullscreen,
        missing_fullscreen=query.fullscreen if query.fullscreen and not fullscreen else None,
        added=added, plot_selection=readmodels.legacy_plot_selection(db) if fullscreen else None,
    )  # fmt: skip


def _added(
    db: Database, trend_ids: tuple[int, ...], selection: RunSelection
) -> tuple[list[ChartSeries], dict[int, RunInfo]]:
    """The trends added to the full-screen plot, under the page's run filters (a trend with no point in
    them is kept, empty); InvalidInput names an id that is no trend with points."""
    if len(trend_ids) > MAX_ADDED:
        raise InvalidInput("add", f"add at most {MAX_ADDED} trends to a plot")
    with db.reading() as conn:
        listing = {t.trend_id: t for t in store.trend_listing(conn, trend_ids_=list(trend_ids))}
    unknown = [str(t) for t in trend_ids if t not in listing]
    if unknown:
        raise InvalidInput("add", f"no trend with points has id {', '.join(unknown)}")
    found, infos = readmodels.series(db, selection=selection, trend_ids_=list(trend_ids))
    points = {s.trend.trend_id: s.points for s in found}
    out = [_series(Series(listing[t], points.get(t, [])), {}, dataset=True) for t in dict.fromkeys(trend_ids)]
    return out, infos


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


def _series(s: Series, rejected: dict[int, int], *, dataset: bool = False) -> ChartSeries:
    """A chart's series; with `dataset`, its name says its primary dataset and processing string."""
    t = s.trend
    name = f"{t.name} · {t.primary_dataset} / {t.processing_string}" if dataset else t.name
    return ChartSeries(
        trend_id=t.trend_id, name=name, config_key=f"{t.subsystem}/{t.name}", metric=t.metric,
        relative_path=t.relative_path, rejected=rejected.get(t.trend_id, 0), points=s.points,
        subsystem=t.subsystem, pd=t.primary_dataset, ps=t.processing_string,
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
        "recorded": oms.get("recorded_lumi"), "end_lumi": oms.get("end_lumi"), "b_field": oms.get("b_field"),
        "energy": oms.get("energy"), "hlt_rate": oms.get("hlt_physics_rate"), "l1_rate": oms.get("l1_rate"),
        "bad": bad,
    }  # fmt: skip
    if component:
        out["component"] = {"name": component, "status": component_status(info, component)}
    if golden is not None:
        out["certified_ls"] = golden.get(run)
    return out


#: The roles of a config's MEs as the original's expand_url names them, with the listing column of each.
ME_ROLES = (
    ("main", "main ME", "relative_path"), ("optional1", "optional 1", "histo1_path"),
    ("optional2", "optional 2", "histo2_path"), ("reference", "reference", "reference_path"),
)  # fmt: skip


def preview(db: Database, *, trend_id: int, run: int) -> dict[str, Any]:
    """The full-screen side panel of one trend's run: the run's facts from the registry (the OMS info
    table) and, for each ME of the trend's config, its stored bins to draw (merged beyond PREVIEW_BINS_*),
    or why there are none. NotFound names the trend, or the run its dataset holds no histogram of."""
    with db.reading() as conn:
        listing = store.trend_listing(conn, trend_ids_=[trend_id])
        if not listing:
            raise NotFound(f"trend {trend_id} does not exist or has no point", details={"trend": trend_id})
        trend = listing[0]
        dataset = store.dataset_id(conn, trend.primary_dataset, trend.processing_string)
        where = f"{trend.primary_dataset} / {trend.processing_string}"
        if dataset is None or not store.runs_with_histograms(conn, [(dataset, run)]):
            raise NotFound(f"no stored histogram of run {run} in {where}", details={"run": run})
        paths = [getattr(trend, column) for _, _, column in ME_ROLES if getattr(trend, column)]
        stored = {row.me_path: row.data for row in store.stored_histograms(conn, dataset, paths, (run, run))}
    mes = []
    for role, label, column in ME_ROLES:
        path = getattr(trend, column)
        entry: dict[str, Any] = {"role": role, "label": label, "path": path, "histogram": None}
        if not path:
            entry["note"] = f"the config of {trend.name} names no {label}"
        elif path not in stored:
            entry["note"] = f"not stored: the DQM file of run {run} has no {path}"
        else:
            entry["histogram"] = drawable(Histogram.from_bytes(stored[path]))
        mes.append(entry)
    info = run_infos(db, [run]).get(run)
    return {
        "trend": {"trend_id": trend.trend_id, "name": trend.name, "subsystem": trend.subsystem,
                  "pd": trend.primary_dataset, "ps": trend.processing_string},
        "run": run_facts(info, run), "mes": mes,
    }  # fmt: skip


def run_facts(info: RunInfo | None, run: int) -> dict[str, Any]:
    """Everything the registry holds about a run that the OMS info table shows."""
    if info is None:
        return {"run": run, "known": False}
    return {"run": run, "known": True, "class": info.run_class, "significant": info.significant,
            **info.oms_info()}  # fmt: skip


def drawable(h: Histogram) -> dict[str, Any]:
    """A histogram's in-range bins as Plotly draws them (bars: edges and contents; a map: z[y][x])."""
    two_d = h.dimension == 2
    limit = PREVIEW_BINS_2D if two_d else PREVIEW_BINS_1D
    fx, fy = -(-h.nx // limit), (-(-h.ny // limit) if two_d else 1)
    shown = h.merged(fx, fy)
    out: dict[str, Any] = {
        "kind": h.kind, "dimension": h.dimension, "entries": h.entries,
        "bins": [h.nx, h.ny] if two_d else [h.nx],
        "merged": [fx, fy] if two_d else [fx], "x_edges": shown.x_edges.tolist(),
        "x_labels": list(h.x_labels) if fx == 1 else [],
    }  # fmt: skip
    if two_d:
        assert shown.y_edges is not None
        out |= {"y_edges": shown.y_edges.tolist(), "z": shown.in_range().T.tolist(),
                "y_labels": list(h.y_labels) if fy == 1 else []}  # fmt: skip
    else:
        out |= {"values": shown.in_range().tolist(), "errors": shown.in_range_errors().tolist(),
                "mean": h.mean(), "std_dev": h.std_dev()}  # fmt: skip
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
