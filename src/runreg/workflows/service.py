"""Use cases of the workflow cache: the incremental update from ReqMgr2's changes feed and DBS, the update of
one workflow, and reads (one transaction per batch; the feed position is saved with the batch it covers)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection

from runreg.access.actions import Target
from runreg.configuration import service as configuration
from runreg.integrations.cmsweb import ChangesPage, CmswebError, CmswebSources
from runreg.integrations.pdmv import CallbackSink
from runreg.kernel.actors import SYSTEM, Actor
from runreg.kernel.errors import InvalidInput, NotFound
from runreg.storage.database import Database
from runreg.workflows import lock, model, store
from runreg.workflows.fetch import Fetcher, Previous, describe
from runreg.workflows.model import Numbers

logger = logging.getLogger("runreg.workflows")

BATCH = 500  # feed page and recalculation batch: one transaction each
ACTIVE_REFRESH_S = (
    3600.0  # wmstats-active workflows are re-read at most this often when DBS shows nothing new
)
LAST_SEQ = "last_reqmgr_sequence"
LAST_DBS = "last_dbs_update_date"
ENVS = ("prod", "dev")

Progress = Callable[[str, int, int | None], None]
LockFactory = Callable[[Database], AbstractContextManager[None]]


def default_lock(db: Database) -> AbstractContextManager[None]:
    """The update lock; a swap point for the shared worker lock when it lands."""
    return lock.exclusive_update(db)


@dataclass
class _BatchResult:
    """What one batch (one transaction) did."""

    documents_changed: int = 0
    documents_unchanged: int = 0
    deleted: int = 0
    recalculated: int = 0
    datasets_changed: int = 0  # history rows appended
    failures: dict[str, str] = field(default_factory=dict)


_COUNTERS = ("documents_changed", "documents_unchanged", "deleted", "recalculated", "datasets_changed")


@dataclass
class UpdateReport(_BatchResult):
    """What a whole update did: its batches added up."""

    callbacks_sent: int = 0
    batches: int = 0
    seconds: float = 0.0
    stopped: bool = False  # asked to stop: the batches written stand, the next update goes on from there

    def merge(self, other: _BatchResult) -> None:
        for counter in _COUNTERS:
            setattr(self, counter, getattr(self, counter) + getattr(other, counter))
        self.failures.update(other.failures)
        self.batches += 1


@dataclass
class _Run:
    """One update's fixed parts, shared by its two phases."""

    db: Database
    fetcher: Fetcher
    report: UpdateReport
    triggers: Sequence[str]
    batch_size: int
    progress: Progress
    clock: Callable[[], float]
    stop: Callable[[], bool]


def _no_progress(phase: str, done: int, total: int | None) -> None:
    return None


def _never() -> bool:
    return False


def update(
    db: Database,
    sources: CmswebSources,
    *,
    triggers: Sequence[str] = (),
    callbacks: CallbackSink | None = None,
    batch_size: int = BATCH,
    progress: Progress = _no_progress,
    lock_with: LockFactory = default_lock,
    clock: Callable[[], float] = time.time,
    actor: Actor = SYSTEM,
    stop: Callable[[], bool] = _never,
) -> UpdateReport:
    """The full incremental update (spec §4.1): changed and deleted workflows from the feed (and those that
    failed before), then the numbers of related, DBS-modified and active workflows. Safe to kill at any point:
    the next update resumes from the last committed batch. `stop` is asked after each batch (a worker's
    SIGTERM): the update then returns early, and the DBS window stays where it was for the next one."""
    _check_triggers(triggers, callbacks)
    if not 1 <= batch_size <= 5000:
        raise InvalidInput("batch_size", "must be between 1 and 5000")
    _authorize(db, actor)
    report = UpdateReport()
    began = time.monotonic()
    with lock_with(db):
        started = clock()
        fetcher = Fetcher(sources)
        try:
            dbs_since = _start_dbs_window(db, started)
            run = _Run(db, fetcher, report, triggers, batch_size, progress, clock, stop)
            _consume_feed(run)
            if not report.stopped:
                _recalculate_outdated(run, dbs_since)
            if not report.stopped:
                with db.transaction() as conn:
                    store.set_setting(conn, LAST_DBS, started)
        finally:
            fetcher.close()
        report.callbacks_sent += deliver_callbacks(db, callbacks)
    report.seconds = time.monotonic() - began
    logger.info(
        "workflow update: %d changed, %d unchanged, %d deleted, %d recalculated, %d dataset changes, "
        "%d failed in %.1f s",
        report.documents_changed,
        report.documents_unchanged,
        report.deleted,
        report.recalculated,
        report.datasets_changed,
        len(report.failures),
        report.seconds,
    )
    return report


