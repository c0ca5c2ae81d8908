"""Pure registry rules: fold events into a run's state, and decide which events a command produces."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from runreg.kernel.errors import InvalidInput, InvalidState, SignOffRefused
from runreg.kernel.quality import MIN_BAD_COMMENT, UNJUDGED_STATUSES, USER_STATUSES, Status, split_component
from runreg.kernel.ranges import Range, RangeMap, differences, same_value
from runreg.registry.events import (
    DatasetAttributesChanged,
    DatasetCreated,
    Event,
    FlagsCleared,
    FlagsSet,
    Layer,
    OmsValuesCleared,
    OmsValuesSet,
    RunAttributesChanged,
    RunCreated,
    RunVisibilityChanged,
)

ONLINE = "online"
SYSTEM_STATUSES = frozenset({Status.NO_VALUE_FOUND, Status.EMPTY})
#: RR attributes a run carries; anything else is refused so typos do not become silent new keys.
RR_ATTRIBUTES = frozenset(
    {"class", "significant", "state", "stop_reason", "run_needs_to_be_updated_manually", "short_run"}
)
#: Per-LS OMS attributes the registry keeps (rr_backend §2.2): the DCS bits and the prescale.
OMS_LS_WHITELIST = (
    "rp_time_ready", "cscp_ready", "physics_flag", "dt0_ready", "beam1_present", "bpix_ready", "ho_ready",
    "dtp_ready", "tecm_ready", "tibtid_ready", "fpix_ready", "rpc_ready", "rp_sect_56_ready", "castor_ready",
    "esp_ready", "eep_ready", "hbhea_ready", "ebm_ready", "dtm_ready", "eem_ready", "esm_ready", "tecp_ready",
    "ebp_ready", "hf_ready", "rp_sect_45_ready", "cscm_ready", "cms_active", "zdc_ready", "hbheb_ready",
    "tob_ready", "beam1_stable", "hbhec_ready", "beam2_stable", "beam2_present", "gemp_ready", "gemm_ready",
    "prescale_index", "prescale_name",
)  # fmt: skip
#: OMS per-LS keys that are luminosity, not DCS bits (summed, not counted).
LUMINOSITY_KEYS = frozenset({"recorded", "delivered"})


class RunStatus(StrEnum):
    OPEN = "OPEN"
    SIGNOFF = "SIGNOFF"
    COMPLETED = "COMPLETED"


def default_rr_attributes() -> dict[str, Any]:
    return {"class": "", "significant": False, "state": RunStatus.OPEN.value, "stop_reason": ""}


# --------------------------------------------------------------------------------------------------
# State
# --------------------------------------------------------------------------------------------------
@dataclass
class ComponentFlags:
    """One component's triplets on a dataset in two layers; the effective value puts manual over automatic."""

    automatic: RangeMap = field(default_factory=RangeMap)
    manual: RangeMap = field(default_factory=RangeMap)

    def layer(self, layer: Layer) -> RangeMap:
        return self.manual if layer is Layer.MANUAL else self.automatic

    def effective(self) -> RangeMap:
        return self.automatic.overlay(self.manual)


@dataclass
class DatasetState:
    name: str
    attributes: dict[str, Any] = field(default_factory=dict)
    flags: dict[str, ComponentFlags] = field(default_factory=dict)
    oms: dict[str, RangeMap] = field(default_factory=dict)

    def component(self, component: str) -> ComponentFlags:
        return self.flags.setdefault(component, ComponentFlags())


