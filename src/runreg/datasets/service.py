"""Certification cycles (rr_backend §2.7, §5.8): create one from a filter, edit it, add or remove datasets,
mark it completed or back to pending per workspace, move its datasets through it, delete it.

Every write authorizes with a `datasets:cycle:*` action inside its transaction before writing, and records
who, when and why in the cycle's history. Moves of datasets are registry writes: one change set per operation
through `registry.service.write`, each dataset authorized with `datasets:cycle:move` on its workspace and
states (by permission design, the cycle view is how regular certifiers re-open a dataset)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from runreg.access.actions import Target
from runreg.configuration import service as configuration
from runreg.datasets import cycles as rules
from runreg.datasets import selection, store
from runreg.datasets.cycles import COMPLETED, PENDING, Member
from runreg.kernel import limits
from runreg.kernel.actors import Actor
from runreg.kernel.errors import Conflict, InvalidInput, InvalidState, NotFound
from runreg.registry import model as registry_model
from runreg.registry import service as registry
from runreg.registry.events import Event
from runreg.registry.model import RunState
from runreg.storage.database import Database, as_utc

CREATE, EDIT, DELETE = "datasets:cycle:create", "datasets:cycle:edit", "datasets:cycle:delete"
COMPLETE, MOVE = "datasets:cycle:complete", "datasets:cycle:move"
#: History entries a cycle page shows.
HISTORY_LIMIT = 200
#: Kinds of history entries: a workspace state change answers "who marked this completed".
STATE_KINDS = ("completed", "pending")


class CycleNotFound(NotFound):
    def __init__(self, cycle_id: int, *, deleted: bool = False) -> None:
        what = "was deleted" if deleted else "does not exist"
        super().__init__(f"cycle {cycle_id} {what}", details={"cycle": cycle_id})


@dataclass(frozen=True)
class CycleMember:
    run_number: int
    name: str
    added_by: str
    added_at: datetime

    @property
    def key(self) -> tuple[int, str]:
        return (self.run_number, self.name)


@dataclass(frozen=True)
class Cycle:
    """A cycle and its members (run number descending, then name)."""

    id: int
    name: str
    deadline: datetime
    states: dict[str, str]
    deleted: bool
    created_by: str
    created_at: datetime
    updated_by: str
    updated_at: datetime
    members: tuple[CycleMember, ...] = ()
    datasets_count: int = 0

    @property
    def keys(self) -> list[tuple[int, str]]:
        return [m.key for m in self.members]

    @property
    def workspaces(self) -> list[str]:
        return list(self.states)


@dataclass(frozen=True)
class CycleEvent:
    """One entry of a cycle's history."""

    id: int
    at: datetime
    author: str
    actor_kind: str
    kind: str
    workspace: str | None
    comment: str
    details: dict[str, Any]
    change_set_id: int | None


@dataclass(frozen=True)
class CycleView:
    """A cycle with its members' current attributes (one snapshot) and its history, newest first: what its
    page shows, with the rules' answers to each button."""

    cycle: Cycle
    members: list[Member]
    history: list[CycleEvent]
    state_changes: dict[str, CycleEvent] = field(default_factory=dict)

    def progress(self, workspace: str) -> tuple[int, int]:
        return rules.progress(self.members, workspace)

    def completion_refusal(self, workspace: str) -> str | None:
        return rules.completion_refusal(self.cycle.states, workspace, self.members)

    def pending_refusal(self, workspace: str) -> str | None:
        return rules.pending_refusal(self.cycle.states, workspace)

    def move_refusal(self, workspace: str) -> str | None:
        return rules.move_refusal(self.cycle.states, workspace)

    def plan(self, workspace: str, to_state: str) -> rules.MovePlan:
        return rules.plan_move_all(self.members, workspace, to_state)


@dataclass(frozen=True)
class MoveOutcome:
    """What a move through the cycle did: the registry change set, the datasets moved (run, name, from),
    and those left, by reason."""

    change_set_id: int | None
    moved: list[tuple[int, str, str]]
    skipped: dict[str, int]