def _check_triggers(triggers: Sequence[str], callbacks: CallbackSink | None) -> None:
    unknown = [t for t in triggers if t not in ENVS]
    if unknown:
        raise InvalidInput("triggers", f"unknown environment(s) {unknown}; use prod and/or dev")
    if triggers and callbacks is None:
        raise InvalidInput("triggers", "callbacks were asked for but no callback client is configured")


def _start_dbs_window(db: Database, started: float) -> float | None:
    """Where the DBS "modified since" window of this run starts; None on the very first run (everything is
    read anyway). The first run records its start at once, so a crash in it does not lose the window."""
    with db.transaction() as conn:
        since = store.setting(conn, LAST_DBS)
        if since is None:
            store.set_setting(conn, LAST_DBS, started)
    return None if since is None else float(since) - model.DBS_MARGIN_S


def _consume_feed(run: _Run) -> None:
    """Page through the feed; the next page is fetched while the current one is written (the writes stay in
    feed order, each with its position, so a crash still resumes after the last committed page)."""
    db, fetcher, report, triggers, batch_size, progress, clock = (
        run.db, run.fetcher, run.report, run.triggers, run.batch_size, run.progress, run.clock
    )  # fmt: skip
    with db.reading() as conn:
        since = str(store.setting(conn, LAST_SEQ, "0"))
        retry = sorted(store.failed(conn, stage="document"))

    def fetch_page(since: str, retry: Sequence[str]) -> tuple[ChangesPage, _Fetched]:
        page = fetcher.sources.reqmgr2.changes(since=since, limit=batch_size, include_docs=True)
        changed = list(dict.fromkeys([*page.changed, *retry]))
        return page, _fetch(db, fetcher, changed, page.deleted, known=page.documents)

    done = 0
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="feed-prefetch") as prefetch:
        upcoming = prefetch.submit(fetch_page, since, retry)  # the failed ones ride with the first page only
        while True:
            page, fetched = upcoming.result()
            last = page.empty or page.last_seq == since or page.pending == 0
            if not last:
                upcoming = prefetch.submit(fetch_page, page.last_seq, [])
            report.merge(_write(db, fetched, page.last_seq, triggers, clock))
            done += len(page.changed) + len(page.deleted)
            progress("feed", done, None if page.pending is None else done + page.pending)
            if last:
                return
            if run.stop():
                report.stopped = True
                upcoming.cancel()
                return
            since = page.last_seq


@dataclass
class _Fetched:
    """What one batch brought from cmsweb, before anything is written."""

    docs: dict[str, dict[str, Any]]
    deleted: list[str]
    numbers: dict[str, dict[str, Numbers]]
    failures: dict[str, str]  # document failures
    number_failures: dict[str, str]


def _fetch(
    db: Database,
    fetcher: Fetcher,
    changed: Sequence[str],
    deleted: Sequence[str],
    *,
    known: Mapping[str, dict[str, Any]] | None = None,
) -> _Fetched:
    docs, gone, doc_failures = fetcher.documents([n for n in changed if n not in set(deleted)], known)
    numbers, number_failures = fetcher.numbers(docs, _previous(db, list(docs)))
    return _Fetched(docs, [*deleted, *gone], numbers, doc_failures, number_failures)


def _write(
    db: Database, fetched: _Fetched, last_seq: str | None, triggers: Sequence[str], clock: Callable[[], float]
) -> _BatchResult:
    """One batch in one transaction: deletions, changed documents, new numbers, related workflows marked,
    failures, callbacks owed and the feed position."""
    result = _BatchResult()
    docs, numbers = fetched.docs, fetched.numbers
    now = clock()
    with db.transaction() as conn:
        result.deleted = store.delete_workflows(conn, fetched.deleted)
        written = _save_documents(conn, docs, now)
        result.documents_changed = len(written)
        result.documents_unchanged = len(docs) - len(written)
        moved = _save_numbers(conn, numbers, docs, now)
        result.datasets_changed = moved.rows
        result.recalculated = len(numbers)
        outputs = [d for doc in docs.values() for d in doc["OutputDatasets"]]
        related = store.names_with_values(conn, "output_dataset", outputs) - set(docs)
        store.add_pending(conn, related, reason="related", now=now)
        _record_outcome(conn, docs, fetched.failures, numbers, fetched.number_failures, now)
        store.add_outbox(conn, sorted(set(written) | moved.names), triggers, now=now)
        if last_seq is not None:
            store.set_setting(conn, LAST_SEQ, last_seq)
    result.failures = fetched.failures | fetched.number_failures
    return result