@dataclass
class RunState:
    run_number: int
    oms: dict[str, Any] = field(default_factory=dict)
    rr_automatic: dict[str, Any] = field(default_factory=dict)
    rr_manual: dict[str, Any] = field(default_factory=dict)
    datasets: dict[str, DatasetState] = field(default_factory=dict)
    version: int = 0
    #: Hidden from the run listings (soft-deleted), with why (`hide_run`); still readable by its number.
    hidden: bool = False
    hidden_reason: str = ""

    @property
    def rr(self) -> dict[str, Any]:
        return {**self.rr_automatic, **self.rr_manual}

    def rr_layer(self, layer: Layer) -> dict[str, Any]:
        return self.rr_manual if layer is Layer.MANUAL else self.rr_automatic

    @property
    def status(self) -> str:
        return str(self.rr.get("state") or RunStatus.OPEN.value)

    @property
    def ls_count(self) -> int:
        """The run's length in LS: what OMS says, or the furthest LS any OMS value reaches."""
        declared = self.oms.get("ls_duration")
        reached = max(
            (ranges.last_ls for ds in self.datasets.values() for ranges in ds.oms.values()),
            default=0,
        )
        return max(declared if isinstance(declared, int) and not isinstance(declared, bool) else 0, reached)

    def dataset(self, name: str) -> DatasetState:
        try:
            return self.datasets[name]
        except KeyError:
            raise InvalidInput("dataset", f"run {self.run_number} has no dataset {name!r}") from None

    def oms_values(self, dataset: str) -> dict[str, RangeMap]:
        """OMS values seen by a dataset: offline datasets inherit the online ones and may override them."""
        online = self.datasets.get(ONLINE)
        merged = {key: ranges.copy() for key, ranges in (online.oms.items() if online else ())}
        if dataset != ONLINE:
            for key, ranges in self.dataset(dataset).oms.items():
                merged[key] = merged.get(key, RangeMap()).overlay(ranges)
        return merged


def clone(run: RunState) -> RunState:
    """A copy of `run` to fold new events into, leaving `run` as it was: every container is copied (dicts,
    datasets, layers, range maps), the values in them are shared, since `apply` replaces a value and never
    changes one in place. A fraction of `copy.deepcopy`'s cost on a run of thousands of ranges."""
    return RunState(
        run.run_number,
        dict(run.oms),
        dict(run.rr_automatic),
        dict(run.rr_manual),
        {
            name: DatasetState(
                ds.name,
                dict(ds.attributes),
                {c: ComponentFlags(f.automatic.copy(), f.manual.copy()) for c, f in ds.flags.items()},
                {key: ranges.copy() for key, ranges in ds.oms.items()},
            )
            for name, ds in run.datasets.items()
        },
        run.version,
        run.hidden,
        run.hidden_reason,
    )


def apply(run: RunState, event: Event) -> None:
    """Fold one event into the run's state (mutates it). The single definition of what every event means."""
    match event:
        case RunCreated(oms=oms, rr=rr, layer=layer):
            run.oms.update(oms)
            run.rr_layer(layer).update(rr)
            run.datasets.setdefault(ONLINE, DatasetState(ONLINE))
        case RunAttributesChanged():
            run.oms.update(event.oms)
            for key in event.removed_oms:
                run.oms.pop(key, None)
            target = run.rr_layer(event.layer)
            target.update(event.rr)
            for key in event.removed_rr:
                target.pop(key, None)
        case RunVisibilityChanged(hidden=hidden, reason=reason):
            run.hidden = hidden
            run.hidden_reason = reason if hidden else ""
        case DatasetCreated(name=name, attributes=attributes):
            run.datasets[name] = DatasetState(name, dict(attributes))
        case DatasetAttributesChanged(name=name, attributes=attributes, removed=removed):
            ds = run.datasets.setdefault(name, DatasetState(name))
            ds.attributes.update(attributes)
            for key in removed:
                ds.attributes.pop(key, None)
        case FlagsSet():
            ranges = run.datasets[event.name].component(event.component).layer(event.layer)
            ranges.assign(event.first_ls, event.last_ls, dict(event.triplet))
        case FlagsCleared():
            ranges = run.datasets[event.name].component(event.component).layer(event.layer)
            ranges.clear(event.first_ls, event.last_ls)
        case OmsValuesSet():
            ds = run.datasets[event.name]
            for key, value in event.values.items():
                ds.oms.setdefault(key, RangeMap()).assign(event.first_ls, event.last_ls, value)
        case OmsValuesCleared():
            ds = run.datasets[event.name]
            for key in event.keys:
                if key in ds.oms:
                    ds.oms[key].clear(event.first_ls, event.last_ls)
        case _:
            raise TypeError(f"unknown event {type(event).__name__}")


