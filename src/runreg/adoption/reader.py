"""Reader of an original Run Registry database: psycopg, read-only snapshots, streamed in event order."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import psycopg

from runreg.adoption.model import OriginalEvent, VersionInfo
from runreg.adoption.settings import SettingsRow
from runreg.kernel.errors import InvalidInput

#: Tables the importer needs; a database without them is not an original Run Registry.
REQUIRED_TABLES = (
    "Version",
    "Event",
    "RunEvent",
    "DatasetEvent",
    "LumisectionEvent",
    "LumisectionEventAssignation",
    "OMSLumisectionEvent",
    "OMSLumisectionEventAssignation",
    "JSONBDeduplication",
    "Run",
    "Dataset",
    "DatasetTripletCache",
)
FETCH = 2000
#: Item table -> (entries table, Settings column) of the versioned configuration (rr_backend §3.5).
SETTINGS_FAMILIES = {
    "ClassClassifier": ("ClassClassifierEntries", "CCL_id"),
    "ComponentClassifier": ("ComponentClassifierEntries", "CPCL_id"),
    "DatasetClassifier": ("DatasetClassifierEntries", "DCL_id"),
    "OfflineDatasetClassifier": ("OfflineDatasetClassifierEntries", "ODCL_id"),
    "JsonClassifier": ("JsonClassifierEntries", "JCL_id"),
    "DatasetsAccepted": ("DatasetsAcceptedEntries", "DAL_id"),
    "Permission": ("PermissionEntries", "PL_id"),
}

#: Events are read in windows of this many event versions: each window is one small sorted query, so the
#: original never sorts (or holds) the whole history before the first row, and the importer's memory is one
#: window's rows.
WINDOW = 5000

#: Every typed event of a window in event order, with its atomic version and its resolved payload (the window
#: on both sides of each join: PostgreSQL does not carry a range condition across an equality).
_EVENTS = """
SELECT * FROM (
  SELECT e.version, e.atomic_version, 'run' AS kind, r.run_number, NULL::text AS name, r.oms_metadata AS oms,
         r.rr_metadata AS rr, NULL::jsonb AS payload, NULL::jsonb AS in_gui, r.manual_change AS manual,
         r.deleted
  FROM "Event" e JOIN "RunEvent" r ON r.version = e.version
  WHERE r.version > %(after)s AND r.version <= %(upto)s AND e.version > %(after)s
    AND e.version <= %(upto)s
  UNION ALL
  SELECT e.version, e.atomic_version, 'dataset', d.run_number, d.name, NULL, NULL, d.dataset_metadata,
         d.datasets_in_gui, false, d.deleted
  FROM "Event" e JOIN "DatasetEvent" d ON d.version = e.version
  WHERE d.version > %(after)s AND d.version <= %(upto)s AND e.version > %(after)s
    AND e.version <= %(upto)s
  UNION ALL
  SELECT e.version, e.atomic_version, 'ls', l.run_number, l.name, NULL, NULL, j.jsonb, NULL, l.manual_change,
         false
  FROM "Event" e JOIN "LumisectionEvent" l ON l.version = e.version
  JOIN "JSONBDeduplication" j ON j.id = l.lumisection_metadata_id
  WHERE l.version > %(after)s AND l.version <= %(upto)s AND e.version > %(after)s
    AND e.version <= %(upto)s
  UNION ALL
  SELECT e.version, e.atomic_version, 'oms_ls', o.run_number, o.name, NULL, NULL, j.jsonb, NULL, false, false
  FROM "Event" e JOIN "OMSLumisectionEvent" o ON o.version = e.version
  JOIN "JSONBDeduplication" j ON j.id = o.lumisection_metadata_id
  WHERE o.version > %(after)s AND o.version <= %(upto)s AND e.version > %(after)s
    AND e.version <= %(upto)s
) AS everything ORDER BY version
"""

#: The first and last LS of every maximal range of a window's assignation rows (an LS starts a range when the
#: one before it is not assigned, ends one when the one after it is not): the primary key's order feeds the
#: window functions unsorted, and only range ends leave the server.
_RANGE_ENDS = """
SELECT version, lumisection_number, starts, ends FROM (
  SELECT version, lumisection_number,
         lag(lumisection_number) OVER w IS DISTINCT FROM lumisection_number - 1 AS starts,
         lead(lumisection_number) OVER w IS DISTINCT FROM lumisection_number + 1 AS ends
  FROM "{table}" WHERE version > %(after)s AND version <= %(upto)s
  WINDOW w AS (PARTITION BY version ORDER BY lumisection_number)
) AS numbered WHERE starts OR ends ORDER BY version, lumisection_number
"""
_ASSIGNATIONS = ("LumisectionEventAssignation", "OMSLumisectionEventAssignation")
#: The windows are ranges of the primary keys: read them in that order whatever the original's statistics say
#: (a live original's autovacuum may have last analyzed a table when it was small, and the planner would
#: then scan all of it, or sort it, once per window). For the reading transaction only; JIT off, as the
#: queries are plain index scans.
_PRIMARY_KEY_ORDER = (
    "SELECT set_config('enable_seqscan', 'off', true), set_config('enable_bitmapscan', 'off', true), "
    "set_config('enable_sort', 'off', true), set_config('jit', 'off', true)"
)


@dataclass(frozen=True)
class OriginalHead:
    last_event_version: int
    last_atomic_version: int
    at: datetime  # the original's clock when the head was read


class OriginalDatabase:
    """A read-only connection to an original Run Registry (`postgresql://…/runregistry`)."""

    def __init__(self, url: str) -> None:
        if not url.startswith(("postgresql://", "postgres://")):
            raise InvalidInput("from", f"expected a postgresql:// URL of the original database, got {url!r}")
        try:
            self.conn = psycopg.connect(url, connect_timeout=10, autocommit=False)
        except psycopg.Error as exc:
            raise InvalidInput("from", f"cannot connect to the original database: {exc}".strip()) from None
        self.conn.read_only = True
        self.conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        info = self.conn.info
        self.name = f"{info.host}:{info.port}/{info.dbname}"
        missing = self._missing_or_present(REQUIRED_TABLES)
        if missing:
            self.conn.close()
            raise InvalidInput(
                "from",
                "not an original Run Registry database: missing table(s) " + ", ".join(missing),
            )

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> OriginalDatabase:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------------------------------------
    def head(self) -> OriginalHead:
        with self.conn.transaction():
            row = self.conn.execute('SELECT COALESCE(max(version), 0) FROM "Event"').fetchone()
            atomic = self.conn.execute(
                'SELECT COALESCE(max(atomic_version), 0), clock_timestamp() FROM "Version"'
            ).fetchone()
        return OriginalHead(int(row[0]), int(atomic[0]), atomic[1].astimezone(UTC))

    def event_cursor_for_atomic(self, atomic_version: int) -> int:
        """The event position `--since ATOMIC_VERSION` starts after: the last event of versions ≤ it."""
        with self.conn.transaction():
            row = self.conn.execute(
                'SELECT COALESCE(max(version), 0) FROM "Event" WHERE atomic_version <= %s', (atomic_version,)
            ).fetchone()
        return int(row[0])

    def versions(self, after: int, upto: int) -> dict[int, VersionInfo]:
        """The atomic versions of the events in (after, upto]."""
        with self.conn.transaction():
            rows = self.conn.execute(
                'SELECT v.atomic_version, v."by", v.comment, v."createdAt" FROM "Version" v WHERE '
                'v.atomic_version IN (SELECT DISTINCT atomic_version FROM "Event" '
                "WHERE version > %s AND version <= %s)",
                (after, upto),
            ).fetchall()
        return {
            row[0]: VersionInfo(row[0], row[1] or "", row[2] or "", row[3].astimezone(UTC)) for row in rows
        }

    def cycles(self) -> list[dict[str, Any]]:
        """Every Cycle with its datasets (plain rows in the original: read as they are now)."""
        if self._missing_or_present(("Cycle", "CycleDataset")):
            return []
        with self.conn.transaction():
            rows = self.conn.execute(
                'SELECT id_cycle, cycle_name, cycle_attributes, deadline, deleted, "updatedAt" FROM "Cycle" '
                "ORDER BY id_cycle"
            ).fetchall()
            members: dict[int, list[tuple[int, str]]] = {}
            for cycle_id, run, name in self.conn.execute(
                'SELECT id_cycle, run_number, name FROM "CycleDataset" ORDER BY 1, 2, 3'
            ):
                members.setdefault(cycle_id, []).append((run, name))
        return [
            {
                "id": row[0],
                "name": row[1],
                "attributes": row[2] or {},
                "deadline": row[3].astimezone(UTC) if row[3] else None,
                "deleted": bool(row[4]),
                "updated_at": (row[5] or row[3]).astimezone(UTC),
                "members": members.get(row[0], []),
            }
            for row in rows
        ]

    def generated_jsons(self, after: int) -> list[dict[str, Any]]:
        """GeneratedJson rows after id `after` (their JSONs are run → ranges: small), oldest first."""
        if self._missing_or_present(("GeneratedJson",)):
            return []
        with self.conn.transaction():
            cursor = self.conn.execute(
                "SELECT id, dataset_name_filter, tags, created_by, official, runregistry_version, "
                "json_logic, "
                'generated_json, deleted, "createdAt" FROM "GeneratedJson" WHERE id > %s ORDER BY id',
                (after,),
            )
            keys = [d.name for d in cursor.description]
            rows = [dict(zip(keys, row, strict=True)) for row in cursor.fetchall()]
        for row in rows:
            row["createdAt"] = row["createdAt"].astimezone(UTC)
        return rows

    def events(self, after: int, upto: int) -> Iterator[OriginalEvent]:
        """Events after `after` up to `upto` in event order, window by window, in one snapshot (the
        connection is REPEATABLE READ), each LS event with its assignations as ranges."""
        with self.conn.transaction():
            self.conn.execute(_PRIMARY_KEY_ORDER)
            low = after
            while low < upto:
                high = self._window_end(low, upto)
                ranges = self._ranges(low, high)
                for row in self.conn.execute(_EVENTS, {"after": low, "upto": high}):
                    yield OriginalEvent(
                        version=row[0],
                        atomic_version=row[1],
                        kind=row[2],
                        run_number=row[3],
                        name=row[4],
                        oms=row[5],
                        rr=row[6],
                        payload=row[7],
                        in_gui=row[8],
                        manual=bool(row[9]),
                        deleted=bool(row[10]),
                        ranges=ranges.get(row[0], ()),
                    )
                low = high

    def _window_end(self, after: int, upto: int) -> int:
        """The event version that closes the window of (at most) WINDOW events after `after`."""
        row = self.conn.execute(
            'SELECT version FROM "Event" WHERE version > %s AND version <= %s ORDER BY version '
            "OFFSET %s LIMIT 1",
            (after, upto, WINDOW - 1),
        ).fetchone()
        return upto if row is None else int(row[0])

    def _ranges(self, after: int, upto: int) -> dict[int, list[tuple[int, int]]]:
        """Event version -> its assignation rows as maximal inclusive ranges, for the events of a window."""
        out: dict[int, list[tuple[int, int]]] = {}
        for table in _ASSIGNATIONS:
            first = 0
            cursor = self.conn.execute(_RANGE_ENDS.format(table=table), {"after": after, "upto": upto})
            for version, number, starts, ends in cursor:
                if starts:
                    first = number
                if ends:
                    out.setdefault(version, []).append((first, number))
        return out

    # ---------------------------------------------------------------------------------------------- settings
    def settings(self, after: int) -> list[SettingsRow]:
        """Settings rows after id `after`, each with the items of every family its lists reference (a few
        hundred rows of a few hundred items: read whole)."""
        if self._missing_or_present(("Settings",)):
            return []
        with self.conn.transaction():
            columns: dict[int, tuple[str, str]] = {}
            workspaces: dict[tuple[str, str], list[str]] = {}
            for column_id, ws, mode, column in self.conn.execute(
                'SELECT c.id, w.workspace, w.online_or_offline, c.name FROM "WorkspaceColumn" c '
                'JOIN "Workspace" w ON w.id = c.id_workspace ORDER BY w.id, c.id'
            ):
                columns[column_id] = (f"{ws}-{column}", mode)
                workspaces.setdefault((ws, mode), []).append(column)
            rows = self.conn.execute('SELECT * FROM "Settings" WHERE id > %s ORDER BY id', (after,))
            names = [d.name for d in rows.description]
            settings = [dict(zip(names, row, strict=True)) for row in rows.fetchall()]
            out = []
            for row in settings:
                families = {}
                for family, (entries, column) in SETTINGS_FAMILIES.items():
                    cursor = self.conn.execute(
                        f'SELECT i.* FROM "{family}" i JOIN "{entries}" e ON e.id = i.id '
                        f'WHERE e."{column}" = %s ORDER BY i.id',
                        (row[column],),
                    )
                    keys = [d.name for d in cursor.description]
                    families[family] = [dict(zip(keys, item, strict=True)) for item in cursor.fetchall()]
                by = (row.get("metadata") or {}).get("by") or "unknown"
                out.append(SettingsRow(row["id"], by, row["createdAt"], families, columns, workspaces))
        return out

    def _missing_or_present(self, names: tuple[str, ...]) -> list[str]:
        with self.conn.transaction():
            present = {
                row[0]
                for row in self.conn.execute(
                    "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
                )
            }
        return [name for name in names if name not in present]

    # ------------------------------------------------------------------------------------------------ verify
    def materialized(self) -> Iterator[tuple[int, dict[str, Any], list[dict[str, Any]]]]:
        """Per run: its `Run` row and its `Dataset` rows joined with their `DatasetTripletCache`."""
        with self.conn.transaction(), self.conn.cursor(name="runreg_adoption_runs") as cursor:
            cursor.itersize = FETCH
            cursor.execute(
                """SELECT r.run_number, r.oms_attributes, r.rr_attributes, r.deleted, d.name,
                              d.dataset_attributes, d.datasets_in_gui, d.deleted, c.triplet_summary,
                              c.dcs_summary, c.rr_ranges, c.dcs_ranges
                       FROM "Run" r LEFT JOIN "Dataset" d ON d.run_number = r.run_number
                       LEFT JOIN "DatasetTripletCache" c ON c.run_number = d.run_number AND c.name = d.name
                       ORDER BY r.run_number, d.name"""
            )
            current: tuple[int, dict[str, Any]] | None = None
            datasets: list[dict[str, Any]] = []
            for row in cursor:
                if current is None or current[0] != row[0]:
                    if current is not None:
                        yield current[0], current[1], datasets
                    current = (row[0], {"oms": row[1] or {}, "rr": row[2] or {}, "deleted": row[3]})
                    datasets = []
                if row[4] is not None:
                    datasets.append(
                        {
                            "name": row[4],
                            "attributes": row[5] or {},
                            "in_gui": row[6] or [],
                            "deleted": bool(row[7]),
                            "triplet_summary": row[8] or {},
                            "dcs_summary": row[9] or {},
                            "rr_ranges": row[10] or {},
                            "dcs_ranges": row[11] or {},
                        }
                    )
            if current is not None:
                yield current[0], current[1], datasets
