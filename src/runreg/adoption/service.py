"""Adoption use cases: replay an original Run Registry's history into runreg through the registry's write path
(one change set per atomic version, under the original author and time), incrementally and resumably, and
verify runreg's state against the original's own materialized tables."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy import Connection, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from runreg.access.actions import Target
from runreg.adoption import model
from runreg.adoption import settings as settings_map
from runreg.adoption.model import OriginalEvent, Segment, VersionInfo
from runreg.adoption.settings import SettingsRow
from runreg.adoption.tables import adoption_jsons, adoption_progress
from runreg.certification import service as certification
from runreg.configuration import service as configuration
from runreg.configuration.model import to_document
from runreg.datasets import service as datasets
from runreg.eventlog import store as eventlog
from runreg.kernel.actors import Actor
from runreg.kernel.errors import RunNotFound, RunregError
from runreg.registry import service as registry
from runreg.registry.model import HIDDEN, RunState
from runreg.storage.database import Database

#: A transaction holds change sets until it has this many original events (or BATCH_SEGMENTS change sets):
#: a kill loses at most one batch, which the next run imports again (its progress row was not committed).
BATCH_EVENTS = 5000
BATCH_SEGMENTS = 500


class OriginalSource(Protocol):
    """What the importer reads (reader.OriginalDatabase against PostgreSQL)."""

    name: str

    def head(self) -> Any: ...
    def event_cursor_for_atomic(self, atomic_version: int) -> int: ...
    def versions(self, after: int, upto: int) -> dict[int, VersionInfo]: ...
    def events(self, after: int, upto: int) -> Iterator[OriginalEvent]: ...
    def materialized(self) -> Iterator[tuple[int, dict[str, Any], list[dict[str, Any]]]]: ...
    def settings(self, after: int) -> list[SettingsRow]: ...
    def generated_jsons(self, after: int) -> list[dict[str, Any]]: ...
    def cycles(self) -> list[dict[str, Any]]: ...


@dataclass
class ImportReport:
    source: str
    started_after_event: int
    last_event_version: int
    last_atomic_version: int
    change_sets: int = 0
    configuration_versions: int = 0
    golden_jsons: int = 0
    cycles: int = 0
    original_events: int = 0
    runreg_events: int = 0
    dry_run: bool = False
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)
    #: Keys of original triplets runreg does not keep, with where each was first seen (listed in the notes).
    dropped_triplet_keys: dict[str, model.DroppedKey] = field(default_factory=dict)


def progress(db: Database, *, source: str) -> tuple[int, int, int]:
    """(last event version, last atomic version, change sets) imported from `source`; zeros before any."""
    with db.reading() as conn:
        return _progress(conn, source)


def _progress(conn: Connection, source: str) -> tuple[int, int, int]:
    row = conn.execute(select(adoption_progress).where(adoption_progress.c.source == source)).first()
    if row is None:
        return 0, 0, 0
    return row.last_event_version, row.last_atomic_version, row.change_sets


def _save_progress(
    conn: Connection,
    source: str,
    event_version: int,
    atomic: int,
    change_sets: int,
    *,
    settings_id: int | None = None,
) -> None:
    values: dict[str, Any] = {
        "source": source,
        "last_event_version": event_version,
        "last_atomic_version": atomic,
        "change_sets": change_sets,
        "updated_at": datetime.now(UTC),
    }
    if settings_id is not None:
        values["last_settings_id"] = settings_id
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(adoption_progress).values(**values)
    conn.execute(
        statement.on_conflict_do_update(
            index_elements=[adoption_progress.c.source],
            set_={key: value for key, value in values.items() if key != "source"},
        )
    )


class _DryRun(Exception):
    """Raised to roll a dry-run batch back."""


def import_rr(
    db: Database,
    *,
    actor: Actor,
    source: OriginalSource,
    since: int | None = None,
    dry_run: bool = False,
    on_batch: Callable[[ImportReport], None] | None = None,
    batch_events: int = BATCH_EVENTS,
    batch_segments: int = BATCH_SEGMENTS,
) -> ImportReport:
    """Import every original event after the last one imported from `source` (or after atomic version
    `since`), one change set per atomic version, committed with the progress row in batches."""
    with db.transaction() as conn:
        configuration.authorize(conn, actor=actor, action="adoption:import", target=Target())
    started = time.perf_counter()
    after, atomic, change_sets = progress(db, source=source.name)
    if since is not None:
        after = max(after, source.event_cursor_for_atomic(since))
    head = source.head()
    report = ImportReport(source.name, after, after, atomic, dry_run=dry_run)
    _import_settings(db, source, report, dry_run)
    if head.last_event_version <= after:
        _import_jsons(db, source, report, dry_run, head.at)
        _import_cycles(db, actor, source, report, dry_run)
        report.seconds = time.perf_counter() - started
        return report
    versions = source.versions(after, head.last_event_version)
    batch: list[Segment] = []
    held = 0
    for segment in model.segments(source.events(after, head.last_event_version), versions):
        batch.append(segment)
        held += len(segment.events)
        if held >= batch_events or len(batch) >= batch_segments:
            change_sets = _commit(db, source.name, batch, report, change_sets, dry_run)
            batch, held = [], 0
            if on_batch:
                on_batch(report)
    if batch:
        change_sets = _commit(db, source.name, batch, report, change_sets, dry_run)
        if on_batch:
            on_batch(report)
    _import_jsons(db, source, report, dry_run, head.at)
    _import_cycles(db, actor, source, report, dry_run)
    report.notes.extend(seen.note(key) for key, seen in sorted(report.dropped_triplet_keys.items()))
    report.seconds = time.perf_counter() - started
    return report


def cycle_states(attributes: dict[str, Any]) -> dict[str, str]:
    """The original's `cycle_attributes` ({"<ws>_state": "pending"|"completed"}) as runreg cycle states."""
    return {
        key.removesuffix("_state"): str(value) for key, value in attributes.items() if key.endswith("_state")
    }


