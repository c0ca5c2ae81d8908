"""The original Run Registry's read shapes (rr_client §3.8, §4; rr_backend §4.4) computed from run state."""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Iterator, Mapping, Sequence
from typing import Any

from runreg.configuration.model import DatasetAccepted
from runreg.eventlog.store import LoggedEvent
from runreg.kernel.actors import ActorKind
from runreg.kernel.quality import EMPTY_TRIPLET
from runreg.kernel.ranges import RangeMap, same_value
from runreg.registry import model
from runreg.registry.model import OMS_LS_WHITELIST, ONLINE, RunState

#: The per-LS OMS keys the original keeps as DCS bits (rr_backend §2.2): the OMS ranges show only these.
#: The same list as `runreg.ingestion.model.LS_WHITELIST` (a test keeps them equal); it is repeated here
#: because the registry sits below ingestion and may not import it.
NO_OMS_DATA = "No data available for this lumisection"
IN_GUI = "datasets_in_gui"
HUMAN = ActorKind.HUMAN.value

Piece = tuple[int, int, dict[Any, Any]]


# -- per-LS arrays (their contract is one element per LS, so they materialise) ---------------------------
def rr_lumisections(run: RunState, dataset: str = ONLINE) -> list[dict[str, dict[str, str]]]:
    """Element i is LS i+1: every component of the dataset with its triplet, EMPTY where it has none."""
    flags = _flags(run, dataset)
    return [
        {c: dict(t) for c, t in value.items()}
        for start, end, value in _rr_pieces(flags)
        for _ in range(end - start + 1)
    ]


def oms_lumisections(run: RunState, dataset: str = ONLINE) -> list[dict[str, Any]]:
    """Element i is LS i+1: the OMS values the dataset sees (offline ones inherit the online values and may
    override them); an LS without any value is `{"err": "No data available for this lumisection"}`."""
    values = run.oms_values(dataset)
    return [
        dict(value) if value else {"err": NO_OMS_DATA}
        for start, end, value in _segments(values, _reach(values.values()))
        for _ in range(end - start + 1)
    ]


# -- ranges, computed from the stored ranges without expanding LS ------------------------------------------
def rr_ranges(run: RunState, dataset: str = ONLINE) -> list[dict[str, Any]]:
    """Maximal blocks of LS whose components hold the same triplets: `{<component>: triplet…, start, end}`."""
    return _as_dicts(_merged(_rr_pieces(_flags(run, dataset))))


def rr_ranges_by_component(run: RunState, dataset: str = ONLINE) -> dict[str, list[dict[str, Any]]]:
    """Per component, `[{status, comment, cause, start, end}]` over the dataset's LS. Where the component has
    no triplet the range carries only start and end, as in the original (rr_client §3.8)."""
    flags = _flags(run, dataset)
    last = _reach(flags.values())
    return {
        component: [
            {**value.get(component, {}), "start": start, "end": end}
            for start, end, value in _segments({component: ranges}, last)
        ]
        for component, ranges in flags.items()
    }


def oms_ranges(run: RunState, dataset: str = ONLINE) -> list[dict[str, Any]]:
    """Ranges of the whitelisted DCS bits (luminosity and other keys left out); an LS without any of them
    gives a range with only start and end."""
    values = run.oms_values(dataset)
    last = _reach(values.values())
    bits = {key: values[key] for key in OMS_LS_WHITELIST if key in values}
    return _as_dicts(_merged(_segments(bits, last)))


def oms_ranges_by_dcs_bit(run: RunState, dataset: str = ONLINE) -> dict[str, list[dict[str, Any]]]:
    """Per whitelisted OMS key the dataset sees (its overrides over the online values): `[{status: <value>,
    start, end}]`, maximal ranges of one value; where the key has no value the range has only start and
    end."""
    values = run.oms_values(dataset)
    last = _reach(values.values())
    return {
        key: [
            {**({"status": found[key]} if key in found else {}), "start": start, "end": end}
            for start, end, found in _segments({key: values[key]}, last)
        ]
        for key in OMS_LS_WHITELIST
        if key in values and values[key]
    }


