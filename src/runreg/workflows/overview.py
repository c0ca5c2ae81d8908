"""What the workflow pages show: a filtered table page with each dataset's completion, and one workflow with
its numbers over time per output dataset, estimated completion, status history, and how much of a data
workflow's input is in the latest official golden JSON."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from runreg.certification import service as certification
from runreg.certification.lumilist import LumiList
from runreg.integrations.cmsweb import CmswebError, DbsSource
from runreg.kernel.errors import InvalidInput, NotFound
from runreg.storage.database import Database
from runreg.workflows import model, progress, reads, store
from runreg.workflows.model import Numbers
from runreg.workflows.service import LAST_DBS, _valid_name

PAGE_SIZE = 100  # the original's page


@dataclass(frozen=True, slots=True)
class DatasetState:
    """One output dataset now: its DBS numbers and how complete it is against the workflow's target."""

    dataset: str
    tier: str
    access_type: str
    events: int
    size: int
    lumis: int | None
    done: float | None  # fraction of the target (events, or lumis when the workflow tracks them)


@dataclass(frozen=True, slots=True)
class Row:
    name: str
    document: dict[str, Any]
    last_update: float
    target: int | None
    basis: str  # "events" or "lumis"
    datasets: list[DatasetState]


@dataclass(frozen=True, slots=True)
class Listing:
    rows: list[Row]
    matching: int
    cached: int
    last_update: float | None
    next_cursor: str | None
    failing: int = 0  # workflows whose last update failed (retried by the next one)


def _states(
    doc: Mapping[str, Any], current: Mapping[str, Numbers]
) -> tuple[int | None, str, list[DatasetState]]:
    target, basis = progress.expected(doc)
    states = []
    for dataset in doc.get("OutputDatasets", []):
        value = current.get(dataset) or Numbers(model.NONE_TYPE, 0, 0)
        count = (value.lumis or 0) if basis == "lumis" else value.events
        tier = dataset.rsplit("/", 1)[-1]
        done = progress.completion(count, target)
        states.append(
            DatasetState(dataset, tier, value.access_type, value.events, value.size, value.lumis, done)
        )
    return target, basis, states


def listing(
    db: Database,
    *,
    filters: Sequence[store.KeyFilter],
    chronological: bool,
    cursor: str | None,
    limit: int = PAGE_SIZE,
) -> Listing:
    """One page of the workflows matching every filter, each with its datasets' current numbers, in one
    snapshot; how many match and how many the cache holds."""
    if not 1 <= limit <= reads.MAX_PAGE:
        raise InvalidInput("limit", f"must be between 1 and {reads.MAX_PAGE}")
    with db.reading() as conn:
        found = store.find(
            conn, filters=filters, after=reads.decode_cursor(cursor), limit=limit, chronological=chronological
        )
        current = store.current_numbers(conn, [row.name for row in found])
        matching, cached, failing, last = store.listing_facts(conn, filters, LAST_DBS)
    rows = []
    for row in found:
        target, basis, states = _states(row.document, current.get(row.name, {}))
        rows.append(Row(row.name, row.document, row.last_update, target, basis, states))
    following = reads.encode_cursor((found[-1].submitted, found[-1].name)) if len(found) == limit else None
    return Listing(rows, matching, cached, None if last is None else float(last), following, failing)


@dataclass(frozen=True, slots=True)
class Series:
    """One output dataset's numbers each time they changed, and when it would be complete at its pace."""

    dataset: str
    times: list[int]
    events: list[int]
    lumis: list[int | None]
    sizes: list[int]
    types: list[str]
    estimated_completion: float | None
    complete: bool  # reached the target


@dataclass(frozen=True, slots=True)
class Failure:
    stage: str  # "document" (ReqMgr2) or "numbers" (DBS)
    error: str
    attempts: int
    failed_at: float


@dataclass(frozen=True, slots=True)
class Workflow:
    row: Row
    series: list[Series]
    failure: Failure | None = None  # the last update of this workflow failed (the next one retries it)

    @property
    def document(self) -> dict[str, Any]:
        return self.row.document

    @property
    def last_change(self) -> float | None:
        """When DBS's numbers of any output dataset last changed (None: never recorded)."""
        return max((s.times[-1] for s in self.series if s.times), default=None)

    def stalled(self, now: float) -> bool:
        transitions = self.document.get("RequestTransition") or []
        status = transitions[-1].get("Status") if transitions else None
        return progress.stalled(status, self.last_change, now)


def workflow(db: Database, *, name: str) -> Workflow:
    """One workflow: its document, current numbers and each output dataset's history (NotFound if absent)."""
    name = _valid_name(name)
    with db.reading() as conn:
        docs = store.documents(conn, [name])
        if name not in docs:
            raise NotFound(f"workflow {name!r} is not in the cache", details={"workflow": name})
        current = store.current_numbers(conn, [name]).get(name, {})
        rows = store.history(conn, [name]).get(name, [])
        last_update = store.last_updates(conn, [name]).get(name, 0.0)
        failed = store.failures_of(conn, [name]).get(name)
    doc = docs[name]
    target, basis, states = _states(doc, current)
    per_dataset: dict[str, list[tuple[int, Numbers]]] = {d: [] for d in doc.get("OutputDatasets", [])}
    for moment, dataset, value in rows:
        per_dataset.setdefault(dataset, []).append((moment, value))
    done = {state.dataset: state.done for state in states}
    series = []
    for dataset, points in per_dataset.items():
        counts = [(t, (v.lumis or 0) if basis == "lumis" else v.events) for t, v in points]
        series.append(
            Series(
                dataset,
                times=[t for t, _ in points],
                events=[v.events for _, v in points],
                lumis=[v.lumis for _, v in points],
                sizes=[v.size for _, v in points],
                types=[v.access_type for _, v in points],
                estimated_completion=progress.estimated_completion(counts, target),
                complete=(done.get(dataset) or 0) >= 1,
            )
        )
    failure = Failure(*failed) if failed else None
    return Workflow(Row(name, doc, last_update, target, basis, states), series, failure)


@dataclass(frozen=True, slots=True)
class GoldenView:
    """The share of a data workflow's input LS in the latest official golden JSON (`share` None: why not)."""

    share: reads.GoldenShare | None
    job_id: int | None = None
    job_created_at: datetime | None = None
    job_tags: str = ""
    reason: str | None = None


def golden(db: Database, dbs: DbsSource, *, name: str) -> GoldenView:
    """Against the newest official golden JSON that is done; a reason instead when the workflow does not read
    data, no official JSON exists, or DBS cannot be asked."""
    doc = workflow(db, name=name).document  # NotFound first
    if not reads.is_data(doc.get("InputDataset") or "/x/x/GEN"):
        return GoldenView(None, reason="the workflow does not read a data dataset")
    official = [job for job in certification.list_jobs(db, official=True, with_result=False, limit=50)
                if job.status == "done"]  # fmt: skip
    if not official:
        return GoldenView(None, reason="no official golden JSON yet (the JSON portal marks one official)")
    job = certification.get(db, official[0].id)
    lumis = LumiList.from_json((job.result or {}).get("json", {}))
    try:
        share = reads.golden_share(db, dbs, name=name, golden=lumis)
    except InvalidInput as exc:
        return GoldenView(None, job.id, job.created_at, job.tags, reason=exc.message)
    except CmswebError as exc:
        return GoldenView(None, job.id, job.created_at, job.tags, reason=f"DBS did not answer: {exc.message}")
    return GoldenView(share, job.id, job.created_at, job.tags)