def _import_cycles(
    db: Database, actor: Actor, source: OriginalSource, report: ImportReport, dry_run: bool
) -> None:
    """The original's cycles are plain rows: each import brings runreg's copy up to date (created, or its
    deadline, states, soft delete and members changed), recorded in the cycle's history."""
    rows = source.cycles()
    if not rows:
        return
    try:
        with db.transaction() as conn:
            for item in rows:
                if item["deadline"] is None:
                    report.notes.append(f"Cycle {item['id']} {item['name']!r}: no deadline; not imported")
                    continue
                members = [key for key in item["members"] if key[1] != "online"]
                datasets.record_imported_cycle(
                    conn,
                    actor=actor,
                    name=item["name"],
                    deadline=item["deadline"],
                    states=cycle_states(item["attributes"]),
                    deleted=item["deleted"],
                    members=members,
                    at=item["updated_at"],
                    comment=f"imported from the original's Cycle {item['id']}",
                )
                report.cycles += 1
            if dry_run:
                raise _DryRun
    except _DryRun:
        pass


def _import_jsons(
    db: Database, source: OriginalSource, report: ImportReport, dry_run: bool, snapshot: datetime
) -> None:
    """Every GeneratedJson not imported yet, made no later than the last imported change set, becomes a
    finished golden-JSON job pinned to the last change set made at or before it (only those made before the
    original's head was read: every event before them is imported) (the original's
    `runregistry_version` is max(atomic_version), which the pre-atomic placeholder 50000000 makes useless on
    a database with ungrouped old events; it is kept in the result). Soft deletes are kept."""
    with db.reading() as conn:
        row = conn.execute(
            select(adoption_progress.c.last_json_id, adoption_progress.c.last_event_version).where(
                adoption_progress.c.source == source.name
            )
        ).first()
    if row is None and not dry_run:
        return
    after = row[0] if row else 0
    rows = source.generated_jsons(after)
    if not rows:
        return
    try:
        with db.transaction() as conn:
            last_id = after
            for item in rows:
                if item["createdAt"] > snapshot:
                    break  # made after the original's events this import read: next time
                pinned = eventlog.last_change_set_at(conn, item["createdAt"])
                actor, _ = model.actor_of(item["created_by"] or "unknown")
                job_id = certification.record_imported(
                    conn,
                    actor=actor,
                    rule=item["json_logic"],
                    dataset_pattern=item["dataset_name_filter"] or "",
                    tags=item["tags"] or "",
                    official=bool(item["official"]),
                    deleted=bool(item["deleted"]),
                    change_set_id=pinned,
                    at=item["createdAt"],
                    result={
                        "json": item["generated_json"] or {},
                        "imported_from": {
                            "source": source.name,
                            "id": item["id"],
                            "runregistry_version": item["runregistry_version"],
                        },
                    },
                )
                conn.execute(
                    insert(adoption_jsons).values(source=source.name, original_id=item["id"], job_id=job_id)
                )
                report.golden_jsons += 1
                last_id = item["id"]
            if dry_run:
                raise _DryRun
            conn.execute(
                update(adoption_progress)
                .where(adoption_progress.c.source == source.name)
                .values(last_json_id=last_id)
            )
    except _DryRun:
        pass


