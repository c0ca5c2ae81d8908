"""The dataset page's read (one snapshot: the run, the dataset's own log, the configuration) and the offline
tables' listing: the filter the page sends, hidden datasets left out, counts that stop at a limit."""

from __future__ import annotations

import pytest

from runreg.kernel.errors import InvalidInput, RunNotFound
from runreg.registry import service as registry
from runreg.registry.service import FlagEdit
from runreg.storage.database import Database
from runreg.web.offline import OFFLINE, editable_filter, waiting_filter
from runreg.web.table_query import both
from tests.builders.datasets import EXPRESS, PROMPT, WAITING, create_offline_dataset
from tests.builders.runs import CERTIFIER, SHIFTER, create_collision_run


def test_the_dataset_log_holds_only_that_datasets_events_with_their_payloads(db: Database) -> None:
    create_collision_run(db, 380500, ls_count=30)
    create_offline_dataset(db, 380500, PROMPT, components=("dt-dt",))
    create_offline_dataset(db, 380500, EXPRESS, components=("dt-dt",))
    registry.edit_flags(  # the online dataset's edit is the run page's, not this dataset's
        db, actor=SHIFTER, run_number=380500, edits=[FlagEdit("dt-dt", 1, 2, "BAD", "HV trip")], comment="HV"
    )
    bit = registry.set_oms_values(
        db,
        actor=CERTIFIER,
        run_number=380500,
        dataset=PROMPT,
        first_ls=3,
        last_ls=4,
        values={"dtp_ready": False},
        comment="DT HV off",
    ).change_set_id
    moved = registry.move_dataset(
        db, actor=CERTIFIER, run_number=380500, name=PROMPT, workspace="dt", to_state="SIGNOFF"
    ).change_set_id
    view = registry.dataset_view(db, run_number=380500, name=PROMPT)
    assert {event.dataset for event in view.log} == {PROMPT}
    assert [e.type for e in view.log] == [
        "DatasetAttributesChanged",
        "OmsValuesSet",
        "FlagsSet",
        "DatasetCreated",
    ]
    assert [e.change_set.id for e in view.log[:2]] == [moved, bit]
    assert view.log[0].payload == {"name": PROMPT, "attributes": {"dt_state": "SIGNOFF"}, "removed": []}
    assert view.log[1].payload["values"] == {"dtp_ready": False}  # a dataset's own OMS values are small
    assert view.dataset.attributes["dt_state"] == "SIGNOFF"
    assert view.run.oms_values(PROMPT)["dtp_ready"].get(3) is False
    assert view.run.oms_values("online")["dtp_ready"].get(3) is True
    assert view.configuration.certifiable_components("offline")


def test_a_dataset_the_run_has_not_is_refused_naming_it(db: Database) -> None:
    create_collision_run(db, 380500, ls_count=30)
    with pytest.raises(InvalidInput) as refused:
        registry.dataset_view(db, run_number=380500, name="/No/Such/DQM")
    assert refused.value.field == "dataset" and "/No/Such/DQM" in refused.value.reason
    with pytest.raises(InvalidInput, match="run's page"):
        registry.dataset_view(db, run_number=380500, name="online")
    with pytest.raises(RunNotFound):
        registry.dataset_view(db, run_number=380999, name=PROMPT)


def test_the_offline_tables_filters_leave_out_online_and_hidden_and_split_by_state(db: Database) -> None:
    for run in (380501, 380502, 380503):
        create_collision_run(db, run, ls_count=10)
    create_offline_dataset(db, 380501, PROMPT, components=())
    create_offline_dataset(db, 380502, PROMPT, state=WAITING, components=())
    create_offline_dataset(db, 380503, PROMPT, extra={"hidden": True}, components=())
    create_offline_dataset(
        db, 380503, EXPRESS, extra={"hidden": False}, states={"tracker": WAITING}, components=()
    )

    def keys(filter: dict) -> list[tuple[int, str]]:  # type: ignore[type-arg]
        rows, total = registry.search(db, target="datasets", filter=filter, page_size=50)
        assert total == len(rows)
        return [(row["run_number"], row["name"]) for row in rows]

    assert keys(both(OFFLINE, editable_filter("global"))) == [(380503, EXPRESS), (380501, PROMPT)]
    assert keys(both(OFFLINE, waiting_filter("global"))) == [(380502, PROMPT)]
    assert keys(both(OFFLINE, waiting_filter("tracker"))) == [(380503, EXPRESS), (380502, PROMPT)]


def test_a_count_limit_stops_counting_past_it(db: Database) -> None:
    for run in range(380510, 380516):
        create_collision_run(db, run, ls_count=5, components=())
    everything, total = registry.search(db, target="runs", filter={}, page=1, page_size=2)
    assert total == 6 and len(everything) == 2
    _, capped = registry.search(db, target="runs", filter={}, page=1, page_size=2, count_limit=3)
    assert capped == 4  # "more than 3"
    _, exact = registry.search(db, target="runs", filter={}, page=1, page_size=2, count_limit=6)
    assert exact == 6
