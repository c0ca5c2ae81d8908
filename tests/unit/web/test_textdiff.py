"""Line diffs of configuration versions as the diff page draws them."""

from __future__ import annotations

from runreg.web.textdiff import DiffLine, diff_texts

OLD = "\n".join(f"line {n}" for n in range(1, 21))


def test_identical_texts_have_no_rows() -> None:
    diff = diff_texts(OLD, OLD)
    assert diff.identical and diff.lines == [] and (diff.added, diff.removed) == (0, 0)


def test_a_changed_line_comes_with_its_context_and_folded_stretches() -> None:
    new = OLD.replace("line 10", "line ten")
    diff = diff_texts(OLD, new, context=2)
    assert (diff.added, diff.removed) == (1, 1)
    assert diff.lines == [
        DiffLine("skip", None, None, "7 unchanged lines"),
        DiffLine("same", 8, 8, "line 8"),
        DiffLine("same", 9, 9, "line 9"),
        DiffLine("removed", 10, None, "line 10"),
        DiffLine("added", None, 10, "line ten"),
        DiffLine("same", 11, 11, "line 11"),
        DiffLine("same", 12, 12, "line 12"),
        DiffLine("skip", None, None, "8 unchanged lines"),
    ]


def test_insertions_shift_the_new_line_numbers() -> None:
    new = "header\n" + OLD + "\nfooter"
    diff = diff_texts(OLD, new, context=1)
    assert (diff.added, diff.removed) == (2, 0)
    assert diff.lines[0] == DiffLine("added", None, 1, "header")
    assert diff.lines[1] == DiffLine("same", 1, 2, "line 1")
    assert diff.lines[2] == DiffLine("skip", None, None, "18 unchanged lines")
    assert diff.lines[-2:] == [DiffLine("same", 20, 21, "line 20"), DiffLine("added", None, 22, "footer")]
