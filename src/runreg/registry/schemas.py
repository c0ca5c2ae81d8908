"""Request and response bodies of the registry's /api/v1 routes."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from runreg.kernel.limits import MAX_EDITS, Comment, Id, Int32, Name, Value


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AttributeEdit(_Body):
    value: Value = Field(description="the new class or stop reason")
    comment: Comment = Field("", description="why (recorded in the change set)")


class Reason(_Body):
    comment: Comment = Field("", description="why (recorded in the change set)")


class VisibilityReason(_Body):
    reason: Comment = Field(
        min_length=3,
        description="mandatory: why the run is hidden, or shown again (recorded in the change set)",
    )


class FlagRangeEdit(_Body):
    first_ls: Int32 = Field(ge=1)
    last_ls: Int32 = Field(ge=1)
    status: Value = Field(description="GOOD, BAD, STANDBY, EXCLUDED or NOTSET")
    comment: Comment = Field(min_length=1, description="mandatory: why these LS get this status")
    cause: Comment = ""


class OmsValuesEdit(_Body):
    first_ls: Int32 = Field(ge=1)
    last_ls: Int32 = Field(ge=1)
    values: dict[Value, Any] = Field(
        min_length=1, description="OMS per-LS keys (DCS bits…) and their new values"
    )
    comment: Comment = Field(min_length=3, description="mandatory: why OMS's values are corrected")


class DatasetStateMove(_Body):
    from_state: Value | None = Field(
        None, description="the state the move is decided from: refused unless it is the current one"
    )
    comment: Comment = Field("", description="why (recorded in the change set)")


class DatasetMoveIn(_Body):
    run_number: Id
    dataset: Name = Field(description="offline dataset name, e.g. /PromptReco/Collisions2024D/DQM")
    workspace: Value = Field(description="global or a subsystem workspace, e.g. dt")
    to_state: Value = Field(description="OPEN, SIGNOFF or COMPLETED (not significant for workspace: workers)")
    from_state: Value | None = Field(None, description="if given, must be the current state")


class DatasetMovesIn(_Body):
    moves: list[DatasetMoveIn] = Field(min_length=1, max_length=MAX_EDITS)
    comment: Comment = Field("", description="why (recorded in the one change set of all the moves)")


class DatasetOmsEdit(_Body):
    first_ls: Int32 = Field(ge=1)
    last_ls: Int32 = Field(ge=1)
    values: dict[Value, bool | None] = Field(
        min_length=1, description="DCS bits and their value on this dataset (true, false or null)"
    )
    comment: Comment = Field(min_length=3, description="mandatory: why the bits are corrected")


class Revert(_Body):
    force: bool = Field(False, description="also overwrite later changes to the same values")
    comment: Comment = ""


class ChangeSetOut(BaseModel):
    id: int
    author: str
    actor_kind: str
    comment: str
    created_at: str
    reverts: int | None


class ChangeResultOut(BaseModel):
    change_set_id: int | None = Field(description="the change set recorded; null when nothing changed")
    runs: dict[int, int] = Field(description="events recorded per run")


class DatasetEventOut(BaseModel):
    """One event of a dataset's history with the change set that recorded it."""

    change_set: ChangeSetOut
    type: str = Field(description="DatasetCreated, DatasetAttributesChanged, FlagsSet, OmsValuesSet, ...")
    dataset: str | None
    first_ls: int | None
    last_ls: int | None
    manual: bool
    payload: dict[str, Any] | None
