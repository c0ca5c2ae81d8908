"""What the JSON portal draws: the rule outline marks the node in error, chart labels, downloads, runs."""

from __future__ import annotations

import json

import pytest

from runreg.kernel.errors import InvalidInput
from runreg.web.json_view import charts, download, parse_rule, rule_label, rule_outline, rule_text, run_rows

RULE = {
    "and": [
        {">=": [{"var": "run.oms.energy"}, 6000]},
        {"or": [{"==": [{"var": "lumisection.rr.dt"}, "GOOD"]}, {"var": "lumisection.oms.tob_ready"}]},
    ]
}
RESULT = {
    "json": {"2": [[1, 4], [7, 9]], "10": [[1, 1]]},
    "anti_json": {"2": [[5, 6]], "11": [[1, 3]]},
    "json_with_dataset_names": {"2-/A/B/C": [[1, 4], [7, 9]]},
    "luminosity": {"recorded": {"total": 0.0, "in_json": 0.0, "lost": 0.0}},
    "failures": {
        "by_rule": [{"rule": {"==": [{"var": "lumisection.oms.tob_ready"}, True]}, "ls": 5, "recorded": 0.0}],
        "by_combination": [
            {"rules": [{"==": [{"var": "lumisection.oms.tob_ready"}, True]}], "ls": 5, "recorded": 0.0}
        ],
    },
    "by_run": {"2": {"recorded": 0.9, "recorded_in_json": 0.7}},
}


def test_the_outline_marks_exactly_the_node_in_error() -> None:
    lines = rule_outline(RULE, "rule/and/1/or/0/==/0")
    marked = [line.text.strip() for line in lines if line.marked]
    assert marked == ['{"==": [{"var": "lumisection.rr.dt"}, "GOOD"]},']
    assert not any(line.marked for line in rule_outline(RULE))
    assert json.loads(rule_text(RULE)) == RULE  # the editor's text is the rule


def test_a_syntax_error_names_line_and_column() -> None:
    with pytest.raises(InvalidInput, match=r"json_logic: not valid JSON: .* \(line 2, column 1\)"):
        parse_rule('{"and": [\n')
    assert parse_rule("  ") is None


def test_chart_labels_are_short_and_fall_back_to_lost_ls_without_luminosity() -> None:
    assert rule_label({"==": [{"var": "lumisection.rr.dt-dt"}, "GOOD"]}) == 'rr.dt-dt == "GOOD"'
    assert rule_label({"!": [{"var": "x"}]}) == '{"!":[{"var":"x"}]}'
    drawn = charts(RESULT)
    assert drawn["unit"] == "lost LS" and drawn["by_rule"]["values"] == [5]
    assert drawn["by_subsystem"]["labels"] == ["strip"] and drawn["by_subsystem"]["exclusive"] == [5]


def test_downloads_and_per_run_rows() -> None:
    text, media = download(RESULT, "json")
    assert media == "application/json" and json.loads(text) == {"2": [[1, 4], [7, 9]], "10": [[1, 1]]}
    assert download(RESULT, "lumis_to_process") == ("2:1-2:4,2:7-2:9,10:1", "text/plain")
    assert json.loads(download(RESULT, "json_with_dataset_names")[0]) == RESULT["json_with_dataset_names"]
    rows = {row["run"]: row for row in run_rows(RESULT)}
    assert [*rows] == [2, 10, 11]
    assert (rows[2]["ls"], rows[2]["ls_in_json"], rows[2]["ls_lost"], rows[2]["recorded"]) == (9, 7, 2, 0.9)
    assert rows[11]["ranges"] == () and rows[10]["recorded"] is None
