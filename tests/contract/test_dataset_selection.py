"""The selection DC tools and cycles act on: offline datasets matching the filter, never online or hidden."""

from __future__ import annotations

import pytest

from runreg.datasets import selection
from runreg.kernel.errors import InvalidInput
from runreg.registry import service as registry
from runreg.storage.database import Database
from tests.builders.runs import EXPERT, create_collision_run

PROMPT = "/PromptReco/Collisions2024C/DQM"
EXPRESS = "/Express/Collisions2024/DQM"


@pytest.fixture
def three_runs(db: Database) -> Database:
    for run in (380001, 380002, 380003):
        create_collision_run(db, run, ls_count=10, components=("dt-dt",))
        for name in (PROMPT, EXPRESS):
            registry.create_dataset(
                db, actor=EXPERT, run_number=run, name=name, attributes={"global_state": "OPEN"}
            )
    registry.change_dataset_attributes(
        db, actor=EXPERT, run_number=380002, name=EXPRESS, attributes={"hidden": True}, comment="duplicate"
    )
    return db


def test_the_selection_leaves_out_online_and_hidden_datasets(three_runs: Database) -> None:
    chosen = selection.select(three_runs, filter=None, limit=100)
    assert chosen.unfiltered
    assert chosen.keys == [
        (380003, EXPRESS), (380003, PROMPT), (380002, PROMPT), (380001, EXPRESS), (380001, PROMPT),
    ]  # fmt: skip


def test_the_filter_narrows_the_selection(three_runs: Database) -> None:
    chosen = selection.select(three_runs, filter={"name": {"like": "%Prompt%"}}, limit=100)
    assert not chosen.unfiltered
    assert chosen.keys == [(380003, PROMPT), (380002, PROMPT), (380001, PROMPT)]
    assert chosen.rows[0]["dataset_attributes"]["global_state"] == "OPEN"


def test_a_selection_over_the_limit_is_refused(three_runs: Database) -> None:
    with pytest.raises(InvalidInput) as refused:
        selection.select(three_runs, filter=None, limit=4)
    assert refused.value.field == "filter" and "more than 4" in refused.value.reason
