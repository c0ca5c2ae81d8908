"""Configuration versions on SQLite and PostgreSQL: every edit is a new version; any version can come back."""

from __future__ import annotations

import pytest

from runreg.configuration import service
from runreg.kernel.actors import Actor, ActorKind
from runreg.kernel.errors import ConfigVersionNotFound, InvalidInput, StaleVersion
from runreg.storage.database import Database

EXPERT = Actor("expert@cern.ch", ActorKind.HUMAN, frozenset({"cms-dqm-runregistry-experts"}))


def add_column(column: str):  # noqa: ANN201
    def change(document: dict) -> dict:
        for workspace in document["workspaces"]:
            if workspace["name"] == "gem" and workspace["mode"] == "offline":
                workspace["columns"].append(column)
        return document

    return change


def test_the_shipped_default_is_version_one(db: Database) -> None:
    [first] = service.history(db)
    assert first.id == 1 and first.comment == "shipped default configuration"
    assert "tracker-pixel" in service.show(db).certifiable_components("online")


def test_edits_make_new_versions_and_old_ones_stay_readable_and_restorable(db: Database) -> None:
    v2 = service.edit(db, actor=EXPERT, change=add_column("occupancy"), comment="GEM occupancy column")
    v3 = service.edit(db, actor=EXPERT, change=add_column("timing"), comment="GEM timing column")
    assert (v2, v3) == (2, 3)
    assert "gem-timing" in service.show(db).components("offline")
    assert "gem-timing" not in service.show(db, version=2).components("offline")

    v4 = service.restore(db, actor=EXPERT, version=1, comment="back to the default")

    assert "gem-occupancy" not in service.show(db).components("offline")
    newest = service.history(db)[0]
    assert (newest.id, newest.restored_from, newest.author) == (v4, 1, "expert@cern.ch")
    assert [v.id for v in service.history(db)] == [4, 3, 2, 1]


def test_invalid_edit_is_rejected_with_the_field_and_writes_nothing(db: Database) -> None:
    def break_a_rule(document: dict) -> dict:
        document["class_classifiers"][0]["rule"] = {"nonsense_operator": [1]}
        return document

    with pytest.raises(InvalidInput) as error:
        service.edit(db, actor=EXPERT, change=break_a_rule, comment="typo")
    assert error.value.field.startswith("class_classifiers.0.rule")
    assert service.version_count(db) == 1


def test_yaml_export_import_round_trip_and_stale_imports(db: Database) -> None:
    text = service.export_yaml(db)
    v2 = service.import_yaml(db, actor=EXPERT, text=text, comment="reviewed", expected_version=1)
    assert service.show(db, version=v2) == service.show(db, version=1)
    with pytest.raises(StaleVersion, match="version 2"):
        service.import_yaml(db, actor=EXPERT, text=text, comment="from an old checkout", expected_version=1)
    with pytest.raises(InvalidInput, match="yaml"):
        service.import_yaml(db, actor=EXPERT, text="workspaces: [\n", comment="broken")
    assert service.version_count(db) == 2


def test_unknown_version(db: Database) -> None:
    with pytest.raises(ConfigVersionNotFound):
        service.show(db, version=99)
    with pytest.raises(ConfigVersionNotFound):
        service.restore(db, actor=EXPERT, version=99)
