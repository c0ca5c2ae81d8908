"""Every service write goes through the one permission gate: found by enumerating the services, refused for
an actor without grants with nothing written, and allowed to the e-group the configuration grants it to."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, select

import runreg
from runreg.adoption import service as adoption
from runreg.certification import service as certification
from runreg.certification.tables import json_jobs, json_presets
from runreg.configuration import service as configuration
from runreg.configuration.tables import config_versions
from runreg.datasets import gui_service
from runreg.datasets import service as cycles
from runreg.datasets.dctools import service as dctools
from runreg.datasets.tables import cycle_datasets, cycle_events
from runreg.datasets.tables import cycles as cycle_table
from runreg.eventlog.tables import change_sets
from runreg.ingestion import service as ingestion
from runreg.integrations.dqmgui import Sample
from runreg.kernel.actors import Actor, ActorKind
from runreg.kernel.errors import PermissionDenied
from runreg.luminosity import service as luminosity
from runreg.luminosity.tables import luminosity_imports, luminosity_series
from runreg.predictions import service as predictions
from runreg.predictions.model import PredictedRange
from runreg.predictions.tables import prediction_submissions
from runreg.registry import service as registry
from runreg.registry.service import AutomaticUpdate, FlagEdit
from runreg.storage.database import Database
from runreg.trends import service as trends
from runreg.workflows import service as workflows
from tests.builders.cycles import DT_CERTIFIER
from tests.builders.runs import CERTIFIER, EXPERT, ML_AGENT, SHIFTER, create_collision_run

OUTSIDER = Actor("outsider@cern.ch", ActorKind.HUMAN, frozenset({"cms-some-other-group"}))
RUN = 380567
OFFLINE = "/PromptReco/Collisions2024A/DQM"
OTHER_OFFLINE = "/PromptReco/Collisions2024B/DQM"
HIDDEN_OFFLINE = "/Hidden/DQM"  # hidden by the DC tools: what un-hiding acts on
CYCLE = 1  # the world's cycle, holding OFFLINE


class NullRunner:
    def __init__(self) -> None:
        self.submitted: list[int] = []

    def submit(self, job_id: int) -> None:
        self.submitted.append(job_id)


class SignedOffGui:
    """The DQM GUI showing the world's offline dataset (the gate must refuse before anything is written)."""

    def samples(self, match: str | None = None) -> list[Sample]:
        return [Sample(RUN, "/ZeroBias/Run2024A-PromptReco-v1/DQMIO")]


class NoOms:
    """A refused refresh must never reach OMS."""

    def run(self, run_number: int) -> Any:
        raise AssertionError("OMS was called before the permission check")

    def lumisections(self, run_number: int, **_: Any) -> Any:
        raise AssertionError("OMS was called before the permission check")


def _automatic_update(conn_db: Database, actor: Actor) -> Any:
    update = AutomaticUpdate(oms_attributes={"energy": 1}, rr_attributes={}, oms_values={}, ls_count=20)
    with conn_db.transaction() as conn:
        return registry.apply_automatic_update(conn, actor=actor, run_number=RUN, update=update, comment="x")


class NoOriginal:
    """A refused import must never read the original database."""

    name = "nowhere:5432/runregistry"

    def __getattr__(self, attribute: str) -> Any:
        raise AssertionError("the original was read before the permission check")


