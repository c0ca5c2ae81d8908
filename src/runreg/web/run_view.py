"""Pure helpers of the run page: attribute groups, LS bars, per-component history, LS tables, rules."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from runreg.configuration.model import Configuration
from runreg.eventlog.store import ChangeSet, LoggedEvent
from runreg.ingestion.why import MISSING
from runreg.kernel.quality import Status
from runreg.kernel.ranges import RangeMap
from runreg.registry import readmodels
from runreg.registry.model import OMS_LS_WHITELIST, ONLINE, RunState

#: OMS run attributes shown first, grouped as a shifter reads them: (group, [(key, label, unit)]).
OMS_GROUPS: list[tuple[str, list[tuple[str, str, str]]]] = [
    (
        "Run",
        [
            ("start_time", "Started", ""),
            ("end_time", "Ended", ""),
            ("duration", "Duration", "s"),
            ("ls_duration", "Lumisections", ""),
            ("sequence", "Sequence", ""),
            ("clock_type", "Clock", ""),
            ("cmssw_version", "CMSSW", ""),
        ],
    ),
    (
        "LHC",
        [
            ("fill_number", "Fill", ""),
            ("energy", "Energy", "GeV"),
            ("injection_scheme", "Injection scheme", ""),
            ("fill_type_runtime", "Fill type", ""),
            ("stable_beam", "Stable beam", ""),
            ("beams_present_and_stable", "Beams present and stable", ""),
        ],
    ),
    ("Magnet and detector", [("b_field", "B field", "T"), ("components", "Components", "")]),
    (
        "Trigger",
        [
            ("hlt_key", "HLT key", ""),
            ("l1_key", "L1 key", ""),
            ("l1_menu", "L1 menu", ""),
            ("trigger_mode", "Trigger mode", ""),
            ("hlt_physics_rate", "HLT physics rate", "Hz"),
            ("hlt_physics_counter", "HLT physics events", ""),
            ("l1_rate", "L1 rate", "Hz"),
            ("l1_triggers_counter", "L1 triggers", ""),
        ],
    ),
    (
        "Luminosity",
        [
            ("delivered_lumi", "Delivered", "pb⁻¹"),
            ("recorded_lumi", "Recorded", "pb⁻¹"),
            ("init_lumi", "Initial instantaneous", "10³⁰ cm⁻²s⁻¹"),
            ("end_lumi", "Final instantaneous", "10³⁰ cm⁻²s⁻¹"),
        ],
    ),
]
RR_FIELDS = [
    ("class", "Class"),
    ("significant", "Significant"),
    ("state", "State"),
    ("stop_reason", "Stop reason"),
    ("short_run", "Short run"),
]
KIND_LABELS = {"human": "manual", "automatic": "automatic", "agent": "agent"}
HISTORY_LIMIT = 40


def shown(value: Any) -> str:
    """A value as a person reads it: text as is, lists joined, JSON for the rest, `missing` where none."""
    if value is MISSING:
        return "missing"
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return ", ".join(value)
    return json.dumps(value)


def attribute_groups(oms: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The OMS attributes in OMS_GROUPS (those the run has), then every other one under "Other"."""
    listed = {key for _, fields in OMS_GROUPS for key, _, _ in fields}
    groups = [
        {
            "title": title,
            "rows": [
                {"key": key, "label": label, "value": oms[key], "unit": unit}
                for key, label, unit in fields
                if key in oms
            ],
        }
        for title, fields in OMS_GROUPS
    ]
    other = [
        {"key": key, "label": key, "value": oms[key], "unit": ""} for key in sorted(oms) if key not in listed
    ]
    groups.append({"title": "Other OMS attributes", "rows": other, "collapsed": True})
    return [group for group in groups if group["rows"]]


def rr_rows(run: RunState) -> list[dict[str, Any]]:
    """RR attributes with the layer that holds each (a person's decision shows over the automatic one)."""
    rr = run.rr
    return [
        {
            "key": key,
            "label": label,
            "value": rr.get(key),
            "layer": "manual" if key in run.rr_manual else "automatic" if key in run.rr_automatic else "",
        }
        for key, label in RR_FIELDS
        if key in rr
    ]


def component_order(run: RunState, config: Configuration) -> list[tuple[str, bool]]:
    """(component, certifiable) for the certifiable online components, then the other components the
    online dataset holds flags for, by name."""
    certifiable = config.certifiable_components("online")
    online = run.datasets.get(ONLINE)
    others = sorted(c for c in (online.flags if online else {}) if c not in set(certifiable))
    return [(c, True) for c in certifiable] + [(c, False) for c in others]


def ls_bar(ranges: RangeMap, ls_count: int) -> list[dict[str, Any]]:
    """A component's LS as consecutive segments over 1..ls_count (uncovered LS are EMPTY), each with its
    position and width in LS for a proportional drawing."""
    total = max(ls_count, ranges.last_ls if ranges else 0)
    pieces = [(first, last, value) for first, last, value in ranges.slice(1, total)] if total else []
    pieces += [(first, last, {}) for first, last in ranges.gaps(1, total)] if total else []
    return [
        {
            "first": first,
            "last": last,
            "status": value.get("status") or Status.EMPTY.value,
            "comment": value.get("comment", ""),
            "cause": value.get("cause", ""),
            "x": first - 1,
            "width": last - first + 1,
        }
        for first, last, value in sorted(pieces, key=lambda piece: piece[0])
    ]


