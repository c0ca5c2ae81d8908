"""Parsing the few plain values pages take from query strings and forms, with errors naming the field."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from runreg.kernel.errors import InvalidInput


def whole_number(values: Mapping[str, Any], name: str, *, required: bool = False) -> int | None:
    """`values[name]` as a positive whole number; None when blank (InvalidInput if `required`)."""
    text = str(values.get(name, "") or "").strip()
    if not text:
        if required:
            raise InvalidInput(name, "required")
        return None
    if not text.isdigit():
        raise InvalidInput(name, f"{text!r} is not a positive whole number")
    return int(text)
