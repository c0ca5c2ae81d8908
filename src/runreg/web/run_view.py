"""Pure helpers of the run page: attribute groups, LS bars, per-component history, LS tables, rules."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from markupsafe import Markup, escape

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


def component_order(run: RunState, config: Configuration, dataset: str = ONLINE) -> list[tuple[str, bool]]:
    """(component, certifiable) for the certifiable components of the dataset's mode (online for the online
    dataset, offline for the others), then the other components the dataset holds flags for, by name."""
    certifiable = config.certifiable_components("online" if dataset == ONLINE else "offline")
    ds = run.datasets.get(dataset)
    others = sorted(c for c in (ds.flags if ds else {}) if c not in set(certifiable))
    return [(c, True) for c in certifiable] + [(c, False) for c in others]


def ls_bar(ranges: RangeMap, ls_count: int) -> list[dict[str, Any]]:
    """A component's LS as consecutive segments over 1..ls_count (uncovered LS are EMPTY), each with its
    position and width in LS for a proportional drawing."""
    total = max(ls_count, ranges.last_ls if ranges else 0)
    pieces = [(first, last, value) for first, last, value in ranges.slice(1, total)] if total else []
    pieces += [(first, last, {}) for first, last in ranges.gaps(1, total)] if total else []
    out = []
    for first, last, value in sorted(pieces, key=lambda piece: piece[0]):
        status = value.get("status") or Status.EMPTY.value
        out.append(
            {
                "first": first,
                "last": last,
                "status": status,
                "css": status.replace(" ", "_"),
                "comment": value.get("comment", ""),
                "cause": value.get("cause", ""),
                "x": first - 1,
                "width": last - first + 1,
            }
        )
    return out


def lsbar_svg(component: str, segments: Sequence[Mapping[str, Any]]) -> Markup:
    """A component's segments (ls_bar) as a proportional SVG bar, one rect per segment with its LS range,
    status, comment and cause on hover. Built here, not in the template: a long run has hundreds of
    segments per page and this is the page's hottest loop."""
    last = segments[-1]["last"] if segments else 0
    rects = []
    for s in segments:
        span = f"{s['first']}–{s['last']}" if s["last"] != s["first"] else f"{s['first']}"
        title = f"LS {span}: {s['status']}"
        title += f" — {s['comment']}" if s["comment"] else ""
        title += f" (cause: {s['cause']})" if s["cause"] else ""
        rects.append(
            f'<rect x="{s["x"]}" width="{s["width"]}" y="0" height="10" class="{s["css"]}" '
            f'data-first="{s["first"]}" data-last="{s["last"]}" data-status="{escape(s["status"])}">'
            f"<title>{escape(title)}</title></rect>"
        )
    return Markup(
        f'<svg class="lsbar" viewBox="0 0 {last} 10" preserveAspectRatio="none" role="img" '
        f'aria-label="{escape(component)}: statuses of LS 1–{last}">{"".join(rects)}</svg>'
    )


def axis_ticks(ls_count: int) -> list[int]:
    """LS numbers to print under a bar: the first, the last, and a few round numbers between."""
    if ls_count <= 1:
        return [1] if ls_count == 1 else []
    step = next(s for s in (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000) if ls_count / s <= 8)
    return sorted({1, *range(step, ls_count, step), ls_count})


@dataclass(frozen=True)
class HistoryEntry:
    """One change set's changes to one thing: who (kind: manual, automatic or agent) wrote what, in which
    layer; for a component, the LS ranges it set as (first, last, status, comment, cause)."""

    change_set: ChangeSet
    kind: str
    layer: str
    what: str = ""
    ranges: list[tuple[int, int, str, str, str]] = field(default_factory=list)


def _entry(event: LoggedEvent, what: str = "") -> HistoryEntry:
    kind = KIND_LABELS.get(event.change_set.actor_kind, event.change_set.actor_kind)
    return HistoryEntry(event.change_set, kind, "manual" if event.manual else "automatic", what)


