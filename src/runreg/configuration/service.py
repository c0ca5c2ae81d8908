"""Use cases of the versioned configuration: read, edit, list, show, restore, export and import."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, func, insert, select

from runreg.access import policy
from runreg.access.actions import Target
from runreg.configuration.model import (
    Configuration,
    default_configuration,
    dump_yaml,
    from_document,
    load_yaml,
    to_document,
)
from runreg.configuration.tables import config_versions
from runreg.kernel import limits
from runreg.kernel.actors import Actor
from runreg.kernel.errors import ConfigVersionNotFound, InvalidInput, PermissionDenied, StaleVersion
from runreg.storage.database import Database

NO_TARGET = Target()
#: The longest configuration file accepted (the shipped one is about 60,000 characters).
MAX_YAML_CHARACTERS = 2_000_000


@dataclass(frozen=True)
class ConfigVersion:
    id: int
    created_at: datetime
    author: str
    comment: str
    restored_from: int | None


def current(conn: Connection) -> tuple[int, Configuration]:
    """The newest configuration version and its content, validated once per version and process: permission
    checks, pages and classification read it on every request; parsing costs milliseconds, asking for the
    newest id does not."""
    newest = conn.execute(
        select(config_versions.c.id, config_versions.c.created_at)
        .order_by(config_versions.c.id.desc())
        .limit(1)
    ).first()
    if newest is None:
        return 0, default_configuration()
    key = (
        str(conn.engine.url),
        newest.id,
        newest.created_at,
    )  # created_at too: a rebuilt database reuses ids
    if key not in _parsed:
        if len(_parsed) > 32:
            _parsed.clear()
        _parsed[key] = _load(conn, newest.id)
    return newest.id, _parsed[key]


_parsed: dict[tuple[str, int, datetime], Configuration] = {}


def current_configuration(db: Database) -> Configuration:
    with db.reading() as conn:
        return current(conn)[1]


def authorize(conn: Connection, *, actor: Actor, action: str, target: Target = NO_TARGET) -> None:
    """The one permission gate. Every write of every domain calls it inside its own transaction, with the
    permissions of the configuration current in that transaction; refusals name the e-groups that would
    grant the action (access.policy)."""
    policy.authorize(actor, action, target, current(conn)[1].permissions)


def authorize_all(conn: Connection, *, actor: Actor, checks: Sequence[tuple[str, Target]]) -> None:
    """authorize() for many (action, target) checks with one configuration read, inside the caller's
    transaction: a write over a thousand datasets asks the gate about each of them before writing any."""
    permissions = current(conn)[1].permissions
    for action, target in checks:
        policy.authorize(actor, action, target, permissions)


def refusal(db: Database, *, actor: Actor | None, action: str, target: Target = NO_TARGET) -> str | None:
    """The gate's answer without acting on it: None if allowed, else the refusal the write would get. Pages
    show what the actor may not do as disabled, with this reason."""
    return refusals(db, actor=actor, checks=[(action, target)])[0]


def refusals(
    db: Database,
    *,
    actor: Actor | None,
    checks: Sequence[tuple[str, Target]],
    config: Configuration | None = None,
) -> list[str | None]:
    """refusal() for many (action, target) checks with one configuration read (none when the caller already
    holds the current `config`): a page drawing one button per component asks them all at once."""
    if actor is None:
        return ["sign in to do this" for _ in checks]
    permissions = (config or current_configuration(db)).permissions
    out: list[str | None] = []
    for action, target in checks:
        try:
            policy.authorize(actor, action, target, permissions)
        except PermissionDenied as refused:
            out.append(refused.message)
        else:
            out.append(None)
    return out


def ensure_default(db: Database, *, actor: Actor) -> int:
    """Create version 1 from the shipped default on an empty database; returns the current version."""
    with db.transaction() as conn:
        version, _ = current(conn)
        if version:
            return version
        return _insert(conn, default_configuration(), actor=actor, comment="shipped default configuration")


def edit(
    db: Database,
    *,
    actor: Actor,
    change: Callable[[dict[str, Any]], dict[str, Any]],
    comment: str,
    expected_version: int | None = None,
) -> int:
    """Apply `change` to the current document, validate the result, and store it as a new version."""
    with db.transaction() as conn:
        authorize(conn, actor=actor, action="configuration:import")
        version, config = _current_for_update(conn, expected_version)
        new_config = from_document(change(to_document(config)))
        return _insert(conn, new_config, actor=actor, comment=comment)


def replace(
    db: Database, *, actor: Actor, config: Configuration, comment: str, expected_version: int | None = None
) -> int:
    with db.transaction() as conn:
        authorize(conn, actor=actor, action="configuration:import")
        _current_for_update(conn, expected_version)
        return _insert(conn, config, actor=actor, comment=comment)


def import_yaml(
    db: Database, *, actor: Actor, text: str, comment: str, expected_version: int | None = None
) -> int:
    """Import a whole configuration file as a new version (validated before anything is written)."""
    if not (comment or "").strip():
        raise InvalidInput("comment", "say what changes and why: the comment is part of the history")
    if len(text) > MAX_YAML_CHARACTERS:
        raise InvalidInput(
            "yaml", f"line 1: a configuration may have at most {MAX_YAML_CHARACTERS} characters"
        )
    config = load_yaml(text)
    return replace(db, actor=actor, config=config, comment=comment, expected_version=expected_version)


def export_yaml(db: Database, *, version: int | None = None) -> str:
    return dump_yaml(show(db, version=version))


def history(db: Database, *, limit: int = 100) -> list[ConfigVersion]:
    limits.check_ids(limit=limit)
    query = (
        select(
            config_versions.c.id,
            config_versions.c.created_at,
            config_versions.c.author,
            config_versions.c.comment,
            config_versions.c.restored_from,
        )
        .order_by(config_versions.c.id.desc())
        .limit(limit)
    )
    with db.reading() as conn:
        return [ConfigVersion(*row) for row in conn.execute(query)]


def show(db: Database, *, version: int | None = None) -> Configuration:
    limits.check_ids(version=version)
    with db.reading() as conn:
        if version is None:
            return current(conn)[1]
        return _load(conn, version)


def restore(db: Database, *, actor: Actor, version: int, comment: str = "") -> int:
    """Make an old version current again, as a new version (history stays linear and complete)."""
    limits.check_ids(version=version)
    limits.check_authorship(actor.name, comment)
    with db.transaction() as conn:
        authorize(conn, actor=actor, action="configuration:restore")
        old = _load(conn, version)
        _current_for_update(conn, None)
        return _insert(
            conn, old, actor=actor, comment=comment or f"restore version {version}", restored_from=version
        )


def record_imported(
    conn: Connection, *, actor: Actor, document: dict[str, Any], comment: str, at: datetime
) -> int:
    """Store a configuration version replayed from another registry (adoption) under its original author
    and time, validated as any version. Not gated: the importer checks `adoption:import`."""
    config = from_document(document)
    _current_for_update(conn, None)
    return _insert(conn, config, actor=actor, comment=comment, at=at)


def _load(conn: Connection, version: int) -> Configuration:
    row = conn.execute(select(config_versions.c.document).where(config_versions.c.id == version)).first()
    if row is None:
        raise ConfigVersionNotFound(version)
    return from_document(row.document)


def _current_for_update(conn: Connection, expected_version: int | None) -> tuple[int, Configuration]:
    limits.check_ids(expected_version=expected_version)
    if conn.dialect.name == "postgresql":
        # Serialise configuration writers: versions are a single linear history.
        conn.exec_driver_sql("LOCK TABLE config_versions IN SHARE ROW EXCLUSIVE MODE")
    version, config = current(conn)
    if expected_version is not None and expected_version != version:
        raise StaleVersion(
            f"the configuration is at version {version}, not {expected_version}: reload it and try again",
            details={"current_version": version, "expected_version": expected_version},
        )
    return version, config


def _insert(
    conn: Connection,
    config: Configuration,
    *,
    actor: Actor,
    comment: str,
    restored_from: int | None = None,
    at: datetime | None = None,
) -> int:
    limits.check_authorship(actor.name, comment)
    return conn.execute(
        insert(config_versions)
        .values(
            created_at=at or datetime.now(UTC),
            author=actor.name,
            comment=comment,
            restored_from=restored_from,
            document=to_document(config),
        )
        .returning(config_versions.c.id)
    ).scalar_one()


def version_count(db: Database) -> int:
    with db.reading() as conn:
        return conn.execute(select(func.count()).select_from(config_versions)).scalar_one()
