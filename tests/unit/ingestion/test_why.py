"""Why a run has its class, significance and LS statuses: the classifiers traced on a run's stored values."""

from __future__ import annotations

import pytest

from runreg.configuration.model import default_configuration
from runreg.ingestion import why
from runreg.kernel.errors import InvalidInput
from runreg.kernel.lsdiff import per_key_ranges
from runreg.kernel.ranges import RangeMap
from runreg.registry import model
from runreg.registry.events import Layer
from tests.builders.runs import collision_oms_attributes, lumisections

GOOD = {"status": "GOOD", "comment": "", "cause": ""}


def run_state(
    *, oms: dict | None = None, rr: dict | None = None, manual: dict | None = None
) -> model.RunState:
    """A 40-LS collision run with dtp_ready false on LS 10-12 and GOOD automatic flags for dt-dt."""
    run = model.RunState(380300)
    attributes = {**collision_oms_attributes(380300, 40), **(oms or {})}
    rr_attributes = {"class": "Collisions24", "significant": True, **(rr or {})}
    for event in model.register_run(380300, oms=attributes, rr=rr_attributes, layer=Layer.AUTOMATIC):
        model.apply(run, event)
    values = per_key_ranges(lumisections(40, off={"dtp_ready": (10, 12)}))
    for event in model.sync_oms_values(run, model.ONLINE, values):
        model.apply(run, event)
    for event in model.sync_automatic_flags(run, model.ONLINE, "dt-dt", RangeMap([(1, 40, GOOD)])):
        model.apply(run, event)
    for component, (first, last, status) in (manual or {}).items():
        for event in model.set_flags(
            run,
            dataset=model.ONLINE,
            component=component,
            first_ls=first,
            last_ls=last,
            status=status,
            comment="by hand",
            layer=Layer.MANUAL,
            known_components=[component],
        ):
            model.apply(run, event)
    return run


def verdict(explanation: why.Explanation, subject: str) -> why.Verdict:
    return next(v for v in explanation.components if v.subject == subject)


def test_the_class_is_the_first_rule_that_holds_by_priority_with_the_values_each_condition_read() -> None:
    explanation = why.explain(run_state(), default_configuration(), 5)
    cls = explanation.run_class
    assert [r.gives for r in cls.rules] == ["Collisions24", "Cosmics24", "Commissioning24"]
    assert [r.result for r in cls.rules] == [True, False, True]
    assert cls.decided_by == 0 and cls.outcome == "Collisions24" and cls.agrees
    tree = cls.rules[0].tree
    assert tree.op == "and" and tree.result is True
    energy = next(leaf for leaf in tree.children if leaf.reads and leaf.reads[0][0] == "energy")
    assert energy.rule == {">=": [{"var": "energy"}, 6000]} and energy.reads == (("energy", 6800),)


def test_significance_reads_missing_values_as_missing_and_says_it_differs_from_the_stored_flag() -> None:
    explanation = why.explain(run_state(), default_configuration(), 5)
    significance = explanation.significance
    assert significance.outcome == "not significant" and significance.stored == "significant"
    assert not significance.agrees
    counter = significance.rules[0].tree.children[0]
    assert counter.result is False and counter.reads == (("hlt_physics_counter", why.MISSING),)


def test_a_component_status_on_an_ls_comes_from_that_ls_values() -> None:
    run = run_state()
    config = default_configuration()
    on_bad_ls = verdict(why.explain(run, config, 11), "dt-dt")
    assert on_bad_ls.outcome == "BAD" and on_bad_ls.stored == "GOOD" and not on_bad_ls.agrees
    decider = on_bad_ls.rules[on_bad_ls.decided_by]
    assert decider.gives == "BAD" and decider.result
    earlier = on_bad_ls.rules[: on_bad_ls.decided_by]
    assert all(not rule.result for rule in earlier if rule.enabled)

    def leaves(node: why.Node) -> list[why.Node]:
        return [leaf for child in node.children for leaf in leaves(child)] if node.op else [node]

    dtp = [leaf for leaf in leaves(decider.tree) if ("dtp_ready", False) in leaf.reads]
    assert dtp and all(leaf.result for leaf in dtp if leaf.rule == {"==": [{"var": "dtp_ready"}, False]})
    assert verdict(why.explain(run, config, 5), "dt-dt").outcome == "GOOD"
    assert why.explain(run, config, 11).ls_values["dtp_ready"] is False


def test_a_manual_status_is_shown_as_stored_with_a_note() -> None:
    run = run_state(manual={"dt-dt": (11, 11, "STANDBY")})
    dt = verdict(why.explain(run, default_configuration(), 11), "dt-dt")
    assert dt.stored == "STANDBY" and dt.note == "manual" and dt.outcome == "BAD"
    tracker = verdict(why.explain(run, default_configuration(), 11), "tracker-pixel")
    assert tracker.stored == "EMPTY"


def test_without_hlt_key_the_class_is_kept_and_no_significance_rule_applies_to_no_class() -> None:
    run = run_state(oms={"hlt_key": None}, rr={"class": ""})
    explanation = why.explain(run, default_configuration(), 1)
    assert explanation.run_class.outcome == "" and explanation.run_class.decided_by is None
    assert explanation.run_class.note == "no HLT key: the class is kept"
    assert explanation.significance.rules == []
    assert explanation.significance.note == "no significance rule for class (none)"


def test_a_disabled_rule_is_traced_but_never_decides() -> None:
    config = default_configuration()
    disabled = config.model_copy(
        update={
            "class_classifiers": [
                c.model_copy(update={"enabled": c.class_name != "Collisions24"})
                for c in config.class_classifiers
            ]
        }
    )
    cls = why.explain(run_state(), disabled, 1).run_class
    assert cls.rules[0].result is True and cls.rules[0].enabled is False
    assert cls.outcome == "Commissioning24" and cls.decided_by == 2


def test_an_ls_outside_the_run_is_refused_naming_the_field() -> None:
    with pytest.raises(InvalidInput) as refused:
        why.explain(run_state(), default_configuration(), 41)
    assert refused.value.field == "ls" and "has 40 lumisections, got 41" in refused.value.reason


def test_read_follows_dotted_paths_and_tells_missing_from_null() -> None:
    data = {"a": {"b": None, "c": [1, 2]}, "dt-dt": "x"}
    assert why.read(data, "a.b") is None
    assert why.read(data, "a.c.1") == 2
    assert why.read(data, "a.d") is why.MISSING
    assert why.read(data, "dt-dt") == "x"
