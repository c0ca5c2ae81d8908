"""The playground's trace tree, from the JSON-logic trace of a real evaluation."""

from __future__ import annotations

import json

from runreg.classifiers import jsonlogic
from runreg.web.trace_display import TraceNode, readable_rule, trace_tree


def test_and_or_nodes_open_and_leaves_keep_their_rule() -> None:
    rule = {"and": [{"var": "a"}, {"or": [{"==": [{"var": "b"}, 1]}, {"var": "c"}]}]}
    tree = trace_tree(jsonlogic.trace(rule, {"a": True, "b": 2, "c": 0}))
    assert tree == TraceNode(
        False,
        "and",
        children=[
            TraceNode(True, rule='{"var": "a"}'),
            TraceNode(
                False,
                "or",
                children=[
                    TraceNode(False, rule='{"==": [{"var": "b"}, 1]}'),
                    TraceNode(False, rule='{"var": "c"}'),
                ],
            ),
        ],
    )


def test_a_rule_reads_compactly_and_stays_the_same_json() -> None:
    rule = {
        "and": [{"var": "pixel_included"}, {"or": [{"==": [{"var": "bpix_ready"}, True]}, {"var": "x" * 70}]}]
    }
    text = readable_rule(rule, width=60)
    assert json.loads(text) == rule
    assert text.splitlines()[:3] == ["{", '  "and": [', '    {"var": "pixel_included"},']
    assert readable_rule({"var": "a"}) == '{"var": "a"}'