# ----------------------------------------------------------------------------------------------
# Writes
# ----------------------------------------------------------------------------------------------
def create_cycle(
    db: Database,
    *,
    actor: Actor,
    name: str,
    deadline: str | datetime,
    workspaces: Iterable[str],
    filter: Mapping[str, Any] | None,
    claimed_states: Mapping[str, str] | None = None,
    comment: str = "",
) -> Cycle:
    """A cycle pending in each workspace (global always among them) holding the 1..1000 offline, not hidden
    datasets `filter` selects."""
    name, moment = rules.check_name(name), rules.parse_deadline(deadline)
    _check_bounds(comment)
    chosen = _select(db, filter)
    keys = rules.added(set(), chosen.keys)
    with db.transaction() as conn:
        _authorize(conn, actor, CREATE)
        states = rules.new_states(
            rules.check_workspaces(workspaces, _offline_workspaces(conn)), claimed_states
        )
        _check_unique(conn, name)
        now = _now()
        try:
            cycle_id = store.insert_cycle(
                conn, name=name, deadline=moment, states=states, author=actor.name, now=now
            )
        except IntegrityError:  # a concurrent creation took the name between the check and the insert
            raise Conflict(f"a cycle named {name!r} was just created: pick another name") from None
        store.add_members(conn, cycle_id, keys, author=actor.name, now=now)
        store.record(
            conn,
            cycle_id,
            actor,
            "created",
            now,
            comment=comment,
            details={
                "name": name,
                "deadline": moment.isoformat(),
                "workspaces": list(states),
                "filter": chosen.filter,
                "datasets": len(keys),
            },
        )
        return _cycle(conn, cycle_id)


def edit_cycle(
    db: Database,
    *,
    actor: Actor,
    cycle_id: int,
    name: str,
    deadline: str | datetime,
    workspaces: Iterable[str],
    claimed_states: Mapping[str, str] | None = None,
    comment: str = "",
) -> Cycle:
    """Change the name, deadline or workspaces (kept ones keep their state, new ones start pending)."""
    name, moment = rules.check_name(name), rules.parse_deadline(deadline)
    _check_bounds(comment, cycle=cycle_id)
    with db.transaction() as conn:
        row = _live_row(conn, cycle_id)
        _authorize(conn, actor, EDIT)
        chosen = rules.check_workspaces(workspaces, _offline_workspaces(conn))
        states = rules.edited_states(dict(row.states), chosen, claimed_states)
        if name != row.name:
            _check_unique(conn, name)
        before = {"name": row.name, "deadline": as_utc(row.deadline), "states": dict(row.states)}
        after = {"name": name, "deadline": moment, "states": states}
        changed = {key: value for key, value in after.items() if before[key] != value}
        if changed:
            now = _now()
            try:
                store.update_cycle(conn, cycle_id, author=actor.name, now=now, **changed)
            except IntegrityError:
                raise Conflict(f"a cycle named {name!r} was just created: pick another name") from None
            store.record(
                conn,
                cycle_id,
                actor,
                "edited",
                now,
                comment=comment,
                details={
                    key: {"from": _jsonable(before[key]), "to": _jsonable(value)}
                    for key, value in changed.items()
                },
            )
        return _cycle(conn, cycle_id)


def add_datasets(
    db: Database, *, actor: Actor, cycle_id: int, filter: Mapping[str, Any] | None, comment: str = ""
) -> Cycle:
    """Add the datasets `filter` selects that are not members yet (1..1000 selected; at most 1000 members).
    Datasets joining a workspace the cycle is completed in must be COMPLETED there."""
    _check_bounds(comment, cycle=cycle_id)
    chosen = _select(db, filter)
    with db.transaction() as conn:
        row = _live_row(conn, cycle_id)
        _authorize(conn, actor, EDIT)
        members = set(_member_keys(conn, cycle_id))
        new = rules.added(members, chosen.keys)
        fresh = set(new)
        joining = [Member(r["run_number"], r["name"], r["dataset_attributes"] or {}) for r in chosen.rows]
        refused = rules.completing_additions(
            dict(row.states), [m for m in joining if (m.run_number, m.name) in fresh]
        )
        if refused:
            raise InvalidState(refused, details={"cycle": cycle_id})
        now = _now()
        store.add_members(conn, cycle_id, new, author=actor.name, now=now)
        store.update_cycle(conn, cycle_id, author=actor.name, now=now)
        store.record(
            conn,
            cycle_id,
            actor,
            "datasets_added",
            now,
            comment=comment,
            details={
                "filter": chosen.filter,
                "datasets": [list(key) for key in new],
                "already_members": len(chosen.keys) - len(new),
            },
        )
        return _cycle(conn, cycle_id)