def fold(run_number: int, events: Iterable[Event]) -> RunState | None:
    """The state of a run after `events` (in stream order); None when the run was not yet created."""
    run: RunState | None = None
    for event in events:
        if run is None:
            if not isinstance(event, RunCreated):
                raise ValueError(f"run {run_number}: stream does not start with RunCreated")
            run = RunState(run_number)
        apply(run, event)
        run.version += 1
    return run


# --------------------------------------------------------------------------------------------------
# Decisions: validate a command against the state and return the events it produces (never mutate).
# --------------------------------------------------------------------------------------------------
def register_run(
    run_number: int, *, oms: Mapping[str, Any], rr: Mapping[str, Any] | None = None, layer: Layer
) -> list[Event]:
    if run_number < 1:
        raise InvalidInput("run_number", f"must be a positive integer, got {run_number}")
    attributes = {**default_rr_attributes(), **(rr or {})}
    _check_rr_keys(attributes)
    return [RunCreated(oms=dict(oms), rr=attributes, layer=layer)]


def change_run_attributes(
    run: RunState,
    *,
    oms: Mapping[str, Any] | None = None,
    rr: Mapping[str, Any] | None = None,
    layer: Layer,
) -> list[Event]:
    """Only what differs is recorded; OMS attributes are the source system's and never manual."""
    rr = dict(rr or {})
    oms = dict(oms or {})
    _check_rr_keys(rr)
    if "state" in rr:
        raise InvalidInput("rr.state", "change the run state with a state move, not an attribute edit")
    if layer is Layer.MANUAL and oms:
        raise InvalidInput("oms", "OMS attributes come from OMS and cannot be edited by hand")
    if rr and layer is Layer.MANUAL and run.status != RunStatus.OPEN:
        raise InvalidState(
            f"run {run.run_number} is {run.status}: its attributes can only be edited while it is OPEN",
            details={"run_number": run.run_number, "state": run.status},
        )
    if "class" in rr and not isinstance(rr["class"], str):
        raise InvalidInput("rr.class", "must be a string")
    current_rr = run.rr if layer is Layer.MANUAL else run.rr_automatic
    new_rr = {
        k: v for k, v in rr.items() if not same_value(current_rr.get(k, _MISSING), v) or layer is Layer.MANUAL
    }
    new_oms = {k: v for k, v in oms.items() if not same_value(run.oms.get(k, _MISSING), v)}
    if not new_rr and not new_oms:
        return []
    return [RunAttributesChanged(oms=new_oms, rr=new_rr, layer=layer)]


def move_run(
    run: RunState, to_state: str, *, certifiable_components: Sequence[str], layer: Layer
) -> list[Event]:
    try:
        target = RunStatus(to_state)
    except ValueError:
        raise InvalidInput("state", f"{to_state!r} is not one of OPEN, SIGNOFF, COMPLETED") from None
    if target.value == run.status:
        raise InvalidState(f"run {run.run_number} is already {target.value}")
    if target is not RunStatus.OPEN:
        check_sign_off(run, certifiable_components)
    return [RunAttributesChanged(rr={"state": target.value}, layer=layer)]


#: The shortest reason for hiding a run or showing it again (trimmed).
MIN_VISIBILITY_REASON = 3


def hide_run(run: RunState, reason: str) -> list[Event]:
    """Hide a run from the run listings (rr_backend §10.4 "run deletion (or hide)"), whatever its state: its
    events, datasets and flags stay, it is still read by its number, and reverting the change set (or
    `show_run`) shows it again. A reason is required; hiding a hidden run is refused, naming its reason."""
    reason = check_visibility_reason(reason)
    if run.hidden:
        raise InvalidState(
            f"run {run.run_number} is already hidden ({run.hidden_reason or 'no reason given'})",
            details={"run_number": run.run_number, "hidden_reason": run.hidden_reason},
        )
    return [RunVisibilityChanged(hidden=True, reason=reason)]


