"""Pure helpers the log templates use to draw a change: values, triplets, areas."""

from __future__ import annotations

import json
from typing import Any

from runreg.registry.changes import ABSENT

AREAS = {
    "run": "run",
    "oms": "OMS attribute",
    "rr": "RR attribute",
    "dataset": "dataset",
    "flags": "LS status",
    "oms_ls": "OMS per-LS value",
}
KIND_TITLES = {
    "human": "a person",
    "automatic": "an automatic process (OMS ingestion, a worker)",
    "agent": "an agent (a machine-learning tool)",
}


def is_absent(value: Any) -> bool:
    return value is ABSENT


def is_triplet(value: Any) -> bool:
    return isinstance(value, dict) and "status" in value


def show_value(value: Any) -> str:
    """A value as a person reads it: strings as they are, anything else as JSON; no value as an em dash."""
    if value is ABSENT:
        return "—"
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True, default=str)


def when(moment: Any) -> str:
    """A stored time to the second (UTC), as the log lists several change sets a minute."""
    return str(moment)[:19] if moment else ""


GLOBALS = {"is_absent": is_absent, "is_triplet": is_triplet, "AREAS": AREAS, "KIND_TITLES": KIND_TITLES}
FILTERS = {"show_value": show_value, "when": when}
