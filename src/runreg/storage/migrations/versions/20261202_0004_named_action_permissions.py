"""permissions as named-action grants

Stored configuration versions whose permissions are path-regex rules (`rules: [{method, path}]`) get the
shipped default's named-action grants for the same e-group (an e-group the default does not know keeps no
grant, and its description says so). Path rules cannot be translated mechanically: the old rules on
/lumisections/edit_rr_lumisections, for one, granted every dataset and component.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    from runreg.configuration.model import default_configuration, to_document
    from runreg.storage.schema import Json

    default = {p["egroup"]: p for p in to_document(default_configuration())["permissions"]}
    versions = sa.table("config_versions", sa.column("id", sa.Integer), sa.column("document", Json))
    conn = op.get_bind()
    for row in conn.execute(sa.select(versions.c.id, versions.c.document)).all():
        document = dict(row.document)
        old = document.get("permissions") or []
        if not any("rules" in p for p in old):
            continue
        document["permissions"] = [_converted(p, default) for p in old]
        known = {p["egroup"] for p in document["permissions"]}
        document["permissions"] += [p for egroup, p in default.items() if egroup not in known]
        conn.execute(sa.update(versions).where(versions.c.id == row.id).values(document=document))


def _converted(permission: dict, default: dict) -> dict:
    if permission["egroup"] in default:
        return default[permission["egroup"]]
    return {
        "egroup": permission["egroup"],
        "description": f"{permission.get('description', '')} (path rules dropped by migration 0004: grant "
        "named actions instead)".strip(),
        "grants": [],
    }


def downgrade() -> None:
    raise NotImplementedError("path-regex permissions are gone; restore a database backup to go back")
