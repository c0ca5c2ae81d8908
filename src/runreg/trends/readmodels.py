"""Reading trends: the original API's shapes (data, selection, plot_selection, runs, expand_url) and the
series of runreg's own API. Points come sorted by run; `latest` applies per trend; empty trends are left
out; run facts come from the registry."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from runreg.kernel.collector import collector_paused
from runreg.kernel.errors import InvalidInput, NotFound
from runreg.storage.database import Database
from runreg.trends import store
from runreg.trends.runinfo import RunInfo, golden_runs, run_infos

MAX_LATEST = 100_000
MAX_RUN_LIST = 10_000
DQM_GUI = "https://cmsweb.cern.ch/dqm/offline"
URL_TYPES = {
    "main": "relative_path",
    "optional1": "histo1_path",
    "optional2": "histo2_path",
    "reference": "reference_path",
}


#: A component's state in a run, from its LS counts: BAD if any LS is BAD, GOOD if some are GOOD and none
#: BAD, else NONE (nothing judged yet: EMPTY, NOTSET, STANDBY, EXCLUDED only).
COMPONENT_STATUSES = ("GOOD", "BAD", "NONE")


def component_status(info: RunInfo, component: str) -> str:
    counts = info.certification.get(component) or {}
    if counts.get("BAD", 0):
        return "BAD"
    return "GOOD" if counts.get("GOOD", 0) else "NONE"


@dataclass(frozen=True)
class RunSelection:
    """Exactly one of: the latest N runs (per trend), a run range, a run list; optionally only the runs
    (with their certified LS counted) of a golden JSON, and only significant runs."""

    latest: int | None = 50
    first: int | None = None
    last: int | None = None
    runs: tuple[int, ...] | None = None
    golden: dict[int, int] | None = None
    significant_only: bool = True
    run_class: str | None = None  # only runs of this class (the registry's)
    certified: tuple[str, str] | None = None  # only runs whose component has this status (component_status)

    def keeps(self, run: int, infos: dict[int, RunInfo]) -> bool:
        """Whether a point of `run` passes the run filters (registry facts, golden JSON)."""
        if self.golden is not None and run not in self.golden:
            return False
        info = infos.get(run)
        if info is None:
            return not (self.significant_only or self.run_class or self.certified)
        if self.significant_only and not info.significant:
            return False
        if self.run_class and info.run_class != self.run_class:
            return False
        return not self.certified or component_status(info, self.certified[0]) == self.certified[1]

    def kept(self, runs: set[int], infos: dict[int, RunInfo]) -> set[int]:
        """The runs whose points pass (`keeps` of each; the usual filter, significance alone, in one pass)."""
        wanted = set(self.runs) if self.runs else None
        if wanted is None and self.golden is None and not self.run_class and not self.certified:
            if not self.significant_only:
                return set(runs)
            return {run for run in runs if (info := infos.get(run)) is not None and info.significant}
        return {run for run in runs if (wanted is None or run in wanted) and self.keeps(run, infos)}

    @classmethod
    def build(
        cls,
        *,
        latest: int | None = None,
        first: int | None = None,
        last: int | None = None,
        runs: list[int] | None = None,
        golden_json: Any = None,
        significant_only: bool = True,
        run_class: str | None = None,
        certified: tuple[str, str] | None = None,
    ) -> RunSelection:
        chosen = [
            name
            for name, v in (
                ("latest", latest),
                ("from_run/to_run", first if first is not None else last),
                ("runs", runs),
            )
            if v is not None
        ]
        if len(chosen) > 1:
            raise InvalidInput(
                "runs", f"give only one of latest, from_run/to_run and runs (got {', '.join(chosen)})"
            )
        if (first is None) != (last is None):
            raise InvalidInput("from_run" if first is None else "to_run", "from_run and to_run go together")
        if first is not None and last is not None and first > last:
            raise InvalidInput("from_run", f"{first} is after to_run {last}")
        if latest is not None and not 1 <= latest <= MAX_LATEST:
            raise InvalidInput("latest", f"must be between 1 and {MAX_LATEST}")
        if runs is not None and not 1 <= len(runs) <= MAX_RUN_LIST:
            raise InvalidInput("runs", f"give 1 to {MAX_RUN_LIST} runs")
        if certified is not None and certified[1] not in COMPONENT_STATUSES:
            raise InvalidInput("status", f"must be one of {', '.join(COMPONENT_STATUSES)}")
        extra = {"significant_only": significant_only, "run_class": run_class or None, "certified": certified}
        golden = None
        if golden_json is not None:
            try:
                golden = golden_runs(golden_json)
            except InvalidInput as exc:
                raise InvalidInput("golden_json", exc.message) from None
        if chosen:
            return cls(
                latest=latest,
                first=first,
                last=last,
                runs=tuple(sorted(set(runs))) if runs else None,
                golden=golden,
                **extra,
            )
        return cls(golden=golden, **extra)

    @property
    def bounds(self) -> tuple[int, int] | None:
        if self.first is not None and self.last is not None:
            return self.first, self.last
        if self.runs:
            return self.runs[0], self.runs[-1]
        if self.golden:
            return min(self.golden), max(self.golden)
        return None


@dataclass(frozen=True)
class Series:
    trend: Any  # a trend_listing row
    points: list[tuple[int, float, float]]  # (run, value, error), ascending


def series(db: Database, *, selection: RunSelection, **where: Any) -> tuple[list[Series], dict[int, RunInfo]]:
    """The selected points of every non-empty active trend matching `where` (subsystem, pd, ps,
    trend_ids_)."""
    with db.reading() as conn:
        listing = store.trend_listing(conn, **where)
        rows = store.points_of(conn, [t.trend_id for t in listing], selection.bounds) if listing else []
    by_trend: dict[int, list[tuple[int, float, float]]] = defaultdict(list)
    for trend_id, run, value, error in rows:
        by_trend[trend_id].append((run, value, error))
    runs = {p[0] for points in by_trend.values() for p in points}
    infos = run_infos(db, runs)
    kept = selection.kept(runs, infos)
    result = []
    for trend in listing:
        points = [p for p in by_trend.get(trend.trend_id, []) if p[0] in kept]
        if selection.latest is not None:
            points = points[-selection.latest :]
        if points:
            result.append(Series(trend, points))
    return result, infos


# -- the original's shapes -------------------------------------------------------------------------
def legacy_data(
    db: Database, *, subsystem: str, pd: str, ps: str, selection: RunSelection, trend_id: int | None = None
) -> list[dict[str, Any]]:
    with collector_paused():  # a point is a dict: 5,000 of them would run the collector ~30 times
        found, infos = series(
            db,
            selection=selection,
            subsystem=subsystem,
            pd=pd,
            ps=ps,
            trend_ids_=[trend_id] if trend_id is not None else None,
        )
        oms = {run: info.oms_info() for run, info in infos.items()}
        return _legacy_series(found, oms)


def _legacy_series(found: list[Series], oms: dict[int, dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            "metadata": _metadata(s.trend),
            "trends": [
                {"run": run, "value": value, "error": error, "oms_info": oms.get(run, {})}
                for run, value, error in s.points
            ],
        }
        for s in found
    ]


def _metadata(trend: Any) -> dict[str, Any]:
    return {
        "y_title": trend.y_title,
        "plot_title": trend.plot_title,
        "name": trend.name,
        "subsystem": trend.subsystem,
        "pd": trend.primary_dataset,
        "processing_string": trend.processing_string,
        "relative_path": trend.relative_path,
        "histo1_path": trend.histo1_path,
        "histo2_path": trend.histo2_path,
        "reference_path": trend.reference_path,
        "trend_id": trend.trend_id,
    }


def legacy_selection(db: Database) -> dict[str, dict[str, list[str]]]:
    with db.reading() as conn:
        listing = store.trend_listing(conn)
    out: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for t in listing:
        out[t.subsystem][t.primary_dataset].add(t.processing_string)
    return {sub: {pd: sorted(ps) for pd, ps in sorted(pds.items())} for sub, pds in sorted(out.items())}


def legacy_plot_selection(db: Database) -> dict[str, dict[str, dict[str, list[dict[str, Any]]]]]:
    with db.reading() as conn:
        listing = store.trend_listing(conn)
    out: dict[str, Any] = {}
    for t in listing:
        out.setdefault(t.subsystem, {}).setdefault(t.primary_dataset, {}).setdefault(
            t.processing_string, []
        ).append({"name": t.name, "id": t.trend_id})
    return out


def runs(db: Database) -> list[int]:
    with db.reading() as conn:
        return store.point_runs(conn)


def expand_url(
    db: Database, *, url_type: str, run: int, trend_id: int, subsystem: str, pd: str, ps: str
) -> str:
    """The DQM GUI page or the rendered image of one ME of a trend's run."""
    kind, _, face = url_type.rpartition("_")
    role, _, what = kind.partition("_")
    if what != "gui" and what != "image" or face != "url" or role not in URL_TYPES:
        allowed = ", ".join(
            f"{r}_{w}_url" for r in ("main", "optional1", "optional2", "reference") for w in ("gui", "image")
        )
        raise InvalidInput("url_type", f"must be one of {allowed}")
    with db.reading() as conn:
        listing = store.trend_listing(conn, subsystem=subsystem, pd=pd, ps=ps, trend_ids_=[trend_id])
        if not listing:
            raise NotFound(
                f"no trend {trend_id} of {subsystem} in {pd} / {ps}", details={"trend_id": trend_id}
            )
        me_path = getattr(listing[0], URL_TYPES[role])
        if not me_path:
            raise NotFound(f"trend {trend_id} has no {role} monitor element", details={"url_type": url_type})
        found = store.done_file(conn, pd, ps, run)
    if found is None:
        raise NotFound(f"no processed DQM file of run {run} in {pd} / {ps}", details={"run": run})
    folder = me_path.rsplit("/", 1)[0]
    if what == "gui":
        url = (
            f"{DQM_GUI}/start?runnr={run};dataset={found.dataset_name};workspace=Everything;"
            f"root={folder};focus={me_path};zoom=yes;"
        )
    else:
        image = f"{run}{found.dataset_name}/{me_path}"
        url = f"{DQM_GUI}/plotfairy/archive/{image}?v=1510330581101995531;w=1906;h=933"
    return url.replace("+", "%2B").replace(" ", "%20")


