# ruff: noqa: E501  (SQL and generated histories read better on long lines)
"""An original Run Registry database (cms-DQM/runregistry) in PostgreSQL, written from rr_backend §3, and a
writer that records changes the way the original does: a `Version` per change, one `Event` per entity in a
global sequence, typed event rows, LS payloads through `JSONBDeduplication` (SHA-1 of the serialized JSON),
one assignation row per LS, materialized `Run` / `Dataset` by the `mergejsonb` aggregate in SQL (manual
after automatic for RR attributes), and `DatasetTripletCache` from an `AggregatedLumisection` query (online
OMS events relabelled for offline datasets, merged by event version; RR merged by (manual_change, version);
inner join) summarised per LS as the original's JavaScript does.

The adoption tests and benchmarks/import_rr.py build their originals with it.
"""

from __future__ import annotations

import hashlib
import json
import random
import struct
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import psycopg
from psycopg.types.json import Jsonb

PRE_ATOMIC_VERSION = 50_000_000

DDL = r"""
CREATE EXTENSION IF NOT EXISTS pgcrypto;
CREATE OR REPLACE FUNCTION mergejsonb_sf(a jsonb, b jsonb) RETURNS jsonb LANGUAGE sql IMMUTABLE
  AS $$ SELECT COALESCE(a, '{}'::jsonb) || COALESCE(b, '{}'::jsonb) $$;
CREATE OR REPLACE AGGREGATE mergejsonb(jsonb) (SFUNC = mergejsonb_sf, STYPE = jsonb, INITCOND = '{}');

CREATE TABLE "Version" (atomic_version serial PRIMARY KEY, "by" text NOT NULL, comment text,
  "createdAt" timestamptz NOT NULL, "updatedAt" timestamptz NOT NULL);
CREATE TABLE "Event" (version serial PRIMARY KEY,
  atomic_version int NOT NULL DEFAULT 50000000 REFERENCES "Version"(atomic_version));
CREATE TABLE "RunEvent" (version int PRIMARY KEY REFERENCES "Event"(version), run_number int NOT NULL,
  oms_metadata jsonb, rr_metadata jsonb, deleted bool NOT NULL DEFAULT false, manual_change bool NOT NULL);
CREATE INDEX ON "RunEvent"(run_number);
CREATE TABLE "DatasetEvent" (version int PRIMARY KEY REFERENCES "Event"(version), run_number int NOT NULL,
  name text NOT NULL, dataset_metadata jsonb, datasets_in_gui jsonb NOT NULL DEFAULT '[]',
  deleted bool NOT NULL DEFAULT false);
CREATE INDEX ON "DatasetEvent"(run_number, name);
CREATE TABLE "JSONBDeduplication" (id serial PRIMARY KEY, jsonb jsonb NOT NULL, unique_hash text UNIQUE NOT NULL);
CREATE TABLE "Run" (run_number int PRIMARY KEY, oms_attributes jsonb, rr_attributes jsonb, version int,
  deleted bool NOT NULL DEFAULT false);
CREATE TABLE "Dataset" (run_number int NOT NULL, name text NOT NULL, dataset_attributes jsonb,
  datasets_in_gui jsonb NOT NULL DEFAULT '[]', deleted bool NOT NULL DEFAULT false, version int,
  PRIMARY KEY (run_number, name));
CREATE TABLE "LumisectionEvent" (version int PRIMARY KEY REFERENCES "Event"(version), run_number int NOT NULL,
  name text NOT NULL, lumisection_metadata_id int NOT NULL REFERENCES "JSONBDeduplication"(id),
  manual_change bool NOT NULL, FOREIGN KEY (run_number, name) REFERENCES "Dataset" ON UPDATE CASCADE);
CREATE INDEX ON "LumisectionEvent"(run_number, name);
CREATE TABLE "LumisectionEventAssignation" (version int NOT NULL REFERENCES "LumisectionEvent"(version),
  lumisection_number int NOT NULL, PRIMARY KEY (version, lumisection_number));
CREATE TABLE "OMSLumisectionEvent" (version int PRIMARY KEY REFERENCES "Event"(version),
  run_number int NOT NULL, name text NOT NULL,
  lumisection_metadata_id int NOT NULL REFERENCES "JSONBDeduplication"(id),
  FOREIGN KEY (run_number, name) REFERENCES "Dataset" ON UPDATE CASCADE);
CREATE INDEX ON "OMSLumisectionEvent"(run_number, name);
CREATE TABLE "OMSLumisectionEventAssignation" (version int NOT NULL REFERENCES "OMSLumisectionEvent"(version),
  lumisection_number int NOT NULL, PRIMARY KEY (version, lumisection_number));
CREATE TABLE "DatasetTripletCache" (run_number int NOT NULL, name text NOT NULL, triplet_summary jsonb,
  dcs_summary jsonb, rr_ranges jsonb, dcs_ranges jsonb, brilcalc_recorded_luminosity float,
  brilcalc_delivered_luminosity float, version int, PRIMARY KEY (run_number, name),
  FOREIGN KEY (run_number, name) REFERENCES "Dataset" ON UPDATE CASCADE);

CREATE TABLE "Workspace" (id serial PRIMARY KEY, workspace text NOT NULL, online_or_offline varchar NOT NULL,
  UNIQUE (workspace, online_or_offline));
CREATE TABLE "WorkspaceColumn" (id serial PRIMARY KEY, id_workspace int NOT NULL REFERENCES "Workspace"(id),
  name text NOT NULL, UNIQUE (id_workspace, name));
CREATE TABLE "ClassClassifier" (id serial PRIMARY KEY, class varchar, classifier jsonb, priority int, enabled bool,
  created_by text, updated_by text, "createdAt" timestamptz NOT NULL DEFAULT now());
CREATE TABLE "DatasetClassifier" (id serial PRIMARY KEY, class varchar, classifier jsonb, enabled bool,
  created_by text, updated_by text, "createdAt" timestamptz NOT NULL DEFAULT now());
CREATE TABLE "ComponentClassifier" (id serial PRIMARY KEY, status varchar, component int REFERENCES "WorkspaceColumn"(id),
  classifier jsonb, priority int, enabled bool, created_by text, updated_by text, "createdAt" timestamptz NOT NULL DEFAULT now());
CREATE TABLE "OfflineDatasetClassifier" (id serial PRIMARY KEY, classifier jsonb, workspace varchar, enabled bool,
  created_by text, updated_by text, "createdAt" timestamptz NOT NULL DEFAULT now());
CREATE TABLE "JsonClassifier" (id serial PRIMARY KEY, name varchar, classifier jsonb, created_by text, updated_by text,
  "createdAt" timestamptz NOT NULL DEFAULT now());
CREATE TABLE "DatasetsAccepted" (id serial PRIMARY KEY, name varchar, regexp text, enabled bool, class varchar,
  run_from int, run_to int, "createdAt" timestamptz NOT NULL DEFAULT now());
CREATE TABLE "Permission" (id serial PRIMARY KEY, egroup varchar NOT NULL, routes jsonb NOT NULL,
  "createdAt" timestamptz NOT NULL DEFAULT now());
CREATE TABLE "ClassClassifierList" (id serial PRIMARY KEY);
INSERT INTO "ClassClassifierList" DEFAULT VALUES;
CREATE TABLE "ClassClassifierEntries" (id int REFERENCES "ClassClassifier"(id), "CCL_id" int REFERENCES "ClassClassifierList"(id), PRIMARY KEY (id, "CCL_id"));
CREATE TABLE "ComponentClassifierList" (id serial PRIMARY KEY);
INSERT INTO "ComponentClassifierList" DEFAULT VALUES;
CREATE TABLE "ComponentClassifierEntries" (id int REFERENCES "ComponentClassifier"(id), "CPCL_id" int REFERENCES "ComponentClassifierList"(id), PRIMARY KEY (id, "CPCL_id"));
CREATE TABLE "DatasetClassifierList" (id serial PRIMARY KEY);
INSERT INTO "DatasetClassifierList" DEFAULT VALUES;
CREATE TABLE "DatasetClassifierEntries" (id int REFERENCES "DatasetClassifier"(id), "DCL_id" int REFERENCES "DatasetClassifierList"(id), PRIMARY KEY (id, "DCL_id"));
CREATE TABLE "OfflineDatasetClassifierList" (id serial PRIMARY KEY);
INSERT INTO "OfflineDatasetClassifierList" DEFAULT VALUES;
CREATE TABLE "OfflineDatasetClassifierEntries" (id int REFERENCES "OfflineDatasetClassifier"(id), "ODCL_id" int REFERENCES "OfflineDatasetClassifierList"(id), PRIMARY KEY (id, "ODCL_id"));
CREATE TABLE "JsonClassifierList" (id serial PRIMARY KEY);
INSERT INTO "JsonClassifierList" DEFAULT VALUES;
CREATE TABLE "JsonClassifierEntries" (id int REFERENCES "JsonClassifier"(id), "JCL_id" int REFERENCES "JsonClassifierList"(id), PRIMARY KEY (id, "JCL_id"));
CREATE TABLE "DatasetsAcceptedList" (id serial PRIMARY KEY);
INSERT INTO "DatasetsAcceptedList" DEFAULT VALUES;
CREATE TABLE "DatasetsAcceptedEntries" (id int REFERENCES "DatasetsAccepted"(id), "DAL_id" int REFERENCES "DatasetsAcceptedList"(id), PRIMARY KEY (id, "DAL_id"));
CREATE TABLE "PermissionList" (id serial PRIMARY KEY);
INSERT INTO "PermissionList" DEFAULT VALUES;
CREATE TABLE "PermissionEntries" (id int REFERENCES "Permission"(id), "PL_id" int REFERENCES "PermissionList"(id), PRIMARY KEY (id, "PL_id"));
CREATE TABLE "Settings" (id serial PRIMARY KEY, metadata jsonb, "createdAt" timestamptz NOT NULL DEFAULT now(),
  "CCL_id" int NOT NULL REFERENCES "ClassClassifierList"(id), "CPCL_id" int NOT NULL REFERENCES "ComponentClassifierList"(id),
  "DCL_id" int NOT NULL REFERENCES "DatasetClassifierList"(id), "ODCL_id" int NOT NULL REFERENCES "OfflineDatasetClassifierList"(id),
  "PL_id" int NOT NULL REFERENCES "PermissionList"(id), "DAL_id" int NOT NULL REFERENCES "DatasetsAcceptedList"(id),
  "JCL_id" int NOT NULL REFERENCES "JsonClassifierList"(id));
INSERT INTO "Settings" (metadata, "createdAt", "CCL_id", "CPCL_id", "DCL_id", "ODCL_id", "PL_id", "DAL_id", "JCL_id")
  VALUES ('{"by": "initialize"}', '2026-03-01T00:00:00Z', 1, 1, 1, 1, 1, 1, 1);
CREATE TABLE "Cycle" (id_cycle serial PRIMARY KEY, cycle_name text UNIQUE NOT NULL, cycle_attributes jsonb,
  deadline timestamptz, deleted bool NOT NULL DEFAULT false, "createdAt" timestamptz, "updatedAt" timestamptz);
CREATE TABLE "CycleDataset" (id_cycle int REFERENCES "Cycle"(id_cycle), run_number int, name text,
  PRIMARY KEY (id_cycle, run_number, name));
CREATE TABLE "GeneratedJson" (id serial PRIMARY KEY, dataset_name_filter text, tags text, created_by text,
  official bool, runregistry_version bigint, json_logic jsonb, generated_json jsonb, deleted bool DEFAULT false,
  "createdAt" timestamptz, "updatedAt" timestamptz);
"""