def show_run(run: RunState) -> list[Event]:
    """Show a hidden run in the run listings again; a run that is not hidden is refused."""
    if not run.hidden:
        raise InvalidState(f"run {run.run_number} is not hidden", details={"run_number": run.run_number})
    return [RunVisibilityChanged(hidden=False)]


def check_visibility_reason(reason: str | None) -> str:
    text = (reason or "").strip()
    if len(text) < MIN_VISIBILITY_REASON:
        raise InvalidInput("reason", f"must say why, in at least {MIN_VISIBILITY_REASON} characters")
    return text


def check_sign_off(run: RunState, certifiable_components: Sequence[str]) -> None:
    """A run may leave OPEN only when it has ended, has a class and every LS of every certifiable component is
    judged."""
    where = f"run {run.run_number} cannot be signed off"
    if not run.oms.get("end_time"):
        raise SignOffRefused(
            f"{where}: it is still taking data (OMS reports no end time yet)",
            details={"run_number": run.run_number},
        )
    if not run.rr.get("class"):
        raise SignOffRefused(f"{where}: it has no class", details={"run_number": run.run_number})
    online = run.datasets.get(ONLINE)
    if online is None or not online.flags:
        raise SignOffRefused(f"{where}: it has no lumisection flags", details={"run_number": run.run_number})
    ls_count = run.ls_count
    for component in certifiable_components:
        if component not in online.flags:
            continue
        effective = online.flags[component].effective()
        gaps = effective.gaps(1, ls_count)
        unjudged = [
            (first, value["status"])
            for first, _last, value in effective
            if value.get("status", "") in UNJUDGED_STATUSES
        ]
        candidates = [(first, Status.EMPTY.value) for first, _ in gaps] + unjudged
        if candidates:
            ls, status = min(candidates)
            raise SignOffRefused(
                f"{where}: LS {ls} of component {component} is {status or 'empty'}",
                details={
                    "run_number": run.run_number,
                    "lumisection": ls,
                    "component": component,
                    "status": status,
                },
            )


def create_dataset(run: RunState, name: str, attributes: Mapping[str, Any]) -> list[Event]:
    if not name or name == ONLINE:
        raise InvalidInput("name", f"{name!r} is not a valid offline dataset name")
    if name in run.datasets:
        raise InvalidInput("name", f"run {run.run_number} already has dataset {name!r}")
    return [DatasetCreated(name=name, attributes=dict(attributes))]


def change_dataset_attributes(run: RunState, name: str, attributes: Mapping[str, Any]) -> list[Event]:
    current = run.dataset(name).attributes
    delta = {k: v for k, v in attributes.items() if not same_value(current.get(k, _MISSING), v)}
    return [DatasetAttributesChanged(name=name, attributes=delta)] if delta else []