def _previous(db: Database, names: Sequence[str]) -> dict[str, Previous]:
    with db.reading() as conn:
        return _previous_in(conn, names)


def _previous_in(conn: Connection, names: Sequence[str]) -> dict[str, Previous]:
    current = store.current_numbers(conn, names)
    checked = store.numbers_checked(conn, names)
    return {name: Previous(current.get(name, {}), checked.get(name)) for name in names if name in checked}


def _save_documents(conn: Connection, docs: Mapping[str, dict[str, Any]], now: float) -> list[str]:
    """Write only documents whose content differs from what is stored; returns their names."""
    olds = store.documents(conn, list(docs))
    stored = [
        store.StoredDocument(
            name=name,
            document=doc,
            submitted=model.submitted(name),
            status=(doc["RequestTransition"][-1]["Status"] if doc["RequestTransition"] else None),
            keys=model.view_keys(doc),
            last_update=now,
        )
        for name, doc in docs.items()
        if not model.same_content(olds.get(name), doc)
    ]
    store.save_documents(conn, stored)
    return [s.name for s in stored]


@dataclass
class _Moved:
    rows: int
    names: set[str]


def _save_numbers(
    conn: Connection,
    numbers: Mapping[str, Mapping[str, Numbers]],
    docs: Mapping[str, Mapping[str, Any]],
    now: float,
) -> _Moved:
    """Append history rows for the datasets whose numbers changed (§3.2, per dataset)."""
    current = store.current_numbers(conn, list(numbers))
    moment = int(now)
    changes = [
        (name, dataset, moment, value)
        for name, per_dataset in numbers.items()
        for dataset, value in per_dataset.items()
        if current.get(name, {}).get(dataset) != value
    ]
    store.record_numbers(conn, changes)
    for name, per_dataset in numbers.items():
        if set(current.get(name, {})) - set(per_dataset):
            store.forget_datasets(conn, name, per_dataset)
    names = {name for name, _, _, _ in changes}
    store.touch(conn, names, column="last_update", now=now)
    return _Moved(len(changes), names)


def _record_outcome(
    conn: Connection,
    docs: Mapping[str, Any],
    doc_failures: Mapping[str, str],
    numbers: Mapping[str, Any],
    number_failures: Mapping[str, str],
    now: float,
) -> None:
    store.record_failures(conn, doc_failures, stage="document", now=now)
    store.clear_failures(conn, list(docs), stage="document")
    # A workflow whose numbers failed stays pending: the next update asks DBS again.
    store.add_pending(conn, number_failures, reason="retry", now=now)
    store.record_failures(conn, number_failures, stage="numbers", now=now)
    store.clear_failures(conn, list(numbers), stage="numbers")
    store.remove_pending(conn, list(numbers))
    store.touch(conn, numbers, column="numbers_checked", now=now)


def _recalculate_outdated(run: _Run, dbs_since: float | None) -> None:
    """Numbers of the related workflows, of those whose datasets DBS modified, and of active ones."""
    db, fetcher, report, triggers, batch_size, progress, clock = (
        run.db, run.fetcher, run.report, run.triggers, run.batch_size, run.progress, run.clock
    )  # fmt: skip
    modified = [] if dbs_since is None else fetcher.sources.dbs.datasets_modified_since(int(dbs_since))
    try:
        active = fetcher.sources.wmstats.active_workflows()
    except CmswebError as exc:  # wmstats is a hint: without it DBS's modification dates still tell
        logger.warning("wmstats unavailable, continuing without active workflows: %s", exc.message)
        active = []
    now = clock()
    with db.transaction() as conn:
        store.add_pending(
            conn, store.names_with_values(conn, "output_dataset", modified), reason="dbs", now=now
        )
        store.add_pending(
            conn, store.stale(conn, active, older_than=now - ACTIVE_REFRESH_S), reason="active", now=now
        )
        total = store.pending_count(conn)
    after, done = "", 0
    while True:
        with db.reading() as conn:
            names = store.pending(conn, after=after, limit=batch_size)
            docs = store.documents(conn, names)
            previous = _previous_in(conn, list(docs))
        if not names:
            return
        numbers, failures = fetcher.numbers(docs, previous)
        stamp = clock()
        with db.transaction() as conn:
            store.remove_pending(conn, [n for n in names if n not in docs])  # deleted meanwhile
            moved = _save_numbers(conn, numbers, docs, stamp)
            _record_outcome(conn, {}, {}, numbers, failures, stamp)
            store.add_outbox(conn, sorted(moved.names), triggers, now=stamp)
        report.merge(_BatchResult(recalculated=len(numbers), datasets_changed=moved.rows, failures=failures))
        done += len(names)
        progress("numbers", done, total)
        after = names[-1]
        if run.stop():
            report.stopped = True
            return