def axis_ticks(ls_count: int) -> list[int]:
    """LS numbers to print under a bar: the first, the last, and a few round numbers between."""
    if ls_count <= 1:
        return [1] if ls_count == 1 else []
    step = next(s for s in (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000) if ls_count / s <= 8)
    return sorted({1, *range(step, ls_count, step), ls_count})


@dataclass(frozen=True)
class HistoryEntry:
    change_set: ChangeSet
    kind: str  # manual | automatic | agent: who made the change
    layer: str  # manual | automatic: which layer it was written to
    what: str
    first_ls: int | None = None
    last_ls: int | None = None
    status: str = ""
    comment: str = ""
    cause: str = ""


def _entry(event: LoggedEvent, what: str, **fields: Any) -> HistoryEntry:
    kind = KIND_LABELS.get(event.change_set.actor_kind, event.change_set.actor_kind)
    return HistoryEntry(event.change_set, kind, "manual" if event.manual else "automatic", what, **fields)


def component_history(log: Iterable[LoggedEvent], dataset: str = ONLINE) -> dict[str, list[HistoryEntry]]:
    """Per component, its flag changes newest first (the log is newest first)."""
    out: dict[str, list[HistoryEntry]] = {}
    for event in log:
        if event.dataset != dataset or event.target is None or event.type not in ("FlagsSet", "FlagsCleared"):
            continue
        triplet = (event.payload or {}).get("triplet") or {}
        out.setdefault(event.target, []).append(
            _entry(
                event,
                "set" if event.type == "FlagsSet" else "cleared",
                first_ls=event.first_ls,
                last_ls=event.last_ls,
                status=triplet.get("status", ""),
                comment=triplet.get("comment", ""),
                cause=triplet.get("cause", ""),
            )
        )
    return out


def run_history(log: Iterable[LoggedEvent]) -> list[HistoryEntry]:
    """The run's own changes newest first: creation and RR attribute changes (class, state, stop reason,
    significance); OMS-only updates are named by the keys they changed."""
    out = []
    for event in log:
        payload = event.payload or {}
        if event.type == "RunCreated":
            out.append(_entry(event, "run created"))
        elif event.type == "RunAttributesChanged":
            rr = ", ".join(f"{k} → {shown(v) or '(empty)'}" for k, v in sorted(payload.get("rr", {}).items()))
            oms = sorted(payload.get("oms", {}))
            parts = ([rr] if rr else []) + ([f"OMS: {', '.join(oms)}"] if oms else [])
            out.append(_entry(event, "; ".join(parts) or "attributes"))
    return out


# -- the LS table ------------------------------------------------------------------------------------------
LS_VIEWS = ("rr", "oms", "joint")


def ls_table(run: RunState, view: str, components: Sequence[str]) -> dict[str, Any]:
    """Ranges of LS with the same values (registry.readmodels), as columns and rows to draw. DCS bits come
    first in the registry's whitelist order, then other OMS keys, then components in page order."""
    if view == "oms":
        rows = readmodels.oms_ranges(run)
    elif view == "joint":
        rows = readmodels.joint_ranges(run)
    else:
        rows = readmodels.rr_ranges(run)
    present: set[str] = {key for row in rows for key in row} - {"start", "end", "err"}
    bits = [key for key in OMS_LS_WHITELIST if key in present]
    component_columns = [c for c in components if c in present]
    component_columns += sorted(present - set(bits) - set(component_columns) - _oms_keys(run))
    other_oms = sorted((present & _oms_keys(run)) - set(bits))
    columns = [(k, "oms") for k in bits + other_oms] + [(c, "rr") for c in component_columns]
    return {"view": view, "columns": columns, "rows": rows}


def _oms_keys(run: RunState) -> set[str]:
    online = run.datasets.get(ONLINE)
    return set(online.oms) if online else set()


# -- rules, readably ---------------------------------------------------------------------------------------
INFIX = {"==", "!=", "===", "!==", "<", "<=", ">", ">=", "in", "+", "-", "*", "/", "%"}


def rule_text(rule: Any) -> str:
    """A JSON-logic node written the way one reads it: `dtp_ready == true`, `not castor_included`,
    `"/cdaq/" in hlt_key`; anything else as compact JSON."""
    if isinstance(rule, dict) and len(rule) == 1:
        ((op, args),) = rule.items()
        values = args if isinstance(args, list) else [args]
        if op == "var":
            return str(values[0]) if values else "data"
        if op in INFIX and len(values) == 2:
            return f"{rule_text(values[0])} {op} {rule_text(values[1])}"
        if op == "!" and len(values) == 1:
            return f"not {rule_text(values[0])}"
        if op == "!!" and len(values) == 1:
            return f"{rule_text(values[0])} is truthy"
        if op in ("and", "or"):
            return f" {op} ".join(f"({rule_text(v)})" for v in values)
        if op == "<=" and len(values) == 3 or op == "<" and len(values) == 3:
            return f" {op} ".join(rule_text(v) for v in values)
    return json.dumps(rule, separators=(", ", ": "))
