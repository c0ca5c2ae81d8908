"""Dataset name patterns with SQL `SIMILAR TO` semantics, matched the same way on every engine."""

from __future__ import annotations

import re
from functools import lru_cache

from runreg.kernel.errors import InvalidInput

_SPECIAL = {
    "%": ".*",
    "_": ".",
    "|": "|",
    "(": "(",
    ")": ")",
    "*": "*",
    "+": "+",
    "?": "?",
    "{": "{",
    "}": "}",
}


@lru_cache(maxsize=256)
def similar_to(pattern: str) -> re.Pattern[str]:
    """`%` any string, `_` one character, `(A|B)` alternation, `* + ? {m,n} [...]` as in regular expressions;
    everything else literal (a `.` is a dot); the whole name must match."""
    if not pattern:
        raise InvalidInput(
            "dataset_pattern", "a dataset name pattern is required (e.g. /PromptReco/Collisions2024_/DQM)"
        )
    out: list[str] = []
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if char == "\\" and index + 1 < len(pattern):
            out.append(re.escape(pattern[index + 1]))
            index += 2
            continue
        if char == "[":
            end = pattern.find("]", index + 1)
            if end == -1:
                raise InvalidInput("dataset_pattern", f"unclosed '[' at position {index} of {pattern!r}")
            out.append(pattern[index : end + 1])
            index = end + 1
            continue
        out.append(_SPECIAL.get(char, re.escape(char)))
        index += 1
    try:
        return re.compile("".join(out), re.DOTALL)
    except re.error as exc:
        raise InvalidInput(
            "dataset_pattern", f"{pattern!r} is not a valid SIMILAR TO pattern: {exc}"
        ) from None


def matches(pattern: str, name: str) -> bool:
    return similar_to(pattern).fullmatch(name) is not None
