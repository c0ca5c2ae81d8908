"""The online tables' filter builder and sorting, kept in the URL, turned into the table filter language."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from runreg.kernel.errors import InvalidInput

#: Builder fields: (URL parameter, label, filter-language key, operator). Numbers parse as numbers.
RANGES = [
    ("run_min", "Run from", "run_number", ">="),
    ("run_max", "Run to", "run_number", "<="),
    ("b_field_min", "B field ≥ (T)", "oms_attributes.b_field", ">="),
    ("b_field_max", "B field ≤ (T)", "oms_attributes.b_field", "<="),
    ("energy_min", "Energy ≥ (GeV)", "oms_attributes.energy", ">="),
    ("energy_max", "Energy ≤ (GeV)", "oms_attributes.energy", "<="),
    ("ls_min", "LS ≥", "oms_attributes.ls_duration", ">="),
    ("ls_max", "LS ≤", "oms_attributes.ls_duration", "<="),
]
TEXTS = [
    ("class", "Class", "rr_attributes.class"),
    ("hlt_key", "HLT key contains", "oms_attributes.hlt_key"),
]
STATES = ("OPEN", "SIGNOFF", "COMPLETED")
#: Columns one can sort on: (URL key, filter-language key).
SORTABLE = {
    "run": "run_number",
    "class": "rr_attributes.class",
    "state": "rr_attributes.state",
    "start": "oms_attributes.start_time",
    "hlt_key": "oms_attributes.hlt_key",
    "ls": "oms_attributes.ls_duration",
}
MAX_TEXT = 200


@dataclass
class TableQuery:
    """What a person asked of the run tables, exactly as it appears in the URL."""

    values: dict[str, str] = field(default_factory=dict)
    sort: str = "run"
    descending: bool = True
    page: int = 0
    significant_page: int = 0
    live: bool = False

    @classmethod
    def from_params(cls, params: Mapping[str, str]) -> TableQuery:
        names = {name for name, *_ in RANGES} | {name for name, *_ in TEXTS}
        names |= {"state", "significant", "component", "component_status", "raw"}
        values = {k: str(params[k]).strip()[:MAX_TEXT] for k in names if str(params.get(k, "")).strip()}
        sort, _, direction = str(params.get("sort", "run:desc")).partition(":")
        if sort not in SORTABLE:
            raise InvalidInput("sort", f"{sort[:40]!r} is not a sortable column ({', '.join(SORTABLE)})")
        return cls(
            values=values,
            sort=sort,
            descending=direction != "asc",
            page=_page(params, "page"),
            significant_page=_page(params, "significant_page"),
            live=str(params.get("live", "")) in ("1", "on", "true"),
        )

    def to_filter(self) -> dict[str, Any]:
        """The table filter language (rr_client §5.1): every field an `and`; the raw JSON joins them."""
        parts: list[dict[str, Any]] = []
        for name, _label, key, op in RANGES:
            if name in self.values:
                parts.append({key: {op: _number(name, self.values[name])}})
        for name, _label, key in TEXTS:
            if name in self.values:
                text = self.values[name]
                parts.append({key: {"like": text if "%" in text else f"%{text}%"}})
        if "state" in self.values:
            if self.values["state"] not in STATES:
                raise InvalidInput("state", f"must be one of {', '.join(STATES)}")
            parts.append({"rr_attributes.state": self.values["state"]})
        if self.values.get("significant") in ("yes", "no"):
            parts.append({"rr_attributes.significant": self.values["significant"] == "yes"})
        if "component" in self.values:
            status = self.values.get("component_status", "BAD")
            parts.append({f"triplet_summary.{self.values['component']}.{status}": {">": 0}})
        if "raw" in self.values:
            try:
                raw = json.loads(self.values["raw"])
            except ValueError as exc:
                raise InvalidInput("raw", f"not JSON: {exc}") from None
            if not isinstance(raw, dict):
                raise InvalidInput("raw", "must be a JSON object of the filter language")
            parts.append(raw)
        if not parts:
            return {}
        return parts[0] if len(parts) == 1 else {"and": parts}

    def sortings(self) -> list[list[str]]:
        return [[SORTABLE[self.sort], "DESC" if self.descending else "ASC"]]

    def params(self, **changes: Any) -> dict[str, Any]:
        """The URL parameters of this query with `changes` applied (links for sorting and paging)."""
        out: dict[str, Any] = dict(self.values)
        out["sort"] = f"{self.sort}:{'desc' if self.descending else 'asc'}"
        out["page"] = self.page or None
        out["significant_page"] = self.significant_page or None
        out["live"] = 1 if self.live else None
        out.update(changes)
        return {k: v for k, v in out.items() if v not in (None, "", 0)}

    def sort_link(self, column: str) -> dict[str, Any]:
        """Clicking a header sorts by it, descending first; clicking it again flips the direction."""
        descending = not (self.sort == column and self.descending)
        return self.params(
            sort=f"{column}:{'desc' if descending else 'asc'}", page=None, significant_page=None
        )


def _number(name: str, text: str) -> float | int:
    try:
        value = float(text)
    except ValueError:
        raise InvalidInput(name, f"{text[:40]!r} is not a number") from None
    return int(value) if value.is_integer() and "." not in text else value


def _page(params: Mapping[str, str], name: str) -> int:
    text = str(params.get(name, "0") or "0")
    if not text.isdigit() or int(text) > 100_000:
        raise InvalidInput(name, "must be a page number between 0 and 100000")
    return int(text)