WAITING_DQM_GUI = "waiting dqm gui"
NOT_SIGNIFICANT = "not significant for workspace"
GLOBAL = "global"
#: The states a person moves a workspace between by hand (the targets of `registry:dataset:move`).
DATASET_STATES = frozenset({RunStatus.OPEN.value, RunStatus.SIGNOFF.value, RunStatus.COMPLETED.value})
#: Every state a dataset has in a workspace (rr_backend §2.5), in their usual order.
WORKSPACE_STATES = (
    WAITING_DQM_GUI,
    RunStatus.OPEN.value,
    RunStatus.SIGNOFF.value,
    RunStatus.COMPLETED.value,
    NOT_SIGNIFICANT,
)
#: The moves allowed from each state. Out of `waiting dqm gui` a person only opens (the DQM GUI pinger, an
#: automatic actor, also decides `not significant for workspace`); `not significant` can be reopened by hand;
#: OPEN, SIGNOFF and COMPLETED move among themselves.
_MANUAL_MOVES: dict[str, frozenset[str]] = {
    WAITING_DQM_GUI: frozenset({RunStatus.OPEN.value}),
    NOT_SIGNIFICANT: frozenset({RunStatus.OPEN.value}),
    RunStatus.OPEN.value: frozenset({RunStatus.SIGNOFF.value, RunStatus.COMPLETED.value}),
    RunStatus.SIGNOFF.value: frozenset({RunStatus.OPEN.value, RunStatus.COMPLETED.value}),
    RunStatus.COMPLETED.value: frozenset({RunStatus.OPEN.value, RunStatus.SIGNOFF.value}),
}
_AUTOMATIC_MOVES = {**_MANUAL_MOVES, WAITING_DQM_GUI: frozenset({RunStatus.OPEN.value, NOT_SIGNIFICANT})}
#: Subsystem states that keep `global` from COMPLETED: the workspace is still to be certified.
_UNFINISHED = frozenset({WAITING_DQM_GUI, RunStatus.OPEN.value})
#: Attribute the DC tools set (with `hidden_reason`) on a dataset hidden from offline tables, cycles and
#: tools: the original's `deleted` flag.
HIDDEN = "hidden"
HIDDEN_REASON = "hidden_reason"
#: Attribute of a dataset the DC tools created as a copy of another (its name): reverting the change set that
#: created it hides it (registry.revert), where other creations cannot be reverted.
DUPLICATED_FROM = "duplicated_from"
#: The `hidden_reason` of a copy hidden by reverting its duplication (the DC tools' hide refuses it as a
#: reason of its own, so it tells such copies from datasets an expert hid).
REVERTED_DUPLICATION = "its duplication was reverted"


def is_hidden(attributes: Mapping[str, Any]) -> bool:
    return attributes.get(HIDDEN) is True


def is_reverted_copy(attributes: Mapping[str, Any]) -> bool:
    """A copy the DC tools duplicated, hidden since by the revert of its duplication and by nothing else:
    it stands for no data anyone certifies, so duplicating into its name again re-creates it."""
    return (
        is_hidden(attributes)
        and attributes.get(HIDDEN_REASON) == REVERTED_DUPLICATION
        and DUPLICATED_FROM in attributes
    )


def allowed_moves(current: str, layer: Layer = Layer.MANUAL) -> frozenset[str]:
    """The states a workspace in `current` may move to (by hand, or by an automatic actor)."""
    moves = _AUTOMATIC_MOVES if layer is Layer.AUTOMATIC else _MANUAL_MOVES
    return moves.get(current, frozenset())


def workspace_states(attributes: Mapping[str, Any]) -> dict[str, str]:
    """`{workspace: state}` of a dataset's `<workspace>_state` attributes."""
    return {
        key.removesuffix("_state"): value
        for key, value in attributes.items()
        if key.endswith("_state") and isinstance(value, str)
    }


def move_dataset(
    run: RunState,
    name: str,
    workspace: str,
    to_state: str,
    *,
    from_state: str | None = None,
    layer: Layer = Layer.MANUAL,
) -> list[Event]:
    """Move an offline dataset in one workspace. `from_state`, when given, must be the current state (a move
    decided on a stale view is refused). The target must be allowed from the current state (`allowed_moves`).
    Moving `global` out of `waiting dqm gui` opens every workspace still waiting (rr_backend §2.5); moving
    `global` to COMPLETED requires every subsystem workspace of the dataset to be past OPEN (SIGNOFF,
    COMPLETED or not significant): global completion is DC's last word on a dataset."""
    if name == ONLINE:
        raise InvalidInput("dataset", "the online dataset has no workspace states; move the run instead")
    changes = _move_changes(
        run.run_number, name, run.dataset(name).attributes, workspace, to_state, from_state, layer
    )
    return change_dataset_attributes(run, name, changes)