def _import_settings(db: Database, source: OriginalSource, report: ImportReport, dry_run: bool) -> None:
    """Every Settings row not imported yet becomes a configuration version (author and time kept); what its
    permissions cannot say in named actions is listed in the report. One transaction for all of them."""
    with db.reading() as conn:
        row = conn.execute(
            select(adoption_progress.c.last_settings_id).where(adoption_progress.c.source == source.name)
        ).first()
    after = row[0] if row else 0
    rows = source.settings(after)
    if not rows:
        return
    seen: set[str] = set()
    try:
        with db.transaction() as conn:
            for item in rows:
                base = to_document(configuration.current(conn)[1])
                document, notes = settings_map.document(base, item)
                for note in notes:
                    key = note.split(": ", 1)[1]
                    if key not in seen:
                        seen.add(key)
                        report.notes.append(note)
                actor, _ = model.actor_of(item.by)
                try:
                    with conn.begin_nested():
                        configuration.record_imported(
                            conn,
                            actor=actor,
                            document=document,
                            comment=f"imported from the original's Settings {item.id}",
                            at=item.created_at,
                        )
                except RunregError as exc:
                    report.notes.append(f"Settings {item.id}: not stored ({exc.message})")
                    continue
                report.configuration_versions += 1
            if dry_run:
                raise _DryRun
            _save_settings_progress(conn, source.name, rows[-1].id)
    except _DryRun:
        pass


def _save_settings_progress(conn: Connection, source: str, settings_id: int) -> None:
    last_event, last_atomic, change_sets = _progress(conn, source)
    _save_progress(conn, source, last_event, last_atomic, change_sets, settings_id=settings_id)


def _commit(
    db: Database, source: str, batch: list[Segment], report: ImportReport, change_sets: int, dry_run: bool
) -> int:
    written = 0
    events = 0
    try:
        with db.transaction() as conn:
            loaded = registry.LoadedRuns()  # this transaction's runs, carried from change set to change set
            for segment in batch:
                result = _replay(conn, segment, report.dropped_triplet_keys, loaded)
                if result.changed:
                    written += 1
                events += sum(result.events.values())
            last = batch[-1]
            if dry_run:
                raise _DryRun
            _save_progress(
                conn, source, last.last_event_version, last.info.atomic_version, change_sets + written
            )
    except _DryRun:
        pass
    report.change_sets += written
    report.runreg_events += events
    report.original_events += sum(len(segment.events) for segment in batch)
    report.last_event_version = batch[-1].last_event_version
    report.last_atomic_version = batch[-1].info.atomic_version
    return change_sets + written


def _replay(
    conn: Connection,
    segment: Segment,
    dropped: dict[str, model.DroppedKey],
    loaded: registry.LoadedRuns,
) -> registry.ChangeResult:
    per_run: dict[int, list[OriginalEvent]] = {}
    for event in segment.events:
        per_run.setdefault(event.run_number, []).append(event)
    actor, _user = model.actor_of(segment.info.by)

    def deciding(run_number: int, events: list[OriginalEvent]) -> registry.Decide:
        return lambda run: model.decide(run, run_number, events, dropped)

    decisions = {run_number: deciding(run_number, events) for run_number, events in per_run.items()}
    return registry.write_imported(
        conn,
        actor=actor,
        comment=segment.info.comment,
        at=segment.info.created_at,
        decisions=decisions,
        loaded=loaded,
    )


# ----------------------------------------------------------------------------------------------------
# Verify
# ----------------------------------------------------------------------------------------------------
@dataclass
class VerifyReport:
    source: str
    runs: int = 0
    datasets: int = 0
    golden_jsons: int = 0
    differences: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.differences


#: The most differences a report lists (the count is always exact).
MAX_LISTED = 200