# -- runreg's own API ------------------------------------------------------------------------------
def trend_rows(db: Database, *, subsystem: str | None, pd: str | None, ps: str | None) -> list[Any]:
    with db.reading() as conn:
        return store.trend_listing(conn, subsystem=subsystem, pd=pd, ps=ps)


def one_series(db: Database, *, trend_id: int, selection: RunSelection) -> tuple[Series, dict[int, RunInfo]]:
    found, infos = series(db, selection=selection, trend_ids_=[trend_id])
    if found:
        return found[0], infos
    with db.reading() as conn:
        listing = store.trend_listing(conn, trend_ids_=[trend_id])
    if not listing:
        raise NotFound(f"trend {trend_id} does not exist or has no point", details={"trend_id": trend_id})
    return Series(listing[0], []), infos


def rejections(db: Database, *, trend_id: int, first: int | None, last: int | None) -> list[tuple[int, str]]:
    bounds = (first if first is not None else 0, last if last is not None else 2**31 - 1)
    with db.reading() as conn:
        return [(row.run_number, row.reason) for row in store.rejections_of(conn, trend_id, bounds)]


def ledger(db: Database) -> dict[str, int]:
    with db.reading() as conn:
        counts = store.ledger_counts(conn)
    return {
        status: counts.get(status, 0)
        for status in (store.PENDING, store.DONE, store.FAILED, store.SUPERSEDED)
    }
