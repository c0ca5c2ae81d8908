"""The classifier playground's read: a rule evaluated on a stored run or one of its LS, with its trace."""

from __future__ import annotations

import pytest

from runreg.configuration.model import default_configuration
from runreg.ingestion import service as ingestion
from runreg.kernel.errors import InvalidInput, RunNotFound
from runreg.storage.database import Database
from tests.builders.runs import create_collision_run

BPIX = {"==": [{"var": "bpix_ready"}, True]}


def test_a_component_rule_on_one_lumisection_and_over_the_run(db: Database) -> None:
    create_collision_run(db, 1001, ls_count=40, off={"bpix_ready": (10, 20)})
    on_ls_15 = ingestion.explain_rule(db, rule=BPIX, run_number=1001, ls=15)
    assert on_ls_15.result is False and not on_ls_15.holds
    assert on_ls_15.variables == {"bpix_ready": False} and on_ls_15.missing == []
    assert on_ls_15.trace == [BPIX, {"resulted_value": False}]
    assert on_ls_15.per_ls == [(1, 9, True), (10, 20, False), (21, 40, True)]

    rule = {"and": [BPIX, {"==": [{"var": "class"}, "Collisions24"]}, {"var": "no_such_key"}]}
    on_ls_3 = ingestion.explain_rule(db, rule=rule, run_number=1001, ls=3)
    assert on_ls_3.missing == ["no_such_key"] and on_ls_3.variables["class"] == "Collisions24"
    opened, outcome = on_ls_3.trace
    assert outcome == {"resulted_value": False}
    assert [child[1]["resulted_value"] for child in opened["and"]] == [True, True, False]


def test_a_class_rule_sees_the_run_context(db: Database) -> None:
    create_collision_run(db, 1001, ls_count=40, off={"bpix_ready": (10, 20)})
    collisions = next(c for c in default_configuration().class_classifiers if c.class_name == "Collisions24")
    explained = ingestion.explain_rule(db, rule=collisions.rule, run_number=1001)
    assert explained.ls is None and explained.holds  # the builder's run is a Collisions24 run
    # Reduced over the run: bpix_ready was true on some LS.
    assert ingestion.explain_rule(db, rule=BPIX, run_number=1001).holds


def test_bad_rules_runs_and_lumisections_are_named(db: Database) -> None:
    create_collision_run(db, 1001, ls_count=40)
    with pytest.raises(InvalidInput) as bad_rule:
        ingestion.explain_rule(db, rule={"frobnicate": [1]}, run_number=1001)
    assert bad_rule.value.field == "rule" and "frobnicate" in bad_rule.value.message
    with pytest.raises(InvalidInput) as bad_ls:
        ingestion.explain_rule(db, rule=BPIX, run_number=1001, ls=41)
    assert bad_ls.value.field == "ls" and "40 lumisections" in bad_ls.value.reason
    with pytest.raises(InvalidInput, match="at most"):
        ingestion.explain_rule(db, rule={"in": ["x", "y" * 30_000]}, run_number=1001)
    with pytest.raises(RunNotFound):
        ingestion.explain_rule(db, rule=BPIX, run_number=999)