#: Every service write, called as its users call it. A new write function without an entry fails the
#: enumeration test below: it must be added here, and so checked for its gate.
WRITES: dict[str, Callable[[Database, Actor], Any]] = {
    "adoption.import_rr": lambda db, a: adoption.import_rr(db, actor=a, source=NoOriginal()),
    "registry.register_run": lambda db, a: registry.register_run(
        db, actor=a, run_number=RUN + 1, oms_attributes={"ls_duration": 1}
    ),
    "registry.change_run_attributes": lambda db, a: registry.change_run_attributes(
        db, actor=a, run_number=RUN, rr={"stop_reason": "beam dump"}, comment="why"
    ),
    "registry.move_run": lambda db, a: registry.move_run(db, actor=a, run_number=RUN, to_state="SIGNOFF"),
    "registry.hide_run": lambda db, a: registry.hide_run(db, actor=a, run_number=RUN, reason="a test run"),
    "registry.show_run": lambda db, a: registry.show_run(db, actor=a, run_number=RUN, reason="physics"),
    "registry.create_dataset": lambda db, a: registry.create_dataset(
        db, actor=a, run_number=RUN, name="/Express/Collisions2024/DQM", attributes={"global_state": "OPEN"}
    ),
    "registry.change_dataset_attributes": lambda db, a: registry.change_dataset_attributes(
        db, actor=a, run_number=RUN, name=OFFLINE, attributes={"note": "x"}, comment="why"
    ),
    "registry.move_dataset": lambda db, a: registry.move_dataset(
        db, actor=a, run_number=RUN, name=OFFLINE, workspace="dt", to_state="SIGNOFF"
    ),
    "registry.move_datasets": lambda db, a: registry.move_datasets(
        db,
        actor=a,
        moves=[
            registry.DatasetMove(RUN, OFFLINE, "dt", "SIGNOFF", from_state="OPEN"),
            registry.DatasetMove(RUN, OFFLINE, "gem", "COMPLETED"),
        ],
        comment="certified",
    ),
    "registry.edit_flags": lambda db, a: registry.edit_flags(
        db, actor=a, run_number=RUN, edits=[FlagEdit("dt-dt", 2, 3, "BAD", "HV trip")], comment="HV trip"
    ),
    "registry.set_oms_values": lambda db, a: registry.set_oms_values(
        db, actor=a, run_number=RUN, first_ls=1, last_ls=2, values={"dtp_ready": False}, comment="wrong bit"
    ),
    "registry.rebuild_projection": lambda db, a: registry.rebuild_projection(db, actor=a, run_number=RUN),
    "registry.revert_change_set": lambda db, a: registry.revert_change_set(db, actor=a, change_set_id=2),
    "registry.apply_automatic_update": _automatic_update,
    "ingestion.ingest_run": lambda db, a: ingestion.ingest_run(
        db, NoOms(), {"run_number": RUN, "last_update": "2024-06-01T19:00:00Z"}, actor=a, lumisections=[]
    ),
    "ingestion.refresh_run": lambda db, a: ingestion.refresh_run(db, NoOms(), actor=a, run_number=RUN),
    "ingestion.mark_significant": lambda db, a: ingestion.mark_significant(
        db, NoOms(), actor=a, run_number=RUN
    ),
    "configuration.edit": lambda db, a: configuration.edit(db, actor=a, change=lambda d: d, comment="why"),
    "configuration.replace": lambda db, a: configuration.replace(
        db, actor=a, config=configuration.current_configuration(db), comment="why"
    ),
    "configuration.import_yaml": lambda db, a: configuration.import_yaml(
        db, actor=a, text=configuration.export_yaml(db), comment="why"
    ),
    "configuration.restore": lambda db, a: configuration.restore(db, actor=a, version=1),
    "certification.submit": lambda db, a: certification.submit(
        db, NullRunner(), actor=a, dataset_pattern="online", preset="golden"
    ),
    "certification.delete": lambda db, a: certification.delete(db, actor=a, job_id=1),
    # Refused before any source is used: `None` would fail on first use.
    "workflows.update": lambda db, a: workflows.update(db, None, actor=a),  # type: ignore[arg-type]
    "workflows.update_one": lambda db, a: workflows.update_one(db, None, name="wf", actor=a),  # type: ignore[arg-type]
    "certification.set_official": lambda db, a: certification.set_official(
        db, actor=a, job_id=1, official=True
    ),
    "certification.set_tags": lambda db, a: certification.set_tags(db, actor=a, job_id=1, tags="mine"),
    "certification.save_preset": lambda db, a: certification.save_preset(
        db, actor=a, name="mine", rule={"==": [{"var": "lumisection.rr.dt-dt"}, "GOOD"]}
    ),
    "certification.delete_preset": lambda db, a: certification.delete_preset(db, actor=a, name="dt"),
    "trends.extract": lambda db, a: trends.extract(db, actor=a, tree=trends.config_tree(), root=None),
    "trends.recompute": lambda db, a: trends.recompute(
        db, actor=a, tree=trends.config_tree(), config_name="ADC_Barrel_mean"
    ),
    "trends.nightly_pass": lambda db, a: trends.nightly_pass(db, actor=a, jobs=1),
    "trends.recompute_configured": lambda db, a: trends.recompute_configured(
        db, actor=a, config_name="ADC_Barrel_mean"
    ),
    "luminosity.import_brilcalc": lambda db, a: luminosity.import_brilcalc(
        db, actor=a, text="#run:fill,ls,time,beamstatus,E(GeV),delivered(/pb),recorded(/pb),avgpu,source\n"
    ),
    "datasets.create_cycle": lambda db, a: cycles.create_cycle(
        db, actor=a, name="another", deadline="2024-07-15", workspaces=["global"], filter={"name": OFFLINE}
    ),
    "datasets.edit_cycle": lambda db, a: cycles.edit_cycle(
        db, actor=a, cycle_id=CYCLE, name="renamed", deadline="2024-07-15", workspaces=["global", "dt"]
    ),
    "datasets.add_datasets": lambda db, a: cycles.add_datasets(
        db, actor=a, cycle_id=CYCLE, filter={"name": OTHER_OFFLINE}
    ),
    "datasets.remove_datasets": lambda db, a: cycles.remove_datasets(
        db, actor=a, cycle_id=CYCLE, filter={"name": OFFLINE}
    ),
    "datasets.mark_completed": lambda db, a: cycles.mark_completed(
        db, actor=a, cycle_id=CYCLE, workspace="dt"
    ),
    "datasets.mark_pending": lambda db, a: cycles.mark_pending(db, actor=a, cycle_id=CYCLE, workspace="dt"),
    "datasets.move_all_datasets": lambda db, a: cycles.move_all_datasets(
        db, actor=a, cycle_id=CYCLE, workspace="dt", to_state="SIGNOFF"
    ),
    "datasets.move_dataset": lambda db, a: cycles.move_dataset(
        db, actor=a, cycle_id=CYCLE, workspace="dt", run_number=RUN, name=OFFLINE, to_state="SIGNOFF"
    ),
    "datasets.delete_cycle": lambda db, a: cycles.delete_cycle(db, actor=a, cycle_id=CYCLE),
    "datasets.gui.ping": lambda db, a: gui_service.ping(db, SignedOffGui(), actor=a),
    "datasets.dctools.run_tool": lambda db, a: dctools.run_tool(
        db, actor=a, tool="hide", filter={"name": OFFLINE}, reason="wrong era"
    ),
    "datasets.dctools.duplicate_datasets": lambda db, a: dctools.duplicate_datasets(
        db, actor=a, filter={"name": OFFLINE}, source_dataset_name=OFFLINE, target_dataset_name="/Copy/DQM"
    ),
    "datasets.dctools.copy_columns": lambda db, a: dctools.copy_columns(
        db,
        actor=a,
        filter={"run_number": RUN},
        source_dataset_name=OFFLINE,
        target_dataset_name=OTHER_OFFLINE,
        columns=["dt-dt"],
    ),
    "datasets.dctools.batch_update": lambda db, a: dctools.batch_update(
        db, actor=a, filter={"name": OFFLINE}, columns=["dt-dt"], new_status="BAD", comment="noise"
    ),
    "datasets.dctools.change_states": lambda db, a: dctools.change_states(
        db, actor=a, filter={"name": OFFLINE}, workspace="dt", to_state="SIGNOFF"
    ),
    "datasets.dctools.hide_datasets": lambda db, a: dctools.hide_datasets(
        db, actor=a, filter={"name": OFFLINE}, reason="wrong era"
    ),
    "datasets.dctools.unhide_datasets": lambda db, a: dctools.unhide_datasets(
        db, actor=a, filter={"name": HIDDEN_OFFLINE}, reason="right era"
    ),
    "predictions.submit": lambda db, a: predictions.submit(
        db,
        actor=a,
        run_number=RUN,
        dataset=OFFLINE,
        model="dt-ae",
        version="1",
        predictions={"dt-dt": [PredictedRange(1, 20, "GOOD", 0.9)]},
    ),
}
#: Not writes of a caller: creating version 1 of a fresh database, and the gate itself.
NOT_GATED = {
    "configuration.ensure_default",
    "configuration.authorize",
    "configuration.authorize_all",
    "configuration.refusal",
    "configuration.refusals",
    # The registry's write path for domains that orchestrate many runs: its callers authorize every target.
    "registry.write",
    "registry.write_dataset_attributes",
    # The same for a change set replayed from an original Run Registry: its caller checks adoption:import.
    "registry.write_imported",
    "configuration.record_imported",
    "certification.record_imported",
    "datasets.record_imported_cycle",
}