def remove_datasets(
    db: Database, *, actor: Actor, cycle_id: int, filter: Mapping[str, Any] | None, comment: str = ""
) -> Cycle:
    """Remove the datasets `filter` selects; every one of them must be a member."""
    _check_bounds(comment, cycle=cycle_id)
    chosen = _select(db, filter)
    with db.transaction() as conn:
        _live_row(conn, cycle_id)
        _authorize(conn, actor, EDIT)
        gone = rules.removed(set(_member_keys(conn, cycle_id)), chosen.keys)
        now = _now()
        store.remove_members(conn, cycle_id, gone)
        store.update_cycle(conn, cycle_id, author=actor.name, now=now)
        store.record(
            conn,
            cycle_id,
            actor,
            "datasets_removed",
            now,
            comment=comment,
            details={"filter": chosen.filter, "datasets": [list(key) for key in gone]},
        )
        return _cycle(conn, cycle_id)


def mark_completed(db: Database, *, actor: Actor, cycle_id: int, workspace: str, comment: str = "") -> Cycle:
    """Completed in `workspace` when every member with a state there is COMPLETED; global only once every
    other workspace of the cycle is completed."""
    return _change_state(db, actor, cycle_id, workspace, COMPLETED, comment)


def mark_pending(db: Database, *, actor: Actor, cycle_id: int, workspace: str, comment: str = "") -> Cycle:
    """Back to pending in `workspace`; a workspace other than global not while global is completed."""
    return _change_state(db, actor, cycle_id, workspace, PENDING, comment)


def _change_state(
    db: Database, actor: Actor, cycle_id: int, workspace: str, to_state: str, comment: str
) -> Cycle:
    _check_bounds(comment, cycle=cycle_id)
    with db.transaction() as conn:
        row, states = _in_workspace(conn, cycle_id, workspace)
        _authorize(
            conn, actor, COMPLETE, workspace=workspace, from_state=states[workspace], to_state=to_state
        )
        details: dict[str, Any] = {"from": states[workspace], "to": to_state}
        if to_state == COMPLETED:
            # The members' states are held until this commits: no move of them lands in between.
            members = _members(conn, cycle_id, for_share=True)
            refused = rules.completion_refusal(states, workspace, members)
            details["datasets"] = rules.progress(members, workspace)[1]
        else:
            refused = rules.pending_refusal(states, workspace)
        if refused:
            raise InvalidState(refused, details={"cycle": cycle_id, "workspace": workspace})
        states[workspace] = to_state
        now = _now()
        store.update_cycle(conn, cycle_id, author=actor.name, now=now, states=states)
        store.record(
            conn, cycle_id, actor, to_state, now, workspace=workspace, comment=comment, details=details
        )
        return _cycle(conn, cycle_id)


def move_all_datasets(
    db: Database, *, actor: Actor, cycle_id: int, workspace: str, to_state: str, comment: str = ""
) -> MoveOutcome:
    """Move every member whose state in `workspace` is not COMPLETED to `to_state` (one change set), while
    the cycle is pending there. Datasets already there, waiting for the DQM GUI (except to OPEN), not
    significant for the workspace or hidden stay (rules.plan_move_all)."""
    rules.check_to_state(to_state)
    _check_bounds(comment, cycle=cycle_id)
    with db.transaction() as conn:
        row, states = _in_workspace(conn, cycle_id, workspace)
        plan = rules.plan_move_all(_members(conn, cycle_id), workspace, to_state)
        refused = rules.move_all_refusal(states, workspace, to_state, plan)
        if refused:
            raise InvalidState(refused, details={"cycle": cycle_id, "workspace": workspace})
        # Every dataset authorized before any is written, with one read of the permissions.
        planned = {(m.run_number, m.name): m.state(workspace) for m in plan.moving}
        configuration.authorize_all(
            conn,
            actor=actor,
            checks=[(MOVE, move_target(m, workspace, m.state(workspace), to_state)) for m in plan.moving],
        )
        moved: list[tuple[int, str, str]] = []

        def step(run: RunState, name: str) -> list[Event]:
            # Decided on the run's locked state: a dataset moved by someone since the plan is planned again.
            member = Member(
                run.run_number, name, run.datasets[name].attributes if name in run.datasets else {}
            )
            if not rules.plan_move_all([member], workspace, to_state).moving:
                return []
            current = member.state(workspace)
            if current != planned[run.run_number, name]:
                _authorize_move(conn, actor, member, workspace, current, to_state)
            moved.append((run.run_number, name, current or ""))
            return registry_model.move_dataset(run, name, workspace, to_state)

        by_run: dict[int, list[str]] = {}
        for member in plan.moving:
            by_run.setdefault(member.run_number, []).append(member.name)
        decisions = {
            run: registry.chain(*[(lambda state, n=name: step(state, n)) for name in names])
            for run, names in by_run.items()
        }
        result = registry.write(
            conn,
            actor=actor,
            comment=comment or f"cycle {row.name}: all datasets to {to_state} in {workspace}",
            decisions=decisions,
        )
        skipped = {why: len(left) for why, left in plan.skipped.items()}
        now = _now()
        store.update_cycle(conn, cycle_id, author=actor.name, now=now)
        store.record(
            conn,
            cycle_id,
            actor,
            "datasets_moved",
            now,
            workspace=workspace,
            comment=comment,
            details={"to": to_state, "moved": [list(m) for m in moved], "skipped": skipped},
            change_set_id=result.change_set_id,
        )
        return MoveOutcome(result.change_set_id, moved, skipped)


