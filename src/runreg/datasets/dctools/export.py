"""Export of the offline datasets a filter selects: one table (run facts, dataset attributes, the chosen
components' LS counts per status), written as CSV or Parquet, and the public client's call that reads them."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from runreg.configuration import service as configuration
from runreg.datasets import selection
from runreg.datasets.dctools import model as rules
from runreg.kernel.errors import InvalidInput
from runreg.kernel.quality import Status
from runreg.registry.model import ONLINE
from runreg.storage.database import Database

FORMATS = ("csv", "parquet")
#: Run facts first, as the original's CSV export (rr_backend §5.2).
RUN_COLUMNS = ("run_number", "dataset_name", "class", "stop_reason", "short_run", "ls_duration")
STATUS_ORDER = [status.value for status in Status]


@dataclass(frozen=True)
class Table:
    """Named columns and their values, row by row (None where a dataset has no value)."""

    columns: list[str]
    rows: list[list[Any]]
    integer_columns: frozenset[str]


def export_table(
    db: Database, *, filter: Mapping[str, Any] | None, columns: Sequence[str] = (), sortings: Any = None
) -> Table:
    """The selected datasets (every offline one when the filter is empty) with the chosen components."""
    given = rules.check_filter(filter, confirm_all=True)
    known = configuration.current_configuration(db).components("offline")
    chosen = rules.check_components("columns", columns, known) if columns else []
    found = selection.select(db, filter=given, limit=rules.MAX_DATASETS, sortings=sortings)
    return tabulate(found.rows, chosen)


def tabulate(rows: Sequence[Mapping[str, Any]], components: Sequence[str]) -> Table:
    attribute_keys = sorted({key for row in rows for key in (row.get("dataset_attributes") or {})})
    statuses = {
        component: sorted(
            {
                key
                for row in rows
                for key in ((row.get("triplet_summary") or {}).get(component) or {})
                if key not in ("comments", "causes")
            },
            key=lambda s: (STATUS_ORDER.index(s) if s in STATUS_ORDER else len(STATUS_ORDER), s),
        )
        or ["GOOD"]
        for component in components
    }
    counts = [f"{c}.{s}" for c in components for s in statuses[c]]
    names = [
        *RUN_COLUMNS,
        *(f"dataset_attributes.{k}" for k in attribute_keys),
        *counts,
        *(f"{c}.comments" for c in components),
        "oms_attributes",
    ]
    out: list[list[Any]] = []
    for row in rows:
        rr, oms = row.get("rr_attributes") or {}, row.get("oms_attributes") or {}
        attributes = row.get("dataset_attributes") or {}
        summary = row.get("triplet_summary") or {}
        values: list[Any] = [
            row["run_number"],
            row["name"],
            rr.get("class"),
            rr.get("stop_reason"),
            rr.get("short_run"),
            oms.get("ls_duration"),
        ]
        values += [_scalar(attributes.get(key)) for key in attribute_keys]
        values += [int((summary.get(c) or {}).get(s) or 0) for c in components for s in statuses[c]]
        values += ["; ".join((summary.get(c) or {}).get("comments") or []) for c in components]
        values.append(json.dumps(oms, sort_keys=True, separators=(",", ":")))
        out.append(values)
    return Table(names, out, frozenset({"run_number", "ls_duration", *counts}))


def to_csv(table: Table) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(table.columns)
    for row in table.rows:
        writer.writerow(["" if value is None else value for value in row])
    return buffer.getvalue()


def to_parquet(table: Table) -> bytes:
    """The same table as Parquet (pyarrow; docs/decisions/0024-parquet-export.md): counts as int64, the
    rest as text, so a column has one type whatever the datasets hold."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    arrays = []
    for i, name in enumerate(table.columns):
        column = [row[i] for row in table.rows]
        if name in table.integer_columns:
            arrays.append(pa.array([_int_or_none(v) for v in column], type=pa.int64()))
        else:
            arrays.append(pa.array([None if v is None else str(v) for v in column], type=pa.string()))
    buffer = io.BytesIO()
    pq.write_table(pa.Table.from_arrays(arrays, names=table.columns), buffer)
    return buffer.getvalue()


def render(table: Table, format: str) -> tuple[bytes, str, str]:
    """(content, media type, file suffix) of the table in `format`."""
    if format == "csv":
        return to_csv(table).encode(), "text/csv; charset=utf-8", "csv"
    if format == "parquet":
        return to_parquet(table), "application/vnd.apache.parquet", "parquet"
    raise InvalidInput("format", f"{format!r} is not one of {', '.join(FORMATS)}")


def api_call(filter: Mapping[str, Any] | None) -> str:
    """The public `runregistry` client's call that reads the datasets this filter selects (as the offline
    tables: never online, never hidden — the server leaves hidden ones out)."""
    given = rules.check_filter(filter, confirm_all=True)
    offline = {"name": {"<>": ONLINE}}
    sent = {"and": [given, offline]} if given else offline
    return (
        "import runregistry\n\n"
        "datasets = runregistry.get_datasets(\n"
        f"    filter={_literal(sent, 1)},\n"
        "    ignore_filter_transformation=True,\n"
        ")\n"
    )


def _literal(value: Any, level: int) -> str:
    """A Python literal of a JSON value, one key or item a line, indented by `level` × 4 spaces."""
    pad, inner = "    " * level, "    " * (level + 1)
    if len(repr(value)) + len(pad) <= 90:
        return repr(value)
    if isinstance(value, dict) and value:
        items = [f"{inner}{k!r}: {_literal(v, level + 1)}," for k, v in value.items()]
        return "{\n" + "\n".join(items) + f"\n{pad}}}"
    if isinstance(value, list) and value:
        if all(not isinstance(v, dict | list) for v in value):
            return repr(value)
        return "[\n" + "\n".join(f"{inner}{_literal(v, level + 1)}," for v in value) + f"\n{pad}]"
    return repr(value)


def _scalar(value: Any) -> Any:
    return json.dumps(value, sort_keys=True) if isinstance(value, dict | list) else value


def _int_or_none(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None