def service_writes() -> set[str]:
    """Public functions of every `runreg.<domain>[.<part>].service` (or `…_service`) module taking a
    keyword-only `actor`."""
    found = set()
    for module_info in pkgutil.walk_packages(runreg.__path__, "runreg."):
        if not module_info.name.endswith((".service", "_service")):
            continue
        module = importlib.import_module(module_info.name)
        where = module_info.name.removeprefix("runreg.").removesuffix(".service").removesuffix("_service")
        for name, function in inspect.getmembers(module, inspect.isfunction):
            if name.startswith("_") or function.__module__ != module.__name__:
                continue
            actor = inspect.signature(function).parameters.get("actor")
            if actor is not None and actor.kind is inspect.Parameter.KEYWORD_ONLY:
                found.add(f"{where}.{name}")
    return found


def test_every_service_write_is_listed_here() -> None:
    writes = service_writes()
    assert writes - NOT_GATED == set(WRITES), "add new service writes to WRITES (and gate them)"


def written(db: Database) -> tuple[int, ...]:
    tables = (
        change_sets,
        config_versions,
        json_jobs,
        json_presets,
        luminosity_series,
        luminosity_imports,
        cycle_table,
        cycle_datasets,
        cycle_events,
        prediction_submissions,
    )
    with db.reading() as conn:
        return tuple(conn.execute(select(func.count()).select_from(table)).scalar_one() for table in tables)


