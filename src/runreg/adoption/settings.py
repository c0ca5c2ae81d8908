"""Pure mapping of the original's versioned configuration (Item / List / Entries / Settings, rr_backend §3.5)
to runreg configuration documents, and of its permissions (e-group → URL regexes, §7) to named actions.

A route is translated only where its meaning is clear (the table below); every other route is reported, never
guessed. E-groups runreg has and the original does not (runreg's own services, ML agents) keep their grants.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

ONLINE_RUN = r"(?:/runs)?"
WS = r"([a-z0-9_]+)"
STATES = r"(OPEN|SIGNOFF|COMPLETED)"


def _grant(action: str, **target: Any) -> dict[str, Any]:
    return {"action": action, **target}


#: (route regex as the original's permission rows write it, grants it means). Matched on the whole route.
ROUTES: list[tuple[str, Any]] = [
    (r"\.\*|/\.\*|\^?/\.\*\$?", lambda m: [_grant("*")]),
    (
        rf"/datasets/{WS}/move_dataset/{STATES}/{STATES}",
        lambda m: [
            _grant(
                "registry:dataset:move",
                dataset="offline",
                workspace=m[1],
                from_state=m[2],
                to_state=m[3],
            )
        ],
    ),
    (
        rf"/dataset_lumisections/{WS}(?:\.\*)?",
        lambda m: [_grant("registry:flags:write", dataset="offline", workspace=m[1])],
    ),
    (rf"/cycles/move_dataset/{WS}/\.\*", lambda m: [_grant("datasets:cycle:move", workspace=m[1])]),
    (r"/cycles/\.\*", lambda m: [_grant("datasets:cycle:*")]),
    (r"/json_portal/generate", lambda m: [_grant("certification:json:create")]),
    (rf"{ONLINE_RUN}/manual_run_edit/\.\*/class", lambda m: [_grant("registry:run:edit_class")]),
    (rf"{ONLINE_RUN}/manual_run_edit/\.\*/stop_reason", lambda m: [_grant("registry:run:edit_stop_reason")]),
    (rf"{ONLINE_RUN}/move_run/\.\*", lambda m: [_grant("registry:run:move")]),
    (rf"{ONLINE_RUN}/mark_significant", lambda m: [_grant("registry:run:significant")]),
    (rf"{ONLINE_RUN}/refresh_run/\.\*", lambda m: [_grant("registry:run:refresh")]),
    (
        r"/lumisections/edit_rr_lumisections",
        lambda m: [_grant("registry:flags:write", dataset="online")],
    ),
    (r"/classifiers/\.\*", lambda m: [_grant("configuration:import")]),
]


@dataclass(frozen=True)
class SettingsRow:
    """One `Settings` row with the items of every family its lists reference."""

    id: int
    by: str
    created_at: datetime
    families: Mapping[str, list[dict[str, Any]]]
    #: WorkspaceColumn id -> (component key, mode)
    columns: Mapping[int, tuple[str, str]] = field(default_factory=dict)
    #: (workspace, mode) -> columns
    workspaces: Mapping[tuple[str, str], list[str]] = field(default_factory=dict)


def translate_routes(routes: list[str]) -> tuple[list[dict[str, Any]], list[str]]:
    """Grants for an e-group's route regexes, and the routes with no clear runreg meaning."""
    grants: list[dict[str, Any]] = []
    untranslated: list[str] = []
    for route in routes:
        for pattern, make in ROUTES:
            found = re.fullmatch(pattern, str(route).strip())
            if found:
                for grant in make(found):
                    if grant not in grants:
                        grants.append(grant)
                break
        else:
            untranslated.append(str(route))
    return _merge_moves(grants), untranslated


