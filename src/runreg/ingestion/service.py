"""Ingestion use cases: a polling cycle over OMS; refresh, reset-and-refresh and mark-significant of a run."""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from runreg.access.actions import Target
from runreg.classifiers import classify, jsonlogic
from runreg.configuration import service as configuration
from runreg.configuration.model import Configuration
from runreg.ingestion import model, store
from runreg.kernel.actors import SERVICES_EGROUP, Actor, ActorKind
from runreg.kernel.errors import InvalidState, RunNotFound, RunregError
from runreg.kernel.lsdiff import per_key_ranges
from runreg.registry import service as registry
from runreg.storage.database import Database
from runreg.telemetry import metrics

if TYPE_CHECKING:
    from runreg.integrations.oms.client import OmsSource

log = logging.getLogger(__name__)

INGESTION = Actor("oms-ingestion", ActorKind.AUTOMATIC, frozenset({SERVICES_EGROUP}))
PREFETCH = 2


@dataclass
class CycleReport:
    """What one polling cycle saw and did."""

    seen: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    failed: dict[int, str] = field(default_factory=dict)

    def count(self, kind: str) -> int:
        return self.outcomes.get(kind, 0)

    def add(self, kind: str) -> None:
        self.outcomes[kind] = self.outcomes.get(kind, 0) + 1


class Classifier:
    """The current configuration's classifiers, compiled once per cycle (not once per run)."""

    def __init__(self, config: Configuration) -> None:
        self.config = config
        self.components = classify.ComponentClassifierSet(config.component_classifiers, mode="online")
        run_rules = [*config.class_classifiers, *config.significance_classifiers]
        read = self.components.keys_read | {
            p.split(".", 1)[0] for c in run_rules for p in jsonlogic.variables(c.rule)
        }
        # Ask OMS only for what is kept or read: a projection cuts what crosses the wire and gets parsed.
        self.ls_keys = sorted(
            set(model.LS_WHITELIST) | set(model.BEAM_BITS) | (read & model.OMS_LS_ATTRIBUTES)
        )

    def classify(
        self,
        oms_attributes: Mapping[str, Any],
        per_ls: Mapping[str, Any],
        ls_count: int,
        *,
        base_rr: Mapping[str, Any],
        significant_anyway: bool,
    ) -> tuple[dict[str, Any], dict[str, Any] | None]:
        """RR attributes (class, significant) and, for significant runs, online component LS statuses."""
        reduced = classify.reduce_ls_attributes(per_ls)
        rr = {"class": base_rr.get("class", ""), "significant": False}
        if oms_attributes.get("hlt_key") is not None:
            context = {**reduced, **oms_attributes, **base_rr}
            rr["class"] = classify.run_class(context, self.config.class_classifiers)
        context = {**reduced, **oms_attributes, **base_rr, **rr}
        rr["significant"] = classify.is_significant(
            context, rr["class"], self.config.significance_classifiers
        )
        if not (rr["significant"] or significant_anyway):
            return rr, None
        run_context = {
            **oms_attributes,
            **{k: v for k, v in {**base_rr, **rr}.items() if k != "beams_present_and_stable"},
        }
        return rr, self.components.statuses(run_context, per_ls, ls_count)


def run_cycle(db: Database, oms: OmsSource, *, page_size: int = 49, max_pages: int = 50) -> CycleReport:
    """Process the runs OMS updated since the last cycle. Pages through OMS newest-first and stops at the
    first page where every run is unchanged, so a quiet cycle costs one OMS request and no LS download."""
    report = CycleReport()
    classifier = Classifier(configuration.current_configuration(db))
    for page in range(max_pages):
        runs = oms.recent_runs(offset=page * page_size, limit=page_size)
        report.seen += len(runs)
        with db.reading() as conn:
            marks = store.load_marks(conn, [int(r["run_number"]) for r in runs])
        todo = [r for r in runs if model.needs_processing(r, marks.get(int(r["run_number"])))]
        for oms_run, lumisections in _prefetched(oms, todo, classifier.ls_keys):
            _ingest_safely(db, oms, oms_run, classifier, report, lumisections)
        if not todo or len(runs) < page_size:
            break
    with db.reading() as conn:
        retry = [n for n in store.failed_runs(conn) if n not in report.failed]
    for run_number in retry:
        oms_run = _fetch_run(oms, run_number, report)
        if oms_run is not None:
            _ingest_safely(db, oms, oms_run, classifier, report)
    log.info("ingestion cycle: %d runs seen, %s, %d failed", report.seen, report.outcomes, len(report.failed))
    return report


def _prefetched(
    oms: OmsSource, todo: list[Mapping[str, Any]], fields: list[str], ahead: int = PREFETCH
) -> Iterator[tuple[Mapping[str, Any], Future[list[dict[str, Any]]]]]:
    """Pair each run with the download of its LS, started `ahead` runs early: OMS answers while we classify
    and write the previous run, instead of us waiting on the network for every run in turn."""
    with ThreadPoolExecutor(max_workers=ahead, thread_name_prefix="oms-prefetch") as pool:
        pending = deque(
            (oms_run, pool.submit(oms.lumisections, int(oms_run["run_number"]), fields=fields))
            for oms_run in todo[:ahead]
        )
        for index in range(len(todo)):
            if index + ahead < len(todo):
                upcoming = todo[index + ahead]
                pending.append(
                    (upcoming, pool.submit(oms.lumisections, int(upcoming["run_number"]), fields=fields))
                )
            yield pending.popleft()


