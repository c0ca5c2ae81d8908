"""Pure helpers of the dataset page: workspace states and their moves' history, DCS-bit bars with the
dataset's corrections, and the history of those corrections."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from runreg.configuration.model import Configuration
from runreg.eventlog.store import ChangeSet, LoggedEvent
from runreg.kernel.ranges import RangeMap
from runreg.registry.model import OMS_LS_WHITELIST, ONLINE, WAITING_DQM_GUI, RunState
from runreg.web.display import RUN_STATES
from runreg.web.run_view import KIND_LABELS

STATE_SUFFIX = "_state"
#: DCS bits one can correct on a dataset: the whitelisted per-LS OMS keys that are true/false flags.
DCS_BITS = tuple(key for key in OMS_LS_WHITELIST if not key.startswith("prescale"))
#: How a bit's value is drawn: (label, css class).
BIT_LOOKS = {True: ("true", "TRUE"), False: ("false", "FALSE"), None: ("null", "NULL")}


def state_moves(state: str) -> list[str]:
    """Where a workspace state can be moved by hand: a waiting dataset only to OPEN (it has not appeared in
    the DQM GUI yet); otherwise to the other of OPEN, SIGNOFF, COMPLETED."""
    if state == WAITING_DQM_GUI:
        return ["OPEN"]
    return [s for s in RUN_STATES if s != state]


def workspace_states(attributes: Mapping[str, Any], config: Configuration) -> list[tuple[str, str]]:
    """(workspace, state) of every workspace the dataset has a state in: global first, then the offline
    workspaces in configuration order, then any other (a workspace since removed) by name."""
    states = {
        key.removesuffix(STATE_SUFFIX): str(value)
        for key, value in attributes.items()
        if key.endswith(STATE_SUFFIX) and value is not None
    }
    order = [ws.name for ws in config.workspaces if ws.mode == "offline"]
    order = ["global", *(name for name in order if name != "global")]
    known = [(ws, states[ws]) for ws in order if ws in states]
    return known + sorted((ws, state) for ws, state in states.items() if ws not in order)


@dataclass(frozen=True)
class StateChange:
    """One change set's state moves on the dataset: (workspace, from, to) each."""

    change_set: ChangeSet
    kind: str
    moves: list[tuple[str, str | None, str]]


def state_history(log: Iterable[LoggedEvent]) -> list[StateChange]:
    """Every change of a workspace state of the dataset, newest first, with the state it left (known when
    the log reaches back to the dataset's creation or to an earlier move of that workspace)."""
    known: dict[str, str] = {}
    out: list[StateChange] = []
    for event in reversed(list(log)):  # oldest first: each move's from-state is the one before it
        payload = event.payload or {}
        attributes = payload.get("attributes") or {}
        states = {
            key.removesuffix(STATE_SUFFIX): str(value)
            for key, value in attributes.items()
            if key.endswith(STATE_SUFFIX)
        }
        if event.type == "DatasetCreated":
            known.update(states)
            continue
        if event.type != "DatasetAttributesChanged" or not states:
            continue
        moves = [(ws, known.get(ws), to) for ws, to in sorted(states.items(), key=_global_first)]
        known.update(states)
        kind = KIND_LABELS.get(event.change_set.actor_kind, event.change_set.actor_kind)
        if out and out[-1].change_set.id == event.change_set.id:
            out[-1].moves.extend(moves)
        else:
            out.append(StateChange(event.change_set, kind, moves))
    return out[::-1]


def last_moves(history: Sequence[StateChange]) -> dict[str, StateChange]:
    """Per workspace, the newest change set that moved it (history is newest first)."""
    out: dict[str, StateChange] = {}
    for entry in history:
        for workspace, _before, _after in entry.moves:
            out.setdefault(workspace, entry)
    return out


def _global_first(item: tuple[str, str]) -> tuple[bool, str]:
    return item[0] != "global", item[0]


def value_bar(ranges: RangeMap, ls_count: int, corrected: RangeMap | None = None) -> list[dict[str, Any]]:
    """A DCS bit's LS as consecutive segments over 1..ls_count in the shape of run_view.ls_bar (so
    run_view.lsbar_svg draws it): true, false, null, or no value; `corrected` marks the LS whose value
    the dataset sets itself."""
    total = max(ls_count, ranges.last_ls if ranges else 0)
    if not total:
        return []
    pieces = [(first, last, value, True) for first, last, value in ranges.slice(1, total)]
    pieces += [(first, last, None, False) for first, last in ranges.gaps(1, total)]
    out = []
    for first, last, value, present in sorted(pieces, key=lambda piece: piece[0]):
        if not present:
            label, css = "no value", "EMPTY"
        else:
            label, css = BIT_LOOKS.get(value if isinstance(value, bool) else None, (str(value), "NULL"))
        for part_first, part_last, mark in _split_by(first, last, corrected):
            out.append(
                {
                    "first": part_first,
                    "last": part_last,
                    "status": label,
                    "css": css + (" corrected" if mark else ""),
                    "comment": "corrected on this dataset" if mark else "",
                    "cause": "",
                    "x": part_first - 1,
                    "width": part_last - part_first + 1,
                }
            )
    return out


def _split_by(first: int, last: int, corrected: RangeMap | None) -> list[tuple[int, int, bool]]:
    """first..last cut where `corrected` starts or stops covering it, each part marked."""
    if not corrected:
        return [(first, last, False)]
    parts = [(f, ls, True) for f, ls, _ in corrected.slice(first, last)]
    parts += [(f, ls, False) for f, ls in corrected.gaps(first, last)]
    return sorted(parts)


def dcs_bits(run: RunState, name: str) -> list[dict[str, Any]]:
    """Every DCS bit the dataset sees (the online values with its corrections), in the whitelist's order:
    its bar, LS counts of true and false, and whether the dataset corrects it."""
    values = run.oms_values(name)
    own = run.datasets[name].oms if name != ONLINE else {}
    out = []
    for key in DCS_BITS:
        if key not in values:
            continue
        corrected = own.get(key)
        segments = value_bar(values[key], run.ls_count, corrected)
        counts = {"true": 0, "false": 0}
        for s in segments:
            if s["status"] in counts:
                counts[s["status"]] += s["width"]
        out.append({"key": key, "segments": segments, "counts": counts, "corrected": bool(corrected)})
    return out


@dataclass(frozen=True)
class ValueChange:
    """One change set's corrections of OMS values on the dataset: (first, last, {key: value}) each."""

    change_set: ChangeSet
    kind: str
    ranges: list[tuple[int, int, dict[str, Any]]] = field(default_factory=list)


def oms_history(log: Sequence[LoggedEvent]) -> list[ValueChange]:
    """The dataset's OMS-value corrections, newest first (a cleared correction shows as "cleared")."""
    out: list[ValueChange] = []
    for event in log:
        if event.type not in ("OmsValuesSet", "OmsValuesCleared"):
            continue
        payload = event.payload or {}
        if event.type == "OmsValuesSet":
            values = dict(payload.get("values") or {})
        else:
            values = dict.fromkeys(payload.get("keys") or [], "cleared")
        if not out or out[-1].change_set.id != event.change_set.id:
            kind = KIND_LABELS.get(event.change_set.actor_kind, event.change_set.actor_kind)
            out.append(ValueChange(event.change_set, kind))
        out[-1].ranges.append((event.first_ls or 0, event.last_ls or 0, values))
    for entry in out:
        entry.ranges.sort(key=lambda r: (r[0], r[1]))
    return out
