"""Ingestion use cases: a polling cycle over OMS; refresh, reset-and-refresh and mark-significant of a run."""

from __future__ import annotations

import json
import logging
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import closing
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from runreg.access.actions import Target
from runreg.classifiers import classify, jsonlogic
from runreg.configuration import service as configuration
from runreg.configuration.model import Configuration
from runreg.ingestion import model, store, why
from runreg.kernel.actors import SERVICES_EGROUP, Actor, ActorKind
from runreg.kernel.collector import collector_paused
from runreg.kernel.errors import InvalidInput, InvalidState, RunNotFound, RunregError
from runreg.kernel.lsdiff import per_key_ranges
from runreg.luminosity import model as luminosity_model
from runreg.luminosity import service as luminosity
from runreg.registry import service as registry
from runreg.registry.model import ONLINE, RunState
from runreg.storage.database import Database
from runreg.telemetry import metrics

if TYPE_CHECKING:
    from runreg.integrations.oms.client import OmsSource

log = logging.getLogger(__name__)

INGESTION = Actor("oms-ingestion", ActorKind.AUTOMATIC, frozenset({SERVICES_EGROUP}))
PREFETCH = 2
DEFAULT_POLICY = model.ScanPolicy()


@dataclass
class CycleReport:
    """What one polling cycle saw and did."""

    seen: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    failed: dict[int, str] = field(default_factory=dict)
    changes: int = 0  # change sets written
    scan: str = ""  # the kind of scan this cycle walked: incremental or full
    resumed_at: int = 0  # offset in the run list where the cycle took the scan up (0: a new scan)
    scan_completed: bool = False
    missed: list[int] = field(default_factory=list)  # runs a full scan found the incremental ones skipped

    def count(self, kind: str) -> int:
        return self.outcomes.get(kind, 0)

    def add(self, outcome: registry.UpdateOutcome) -> None:
        self.outcomes[outcome.kind] = self.outcomes.get(outcome.kind, 0) + 1
        if outcome.change_set_id is not None:
            self.changes += 1

    @property
    def runs_changed(self) -> int:
        return sum(n for kind, n in self.outcomes.items() if kind != "unchanged")


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
        # Per-LS luminosity is fetched too, but kept as the run's dense arrays (luminosity), not as ranges.
        self.fetch_keys = sorted({*self.ls_keys, *luminosity_model.OMS_FIELDS.values()})

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
        context = classify.run_context(oms_attributes, base_rr, per_ls)
        rr = {"class": base_rr.get("class", ""), "significant": False}
        if oms_attributes.get("hlt_key") is not None:
            rr["class"] = classify.run_class(context, self.config.class_classifiers)
        rr["significant"] = classify.is_significant(
            {**context, **rr}, rr["class"], self.config.significance_classifiers
        )
        if not (rr["significant"] or significant_anyway):
            return rr, None
        run_context = classify.component_run_context(oms_attributes, {**base_rr, **rr})
        return rr, self.components.statuses(run_context, per_ls, ls_count)