def joint_ranges(run: RunState, dataset: str = ONLINE) -> list[dict[str, Any]]:
    """Ranges over the per-LS union of OMS values and RR triplets (RR keys win); the longer side sets the
    length, and each side fills its own holes as its per-LS array does."""
    oms = run.oms_values(dataset)
    flags = _flags(run, dataset)
    oms_last, rr_last = _reach(oms.values()), _reach(flags.values())
    keyed: dict[Hashable, RangeMap] = {("oms", k): m for k, m in oms.items()}
    keyed |= {("rr", c): m for c, m in flags.items()}

    def pieces() -> Iterator[Piece]:
        cuts = (oms_last + 1, rr_last + 1)
        for start, end, found in _segments(keyed, max(oms_last, rr_last), cuts):
            value: dict[str, Any] = {}
            if start <= oms_last:
                value = {k: v for (side, k), v in found.items() if side == "oms"} or {"err": NO_OMS_DATA}
            if start <= rr_last:
                value |= {c: found.get(("rr", c)) or _empty() for c in flags}
            yield start, end, value

    return _as_dicts(_merged(pieces()))


# -- records of the filtered listings (rr_client §4) -------------------------------------------------------
def run_record(
    *,
    run_number: int,
    oms_attributes: Mapping[str, Any],
    rr_attributes: Mapping[str, Any],
    version: int,
    triplet_summary: Mapping[str, Any],
    deleted: bool = False,
) -> dict[str, Any]:
    """The uncompressed Run the client receives; `triplet_summary` is that of the online dataset; `deleted`
    is runreg's hidden flag (the listings never return a hidden run, as the original never returned a
    deleted one)."""
    return {
        "run_number": run_number,
        "oms_attributes": dict(oms_attributes),
        "rr_attributes": dict(rr_attributes),
        "version": version,
        "deleted": deleted,
        "DatasetTripletCache": {"triplet_summary": dict(triplet_summary)},
    }


def dataset_record(
    *,
    run_number: int,
    name: str,
    dataset_attributes: Mapping[str, Any],
    version: int,
    rr_attributes: Mapping[str, Any],
    oms_attributes: Mapping[str, Any],
    triplet_summary: Mapping[str, Any],
    dcs_summary: Mapping[str, Any],
) -> dict[str, Any]:
    """The uncompressed Dataset the client receives, with its run's attributes under `Run`. runreg keeps the
    DQM GUI samples of a dataset in its attributes under `datasets_in_gui` (where the filters read them);
    they are shown apart, as the original's column. Datasets are never deleted: `deleted` says whether the DC
    tools hid it (attribute `hidden`, kept among the attributes with its `hidden_reason`)."""
    attributes = dict(dataset_attributes)
    in_gui = attributes.pop(IN_GUI, None)
    return {
        "run_number": run_number,
        "name": name,
        "dataset_attributes": attributes,
        "datasets_in_gui": list(in_gui) if isinstance(in_gui, list) else [],
        "deleted": model.is_hidden(attributes),
        "version": version,
        "Run": {"rr_attributes": dict(rr_attributes), "oms_attributes": dict(oms_attributes)},
        "DatasetTripletCache": {"triplet_summary": dict(triplet_summary), "dcs_summary": dict(dcs_summary)},
    }


def run_record_of(run: RunState) -> dict[str, Any]:
    """`run_record` from a run's full state (what write routes answer with)."""
    online = run.datasets.get(ONLINE)
    return run_record(
        run_number=run.run_number,
        oms_attributes=run.oms,
        rr_attributes=run.rr,
        version=run.version,
        triplet_summary=model.triplet_summary(online, run.ls_count) if online else {},
        deleted=run.hidden,
    )


def dataset_record_of(run: RunState, name: str) -> dict[str, Any]:
    """`dataset_record` from a run's full state."""
    ds = run.dataset(name)
    return dataset_record(
        run_number=run.run_number,
        name=name,
        dataset_attributes=ds.attributes,
        version=run.version,
        rr_attributes=run.rr,
        oms_attributes=run.oms,
        triplet_summary=model.triplet_summary(ds, run.ls_count),
        dcs_summary=model.dcs_summary(run.oms_values(name), run.ls_count),
    )


def all_dataset_names(run: RunState) -> list[str]:
    """`online` first, then the offline datasets by name (hidden ones too)."""
    return sorted(run.datasets, key=lambda name: (name != ONLINE, name))


def dataset_names(run: RunState) -> list[str]:
    """`online` first, then the offline datasets by name (not those hidden by the DC tools)."""
    return [name for name in all_dataset_names(run) if not model.is_hidden(run.datasets[name].attributes)]


def datasets_accepted_records(rules: Sequence[DatasetAccepted]) -> list[dict[str, Any]]:
    """The original's accepted-dataset rows: one regexp per line; `id` is the rule's position in the
    current configuration (rules have no identity of their own across versions)."""
    return [
        {
            "id": index,
            "name": rule.name,
            "regexp": "\n".join(rule.regexps),
            "enabled": rule.enabled,
            "class": rule.class_name,
            "run_from": rule.run_from,
            "run_to": rule.run_to,
        }
        for index, rule in enumerate(rules, start=1)
    ]