@pytest.fixture
def world(db: Database) -> Database:
    create_collision_run(db, RUN, ls_count=20, components=("dt-dt", "tracker-pixel"))
    registry.create_dataset(
        db,
        actor=EXPERT,
        run_number=RUN,
        name=OFFLINE,
        attributes={"global_state": "OPEN", "dt_state": "OPEN", "gem_state": "OPEN"},
    )
    registry.edit_flags(
        db, actor=SHIFTER, run_number=RUN, edits=[FlagEdit("dt-dt", 5, 6, "BAD", "noise")], comment="noise"
    )
    registry.create_dataset(
        db,
        actor=EXPERT,
        run_number=RUN,
        name=OTHER_OFFLINE,
        attributes={"global_state": "OPEN", "dt_state": "OPEN"},
    )
    registry.create_dataset(
        db,
        actor=EXPERT,
        run_number=RUN,
        name=HIDDEN_OFFLINE,
        attributes={"global_state": "OPEN", "hidden": True},
    )
    certification.submit(db, NullRunner(), actor=CERTIFIER, dataset_pattern="online", preset="golden")
    certification.save_preset(
        db, actor=CERTIFIER, name="dt", rule={"==": [{"var": "lumisection.rr.dt-dt"}, "GOOD"]}
    )
    made = cycles.create_cycle(
        db,
        actor=CERTIFIER,
        name="world",
        deadline="2024-07-15",
        workspaces=["global", "dt"],
        filter={"name": OFFLINE},
    )
    assert made.id == CYCLE
    return db


