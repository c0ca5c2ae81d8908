"""Reading the workflow cache: the original's document shape, filtered listings with keyset paging, search,
the markdown table, and the share of a data workflow's input lumisections in a golden JSON."""

from __future__ import annotations

import base64
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from runreg.certification.lumilist import LumiList
from runreg.integrations.cmsweb import DbsSource
from runreg.kernel.errors import InvalidInput, NotFound
from runreg.storage.database import Database
from runreg.workflows import model, store
from runreg.workflows.service import _valid_name, as_legacy

MAX_PAGE = 1000
MAX_FILTER_LENGTH = 1000
MD_LIMIT = 10_000  # the markdown table is for people; the original stopped at 500
LEGACY_ORDER = ("workflow_name", *model.KEY_KINDS)  # §5.1: the first parameter present wins
CHRONOLOGICAL = frozenset({"prepid", "output_dataset", "input_dataset", "request"})
EXTRA = ("status",)  # beyond the original's views (not on its legacy routes): the latest status
FILTERS = {"workflow_name": "workflow", **{kind: kind for kind in (*model.KEY_KINDS, *EXTRA)}}


@dataclass(frozen=True, slots=True)
class Page:
    documents: list[dict[str, Any]]
    next_cursor: str | None


def parse_filters(params: Mapping[str, str], *, legacy: bool) -> tuple[list[store.KeyFilter], bool]:
    """Query parameters → key filters and whether the order is chronological. Legacy: the first parameter of
    §5.1 present wins and matches exactly; otherwise every parameter applies, and `*` is a wildcard."""
    present = [name for name in (*LEGACY_ORDER, *(() if legacy else EXTRA)) if params.get(name)]
    if legacy:
        present = present[:1]
    filters = []
    for name in present:
        value = params[name]
        if len(value) > MAX_FILTER_LENGTH:
            raise InvalidInput(name, f"is longer than {MAX_FILTER_LENGTH} characters")
        pattern = not legacy and "*" in value
        if pattern and len(value.replace("*", "")) < 3:
            raise InvalidInput(name, "a wildcard search needs at least 3 other characters")
        filters.append(store.KeyFilter(FILTERS[name], value, pattern))
    chronological = (
        bool(present) and present[0] in CHRONOLOGICAL if legacy else params.get("order") == "submitted"
    )
    return filters, chronological


def encode_cursor(row: tuple[str, str]) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(list(row))).decode()


def decode_cursor(cursor: str | None) -> tuple[str, str] | None:
    if not cursor:
        return None
    try:
        submitted, name = orjson.loads(base64.urlsafe_b64decode(cursor.encode()))
        return str(submitted), str(name)
    except (ValueError, TypeError, orjson.JSONDecodeError):
        raise InvalidInput("cursor", "is not a cursor this server gave out") from None


def page(
    db: Database, *, filters: Sequence[store.KeyFilter], chronological: bool, cursor: str | None, limit: int
) -> Page:
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidInput("limit", f"must be between 1 and {MAX_PAGE}")
    with db.reading() as conn:
        rows = store.find(
            conn, filters=filters, after=decode_cursor(cursor), limit=limit, chronological=chronological
        )
        documents = as_legacy(conn, [(row.name, row.document, row.last_update) for row in rows])
    following = encode_cursor((rows[-1].submitted, rows[-1].name)) if len(rows) == limit else None
    return Page(documents, following)


def every_document_json(
    db: Database, *, filters: Sequence[store.KeyFilter], chronological: bool
) -> Iterator[bytes]:
    """All matching documents as JSON bytes each, spliced from the stored text without decoding it (the
    listing the original's users download whole)."""
    after: tuple[str, str] | None = None
    while True:
        with db.reading() as conn:
            rows = store.find(
                conn, filters=filters, after=after, limit=MAX_PAGE, chronological=chronological, raw=True
            )
            histories = store.history(conn, [row.name for row in rows])
        for row in rows:
            entries = orjson.dumps(model.history_entries(histories.get(row.name, [])))
            text = row.document.encode() if isinstance(row.document, str) else bytes(row.document)
            yield (
                text.rstrip()[:-1]
                + b', "EventNumberHistory": '
                + entries
                + b', "LastUpdate": %d}' % int(row.last_update)
            )
        if len(rows) < MAX_PAGE:
            return
        after = (rows[-1].submitted, rows[-1].name)


