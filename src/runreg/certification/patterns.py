"""Dataset name patterns with SQL `SIMILAR TO` semantics, matched the same way on every engine."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from runreg.kernel import regex
from runreg.kernel.errors import InvalidInput
from runreg.kernel.limits import MAX_PATTERN_CHARS, check_text

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
def similar_to(pattern: str) -> Any:
    """`%` any string, `_` one character, `(A|B)` alternation, `* + ? {m,n} [...]` as in regular expressions;
    everything else literal (a `.` is a dot); the whole name must match. Compiled by RE2: a pattern such as
    `(a|a)*b` cannot stall the portal by backtracking over a long dataset name."""
    if not pattern:
        raise InvalidInput(
            "dataset_pattern", "a dataset name pattern is required (e.g. /PromptReco/Collisions2024_/DQM)"
        )
    check_text("dataset_pattern", pattern, MAX_PATTERN_CHARS)
    out: list[str] = []
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if char == "\\" and index + 1 < len(pattern):
            out.append(regex.escape(pattern[index + 1]))
            index += 2
            continue
        if char == "[":
            end = pattern.find("]", index + 1)
            if end == -1:
                raise InvalidInput("dataset_pattern", f"unclosed '[' at position {index} of {pattern!r}")
            out.append(pattern[index : end + 1])
            index = end + 1
            continue
        out.append(_SPECIAL.get(char) or regex.escape(char))
        index += 1
    try:  # each character becomes at most two: the translation is bounded by twice the pattern's limit
        return regex.compile_pattern(
            "dataset_pattern", "".join(out), dot_matches_newline=True, max_chars=2 * MAX_PATTERN_CHARS
        )
    except InvalidInput as exc:
        raise InvalidInput(
            "dataset_pattern", f"{pattern!r} is not a valid SIMILAR TO pattern: {exc.reason}"
        ) from None


def matches(pattern: str, name: str) -> bool:
    return similar_to(pattern).fullmatch(name) is not None