#: The original's AggregatedLumisection (views/run.sql), one row per (dataset, LS) of one run.
AGGREGATED = """
WITH oms AS (
  SELECT d.name, a.lumisection_number AS ls, mergejsonb(j.jsonb ORDER BY e.version) AS oms
  FROM "Dataset" d
  JOIN "OMSLumisectionEvent" e ON e.run_number = d.run_number AND e.name IN (d.name, 'online')
  JOIN "OMSLumisectionEventAssignation" a ON a.version = e.version
  JOIN "JSONBDeduplication" j ON j.id = e.lumisection_metadata_id
  WHERE d.run_number = %(run)s AND (e.name = d.name OR EXISTS (
    SELECT 1 FROM "OMSLumisectionEvent" o JOIN "OMSLumisectionEventAssignation" oa ON oa.version = o.version
    WHERE o.run_number = d.run_number AND o.name = d.name AND oa.lumisection_number = a.lumisection_number))
  GROUP BY d.name, a.lumisection_number
), rr AS (
  SELECT e.name, a.lumisection_number AS ls,
         mergejsonb(j.jsonb ORDER BY e.manual_change, e.version) AS rr
  FROM "LumisectionEvent" e
  JOIN "LumisectionEventAssignation" a ON a.version = e.version
  JOIN "JSONBDeduplication" j ON j.id = e.lumisection_metadata_id
  WHERE e.run_number = %(run)s
  GROUP BY e.name, a.lumisection_number
)
SELECT oms.name, oms.ls, oms.oms, rr.rr FROM oms JOIN rr ON rr.name = oms.name AND rr.ls = oms.ls
ORDER BY oms.name, oms.ls
"""

DCS_BITS = ("cms_active", "beam1_present", "beam2_present", "beam1_stable", "beam2_stable", "dt0_ready",
            "cscp_ready", "tibtid_ready", "bpix_ready", "fpix_ready", "physics_flag")  # fmt: skip
NOT_DCS = {"end_lumi", "init_lumi", "recorded_lumi", "delivered_lumi", "live_lumi_per_lumi",
           "recorded_lumi_per_lumi", "delivered_lumi_per_lumi"}  # fmt: skip