def component_history(log: Iterable[LoggedEvent], dataset: str = ONLINE) -> dict[str, list[HistoryEntry]]:
    """Per component, one entry per change set that touched it (newest first, as the log), with the ranges
    it set in LS order; a cleared range has the status "cleared"."""
    out: dict[str, list[HistoryEntry]] = {}
    for event in log:
        if event.dataset != dataset or event.target is None or event.type not in ("FlagsSet", "FlagsCleared"):
            continue
        entries = out.setdefault(event.target, [])
        if not entries or entries[-1].change_set.id != event.change_set.id:
            entries.append(_entry(event))
        triplet = (event.payload or {}).get("triplet") or {}
        status = triplet.get("status", "") if event.type == "FlagsSet" else "cleared"
        entries[-1].ranges.append(
            (
                event.first_ls or 0,
                event.last_ls or 0,
                status,
                triplet.get("comment", ""),
                triplet.get("cause", ""),
            )
        )
    for entries in out.values():
        for entry in entries:
            entry.ranges.sort()
    return out


def run_history(log: Iterable[LoggedEvent]) -> list[HistoryEntry]:
    """Every change set of the log (newest first) with what it did to the run: creation, RR attribute
    changes (class, state, stop reason, significance), the OMS keys it updated, the flags it set."""
    out: list[HistoryEntry] = []
    parts: dict[int, list[str]] = {}
    flags: dict[int, dict[str, list[tuple[int, int, str]]]] = {}
    for event in log:
        if not out or out[-1].change_set.id != event.change_set.id:
            out.append(_entry(event))
            parts[event.change_set.id], flags[event.change_set.id] = [], {}
        said, payload = parts[event.change_set.id], event.payload or {}
        if event.type == "RunCreated":
            said.insert(0, "run created")
        elif event.type == "RunAttributesChanged":
            rr = payload.get("rr", {})
            said += [f"{k} → {shown(v) or '(empty)'}" for k, v in sorted(rr.items())]
            if payload.get("oms"):
                said.append(f"OMS: {', '.join(sorted(payload['oms']))}")
        elif event.type == "RunVisibilityChanged":
            hidden = payload.get("hidden")
            said.append(f"run hidden ({payload.get('reason', '')})" if hidden else "run shown again")
        elif event.type in ("FlagsSet", "FlagsCleared") and event.target:
            status = (
                ((payload.get("triplet") or {}).get("status", "")) if event.type == "FlagsSet" else "cleared"
            )
            flags[event.change_set.id].setdefault(event.target, []).append(
                (event.first_ls or 0, event.last_ls or 0, status)
            )
        elif event.type == "DatasetCreated":
            said.insert(
                0, f"dataset {payload.get('name', event.dataset)} created" if payload else "dataset created"
            )
        elif event.type == "DatasetAttributesChanged" and payload:
            attributes = payload.get("attributes") or {}
            said += [f"{k} → {shown(v) or '(empty)'}" for k, v in sorted(attributes.items())]
        elif event.type == "OmsValuesSet" and payload:
            values = payload.get("values") or {}
            said += [
                f"{k}: LS {event.first_ls}–{event.last_ls} → {shown(v)}" for k, v in sorted(values.items())
            ]
        elif event.type.startswith("OmsValues") and "OMS LS values" not in said:
            said.append("OMS LS values")
    return [
        HistoryEntry(
            entry.change_set,
            entry.kind,
            entry.layer,
            "; ".join(parts[entry.change_set.id] + _flags_said(flags[entry.change_set.id])),
        )
        for entry in out
    ]