def move_dataset(
    db: Database,
    *,
    actor: Actor,
    cycle_id: int,
    workspace: str,
    run_number: int,
    name: str,
    to_state: str,
    from_state: str | None = None,
    comment: str = "",
) -> MoveOutcome:
    """Move one member dataset in `workspace` (the cycle pending there); `from_state`, when given, must be
    its current state there."""
    rules.check_to_state(to_state)
    _check_bounds(comment, cycle=cycle_id, run_number=run_number)
    with db.transaction() as conn:
        row, states = _in_workspace(conn, cycle_id, workspace)
        if (run_number, name) not in set(_member_keys(conn, cycle_id)):
            raise InvalidInput(
                "dataset", f"dataset {name!r} of run {run_number} is not in cycle {row.name!r}"
            )
        moved: list[tuple[int, str, str]] = []

        def decide(run: RunState) -> list[Event]:
            member = Member(run_number, name, run.datasets[name].attributes if name in run.datasets else {})
            current = member.state(workspace)
            _authorize_move(conn, actor, member, workspace, current, to_state)
            refused = rules.dataset_move_refusal(states, workspace, member, from_state, to_state)
            if refused:
                raise InvalidState(refused, details={"cycle": cycle_id, "workspace": workspace})
            moved.append((run_number, name, current or ""))
            return registry_model.move_dataset(run, name, workspace, to_state)

        result = registry.write(
            conn,
            actor=actor,
            comment=comment or f"cycle {row.name}: {name} to {to_state} in {workspace}",
            decisions={run_number: decide},
        )
        now = _now()
        store.update_cycle(conn, cycle_id, author=actor.name, now=now)
        store.record(
            conn,
            cycle_id,
            actor,
            "dataset_moved",
            now,
            workspace=workspace,
            comment=comment,
            details={"to": to_state, "moved": [list(m) for m in moved]},
            change_set_id=result.change_set_id,
        )
        return MoveOutcome(result.change_set_id, moved, {})


def delete_cycle(db: Database, *, actor: Actor, cycle_id: int, comment: str = "") -> Cycle:
    """Soft delete: the cycle leaves the lists, its history stays."""
    _check_bounds(comment, cycle=cycle_id)
    with db.transaction() as conn:
        row = store.load_cycle(conn, cycle_id, for_update=True)
        if row is None:
            raise CycleNotFound(cycle_id)
        _authorize(conn, actor, DELETE)
        if row.deleted:
            raise InvalidState(f"cycle {cycle_id} is already deleted", details={"cycle": cycle_id})
        now = _now()
        store.update_cycle(conn, cycle_id, author=actor.name, now=now, deleted=True)
        store.record(conn, cycle_id, actor, "deleted", now, comment=comment, details={"name": row.name})
        return _cycle(conn, cycle_id)


