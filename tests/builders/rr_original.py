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
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

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
    """Writes changes the way the original's backend does (one psycopg connection, one transaction a change)."""

    def __init__(self, conn: psycopg.Connection) -> None:
        self.conn = conn
        self._dedup: dict[str, int] = {}

    # ---------------------------------------------------------------------------------------- versions
    @contextmanager
    def version(self, by: str, comment: str, at: datetime, *, atomic: int | None = None) -> Iterator[int]:
        with self.conn.transaction():
            if atomic is None:
                atomic = self.conn.execute(
                    'INSERT INTO "Version" ("by", comment, "createdAt", "updatedAt") VALUES (%s, %s, %s, %s) '
                    "RETURNING atomic_version",
                    (by, comment, at, at),
                ).fetchone()[0]
            else:
                self.conn.execute(
                    'INSERT INTO "Version" (atomic_version, "by", comment, "createdAt", "updatedAt") '
                    "VALUES (%s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
                    (atomic, by, comment, at, at),
                )
            self._atomic = atomic
            self._touched_runs: set[int] = set()
            self._touched_datasets: set[tuple[int, str]] = set()
            yield atomic
            self._materialize()

    def _event(self) -> int:
        return self.conn.execute(
            'INSERT INTO "Event" (atomic_version) VALUES (%s) RETURNING version', (self._atomic,)
        ).fetchone()[0]

    def _jsonb(self, value: dict[str, Any]) -> int:
        text = _stringify(value)
        digest = hashlib.sha1(text.encode()).hexdigest()
        if digest not in self._dedup:
            row = self.conn.execute(
                'INSERT INTO "JSONBDeduplication" (jsonb, unique_hash) VALUES (%s, %s) '
                "ON CONFLICT (unique_hash) DO UPDATE SET unique_hash = EXCLUDED.unique_hash RETURNING id",
                (Jsonb(value), digest),
            ).fetchone()
            self._dedup[digest] = row[0]
        return self._dedup[digest]

    # ---------------------------------------------------------------------------------------- events
    def run_event(
        self, run: int, *, oms: dict[str, Any] | None = None, rr: dict[str, Any] | None = None, by_auto: bool
    ) -> None:
        version = self._event()
        self.conn.execute(
            'INSERT INTO "RunEvent" (version, run_number, oms_metadata, rr_metadata, deleted, manual_change) '
            "VALUES (%s, %s, %s, %s, false, %s)",
            (version, run, Jsonb(oms or {}), Jsonb(rr or {}), not by_auto),
        )
        self._touched_runs.add(run)

    def dataset_event(
        self,
        run: int,
        name: str,
        metadata: dict[str, Any] | None = None,
        *,
        in_gui: list[str] | None = None,
        deleted: bool = False,
    ) -> None:
        version = self._event()
        self.conn.execute(
            'INSERT INTO "DatasetEvent" (version, run_number, name, dataset_metadata, datasets_in_gui, deleted) '
            "VALUES (%s, %s, %s, %s, %s, %s)",
            (version, run, name, Jsonb(metadata or {}), Jsonb(in_gui or []), deleted),
        )
        self._touched_datasets.add((run, name))
        # The dataset row must exist before LS events reference it (the original materializes in the same
        # transaction, after each event insert).
        self._materialize_dataset(run, name)

    def ls_event(
        self, run: int, name: str, payload: dict[str, Any], first: int, last: int, *, manual: bool
    ) -> None:
        self._ls("LumisectionEvent", run, name, payload, first, last, manual)

    def oms_ls_event(self, run: int, name: str, payload: dict[str, Any], first: int, last: int) -> None:
        self._ls("OMSLumisectionEvent", run, name, payload, first, last, None)

    def _ls(
        self,
        table: str,
        run: int,
        name: str,
        payload: dict[str, Any],
        first: int,
        last: int,
        manual: bool | None,
    ) -> None:
        assert first <= last
        version = self._event()
        jsonb_id = self._jsonb(payload)
        if manual is None:
            self.conn.execute(
                f'INSERT INTO "{table}" (version, run_number, name, lumisection_metadata_id) VALUES (%s,%s,%s,%s)',
                (version, run, name, jsonb_id),
            )
        else:
            self.conn.execute(
                f'INSERT INTO "{table}" (version, run_number, name, lumisection_metadata_id, manual_change) '
                "VALUES (%s,%s,%s,%s,%s)",
                (version, run, name, jsonb_id, manual),
            )
        self.conn.execute(
            f'INSERT INTO "{table}Assignation" (version, lumisection_number) '
            "SELECT %s, generate_series(%s::int, %s::int)",
            (version, first, last),
        )
        self._touched_datasets.add((run, name))

    # ---------------------------------------------------------------------------------------- materialize
    def _materialize(self) -> None:
        for run in sorted(self._touched_runs):
            self.conn.execute(
                """INSERT INTO "Run" (run_number, oms_attributes, rr_attributes, version, deleted)
                SELECT run_number, mergejsonb(oms_metadata ORDER BY version),
                       mergejsonb(rr_metadata ORDER BY manual_change, version),
                       (SELECT max(version) FROM "RunEvent"), bool_or(false)
                FROM "RunEvent" WHERE run_number = %(run)s GROUP BY run_number
                ON CONFLICT (run_number) DO UPDATE SET oms_attributes = EXCLUDED.oms_attributes,
                  rr_attributes = EXCLUDED.rr_attributes, version = EXCLUDED.version""",
                {"run": run},
            )
        for run, name in sorted(self._touched_datasets):
            # LS data changed: the original appends an empty DatasetEvent to bump the dataset's version.
            version = self._event()
            self.conn.execute(
                'INSERT INTO "DatasetEvent" (version, run_number, name, dataset_metadata, datasets_in_gui, deleted) '
                """SELECT %s, %s, %s, '{}', '[]', deleted FROM "Dataset" WHERE run_number = %s AND name = %s""",
                (version, run, name, run, name),
            )
            self._materialize_dataset(run, name)

    def _materialize_dataset(self, run: int, name: str) -> None:
        self.conn.execute(
            """INSERT INTO "Dataset" (run_number, name, dataset_attributes, datasets_in_gui, deleted, version)
            SELECT run_number, name, mergejsonb(dataset_metadata ORDER BY version),
                   (SELECT COALESCE(jsonb_agg(DISTINCT x), '[]') FROM "DatasetEvent" d2,
                      jsonb_array_elements_text(d2.datasets_in_gui) x
                    WHERE d2.run_number = %(run)s AND d2.name = %(name)s),
                   (array_agg(deleted ORDER BY version DESC))[1], max(version)
            FROM "DatasetEvent" WHERE run_number = %(run)s AND name = %(name)s GROUP BY run_number, name
            ON CONFLICT (run_number, name) DO UPDATE SET dataset_attributes = EXCLUDED.dataset_attributes,
              datasets_in_gui = EXCLUDED.datasets_in_gui, deleted = EXCLUDED.deleted, version = EXCLUDED.version""",
            {"run": run, "name": name},
        )

    def refresh_caches(self, runs: list[int] | None = None) -> None:
        """fill_dataset_triplet_cache(): every dataset whose version is newer than its cache."""
        with self.conn.transaction():
            stale = self.conn.execute(
                """SELECT DISTINCT d.run_number FROM "Dataset" d LEFT JOIN "DatasetTripletCache" c
                USING (run_number, name) WHERE c.version IS NULL OR d.version > c.version ORDER BY 1"""
            ).fetchall()
            for (run,) in stale:
                if runs is not None and run not in runs:
                    continue
                rows = self.conn.execute(AGGREGATED, {"run": run}).fetchall()
                per_dataset: dict[str, list[tuple[int, dict[str, Any], dict[str, Any]]]] = {}
                for name, ls, oms, rr in rows:
                    per_dataset.setdefault(name, []).append((ls, oms, rr))
                names = self.conn.execute(
                    'SELECT name, version FROM "Dataset" WHERE run_number = %s', (run,)
                ).fetchall()
                for name, version in names:
                    cache = cache_of(per_dataset.get(name, []))
                    self.conn.execute(
                        """INSERT INTO "DatasetTripletCache" (run_number, name, triplet_summary, dcs_summary,
                        rr_ranges, dcs_ranges, brilcalc_recorded_luminosity, brilcalc_delivered_luminosity, version)
                        VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT (run_number, name) DO UPDATE SET
                        triplet_summary = EXCLUDED.triplet_summary, dcs_summary = EXCLUDED.dcs_summary,
                        rr_ranges = EXCLUDED.rr_ranges, dcs_ranges = EXCLUDED.dcs_ranges,
                        version = EXCLUDED.version""",
                        (
                            run,
                            name,
                            Jsonb(cache["triplet_summary"]),
                            Jsonb(cache["dcs_summary"]),
                            Jsonb(cache["rr_ranges"]),
                            Jsonb(cache["dcs_ranges"]),
                            cache["recorded"],
                            cache["delivered"],
                            version,
                        ),
                    )


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
# A generated history with the awkward cases
# ---------------------------------------------------------------------------------------------------
COMPONENTS = ("dt-dt", "tracker-pixel", "tracker-strip", "csc-csc", "ecal-ecal", "hcal-hcal")
OFFLINE = "/PromptReco/Collisions2026A/DQM"
START = datetime(2026, 4, 1, 8, 0, tzinfo=UTC)