def every_document(
    db: Database, *, filters: Sequence[store.KeyFilter], chronological: bool, limit: int | None = None
) -> Iterator[dict[str, Any]]:
    """All matching documents, page by page (each page its own short read): no cap unless `limit`."""
    cursor, sent = None, 0
    while True:
        size = MAX_PAGE if limit is None else min(MAX_PAGE, limit - sent)
        if size <= 0:
            return
        result = page(db, filters=filters, chronological=chronological, cursor=cursor, limit=size)
        yield from result.documents
        sent += len(result.documents)
        if result.next_cursor is None:
            return
        cursor = result.next_cursor


def search_target(db: Database, *, q: str) -> tuple[str, str] | None:
    """The query parameter the original's search box would redirect to for `q`, or None for an empty `q`."""
    q = q.strip()
    if not q:
        return None
    if len(q) > MAX_FILTER_LENGTH:
        raise InvalidInput("q", f"is longer than {MAX_FILTER_LENGTH} characters")
    with db.reading() as conn:
        kind = store.first_kind_with(conn, model.KEY_KINDS, q)
    return (kind or "workflow_name", q)


_DAS = "https://cmsweb.cern.ch/das/request?view=list&limit=50&instance=prod%2Fglobal&input=dataset%3D"
_STATS = "https://cms-pdmv-prod.web.cern.ch/stats/?workflow_name="


def markdown(documents: Sequence[Mapping[str, Any]]) -> str:
    """The original's `/md` table: request (link), input dataset (DAS link), output datasets (DAS links)."""
    from urllib.parse import quote

    if not documents:
        return ""

    def das(dataset: str) -> str:
        return f"[{dataset}]({_DAS}{quote(dataset, safe='')})"

    lines = ["| RequestName | InputDataset | OutputDatasets |", "|---|---|---|"]
    for doc in documents:
        name = doc["RequestName"] if "RequestName" in doc else doc["_id"]
        input_dataset = das(doc["InputDataset"]) if doc.get("InputDataset") else ""
        outputs = "<br>".join(f"- {das(d)}" for d in doc.get("OutputDatasets", []))
        lines.append(f"| [{name}]({_STATS}{quote(name, safe='')}) | {input_dataset} | {outputs} |")
    return "\n".join(lines) + "\n"


@dataclass(frozen=True, slots=True)
class GoldenShare:
    input_lumis: int
    certified_lumis: int
    runs: int

    @property
    def share(self) -> float:
        return self.certified_lumis / self.input_lumis if self.input_lumis else 0.0


def golden_share(db: Database, dbs: DbsSource, *, name: str, golden: LumiList) -> GoldenShare:
    """Of the LS a data workflow reads (its lumi mask, else every LS of its input dataset in DBS), how many
    are in `golden`."""
    with db.reading() as conn:
        documents = store.documents(conn, [_valid_name(name)])
    if name not in documents:
        raise NotFound(f"workflow {name!r} is not in the cache", details={"workflow": name})
    doc = documents[name]
    dataset = doc.get("InputDataset")
    if not dataset or not is_data(dataset):
        raise InvalidInput("workflow", f"{name} does not read a data dataset (input: {dataset or 'none'})")
    mask = model.lumi_mask(doc.get("LumiList"))
    reads = LumiList.from_ranges(mask) if mask else LumiList.from_runs_and_lumis(dbs.dataset_lumis(dataset))
    certified = reads & golden
    return GoldenShare(reads.ls_count(), certified.ls_count(), len(reads.runs()))


def is_data(dataset: str) -> bool:
    """Collision data, not simulation: no SIM, GEN or LHE in its tier, no simulation campaign in its name."""
    tier = dataset.rsplit("/", 1)[-1]
    return not any(part in tier for part in ("SIM", "GEN", "LHE")) and "RelVal" not in dataset
