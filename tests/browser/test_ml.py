"""ML agents end to end in Chromium: an agent posts predictions through the API (over the SSO proxy, as a
service account), a certifier judges LS in the browser, the agreement page shows the confusion counts, and
the run page shows each component's read-only ML row beside the people's bar."""

from __future__ import annotations

import httpx
from playwright.sync_api import Page, expect

from tests.browser.conftest import NOBODY, SECRET, SHIFTER, Site
from tests.builders.runs import create_collision_run

RUN = 380300
AGENT = {
    "x-runreg-proxy-secret": SECRET,
    "email": "tracker-ml@cern.ch",
    "egroups": "cms-dqm-runregistry-ml-agents",
}


def post_predictions(site: Site) -> httpx.Response:
    """What an agent does: one POST per dataset with its model's ranges per component."""
    return httpx.post(
        site.url("/api/v1/predictions"),
        headers=AGENT,
        json={
            "run_number": RUN,
            "dataset": "online",
            "model": "pixel-ae",
            "version": "2.1",
            "predictions": {
                "tracker-pixel": [
                    {"first_ls": 1, "last_ls": 30, "status": "GOOD", "score": 0.97},
                    {"first_ls": 31, "last_ls": 40, "status": "BAD", "score": 0.88},
                ]
            },
        },
    )


def matrix(page: Page, component: str) -> dict[tuple[str, str], str]:
    cells = page.locator(f".matrix-card[data-component='{component}'] td[data-model-status]").evaluate_all(
        "cells => cells.map(c => [c.dataset.modelStatus, c.dataset.certifierStatus, c.innerText.trim()])"
    )
    return {(row, column): n for row, column, n in cells}


def test_agent_predictions_a_certifier_judges_and_the_agreement_counts(site: Site, open_page) -> None:  # noqa: ANN001
    create_collision_run(site.db, RUN, ls_count=60, components=("tracker-pixel", "dt-dt"))
    posted = post_predictions(site)
    assert posted.status_code == 200, posted.text

    # Before anyone judges, the automatic GOOD of the classifiers is in force: the model's BAD LS disagree.
    page = open_page(SHIFTER, "/ml")
    expect(page.locator("nav.sections a.active")).to_have_text("ML")
    expect(page.locator("#models tbody tr")).to_have_count(1)
    expect(page.locator("#models tbody tr").first).to_contain_text("pixel-ae")
    assert matrix(page, "tracker-pixel")[("BAD", "GOOD")] == "10"

    # A shifter (the online dataset's certifier) marks LS 31–36 BAD on the run page, where the ML row shows.
    page.goto(site.url(f"/runs/{RUN}"))
    row = page.locator("article[data-component='tracker-pixel'] .ml-row")
    expect(row).to_have_count(1)
    expect(row.locator(".ml-label")).to_contain_text("pixel-ae")
    expect(row.locator(".ml-agree")).to_have_text("agrees on 30 of 40 judged LS")
    bad = row.locator("rect[data-status=BAD] title")
    assert bad.text_content() == "LS 31–40: BAD — pixel-ae 2.1, score 0.88"
    expect(page.locator("article[data-component='dt-dt'] .ml-row")).to_have_count(0)  # no prediction there

    page.locator("article[data-component='tracker-pixel'] button.toggle[data-panel=edit]").click()
    form = page.locator("#flag-form-tracker-pixel")
    form.locator("input[name=first_ls]").fill("31")
    form.locator("input[name=last_ls]").fill("36")
    form.locator("select[name=status]").select_option("BAD")
    form.locator("input[name=comment]").fill("pixel FED errors")
    form.locator("button:has-text('Save')").click()
    expect(page.locator("#flash .flash.ok")).to_contain_text("tracker-pixel: LS 31–36 set to BAD")
    # The people's bar changed; the ML row stayed what the agent said, and now agrees more.
    expect(row.locator(".ml-agree")).to_have_text("agrees on 36 of 40 judged LS")
    assert row.locator("rect[data-status=BAD]").count() == 1

    page.goto(site.url("/ml?workspace=tracker"))
    assert matrix(page, "tracker-pixel") == {
        ("GOOD", "GOOD"): "30",
        ("GOOD", "BAD"): "0",
        ("GOOD", "not judged"): "0",
        ("BAD", "GOOD"): "4",
        ("BAD", "BAD"): "6",
        ("BAD", "not judged"): "0",
    }
    summary = page.locator("table.summary tbody tr").first
    expect(summary.locator("td.rate")).to_have_text("90.0%")
    # Only what people set: the classifiers' GOOD no longer counts as a judgment.
    page.locator("select[name=basis]").select_option("manual")
    page.locator("#ml-filters button:has-text('Compare')").click()
    expect(page.locator("table.summary tbody tr").first.locator("td.rate")).to_have_text("100.0%")
    assert matrix(page, "tracker-pixel")[("GOOD", "not judged")] == "30"


def test_a_bad_filter_is_shown_at_its_field_and_visitors_read_the_page(site: Site, open_page) -> None:  # noqa: ANN001
    create_collision_run(site.db, RUN, ls_count=60, components=("tracker-pixel",))
    assert post_predictions(site).status_code == 200
    page = open_page(NOBODY, "/ml?run_from=380400&run_to=380300")
    expect(page.locator("#ml-filters .field-error")).to_have_text(
        "must not be below run_from (380400), got 380300"
    )
    page.goto(site.url("/ml?run_from=abc"))
    expect(page.locator("#ml-filters .field-error")).to_contain_text("not a positive whole number")
    page.goto(site.url("/ml?dataset=/PromptReco/*"))
    expect(page.locator("#agreement .empty-note")).to_have_text("No prediction matches this filter.")
    page.goto(site.url("/ml"))
    expect(page.locator(".matrix-card")).to_have_count(1)
