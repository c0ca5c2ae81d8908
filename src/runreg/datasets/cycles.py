"""Pure rules of certification cycles (rr_backend §2.7, §5.8): what a cycle may hold, when a workspace may be
marked completed or back to pending, which member datasets a move through the cycle moves. No I/O."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from runreg.kernel.errors import InvalidInput, InvalidState
from runreg.kernel.limits import MAX_NAME_CHARS, text_problem

GLOBAL = "global"
PENDING = "pending"
COMPLETED = "completed"
CYCLE_STATES = (PENDING, COMPLETED)
#: The most datasets one cycle holds, and one operation adds (the original's limit).
MAX_DATASETS = 1000
#: Dataset workspace states (registry): the three a person moves between, and the two before them.
OPEN, SIGNOFF, DATASET_COMPLETED = "OPEN", "SIGNOFF", "COMPLETED"
DATASET_STATES = (OPEN, SIGNOFF, DATASET_COMPLETED)
WAITING = "waiting dqm gui"
NOT_SIGNIFICANT = "not significant for workspace"
#: Set on datasets the DC tools hide (datasets.selection.HIDDEN): they need no certification.
HIDDEN = "hidden"
#: Member datasets named in a refusal before "and N more".
NAMED_IN_REFUSAL = 5


@dataclass(frozen=True)
class Member:
    """A dataset of a cycle with its current attributes (`{}` when the registry no longer has it)."""

    run_number: int
    name: str
    attributes: Mapping[str, Any]

    def state(self, workspace: str) -> str | None:
        value = self.attributes.get(f"{workspace}_state")
        return value if isinstance(value, str) else None

    @property
    def hidden(self) -> bool:
        return self.attributes.get(HIDDEN) is True

    def label(self, workspace: str | None = None) -> str:
        state = f" ({self.state(workspace)})" if workspace else ""
        return f"{self.run_number} {self.name}{state}"


# -- information: name, deadline, workspaces -----------------------------------------------------------------
def check_name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise InvalidInput("name", "a cycle needs a name (unique among the cycles)")
    problem = text_problem(name, MAX_NAME_CHARS)
    if problem:
        raise InvalidInput("name", problem)
    return name


def parse_deadline(value: str | datetime | None) -> datetime:
    """An ISO date or date-time (`2024-07-15`, `2024-07-15T18:00:00Z`); without a zone it is UTC."""
    if value is None or (isinstance(value, str) and not value.strip()):
        raise InvalidInput("deadline", "a cycle needs a deadline")
    if isinstance(value, datetime):
        moment = value
    else:
        try:
            moment = datetime.fromisoformat(value.strip())
        except ValueError:
            raise InvalidInput(
                "deadline", f"{value[:40]!r} is not an ISO date, e.g. 2024-07-15 or 2024-07-15T18:00:00Z"
            ) from None
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    if not 2000 <= moment.year <= 2200:
        raise InvalidInput("deadline", f"year {moment.year} is not a plausible deadline")
    return moment.astimezone(UTC)


def check_workspaces(workspaces: Iterable[str], known: Sequence[str]) -> list[str]:
    """The participating workspaces, `global` first then in configuration order; each an offline workspace."""
    chosen = list(dict.fromkeys(workspaces))
    if not chosen:
        raise InvalidInput("workspaces", "a cycle needs at least one workspace, and always global")
    if GLOBAL not in chosen:
        raise InvalidInput("workspaces", "a cycle always includes the global workspace")
    unknown = [ws for ws in chosen if ws not in known]
    if unknown:
        raise InvalidInput(
            "workspaces", f"{unknown[0]!r} is not an offline workspace (they are: {', '.join(known)})"
        )
    return sorted(chosen, key=lambda ws: (ws != GLOBAL, known.index(ws)))


def new_states(workspaces: Sequence[str], claimed: Mapping[str, str] | None = None) -> dict[str, str]:
    """A new cycle is pending in each workspace. `claimed` states (the original's `cycle_attributes`) must
    say so: completion is earned by the rules of mark_completed, never declared at creation."""
    for ws, state in (claimed or {}).items():
        _check_claimed(ws, state, PENDING, "a new cycle is pending in every workspace")
    return {ws: PENDING for ws in workspaces}


def edited_states(
    current: Mapping[str, str], workspaces: Sequence[str], claimed: Mapping[str, str] | None = None
) -> dict[str, str]:
    """Workspaces kept keep their state, new ones start pending, removed ones go. A state changes only by
    marking the cycle completed or pending (`claimed` states must be the current ones); while global is
    completed no pending workspace may join (global would then be completed before it)."""
    states = {ws: current.get(ws, PENDING) for ws in workspaces}
    for ws, state in (claimed or {}).items():
        _check_claimed(ws, state, states.get(ws, PENDING), "a state changes by marking the cycle")
    added = [ws for ws in workspaces if ws not in current]
    if added and current.get(GLOBAL) == COMPLETED:
        raise InvalidState(
            f"the cycle is completed in global: mark global pending before adding {', '.join(added)}",
            details={"workspaces": added},
        )
    return states


def _check_claimed(workspace: str, state: str, expected: str, why: str) -> None:
    field = f"workspaces.{workspace}"
    if state not in CYCLE_STATES:
        raise InvalidInput(field, f"{state!r} is not one of {', '.join(CYCLE_STATES)}")
    if state != expected:
        raise InvalidInput(field, f"is {expected}, not {state}: {why} completed or pending")


# -- completion ----------------------------------------------------------------------------------------------
def participating(states: Mapping[str, str], workspace: str) -> None:
    if workspace not in states:
        raise InvalidInput(
            "workspace", f"the cycle has no workspace {workspace!r} (it has {', '.join(states)})"
        )


def blocking(members: Iterable[Member], workspace: str) -> list[Member]:
    """Members that keep `workspace` from being completed: those with a state there that is not COMPLETED.
    A dataset not significant for the workspace, or hidden, needs no certification there."""
    return [
        m
        for m in members
        if not m.hidden and m.state(workspace) not in (None, DATASET_COMPLETED, NOT_SIGNIFICANT)
    ]


def completion_refusal(states: Mapping[str, str], workspace: str, members: Sequence[Member]) -> str | None:
    """Why the cycle may not be marked completed in `workspace` now (None: it may)."""
    if workspace not in states:
        return f"the cycle has no workspace {workspace}"
    if states[workspace] == COMPLETED:
        return f"the cycle is already completed in {workspace}"
    if workspace == GLOBAL:
        open_ones = [ws for ws, state in states.items() if ws != GLOBAL and state != COMPLETED]
        if open_ones:
            return (
                f"the cycle cannot be completed in global while it is pending in {', '.join(open_ones)}: "
                "every other workspace completes first"
            )
    stopping = blocking(members, workspace)
    if stopping:
        return (
            f"the cycle cannot be completed in {workspace}: {len(stopping)} of its datasets "
            f"{'is' if len(stopping) == 1 else 'are'} not COMPLETED there: {_named(stopping, workspace)}"
        )
    return None


def pending_refusal(states: Mapping[str, str], workspace: str) -> str | None:
    """Why the cycle may not go back to pending in `workspace` now (None: it may)."""
    if workspace not in states:
        return f"the cycle has no workspace {workspace}"
    if states[workspace] == PENDING:
        return f"the cycle is already pending in {workspace}"
    if workspace != GLOBAL and states.get(GLOBAL) == COMPLETED:
        return (
            f"the cycle cannot go back to pending in {workspace} while it is completed in global: "
            "a DC expert marks global pending first"
        )
    return None


def progress(members: Iterable[Member], workspace: str) -> tuple[int, int]:
    """(COMPLETED, to certify) in `workspace`: members with a state there, not hidden, significant."""
    counted = [m for m in members if not m.hidden and m.state(workspace) not in (None, NOT_SIGNIFICANT)]
    return sum(1 for m in counted if m.state(workspace) == DATASET_COMPLETED), len(counted)


# -- moves through the cycle ---------------------------------------------------------------------------------
def check_to_state(to_state: str) -> None:
    if to_state not in DATASET_STATES:
        raise InvalidInput("to_state", f"{to_state!r} is not one of {', '.join(DATASET_STATES)}")


def move_refusal(states: Mapping[str, str], workspace: str) -> str | None:
    """Datasets move through a cycle only while it is pending in that workspace."""
    if workspace not in states:
        return f"the cycle has no workspace {workspace}"
    if states[workspace] == COMPLETED:
        return (
            f"the cycle is completed in {workspace}: its datasets move there again once it is back to pending"
        )
    return None


@dataclass(frozen=True)
class MovePlan:
    """What "move all datasets to `to_state`" does: the members it moves, and those it leaves with why."""

    moving: list[Member]
    skipped: dict[str, list[Member]]

    def describe_skipped(self) -> str:
        return "; ".join(f"{len(ms)} {why}" for why, ms in self.skipped.items() if ms)


def plan_move_all(members: Iterable[Member], workspace: str, to_state: str) -> MovePlan:
    """Members with a state in `workspace` that is not COMPLETED move (as the original); those already in
    `to_state` stay. A dataset still waiting for the DQM GUI only moves to OPEN, one not significant for the
    workspace or hidden never moves: certifying data that is not there is not a bulk decision."""
    moving: list[Member] = []
    skipped: dict[str, list[Member]] = {}
    for member in members:
        state = member.state(workspace)
        if state is None:
            continue
        why = (
            "hidden"
            if member.hidden
            else "already COMPLETED"
            if state == DATASET_COMPLETED
            else f"already {to_state}"
            if state == to_state
            else "not significant for the workspace"
            if state == NOT_SIGNIFICANT
            else "waiting for the DQM GUI"
            if state == WAITING and to_state != OPEN
            else None
            if state in (OPEN, SIGNOFF, WAITING)
            else f"in state {state}"
        )
        if why is None:
            moving.append(member)
        else:
            skipped.setdefault(why, []).append(member)
    return MovePlan(moving, skipped)


def move_all_refusal(states: Mapping[str, str], workspace: str, to_state: str, plan: MovePlan) -> str | None:
    refused = move_refusal(states, workspace)
    if refused:
        return refused
    if not plan.moving:
        left = plan.describe_skipped()
        return f"no dataset of the cycle can move to {to_state} in {workspace}" + (
            f" ({left})" if left else ""
        )
    return None


def dataset_move_refusal(
    states: Mapping[str, str], workspace: str, member: Member | None, from_state: str | None, to_state: str
) -> str | None:
    """One member moved through the cycle: a member, the cycle pending there, and the state it is moved from
    the one it has (a page drawn before someone else's move must not move it twice)."""
    refused = move_refusal(states, workspace)
    if refused:
        return refused
    if member is None:
        return "the dataset is not in this cycle"
    current = member.state(workspace)
    if current is None:
        return f"dataset {member.label()} has no state in {workspace}"
    if from_state is not None and from_state != current:
        return f"dataset {member.label()} is {current} in {workspace}, not {from_state}: reload the page"
    if current == to_state:
        return f"dataset {member.label()} is already {to_state} in {workspace}"
    return None


# -- selections ----------------------------------------------------------------------------------------------
def added(members: Collection[tuple[int, str]], selected: Sequence[tuple[int, str]]) -> list[tuple[int, str]]:
    """The selected datasets not yet members; the cycle may not grow beyond MAX_DATASETS."""
    if not selected:
        raise InvalidInput("filter", "selects no dataset: a cycle needs at least one")
    new = [key for key in selected if key not in members]
    if not new:
        raise InvalidInput("filter", f"the {len(selected)} datasets it selects are already in the cycle")
    total = len(members) + len(new)
    if total > MAX_DATASETS:
        raise InvalidInput(
            "filter", f"the cycle would hold {total} datasets, at most {MAX_DATASETS}: narrow the filter"
        )
    return new


def removed(
    members: Collection[tuple[int, str]], selected: Sequence[tuple[int, str]]
) -> list[tuple[int, str]]:
    """Every selected dataset must be a member (the original's rule): a filter reaching further is wrong."""
    if not selected:
        raise InvalidInput("filter", "selects no dataset")
    outside = [key for key in selected if key not in members]
    if outside:
        run, name = outside[0]
        raise InvalidInput(
            "filter",
            f"selects {len(outside)} dataset(s) not in the cycle, e.g. {run} {name}: narrow it",
        )
    return list(selected)


def completing_additions(states: Mapping[str, str], new_members: Iterable[Member]) -> str | None:
    """Datasets joining a cycle completed in a workspace must be COMPLETED there, or completion would lie."""
    completed = [ws for ws, state in states.items() if state == COMPLETED]
    for ws in completed:
        stopping = blocking(new_members, ws)
        if stopping:
            return (
                f"the cycle is completed in {ws} and {len(stopping)} of the datasets to add "
                f"{'is' if len(stopping) == 1 else 'are'} not COMPLETED there ({_named(stopping, ws)}): "
                f"mark {ws} pending first"
            )
    return None


def listing_key(
    states: Mapping[str, str], deadline: datetime, cycle_id: int, workspace: str
) -> tuple[Any, ...]:
    """Cycles of a workspace: pending there first, then completed, then those without it; by deadline."""
    rank = {PENDING: 0, COMPLETED: 1}.get(states.get(workspace, ""), 2)
    return (rank, deadline, cycle_id)


def _named(members: Sequence[Member], workspace: str) -> str:
    shown = ", ".join(m.label(workspace) for m in members[:NAMED_IN_REFUSAL])
    more = len(members) - NAMED_IN_REFUSAL
    return shown + (f" and {more} more" if more > 0 else "")