def _move_changes(
    run_number: int,
    name: str,
    attributes: Mapping[str, Any],
    workspace: str,
    to_state: str,
    from_state: str | None,
    layer: Layer,
) -> dict[str, str]:
    """The state attributes a valid move sets (`move_dataset`'s rules), or why it is refused."""
    key = f"{workspace}_state"

    def where() -> str:
        return f"dataset {name!r} of run {run_number}"

    if key not in attributes:
        raise InvalidInput("workspace", f"{where()} has no state in {workspace!r}")
    if to_state not in WORKSPACE_STATES:
        raise InvalidInput("state", f"{to_state!r} is not one of {', '.join(WORKSPACE_STATES)}")
    if from_state is not None and from_state not in WORKSPACE_STATES:
        raise InvalidInput("from_state", f"{from_state!r} is not one of {', '.join(WORKSPACE_STATES)}")
    current = attributes[key]

    def details(**more: Any) -> dict[str, Any]:
        return {
            "run_number": run_number,
            "dataset": name,
            "workspace": workspace,
            "state": current,
            "to_state": to_state,
            **more,
        }

    if from_state is not None and from_state != current:
        raise InvalidState(
            f"{where()} is {current} in {workspace}, not {from_state}: reload and move it from {current}",
            details=details(from_state=from_state),
        )
    if current == to_state:
        raise InvalidState(f"{where()} is already {to_state} in {workspace}", details=details())
    allowed = allowed_moves(current, layer)
    if to_state not in allowed:
        reachable = ", ".join(s for s in WORKSPACE_STATES if s in allowed) or "nothing"
        raise InvalidState(
            f"{where()} cannot move from {current} to {to_state} in {workspace} "
            f"(from {current} it can move to: {reachable})",
            details=details(),
        )
    changes = {key: to_state}
    if workspace != GLOBAL:
        return changes
    states = workspace_states(attributes)
    if to_state == RunStatus.COMPLETED.value:
        unfinished = sorted(ws for ws, state in states.items() if ws != GLOBAL and state in _UNFINISHED)
        if unfinished:
            listed = ", ".join(f"{ws} ({states[ws]})" for ws in unfinished)
            raise InvalidState(
                f"{where()} cannot be COMPLETED in global while workspaces are still to be certified: "
                f"{listed}",
                details=details(workspaces=unfinished),
            )
    if current == WAITING_DQM_GUI and to_state == RunStatus.OPEN.value:
        changes |= {
            f"{ws}_state": RunStatus.OPEN.value
            for ws, state in states.items()
            if state == WAITING_DQM_GUI and ws != GLOBAL
        }
    return changes


def settle_dataset(
    run: RunState,
    name: str,
    moves: Sequence[tuple[str, str]],
    attributes: Mapping[str, Any] | None = None,
    *,
    layer: Layer,
) -> list[Event]:
    """Several workspace moves of one dataset, each validated by `move_dataset`'s rules on the state the
    previous ones left (in the order given), plus other attributes (`attributes`, e.g. its DQM GUI samples),
    recorded as ONE attributes event: the DQM GUI pinger settles thousands of datasets per change set."""
    if name == ONLINE:
        raise InvalidInput("dataset", "the online dataset has no workspace states; move the run instead")
    settled = dict(run.dataset(name).attributes)
    for workspace, to_state in moves:
        settled |= _move_changes(run.run_number, name, settled, workspace, to_state, None, layer)
    return change_dataset_attributes(run, name, {**settled, **(attributes or {})})


