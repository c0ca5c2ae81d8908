"""Golden-JSON presets: the configuration's (read-only here) and those people save, edit and delete."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, insert, update

from runreg.access.actions import Target
from runreg.certification import patterns, store
from runreg.certification.engine import CompiledRule
from runreg.certification.tables import json_presets
from runreg.configuration import service as configuration
from runreg.kernel.actors import Actor
from runreg.kernel.errors import InvalidInput, NotFound
from runreg.storage.database import Database

ACTION = "certification:preset:write"
MAX_NAME = 128
MAX_DESCRIPTION = 2000
MAX_RULE_TEXT = 100_000


@dataclass(frozen=True)
class Preset:
    """A named rule: `owner` None for the configuration's presets, else who saved it."""

    name: str
    description: str
    dataset_pattern: str
    rule: Any
    owner: str | None


class PresetNotFound(NotFound):
    def __init__(self, name: str) -> None:
        super().__init__(f"there is no saved JSON preset named {name!r}", details={"preset": name})


def list_presets(db: Database) -> list[Preset]:
    """The configuration's presets first, then the saved ones by name."""
    configured = [
        Preset(p.name, p.description, p.dataset_pattern, p.rule, None)
        for p in configuration.current_configuration(db).json_presets
    ]
    with db.reading() as conn:
        saved = [_preset(row) for row in store.saved_presets(conn)]
    return configured + saved


def find_preset(db: Database, name: str) -> Preset | None:
    """A preset by name: the configuration's, else a saved one."""
    return next((p for p in list_presets(db) if p.name == name), None)


def save_preset(
    db: Database,
    *,
    actor: Actor,
    name: str,
    rule: Any,
    dataset_pattern: str = "",
    description: str = "",
) -> bool:
    """Create a preset (owned by `actor`) or replace one of the same name (by its owner, or experts).
    Returns True when it was created. The configuration's presets are changed in the configuration."""
    name = name.strip()
    if not name:
        raise InvalidInput("preset_name", "a preset needs a name")
    if len(name) > MAX_NAME:
        raise InvalidInput("preset_name", f"at most {MAX_NAME} characters, got {len(name)}")
    if len(description) > MAX_DESCRIPTION:
        raise InvalidInput("description", f"at most {MAX_DESCRIPTION} characters, got {len(description)}")
    if any(p.name == name for p in configuration.current_configuration(db).json_presets):
        raise InvalidInput(
            "preset_name", f"{name!r} is a preset of the configuration: change it there, or pick another name"
        )
    if rule is None or rule == {}:
        raise InvalidInput("json_logic", "a preset needs a rule")
    if len(json.dumps(rule)) > MAX_RULE_TEXT:
        raise InvalidInput("json_logic", f"a preset's rule is at most {MAX_RULE_TEXT} characters of JSON")
    CompiledRule(rule)  # raises InvalidInput naming the node
    if dataset_pattern:
        patterns.similar_to(dataset_pattern)
    now = datetime.now(UTC)
    with db.transaction() as conn:
        existing = store.saved_presets(conn, name)
        owner = existing[0].created_by if existing else actor.name
        configuration.authorize(conn, actor=actor, action=ACTION, target=Target(owner=owner))
        values = {
            "description": description,
            "dataset_pattern": dataset_pattern,
            "rule": rule,
            "updated_at": now,
        }
        if existing:
            conn.execute(update(json_presets).where(json_presets.c.name == name).values(**values))
        else:
            conn.execute(insert(json_presets).values(name=name, created_by=owner, created_at=now, **values))
    return not existing


def delete_preset(db: Database, *, actor: Actor, name: str) -> None:
    """Delete a saved preset (its owner, or experts). Jobs made with it keep their own copy of the rule."""
    with db.transaction() as conn:
        existing = store.saved_presets(conn, name)
        if not existing:
            raise PresetNotFound(name)
        configuration.authorize(conn, actor=actor, action=ACTION, target=Target(owner=existing[0].created_by))
        conn.execute(delete(json_presets).where(json_presets.c.name == name))


def _preset(row: Any) -> Preset:
    return Preset(row.name, row.description, row.dataset_pattern, row.rule, row.created_by)
