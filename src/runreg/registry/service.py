"""Registry use cases: every write opens one transaction, decides events with the pure model, appends them
and updates the projections before committing. Nothing else writes registry data."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from runreg.access.actions import Target
from runreg.configuration import service as configuration
from runreg.configuration.model import Configuration
from runreg.eventlog import store as eventlog
from runreg.kernel import limits
from runreg.kernel.actors import Actor, ActorKind
from runreg.kernel.errors import (
    ChangeSetNotFound,
    InvalidInput,
    InvalidState,
    RevertConflict,
    RunAlreadyExists,
    RunNotFound,
)
from runreg.kernel.lsdiff import per_key_ranges
from runreg.kernel.quality import split_component
from runreg.kernel.ranges import RangeMap
from runreg.registry import changes, filters, model, revert, signoff, store
from runreg.registry.events import (
    DatasetAttributesChanged,
    Event,
    Layer,
    RunAttributesChanged,
    event_from_payload,
)
from runreg.registry.model import ONLINE, RunState
from runreg.storage.database import Database

Decide = Callable[[RunState], list[Event]]


@dataclass(frozen=True)
class FlagEdit:
    """One range edit: LS first_ls..last_ls of `component` get this status, comment and cause."""

    component: str
    first_ls: int
    last_ls: int
    status: str
    comment: str = ""
    cause: str = ""


@dataclass(frozen=True)
class ChangeResult:
    """What a write did: the change set it recorded (None when nothing changed) and the events per run."""

    change_set_id: int | None
    events: dict[int, int]

    @property
    def changed(self) -> bool:
        return self.change_set_id is not None


def layer_of(actor: Actor) -> Layer:
    return Layer.MANUAL if actor.is_manual else Layer.AUTOMATIC


#: RR attributes with an action of their own; any other is `registry:run:edit`.
RR_ATTRIBUTE_ACTIONS = {
    "class": "registry:run:edit_class",
    "stop_reason": "registry:run:edit_stop_reason",
    "significant": "registry:run:significant",
}


def _authorize(conn: Connection, actor: Actor, action: str, **target: Any) -> None:
    configuration.authorize(conn, actor=actor, action=action, target=Target(**target))


def _workspace_of(component: str) -> str | None:
    try:
        return split_component(component)[0]
    except ValueError:
        return None  # an unknown component is refused by the model, after the permission check


def flag_edit_target(run_number: int, dataset: str, component: str) -> dict[str, Any]:
    """The target `registry:flags:write` is checked on; pages ask the gate ahead with the same one."""
    return {
        "run": run_number,
        "dataset": dataset,
        "workspace": _workspace_of(component),
        "component": component,
    }


# ----------------------------------------------------------------------------------------------
# The one write path
# ----------------------------------------------------------------------------------------------
def _write(
    conn: Connection,
    *,
    actor: Actor,
    comment: str | Callable[[], str],
    decisions: Mapping[int, Decide],
    creating: bool | None = False,
    reverts: int | None = None,
    at: datetime | None = None,
    loaded: LoadedRuns | None = None,
) -> ChangeResult:
    """Decide events for each run, then (only if any) open a change set, append and project them. A callable
    `comment` is asked after deciding (a comment that tells what the decisions did). `creating=None` lets
    runs exist or not (an import: a change set of the original may create some runs and change others).
    `loaded` keeps the states this transaction wrote, for the next change sets of the same runs."""
    if isinstance(comment, str):
        limits.check_authorship(actor.name, comment)
    for run_number in decisions:
        limits.check_ids(run_number=run_number)
    planned: list[tuple[RunState | None, RunState, list[Event]]] = []
    for run_number, decide in decisions.items():
        before = loaded.get(run_number) if loaded is not None else None
        if before is None:
            before = store.load_run(conn, run_number, for_update=True)
        if creating and before is not None:
            raise RunAlreadyExists(run_number)
        if creating is False and before is None:
            raise RunNotFound(run_number)
        after = model.clone(before) if before else RunState(run_number)
        new_events = decide(after)
        for event in new_events:
            model.apply(after, event)
        after.version = (before.version if before else 0) + len(new_events)
        if new_events:
            planned.append((before, after, new_events))
    if not planned:
        return ChangeResult(None, {})
    if not isinstance(comment, str):
        comment = comment()
        limits.check_authorship(actor.name, comment)
    change_set = eventlog.open_change_set(conn, actor, comment, reverts=reverts, at=at)
    for before, after, new_events in planned:
        eventlog.append(conn, change_set, after.run_number, before.version if before else 0, new_events)
        store.save_change(conn, before, after, new_events, change_set_id=change_set.id)
        if loaded is not None:
            loaded.put(after)
    return ChangeResult(change_set.id, {after.run_number: len(evts) for _, after, evts in planned})


class LoadedRuns:
    """The states of the last few runs one transaction wrote, exactly as it stored them: the next change set
    of the same run starts from that state instead of reading the run and its ranges again. Valid only
    inside that transaction (the run's row stays locked on PostgreSQL; SQLite has one writer), and only if
    every write of the transaction goes through `write_imported` with the same object. An import replays
    change sets one after another, often several in a row on the same run: reading a run of 1,250 LS and
    40 components back was most of each change set's cost."""

    def __init__(self, size: int = 8) -> None:
        self.size = size
        self._runs: dict[int, RunState] = {}

    def get(self, run_number: int) -> RunState | None:
        return self._runs.get(run_number)

    def put(self, run: RunState) -> None:
        self._runs.pop(run.run_number, None)
        self._runs[run.run_number] = run  # the newest last: dicts keep insertion order
        while len(self._runs) > self.size:
            del self._runs[next(iter(self._runs))]


def write(conn: Connection, *, actor: Actor, comment: str, decisions: Mapping[int, Decide]) -> ChangeResult:
    """The one write path, for domains that orchestrate registry writes over many runs (DC tools, the DQM GUI
    pinger, cycles): one change set for all of `decisions`, inside the caller's transaction. It does not
    authorize: the caller has checked every target with the gate before deciding, as every writer does."""
    return _write(conn, actor=actor, comment=comment, decisions=decisions)


def write_dataset_attributes(
    conn: Connection, *, actor: Actor, comment: str | Callable[[], str], decisions: Mapping[int, Decide]
) -> ChangeResult:
    """`write` in bulk, for decisions that change only datasets' attributes (workspace moves, DQM GUI
    samples) of many runs: the runs and their datasets are read without their LS ranges in a few queries
    (rows locked on PostgreSQL), every event is appended in one insert and the changed datasets and run
    versions are written in bulk; one change set, inside the caller's transaction, which has authorized
    every target. A decision that produces any other event is a programming error (TypeError)."""
    if isinstance(comment, str):
        limits.check_authorship(actor.name, comment)
    for run_number in decisions:
        limits.check_ids(run_number=run_number)
    loaded = store.load_runs_attributes(conn, list(decisions), for_update=True)
    planned: list[tuple[int, RunState, list[Event], set[str]]] = []
    for run_number, decide in decisions.items():
        run = loaded.get(run_number)
        if run is None:
            raise RunNotFound(run_number)
        before = run.version
        new_events = decide(run)
        names: set[str] = set()
        for event in new_events:
            if not isinstance(event, DatasetAttributesChanged):
                raise TypeError(f"write_dataset_attributes cannot record {type(event).__name__}")
            model.apply(run, event)
            names.add(event.name)
        if new_events:
            run.version = before + len(new_events)
            planned.append((before, run, new_events, names))
    if not planned:
        return ChangeResult(None, {})
    if not isinstance(comment, str):
        comment = comment()
        limits.check_authorship(actor.name, comment)
    change_set = eventlog.open_change_set(conn, actor, comment)
    eventlog.append_many(
        conn, change_set, [(run.run_number, before, evts) for before, run, evts, _ in planned]
    )
    store.save_dataset_attributes(
        conn, [(run, names) for _, run, _, names in planned], change_set_id=change_set.id
    )
    return ChangeResult(change_set.id, {run.run_number: len(evts) for _, run, evts, _ in planned})


def waiting_for_gui(conn: Connection, *, workspaces: Sequence[str]) -> list[Any]:
    """(run_number, name, attributes) of the offline datasets waiting for the DQM GUI in any of
    `workspaces` (read through the waiting-datasets indexes), newest run first: the pinger's work list."""
    return store.waiting_datasets(conn, workspaces)


def write_imported(
    conn: Connection,
    *,
    actor: Actor,
    comment: str,
    at: datetime,
    decisions: Mapping[int, Decide],
    loaded: LoadedRuns | None = None,
) -> ChangeResult:
    """The one write path for a change set replayed from another registry (adoption): its author and time
    are the original's, and its runs may not exist yet (the decisions then start with RunCreated). It does
    not authorize: the importer checks `adoption:import` on whoever runs the import. `loaded` (one per
    transaction) carries the runs written so far to the next change sets of the transaction."""
    return _write(
        conn, actor=actor, comment=comment, decisions=decisions, creating=None, at=at, loaded=loaded
    )


def decide_only(db: Database, *, decisions: Mapping[int, Decide]) -> dict[int, list[Event]]:
    """What `write` would record for `decisions`, decided on the current state and written nowhere (the
    previews of the DC tools): the events per run that would change."""
    planned: dict[int, list[Event]] = {}
    with db.reading() as conn:
        for run_number, decide in decisions.items():
            limits.check_ids(run_number=run_number)
            run = store.load_run(conn, run_number)
            if run is None:
                raise RunNotFound(run_number)
            events = decide(copy.deepcopy(run))
            if events:
                planned[run_number] = events
    return planned


def chain(*steps: Decide) -> Decide:
    """Chain decisions so each sees the state the previous ones produced (still one change set)."""

    def decide(run: RunState) -> list[Event]:
        scratch = copy.deepcopy(run)
        produced: list[Event] = []
        for step in steps:
            events = step(scratch)
            for event in events:
                model.apply(scratch, event)
            produced.extend(events)
        return produced

    return decide


# ----------------------------------------------------------------------------------------------
# Runs
# ----------------------------------------------------------------------------------------------
def register_run(
    db: Database,
    *,
    actor: Actor,
    run_number: int,
    oms_attributes: Mapping[str, Any],
    rr_attributes: Mapping[str, Any] | None = None,
    oms_lumisections: Sequence[Mapping[str, Any]] | None = None,
    flags: Mapping[str, RangeMap] | None = None,
    comment: str = "run creation",
) -> ChangeResult:
    """Create a run with its `online` dataset, its per-LS OMS values and (optionally) automatic flags."""
    layer = layer_of(actor)
    steps: list[Decide] = [
        lambda run: model.register_run(run_number, oms=oms_attributes, rr=rr_attributes, layer=layer)
    ]
    if oms_lumisections:
        per_key = per_key_ranges(oms_lumisections)
        steps.append(lambda run: model.sync_oms_values(run, ONLINE, per_key))
    for component, ranges in (flags or {}).items():
        steps.append(lambda run, c=component, r=ranges: model.sync_automatic_flags(run, ONLINE, c, r))
    with db.transaction() as conn:
        _authorize(conn, actor, "registry:run:create", run=run_number)
        return _write(
            conn, actor=actor, comment=comment, decisions={run_number: chain(*steps)}, creating=True
        )


def change_run_attributes(
    db: Database,
    *,
    actor: Actor,
    run_number: int,
    rr: Mapping[str, Any] | None = None,
    oms: Mapping[str, Any] | None = None,
    comment: str,
) -> ChangeResult:
    limits.check_json("rr", rr or {})
    limits.check_json("oms", oms or {})
    layer = layer_of(actor)
    with db.transaction() as conn:
        for key in sorted(rr or {}):
            _authorize(conn, actor, RR_ATTRIBUTE_ACTIONS.get(key, "registry:run:edit"), run=run_number)
        if oms:
            _authorize(conn, actor, "registry:oms:write", run=run_number, dataset=ONLINE)
        return _write(
            conn,
            actor=actor,
            comment=comment,
            decisions={run_number: lambda run: model.change_run_attributes(run, rr=rr, oms=oms, layer=layer)},
        )


def hide_run(db: Database, *, actor: Actor, run_number: int, reason: str) -> ChangeResult:
    """Hide a run (soft delete, rr_backend §10.4): left out of the run listings (`search(visible_only=True)`:
    the API's run search unless asked for, the legacy `/runs_filtered_ordered`, the online tables), still read
    by its number, which says it is hidden. One change set whose comment is the reason; reverting it, or
    `show_run`, shows the run again. Checked with `registry:run:hide` (experts by default), in any state.

    A hidden run's datasets are not hidden: the dataset listings, the DC tools and golden JSONs keep them, as
    the original's did (its JSONs and dataset listings filter `Dataset.deleted`, never `Run.deleted`, and
    the spec asks nothing else); hide its datasets with the DC tools to leave them out too."""
    return _set_visibility(db, actor, run_number, reason, hidden=True)


def show_run(db: Database, *, actor: Actor, run_number: int, reason: str) -> ChangeResult:
    """Show a hidden run in the run listings again (`registry:run:hide`, as hiding it), with why."""
    return _set_visibility(db, actor, run_number, reason, hidden=False)


def _set_visibility(
    db: Database, actor: Actor, run_number: int, reason: str, *, hidden: bool
) -> ChangeResult:
    limits.check_text("reason", reason, limits.MAX_COMMENT_CHARS)
    reason = model.check_visibility_reason(reason)
    with db.transaction() as conn:
        _authorize(conn, actor, "registry:run:hide", run=run_number)
        return _write(
            conn,
            actor=actor,
            comment=f"hide run {run_number}: {reason}"
            if hidden
            else f"show run {run_number} again: {reason}",
            decisions={run_number: (lambda run: model.hide_run(run, reason)) if hidden else model.show_run},
        )


@dataclass(frozen=True)
class SignOffResult(ChangeResult):
    """A run state move; leaving OPEN also tells which offline datasets it created, which existed already
    (kept, their automatic flags re-synced where they differ), and why none when no rule applies."""

    datasets_created: tuple[str, ...] = ()
    datasets_kept: tuple[str, ...] = ()
    note: str = ""


def move_run(
    db: Database, *, actor: Actor, run_number: int, to_state: str, comment: str = ""
) -> SignOffResult:
    """OPEN/SIGNOFF/COMPLETED; leaving OPEN requires a class and every certifiable LS judged, and creates the
    run's offline datasets in the same change set (`registry.signoff`: one per matching datasets-accepted
    rule, never twice). Creating them is part of the move: it needs no permission of its own."""
    layer = layer_of(actor)
    with db.transaction() as conn:
        config = configuration.current(conn)[1]
        certifiable = config.certifiable_components("online")
        outcomes: list[signoff.Outcome] = []

        def decide(run: RunState) -> list[Event]:
            _authorize(
                conn, actor, "registry:run:move", run=run_number, from_state=run.status, to_state=to_state
            )
            events = model.move_run(run, to_state, certifiable_components=certifiable, layer=layer)
            if to_state == model.RunStatus.OPEN:
                return events
            # Decided on the run before the move (the move changes only its state): no copy of the run.
            after = {**run.rr, "state": to_state}
            outcome = signoff.decide(run, _sign_off_plan(config), rr_attributes=after)
            outcomes.append(outcome)
            return events + outcome.events

        def described() -> str:
            said = comment or f"move run to {to_state}"
            offline_part = outcomes[0].describe() if outcomes else ""
            return f"{said}; {offline_part}" if offline_part else said

        result = _write(conn, actor=actor, comment=described, decisions={run_number: decide})
        outcome = outcomes[0] if outcomes else signoff.Outcome()
        return SignOffResult(result.change_set_id, result.events, outcome.created, outcome.kept, outcome.note)


_PLANS: dict[int, tuple[Configuration, signoff.Plan]] = {}


def _sign_off_plan(config: Configuration) -> signoff.Plan:
    """The compiled sign-off plan of a configuration: `configuration.current` hands out one object per stored
    version and process, so a plan is compiled once per version (classifiers compile in milliseconds)."""
    cached = _PLANS.get(id(config))
    if cached is not None and cached[0] is config:
        return cached[1]
    if len(_PLANS) > 8:
        _PLANS.clear()
    plan = signoff.Plan.of(config)
    _PLANS[id(config)] = (config, plan)
    return plan


# ----------------------------------------------------------------------------------------------
# Datasets, lumisection flags and OMS values
# ----------------------------------------------------------------------------------------------
def create_dataset(
    db: Database,
    *,
    actor: Actor,
    run_number: int,
    name: str,
    attributes: Mapping[str, Any],
    comment: str = "",
) -> ChangeResult:
    with db.transaction() as conn:
        _authorize(conn, actor, "registry:dataset:create", run=run_number, dataset=name)
        return _write(
            conn,
            actor=actor,
            comment=comment or f"create dataset {name}",
            decisions={run_number: lambda run: model.create_dataset(run, name, attributes)},
        )


def change_dataset_attributes(
    db: Database, *, actor: Actor, run_number: int, name: str, attributes: Mapping[str, Any], comment: str
) -> ChangeResult:
    states = sorted(key for key in attributes if key.endswith("_state"))
    if states:  # a state has its own action and rules (from/to): it is never an attribute edit
        raise InvalidInput(
            f"attributes.{states[0]}", "a workspace state changes by a dataset move, not an edit"
        )
    with db.transaction() as conn:
        _authorize(conn, actor, "registry:dataset:edit", run=run_number, dataset=name)
        return _write(
            conn,
            actor=actor,
            comment=comment,
            decisions={run_number: lambda run: model.change_dataset_attributes(run, name, attributes)},
        )


@dataclass(frozen=True)
class DatasetMove:
    """One workspace state move of one offline dataset; `from_state`, if given, must be its current state."""

    run_number: int
    name: str
    workspace: str
    to_state: str
    from_state: str | None = None


def move_dataset(
    db: Database,
    *,
    actor: Actor,
    run_number: int,
    name: str,
    workspace: str,
    to_state: str,
    comment: str = "",
    from_state: str | None = None,
) -> ChangeResult:
    """One move (`move_datasets` with one `DatasetMove`): the rules are `model.move_dataset`'s."""
    move = DatasetMove(run_number, name, workspace, to_state, from_state)
    said = comment or f"move {name} to {to_state} in {workspace}"
    return _move_datasets(db, actor, [move], said, single=True)


def move_datasets(
    db: Database, *, actor: Actor, moves: Sequence[DatasetMove], comment: str = ""
) -> ChangeResult:
    """Several workspace moves, of one or many datasets and runs, as one change set: each is authorized
    (`registry:dataset:move` on its run, dataset, workspace, current and target state) and validated before
    anything is written; any refusal refuses them all. Moves of one run apply in the order given, except that
    moves of `global` to COMPLETED come after that run's other moves (so "complete every workspace" works in
    one batch). Errors name the move: `moves[i].<field>`."""
    moves = list(moves)
    if not moves:
        raise InvalidInput("moves", "at least one dataset move is required")
    limits.check_count("moves", len(moves), limits.MAX_EDITS, "dataset moves")
    return _move_datasets(db, actor, moves, comment or f"move {len(moves)} dataset workspace states")


def _move_datasets(
    db: Database, actor: Actor, moves: list[DatasetMove], comment: str, *, single: bool = False
) -> ChangeResult:
    for i, move in enumerate(moves):
        where = "" if single else f"moves[{i}]."
        limits.check_ids(**{f"{where}run_number": move.run_number})
        limits.check_text(f"{where}name", move.name, limits.MAX_NAME_CHARS)
        for key in ("workspace", "to_state", "from_state"):
            value = getattr(move, key)
            if value is not None:
                limits.check_text(f"{where}{key}", value)
    layer = layer_of(actor)
    by_run: dict[int, list[tuple[int, DatasetMove]]] = {}
    for i, move in enumerate(moves):
        by_run.setdefault(move.run_number, []).append((i, move))

    def completes_global(item: tuple[int, DatasetMove]) -> bool:
        return item[1].workspace == model.GLOBAL and item[1].to_state == model.RunStatus.COMPLETED.value

    def step(i: int, move: DatasetMove) -> Decide:
        def decide(run: RunState) -> list[Event]:
            try:
                current = run.dataset(move.name).attributes.get(f"{move.workspace}_state")
                if move.name != ONLINE and current is not None:  # else the model refuses, naming why
                    _authorize(
                        conn,
                        actor,
                        "registry:dataset:move",
                        run=run.run_number,
                        dataset=move.name,
                        workspace=move.workspace,
                        from_state=current,
                        to_state=move.to_state,
                    )
                return model.move_dataset(
                    run, move.name, move.workspace, move.to_state, from_state=move.from_state, layer=layer
                )
            except InvalidInput as exc:
                if single:
                    raise
                details = {k: v for k, v in exc.details.items() if k != "field"}
                raise InvalidInput(f"moves[{i}].{exc.field}", exc.reason, details=details) from None

        return decide

    with db.transaction() as conn:
        decisions = {
            run_number: chain(*(step(i, m) for i, m in sorted(items, key=completes_global)))
            for run_number, items in by_run.items()
        }
        return _write(conn, actor=actor, comment=comment, decisions=decisions)


def edit_flags(
    db: Database,
    *,
    actor: Actor,
    run_number: int,
    dataset: str = ONLINE,
    edits: Iterable[FlagEdit],
    comment: str,
) -> ChangeResult:
    """Several range edits of one dataset as one change set; any invalid edit rejects them all."""
    edits = list(edits)
    if not edits:
        raise InvalidInput("edits", "at least one lumisection range edit is required")
    _check_edits(edits)
    layer = layer_of(actor)
    with db.transaction() as conn:
        for edit in edits:
            _authorize(
                conn, actor, "registry:flags:write", **flag_edit_target(run_number, dataset, edit.component)
            )
        config = configuration.current(conn)[1]
        known = config.components("online" if dataset == ONLINE else "offline")
        steps = [
            (
                lambda run, e=edit: model.set_flags(
                    run,
                    dataset=dataset,
                    component=e.component,
                    first_ls=e.first_ls,
                    last_ls=e.last_ls,
                    status=e.status,
                    comment=e.comment,
                    cause=e.cause,
                    layer=layer,
                    known_components=known,
                )
            )
            for edit in edits
        ]
        return _write(conn, actor=actor, comment=comment, decisions={run_number: chain(*steps)})


def _check_edits(edits: list[FlagEdit]) -> None:
    limits.check_count("edits", len(edits), limits.MAX_EDITS, "range edits")
    for i, edit in enumerate(edits):
        limits.check_text(f"edits[{i}].component", edit.component)
        limits.check_text(f"edits[{i}].status", edit.status)
        limits.check_text(f"edits[{i}].comment", edit.comment, limits.MAX_COMMENT_CHARS)
        limits.check_text(f"edits[{i}].cause", edit.cause, limits.MAX_COMMENT_CHARS)
        limits.check_ids(**{f"edits[{i}].first_ls": edit.first_ls, f"edits[{i}].last_ls": edit.last_ls})


def set_oms_values(
    db: Database,
    *,
    actor: Actor,
    run_number: int,
    dataset: str = ONLINE,
    first_ls: int,
    last_ls: int,
    values: Mapping[str, Any],
    comment: str,
) -> ChangeResult:
    """Correct per-LS OMS values (e.g. a DCS bit) by hand; a reason is mandatory."""
    if len((comment or "").strip()) < 3:
        raise InvalidInput("comment", "editing OMS values needs a comment of at least 3 characters")
    if not values:
        raise InvalidInput("values", "at least one OMS key is required")
    limits.check_json("values", values)
    limits.check_ids(first_ls=first_ls, last_ls=last_ls)

    def decide(run: RunState) -> list[Event]:
        run.dataset(dataset)
        model.check_ls_range(run, first_ls, last_ls)
        wanted = {key: RangeMap([(first_ls, last_ls, value)]) for key, value in values.items()}
        return model.sync_oms_values(run, dataset, wanted)

    with db.transaction() as conn:
        _authorize(conn, actor, "registry:oms:write", run=run_number, dataset=dataset)
        return _write(conn, actor=actor, comment=comment, decisions={run_number: decide})


# ----------------------------------------------------------------------------------------------
# Reading, as of any change set
# ----------------------------------------------------------------------------------------------
def run_state(db: Database, run_number: int, *, as_of: int | None = None) -> RunState:
    """Current state from the projections, or the state right after change set `as_of` from the log."""
    limits.check_ids(run_number=run_number, as_of=as_of)
    with db.reading() as conn:
        if as_of is None:
            run = store.load_run(conn, run_number)
        else:
            run = model.fold(run_number, _events(conn, run_number, up_to_change_set=as_of))
    if run is None:
        raise RunNotFound(run_number)
    return run


def flags_of_datasets(
    db: Database,
    *,
    datasets: Iterable[tuple[int, str]],
    components: Iterable[str],
    manual_only: bool = False,
) -> dict[tuple[int, str, str], RangeMap]:
    """The current triplets of `components` on many datasets, in one snapshot, by (run, dataset, component):
    the effective ones (a person's decision over the automatic one), or with `manual_only` only what people
    set. For domains that compare other verdicts with the registry's (the ML agreement)."""
    keys, wanted = list(datasets), sorted(set(components))
    if not keys or not wanted:
        return {}
    layer = Layer.MANUAL.value if manual_only else store.EFFECTIVE
    with db.reading() as conn:
        return store.flag_layer(conn, keys, wanted, layer)


def _events(conn: Connection, run_number: int, **bounds: int) -> list[Event]:
    return [event for _, event in eventlog.load_stream(conn, run_number, decode=event_from_payload, **bounds)]


def rebuild_projection(db: Database, *, actor: Actor, run_number: int) -> RunState:
    """Recompute a run's projections from its events alone (maintenance, and proof they agree)."""
    with db.transaction() as conn:
        _authorize(conn, actor, "registry:maintenance:rebuild", run=run_number)
        stream = eventlog.load_stream(conn, run_number, decode=event_from_payload)
        run = model.fold(run_number, [event for _, event in stream])
        if run is None:
            raise RunNotFound(run_number)
        store.delete_projection(conn, run_number)
        store.save_change(conn, None, run, [event for _, event in stream], change_set_id=stream[-1][0])
        return run


# ----------------------------------------------------------------------------------------------
# Revert
# ----------------------------------------------------------------------------------------------
def revert_change_set(
    db: Database, *, actor: Actor, change_set_id: int, force: bool = False, comment: str = ""
) -> ChangeResult:
    """Append a change set restoring what `change_set_id` overwrote. It honours the rules of direct edits:
    refused where later change sets touched the same values, or where it would change a run or workspace
    that is no longer OPEN, unless `force` with a reason (then later values are overwritten too), which needs
    the actions `registry:change_set:force_revert` / `registry:change_set:revert_closed`."""
    if force and len((comment or "").strip()) < 3:
        raise InvalidInput("comment", "a forced revert needs a reason of at least 3 characters")
    limits.check_ids(change_set=change_set_id)
    with db.transaction() as conn:
        if eventlog.get_change_set(conn, change_set_id) is None:
            raise ChangeSetNotFound(change_set_id)
        decisions: dict[int, Decide] = {}
        conflicts: list[revert.RevertConflictItem] = []
        closed: list[str] = []
        for run_number in eventlog.runs_of_change_set(conn, change_set_id):
            _authorize(conn, actor, "registry:change_set:revert", run=run_number)
            stream = eventlog.load_stream(conn, run_number, decode=event_from_payload)
            before = model.fold(run_number, [e for cs, e in stream if cs < change_set_id])
            reverted = [e for cs, e in stream if cs == change_set_id]
            later = [(cs, e) for cs, e in stream if cs > change_set_id]
            conflicts += revert.find_conflicts(reverted, later)
            try:
                restoring = revert.restoring_events(before, reverted)
            except ValueError as exc:
                raise InvalidInput("change_set", f"change set {change_set_id}: {exc}") from None
            current = model.fold(run_number, [e for _, e in stream])
            assert current is not None  # the stream holds at least the reverted change set's events
            closed += revert.closed_touches(current, restoring)
            decisions[run_number] = lambda run, events=restoring: list(events)
        if conflicts and not force:
            listed = "; ".join(f"{c.what} (change set {c.change_set_id})" for c in conflicts[:10])
            raise RevertConflict(
                f"change set {change_set_id} cannot be reverted: later changes touched the same values: "
                f"{listed}. Revert those first, or force the revert to overwrite them.",
                details={"conflicts": [{"what": c.what, "change_set": c.change_set_id} for c in conflicts]},
            )
        if closed and not force:
            raise InvalidState(
                f"change set {change_set_id} cannot be reverted: it would change {'; '.join(closed[:10])}. "
                "Reopen them first, or an expert may force the revert with a reason.",
                details={"closed": closed},
            )
        if force and conflicts:
            _authorize(conn, actor, "registry:change_set:force_revert")
        if force and closed:
            _authorize(conn, actor, "registry:change_set:revert_closed")
        return _write(
            conn,
            actor=actor,
            comment=comment or f"revert change set {change_set_id}",
            decisions=decisions,
            reverts=change_set_id,
        )


# ----------------------------------------------------------------------------------------------
# Read models
# ----------------------------------------------------------------------------------------------
def describe_run(run: RunState) -> dict[str, Any]:
    return {
        "run_number": run.run_number,
        "oms_attributes": run.oms,
        "rr_attributes": run.rr,
        "ls_count": run.ls_count,
        "version": run.version,
        "hidden": run.hidden,
        "hidden_reason": run.hidden_reason if run.hidden else None,
        "datasets": sorted(run.datasets),
    }


def component_ranges(run: RunState, dataset: str = ONLINE) -> dict[str, list[dict[str, Any]]]:
    ds = run.dataset(dataset)
    return {c: model.ranges_as_dicts(flags.effective()) for c, flags in sorted(ds.flags.items())}


def history(db: Database, *, run_number: int | None = None, limit: int = 50) -> list[eventlog.ChangeSet]:
    limits.check_ids(run_number=run_number, limit=limit)
    with db.reading() as conn:
        return eventlog.list_change_sets(conn, run_number=run_number, limit=limit)


#: Events whose payload a run's history shows (who set which status or attribute); per-LS OMS values are
#: listed as facts only.
HISTORY_PAYLOADS = (
    "RunCreated",
    "RunAttributesChanged",
    "RunVisibilityChanged",
    "FlagsSet",
    "FlagsCleared",
    "DatasetCreated",
)


@dataclass(frozen=True)
class RunView:
    """What a run's page shows, read in one snapshot: the run (now, or right after change set `as_of`), the
    configuration it is judged with, and its whole log (newest first) — for per-component history and the
    as-of selector, without one query per component."""

    run: RunState
    configuration: Configuration
    log: list[eventlog.LoggedEvent]
    as_of: eventlog.ChangeSet | None = None

    @property
    def change_sets(self) -> list[eventlog.ChangeSet]:
        """The change sets that touched the run, newest first."""
        seen: dict[int, eventlog.ChangeSet] = {}
        for event in self.log:
            seen.setdefault(event.change_set.id, event.change_set)
        return list(seen.values())


#: Change sets of a run the run page shows (history, as-of selector); older ones are in the log.
RUN_VIEW_CHANGE_SETS = 300


def run_view(db: Database, *, run_number: int, as_of: int | None = None) -> RunView:
    """A run with its newest change sets' events and the current configuration, in one read transaction.
    With `as_of`, the run as it was right after that change set (which must have touched it) and the log up
    to it."""
    with db.reading() as conn:
        log = eventlog.run_log(
            conn, run_number, payload_types=HISTORY_PAYLOADS, limit=RUN_VIEW_CHANGE_SETS, up_to=as_of
        )
        config = configuration.current(conn)[1]
        if as_of is None:
            run = store.load_run(conn, run_number)
            if run is None:
                raise RunNotFound(run_number)
            return RunView(run, config, log)
        if not log:
            raise InvalidInput("as_of", f"run {run_number} has no change set up to {as_of}")
        picked = log[0].change_set
        if picked.id != as_of:
            raise InvalidInput("as_of", f"change set {as_of} did not change run {run_number}")
        run = model.fold(run_number, _events(conn, run_number, up_to_change_set=as_of))
        assert run is not None  # the change set touched the run, so its stream starts before it
        return RunView(run, config, log, picked)


#: Events of one offline dataset a dataset page shows with their payload: its creation, state moves, LS
#: statuses and the OMS values (DCS bits) corrected on it. A dataset's own OMS events are only corrections.
DATASET_HISTORY_PAYLOADS = (
    "DatasetCreated",
    "DatasetAttributesChanged",
    "FlagsSet",
    "FlagsCleared",
    "OmsValuesSet",
    "OmsValuesCleared",
)


@dataclass(frozen=True)
class DatasetView:
    """What a dataset's page shows, read in one snapshot: the run (its attributes and every dataset), the
    dataset's name, the configuration, and the dataset's own log (newest first: creation, state moves, LS
    and OMS-value edits)."""

    run: RunState
    name: str
    configuration: Configuration
    log: list[eventlog.LoggedEvent]

    @property
    def dataset(self) -> model.DatasetState:
        return self.run.datasets[self.name]


def dataset_view(db: Database, *, run_number: int, name: str) -> DatasetView:
    """An offline dataset with its run, its newest change sets' events and the current configuration, in one
    read transaction. The online dataset is the run's page: asking for it here is refused."""
    limits.check_ids(run_number=run_number)
    limits.check_text("dataset", name)
    if name == ONLINE:
        raise InvalidInput("dataset", "the online dataset is shown on the run's page")
    with db.reading() as conn:
        run = store.load_run(conn, run_number)
        if run is None:
            raise RunNotFound(run_number)
        run.dataset(name)  # refused, naming the dataset, when the run has none of that name
        log = eventlog.run_log(
            conn,
            run_number,
            payload_types=DATASET_HISTORY_PAYLOADS,
            limit=RUN_VIEW_CHANGE_SETS,
            dataset=name,
        )
        return DatasetView(run, name, configuration.current(conn)[1], log)


# ----------------------------------------------------------------------------------------------
# Automatic updates from the source systems (OMS ingestion)
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class AutomaticUpdate:
    """What OMS and the classifiers say about a run now. `flags` None leaves flags alone (non-significant)."""

    oms_attributes: Mapping[str, Any]
    rr_attributes: Mapping[str, Any]
    oms_values: Mapping[str, RangeMap]
    ls_count: int
    flags: Mapping[str, RangeMap] | None = None


@dataclass(frozen=True)
class UpdateOutcome:
    kind: str  # created | updated | unchanged | refused
    change_set_id: int | None = None
    reason: str = ""


NEEDS_MANUAL_UPDATE = "run_needs_to_be_updated_manually"


def apply_automatic_update(
    conn: Connection, *, actor: Actor, run_number: int, update: AutomaticUpdate, comment: str
) -> UpdateOutcome:
    """Record only what changed, inside the caller's transaction. OMS facts are always recorded; RR changes
    (class, significance, flags) to a run that is no longer OPEN are refused and the run is flagged
    `run_needs_to_be_updated_manually` instead. A run whose LS count shrinks is refused and flagged whole."""
    _authorize(conn, actor, "ingestion:update", run=run_number)
    current = store.load_run(conn, run_number, for_update=True)
    if current is None:
        steps: list[Decide] = [
            lambda run: model.register_run(
                run_number, oms=update.oms_attributes, rr=update.rr_attributes, layer=Layer.AUTOMATIC
            ),
            lambda run: model.sync_oms_values(run, ONLINE, update.oms_values),
            *_flag_steps(update),
        ]
        result = _write(
            conn, actor=actor, comment=comment, decisions={run_number: chain(*steps)}, creating=True
        )
        return UpdateOutcome("created", result.change_set_id)

    if update.ls_count < current.ls_count:
        reason = (
            f"OMS now reports {update.ls_count} lumisections for run {run_number}, the registry has "
            f"{current.ls_count}: lumisections cannot be deleted automatically"
        )
        return _refuse(conn, actor, current, reason)

    oms_steps: list[Decide] = [
        lambda run: model.change_run_attributes(run, oms=update.oms_attributes, layer=Layer.AUTOMATIC),
        lambda run: model.sync_oms_values(run, ONLINE, update.oms_values),
    ]
    rr_steps: list[Decide] = [
        lambda run: model.change_run_attributes(run, rr=update.rr_attributes, layer=Layer.AUTOMATIC),
        *_flag_steps(update),
    ]
    if current.status != model.RunStatus.OPEN:
        rr_changes = chain(*oms_steps, *rr_steps)(current)
        oms_only = chain(*oms_steps)(current)
        if len(rr_changes) > len(oms_only):
            reason = f"run {run_number} is {current.status}: OMS brings changes to its RR data"
            if not current.rr.get(NEEDS_MANUAL_UPDATE):
                oms_steps.append(lambda run: [RunAttributesChanged(rr={NEEDS_MANUAL_UPDATE: True})])
            result = _write(
                conn, actor=actor, comment=f"{comment}: {reason}", decisions={run_number: chain(*oms_steps)}
            )
            return UpdateOutcome("refused", result.change_set_id, reason)
        rr_steps = []
    result = _write(conn, actor=actor, comment=comment, decisions={run_number: chain(*oms_steps, *rr_steps)})
    return UpdateOutcome("updated" if result.changed else "unchanged", result.change_set_id)


def _flag_steps(update: AutomaticUpdate) -> list[Decide]:
    return [
        (lambda run, c=component, r=ranges: model.sync_automatic_flags(run, ONLINE, c, r))
        for component, ranges in (update.flags or {}).items()
    ]


def _refuse(conn: Connection, actor: Actor, run: RunState, reason: str) -> UpdateOutcome:
    if run.rr.get(NEEDS_MANUAL_UPDATE):
        return UpdateOutcome("refused", None, reason)
    result = _write(
        conn,
        actor=actor,
        comment=reason,
        decisions={run.run_number: lambda _run: [RunAttributesChanged(rr={NEEDS_MANUAL_UPDATE: True})]},
    )
    return UpdateOutcome("refused", result.change_set_id, reason)


def run_numbers(db: Database) -> list[int]:
    """Every run number the registry holds, ascending (the adoption verifier's inventory)."""
    with db.reading() as conn:
        return store.run_numbers(conn)


def list_runs(db: Database, *, limit: int = 50, offset: int = 0) -> list[dict[str, Any]]:
    """Newest visible runs first (hidden ones left out), with their online summary."""
    with db.reading() as conn:
        rows = store.list_runs(conn, limit=limit, offset=offset)
        summaries = store.summaries(conn, [row.run_number for row in rows], ONLINE)
    return [
        {
            "run_number": row.run_number,
            "oms_attributes": row.oms_attributes,
            "rr_attributes": row.rr_attributes,
            "ls_count": row.ls_count,
            "online_summary": summaries.get(row.run_number, {}),
        }
        for row in rows
    ]


#: The most change sets one page of the log shows, and the most changes one change-set page describes.
MAX_LOG_PAGE = 200
MAX_DESCRIBED_CHANGES = 2000


@dataclass(frozen=True)
class LogPage:
    """One page of the change log, newest first. `newer`/`older` are the ids to page on with `after`/`before`
    (None: no such page). `events` counts each change set's events per run; `reverted_by` lists reverts."""

    change_sets: list[eventlog.ChangeSet]
    events: dict[int, dict[int, int]]
    reverted_by: dict[int, list[int]]
    newer: int | None
    older: int | None


def change_log(
    db: Database,
    *,
    run_number: int | None = None,
    author: str | None = None,
    actor_kind: str | None = None,
    before: int | None = None,
    after: int | None = None,
    page_size: int = 25,
) -> LogPage:
    """A page of change sets, newest first, filtered by run, author and actor kind (human, automatic,
    agent); keyset-paged: `before` the oldest id of the page shown, or `after` its newest."""
    if actor_kind is not None and actor_kind not in {kind.value for kind in ActorKind}:
        kinds = ", ".join(kind.value for kind in ActorKind)
        raise InvalidInput("actor_kind", f"{actor_kind!r} is not one of {kinds}")
    if not 1 <= page_size <= MAX_LOG_PAGE:
        raise InvalidInput("page_size", f"must be between 1 and {MAX_LOG_PAGE}, got {page_size}")
    if before is not None and after is not None:
        raise InvalidInput("after", "page either before or after a change set, not both")
    with db.reading() as conn:
        found = eventlog.list_change_sets(
            conn,
            run_number=run_number,
            author=author,
            actor_kind=actor_kind,
            before=before,
            after=after,
            limit=page_size + 1,
        )
        more = len(found) > page_size
        shown = (found[1:] if after is not None else found[:-1]) if more else found
        ids = [cs.id for cs in shown]
        counts = eventlog.event_counts(conn, ids)
        reverts = eventlog.revisions_of(conn, ids)
    paged_back = after is not None
    return LogPage(
        change_sets=shown,
        events=counts,
        reverted_by=reverts,
        newer=shown[0].id if shown and (more if paged_back else before is not None) else None,
        older=shown[-1].id if shown and (paged_back or more) else None,
    )


@dataclass(frozen=True)
class ChangeSetDescription:
    """A change set as a readable diff: each event's old and new values (`omitted` changes not listed),
    whether it creates a run or dataset (then it cannot be reverted), and the change sets reverting it."""

    change_set: eventlog.ChangeSet
    runs: list[int]
    changes: list[changes.Change]
    omitted: int
    creates: bool
    reverted_by: list[int]


def describe_change_set(
    db: Database, *, change_set_id: int, limit: int = MAX_DESCRIBED_CHANGES
) -> ChangeSetDescription:
    """Fold each run's stream once up to the change set: the state just before it gives every old value."""
    with db.reading() as conn:
        change_set = eventlog.get_change_set(conn, change_set_id)
        if change_set is None:
            raise ChangeSetNotFound(change_set_id)
        runs = eventlog.runs_of_change_set(conn, change_set_id)
        listed: list[changes.Change] = []
        omitted = 0
        creates = False
        for run_number in runs:
            stream = eventlog.load_stream(
                conn, run_number, up_to_change_set=change_set_id, decode=event_from_payload
            )
            before = model.fold(run_number, [e for cs, e in stream if cs < change_set_id])
            mine = [e for cs, e in stream if cs == change_set_id]
            creates = creates or changes.creates(mine)
            for change in changes.describe(run_number, before, mine):
                if len(listed) < limit:
                    listed.append(change)
                else:
                    omitted += 1
        reverted_by = eventlog.revisions_of(conn, [change_set_id]).get(change_set_id, [])
    return ChangeSetDescription(change_set, runs, listed, omitted, creates, reverted_by)


def change_set_detail(
    db: Database, change_set_id: int
) -> tuple[eventlog.ChangeSet, list[eventlog.StoredEvent]]:
    limits.check_ids(change_set=change_set_id)
    with db.reading() as conn:
        change_set = eventlog.get_change_set(conn, change_set_id)
        if change_set is None:
            raise ChangeSetNotFound(change_set_id)
        return change_set, eventlog.events_of_change_set(conn, change_set_id)


def dataset_attributes(
    conn: Connection, keys: Sequence[tuple[int, str]], *, for_share: bool = False
) -> dict[tuple[int, str], dict[str, Any]]:
    """The current attributes (workspace states, …) of many datasets, read in the caller's transaction (for
    domains that check rules over many datasets before writing, e.g. a cycle's completion); `for_share` keeps
    them from changing until it commits (PostgreSQL). Datasets that do not exist are left out."""
    return store.dataset_attributes(conn, keys, for_share=for_share)


def search(
    db: Database,
    *,
    target: str,
    filter: Any,
    sortings: Any = None,
    page: int = 0,
    page_size: int = 50,
    count_limit: int | None = None,
    visible_only: bool = False,
) -> tuple[list[dict[str, Any]], int]:
    """One page of runs or datasets matching the table filter language, and the total count; with
    `count_limit`, a total above it is reported as `count_limit + 1` (counting stops there). Hidden runs
    (`hide_run`), and datasets hidden by the DC tools, are listed unless `visible_only`."""
    if target == "runs":
        listing = filters.select_runs(
            filter, sortings=sortings, page=page, page_size=page_size, visible_only=visible_only
        )
    else:
        listing = filters.select_datasets(
            filter, sortings=sortings, page=page, page_size=page_size, visible_only=visible_only
        )
    if count_limit is not None:
        limits.check_ids(count_limit=count_limit)

    def memo() -> store.CountMemo:  # asked for only when the page needs a count
        filter_key = json.dumps(filter, sort_keys=True, default=str)
        return _count_memo((db.url, target, filter_key, count_limit, visible_only))

    with db.reading() as conn:
        return store.fetch_page(conn, listing, page, count_limit=count_limit, counts=memo)


#: Totals of the listings, per database and filter (bounded: the oldest filters are forgotten first).
_COUNTS: dict[tuple[Any, ...], store.CountMemo] = {}
_MAX_COUNTS = 256


def _count_memo(key: tuple[Any, ...]) -> store.CountMemo:
    memo = _COUNTS.pop(key, None) or store.CountMemo()
    _COUNTS[key] = memo  # re-inserted: the dict's order is the order of last use
    while len(_COUNTS) > _MAX_COUNTS:
        del _COUNTS[next(iter(_COUNTS))]
    return memo


# ----------------------------------------------------------------------------------------------
# Offline datasets: what is waiting, one dataset, its history
# ----------------------------------------------------------------------------------------------
#: Rows read per round trip when a listing is read whole.
_WHOLE_LISTING_PAGE = 5_000


def waiting_datasets(db: Database) -> list[dict[str, Any]]:
    """Every offline dataset, not hidden, whose `global_state` is still `waiting dqm gui` (listing rows, run
    DESC, name ASC)."""
    waiting = {"dataset_attributes.global_state": {"=": model.WAITING_DQM_GUI}, "name": {"<>": ONLINE}}
    rows: list[dict[str, Any]] = []
    page = 0
    while True:
        batch, _ = search(
            db, target="datasets", filter=waiting, page=page, page_size=_WHOLE_LISTING_PAGE, visible_only=True
        )
        rows += batch
        if len(batch) < _WHOLE_LISTING_PAGE:
            return rows
        page += 1


def describe_dataset(run: RunState, name: str) -> dict[str, Any]:
    """One dataset as /api/v1 shows it: attributes, workspace states, DQM GUI samples, whether it is hidden,
    the OMS keys it overrides, and its summaries."""
    ds = run.dataset(name)
    attributes = dict(ds.attributes)
    ls_count = run.ls_count
    return {
        "run_number": run.run_number,
        "name": name,
        "version": run.version,
        "ls_count": ls_count,
        "attributes": attributes,
        "states": model.workspace_states(attributes),
        "hidden": model.is_hidden(attributes),
        "hidden_reason": attributes.get("hidden_reason"),
        "datasets_in_gui": list(attributes.get("datasets_in_gui") or []),
        "appeared_in": list(attributes.get("appeared_in") or []),
        "oms_overrides": sorted(key for key, ranges in ds.oms.items() if ranges) if name != ONLINE else [],
        "triplet_summary": model.triplet_summary(ds, ls_count),
        "dcs_summary": model.dcs_summary(run.oms_values(name), ls_count),
    }


#: The events of a dataset's history, by family.
FLAG_EVENTS = ("FlagsSet", "FlagsCleared")
OMS_EVENTS = ("OmsValuesSet", "OmsValuesCleared")
DATASET_EVENTS = ("DatasetCreated", "DatasetAttributesChanged", *FLAG_EVENTS, *OMS_EVENTS)


def dataset_history(
    db: Database,
    *,
    run_number: int,
    dataset: str = ONLINE,
    types: Sequence[str] = DATASET_EVENTS,
    inherit_online: bool = False,
    limit: int | None = None,
) -> list[eventlog.LoggedEvent]:
    """The events of one dataset (of `types`), newest first, each with its change set (who, why, when), from
    the newest `limit` change sets touching it. `inherit_online` adds the online dataset's events, which an
    offline dataset inherits (its OMS values). RunNotFound / InvalidInput("dataset") when there is none."""
    limits.check_ids(run_number=run_number, limit=limit)
    unknown = sorted(set(types) - set(DATASET_EVENTS))
    if unknown:
        raise InvalidInput("types", f"{unknown[0]!r} is not one of {', '.join(DATASET_EVENTS)}")
    with db.reading() as conn:
        names = store.dataset_names(conn, run_number)
        if names is None:
            raise RunNotFound(run_number)
        if dataset not in names:
            raise InvalidInput("dataset", f"run {run_number} has no dataset {dataset!r}")
        datasets = [dataset, ONLINE] if inherit_online and dataset != ONLINE else [dataset]
        return eventlog.run_log(
            conn, run_number, payload_types=types, datasets=datasets, types=types, limit=limit
        )