def _merge_moves(grants: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Dataset moves of one workspace from one state merge into one grant with the list of target states."""
    out: list[dict[str, Any]] = []
    index: dict[tuple[Any, ...], dict[str, Any]] = {}
    for grant in grants:
        if grant["action"] != "registry:dataset:move":
            out.append(grant)
            continue
        key = (grant.get("workspace"), grant.get("from_state"))
        if key in index:
            targets = index[key]["to_state"]
            if grant["to_state"] not in targets:
                targets.append(grant["to_state"])
            continue
        merged = {**grant, "to_state": [grant["to_state"]]}
        index[key] = merged
        out.append(merged)
    return out


def document(base: Mapping[str, Any], row: SettingsRow) -> tuple[dict[str, Any], list[str]]:
    """The runreg configuration document for one original Settings row, built on `base` (runreg's current
    document: workspaces, certifiable components and the e-groups the original lacks stay), and the notes
    on what could not be translated."""
    doc = copy.deepcopy(dict(base))
    notes: list[str] = []
    where = f"Settings {row.id}"
    workspaces = doc.setdefault("workspaces", [])
    for (name, mode), columns in row.workspaces.items():
        mine = next((w for w in workspaces if w["name"] == name and w["mode"] == mode), None)
        if mine is None:
            workspaces.append({"name": name, "mode": mode, "columns": list(columns)})
        else:
            mine["columns"] += [c for c in columns if c not in mine["columns"]]
    families = row.families
    doc["class_classifiers"] = [
        {"class": i["class"], "priority": i.get("priority") or 0, "enabled": bool(i.get("enabled")),
         "rule": i["classifier"]}
        for i in families.get("ClassClassifier", [])
    ]  # fmt: skip
    doc["significance_classifiers"] = [
        {"class": i["class"], "enabled": bool(i.get("enabled")), "rule": i["classifier"]}
        for i in families.get("DatasetClassifier", [])
    ]
    components = []
    for item in families.get("ComponentClassifier", []):
        column = row.columns.get(item.get("component"))
        if column is None:
            notes.append(f"{where}: component classifier {item['id']} names no known column; left out")
            continue
        components.append(
            {"component": column[0], "mode": column[1], "status": item["status"],
             "priority": item.get("priority") or 0, "enabled": bool(item.get("enabled")),
             "rule": item["classifier"]}
        )  # fmt: skip
    doc["component_classifiers"] = components
    doc["offline_dataset_classifiers"] = [
        {"workspace": i["workspace"], "enabled": bool(i.get("enabled")), "rule": i["classifier"]}
        for i in families.get("OfflineDatasetClassifier", [])
    ]
    doc["datasets_accepted"] = [
        {"name": i["name"], "class": i["class"], "run_from": i.get("run_from"), "run_to": i.get("run_to"),
         "enabled": bool(i.get("enabled")),
         "regexps": [r.strip() for r in (i.get("regexp") or "").splitlines() if r.strip()]}
        for i in families.get("DatasetsAccepted", [])
    ]  # fmt: skip
    doc["json_presets"] = [
        {
            "name": i["name"],
            "rule": i["classifier"],
            "description": f"imported (created by {i.get('created_by')})",
        }
        for i in families.get("JsonClassifier", [])
    ]
    permissions = [p for p in doc.get("permissions", [])]
    by_egroup = {p["egroup"]: p for p in permissions}
    for item in families.get("Permission", []):
        grants, untranslated = translate_routes(list(item.get("routes") or []))
        for route in untranslated:
            notes.append(
                f"{where}: e-group {item['egroup']}: route {route!r} has no clear runreg meaning; not granted"
            )
        entry = {"egroup": item["egroup"], "description": "imported from the original Run Registry",
                 "grants": grants}  # fmt: skip
        if item["egroup"] in by_egroup:
            by_egroup[item["egroup"]].clear()
            by_egroup[item["egroup"]].update(entry)
        else:
            permissions.append(entry)
            by_egroup[item["egroup"]] = entry
    doc["permissions"] = [p for p in permissions if p.get("grants")]
    return doc, notes