def _fetch_run(oms: OmsSource, run_number: int, report: CycleReport) -> dict[str, Any] | None:
    try:
        return oms.run(run_number)
    except RunregError as exc:
        report.failed[run_number] = exc.message
        return None


def _ingest_safely(
    db: Database,
    oms: OmsSource,
    oms_run: Mapping[str, Any],
    classifier: Classifier,
    report: CycleReport,
    lumisections: Future[list[dict[str, Any]]] | None = None,
) -> None:
    """One run's failure (OMS fault, bad data, a classifier that cannot evaluate) never stops the others."""
    run_number = int(oms_run["run_number"])
    try:
        outcome = ingest_run(
            db,
            oms,
            oms_run,
            classifier=classifier,
            lumisections=lumisections.result() if lumisections else None,
        )
        report.add(outcome.kind)
        metrics.ingested(outcome.kind)
        if outcome.kind == "refused":
            log.warning("run %d: %s", run_number, outcome.reason)
    except Exception as exc:  # noqa: BLE001 — recorded on the run's mark and retried next cycle
        message = exc.message if isinstance(exc, RunregError) else f"{type(exc).__name__}: {exc}"
        log.error("run %d could not be ingested: %s", run_number, message)
        report.failed[run_number] = message
        metrics.ingested("error")
        with db.transaction() as conn:
            store.save_mark(conn, run_number, model.mark_of(oms_run, 0), error=message)


def ingest_run(
    db: Database,
    oms: OmsSource,
    oms_run: Mapping[str, Any],
    *,
    classifier: Classifier | None = None,
    actor: Actor = INGESTION,
    base_rr: Mapping[str, Any] | None = None,
    comment: str = "",
    lumisections: list[dict[str, Any]] | None = None,
) -> registry.UpdateOutcome:
    """Download a run's LS, derive and classify, and record what changed with the run's mark, atomically."""
    run_number = int(oms_run["run_number"])
    classifier = classifier or Classifier(configuration.current_configuration(db))
    if lumisections is None:
        lumisections = oms.lumisections(run_number, fields=classifier.ls_keys)
    # Only keys RR keeps or classifiers read: timestamps and per-LS luminosity would give one range per LS.
    per_ls = {k: v for k, v in per_key_ranges(lumisections, keys=classifier.ls_keys).items() if v}
    ls_count = len(lumisections)
    oms_attributes = model.derive_oms_attributes(oms_run, lumisections)
    stored = _stored_rr(db, run_number)
    rr, flags = classifier.classify(
        oms_attributes,
        per_ls,
        ls_count,
        base_rr=base_rr or {},
        significant_anyway=bool(stored.get("significant")),
    )
    update = registry.AutomaticUpdate(
        oms_attributes=oms_attributes,
        rr_attributes=rr,
        oms_values=model.kept_ls_values(per_ls),
        ls_count=ls_count,
        flags=flags,
    )
    with db.transaction() as conn:
        outcome = registry.apply_automatic_update(
            conn,
            actor=actor,
            run_number=run_number,
            update=update,
            comment=comment or ("run update" if stored else "run creation"),
        )
        store.save_mark(conn, run_number, model.mark_of(oms_run, ls_count))
    return outcome


def _stored_rr(db: Database, run_number: int) -> dict[str, Any]:
    try:
        return registry.run_state(db, run_number).rr
    except RunNotFound:
        return {}


def refresh_run(
    db: Database, oms: OmsSource | None, *, actor: Actor, run_number: int, reset: bool = False
) -> registry.UpdateOutcome:
    """Re-read a run from OMS now. Refresh classifies with the stored RR attributes as context; reset-and-
    refresh from a blank base. Either way manual decisions stay: they live in the manual layer."""
    action = "registry:run:reset_and_refresh" if reset else "registry:run:refresh"
    with db.reading() as conn:
        configuration.authorize(conn, actor=actor, action=action, target=Target(run=run_number))
    return _refresh(db, _connected(oms), actor=actor, run_number=run_number, reset=reset)


def _connected(oms: OmsSource | None) -> OmsSource:
    if oms is None:
        raise InvalidState("this server has no OMS connection configured: runs cannot be re-read from OMS")
    return oms


def _refresh(
    db: Database, oms: OmsSource, *, actor: Actor, run_number: int, reset: bool
) -> registry.UpdateOutcome:
    run = registry.run_state(db, run_number)
    if run.status != "OPEN":
        raise InvalidState(f"run {run_number} is {run.status}: only OPEN runs can be refreshed")
    oms_run = oms.run(run_number)
    if oms_run is None:
        raise RunNotFound(run_number)
    automatic = Actor(f"{INGESTION.name} for {actor.name}", ActorKind.AUTOMATIC, INGESTION.egroups)
    return ingest_run(
        db,
        oms,
        oms_run,
        actor=automatic,
        base_rr={} if reset else run.rr,
        comment=f"{'reset and refresh' if reset else 'refresh'} requested by {actor.name}",
    )


def mark_significant(
    db: Database, oms: OmsSource | None, *, actor: Actor, run_number: int
) -> registry.UpdateOutcome:
    """A person declares the run significant (manual, one-way); LS statuses are then computed for it (the
    refresh that follows is part of marking, so it needs no permission of its own)."""
    with db.reading() as conn:
        target = Target(run=run_number)
        configuration.authorize(conn, actor=actor, action="registry:run:significant", target=target)
    source = _connected(oms)  # before writing: a significant run must get its statuses at once
    registry.change_run_attributes(
        db, actor=actor, run_number=run_number, rr={"significant": True}, comment="marked significant"
    )
    return _refresh(db, source, actor=actor, run_number=run_number, reset=False)
