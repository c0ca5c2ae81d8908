"""Exceptions named by outcome; every one carries a message fit to show the person who caused it."""

from typing import Any


class RunregError(Exception):
    """Base of every error runreg reports to a caller."""

    code = "error"

    def __init__(self, message: str, *, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}


class InvalidInput(RunregError):
    """The request is malformed or breaks a rule; nothing was written."""

    code = "invalid_input"

    def __init__(self, field: str, reason: str, *, details: dict[str, Any] | None = None) -> None:
        super().__init__(f"{field}: {reason}", details={"field": field, **(details or {})})
        self.field = field
        self.reason = reason


class BodyTooLarge(RunregError):
    """The request body is larger than the server accepts (RUNREG_MAX_BODY_BYTES); nothing was read."""

    code = "body_too_large"

    def __init__(self, limit: int) -> None:
        super().__init__(f"request body larger than {limit} bytes", details={"limit_bytes": limit})


class NotFound(RunregError):
    code = "not_found"


class RunNotFound(NotFound):
    def __init__(self, run_number: int) -> None:
        super().__init__(f"run {run_number} does not exist", details={"run_number": run_number})


class DatasetNotFound(NotFound):
    def __init__(self, run_number: int, name: str) -> None:
        super().__init__(
            f"dataset {name!r} of run {run_number} does not exist",
            details={"run_number": run_number, "dataset": name},
        )


class ChangeSetNotFound(NotFound):
    def __init__(self, change_set_id: int) -> None:
        super().__init__(f"change set {change_set_id} does not exist", details={"change_set": change_set_id})


class ConfigVersionNotFound(NotFound):
    def __init__(self, version: int) -> None:
        super().__init__(f"configuration version {version} does not exist", details={"version": version})


class Conflict(RunregError):
    code = "conflict"


class RunAlreadyExists(Conflict):
    def __init__(self, run_number: int) -> None:
        super().__init__(f"run {run_number} already exists", details={"run_number": run_number})


class StaleVersion(Conflict):
    """Someone else changed the same thing first: reload and try again."""

    code = "stale_version"


class RevertConflict(Conflict):
    code = "revert_conflict"


class InvalidState(RunregError):
    """The operation is not allowed in the current state (e.g. editing a run that is no longer OPEN)."""

    code = "invalid_state"


class SignOffRefused(InvalidState):
    code = "signoff_refused"


class PermissionDenied(RunregError):
    code = "permission_denied"


class Unauthenticated(RunregError):
    """The request brings no verifiable identity."""

    code = "unauthenticated"


_STATUS_OF: list[tuple[type[RunregError], int]] = [
    (Unauthenticated, 401),
    (PermissionDenied, 403),
    (NotFound, 404),
    (InvalidInput, 400),
    (InvalidState, 409),
    (Conflict, 409),
    (BodyTooLarge, 413),
]


def http_status(exc: RunregError) -> int:
    """The HTTP status every interface answers an error with (API, pages)."""
    return next((code for kind, code in _STATUS_OF if isinstance(exc, kind)), 500)