def verify(db: Database, *, source: OriginalSource) -> VerifyReport:
    """Compare the original's Run, Dataset and DatasetTripletCache with runreg's state, run by run."""
    started = time.perf_counter()
    report = VerifyReport(source.name)
    seen: set[int] = set()
    for run_number, run_row, dataset_rows in source.materialized():
        seen.add(run_number)
        report.runs += 1
        report.datasets += len(dataset_rows)
        try:
            ours = registry.run_state(db, run_number)
        except RunNotFound:
            report.differences.append(f"run {run_number}: in the original, not in runreg")
            continue
        report.differences.extend(compare_run(ours, run_row, dataset_rows))
    for run_number in registry.run_numbers(db):
        if run_number not in seen:
            report.differences.append(f"run {run_number}: in runreg, not in the original")
    report.differences.extend(_verify_jsons(db, source, report))
    report.differences.extend(_verify_cycles(db, source))
    report.seconds = time.perf_counter() - started
    return report


def compare_run(ours: RunState, run_row: dict[str, Any], datasets: Iterable[dict[str, Any]]) -> list[str]:
    where = f"run {ours.run_number}"
    out = model.differences(f"{where} rr_attributes", run_row["rr"], ours.rr)
    out += model.differences(f"{where} oms_attributes", run_row["oms"], ours.oms)
    deleted = bool(run_row.get("deleted"))
    if deleted != ours.hidden:
        out.append(f"{where} deleted: original {deleted} ≠ runreg hidden {ours.hidden}")
    names = set()
    for original in datasets:
        name = original["name"]
        names.add(name)
        at = f"{where} dataset {name!r}"
        if name not in ours.datasets:
            out.append(f"{at}: in the original, not in runreg")
            continue
        attributes = ours.datasets[name].attributes
        out += model.differences(
            f"{at} attributes", original["attributes"], model.dataset_attributes(attributes)
        )
        if sorted(map(str, original["in_gui"])) != sorted(map(str, attributes.get(model.IN_GUI) or [])):
            out.append(
                f"{at} datasets_in_gui: original {original['in_gui']} ≠ runreg {attributes.get(model.IN_GUI)}"
            )
        if original["deleted"] != (attributes.get(HIDDEN) is True):
            out.append(
                f"{at} deleted: original {original['deleted']} ≠ runreg hidden {attributes.get(HIDDEN)}"
            )
        summary = model.summaries(ours, name)
        for key in ("triplet_summary", "dcs_summary"):
            out += model.differences(
                f"{at} {key}", model.normalise_summary(original[key]), model.normalise_summary(summary[key])
            )
        for key in ("rr_ranges", "dcs_ranges"):
            out += model.differences(f"{at} {key}", original[key], summary[key])
    for name in sorted(set(ours.datasets) - names):
        out.append(f"{where} dataset {name!r}: in runreg, not in the original")
    return out


def _verify_jsons(db: Database, source: OriginalSource, report: VerifyReport) -> list[str]:
    """Each imported golden JSON regenerated as of its change set, compared LS for LS with the original."""
    with db.reading() as conn:
        jobs = dict(
            conn.execute(
                select(adoption_jsons.c.original_id, adoption_jsons.c.job_id).where(
                    adoption_jsons.c.source == source.name
                )
            ).all()
        )
    out: list[str] = []
    for item in source.generated_jsons(0):
        job_id = jobs.get(item["id"])
        if job_id is None:
            out.append(f"golden JSON {item['id']}: in the original, not imported")
            continue
        report.golden_jsons += 1
        try:
            ours = certification.regenerate(db, job_id).get("json") or {}
        except RunregError as exc:
            out.append(f"golden JSON {item['id']} (job {job_id}): cannot be regenerated: {exc.message}")
            continue
        out.extend(
            model.json_differences(
                f"golden JSON {item['id']} (job {job_id})", item["generated_json"] or {}, ours
            )
        )
    return out


def _verify_cycles(db: Database, source: OriginalSource) -> list[str]:
    ours = {cycle.name: cycle for cycle in datasets.list_cycles(db, include_deleted=True)}
    out = []
    for item in source.cycles():
        where = f"cycle {item['name']!r}"
        cycle = ours.get(item["name"])
        if cycle is None:
            out.append(f"{where}: in the original, not in runreg")
            continue
        if cycle.states != cycle_states(item["attributes"]):
            out.append(f"{where} states: original {item['attributes']} ≠ runreg {cycle.states}")
        if cycle.deleted != item["deleted"]:
            out.append(f"{where} deleted: original {item['deleted']} ≠ runreg {cycle.deleted}")
        theirs = {tuple(key) for key in item["members"] if key[1] != "online"}
        if set(cycle.keys) != theirs:
            out.append(f"{where} datasets: {len(theirs - set(cycle.keys))} only in the original, "
                       f"{len(set(cycle.keys) - theirs)} only in runreg")  # fmt: skip
    return out
