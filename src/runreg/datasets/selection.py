"""The offline datasets a DC tool or a cycle acts on: those a table filter matches, never online or hidden."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from runreg.kernel.errors import InvalidInput
from runreg.registry import model
from runreg.registry import service as registry
from runreg.registry.model import ONLINE
from runreg.storage.database import Database

#: Set on a dataset hidden by the DC tools (with `hidden_reason`): hidden datasets are left out of offline
#: tables, cycles and tools, as the original's `deleted` flag (the registry's own definition).
HIDDEN = model.HIDDEN
HIDDEN_REASON = "hidden_reason"
#: Rows read per round trip while collecting a selection.
_BATCH = 5_000


@dataclass(frozen=True)
class Selection:
    """Which datasets a filter selects: (run_number, name) in table order (run DESC, name ASC), the filter as
    given, and the dataset rows (with their run's attributes and summaries) for previews and exports."""

    filter: Mapping[str, Any]
    rows: tuple[dict[str, Any], ...]

    @property
    def keys(self) -> list[tuple[int, str]]:
        return [(row["run_number"], row["name"]) for row in self.rows]

    @property
    def count(self) -> int:
        return len(self.rows)

    @property
    def unfiltered(self) -> bool:
        """True when no filter narrows the selection: every offline dataset is selected."""
        return not self.filter


is_hidden = model.is_hidden


def select(
    db: Database,
    *,
    filter: Mapping[str, Any] | None,
    limit: int,
    sortings: Any = None,
    hidden: bool = False,
) -> Selection:
    """The offline, not hidden datasets matching `filter` (the table filter language); with `hidden`, the
    hidden ones instead (what un-hiding acts on). More than `limit` matches is refused naming the count, so a
    tool never acts on a set it did not show."""
    given = dict(filter or {})
    scope: list[dict[str, Any]] = [{"name": {"<>": ONLINE}}]
    if hidden:
        scope.append({f"dataset_attributes.{HIDDEN}": True})
    offline_only: dict[str, Any] = {"and": [given, *scope]} if given else {"and": scope}
    rows: list[dict[str, Any]] = []
    page = 0
    while True:
        batch, _total = registry.search(
            db,
            target="datasets",
            filter=offline_only,
            sortings=sortings,
            page=page,
            page_size=_BATCH,
            visible_only=not hidden,
        )
        rows.extend(batch)
        if len(rows) > limit:
            raise InvalidInput(
                "filter", f"selects more than {limit} datasets; narrow it (the limit of one operation)"
            )
        if len(batch) < _BATCH:
            return Selection(given, tuple(rows))
        page += 1