class Generator:
    """Fills an original with `runs` runs of `ls` LS each, written change by change as the original writes."""

    def __init__(
        self, conn: psycopg.Connection, *, seed: int = 7, components: tuple[str, ...] = COMPONENTS
    ) -> None:
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
            for component in self.components:
                self.w.ls_event(run, "online", {component: {"status": "GOOD", "comment": "", "cause": ""}},
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
                for component in self.components:
                    self.w.ls_event(run, OFFLINE, {component: {"status": "GOOD", "comment": "", "cause": ""}},
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

    def golden_json(self, pattern: str, component: str, by: str, *, official: bool = False,
                    deleted: bool = False) -> None:  # fmt: skip
        """json_portal: the LS of every dataset named `pattern` whose `component` is GOOD, from the current
        AggregatedLumisection (the original generates from its current state), with the registry version."""
        conn = self.w.conn
        rule = {"==": [{"var": f"lumisection.rr.{component}"}, "GOOD"]}
        with conn.transaction():
            golden: dict[str, list[list[int]]] = {}
            runs = [
                r[0]
                for r in conn.execute(
                    'SELECT run_number FROM "Dataset" WHERE name = %s ORDER BY 1', (pattern,)
                )
            ]
            for run in runs:
                good = [ls for name, ls, _oms, rr in conn.execute(AGGREGATED, {"run": run}).fetchall()
                        if name == pattern and (rr.get(component) or {}).get("status") == "GOOD"]  # fmt: skip
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
        self.golden_json(OFFLINE, self.components[0], "dave@cern.ch")
        self.cycle(
            "Cycle 2026A — prompt",
            {"global_state": "pending", f"{self.components[0].split('-')[0]}_state": "completed"},
        )
        self.cycle("Abandoned cycle", {"global_state": "pending"}, deleted=True)
        self.golden_json("online", self.components[1], "erin@cern.ch", deleted=True)
        self.w.refresh_caches()
        return numbers

    def more(self, versions: int, run: int, ls_count: int, *, refresh: bool = True) -> None:
        """`versions` new atomic versions on an existing run (a live original moving on)."""
        for index in range(versions):
            with self.w.version("auto@auto", f"update {index}", self.tick()):
                first = self.rng.randint(1, ls_count)
                self.w.ls_event(run, "online", {self.components[index % len(self.components)]:
                                                {"status": self.rng.choice(["GOOD", "BAD", "STANDBY"]),
                                                 "comment": "", "cause": ""}},
                                first, min(ls_count, first + 5), manual=False)  # fmt: skip
        if refresh:
            self.w.refresh_caches()
