"""The datasets-accepted editor in Chromium: an expert creates a rule (a new configuration version), a bad
regular expression or run range is refused next to its field with nothing saved, a rule is edited and
deleted, and a shifter sees the editor read-only with the reason."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from runreg.configuration import service as configuration
from tests.browser.conftest import EXPERT, SHIFTER, Site

NAME = "/PromptReco/Collisions2024E/DQM"


def rules(site: Site) -> list[str]:
    return [rule.name for rule in configuration.current_configuration(site.db).datasets_accepted]


def fill_new(page: Page, *, regexps: str, run_from: str = "380948", run_to: str = "381400") -> None:
    form = page.locator("#rule-new")
    form.locator("input[name=name]").fill(NAME)
    form.locator("input[name=class]").fill("Collisions24")
    form.locator("input[name=run_from]").fill(run_from)
    form.locator("input[name=run_to]").fill(run_to)
    form.locator("textarea[name=regexps]").fill(regexps)


def test_an_expert_creates_a_rule_and_a_bad_regexp_is_refused_at_its_field(site: Site, open_page) -> None:  # noqa: ANN001
    page = open_page(EXPERT, "/config/datasets-accepted")
    before, versions = rules(site), configuration.version_count(site.db)
    expect(page.locator("#rules-table tbody tr.rule")).to_have_count(len(before))

    fill_new(page, regexps="/ZeroBias/Run2024E-PromptReco-v.*?/DQMIO\n/Muon0/(Run2024E-PromptReco/DQMIO")
    page.locator("#rule-new button:has-text('Add the rule')").click()
    error = page.locator("#rule-new label.regexps .field-error")
    expect(error).to_contain_text("line 2:")
    expect(error).to_contain_text("is not a valid regular expression")
    expect(page.locator("#rule-new textarea[name=regexps]")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#rule-new input[name=name]")).to_have_value(NAME)  # what was typed stays
    assert rules(site) == before and configuration.version_count(site.db) == versions

    fill_new(page, regexps="/ZeroBias/Run2024E-PromptReco-v.*?/DQMIO", run_from="381400", run_to="380948")
    page.locator("#rule-new button:has-text('Add the rule')").click()
    expect(page.locator("#rule-new label:has(input[name=run_to]) .field-error")).to_contain_text(
        "run_from (381400) is after run_to (380948)"
    )
    page.locator("#rule-new input[name=run_from]").fill("38o948")
    page.locator("#rule-new button:has-text('Add the rule')").click()
    expect(page.locator("#rule-new label:has(input[name=run_from]) .field-error")).to_contain_text(
        "is not a positive whole number"
    )
    assert configuration.version_count(site.db) == versions

    fill_new(
        page, regexps="/ZeroBias/Run2024E-PromptReco-v.*?/DQMIO\n\n/Muon0/Run2024E-PromptReco-v.*?/DQMIO\n"
    )
    page.locator("#rule-new button:has-text('Add the rule')").click()
    expect(page.locator("#flash .flash.ok")).to_contain_text(f"rule {NAME} added")
    expect(page.locator(f"#rules-table tr.rule[data-rule='{NAME}']")).to_be_visible()  # the table reloaded
    added = configuration.current_configuration(site.db).datasets_accepted[-1]
    assert (added.name, added.class_name, added.run_from, added.run_to, added.enabled) == (
        NAME,
        "Collisions24",
        380948,
        381400,
        True,
    )
    assert added.regexps == [
        "/ZeroBias/Run2024E-PromptReco-v.*?/DQMIO",
        "/Muon0/Run2024E-PromptReco-v.*?/DQMIO",
    ]
    assert configuration.version_count(site.db) == versions + 1
    assert configuration.history(site.db, limit=1)[0].comment == f"datasets accepted: add {NAME}"


def test_an_expert_edits_and_deletes_a_rule(site: Site, open_page) -> None:  # noqa: ANN001
    page = open_page(EXPERT, "/config/datasets-accepted")
    first = rules(site)[0]
    page.locator(f"#rules-table tr.rule[data-rule='{first}'] button.edit-rule").click()
    form = page.locator("#rule-0")
    form.locator("input[name=enabled]").uncheck()
    form.locator("input[name=comment]").fill("express no longer certified")
    form.locator("button:has-text('Save the rule')").click()
    expect(page.locator("#flash .flash.ok")).to_contain_text(f"rule {first} saved")
    expect(page.locator(f"#rules-table tr.rule[data-rule='{first}']")).to_have_class("rule disabled")
    assert configuration.current_configuration(site.db).datasets_accepted[0].enabled is False
    assert configuration.history(site.db, limit=1)[0].comment == "express no longer certified"

    page.once("dialog", lambda dialog: dialog.accept())
    page.locator(f"#rules-table tr.rule[data-rule='{first}'] button:has-text('Delete')").click()
    expect(page.locator("#flash .flash.ok")).to_contain_text(f"rule {first} deleted")
    expect(page.locator(f"#rules-table tr.rule[data-rule='{first}']")).to_have_count(0)
    assert first not in rules(site)


def test_a_shifter_sees_the_rules_read_only_with_the_reason(site: Site, open_page) -> None:  # noqa: ANN001
    page = open_page(SHIFTER, "/config/datasets-accepted")
    expect(page.locator(".refusal-note")).to_contain_text("may not")
    expect(page.locator("#rule-new button:has-text('Add the rule')")).to_be_disabled()
    assert all(
        page.locator("#rules-table button:has-text('Delete')").evaluate_all("bs => bs.map(b => b.disabled)")
    )
