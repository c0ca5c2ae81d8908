"""What the cycle pages compute without the database: the filter of a form, deadlines in words, history."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from runreg.datasets.service import CycleEvent
from runreg.kernel.errors import InvalidInput
from runreg.web.cycles import deadline_text, describe, filter_from

NOW = datetime(2024, 7, 10, 9, 0, tzinfo=UTC)


def test_a_forms_fields_become_one_filter() -> None:
    assert filter_from({}) == {}
    assert filter_from({"dataset": " /PromptReco/Collisions2024C/DQM "}) == {
        "name": "/PromptReco/Collisions2024C/DQM"
    }
    assert filter_from(
        {"dataset": "%2024C%", "run_from": "379412", "run_to": "", "run_class": "Collisions24"}
    ) == {
        "and": [
            {"name": {"like": "%2024C%"}},
            {"run_number": {">=": 379412}},
            {"rr_attributes.class": "Collisions24"},
        ]
    }
    raw = '{"dataset_attributes.dt_state": "OPEN"}'
    assert filter_from({"run_to": "380000", "raw": raw}) == {
        "and": [{"run_number": {"<=": 380000}}, {"dataset_attributes.dt_state": "OPEN"}]
    }


@pytest.mark.parametrize(
    ("form", "field"),
    [({"run_from": "12a"}, "run_from"), ({"raw": "{not json"}, "raw"), ({"raw": "[1, 2]"}, "raw")],
)
def test_a_bad_filter_field_is_named(form: dict[str, str], field: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        filter_from(form)
    assert refused.value.field == field


def test_deadlines_say_how_far_they_are() -> None:
    assert deadline_text(datetime(2024, 7, 13, 18, tzinfo=UTC), NOW, False) == (
        "2024-07-13 18:00 · in 3 days",
        "soon",
    )
    assert deadline_text(datetime(2024, 7, 30, tzinfo=UTC), NOW, False)[1] == ""
    assert deadline_text(datetime(2024, 7, 10, 23, tzinfo=UTC), NOW, False)[0].endswith("today")
    assert deadline_text(datetime(2024, 7, 9, tzinfo=UTC), NOW, False) == (
        "2024-07-09 00:00 · 1 day overdue",
        "overdue",
    )
    assert deadline_text(datetime(2024, 7, 1, tzinfo=UTC), NOW, True) == ("2024-07-01 00:00", "done")


def event(kind: str, workspace: str | None = None, **details: object) -> CycleEvent:
    return CycleEvent(1, NOW, "dc@cern.ch", "human", kind, workspace, "", dict(details), None)


def test_history_entries_in_words() -> None:
    assert describe(event("created", datasets=3, workspaces=["global", "dt"])) == (
        "created with 3 datasets in global, dt"
    )
    assert describe(event("completed", "dt")) == "marked completed in dt"
    assert describe(
        event("datasets_moved", "dt", to="COMPLETED", moved=[[1, "a", "OPEN"], [2, "a", "OPEN"]])
    ) == ("moved 2 datasets to COMPLETED in dt")
    assert describe(event("dataset_moved", "dt", to="OPEN", moved=[[1, "/A/B/DQM", "COMPLETED"]])) == (
        "moved 1 /A/B/DQM from COMPLETED to OPEN in dt"
    )
    assert describe(event("edited", name={"from": "a", "to": "b"})) == "edited: name a → b"
