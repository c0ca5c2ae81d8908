"""Line diffs of two texts for pages (configuration versions): unified hunks with both line numbers."""

from __future__ import annotations

import difflib
from dataclasses import dataclass


@dataclass(frozen=True)
class DiffLine:
    """One row of a unified diff: `same`, `removed` (old line number), `added` (new line number), or `skip`
    (`text` says how many unchanged lines are not shown)."""

    kind: str
    old: int | None
    new: int | None
    text: str


@dataclass(frozen=True)
class TextDiff:
    lines: list[DiffLine]
    added: int
    removed: int

    @property
    def identical(self) -> bool:
        return not (self.added or self.removed)


def diff_texts(old: str, new: str, *, context: int = 3) -> TextDiff:
    """Changed lines with `context` unchanged lines around them; longer unchanged stretches are folded into
    one `skip` row, so two versions of a 1,000-line configuration differing in one rule read at a glance."""
    a, b = old.splitlines(), new.splitlines()
    rows: list[DiffLine] = []
    added = removed = 0
    shown_to = 0  # old lines before this index are shown or folded already
    for group in difflib.SequenceMatcher(None, a, b, autojunk=False).get_grouped_opcodes(context):
        start = group[0][1]
        if start > shown_to:
            rows.append(DiffLine("skip", None, None, _folded(start - shown_to)))
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                rows += [
                    DiffLine("same", i + 1, j + 1, a[i])
                    for i, j in zip(range(i1, i2), range(j1, j2), strict=True)
                ]
                continue
            rows += [DiffLine("removed", i + 1, None, a[i]) for i in range(i1, i2)]
            rows += [DiffLine("added", None, j + 1, b[j]) for j in range(j1, j2)]
            removed += i2 - i1
            added += j2 - j1
        shown_to = group[-1][2]
    if rows and shown_to < len(a):
        rows.append(DiffLine("skip", None, None, _folded(len(a) - shown_to)))
    return TextDiff(rows, added, removed)


def _folded(count: int) -> str:
    return f"{count} unchanged line{'s' if count != 1 else ''}"
