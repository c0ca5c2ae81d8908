"""Request and response bodies of the registry's /api/v1 routes."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from runreg.kernel.limits import Comment, Int32, Value


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AttributeEdit(_Body):
    value: Value = Field(description="the new class or stop reason")
    comment: Comment = Field("", description="why (recorded in the change set)")


class Reason(_Body):
    comment: Comment = Field("", description="why (recorded in the change set)")


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