def set_flags(
    run: RunState,
    *,
    dataset: str,
    component: str,
    first_ls: int,
    last_ls: int,
    status: str,
    comment: str = "",
    cause: str = "",
    layer: Layer,
    known_components: Iterable[str],
) -> list[Event]:
    """One range edit of one component. A manual edit is always recorded (it is a decision, and it shields
    the range from later automatic changes); an automatic one only where it changes something."""
    ds = run.dataset(dataset)
    if component not in set(known_components):
        raise InvalidInput("component", f"{component!r} is not a component of dataset {dataset!r}")
    _check_editable(run, ds, component, layer)
    allowed = USER_STATUSES | (SYSTEM_STATUSES if layer is Layer.AUTOMATIC else frozenset())
    if status not in allowed:
        raise InvalidInput("status", f"{status!r} is not one of {', '.join(sorted(allowed))}")
    comment = (comment or "").strip()
    if status == Status.BAD and len(comment) < MIN_BAD_COMMENT:
        raise InvalidInput(
            "comment", f"a BAD status needs a comment of at least {MIN_BAD_COMMENT} characters"
        )
    check_ls_range(run, first_ls, last_ls)
    triplet = {"status": status, "comment": comment, "cause": (cause or "").strip()}
    if layer is Layer.MANUAL:
        return [
            FlagsSet(
                name=dataset,
                first_ls=first_ls,
                last_ls=last_ls,
                component=component,
                triplet=triplet,
                layer=layer,
            )
        ]
    current = ds.flags.get(component, ComponentFlags()).automatic
    return [
        FlagsSet(name=dataset, first_ls=f, last_ls=last, component=component, triplet=triplet, layer=layer)
        for f, last, triplet in differences(current, RangeMap([(first_ls, last_ls, triplet)]))
    ]


def sync_automatic_flags(run: RunState, dataset: str, component: str, wanted: RangeMap) -> list[Event]:
    """Automatic flags for a whole component: events only for the sub-ranges that change."""
    current = run.dataset(dataset).flags.get(component, ComponentFlags()).automatic
    return automatic_flag_events(dataset, component, current, wanted)


def automatic_flag_events(dataset: str, component: str, current: RangeMap, wanted: RangeMap) -> list[Event]:
    """The automatic FlagsSet events that turn `current` into `wanted` (all of `wanted` when current is
    empty, e.g. for a dataset being created in the same change)."""
    return [
        FlagsSet(
            name=dataset,
            first_ls=f,
            last_ls=last,
            component=component,
            triplet=triplet,
            layer=Layer.AUTOMATIC,
        )
        for f, last, triplet in differences(current, wanted)
    ]


def sync_oms_values(run: RunState, dataset: str, wanted: Mapping[str, RangeMap]) -> list[Event]:
    """OMS per-LS values for whole keys; keys changing over the same range share one event."""
    current = run.dataset(dataset).oms if dataset in run.datasets else {}
    by_range: dict[tuple[int, int], dict[str, Any]] = {}
    for key, ranges in wanted.items():
        for first, last, value in differences(current.get(key, RangeMap()), ranges):
            by_range.setdefault((first, last), {})[key] = value
    return [
        OmsValuesSet(name=dataset, first_ls=first, last_ls=last, values=values)
        for (first, last), values in sorted(by_range.items())
    ]


def check_ls_range(run: RunState, first_ls: int, last_ls: int) -> None:
    ls_count = run.ls_count
    for name, value in (("first_ls", first_ls), ("last_ls", last_ls)):
        if not isinstance(value, int) or isinstance(value, bool):
            raise InvalidInput(name, f"must be an integer, got {value!r}")
    if first_ls < 1:
        raise InvalidInput("first_ls", f"must be at least 1, got {first_ls}")
    if first_ls > last_ls:
        raise InvalidInput("last_ls", f"must not be below first_ls ({first_ls}), got {last_ls}")
    if last_ls > ls_count:
        raise InvalidInput("last_ls", f"run {run.run_number} has {ls_count} lumisections, got {last_ls}")


def _check_editable(run: RunState, ds: DatasetState, component: str, layer: Layer) -> None:
    if ds.name == ONLINE:
        if run.status != RunStatus.OPEN:
            raise InvalidState(
                f"run {run.run_number} is {run.status}: "
                "online lumisections can only be edited while it is OPEN",
                details={"run_number": run.run_number, "state": run.status},
            )
        return
    if layer is not Layer.MANUAL:
        return
    workspace = split_component(component)[0] if "-" in component else ""
    state = ds.attributes.get(f"{workspace}_state")
    refusal = offline_edit_refusal(run, ds, component)
    if refusal:
        raise InvalidState(
            refusal,
            details={
                "run_number": run.run_number,
                "dataset": ds.name,
                "workspace": workspace,
                "state": state,
            },
        )