# ----------------------------------------------------------------------------------------------
# Reads
# ----------------------------------------------------------------------------------------------
def record_imported_cycle(
    conn: Connection,
    *,
    actor: Actor,
    name: str,
    deadline: datetime,
    states: Mapping[str, str],
    deleted: bool,
    members: Iterable[tuple[int, str]],
    at: datetime,
    comment: str,
) -> int:
    """Create or bring up to date the cycle `name` from another registry (adoption): its deadline, states,
    soft delete and members as the other registry has them now (its cycles are plain rows, not versioned),
    recorded in the cycle's history. Not gated: the importer checks `adoption:import`."""
    found = store.cycles_named(conn, name)
    keys = sorted(set(members))
    if not found:
        cycle_id = store.insert_cycle(
            conn, name=name, deadline=deadline, states=states, author=actor.name, now=at
        )
        if deleted:
            store.update_cycle(conn, cycle_id, author=actor.name, now=at, deleted=True)
        store.add_members(conn, cycle_id, keys, author=actor.name, now=at)
        store.record(conn, cycle_id, actor, "created", at, comment=comment, details={"datasets": len(keys)})
        return cycle_id
    row = found[0]
    current = set(_member_keys(conn, row.id))
    if (
        dict(row.states) == dict(states)
        and bool(row.deleted) == deleted
        and as_utc(row.deadline) == deadline
        and current == set(keys)
    ):
        return int(row.id)
    store.update_cycle(
        conn, row.id, author=actor.name, now=at, states=dict(states), deleted=deleted, deadline=deadline
    )
    store.remove_members(conn, row.id, sorted(current - set(keys)))
    store.add_members(conn, row.id, sorted(set(keys) - current), author=actor.name, now=at)
    store.record(conn, row.id, actor, "edited", at, comment=comment, details={"datasets": len(keys)})
    return int(row.id)


def list_cycles(
    db: Database, *, workspace: str | None = None, include_deleted: bool = False, members: bool = True
) -> list[Cycle]:
    """Cycles by deadline; for a workspace, those pending there first, then completed, then the others.
    Without `members` only their number is read (`datasets_count`; `members` stays empty)."""
    with db.reading() as conn:
        rows = store.list_cycles(conn, include_deleted=include_deleted)
        if members:
            by_id = store.members(conn, [row.id for row in rows])
            found = [_from_row(row, by_id[row.id]) for row in rows]
        else:
            counts = store.member_counts(conn)
            found = [_from_row(row, (), count=counts.get(row.id, 0)) for row in rows]
    if workspace:
        found.sort(key=lambda c: rules.listing_key(c.states, c.deadline, c.id, workspace))
    return found


def cycles_with_members(db: Database, *, workspace: str | None = None) -> list[tuple[Cycle, list[Member]]]:
    """Every cycle not deleted with its members' current attributes, read in one snapshot (the legacy
    listing flattens them into each cycle)."""
    with db.reading() as conn:
        rows = store.list_cycles(conn)
        members = store.members(conn, [row.id for row in rows])
        keys = list(dict.fromkeys(m_key for rows_ in members.values() for m_key in _keys(rows_)))
        attributes = registry.dataset_attributes(conn, keys)
    found = [_from_row(row, members[row.id]) for row in rows]
    if workspace:
        found.sort(key=lambda c: rules.listing_key(c.states, c.deadline, c.id, workspace))
    return [(c, [Member(*key, attributes.get(key, {})) for key in c.keys]) for c in found]


def get_cycle(db: Database, cycle_id: int) -> Cycle:
    limits.check_ids(cycle=cycle_id)
    with db.reading() as conn:
        if store.load_cycle(conn, cycle_id) is None:
            raise CycleNotFound(cycle_id)
        return _cycle(conn, cycle_id)


def cycle_view(db: Database, cycle_id: int, *, history_limit: int = HISTORY_LIMIT) -> CycleView:
    """A cycle, its members' current attributes and its history, in one snapshot."""
    limits.check_ids(cycle=cycle_id)
    with db.reading() as conn:
        if store.load_cycle(conn, cycle_id) is None:
            raise CycleNotFound(cycle_id)
        cycle = _cycle(conn, cycle_id)
        members = _members(conn, cycle_id)
        history = [_event(row) for row in store.events(conn, cycle_id, limit=history_limit)]
        last = {ws: _event(row) for ws, row in store.last_events(conn, cycle_id, STATE_KINDS).items() if ws}
    return CycleView(cycle, members, history, last)


def pending_counts(db: Database) -> dict[str, int]:
    """Per workspace, how many cycles (not deleted) are pending there (the side navigation's badges)."""
    counts: dict[str, int] = {}
    with db.reading() as conn:
        for row in store.list_cycles(conn):
            for ws, state in dict(row.states).items():
                if state == PENDING:
                    counts[ws] = counts.get(ws, 0) + 1
    return counts


def member_counts(db: Database) -> dict[int, int]:
    with db.reading() as conn:
        return store.member_counts(conn)


