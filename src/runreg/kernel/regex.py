"""Regular expressions from users, compiled once by RE2: matching takes linear time whatever the pattern."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import re2

from runreg.kernel.errors import InvalidInput
from runreg.kernel.limits import MAX_PATTERN_CHARS, check_text

escape = re2.escape


def _options(*, dot_matches_newline: bool) -> Any:
    options = re2.Options()
    options.log_errors = False  # a refused pattern is our caller's InvalidInput, not a line on stderr
    options.max_mem = 8 << 20  # bounds the compiled program (e.g. huge counted repetitions)
    options.dot_nl = dot_matches_newline
    return options


@lru_cache(maxsize=4096)
def _compile(pattern: str, dot_matches_newline: bool) -> Any:
    return re2.compile(pattern, options=_options(dot_matches_newline=dot_matches_newline))


def compile_pattern(
    field: str, pattern: str, *, dot_matches_newline: bool = False, max_chars: int = MAX_PATTERN_CHARS
) -> Any:
    """The compiled RE2 pattern (cached per process), or InvalidInput naming `field` and why not.

    RE2 has no backreferences or lookaround; in exchange no pattern can backtrack catastrophically."""
    check_text(field, pattern, max_chars)
    try:
        return _compile(pattern, dot_matches_newline)
    except re2.error as exc:
        reason = exc.args[0].decode(errors="replace") if exc.args and isinstance(exc.args[0], bytes) else exc
        raise InvalidInput(
            field, f"{pattern[:80]!r} is not a valid regular expression (RE2 syntax): {reason}"
        ) from None
