"""Every size, depth and range limit on input, in one place, with the checks every entry point reuses."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from typing import Annotated, Any

from annotated_types import Ge, Le, MaxLen
from pydantic import AfterValidator

from runreg.kernel.errors import InvalidInput

#: Storage integer types. Every id, run, LS number and version column is a 32-bit INTEGER on PostgreSQL;
#: SQLite stores 64 bits. We hold every engine to the narrower one, so both refuse the same input.
INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1

MAX_BODY_BYTES = 2 * 1024 * 1024  # default of RUNREG_MAX_BODY_BYTES
MAX_COMMENT_CHARS = 10_000  # change-set comments, per-range comments and causes
MAX_NAME_CHARS = 255  # names stored in 255-character columns: datasets, authors, patterns
MAX_VALUE_CHARS = 1_000  # short values: class, stop reason, status, tags, any string inside a JSON body
MAX_EDITS = 1_000  # lumisection range edits in one request
MAX_LIST_ITEMS = 10_000  # elements of any list in a request (run lists, OMS values…)
MAX_JSON_DEPTH = 100  # nesting of any JSON document sent to us (bodies, filters, rules, YAML)
MAX_JSON_NODES = 200_000  # values in any JSON document (a 2 MiB body holds fewer)
MAX_RULE_NODES = 10_000  # JSON-logic rule values (the original's golden rule has ~300; run lists more)
MAX_RULE_DEPTH = 64
MAX_FILTER_DEPTH = 16  # nesting of and/or groups in the table filter language
MAX_FILTER_CONDITIONS = 500
MAX_PATTERN_CHARS = 1_000  # regular expressions and SIMILAR TO patterns
MAX_YAML_BYTES = 1024 * 1024  # a configuration file (the shipped default is ~30 kB)
MAX_YAML_NODES = 200_000  # values of a configuration once its aliases and merge keys are expanded
MAX_MODEL_CHARS = 128  # an ML model's name (agents' predictions)
MAX_MODEL_VERSION_CHARS = 64  # an ML model's version
MAX_PREDICTION_RANGES = 20_000  # LS ranges of one prediction submission, over all its components

# A lone surrogate (U+D800..U+DFFF) cannot be encoded as UTF-8; json.loads yields one for "\ud800". A valid
# escaped pair is combined into one code point by the JSON decoder, so any surrogate left is unencodable.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")

Path = tuple[str | int, ...]
_CONTAINERS = (dict, list, tuple)


def text_problem(value: str, max_chars: int | None = None) -> str | None:
    """Why `value` cannot be stored as text (NUL, lone surrogate, too long), or None."""
    if max_chars is not None and len(value) > max_chars:
        return f"at most {max_chars} characters, got {len(value)}"
    found = _UNSTORABLE.search(value)
    if found is None:
        return None
    if found.group() == "\x00":
        return "must not contain NUL characters"
    return f"must not contain a lone surrogate (U+{ord(found.group()):04X}): text must be valid UTF-8"


def check_text(field: str, value: str, max_chars: int | None = MAX_VALUE_CHARS) -> str:
    """`value` unchanged, or InvalidInput naming `field` and the limit it breaks."""
    problem = text_problem(value, max_chars)
    if problem:
        raise InvalidInput(field, problem)
    return value


def check_int(field: str, value: int, *, low: int = INT32_MIN, high: int = INT32_MAX) -> int:
    """`value` unchanged if it fits the storage integer range [low, high], else InvalidInput."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(field, f"must be an integer, got {type(value).__name__}")
    if not low <= value <= high:
        raise InvalidInput(field, f"must be between {low} and {high} (a 32-bit integer)")
    return value


def check_authorship(author: str, comment: str) -> None:
    """Who and why, as every change records them (255-character author column, unbounded comment column)."""
    check_text("author", author, MAX_NAME_CHARS)
    check_text("comment", comment, MAX_COMMENT_CHARS)


def check_ids(**values: int | None) -> None:
    """Each given id (run number, change set, version, job, page…) fits a 32-bit column; None is skipped."""
    for field, value in values.items():
        if value is not None:
            check_int(field, value)


def check_count(field: str, size: int, limit: int, what: str = "items") -> None:
    if size > limit:
        raise InvalidInput(field, f"at most {limit} {what}, got {size}")


def json_problem(
    value: Any,
    *,
    max_depth: int = MAX_JSON_DEPTH,
    max_nodes: int = MAX_JSON_NODES,
    max_chars: int | None = MAX_VALUE_CHARS,
    max_items: int = MAX_LIST_ITEMS,
) -> tuple[Path, str] | None:
    """The first value of a JSON-like document that breaks a limit, as (path, reason), or None.

    Iterative (an explicit stack), so no document can exhaust the interpreter's recursion; it stops at the
    first problem, so a document that expands to billions of values (YAML aliases) costs `max_nodes` steps.
    Checks depth, number of values, list and object sizes, strings (keys too) and 64-bit integers."""
    bounds = (max_depth, max_nodes, max_chars, max_items)
    return None if _within(value, *bounds) else _first_problem(value, *bounds)


