"""The tables' filter builder and sorting, kept in the URL, turned into the table filter language. One
machinery for the online run tables and the offline dataset tables: a `TableSpec` says which fields, states,
sortable columns, page parameters and display toggles a table has."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from runreg.kernel.errors import InvalidInput
from runreg.registry import service as registry
from runreg.storage.database import Database

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
MAX_PAGE = 100_000


@dataclass(frozen=True)
class TableSpec:
    """What one page's tables offer: builder fields, the state a `state` choice filters on, sortable
    columns, the page parameter of each table, and on/off display options kept in the URL."""

    ranges: list[tuple[str, str, str, str]]
    texts: list[tuple[str, str, str]]
    sortable: dict[str, str]
    state_key: str
    states: tuple[str, ...] = STATES
    page_params: tuple[str, ...] = ("page",)
    toggles: tuple[str, ...] = ()
    #: Whether the builder has the online tables' `significant` choice.
    significant: bool = False

    @property
    def names(self) -> set[str]:
        names = {name for name, *_ in self.ranges} | {name for name, *_ in self.texts}
        names |= {"state", "component", "component_status", "raw"}
        return names | ({"significant"} if self.significant else set())


ONLINE_TABLES = TableSpec(
    ranges=RANGES,
    texts=TEXTS,
    sortable=SORTABLE,
    state_key="rr_attributes.state",
    page_params=("page", "significant_page"),
    toggles=("live",),
    significant=True,
)


@dataclass
class TableQuery:
    """What a person asked of a page's tables, exactly as it appears in the URL."""

    values: dict[str, str] = field(default_factory=dict)
    sort: str = "run"
    descending: bool = True
    pages: dict[str, int] = field(default_factory=dict)
    toggles: frozenset[str] = frozenset()
    spec: TableSpec = ONLINE_TABLES

    @classmethod
    def from_params(cls, params: Mapping[str, str], spec: TableSpec = ONLINE_TABLES) -> TableQuery:
        values = {k: str(params[k]).strip()[:MAX_TEXT] for k in spec.names if str(params.get(k, "")).strip()}
        sort, _, direction = str(params.get("sort", "run:desc")).partition(":")
        if sort not in spec.sortable:
            raise InvalidInput("sort", f"{sort[:40]!r} is not a sortable column ({', '.join(spec.sortable)})")
        return cls(
            values=values,
            sort=sort,
            descending=direction != "asc",
            pages={name: _page(params, name) for name in spec.page_params},
            toggles=frozenset(t for t in spec.toggles if str(params.get(t, "")) in ("1", "on", "true")),
            spec=spec,
        )

    @classmethod
    def unparsed(cls, params: Mapping[str, str], spec: TableSpec = ONLINE_TABLES) -> TableQuery:
        """The URL as typed, when it does not parse: the builder shows it back next to the error."""
        return cls(values=dict(params), spec=spec)

    @property
    def page(self) -> int:
        return self.pages.get("page", 0)

    @property
    def significant_page(self) -> int:
        return self.pages.get("significant_page", 0)

    @property
    def live(self) -> bool:
        return "live" in self.toggles

    def page_of(self, param: str) -> int:
        return self.pages.get(param, 0)

    def to_filter(self, *, with_state: bool = True) -> dict[str, Any]:
        """The table filter language (rr_client §5.1): every field an `and`; the raw JSON joins them.
        `with_state=False` leaves the state choice out (a table whose rows are all in another state)."""
        parts: list[dict[str, Any]] = []
        for name, _label, key, op in self.spec.ranges:
            if name in self.values:
                parts.append({key: {op: _number(name, self.values[name])}})
        for name, _label, key in self.spec.texts:
            if name in self.values:
                text = self.values[name]
                parts.append({key: {"like": text if "%" in text else f"%{text}%"}})
        if "state" in self.values and with_state:
            if self.values["state"] not in self.spec.states:
                raise InvalidInput("state", f"must be one of {', '.join(self.spec.states)}")
            parts.append({self.spec.state_key: self.values["state"]})
        if self.spec.significant and self.values.get("significant") in ("yes", "no"):
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
        return both(*parts)

    def sortings(self) -> list[list[str]]:
        return [[self.spec.sortable[self.sort], "DESC" if self.descending else "ASC"]]

    def params(self, **changes: Any) -> dict[str, Any]:
        """The URL parameters of this query with `changes` applied (links for sorting and paging)."""
        out: dict[str, Any] = dict(self.values)
        out["sort"] = f"{self.sort}:{'desc' if self.descending else 'asc'}"
        out.update({name: number or None for name, number in self.pages.items()})
        out.update({toggle: 1 for toggle in sorted(self.toggles)})
        out.update(changes)
        return {k: v for k, v in out.items() if v not in (None, "", 0)}

    def sort_link(self, column: str) -> dict[str, Any]:
        """Clicking a header sorts by it, descending first; clicking it again flips the direction."""
        descending = not (self.sort == column and self.descending)
        return self.params(
            sort=f"{column}:{'desc' if descending else 'asc'}", **dict.fromkeys(self.spec.page_params)
        )

    def toggle_link(self, toggle: str) -> dict[str, Any]:
        """The same view with a display option switched."""
        return self.params(**{toggle: None if toggle in self.toggles else 1})


#: What a table shows when its filter does not parse: no row; the builder shows the error.
EMPTY_TABLE: dict[str, Any] = {"rows": [], "total": 0, "capped": False, "page": 0, "pages": 0, "page_size": 1}


def table_page(
    db: Database,
    filter: dict[str, Any],
    query: TableQuery,
    page_number: int,
    size: int,
    *,
    target: str = "runs",
    count_limit: int | None = None,
    visible_only: bool = False,
) -> dict[str, Any]:
    """One page of a table (`registry.search`): its rows, the total, and what the pager needs. With
    `count_limit` the total is counted up to that many rows past this page at least; beyond it the pager
    says "more than" (`capped`) instead of reading every match on every request. `visible_only` leaves out
    hidden runs (or hidden datasets)."""
    limit = None if count_limit is None else max(count_limit, (page_number + 1) * size)
    rows, total = registry.search(
        db,
        target=target,
        filter=filter,
        sortings=query.sortings(),
        page=page_number,
        page_size=size,
        count_limit=limit,
        visible_only=visible_only,
    )
    capped = limit is not None and total > limit
    total = limit if capped and limit is not None else total
    return {
        "rows": rows,
        "total": total,
        "capped": capped,
        "page": page_number,
        "pages": max(1, -(-total // size)),
        "page_size": size,
    }


def both(*parts: dict[str, Any]) -> dict[str, Any]:
    """The `and` of filter-language objects, leaving out empty ones ({} selects everything) and flattening
    those that are an `and` themselves."""
    kept: list[dict[str, Any]] = []
    for part in parts:
        if list(part) == ["and"] and isinstance(part["and"], list):
            kept.extend(part["and"])
        elif part:
            kept.append(part)
    if not kept:
        return {}
    return kept[0] if len(kept) == 1 else {"and": kept}


def _number(name: str, text: str) -> float | int:
    try:
        value = float(text)
    except ValueError:
        raise InvalidInput(name, f"{text[:40]!r} is not a number") from None
    return int(value) if value.is_integer() and "." not in text else value


def _page(params: Mapping[str, str], name: str) -> int:
    text = str(params.get(name, "0") or "0")
    if not text.isdigit() or int(text) > MAX_PAGE:
        raise InvalidInput(name, f"must be a page number between 0 and {MAX_PAGE}")
    return int(text)
