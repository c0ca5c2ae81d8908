"""The tables' filter machinery: one query object for the online and offline tables, kept in the URL."""

from __future__ import annotations

import pytest

from runreg.kernel.errors import InvalidInput
from runreg.web import display
from runreg.web.offline import table_spec
from runreg.web.table_query import ONLINE_TABLES, TableQuery, both


def test_both_joins_leaves_out_empty_and_flattens_ands() -> None:
    assert both() == {} and both({}, {}) == {}
    assert both({"a": 1}) == {"a": 1}
    assert both({"and": [{"a": 1}, {"b": 2}]}, {}, {"c": 3}) == {"and": [{"a": 1}, {"b": 2}, {"c": 3}]}
    assert both({"or": [{"a": 1}]}, {"c": 3}) == {"and": [{"or": [{"a": 1}]}, {"c": 3}]}


def test_the_offline_spec_filters_on_the_name_and_the_workspace_state() -> None:
    spec = table_spec("tracker")
    query = TableQuery.from_params(
        {
            "name": "Prompt",
            "state": "SIGNOFF",
            "run_min": "380000",
            "significant": "yes",
            "sort": "state:asc",
        },
        spec,
    )
    assert query.to_filter() == {
        "and": [
            {"run_number": {">=": 380000}},
            {"name": {"like": "%Prompt%"}},
            {"dataset_attributes.tracker_state": "SIGNOFF"},
        ]
    }  # `significant` is an online choice: ignored here
    assert query.to_filter(with_state=False) == {
        "and": [{"run_number": {">=": 380000}}, {"name": {"like": "%Prompt%"}}]
    }
    assert query.sortings() == [["dataset_attributes.tracker_state", "ASC"]]
    with pytest.raises(InvalidInput) as refused:
        TableQuery.from_params({"state": "waiting dqm gui"}, spec).to_filter()
    assert refused.value.field == "state"
    with pytest.raises(InvalidInput):
        TableQuery.from_params({"sort": "hlt_key"}, spec)  # an online column


def test_pages_and_toggles_stay_in_the_links() -> None:
    query = TableQuery.from_params(
        {"page": "3", "waiting_page": "1", "all_states": "1", "sort": "run:desc"}, table_spec("global")
    )
    assert (query.page, query.page_of("waiting_page"), query.toggles) == (3, 1, frozenset({"all_states"}))
    assert query.params(page=4) == {"sort": "run:desc", "page": 4, "waiting_page": 1, "all_states": 1}
    assert query.sort_link("name") == {"sort": "name:desc", "all_states": 1}  # a new sort starts at page 1
    assert query.toggle_link("all_states") == {"sort": "run:desc", "page": 3, "waiting_page": 1}
    online = TableQuery.from_params({"live": "1", "significant_page": "2"}, ONLINE_TABLES)
    assert online.live and online.significant_page == 2 and online.params()["live"] == 1


def test_a_status_bar_and_a_rows_cells_are_drawn_once_in_python() -> None:
    summary = {"GOOD": 8, "BAD": 2, "EMPTY": 0, "comments": ["HV trip"]}
    bar = display.status_bar(summary, 10, "/offline/ranges/1/dt-dt?dataset=%2FX")
    assert bar.startswith('<span class="bar commented" title="GOOD 8 LS, BAD 2 LS — HV trip"')
    assert 'hx-get="/offline/ranges/1/dt-dt?dataset=%2FX"' in bar
    assert (
        '<span class="seg GOOD" style="width:80.00%"></span><span class="seg BAD" style="width:20.00%">'
        in bar
    )
    whole = display.status_bar({"GOOD": 10, "comments": []}, 10)
    assert ">GOOD</span>" in whole and "hx-get" not in whole and "commented" not in whole
    assert display.status_bar(None, 10) == ""
    cells = display.status_cells({"dt-dt": summary}, ["dt-dt", "csc-csc"], 10, "/p/", "?q")
    assert cells.count("<td") == 2 and cells.endswith('<td class="component"></td>')
    assert 'hx-get="/p/dt-dt?q"' in cells
    assert (
        display.dataset_url(380000, "/PromptReco/Collisions2024C/DQM")
        == "/datasets/380000/PromptReco/Collisions2024C/DQM"
    )
    assert display.dataset_url(1, "odd name") == "/datasets/1/odd%20name"