def _within(value: Any, max_depth: int, max_nodes: int, max_chars: int | None, max_items: int) -> bool:
    """The fast pass: level by level, no paths kept (a request body of 10**5 values in ~30 ms)."""
    level = [value]
    depth = nodes = 0
    while level:
        depth += 1
        nodes += len(level)
        if nodes > max_nodes:
            return False
        below: list[Any] = []
        for node in level:
            kind = type(node)  # exact types first: JSON decoders build only these
            if kind is str or (kind not in _CONTAINERS and isinstance(node, str)):
                if (max_chars is not None and len(node) > max_chars) or _UNSTORABLE.search(node):
                    return False
            elif kind is int or (kind not in _CONTAINERS and isinstance(node, int)):
                if not INT64_MIN <= node <= INT64_MAX:
                    return False
            elif kind in _CONTAINERS or isinstance(node, Mapping | list | tuple):
                if depth > max_depth or len(node) > max_items:
                    return False
                if isinstance(node, Mapping):
                    if any(isinstance(key, str) and text_problem(key, max_chars) for key in node):
                        return False
                    below.extend(node.values())
                else:
                    below.extend(node)
                if len(below) > max_nodes:
                    return False
        level = below
    return True


def _first_problem(
    value: Any, max_depth: int, max_nodes: int, max_chars: int | None, max_items: int
) -> tuple[Path, str] | None:
    """The slow pass, only for a document known to break a limit: depth first, with the path."""
    stack: list[tuple[Any, int, Path]] = [(value, 1, ())]
    nodes = 0
    while stack:
        node, depth, path = stack.pop()
        nodes += 1
        if nodes > max_nodes:
            return path, f"more than {max_nodes} values"
        if isinstance(node, str):
            problem = text_problem(node, max_chars)
            if problem:
                return path, problem
        elif isinstance(node, int) and not isinstance(node, bool):
            if not INT64_MIN <= node <= INT64_MAX:
                return path, "integers must fit in 64 bits"
        elif isinstance(node, Mapping | list | tuple):
            if depth > max_depth:
                return path, f"nested deeper than {max_depth} levels"
            if len(node) > max_items:
                return path, f"at most {max_items} elements, got {len(node)}"
            stack.extend(_children(node, depth, path, max_chars))
            if isinstance(node, Mapping):
                for key in node:
                    if isinstance(key, str) and (problem := text_problem(key, max_chars)):
                        return (*path, key[:40]), f"key {problem}"
    return None


def _children(node: Any, depth: int, path: Path, max_chars: int | None) -> Iterator[tuple[Any, int, Path]]:
    items = node.items() if isinstance(node, Mapping) else enumerate(node)
    # Reversed, so the stack pops the first child first: the problem reported is the first in document order.
    for key, child in reversed(list(items)):
        yield child, depth + 1, (*path, key)


def dotted(field: str, path: Path) -> str:
    """`body` + ("runs", 3, "comment") -> `body.runs[3].comment`; an empty field gives `runs[3].comment`."""
    out = field
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else f".{part}" if out else str(part)
    return out or "document"


def check_json(field: str, value: Any, **limits: Any) -> Any:
    """`value` unchanged, or InvalidInput naming the path of the first value beyond a limit."""
    found = json_problem(value, **limits)
    if found:
        path, reason = found
        raise InvalidInput(dotted(field, path), reason)
    return value


def decode_json(field: str, text: str | bytes) -> Any:
    """JSON text from a request, decoded; InvalidInput naming `field` when it is not JSON or too deep.

    The standard decoder, as FastAPI's: it keeps integers exact (so too large ones can be named) and meets
    deep nesting with RecursionError, which is caught here: no nesting can crash a request."""
    try:
        return json.loads(text)
    except RecursionError:
        raise InvalidInput(field, f"JSON nested deeper than {MAX_JSON_DEPTH} levels") from None
    except ValueError as exc:  # JSONDecodeError, and UnicodeDecodeError for bytes that are not UTF-8
        raise InvalidInput(field, f"not valid JSON: {exc}") from None


def parse_json(field: str, text: str | bytes, **limits: Any) -> Any:
    """Decode JSON text and check it against the limits; InvalidInput names the culprit."""
    return check_json(field, decode_json(field, text), **limits)


# -- the same limits as pydantic field types (request bodies, path and query parameters) ----------------


def _storable(max_chars: int) -> AfterValidator:
    def check(value: str) -> str:
        problem = text_problem(value, max_chars)
        if problem:
            raise ValueError(problem)
        return value

    return AfterValidator(check)


#: Integers stored in 32-bit columns (ids, run and LS numbers, versions, pages).
Int32 = Annotated[int, Ge(INT32_MIN), Le(INT32_MAX)]
#: Ids and numbers that are never negative.
Id = Annotated[int, Ge(0), Le(INT32_MAX)]
Comment = Annotated[str, MaxLen(MAX_COMMENT_CHARS), _storable(MAX_COMMENT_CHARS)]
Name = Annotated[str, MaxLen(MAX_NAME_CHARS), _storable(MAX_NAME_CHARS)]
Value = Annotated[str, MaxLen(MAX_VALUE_CHARS), _storable(MAX_VALUE_CHARS)]
Pattern = Annotated[str, MaxLen(MAX_PATTERN_CHARS), _storable(MAX_PATTERN_CHARS)]
ModelName = Annotated[str, MaxLen(MAX_MODEL_CHARS), _storable(MAX_MODEL_CHARS)]
ModelVersion = Annotated[str, MaxLen(MAX_MODEL_VERSION_CHARS), _storable(MAX_MODEL_VERSION_CHARS)]
