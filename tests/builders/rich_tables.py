"""Reading back the Rich tables the command line prints."""

from __future__ import annotations


def body_rows(text: str) -> list[list[str]]:
    """The body rows of a Rich table (the lines between │ bars), each as its stripped cells."""
    lines = [line.strip() for line in text.splitlines() if line.strip().startswith("│")]
    return [[cell.strip() for cell in line.strip("│").split("│")] for line in lines]