def deliver_callbacks(db: Database, callbacks: CallbackSink | None) -> int:
    """Send the callbacks owed (written with the changes that caused them); undelivered ones stay owed."""
    if callbacks is None:
        return 0
    with db.reading() as conn:
        owed = store.outbox(conn)
        docs = store.documents(conn, sorted({name for name, _ in owed}))
    delivered, failed = [], []
    for name, env in owed:
        doc = docs.get(name)
        try:
            if doc is not None:
                target = model.callback_target(doc)
                callbacks.notify(env, target, name=name, prep_id=doc.get("PrepID"))
            delivered.append((name, env))
        except Exception as exc:
            logger.warning("callback for %s (%s) failed: %s", name, env, describe(exc))
            failed.append((name, env))
    with db.transaction() as conn:
        store.remove_outbox(conn, delivered)
        store.bump_outbox(conn, failed)
    return len(delivered) - sum(1 for name, _ in delivered if name not in docs)


def update_one(
    db: Database,
    sources: CmswebSources,
    *,
    name: str,
    actor: Actor = SYSTEM,
    triggers: Sequence[str] = (),
    callbacks: CallbackSink | None = None,
    clock: Callable[[], float] = time.time,
) -> UpdateReport:
    """Refresh one workflow's document and numbers now (spec §4.7); needs permission `workflows:update`."""
    name = _valid_name(name)
    _check_triggers(triggers, callbacks)
    _authorize(db, actor)
    report = UpdateReport()
    began = time.monotonic()
    fetcher = Fetcher(sources)
    try:
        report.merge(_write(db, _fetch(db, fetcher, [name], []), None, triggers, clock))
    finally:
        fetcher.close()
    if report.failures:
        logger.warning("workflow %s failed: %s", name, report.failures[name])
    report.callbacks_sent = deliver_callbacks(db, callbacks)
    report.seconds = time.monotonic() - began
    return report


def _authorize(db: Database, actor: Actor) -> None:
    with db.reading() as conn:
        configuration.authorize(conn, actor=actor, action="workflows:update", target=Target())


def _valid_name(name: str) -> str:
    if not isinstance(name, str) or not name.strip():
        raise InvalidInput("workflow_name", "is required")
    if len(name) > 400:
        raise InvalidInput("workflow_name", "is longer than 400 characters")
    return name.strip()


# --- reads -------------------------------------------------------------------------------------------------


def legacy_documents(conn: Connection, names: Sequence[str]) -> list[dict[str, Any]]:
    """The original's document shape (§3.1), with EventNumberHistory rebuilt from the history rows."""
    docs = store.documents(conn, names)
    times = store.last_updates(conn, list(docs))
    return as_legacy(conn, [(name, docs[name], times.get(name, 0.0)) for name in names if name in docs])


def as_legacy(conn: Connection, rows: Sequence[tuple[str, dict[str, Any], float]]) -> list[dict[str, Any]]:
    histories = store.history(conn, [name for name, _, _ in rows])
    return [
        {
            **doc,
            "EventNumberHistory": model.history_entries(histories.get(name, [])),
            "LastUpdate": int(moment),
        }
        for name, doc, moment in rows
    ]


def get(db: Database, *, name: str) -> dict[str, Any]:
    with db.reading() as conn:
        found = legacy_documents(conn, [_valid_name(name)])
    if not found:
        raise NotFound(f"workflow {name!r} is not in the cache", details={"workflow": name})
    return found[0]


def pending_names(db: Database) -> list[str]:
    with db.reading() as conn:
        return store.pending(conn, after="", limit=100_000)


def failures(db: Database) -> dict[str, str]:
    with db.reading() as conn:
        return store.failed(conn)


def counts(db: Database) -> dict[str, Any]:
    with db.reading() as conn:
        return {
            "workflows": store.count(conn),
            "last_seq": store.setting(conn, LAST_SEQ),
            "last_update": store.setting(conn, LAST_DBS),
        }