def run_cycle(
    db: Database,
    oms: OmsSource,
    *,
    policy: model.ScanPolicy = DEFAULT_POLICY,
    stop: Callable[[], bool] = lambda: False,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> CycleReport:
    """Process what OMS updated since the last completed scan, resuming an interrupted scan where it stopped.

    The scan pages OMS newest-update-first, ingests every run whose mark is missing, failed or stale, and
    records its position after each page; it ends below the previous scan's high-water mark, so a quiet cycle
    costs one OMS request and no LS download. Every `policy.reconcile_every_*` the scan is a full one over the
    whole window instead, reporting any run the incremental scans missed. `stop()` is asked between runs: a
    stopped cycle leaves the scan under way, to be resumed."""
    report = CycleReport()
    classifier = Classifier(configuration.current_configuration(db))
    with db.reading() as conn:
        cursor = store.load_cursor(conn)
    if cursor.scan is None:
        due = model.reconciliation_due(
            cursor, now(), every_s=policy.reconcile_every_s, every_scans=policy.reconcile_every_scans
        )
        cursor = model.begin_scan(cursor, now(), full=due)
    assert cursor.scan is not None
    report.scan, report.resumed_at = cursor.scan.kind, cursor.scan.offset
    for _ in range(policy.pages_per_cycle):
        scan = cursor.scan
        runs = oms.recent_runs(offset=scan.offset, limit=policy.page_size)
        report.seen += len(runs)
        with db.reading() as conn:
            marks = store.load_marks(conn, [int(r["run_number"]) for r in runs])
        todo = [r for r in runs if model.needs_processing(r, marks.get(int(r["run_number"])))]
        report.missed += [
            int(r["run_number"])
            for r in todo
            if model.missed_by_earlier_scans(scan, r, marks.get(int(r["run_number"])))
        ]
        if not _ingest_page(db, oms, todo, classifier, report, stop):
            return _finished(report)  # the page is taken up again next cycle; its ingested runs are marked
        scan, finished = model.after_page(scan, runs, page_size=policy.page_size, window=policy.window)
        cursor = model.complete(replace(cursor, scan=scan), now()) if finished else replace(cursor, scan=scan)
        with db.transaction() as conn:
            store.save_cursor(conn, cursor)
        if finished:
            report.scan_completed = True
            break
        if stop():
            return _finished(report)
    _retry_failed(db, oms, classifier, report, stop)
    return _finished(report)


def _ingest_page(
    db: Database,
    oms: OmsSource,
    todo: list[Mapping[str, Any]],
    classifier: Classifier,
    report: CycleReport,
    stop: Callable[[], bool],
) -> bool:
    """Ingest the page's runs that need it; False when asked to stop before the end of the page."""
    with closing(_prefetched(oms, todo, classifier.fetch_keys)) as pairs:
        for oms_run, lumisections in pairs:
            if stop():
                return False
            _ingest_safely(db, oms, oms_run, classifier, report, lumisections)
    return True


def _retry_failed(
    db: Database, oms: OmsSource, classifier: Classifier, report: CycleReport, stop: Callable[[], bool]
) -> None:
    """Runs whose last attempt failed are tried again even when the scan no longer reaches them."""
    with db.reading() as conn:
        retry = [n for n in store.failed_runs(conn) if n not in report.failed]
    for run_number in retry:
        if stop():
            return
        oms_run = _fetch_run(oms, run_number, report)
        if oms_run is not None:
            _ingest_safely(db, oms, oms_run, classifier, report)


def _finished(report: CycleReport) -> CycleReport:
    if report.missed:
        log.warning(
            "reconciliation: %d run(s) the incremental scans had skipped were ingested now: %s",
            len(report.missed),
            report.missed[:50],
        )
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
        report.add(outcome)
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
        lumisections = oms.lumisections(run_number, fields=classifier.fetch_keys)
    stored = _stored_rr(db, run_number)
    with collector_paused():  # ranges and statuses of every LS: many objects, no cycles
        # Only keys RR keeps or classifiers read: timestamps and per-LS luminosity give one range per LS.
        per_ls = {k: v for k, v in per_key_ranges(lumisections, keys=classifier.ls_keys).items() if v}
        ls_count = len(lumisections)
        oms_attributes = model.derive_oms_attributes(oms_run, lumisections)
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
        luminosity.record_oms(conn, run_number=run_number, lumisections=lumisections)
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


#: The longest rule the playground evaluates (the shipped classifiers are under 2,000 characters).
MAX_RULE_CHARACTERS = 20_000


@dataclass(frozen=True)
class RuleExplanation:
    """A rule evaluated on a run (its run context) or on one of its LS: the value, whether it holds, the
    trace of its and/or nodes, the values of the variables it reads (`missing`: not in the context), and
    whether it holds on each LS of the run (LS contexts, as component rules are evaluated)."""

    run_number: int
    ls: int | None
    ls_count: int
    result: Any
    holds: bool
    trace: list[Any]
    variables: dict[str, Any]
    missing: list[str]
    per_ls: list[tuple[int, int, bool]]


def explain_rule(
    db: Database, *, rule: Any, run_number: int, ls: int | None = None, as_of: int | None = None
) -> RuleExplanation:
    """The classifier playground: evaluate `rule` on run `run_number` (as of change set `as_of`) [on LS
    `ls`], with its trace. Nothing is written."""
    if len(json.dumps(rule)) > MAX_RULE_CHARACTERS:
        raise InvalidInput("rule", f"a rule may have at most {MAX_RULE_CHARACTERS} characters")
    jsonlogic.validate(rule)
    run = registry.run_state(db, run_number, as_of=as_of)
    if ls is not None and not 1 <= ls <= max(run.ls_count, 1):
        raise InvalidInput("ls", f"run {run_number} has {run.ls_count} lumisections, got LS {ls}")
    context = model.rule_context(run, ls)
    result = jsonlogic.evaluate(rule, context)
    found, missing = _read_variables(rule, context)
    return RuleExplanation(
        run_number=run_number,
        ls=ls,
        ls_count=run.ls_count,
        result=result,
        holds=jsonlogic.truthy(result),
        trace=jsonlogic.trace(rule, context),
        variables=found,
        missing=missing,
        per_ls=_holds_per_ls(rule, run),
    )


def _read_variables(rule: Any, context: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    found: dict[str, Any] = {}
    missing: list[str] = []
    for path in sorted(jsonlogic.variables(rule)):
        value: Any = context
        for part in path.split("."):
            if isinstance(value, Mapping) and part in value:
                value = value[part]
            elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
                value = value[int(part)]
            else:
                missing.append(path)
                break
        else:
            found[path] = value
    return found, missing


def _holds_per_ls(rule: Any, run: RunState) -> list[tuple[int, int, bool]]:
    """The rule on every LS segment where none of the values it reads changes, adjacent equal results
    merged: one evaluation per segment, never per LS."""
    predicate = jsonlogic.compile_predicate(rule)
    per_ls = run.oms_values(ONLINE)
    read = {path.split(".", 1)[0] for path in jsonlogic.variables(rule)}
    run_part = classify.component_run_context(run.oms, run.rr)
    out: list[tuple[int, int, bool]] = []
    for first, last, values in classify.segments(
        {k: v for k, v in per_ls.items() if k in read}, run.ls_count
    ):
        holds = bool(predicate({**run_part, **values}))
        if out and out[-1][2] == holds and out[-1][1] == first - 1:
            out[-1] = (out[-1][0], last, holds)
        else:
            out.append((first, last, holds))
    return out


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


def explain(db: Database, *, run_number: int, ls: int, as_of: int | None = None) -> why.Explanation:
    """Why the run has its class, significance and each online component's automatic status on LS `ls`:
    every rule of the current configuration traced on the run (as of change set `as_of`, or now)."""
    run = registry.run_state(db, run_number, as_of=as_of)
    return why.explain(run, configuration.current_configuration(db), ls)