def create_schema(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(DDL)


def _stringify(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


class OriginalWriter:
    """Writes changes the way the original's backend does: a `Version` per change, an `Event` per entity, typed
    event rows, deduplicated LS payloads, one assignation row per LS, the empty `DatasetEvent` that bumps a
    dataset whose LS changed, `Run` / `Dataset` re-materialized by `mergejsonb` in SQL.

    Ids are allocated here (as the database's sequences would, which are set after each flush) and rows are
    buffered, then written with COPY at `flush()` — when `flush_rows` assignation rows are waiting, and always
    before anything reads the database (`refresh_caches`, golden JSONs, cycles, the end of a history) — in one
    transaction, in the order the foreign keys need: versions, events, run and dataset events, `Run` / `Dataset`
    materialized, payloads, LS events, assignations (binary COPY built with numpy). The rows are those the
    original writes change by change; only the number of round trips differs."""

    def __init__(self, conn: psycopg.Connection, *, flush_rows: int = 2_000_000) -> None:
        self.conn = conn
        self.flush_rows = flush_rows
        with conn.transaction():
            self._next_atomic, self._next_event, self._next_jsonb = conn.execute(
                f"""SELECT (SELECT COALESCE(max(atomic_version), 0) + 1 FROM "Version"
                           WHERE atomic_version < {PRE_ATOMIC_VERSION}),
                          (SELECT COALESCE(max(version), 0) + 1 FROM "Event"),
                          (SELECT COALESCE(max(id), 0) + 1 FROM "JSONBDeduplication")"""
            ).fetchone()
            self._dedup: dict[str, int] = dict(
                conn.execute('SELECT unique_hash, id FROM "JSONBDeduplication"')
            )
            self._placeholders = {
                row[0]
                for row in conn.execute(
                    f'SELECT atomic_version FROM "Version" WHERE atomic_version >= {PRE_ATOMIC_VERSION}'
                )
            }
            self._deleted: dict[tuple[int, str], bool] = {
                (run, name): deleted
                for run, name, deleted in conn.execute('SELECT run_number, name, deleted FROM "Dataset"')
            }
        self._clear()

    def _clear(self) -> None:
        self._rows: dict[str, list[tuple[Any, ...]]] = {table: [] for table in _COPY_COLUMNS}
        self._spans: dict[str, list[tuple[int, int, int]]] = {
            "LumisectionEventAssignation": [],
            "OMSLumisectionEventAssignation": [],
        }
        self._pending = 0
        self._runs: set[int] = set()
        self._datasets: set[tuple[int, str]] = set()

    # ---------------------------------------------------------------------------------------- versions
    @contextmanager
    def version(self, by: str, comment: str, at: datetime, *, atomic: int | None = None) -> Iterator[int]:
        """One change (one transaction in the original): buffered; on an exception nothing of it is kept."""
        marks = {table: len(rows) for table, rows in self._rows.items()}
        spans = {table: len(rows) for table, rows in self._spans.items()}
        state = (
            self._next_atomic,
            self._next_event,
            self._next_jsonb,
            dict(self._deleted),
            set(self._placeholders),
        )
        if atomic is None:
            atomic = self._next_atomic
            self._next_atomic += 1
            self._rows["Version"].append((atomic, by, comment, at, at))
        elif atomic not in self._placeholders:
            self._placeholders.add(atomic)
            self._rows["Version"].append((atomic, by, comment, at, at))
        self._atomic = atomic
        self._touched: set[tuple[int, str]] = set()
        try:
            yield atomic
        except BaseException:
            for table, mark in marks.items():
                del self._rows[table][mark:]
            for table, mark in spans.items():
                del self._spans[table][mark:]
            self._next_atomic, self._next_event, self._next_jsonb, self._deleted, self._placeholders = state
            raise
        for run, name in sorted(self._touched):
            # LS data changed: the original appends an empty DatasetEvent to bump the dataset's version.
            self._dataset_row(run, name, {}, [], self._deleted[(run, name)])
        if self._pending >= self.flush_rows:
            self.flush()

    def _event(self) -> int:
        version = self._next_event
        self._next_event += 1
        self._rows["Event"].append((version, self._atomic))
        return version

    def _jsonb(self, value: dict[str, Any]) -> int:
        text = _stringify(value)
        digest = hashlib.sha1(text.encode()).hexdigest()
        if digest not in self._dedup:
            self._dedup[digest] = self._next_jsonb
            self._rows["JSONBDeduplication"].append((self._next_jsonb, text, digest))
            self._next_jsonb += 1
        return self._dedup[digest]

    # ---------------------------------------------------------------------------------------- events
    def run_event(
        self,
        run: int,
        *,
        oms: dict[str, Any] | None = None,
        rr: dict[str, Any] | None = None,
        by_auto: bool,
        deleted: bool = False,
    ) -> None:
        """A delta of the run's attributes; `deleted` is the original's run deletion (`RunEvent.deleted`)."""
        self._rows["RunEvent"].append(
            (self._event(), run, _stringify(oms or {}), _stringify(rr or {}), deleted, not by_auto)
        )
        self._runs.add(run)

    def dataset_event(
        self,
        run: int,
        name: str,
        metadata: dict[str, Any] | None = None,
        *,
        in_gui: list[str] | None = None,
        deleted: bool = False,
    ) -> None:
        self._dataset_row(run, name, metadata or {}, in_gui or [], deleted)
        self._deleted[(run, name)] = deleted
        self._touched.add((run, name))

    def _dataset_row(
        self, run: int, name: str, metadata: dict[str, Any], in_gui: list[str], deleted: bool
    ) -> None:
        self._rows["DatasetEvent"].append(
            (self._event(), run, name, _stringify(metadata), _stringify(in_gui), deleted)
        )
        self._datasets.add((run, name))

    def ls_event(
        self, run: int, name: str, payload: dict[str, Any], first: int, last: int, *, manual: bool
    ) -> None:
        version = self._ls("LumisectionEventAssignation", run, name, first, last)
        self._rows["LumisectionEvent"].append((version, run, name, self._jsonb(payload), manual))

    def oms_ls_event(self, run: int, name: str, payload: dict[str, Any], first: int, last: int) -> None:
        version = self._ls("OMSLumisectionEventAssignation", run, name, first, last)
        self._rows["OMSLumisectionEvent"].append((version, run, name, self._jsonb(payload)))

    def _ls(self, table: str, run: int, name: str, first: int, last: int) -> int:
        assert first <= last
        assert (run, name) in self._deleted, "an LS event needs its dataset (foreign key)"
        version = self._event()
        self._spans[table].append((version, first, last))
        self._pending += last - first + 1
        self._touched.add((run, name))
        return version

    # ---------------------------------------------------------------------------------------- flush
    def flush(self) -> None:
        """Writes what is buffered, in one transaction, and sets the sequences past the ids used."""
        if not self._rows["Event"] and not self._rows["Version"]:
            return
        with self.conn.transaction(), self.conn.cursor() as cursor:
            for table in ("Version", "Event", "RunEvent", "DatasetEvent"):
                _copy(cursor, table, self._rows[table])
            if self._runs:
                cursor.execute(_MATERIALIZE_RUNS, {"runs": sorted(self._runs)})
            if self._datasets:
                touched = sorted(self._datasets)
                cursor.execute(
                    _MATERIALIZE_DATASETS, {"runs": [r for r, _ in touched], "names": [n for _, n in touched]}
                )
            for table in ("JSONBDeduplication", "LumisectionEvent", "OMSLumisectionEvent"):
                _copy(cursor, table, self._rows[table])
            # The assignations' foreign key to their LS event, checked here for the whole batch (every span's
            # version is an LS event of this flush) instead of by a trigger per row: a year has ~50 M rows.
            for table, spans in self._spans.items():
                events = {row[0] for row in self._rows[table.removesuffix("Assignation")]}
                assert {span[0] for span in spans} == events, f"{table} rows without their event"
            cursor.execute("SET LOCAL session_replication_role = replica")
            for table, spans in self._spans.items():
                if spans:
                    with cursor.copy(
                        f'COPY "{table}" (version, lumisection_number) FROM STDIN (FORMAT BINARY)'
                    ) as copy:
                        copy.write(_binary_pairs(spans))
            cursor.execute("SET LOCAL session_replication_role = origin")
            for table, column, upto in (("Version", "atomic_version", self._next_atomic - 1),
                                        ("Event", "version", self._next_event - 1),
                                        ("JSONBDeduplication", "id", self._next_jsonb - 1)):  # fmt: skip
                if upto > 0:
                    cursor.execute(
                        f"SELECT setval(pg_get_serial_sequence('\"{table}\"', '{column}'), %s)", (upto,)
                    )
        self._clear()

    def refresh_caches(self, runs: list[int] | None = None) -> None:
        """fill_dataset_triplet_cache(): every dataset whose version is newer than its cache."""
        self.flush()
        with self.conn.transaction():
            stale = self.conn.execute(
                """SELECT DISTINCT d.run_number FROM "Dataset" d LEFT JOIN "DatasetTripletCache" c
                USING (run_number, name) WHERE c.version IS NULL OR d.version > c.version ORDER BY 1"""
            ).fetchall()
            rows: list[tuple[Any, ...]] = []
            for (run,) in stale:
                if runs is not None and run not in runs:
                    continue
                merged = merged_run(self.conn, run, {})
                for name, version in self.conn.execute(
                    'SELECT name, version FROM "Dataset" WHERE run_number = %s', (run,)
                ).fetchall():
                    cache = merged[name].cache() if name in merged else cache_of([])
                    rows.append((run, name, *(Jsonb(cache[k]) for k in _CACHE_KEYS), cache["recorded"],
                                 cache["delivered"], version))  # fmt: skip
                if len(rows) >= 500:
                    self._write_caches(rows)
            self._write_caches(rows)

    def _write_caches(self, rows: list[tuple[Any, ...]]) -> None:
        with self.conn.cursor() as cursor:
            cursor.executemany(
                """INSERT INTO "DatasetTripletCache" (run_number, name, triplet_summary, dcs_summary,
                rr_ranges, dcs_ranges, brilcalc_recorded_luminosity, brilcalc_delivered_luminosity, version)
                VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT (run_number, name) DO UPDATE SET
                triplet_summary = EXCLUDED.triplet_summary, dcs_summary = EXCLUDED.dcs_summary,
                rr_ranges = EXCLUDED.rr_ranges, dcs_ranges = EXCLUDED.dcs_ranges,
                brilcalc_recorded_luminosity = EXCLUDED.brilcalc_recorded_luminosity,
                brilcalc_delivered_luminosity = EXCLUDED.brilcalc_delivered_luminosity,
                version = EXCLUDED.version""",
                rows,
            )
        rows.clear()


_CACHE_KEYS = ("triplet_summary", "dcs_summary", "rr_ranges", "dcs_ranges")

#: The buffered tables and the columns their COPY writes.
_COPY_COLUMNS = {
    "Version": ("atomic_version", "by", "comment", "createdAt", "updatedAt"),
    "Event": ("version", "atomic_version"),
    "RunEvent": ("version", "run_number", "oms_metadata", "rr_metadata", "deleted", "manual_change"),
    "DatasetEvent": ("version", "run_number", "name", "dataset_metadata", "datasets_in_gui", "deleted"),
    "JSONBDeduplication": ("id", "jsonb", "unique_hash"),
    "LumisectionEvent": ("version", "run_number", "name", "lumisection_metadata_id", "manual_change"),
    "OMSLumisectionEvent": ("version", "run_number", "name", "lumisection_metadata_id"),
}

#: `Run` after RunEvent inserts (§3.2): RR attributes merged automatic first, OMS by version, the global max
#: RunEvent version, `deleted` from the run's latest event.
_MATERIALIZE_RUNS = """
INSERT INTO "Run" (run_number, oms_attributes, rr_attributes, version, deleted)
SELECT run_number, mergejsonb(oms_metadata ORDER BY version), mergejsonb(rr_metadata ORDER BY manual_change, version),
       (SELECT max(version) FROM "RunEvent"), (array_agg(deleted ORDER BY version DESC))[1]
FROM "RunEvent" WHERE run_number = ANY(%(runs)s) GROUP BY run_number
ON CONFLICT (run_number) DO UPDATE SET oms_attributes = EXCLUDED.oms_attributes,
  rr_attributes = EXCLUDED.rr_attributes, version = EXCLUDED.version, deleted = EXCLUDED.deleted
"""

#: `Dataset` after DatasetEvent inserts: attributes merged by version, the union of the DQM GUI names, the
#: latest event's `deleted`, the dataset's newest event version.
_MATERIALIZE_DATASETS = """
INSERT INTO "Dataset" (run_number, name, dataset_attributes, datasets_in_gui, deleted, version)
SELECT e.run_number, e.name, mergejsonb(e.dataset_metadata ORDER BY e.version),
       (SELECT COALESCE(jsonb_agg(DISTINCT x), '[]') FROM "DatasetEvent" d2,
          jsonb_array_elements_text(d2.datasets_in_gui) x
        WHERE d2.run_number = e.run_number AND d2.name = e.name),
       (array_agg(e.deleted ORDER BY e.version DESC))[1], max(e.version)
FROM "DatasetEvent" e JOIN unnest(%(runs)s::int[], %(names)s::text[]) AS t(run_number, name)
  ON t.run_number = e.run_number AND t.name = e.name
GROUP BY e.run_number, e.name
ON CONFLICT (run_number, name) DO UPDATE SET dataset_attributes = EXCLUDED.dataset_attributes,
  datasets_in_gui = EXCLUDED.datasets_in_gui, deleted = EXCLUDED.deleted, version = EXCLUDED.version
"""


def _copy(cursor: psycopg.Cursor[Any], table: str, rows: list[tuple[Any, ...]]) -> None:
    if rows:
        columns = ", ".join(f'"{c}"' for c in _COPY_COLUMNS[table])
        with cursor.copy(f'COPY "{table}" ({columns}) FROM STDIN') as copy:
            for row in rows:
                copy.write_row(row)


#: One (version int4, lumisection_number int4) tuple of PostgreSQL's binary COPY format.
_PAIR = np.dtype([("fields", ">i2"), ("size1", ">i4"), ("version", ">i4"), ("size2", ">i4"), ("ls", ">i4")])


def _binary_pairs(spans: list[tuple[int, int, int]]) -> bytes:
    """Binary COPY data of one assignation row per LS of each (version, first, last)."""
    version, first, last = (np.array(column, dtype=np.int64) for column in zip(*spans, strict=True))
    lengths = last - first + 1
    offsets = np.repeat(np.cumsum(lengths) - lengths, lengths)
    rows = np.empty(int(lengths.sum()), dtype=_PAIR)
    rows["fields"], rows["size1"], rows["size2"] = 2, 4, 4
    rows["version"] = np.repeat(version, lengths)
    rows["ls"] = np.arange(len(rows)) - offsets + np.repeat(first, lengths)
    return b"PGCOPY\n\xff\r\n\x00" + struct.pack(">ii", 0, 0) + rows.tobytes() + struct.pack(">h", -1)


#: Item table -> (list table, entries table, Settings column) of the versioned configuration (§3.5).
FAMILIES = {
    "ClassClassifier": ("ClassClassifierList", "ClassClassifierEntries", "CCL_id"),
    "ComponentClassifier": ("ComponentClassifierList", "ComponentClassifierEntries", "CPCL_id"),
    "DatasetClassifier": ("DatasetClassifierList", "DatasetClassifierEntries", "DCL_id"),
    "OfflineDatasetClassifier": (
        "OfflineDatasetClassifierList",
        "OfflineDatasetClassifierEntries",
        "ODCL_id",
    ),
    "JsonClassifier": ("JsonClassifierList", "JsonClassifierEntries", "JCL_id"),
    "DatasetsAccepted": ("DatasetsAcceptedList", "DatasetsAcceptedEntries", "DAL_id"),
    "Permission": ("PermissionList", "PermissionEntries", "PL_id"),
}
SETTINGS_COLUMNS = ("CCL_id", "CPCL_id", "DCL_id", "ODCL_id", "PL_id", "DAL_id", "JCL_id")


class ConfigurationWriter:
    """The original's configuration operations: create / edit / delete an item = a new list and Settings row."""

    def __init__(self, conn: psycopg.Connection) -> None:
        self.conn = conn

    def workspace(self, name: str, mode: str, columns: list[str]) -> dict[str, int]:
        with self.conn.transaction():
            ws = self.conn.execute(
                'INSERT INTO "Workspace" (workspace, online_or_offline) VALUES (%s, %s) RETURNING id',
                (name, mode),
            ).fetchone()[0]
            return {
                column: self.conn.execute(
                    'INSERT INTO "WorkspaceColumn" (id_workspace, name) VALUES (%s, %s) RETURNING id',
                    (ws, column),
                ).fetchone()[0]
                for column in columns
            }

    def change(
        self, family: str, by: str, at: datetime, *, create: dict[str, Any] | None = None,
        edit: int | None = None, delete: int | None = None,
    ) -> int | None:  # fmt: skip
        """Returns the new item's id (create / edit)."""
        list_table, entries, column = FAMILIES[family]
        with self.conn.transaction():
            settings = self.conn.execute('SELECT * FROM "Settings" ORDER BY id DESC LIMIT 1').fetchone()
            names = [d.name for d in self.conn.execute('SELECT * FROM "Settings" LIMIT 0').description]
            previous = dict(zip(names, settings, strict=True))
            ids = [r[0] for r in self.conn.execute(
                f'SELECT id FROM "{entries}" WHERE "{column}" = %s ORDER BY id', (previous[column],))]  # fmt: skip
            new_id = None
            if edit is not None or delete is not None:
                old = edit if edit is not None else delete
                if old not in ids:
                    raise ValueError("You are trying to edit an item multiple times...")
                ids.remove(old)
            if create is not None:
                keys = list(create)
                values = [Jsonb(v) if isinstance(v, (dict, list)) else v for v in create.values()]
                cols = ", ".join(f'"{k}"' for k in keys)
                marks = ", ".join(["%s"] * len(keys))
                new_id = self.conn.execute(
                    f'INSERT INTO "{family}" ({cols}, "createdAt") VALUES ({marks}, %s) RETURNING id',
                    (*values, at),
                ).fetchone()[0]
                ids.append(new_id)
            list_id = self.conn.execute(f'INSERT INTO "{list_table}" DEFAULT VALUES RETURNING id').fetchone()[
                0
            ]
            for item in ids:
                self.conn.execute(
                    f'INSERT INTO "{entries}" (id, "{column}") VALUES (%s, %s)', (item, list_id)
                )
            lists = [list_id if c == column else previous[c] for c in SETTINGS_COLUMNS]
            quoted = ", ".join(f'"{c}"' for c in SETTINGS_COLUMNS)
            marks = ", ".join(["%s"] * len(SETTINGS_COLUMNS))
            self.conn.execute(
                f'INSERT INTO "Settings" (metadata, "createdAt", {quoted}) VALUES (%s, %s, {marks})',
                (Jsonb({"by": by}), at, *lists),
            )
            return new_id


GEM_ROUTES = ["/datasets/gem/move_dataset/OPEN/SIGNOFF", "/datasets/gem/move_dataset/OPEN/COMPLETED",
              "/datasets/gem/move_dataset/SIGNOFF/COMPLETED", "/datasets/gem/move_dataset/COMPLETED/SIGNOFF",
              "/dataset_lumisections/gem.*", "/cycles/move_dataset/gem/.*", "/json_portal/generate"]  # fmt: skip


def configuration_history(
    conn: psycopg.Connection, components: tuple[str, ...] = ("dt-dt", "tracker-pixel")
) -> None:
    """Workspaces and a configuration history with creations, an edit, a deletion and permissions (one of
    them untranslatable)."""
    w = ConfigurationWriter(conn)
    at = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    columns: dict[str, dict[str, int]] = {}
    by_ws: dict[str, list[str]] = {}
    for component in components:
        ws, column = component.split("-", 1)
        by_ws.setdefault(ws, []).append(column)
    for ws, cols in by_ws.items():
        columns[f"online:{ws}"] = w.workspace(ws, "online", cols)
        columns[f"offline:{ws}"] = w.workspace(ws, "offline", cols)
    first_ws, first_col = components[0].split("-", 1)
    rule = {"==": [{"var": "run.oms.hlt_key"}, "/cdaq/physics/v1"]}
    w.change(
        "Permission", "admin@cern.ch", at, create={"egroup": "cms-dqm-runregistry-experts", "routes": [".*"]}
    )
    cc = w.change("ClassClassifier", "expert@cern.ch", at + timedelta(hours=1),
                  create={"class": "Collisions26", "classifier": rule, "priority": 1, "enabled": True})  # fmt: skip
    w.change("ClassClassifier", "expert@cern.ch", at + timedelta(hours=2), edit=cc,
             create={"class": "Collisions26", "classifier": rule, "priority": 2, "enabled": True})  # fmt: skip
    dc = w.change("DatasetClassifier", "expert@cern.ch", at + timedelta(hours=3),
                  create={"class": "Collisions26", "classifier": {"==": [1, 1]}, "enabled": True})  # fmt: skip
    w.change("ComponentClassifier", "expert@cern.ch", at + timedelta(hours=4),
             create={"status": "GOOD", "component": columns[f"online:{first_ws}"][first_col],
                     "classifier": {"==": [1, 1]}, "priority": 1, "enabled": True})  # fmt: skip
    w.change("OfflineDatasetClassifier", "expert@cern.ch", at + timedelta(hours=5),
             create={"workspace": first_ws, "classifier": {"==": [1, 1]}, "enabled": True})  # fmt: skip
    w.change("DatasetsAccepted", "expert@cern.ch", at + timedelta(hours=6),
             create={"name": "/PromptReco/Collisions2026A/DQM", "class": "Collisions26", "run_from": 1000,
                     "run_to": 2000, "enabled": True,
                     "regexp": "/ZeroBias/Run2026A-PromptReco-v.*?/DQMIO\n/SingleMuon/Run2026A-PromptReco-v.*?/DQMIO"})  # fmt: skip
    w.change("JsonClassifier", "expert@cern.ch", at + timedelta(hours=7),
             create={"name": "golden", "classifier": {"==": [{"var": "lumisection.rr.dt-dt"}, "GOOD"]}})  # fmt: skip
    w.change("Permission", "admin@cern.ch", at + timedelta(hours=8),
             create={"egroup": "cms-dqm-runregistry-offline-gem-certifiers", "routes": GEM_ROUTES})  # fmt: skip
    w.change("Permission", "admin@cern.ch", at + timedelta(hours=9),
             create={"egroup": "cms-dqm-some-team", "routes": ["/weird/.*thing", "/json_portal/generate"]})  # fmt: skip
    w.change("DatasetClassifier", "expert@cern.ch", at + timedelta(hours=10), delete=dc)


def _list_to_ranges(numbers: list[int]) -> list[list[int]]:
    out: list[list[int]] = []
    for n in numbers:
        if out and out[-1][1] == n - 1:
            out[-1][1] = n
        else:
            out.append([n, n])
    return out


def cache_of(rows: list[tuple[int, dict[str, Any], dict[str, Any]]]) -> dict[str, Any]:
    """The original's per-LS loop over AggregatedLumisection rows (§3.4)."""
    empty = {"triplet_summary": {}, "dcs_summary": {}, "rr_ranges": {}, "dcs_ranges": {}}
    if not rows:
        return {**empty, "recorded": 0.0, "delivered": 0.0}
    by_ls = {ls: (oms, rr) for ls, oms, rr in rows}
    last = max(by_ls)
    components = sorted({c for _, _, rr in rows for c in rr})
    bits = sorted(
        {b for _, oms, _ in rows for b in oms if b not in NOT_DCS and b not in ("recorded", "delivered")}
    )
    triplets: dict[str, Any] = {}
    rr_ranges: dict[str, Any] = {}
    for component in components:
        counts: dict[str, Any] = {"EMPTY": 0}
        lists: dict[str, list[int]] = {}
        comments: set[str] = set()
        causes: set[str] = set()
        for ls in range(1, last + 1):
            triplet = by_ls[ls][1].get(component) if ls in by_ls else None
            status = (triplet or {}).get("status") or "EMPTY"
            counts[status] = counts.get(status, 0) + 1
            lists.setdefault(status, []).append(ls)
            if triplet and triplet.get("comment"):
                comments.add(triplet["comment"])
            if triplet and triplet.get("cause"):
                causes.add(triplet["cause"])
        counts["comments"] = sorted(comments)
        counts["causes"] = sorted(causes)
        triplets[component] = counts
        rr_ranges[component] = {status: _list_to_ranges(numbers) for status, numbers in lists.items()}
    dcs: dict[str, Any] = {}
    dcs_ranges: dict[str, Any] = {}
    for bit in bits:
        counts = {}
        lists = {}
        for ls in range(1, last + 1):
            if ls not in by_ls or bit not in by_ls[ls][0]:
                key = "EMPTY"
            else:
                value = by_ls[ls][0][bit]
                key = (
                    "NULL"
                    if value is None
                    else "TRUE"
                    if value is True
                    else "FALSE"
                    if value is False
                    else str(value)
                )
            counts[key] = counts.get(key, 0) + 1
            lists.setdefault(key, []).append(ls)
        dcs[bit] = counts
        dcs_ranges[bit] = {key: _list_to_ranges(numbers) for key, numbers in lists.items()}
    dcs["ls_duration"] = {"TRUE": last}
    dcs_ranges["all_lumisections"] = {"TRUE": [[1, last]]}
    recorded = sum(max(0.0, float(oms.get("recorded") or 0)) for oms, _ in by_ls.values())
    delivered = sum(max(0.0, float(oms.get("delivered") or 0)) for oms, _ in by_ls.values())
    return {"triplet_summary": triplets, "dcs_summary": dcs, "rr_ranges": rr_ranges, "dcs_ranges": dcs_ranges,
            "recorded": recorded, "delivered": delivered}  # fmt: skip


# ---------------------------------------------------------------------------------------------------
# AggregatedLumisection on ranges: what the view gives LS by LS, painted event by event over numpy arrays
# ---------------------------------------------------------------------------------------------------
#: Per event of a run: its LS's min, max and count, looked up event by event through the assignations'
#: primary key (a lateral join: a plain join left to a freshly COPYed table's missing statistics scans every
#: assignation of the database for each run).
_SPANS = """
SELECT e.name, e.version, {manual}, e.lumisection_metadata_id, a.first, a.last, a.count
FROM "{table}" e CROSS JOIN LATERAL (
  SELECT min(lumisection_number) AS first, max(lumisection_number) AS last, count(*) AS count
  FROM "{table}Assignation" WHERE version = e.version) a
WHERE e.run_number = %s AND a.count > 0 ORDER BY e.version
"""


class _Values:
    """Interned payload values (a triplet, a DCS bit's value), told apart by type as JSON does."""

    def __init__(self) -> None:
        self.items: list[Any] = []
        self._index: dict[str, int] = {}
        self._seen: dict[int, int] = {}  # by id() of values kept alive in `items`

    def __call__(self, value: Any) -> int:
        seen = self._seen.get(id(value))
        if seen is not None and self.items[seen] is value:
            return seen
        key = json.dumps(value, sort_keys=True)
        if key not in self._index:
            self._index[key] = len(self.items)
            self.items.append(value)
        self._seen[id(value)] = self._index[key]
        return self._index[key]


class MergedDataset:
    """One dataset's AggregatedLumisection: per component / OMS key, the index of its merged value at each LS
    (-1 = absent); `joined` = the LS the view's inner join keeps (RR and OMS data both present)."""

    def __init__(self, size: int, values: _Values) -> None:
        self.values = values
        self.rr: dict[str, np.ndarray] = {}
        self.oms: dict[str, np.ndarray] = {}
        self.rr_covered = np.zeros(size, dtype=bool)
        self.oms_covered = np.zeros(size, dtype=bool)
        self.size = size

    def _paint(self, layer: dict[str, np.ndarray], payload: dict[str, Any], start: int, stop: int,
               where: np.ndarray | None = None) -> None:  # fmt: skip
        for key, value in payload.items():
            column = layer.get(key)
            if column is None:
                column = layer[key] = np.full(self.size, -1, dtype=np.int32)
            if where is None:
                column[start:stop] = self.values(value)
            else:
                column[start:stop][where[start:stop]] = self.values(value)

    @property
    def joined(self) -> np.ndarray:
        return self.rr_covered & self.oms_covered

    def labelled(self, column: np.ndarray, last: int, label: Any) -> tuple[np.ndarray, list[str]]:
        """Per LS 1..last, the code of `label(value)` of `column`'s value (label(None) where the view has no
        row or the key is absent), and the labels by code."""
        at = np.where(self.joined[:last], column[:last], -1)
        present, inverse = np.unique(at, return_inverse=True)
        names: list[str] = []
        codes = []
        for index in present.tolist():
            name = label(self.values.items[index] if index >= 0 else None, index >= 0)
            if name not in names:
                names.append(name)
            codes.append(names.index(name))
        return np.array(codes, dtype=np.int32)[inverse.reshape(-1)], names

    def statuses(self, component: str, last: int) -> list[str]:
        """The summary's status of `component` at LS 1..last (EMPTY where the view has no row or no triplet)."""
        codes, names = self.labelled(self.rr[component], last, _status_label)
        return [names[c] for c in codes.tolist()]

    def cache(self) -> dict[str, Any]:
        """The original's DatasetTripletCache of the dataset (`cache_of` over the same rows, on ranges)."""
        joined = np.flatnonzero(self.joined)
        if not len(joined):
            return cache_of([])
        last = int(joined[-1]) + 1
        inside = self.joined[:last]
        items = self.values.items
        triplets: dict[str, Any] = {}
        rr_ranges: dict[str, Any] = {}
        for component in sorted(c for c, column in self.rr.items() if (column[:last][inside] >= 0).any()):
            codes, names = self.labelled(self.rr[component], last, _status_label)
            counts: dict[str, Any] = {"EMPTY": 0} | dict(zip(names, np.bincount(codes).tolist(), strict=True))
            present = np.unique(self.rr[component][:last][inside]).tolist()
            triplets_here = [items[i] for i in present if i >= 0 and items[i]]
            counts["comments"] = sorted({t["comment"] for t in triplets_here if t.get("comment")})
            counts["causes"] = sorted({t["cause"] for t in triplets_here if t.get("cause")})
            triplets[component] = counts
            rr_ranges[component] = _ranges_of(codes, names)
        dcs: dict[str, Any] = {}
        dcs_ranges: dict[str, Any] = {}
        bits = sorted(b for b, column in self.oms.items()
                      if b not in NOT_DCS and b not in ("recorded", "delivered") and (column[:last][inside] >= 0).any())  # fmt: skip
        for bit in bits:
            codes, names = self.labelled(self.oms[bit], last, _dcs_label)
            dcs[bit] = dict(zip(names, np.bincount(codes).tolist(), strict=True))
            dcs_ranges[bit] = _ranges_of(codes, names)
        dcs["ls_duration"] = {"TRUE": last}
        dcs_ranges["all_lumisections"] = {"TRUE": [[1, last]]}
        luminosity = {}
        for key in ("recorded", "delivered"):
            column = self.oms.get(key)
            at = column[joined].tolist() if column is not None else [-1] * len(joined)
            luminosity[key] = sum(max(0.0, float((items[i] if i >= 0 else None) or 0)) for i in at)
        return {"triplet_summary": triplets, "dcs_summary": dcs, "rr_ranges": rr_ranges, "dcs_ranges": dcs_ranges,
                **luminosity}  # fmt: skip


def _status_label(triplet: Any, present: bool) -> str:
    return (triplet or {}).get("status") or "EMPTY"


def _dcs_label(value: Any, present: bool) -> str:
    if not present:
        return "EMPTY"
    return "NULL" if value is None else "TRUE" if value is True else "FALSE" if value is False else str(value)


def _ranges_of(codes: np.ndarray, names: list[str]) -> dict[str, list[list[int]]]:
    """{label: [[from, to], ...]} of per-LS label codes (LS 1..n), block by block."""
    starts = np.concatenate(([0], np.flatnonzero(np.diff(codes)) + 1))
    ends = np.append(starts[1:], len(codes))
    out: dict[str, list[list[int]]] = {}
    for start, end, code in zip(starts.tolist(), ends.tolist(), codes[starts].tolist(), strict=True):
        out.setdefault(names[code], []).append([start + 1, end])
    return out


def merged_run(conn: psycopg.Connection, run: int, payloads: dict[int, Any]) -> dict[str, MergedDataset]:
    """Every dataset of `run` as AggregatedLumisection sees it: RR events merged by (manual_change, version),
    OMS events by version over the dataset's own and the `online` events (offline datasets inherit online DCS
    bits at the LS they have OMS data of their own), inner join of both. `payloads` caches JSONB by id."""
    spans: dict[str, list[tuple[str, int, bool, int, int, int]]] = {}
    for table, manual in (("LumisectionEvent", "e.manual_change"), ("OMSLumisectionEvent", "false")):
        rows = []
        for name, version, is_manual, jsonb_id, first, last, count in conn.execute(
            _SPANS.format(table=table, manual=manual), (run,)
        ):
            if count == last - first + 1:
                rows.append((name, version, is_manual, jsonb_id, first, last))
            else:  # not one range: the event's LS, range by range
                numbers = [r[0] for r in conn.execute(
                    f'SELECT lumisection_number FROM "{table}Assignation" WHERE version = %s ORDER BY 1', (version,))]  # fmt: skip
                rows += [(name, version, is_manual, jsonb_id, a, b) for a, b in _list_to_ranges(numbers)]
        spans[table] = rows
    missing = {row[3] for rows in spans.values() for row in rows} - payloads.keys()
    if missing:
        payloads.update(conn.execute('SELECT id, jsonb FROM "JSONBDeduplication" WHERE id = ANY(%s)', (list(missing),)).fetchall())  # fmt: skip
    values = _Values()
    out: dict[str, MergedDataset] = {}
    names = {row[0] for rows in spans.values() for row in rows}
    online_oms = [row for row in spans["OMSLumisectionEvent"] if row[0] == "online"]
    for name in sorted(names):
        rr = sorted((r for r in spans["LumisectionEvent"] if r[0] == name), key=lambda r: (r[2], r[1]))
        own = [r for r in spans["OMSLumisectionEvent"] if r[0] == name]
        size = max((r[5] for r in rr + own), default=0)
        merged = out[name] = MergedDataset(size, values)
        for _, _, _, jsonb_id, first, last in rr:
            merged.rr_covered[first - 1 : last] = True
            merged._paint(merged.rr, payloads[jsonb_id], first - 1, last)
        for _, _, _, _, first, last in own:
            merged.oms_covered[first - 1 : last] = True
        inherited = own if name == "online" else sorted(own + online_oms, key=lambda r: r[1])
        for _, _, _, jsonb_id, first, last in inherited:
            merged._paint(merged.oms, payloads[jsonb_id], first - 1, min(last, size), merged.oms_covered)
    return out


def reference_caches(conn: psycopg.Connection, run: int) -> dict[str, dict[str, Any]]:
    """The caches of `run`'s datasets the slow way the original computes them: the AggregatedLumisection
    query LS by LS, then its JavaScript loop (`cache_of`). Tests check `merged_run` against it."""
    per_dataset: dict[str, list[tuple[int, dict[str, Any], dict[str, Any]]]] = {}
    for name, ls, oms, rr in conn.execute(AGGREGATED, {"run": run}).fetchall():
        per_dataset.setdefault(name, []).append((ls, oms, rr))
    names = [r[0] for r in conn.execute('SELECT name FROM "Dataset" WHERE run_number = %s', (run,))]
    return {name: cache_of(per_dataset.get(name, [])) for name in names}


# ---------------------------------------------------------------------------------------------------
# A generated history with the awkward cases
# ---------------------------------------------------------------------------------------------------
COMPONENTS = ("dt-dt", "tracker-pixel", "tracker-strip", "csc-csc", "ecal-ecal", "hcal-hcal")
OFFLINE = "/PromptReco/Collisions2026A/DQM"
START = datetime(2026, 4, 1, 8, 0, tzinfo=UTC)
#: Of the generated runs, the one deleted for good (signed off: it has an offline dataset) and the one deleted
#: then restored (`Generator.deletions`).
DELETED_RUN_INDEX, RESTORED_RUN_INDEX = -2, 3


class Generator:
    """Fills an original with `runs` runs of `ls` LS each, written change by change as the original writes."""

    def __init__(
        self, conn: psycopg.Connection, *, seed: int = 7, components: tuple[str, ...] = COMPONENTS
    ) -> None:
        # A freshly COPYed original has no statistics, so its per-run queries are costed high enough for JIT,
        # which then spends ~250 ms compiling each 5 ms query (the year's generation: hours instead of minutes).
        conn.execute("SET jit = off")
        self.w = OriginalWriter(conn)
        self.rng = random.Random(seed)
        self.components = components
        self.clock = START
        self.next_run = 1000

    def tick(self) -> datetime:
        self.clock += timedelta(seconds=self.rng.randint(5, 300))
        return self.clock

    def dcs(self, ls_count: int) -> list[tuple[int, int, dict[str, Any]]]:
        out = []
        first = 1
        while first <= ls_count:
            last = min(ls_count, first + self.rng.randint(5, 60))
            out.append(
                (
                    first,
                    last,
                    {bit: self.rng.random() > 0.1 for bit in DCS_BITS}
                    | {
                        "recorded": round(self.rng.random(), 3),
                        "delivered": round(self.rng.random() + 0.1, 3),
                    },
                )
            )
            first = last + 1
        return out

    def create_run(self, ls_count: int, *, pre_atomic: bool = False) -> int:
        run = self.next_run
        self.next_run += 1
        atomic = PRE_ATOMIC_VERSION if pre_atomic else None
        with self.w.version("auto@auto", "run creation", self.tick(), atomic=atomic):
            self.w.run_event(run, oms={"ls_duration": ls_count, "hlt_key": "/cdaq/physics/v1", "energy": 6800,
                                       "dt_included": True},
                             rr={"class": "Collisions26", "significant": True, "state": "OPEN", "stop_reason": ""},
                             by_auto=True)  # fmt: skip
            self.w.dataset_event(run, "online", {})
            for first, last, bits in self.dcs(ls_count):
                self.w.oms_ls_event(run, "online", bits, first, last)
            # create_rr_lumisections: the LS array as ranges of identical LS over all keys (§4.3).
            self.w.ls_event(run, "online", {c: {"status": "GOOD", "comment": "", "cause": ""} for c in self.components},
                            1, ls_count, manual=False)  # fmt: skip
        return run

    def history(self, run: int, ls_count: int, *, sign_off: bool) -> None:
        rng = self.rng
        comp = rng.choice(self.components)
        a = rng.randint(1, max(1, ls_count - 4))
        with self.w.version("auto@auto", "automatic update", self.tick()):
            self.w.ls_event(run, "online", {comp: {"status": "BAD", "comment": "", "cause": ""}},
                            a, min(ls_count, a + 1), manual=False)  # fmt: skip
        with self.w.version("alice@cern.ch", "HV trip — Δt ≈ 3 s ✓ 電圧", self.tick()):
            self.w.ls_event(run, "online", {comp: {"status": "STANDBY", "comment": "HV trip ✓", "cause": ""}},
                            min(ls_count, a + 1), min(ls_count, a + 3), manual=True)  # fmt: skip
            self.w.run_event(run, rr={"class": "Cosmics26"}, by_auto=False)
        with self.w.version("auto@auto - bob@cern.ch", "refresh", self.tick()):
            self.w.ls_event(run, "online", {comp: {"status": "BAD", "comment": "", "cause": ""}},
                            min(ls_count, a + 2), ls_count, manual=False)  # fmt: skip
            self.w.run_event(run, oms={"energy": 6799, "end_time": "2026-04-01T10:00:00Z"},
                             rr={"class": "Collisions26"}, by_auto=True)  # fmt: skip
        if not sign_off:
            return
        for attempt in range(2 if run % 3 == 0 else 1):  # a second sign-off re-creates the datasets
            with self.w.version(
                "carol@cern.ch", "sign off" if not attempt else "sign off again", self.tick()
            ):
                self.w.run_event(run, rr={"state": "SIGNOFF"}, by_auto=False)
                attrs = {"global_state": "waiting dqm gui", "appeared_in": []}
                attrs |= {f"{c.split('-')[0]}_state": "waiting dqm gui" for c in self.components}
                self.w.dataset_event(run, OFFLINE, attrs)
                for first, last, bits in self.dcs(ls_count):
                    self.w.oms_ls_event(run, OFFLINE, bits, first, last)
                self.w.ls_event(run, OFFLINE, {c: {"status": "GOOD", "comment": "", "cause": ""} for c in self.components},
                                1, ls_count, manual=False)  # fmt: skip
        with self.w.version("auto@auto", "DQM GUI ping", self.tick()):
            self.w.dataset_event(run, OFFLINE, {"global_state": "OPEN", "appeared_in": ["DQM GUI"]},
                                 in_gui=[f"/ZeroBias/Run2026A-PromptReco-v1/DQMIO#{run}"])  # fmt: skip
        with self.w.version("auto@auto", "DCS correction", self.tick()):  # online newer than the offline copy
            self.w.oms_ls_event(run, "online", {"cms_active": False}, 1, min(ls_count, 3))
        with self.w.version("dave@cern.ch", "offline certification", self.tick()):
            self.w.ls_event(run, OFFLINE, {comp: {"status": "BAD", "comment": "bad alignment", "cause": ""}},
                            1, min(ls_count, 4), manual=True)  # fmt: skip
        with self.w.version("auto@auto", "late reclassification", self.tick()):
            self.w.ls_event(run, OFFLINE, {comp: {"status": "GOOD", "comment": "", "cause": ""}},
                            1, ls_count, manual=False)  # fmt: skip
        if run % 4 == 0:
            with self.w.version("erin@cern.ch", "hide: duplicate of reprocessing", self.tick()):
                self.w.dataset_event(run, OFFLINE, {}, deleted=True)

    def deletions(self, numbers: list[int]) -> None:
        """`RunEvent.deleted`: a signed-off run deleted for good (its offline dataset, not deleted itself, is
        still in the golden JSON made after it: the original's JSONs filter datasets, not runs), and a run
        deleted by mistake then brought back by a later event of its own that is not deleted."""
        if len(numbers) < 5:  # too few runs to spare two of them
            return
        deleted, restored = numbers[DELETED_RUN_INDEX], numbers[RESTORED_RUN_INDEX]
        with self.w.version("admin@cern.ch", "delete run: a test run recorded as physics", self.tick()):
            self.w.run_event(deleted, by_auto=False, deleted=True)
        with self.w.version("admin@cern.ch", "delete run", self.tick()):
            self.w.run_event(restored, by_auto=False, deleted=True)
        with self.w.version("auto@auto", "automatic update", self.tick()):
            self.w.run_event(restored, oms={"energy": 6801}, by_auto=True)

    def golden_json(self, pattern: str, component: str, by: str, *, official: bool = False,
                    deleted: bool = False) -> None:  # fmt: skip
        """json_portal: the LS of every non-deleted dataset named `pattern` whose `component` is GOOD
        (rr_backend §6.8: deleted datasets take no part), from the current AggregatedLumisection (the
        original generates from its current state), with the registry version."""
        self.w.flush()
        conn = self.w.conn
        rule = {"==": [{"var": f"lumisection.rr.{component}"}, "GOOD"]}
        with conn.transaction():
            golden: dict[str, list[list[int]]] = {}
            runs = [
                r[0]
                for r in conn.execute(
                    'SELECT run_number FROM "Dataset" WHERE name = %s AND NOT deleted ORDER BY 1', (pattern,)
                )
            ]
            for run in runs:
                merged = merged_run(conn, run, {}).get(pattern)
                joined = np.flatnonzero(merged.joined) + 1 if merged is not None else []
                if not len(joined) or component not in merged.rr:
                    continue
                statuses = merged.statuses(component, int(joined[-1]))
                good = [int(ls) for ls in joined if statuses[ls - 1] == "GOOD"]
                if good:
                    golden[str(run)] = _list_to_ranges(good)
            version = conn.execute('SELECT max(atomic_version) FROM "Version"').fetchone()[0]
            conn.execute(
                'INSERT INTO "GeneratedJson" (dataset_name_filter, tags, created_by, official, runregistry_version, '
                'json_logic, generated_json, deleted, "createdAt", "updatedAt") VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)',
                (
                    pattern,
                    "imported",
                    by,
                    official,
                    version,
                    Jsonb(rule),
                    Jsonb(golden),
                    deleted,
                    self.tick(),
                    self.clock,
                ),
            )
        self.tick()

    def cycle(self, name: str, attributes: dict[str, str], *, deleted: bool = False) -> None:
        """A cycle (plain CRUD in the original) over the offline datasets, with its members."""
        self.w.flush()
        conn = self.w.conn
        with conn.transaction():
            at = self.tick()
            cycle_id = conn.execute(
                'INSERT INTO "Cycle" (cycle_name, cycle_attributes, deadline, deleted, "createdAt", "updatedAt") '
                "VALUES (%s, %s, %s, %s, %s, %s) RETURNING id_cycle",
                (name, Jsonb(attributes), at + timedelta(days=14), deleted, at, at),
            ).fetchone()[0]
            conn.execute(
                'INSERT INTO "CycleDataset" (id_cycle, run_number, name) SELECT %s, run_number, name FROM "Dataset" '
                "WHERE name <> 'online'",
                (cycle_id,),
            )

    def generate(self, runs: int, ls_count: int) -> list[int]:
        configuration_history(self.w.conn, self.components)
        numbers = []
        for index in range(runs):
            run = self.create_run(ls_count, pre_atomic=index == 0)
            numbers.append(run)
        half = len(numbers) // 2
        for index, run in enumerate(numbers):
            self.history(run, ls_count, sign_off=index % 2 == 0)
            if index == half:  # a JSON of the past: verify must regenerate it as of then, not now
                self.golden_json(OFFLINE, self.components[0], "carol@cern.ch", official=True)
        self.deletions(numbers)
        self.golden_json(OFFLINE, self.components[0], "dave@cern.ch")
        self.cycle(
            "Cycle 2026A — prompt",
            {"global_state": "pending", f"{self.components[0].split('-')[0]}_state": "completed"},
        )
        self.cycle("Abandoned cycle", {"global_state": "pending"}, deleted=True)
        self.golden_json("online", self.components[1], "erin@cern.ch", deleted=True)
        self.w.refresh_caches()
        return numbers

    def more(self, versions: int, run: int, ls_count: int, *, refresh: bool = True, span: int = 6) -> None:
        """`versions` new atomic versions on an existing run (a live original moving on), each an automatic
        update of one component on `span` LS (fewer at the run's end)."""
        for index in range(versions):
            with self.w.version("auto@auto", f"update {index}", self.tick()):
                first = self.rng.randint(1, max(1, ls_count - span + 1))
                self.w.ls_event(run, "online", {self.components[index % len(self.components)]:
                                                {"status": self.rng.choice(["GOOD", "BAD", "STANDBY"]),
                                                 "comment": "", "cause": ""}},
                                first, min(ls_count, first + span - 1), manual=False)  # fmt: skip
        if refresh:
            self.w.refresh_caches()
        else:
            self.w.flush()