def offline_edit_refusal(run: RunState, ds: DatasetState, component: str) -> str | None:
    """Why a person may not edit `component`'s LS on an offline dataset now (None: they may): its
    workspace is not OPEN there. Pages draw the edit disabled with this reason."""
    workspace = split_component(component)[0] if "-" in component else ""
    state = ds.attributes.get(f"{workspace}_state")
    if state == RunStatus.OPEN.value:
        return None
    shown = "has no state" if state is None else f"is {state}"
    return (
        f"dataset {ds.name!r} of run {run.run_number} {shown} in workspace {workspace}: "
        "its lumisections can only be edited while it is OPEN there"
    )


def _check_rr_keys(rr: Mapping[str, Any]) -> None:
    unknown = sorted(set(rr) - RR_ATTRIBUTES)
    if unknown:
        raise InvalidInput(
            f"rr.{unknown[0]}", f"unknown RR attribute; known: {', '.join(sorted(RR_ATTRIBUTES))}"
        )


class _Missing:
    def __repr__(self) -> str:
        return "<missing>"


_MISSING: Any = _Missing()


# --------------------------------------------------------------------------------------------------
# Read models derived from state
# --------------------------------------------------------------------------------------------------
def triplet_summary(ds: DatasetState, ls_count: int) -> dict[str, dict[str, Any]]:
    """Per component: LS counts per status (uncovered LS count as EMPTY), distinct comments and causes."""
    summary: dict[str, dict[str, Any]] = {}
    for component, flags in sorted(ds.flags.items()):
        counts: dict[str, Any] = {Status.EMPTY.value: 0}
        comments: list[str] = []
        causes: list[str] = []
        effective = flags.effective()
        for first, last, triplet in effective.slice(1, ls_count) if ls_count else effective:
            status = triplet.get("status") or Status.EMPTY.value
            counts[status] = counts.get(status, 0) + last - first + 1
            for text, bucket in ((triplet.get("comment"), comments), (triplet.get("cause"), causes)):
                if text and text not in bucket:
                    bucket.append(text)
        if ls_count:
            counts[Status.EMPTY.value] += sum(last - first + 1 for first, last in effective.gaps(1, ls_count))
        summary[component] = {**counts, "comments": comments, "causes": causes}
    return summary


def dcs_summary(oms: Mapping[str, RangeMap], ls_count: int) -> dict[str, dict[str, int]]:
    """Per DCS bit: LS counts of TRUE, FALSE, NULL and EMPTY (no value)."""
    summary: dict[str, dict[str, int]] = {}
    for key, ranges in sorted(oms.items()):
        if key in LUMINOSITY_KEYS:
            continue
        counts = {"TRUE": 0, "FALSE": 0, "NULL": 0, "EMPTY": 0}
        for first, last, value in ranges.slice(1, ls_count):
            bucket = (
                "NULL" if value is None else "TRUE" if value is True else "FALSE" if value is False else None
            )
            if bucket:
                counts[bucket] += last - first + 1
        counts["EMPTY"] = sum(last - first + 1 for first, last in ranges.gaps(1, ls_count)) if ls_count else 0
        summary[key] = counts
    return summary


def luminosity(oms: Mapping[str, RangeMap], key: str) -> float:
    """Σ max(0, value) over LS; missing, null or negative values count as 0."""
    total = 0.0
    for first, last, value in oms.get(key, RangeMap()):
        if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
            total += value * (last - first + 1)
    return total


def ranges_as_dicts(ranges: Iterable[Range]) -> list[dict[str, Any]]:
    return [{"start": first, "end": last, **value} for first, last, value in ranges]
