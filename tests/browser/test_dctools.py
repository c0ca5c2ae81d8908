"""The DC tools page in Chromium: an expert repairs a column with a DC tool (preview, confirm, one change set)
and reverts it from the change log; a certifier of one workspace sees the confirmation disabled."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import quote

from playwright.sync_api import Page, expect

from runreg.registry import service as registry
from runreg.registry.service import FlagEdit
from tests.browser.conftest import CERTIFIER, Site
from tests.builders.cycles import EXPRESS, PROMPT, offline_runs
from tests.builders.runs import CERTIFIER as CERTIFIER_ACTOR

DT = ("dt-certifier@cern.ch", "cms-dqm-runregistry-offline-dt-certifiers")
RUNS = (379501, 379502, 379503)
SCREENSHOTS = Path(__file__).parents[2] / "docs" / "screenshots"


def seed(site: Site) -> None:
    offline_runs(site.db, RUNS, names=(PROMPT, EXPRESS))
    for run in RUNS:
        registry.edit_flags(
            site.db,
            actor=CERTIFIER_ACTOR,
            run_number=run,
            dataset=PROMPT,
            edits=[FlagEdit("dt-dt", 1, 4, "BAD", comment="chamber off")],
            comment="a wrong BAD",
        )


def statuses(site: Site, run: int) -> set[str]:
    ranges = registry.component_ranges(registry.run_state(site.db, run), PROMPT)["dt-dt"]
    return {r["status"] for r in ranges}


def tool_url(tool: str) -> str:
    return f"/offline/dc-tools?tool={tool}&filter={quote(json.dumps({'name': PROMPT}))}"


def test_an_expert_repairs_a_column_and_reverts_it(site: Site, open_page) -> None:  # noqa: ANN001
    seed(site)
    page: Page = open_page(CERTIFIER, tool_url("batch_update"))
    page.on("dialog", lambda dialog: dialog.accept())
    form = page.locator("#tool-form")
    form.locator("select[name=columns]").select_option("dt-dt")
    form.locator("select[name=new_status]").select_option("GOOD")
    form.locator("button:has-text('Preview')").click()  # without the mandatory comment: refused, naming it
    expect(page.locator("#dc-preview .field-error[data-field=comment]")).to_contain_text("is required")
    form.locator("input[name=comment]").fill("the chamber was on: the BAD was a mistake")
    form.locator("button:has-text('Preview')").click()
    card = page.locator("#dc-preview .dc-card")
    expect(card).to_have_attribute("data-selected", "3")
    expect(card).to_contain_text("3 datasets selected, 3 would change")
    expect(card.locator(".filter-json")).to_contain_text(PROMPT)
    expect(card.locator(".names")).to_contain_text(f"Dataset names (1): {PROMPT}")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "dctools-preview.png"), full_page=True)
    assert all("BAD" in statuses(site, run) for run in RUNS)  # a preview writes nothing

    card.locator("button:has-text('Confirm')").click()
    done = page.locator("#dc-result .dc-done")
    expect(done).to_contain_text("on 3 datasets")
    assert all(statuses(site, run) == {"GOOD"} for run in RUNS)
    page.screenshot(path=str(SCREENSHOTS / "dctools-done.png"), full_page=True)

    change_set = done.get_attribute("data-change-set")
    assert change_set and int(change_set) == registry.history(site.db, limit=1)[0].id
    done.locator("a.change-set").click()
    expect(page).to_have_url(f"{site.base}/log/{change_set}")
    page.locator("form.revert button:has-text('Revert this change set')").click()
    expect(page.locator("#revert-result .flash.ok")).to_contain_text(f"Change set #{change_set} reverted")
    page.screenshot(path=str(SCREENSHOTS / "dctools-reverted.png"), full_page=True)
    assert all("BAD" in statuses(site, run) for run in RUNS)


def test_an_empty_filter_needs_confirming_and_a_certifier_may_not(site: Site, open_page) -> None:  # noqa: ANN001
    seed(site)
    page: Page = open_page(DT, "/offline/dc-tools?tool=hide")
    page.locator("#tool-form input[name=reason]").fill("wrong era")
    page.locator("#tool-form button:has-text('Preview')").click()
    card = page.locator("#dc-preview .dc-card")
    expect(card).to_contain_text("no filter: every offline dataset")
    expect(card.locator("input[name=confirm_all]")).to_be_visible()
    confirm = card.locator("button:has-text('Confirm')")
    expect(confirm).to_be_disabled()
    assert "datasets:dctools:hide" in (confirm.get_attribute("title") or "")
    expect(card.locator("p.refusal-note")).to_contain_text("cms-dqm-runregistry-data-certification")
    # The export and the client's call follow the filter just previewed.
    page.locator("#tool-form textarea[name=filter]").fill('{"run_number": 379502}')
    page.locator("#tool-form button:has-text('Preview')").click()
    expect(card).to_contain_text("2 datasets selected")
    expect(page.locator("#export-filter")).to_have_value('{"run_number": 379502}')
    page.locator("#api-call summary").click()
    expect(page.locator("#api-call pre.snippet")).to_contain_text("379502")
    page.screenshot(path=str(SCREENSHOTS / "dctools-certifier-refused.png"), full_page=True)