def _flags_said(flags: Mapping[str, list[tuple[int, int, str]]]) -> list[str]:
    """One component's few ranges in full (`dt-dt: LS 10–20 BAD`); many components as a count."""
    if len(flags) > 3:
        return [f"flags of {len(flags)} components"]
    return [
        f"{component}: "
        + ", ".join(f"LS {first}–{last} {status}" for first, last, status in sorted(ranges)[:4])
        + (f" and {len(ranges) - 4} more" if len(ranges) > 4 else "")
        for component, ranges in sorted(flags.items())
    ]


# -- the LS table ------------------------------------------------------------------------------------------
LS_VIEWS = ("rr", "oms", "joint")


def ls_table(
    run: RunState,
    view: str,
    components: Sequence[str],
    *,
    limit: int | None = None,
    dataset: str = ONLINE,
) -> dict[str, Any]:
    """Ranges of LS of a dataset with the same values (registry.readmodels), as columns and rows to draw
    (the first `limit` rows). DCS bits come first in the registry's whitelist order, then other OMS keys,
    then components in page order. An offline dataset sees the online OMS values with its corrections."""
    if view == "oms":
        rows = readmodels.oms_ranges(run, dataset)
    elif view == "joint":
        rows = readmodels.joint_ranges(run, dataset)
    else:
        rows = readmodels.rr_ranges(run, dataset)
    oms_keys = set(run.oms_values(dataset)) if dataset in run.datasets else set()
    present: set[str] = {key for row in rows for key in row} - {"start", "end", "err"}
    bits = [key for key in OMS_LS_WHITELIST if key in present]
    component_columns = [c for c in components if c in present]
    component_columns += sorted(present - set(bits) - set(component_columns) - oms_keys)
    other_oms = sorted((present & oms_keys) - set(bits))
    columns = [(k, "oms") for k in bits + other_oms] + [(c, "rr") for c in component_columns]
    shown_rows = rows if limit is None else rows[:limit]
    return {"view": view, "columns": columns, "rows": shown_rows, "total": len(rows), "dataset": dataset}


def ls_table_body(table: Mapping[str, Any], run_number: int, as_of: int | None = None) -> Markup:
    """The LS table's rows as HTML: ranges × columns is thousands of cells for a long run, the hottest loop
    of that partial. For the online dataset the LS range links to the why trace of its first LS (the
    classifiers explained are the online ones)."""
    columns = [key for key, _ in table["columns"]]
    suffix = f"&as_of={as_of}" if as_of is not None else ""
    why = table.get("dataset", ONLINE) == ONLINE
    out = []
    for row in table["rows"]:
        start, end = row["start"], row["end"]
        span = f"{start}–{end}" if end != start else f"{start}"
        cells = [
            f'<tr><td class="num lsnum"><a href="#why" hx-get="/runs/{run_number}/why?ls={start}{suffix}" '
            f'hx-target="#why" hx-swap="outerHTML">{span}</a></td>'
            if why
            else f'<tr><td class="num lsnum">{span}</td>'
        ]
        cells += [_cell(key, row) for key in columns]
        cells.append("</tr>")
        out.append("".join(cells))
    if not out:
        out.append(
            f'<tr><td colspan="{len(columns) + 1}" class="empty">No lumisection values in this view.</td>'
            "</tr>"
        )
    return Markup("\n".join(out))


def _cell(column: str, row: Mapping[str, Any]) -> str:
    if column not in row:
        return '<td class="tick null"></td>'
    value, key = row[column], escape(column)
    if isinstance(value, Mapping):
        status = value.get("status") or Status.EMPTY.value
        title = f' title="{escape(value["comment"])}"' if value.get("comment") else ""
        return f'<td><span class="pill {status.replace(" ", "_")}"{title}>{escape(status)}</span></td>'
    if value is True:
        return f'<td class="tick yes" title="{key} true">✓</td>'
    if value is False:
        return f'<td class="tick no" title="{key} false">✗</td>'
    if value is None:
        return f'<td class="tick null" title="{key}: null">∅</td>'
    return f'<td class="val">{escape(str(value))}</td>'


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