def lumisection_history_records(run_number: int, logged: Iterable[LoggedEvent]) -> list[dict[str, Any]]:
    """The original's LS history rows (get_rr/oms_lumisection_history) from flag or OMS events: version (the
    change set), manual_change, run_number, name (the dataset), start, end, by, comment, createdAt and `jsonb`
    (`{component: triplet}` or `{key: value}`; a cleared range shows null), automatic first, then by
    version."""
    rows = []
    for event in logged:
        payload = event.payload or {}
        if event.type == "FlagsSet":
            jsonb: dict[str, Any] = {payload["component"]: dict(payload["triplet"])}
        elif event.type == "FlagsCleared":
            jsonb = {payload["component"]: None}
        elif event.type == "OmsValuesSet":
            jsonb = dict(payload["values"])
        elif event.type == "OmsValuesCleared":
            jsonb = dict.fromkeys(payload["keys"])
        else:
            continue
        change_set = event.change_set
        # OMS events have no layer: a value is manual when a person set it (the original: not auto@auto).
        manual = event.manual if event.type.startswith("Flags") else change_set.actor_kind == HUMAN
        rows.append(
            (
                (manual, change_set.id, event.stream_version),
                {
                    "version": change_set.id,
                    "manual_change": manual,
                    "run_number": run_number,
                    "name": event.dataset,
                    "start": event.first_ls,
                    "end": event.last_ls,
                    "by": change_set.author,
                    "comment": change_set.comment,
                    "createdAt": change_set.created_at.isoformat(),
                    "jsonb": jsonb,
                },
            )
        )
    return [row for _, row in sorted(rows, key=lambda item: item[0])]


# -- the sweep -----------------------------------------------------------------------------------------------
def _empty() -> dict[str, str]:
    return EMPTY_TRIPLET.as_dict()  # a fresh dict each time: callers may change what they receive


def _flags(run: RunState, dataset: str) -> dict[str, RangeMap]:
    """Effective (manual over automatic) triplets of the components that hold any, by component name."""
    flags = {c: f.effective() for c, f in sorted(run.dataset(dataset).flags.items())}
    return {c: ranges for c, ranges in flags.items() if ranges}


def _reach(maps: Iterable[RangeMap]) -> int:
    """The last LS any map covers: the length of the original's positional array."""
    return max((ranges.last_ls for ranges in maps), default=0)


def _rr_pieces(flags: Mapping[str, RangeMap]) -> Iterator[Piece]:
    for start, end, found in _segments(flags, _reach(flags.values())):
        yield start, end, {c: found.get(c) or _empty() for c in flags}


def _segments(maps: Mapping[Any, RangeMap], last: int, cuts: Iterable[int] = ()) -> Iterator[Piece]:
    """Split LS 1..last at every range boundary of every map (and at `cuts`): within a piece no map changes.
    Each piece holds the values of the maps covering it. Cost O(boundaries × maps), whatever the LS count."""
    columns = [(key, ranges.items()) for key, ranges in maps.items()]
    bounds = {1, last + 1, *cuts}
    for _, ranges in columns:
        for first, end, _ in ranges:
            bounds.update((first, end + 1))
    points = sorted(b for b in bounds if 1 <= b <= last + 1)
    cursors = [0] * len(columns)
    for start, stop in zip(points, points[1:], strict=False):
        found: dict[Any, Any] = {}
        for index, (key, ranges) in enumerate(columns):
            i = cursors[index]
            while i < len(ranges) and ranges[i][1] < start:
                i += 1
            cursors[index] = i
            if i < len(ranges) and ranges[i][0] <= start:
                found[key] = ranges[i][2]
        yield start, stop - 1, found


def _merged(pieces: Iterable[Piece]) -> list[Piece]:
    """Join neighbouring pieces with deep-equal values (e.g. a stored EMPTY next to a hole shown as EMPTY)."""
    out: list[Piece] = []
    for start, end, value in pieces:
        if out and out[-1][1] + 1 == start and same_value(out[-1][2], value):
            out[-1] = (out[-1][0], end, out[-1][2])
        else:
            out.append((start, end, value))
    return out


def _as_dicts(pieces: Iterable[Piece]) -> list[dict[str, Any]]:
    return [{**value, "start": start, "end": end} for start, end, value in pieces]