def preview(db: Database, *, filter: Mapping[str, Any] | None) -> selection.Selection:
    """The datasets a cycle made from `filter` would hold (refused beyond the cycle's limit)."""
    return _select(db, filter)


# ----------------------------------------------------------------------------------------------
# Helpers
# ----------------------------------------------------------------------------------------------
def _authorize(conn: Connection, actor: Actor, action: str, **target: Any) -> None:
    configuration.authorize(conn, actor=actor, action=action, target=Target(**target))


def _authorize_move(
    conn: Connection, actor: Actor, member: Member, workspace: str, current: str | None, to_state: str
) -> None:
    target = move_target(member, workspace, current, to_state)
    configuration.authorize(conn, actor=actor, action=MOVE, target=target)


def move_target(member: Member, workspace: str, current: str | None, to_state: str) -> Target:
    """The target `datasets:cycle:move` is checked on; pages ask the gate ahead with the same one."""
    return Target(
        run=member.run_number, dataset=member.name, workspace=workspace, from_state=current, to_state=to_state
    )


def _select(db: Database, filter: Any) -> selection.Selection:
    if filter is not None and not isinstance(filter, Mapping):
        raise InvalidInput(
            "filter", f"must be an object of the table filter language, got {type(filter).__name__}"
        )
    return selection.select(db, filter=filter, limit=rules.MAX_DATASETS)


def _offline_workspaces(conn: Connection) -> list[str]:
    return [ws.name for ws in configuration.current(conn)[1].workspaces if ws.mode == "offline"]


def _check_unique(conn: Connection, name: str) -> None:
    existing = store.live_cycle_named(conn, name)
    if existing is not None:
        raise InvalidInput("name", f"cycle {existing.id} is already named {name!r}: a cycle name is unique")


def _check_bounds(comment: str, **ids: int) -> None:
    limits.check_text("comment", comment, limits.MAX_COMMENT_CHARS)
    limits.check_ids(**ids)


def _in_workspace(conn: Connection, cycle_id: int, workspace: str) -> tuple[Any, dict[str, str]]:
    """The cycle's row (locked) and its states, refused unless `workspace` is one of its workspaces."""
    row = _live_row(conn, cycle_id)
    states = dict(row.states)
    rules.participating(states, workspace)
    return row, states


def _live_row(conn: Connection, cycle_id: int) -> Any:
    row = store.load_cycle(conn, cycle_id, for_update=True)
    if row is None or row.deleted:
        raise CycleNotFound(cycle_id, deleted=row is not None)
    return row


def _member_keys(conn: Connection, cycle_id: int) -> list[tuple[int, str]]:
    return _keys(store.members(conn, [cycle_id])[cycle_id])


def _keys(rows: Sequence[Any]) -> list[tuple[int, str]]:
    return [(row.run_number, row.name) for row in rows]


def _members(conn: Connection, cycle_id: int, *, for_share: bool = False) -> list[Member]:
    keys = _member_keys(conn, cycle_id)
    attributes = registry.dataset_attributes(conn, keys, for_share=for_share)
    return [Member(run, name, attributes.get((run, name), {})) for run, name in keys]


def _cycle(conn: Connection, cycle_id: int) -> Cycle:
    row = store.load_cycle(conn, cycle_id)
    assert row is not None  # callers checked it exists
    return _from_row(row, store.members(conn, [cycle_id])[cycle_id])


def _from_row(row: Any, members: Sequence[Any], *, count: int | None = None) -> Cycle:
    return Cycle(
        id=row.id,
        name=row.name,
        deadline=_utc(row.deadline),
        states=dict(row.states),
        deleted=bool(row.deleted),
        created_by=row.created_by,
        created_at=_utc(row.created_at),
        updated_by=row.updated_by,
        updated_at=_utc(row.updated_at),
        members=tuple(CycleMember(m.run_number, m.name, m.added_by, _utc(m.added_at)) for m in members),
        datasets_count=len(members) if count is None else count,
    )


def _event(row: Any) -> CycleEvent:
    return CycleEvent(
        id=row.id,
        at=_utc(row.at),
        author=row.author,
        actor_kind=row.actor_kind,
        kind=row.kind,
        workspace=row.workspace,
        comment=row.comment,
        details=dict(row.details or {}),
        change_set_id=row.change_set_id,
    )


def _utc(moment: datetime) -> datetime:
    value = as_utc(moment)
    assert value is not None
    return value


def _jsonable(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def _now() -> datetime:
    return datetime.now(UTC)
