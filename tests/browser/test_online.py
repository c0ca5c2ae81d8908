"""Online run tables in Chromium: filter and sort kept in the URL, segment popovers, state moves with their
refusals, and what a person without e-groups sees (and may not forge)."""

from __future__ import annotations

import re

import httpx
from playwright.sync_api import expect

from runreg.registry import service as registry
from runreg.registry.service import FlagEdit
from tests.browser.conftest import NOBODY, SECRET, SHIFTER, Site
from tests.builders.runs import OMS_WORKER, create_collision_run
from tests.builders.runs import SHIFTER as SHIFTER_ACTOR


def seed(site: Site) -> None:
    for run_number in (380100, 380101, 380102):
        create_collision_run(site.db, run_number, ls_count=40, components=("dt-dt", "tracker-pixel"))
    create_collision_run(
        site.db, 380103, ls_count=30, rr={"class": "Cosmics24"}, components=("dt-dt", "tracker-pixel")
    )
    registry.edit_flags(
        site.db,
        actor=SHIFTER_ACTOR,
        run_number=380101,
        edits=[FlagEdit("dt-dt", 10, 20, "BAD", "HV trip in sector 4")],
        comment="HV trip in sector 4",
    )


def run_numbers(page, table: str) -> list[str]:  # noqa: ANN001
    return page.locator(f"#{table} tbody tr[data-run]").evaluate_all("rows => rows.map(r => r.dataset.run)")


def move(page, run_number: int, state: str) -> None:  # noqa: ANN001
    row = page.locator(f"#all-runs tr[data-run='{run_number}']")
    row.locator("select[name=to_state]").select_option(state)
    row.locator("button:has-text('Move')").click()


def test_a_shifter_filters_and_sorts_the_table_and_the_url_keeps_both(site: Site, open_page) -> None:  # noqa: ANN001
    seed(site)
    page = open_page(SHIFTER, "/online/global")
    assert run_numbers(page, "all-runs") == ["380103", "380102", "380101", "380100"]

    page.fill("input[name=class]", "Cosmics")
    page.click("button:has-text('Apply')")
    expect(page).to_have_url(re.compile(r"class=Cosmics"))
    assert run_numbers(page, "all-runs") == ["380103"]
    assert "rr_attributes.class" in page.locator(".filter-json").inner_text()

    page.goto(site.url("/online/global?component=dt-dt&component_status=BAD"))
    assert run_numbers(page, "all-runs") == ["380101"]

    page.goto(site.url("/online/global"))
    page.click("#all-runs th.sortable a:has-text('Run')")  # sorted descending already: now ascending
    expect(page).to_have_url(re.compile(r"sort=run%3Aasc|sort=run:asc"))
    assert run_numbers(page, "all-runs") == ["380100", "380101", "380102", "380103"]
    page.reload()  # the URL alone reproduces the view
    assert run_numbers(page, "all-runs") == ["380100", "380101", "380102", "380103"]


def test_a_bad_filter_is_explained_next_to_the_builder(site: Site, open_page) -> None:  # noqa: ANN001
    seed(site)
    page = open_page(SHIFTER, "/online/global?run_min=abc")
    expect(page.locator(".field-error")).to_contain_text("run_min: 'abc' is not a number")
    page.goto(site.url('/online/global?raw={"nonsense.key": 1}'))
    expect(page.locator(".field-error")).to_contain_text("nonsense.key")


def test_a_segment_shows_the_components_ranges_and_comments(site: Site, open_page) -> None:  # noqa: ANN001
    seed(site)
    page = open_page(SHIFTER, "/online/global")
    row = page.locator("#all-runs tr[data-run='380101']")
    bar = row.locator("td.component .bar").first  # dt-dt, the first certifiable component it has
    expect(bar).to_have_class(re.compile("commented"))
    bar.click()
    card = page.locator("#popover .popover-card")
    expect(card).to_be_visible()
    expect(card).to_contain_text("dt-dt")
    rows = card.locator("tbody tr").all_inner_texts()
    assert [re.sub(r"\s+", " ", r).strip() for r in rows] == [
        "1–9 GOOD",
        "10–20 BAD HV trip in sector 4",
        "21–40 GOOD",
    ]


def test_a_sign_off_refusal_names_the_ls_and_a_good_run_signs_off(site: Site, open_page) -> None:  # noqa: ANN001
    seed(site)
    registry.edit_flags(  # the classifier could not decide LS 5-6
        site.db,
        actor=OMS_WORKER,
        run_number=380102,
        edits=[FlagEdit("tracker-pixel", 5, 6, "NO VALUE FOUND")],
        comment="classifier",
    )
    page = open_page(SHIFTER, "/online/global")
    move(page, 380102, "SIGNOFF")
    refusal = page.locator("#flash .flash.error")
    expect(refusal).to_contain_text("LS 5 of component tracker-pixel is NO VALUE FOUND")
    assert registry.run_state(site.db, 380102).status == "OPEN"

    move(page, 380100, "SIGNOFF")
    expect(page.locator("#flash .flash.ok")).to_contain_text("run 380100 moved to SIGNOFF")
    expect(page.locator("#all-runs tr[data-run='380100'] .state")).to_have_text("SIGNOFF")  # tables refreshed
    assert registry.run_state(site.db, 380100).status == "SIGNOFF"
    # A shifter may not move to COMPLETED: the choice is disabled with the gate's reason.
    completed = page.locator("#all-runs tr[data-run='380101'] option[value=COMPLETED]")
    expect(completed).to_be_disabled()
    assert "cms-dqm-oncall" in completed.get_attribute("title")


def test_without_egroups_every_action_is_disabled_and_a_forged_post_is_refused(  # noqa: ANN001
    site: Site, open_page
) -> None:
    seed(site)
    page = open_page(NOBODY, "/online/global")
    buttons = page.locator("#all-runs tr[data-run] button")
    assert buttons.count() > 0
    for index in range(buttons.count()):
        expect(buttons.nth(index)).to_be_disabled()
        assert "visitor@cern.ch may not registry:run:" in buttons.nth(index).get_attribute("title")

    before = len(registry.history(site.db, limit=500))
    headers = {"x-runreg-proxy-secret": SECRET, "email": NOBODY[0], "egroups": ""}
    with httpx.Client(base_url=site.base, headers=headers) as client:
        client.get("/online/global")  # gets this browser's CSRF cookie
        token = client.cookies.get("runreg_csrf")
        forged = client.post("/runs/380100/move", data={"to_state": "SIGNOFF", "csrf": token})
        cross_site = client.post("/runs/380100/move", data={"to_state": "SIGNOFF", "csrf": "guess"})
    assert forged.status_code == 403 and "visitor@cern.ch may not registry:run:move" in forged.text
    assert cross_site.status_code == 403 and "stale" in cross_site.text
    assert len(registry.history(site.db, limit=500)) == before
    assert registry.run_state(site.db, 380100).status == "OPEN"


def test_live_mode_picks_up_new_runs_without_a_reload(site: Site, open_page) -> None:  # noqa: ANN001
    seed(site)
    page = open_page(SHIFTER, "/online/global?live=1")
    page.evaluate("document.body.dataset.marker = 'same page'")
    create_collision_run(site.db, 380104, ls_count=10, components=("dt-dt",))
    # htmx polls every 15 s; trigger the same request now instead of waiting.
    page.evaluate("htmx.trigger('#tables', 'runs-changed')")
    expect(page.locator("#all-runs tr[data-run='380104']")).to_be_visible()
    assert page.evaluate("document.body.dataset.marker") == "same page"
    assert "every 15s" in page.locator("#tables").get_attribute("hx-trigger")