@pytest.mark.parametrize("write", sorted(WRITES))
def test_a_write_without_a_grant_is_refused_and_writes_nothing(world: Database, write: str) -> None:
    before = written(world)
    with pytest.raises(PermissionDenied) as refusal:
        WRITES[write](world, OUTSIDER)
    assert "outsider@cern.ch may not" in refusal.value.message
    assert "cms-dqm-runregistry-experts" in refusal.value.details["egroups"]
    assert written(world) == before


@pytest.mark.parametrize(
    "write",
    [
        "registry.change_run_attributes",
        "registry.edit_flags",
        "certification.submit",
        "configuration.edit",
        "datasets.move_all_datasets",
        "datasets.add_datasets",
        "predictions.submit",
        "datasets.dctools.batch_update",
    ],
)
def test_the_egroup_granted_the_action_may_write(world: Database, write: str) -> None:
    actor = {
        "certification.submit": CERTIFIER,
        "configuration.edit": EXPERT,
        "datasets.move_all_datasets": DT_CERTIFIER,
        "datasets.add_datasets": CERTIFIER,
        "datasets.dctools.batch_update": CERTIFIER,
        "predictions.submit": ML_AGENT,
    }.get(write, SHIFTER)
    before = written(world)
    WRITES[write](world, actor)
    assert written(world) != before


def test_flag_edits_are_authorized_per_dataset_and_component(world: Database) -> None:
    gem = Actor("gem@cern.ch", ActorKind.HUMAN, frozenset({"cms-dqm-runregistry-offline-gem-certifiers"}))
    with pytest.raises(PermissionDenied, match="component dt-dt") as refusal:
        registry.edit_flags(
            world,
            actor=gem,
            run_number=RUN,
            dataset=OFFLINE,
            edits=[FlagEdit("dt-dt", 1, 2, "BAD", "not mine")],
            comment="not mine",
        )
    assert "cms-dqm-runregistry-offline-dt-certifiers" in refusal.value.details["egroups"]
    # One refused edit in a batch refuses the batch.
    with pytest.raises(PermissionDenied):
        registry.edit_flags(
            world,
            actor=gem,
            run_number=RUN,
            dataset=OFFLINE,
            edits=[FlagEdit("gem-gem", 1, 2, "BAD", "mine"), FlagEdit("dt-dt", 1, 2, "BAD", "not mine")],
            comment="mixed",
        )
    result = registry.edit_flags(
        world,
        actor=gem,
        run_number=RUN,
        dataset=OFFLINE,
        edits=[FlagEdit("gem-gem", 1, 2, "BAD", "chamber off")],
        comment="chamber off",
    )
    assert result.changed
    # An offline certifier's grants never reach the online dataset.
    with pytest.raises(PermissionDenied, match="dataset online"):
        registry.edit_flags(
            world, actor=gem, run_number=RUN, edits=[FlagEdit("gem-gem", 1, 2, "BAD", "x")], comment="x"
        )


def test_json_deletion_by_its_owner_or_an_expert_only(world: Database) -> None:
    other = Actor("other@cern.ch", ActorKind.HUMAN, frozenset({"cms-dqm-runregistry-offline-gem-certifiers"}))
    with pytest.raises(PermissionDenied, match="owner certifier@cern.ch"):
        certification.delete(world, actor=other, job_id=1)
    certification.delete(world, actor=CERTIFIER, job_id=1)
    assert certification.get(world, 1).deleted
