"""Data-quality vocabulary: statuses, triplets and component keys."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Status(StrEnum):
    GOOD = "GOOD"
    BAD = "BAD"
    STANDBY = "STANDBY"
    EXCLUDED = "EXCLUDED"
    NOTSET = "NOTSET"
    # System values: never set by a person.
    NO_VALUE_FOUND = "NO VALUE FOUND"
    EMPTY = "EMPTY"


USER_STATUSES = frozenset({Status.GOOD, Status.BAD, Status.STANDBY, Status.EXCLUDED, Status.NOTSET})
#: Statuses that block a sign-off: the LS has not really been judged (the legacy '' counts too).
UNJUDGED_STATUSES = frozenset({"", Status.EMPTY.value, Status.NO_VALUE_FOUND.value})
MIN_BAD_COMMENT = 3


@dataclass(frozen=True, slots=True)
class Triplet:
    """The quality decision on one LS of one component: a status with its comment and cause."""

    status: str
    comment: str = ""
    cause: str = ""

    def as_dict(self) -> dict[str, str]:
        return {"status": self.status, "comment": self.comment, "cause": self.cause}

    @classmethod
    def from_dict(cls, data: dict[str, str]) -> Triplet:
        return cls(data.get("status", ""), data.get("comment") or "", data.get("cause") or "")


EMPTY_TRIPLET = Triplet(Status.EMPTY.value)


def component_key(workspace: str, column: str) -> str:
    """Components are named `<workspace>-<column>`; column names never contain '-'."""
    return f"{workspace}-{column}"


def split_component(component: str) -> tuple[str, str]:
    workspace, sep, column = component.partition("-")
    if not sep or not workspace or not column:
        raise ValueError(f"component {component!r} is not of the form <workspace>-<column>")
    return workspace, column
