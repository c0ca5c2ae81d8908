"""The configuration in Chromium: an expert edits a classifier in the YAML (a validation error named at its
field and line, fixed, saved), diffs two versions and restores one; a shifter sees everything read-only;
the classifier playground evaluates a rule on a run."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from runreg.configuration import service as configuration
from tests.browser.conftest import EXPERT, SHIFTER, Site
from tests.builders.runs import EXPERT as EXPERT_ACTOR
from tests.builders.runs import create_collision_run

ORIGINAL = "    status: STANDBY\n    priority: 2\n"  # the second component classifier (castor-castor)


def paste(editor, text: str) -> None:  # noqa: ANN001
    """Put `text` in the editor as a paste would (Playwright's fill of the 60 kB YAML takes ~20 s)."""
    editor.evaluate(
        "(el, text) => { el.value = text; el.dispatchEvent(new Event('input', {bubbles: true})); }", text
    )


def test_an_expert_edits_a_classifier_diffs_two_versions_and_restores_one(site: Site, open_page) -> None:  # noqa: ANN001
    page = open_page(EXPERT, "/config")
    editor = page.locator("#yaml")
    text = editor.input_value()
    assert ORIGINAL in text
    paste(editor, text.replace(ORIGINAL, "    status: STANDBY\n    priority: second\n", 1))
    page.fill("input[name=comment]", "castor standby after the stable-beam rules")
    page.click("button:has-text('Save as a new version')")

    problem = page.locator(".problems .problem").first
    expect(problem.locator(".path")).to_have_text("component_classifiers.1.priority")
    line = int(problem.get_attribute("data-line") or 0)
    assert editor.input_value().splitlines()[line - 1] == "    priority: second"
    expect(problem.locator(".excerpt .hit")).to_contain_text("priority: second")
    expect(page.locator(".gutter span.hit")).to_have_text(str(line))
    assert configuration.version_count(site.db) == 1  # nothing was written

    paste(editor, editor.input_value().replace("priority: second", "priority: 7", 1))
    page.click("button:has-text('Save as a new version')")
    expect(page.locator("#editor .flash.ok")).to_contain_text("Saved as version 2")
    assert configuration.show(site.db).component_classifiers[1].priority == 7

    page.click("aside a:has-text('Versions')")
    expect(page.locator("tr[data-version]")).to_have_count(2)
    page.click("button:has-text('Diff from → to')")  # preselected: version 1 → version 2
    expect(page).to_have_url(re.compile(r"/config/diff\?(from=1&to=2|to=2&from=1)$"))
    expect(page.locator("table.diff tr.removed")).to_have_text(re.compile(r"priority: 2"))
    expect(page.locator("table.diff tr.added")).to_have_text(re.compile(r"priority: 7"))
    expect(page.locator(".diff-card h2")).to_contain_text("+1 −1")

    page.click("button:has-text('Restore version 1')")
    expect(page.locator("#flash .flash.ok")).to_contain_text("version 1 restored")
    assert configuration.version_count(site.db) == 3
    assert configuration.show(site.db) == configuration.show(site.db, version=1)
    page.goto(site.url("/config/versions"))
    expect(page.locator("tr[data-version='3'] td.comment")).to_contain_text("restores version 1")


def test_a_concurrent_edit_is_shown_instead_of_overwritten(site: Site, open_page) -> None:  # noqa: ANN001
    page = open_page(EXPERT, "/config")
    editor = page.locator("#yaml")
    mine = editor.input_value().replace(ORIGINAL, "    status: STANDBY\n    priority: 8\n", 1)
    configuration.import_yaml(  # someone else saves first
        site.db, actor=EXPERT_ACTOR, text=configuration.export_yaml(site.db), comment="colleague's edit"
    )
    paste(editor, mine)
    page.fill("input[name=comment]", "my edit")
    page.click("button:has-text('Save as a new version')")
    stale = page.locator("#editor .flash.error.stale")
    expect(stale).to_contain_text("the configuration is at version 2, not 1")
    expect(stale.locator("a:has-text('see what changed meanwhile')")).to_have_attribute(
        "href", "/config/diff?from=1&to=2"
    )
    assert editor.input_value() == mine  # the edit is not lost
    assert configuration.version_count(site.db) == 2


def test_a_shifter_sees_the_yaml_read_only_and_the_buttons_disabled_with_the_reason(  # noqa: ANN001
    site: Site, open_page
) -> None:
    configuration.import_yaml(
        site.db, actor=EXPERT_ACTOR, text=configuration.export_yaml(site.db), comment="second version"
    )
    page = open_page(SHIFTER, "/config")
    expect(page.locator("#yaml")).to_have_attribute("readonly", "")
    save = page.locator("button:has-text('Save as a new version')")
    expect(save).to_be_disabled()
    assert "shifter@cern.ch may not configuration:import" in (save.get_attribute("title") or "")

    page.goto(site.url("/config/versions"))
    restore = page.locator("tr[data-version='1'] button.restore")
    expect(restore).to_be_disabled()
    assert "may not configuration:restore" in (restore.get_attribute("title") or "")
    page.goto(site.url("/config/diff?from=1&to=2"))
    expect(page.locator("button:has-text('Restore version 1')")).to_be_disabled()


def test_the_playground_shows_a_rules_result_and_trace_for_a_run(site: Site, open_page) -> None:  # noqa: ANN001
    create_collision_run(site.db, 380100, ls_count=40, off={"bpix_ready": (10, 20)})
    page = open_page(SHIFTER, "/config/playground")
    page.fill(
        "textarea[name=rule]", '{"and": [{"var": "bpix_ready"}, {"==": [{"var": "class"}, "Collisions24"]}]}'
    )
    page.fill("input[name=run]", "380100")
    page.fill("input[name=ls]", "15")
    page.click("button:has-text('Evaluate')")
    result = page.locator("#result")
    expect(result.locator(".verdict-badge")).to_contain_text("does not hold")
    expect(result.locator("ul.trace > li.fails > .op")).to_have_text("and")
    leaves = result.locator("ul.trace > li > ul > li")
    expect(leaves.nth(0)).to_have_class("fails")  # bpix_ready is false on LS 15
    expect(leaves.nth(1)).to_have_class("holds")
    expect(result.locator("table.vars")).to_contain_text("bpix_ready")
    expect(result.locator("ul.ls-results li")).to_have_text(
        ["LS 1–9: holds", "LS 10–20: does not hold", "LS 21–40: holds"]
    )

    # A classifier of the configuration loads its rule; a bad LS is named next to its field.
    page.select_option("select[name=classifier]", label="class Collisions24 (priority 1)")
    page.fill("input[name=ls]", "")
    page.click("button:has-text('Load its rule')")
    assert "hlt_key" in page.locator("textarea[name=rule]").input_value()
    expect(page.locator("#result .verdict-badge")).to_contain_text("holds")
    page.fill("input[name=ls]", "41")
    page.click("button:has-text('Evaluate')")
    expect(page.locator(".field-error")).to_contain_text("run 380100 has 40 lumisections")
