"""The cycles page in Chromium: a DT certifier completes dt through the cycle view (one dataset moved, then
all), seeing the refusal while a member is not completed; DC then completes global; DC creates a cycle from a
filter after previewing it; a visitor sees every write disabled."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from runreg.datasets import service as cycles
from runreg.registry import service as registry
from tests.browser.conftest import NOBODY, Site
from tests.builders.cycles import EXPRESS, PROMPT, offline_runs, prompt_cycle

DT = ("dt-certifier@cern.ch", "cms-dqm-runregistry-offline-dt-certifiers")
DC = ("dc@cern.ch", "cms-dqm-runregistry-data-certification")
RUNS = (379501, 379502, 379503)


def seed(site: Site) -> cycles.Cycle:
    # csc is certified outside this cycle: global completes only once no subsystem workspace is still OPEN.
    states = {"global_state": "OPEN", "dt_state": "OPEN", "csc_state": "COMPLETED"}
    offline_runs(site.db, RUNS, names=(PROMPT, EXPRESS), states=states)
    return prompt_cycle(site.db, workspaces=("global", "dt"))


def row(page: Page, run: int):  # noqa: ANN201 — a Playwright locator
    return page.locator(f"table.cycle-datasets tr[data-run='{run}'][data-dataset='{PROMPT}']")


def states_in(site: Site, workspace: str) -> list[str]:
    return [
        registry.run_state(site.db, run).datasets[PROMPT].attributes[f"{workspace}_state"] for run in RUNS
    ]


def test_a_certifier_completes_dt_through_the_cycle_and_dc_completes_global(site: Site, open_page) -> None:  # noqa: ANN001
    made = seed(site)
    page = open_page(DT, "/offline/cycles/dt")
    page.on("dialog", lambda dialog: dialog.accept())
    card = page.locator("#cycle-card")
    expect(card.locator("h2")).to_have_text("2024C prompt")
    expect(page.locator("#cycles-side a[data-workspace=dt] .pending-count")).to_have_text("1")

    # Refused while its datasets are OPEN: the button is disabled and the reason is on the page.
    complete = card.locator("button:has-text('Mark completed in dt')")
    expect(complete).to_be_disabled()
    expect(card.locator("p.refusal[data-refusal=rule]")).to_contain_text(
        "the cycle cannot be completed in dt: 3 of its datasets are not COMPLETED there"
    )
    expect(card.locator(".progress-line")).to_contain_text("0 of 3 datasets COMPLETED in dt")

    # One dataset through its own move, the others with "move all".
    row(page, RUNS[0]).locator("select[name=to_state]").select_option("COMPLETED")
    row(page, RUNS[0]).locator("button:has-text('Move')").click()
    expect(page.locator("#flash .flash.ok")).to_contain_text(f"{RUNS[0]} {PROMPT} moved to COMPLETED in dt")
    expect(row(page, RUNS[0]).locator("td.ws-state .dstate")).to_have_text("COMPLETED")
    expect(card.locator(".progress-line")).to_contain_text("1 of 3 datasets COMPLETED in dt")
    expect(card.locator("p.refusal[data-refusal=rule]")).to_contain_text(
        "2 of its datasets are not COMPLETED"
    )

    card = page.locator("#cycle-card")
    card.locator("form.move-all select[name=to_state]").select_option("COMPLETED")
    card.locator("button:has-text('Move all')").click()
    expect(page.locator("#flash .flash.ok")).to_contain_text("2 datasets moved to COMPLETED in dt")
    expect(page.locator("#cycle-card .progress-line")).to_contain_text("3 of 3 datasets COMPLETED in dt")
    assert states_in(site, "dt") == ["COMPLETED"] * 3

    page.locator("#cycle-card input[name=comment]").first.fill("DT certified")
    page.locator("#cycle-card button:has-text('Mark completed in dt')").click()
    expect(page.locator("#flash .flash.ok")).to_contain_text("cycle marked completed in dt")
    expect(page.locator("#cycle-card tr[data-workspace=dt] .cstate")).to_have_text("completed")
    expect(page.locator("#cycle-card tr[data-workspace=dt] td.who")).to_contain_text(
        "completed by dt-certifier@cern.ch"
    )
    expect(page.locator("#cycles-side a[data-workspace=dt] .pending-count")).to_have_count(0)
    # The cycle is completed in dt: no dataset moves there any more, and a DT certifier cannot do global.
    expect(page.locator("#cycle-card form.move")).to_have_count(0)

    # DC: global is the last workspace, and its own dataset states must be COMPLETED first.
    dc = open_page(DC, "/offline/cycles/global")
    dc.on("dialog", lambda dialog: dialog.accept())
    expect(dc.locator("#cycle-card p.refusal[data-refusal=rule]")).to_contain_text(
        "3 of its datasets are not COMPLETED there"
    )
    dc.locator("#cycle-card form.move-all select[name=to_state]").select_option("COMPLETED")
    dc.locator("#cycle-card button:has-text('Move all')").click()
    expect(dc.locator("#flash .flash.ok")).to_contain_text("3 datasets moved to COMPLETED in global")
    dc.locator("#cycle-card button:has-text('Mark completed in global')").click()
    expect(dc.locator("#flash .flash.ok")).to_contain_text("cycle marked completed in global")
    expect(dc.locator("#cycle-card tr[data-workspace=global] .cstate")).to_have_text("completed")
    assert cycles.get_cycle(site.db, made.id).states == {"global": "completed", "dt": "completed"}
    dc.locator("#cycle-history summary").click()
    kinds = dc.locator("#cycle-history tbody tr").evaluate_all("rows => rows.map(r => r.dataset.kind)")
    assert kinds[:3] == ["completed", "datasets_moved", "completed"]


def test_global_is_refused_before_the_other_workspaces(site: Site, open_page) -> None:  # noqa: ANN001
    seed(site)
    page = open_page(DC, "/offline/cycles/global")
    expect(page.locator("#cycle-card p.refusal[data-refusal=rule]")).to_contain_text(
        "the cycle cannot be completed in global while it is pending in dt"
    )
    expect(page.locator("#cycle-card button:has-text('Mark completed in global')")).to_be_disabled()


def test_dc_previews_a_filter_and_creates_a_cycle_from_it(site: Site, open_page) -> None:  # noqa: ANN001
    offline_runs(site.db, RUNS, names=(PROMPT, EXPRESS))
    page = open_page(DC, "/offline/cycles/dt?new=1")
    form = page.locator("#create-form")
    form.locator("input[name=name]").fill("Express, first look")
    form.locator("input[name=deadline]").fill("2027-02-01T18:00")
    form.locator("input[name=dataset]").fill("%Express%")
    form.locator("input[name=run_from]").fill(str(RUNS[1]))
    form.locator("button:has-text('Preview the selection')").click()
    expect(form.locator(".preview-count")).to_have_attribute("data-count", "2")
    expect(form.locator(".preview-list")).to_contain_text(f"{RUNS[2]} {EXPRESS}")
    assert cycles.list_cycles(site.db) == []  # a preview writes nothing

    form.locator("button:has-text('Create cycle')").click()
    expect(page.locator("#cycle-card h2")).to_have_text("Express, first look")  # the page opens it
    made = cycles.list_cycles(site.db)[0]
    assert made.states == {"global": "pending", "dt": "pending"} and made.keys == [
        (RUNS[2], EXPRESS),
        (RUNS[1], EXPRESS),
    ]

    # A bad deadline comes back next to its field, and nothing is written.
    page.locator("#create-details > summary").click()
    form = page.locator("#create-form")
    form.locator("input[name=name]").fill("second")
    form.locator("input[name=dataset]").fill("%Express%")
    form.locator("button:has-text('Create cycle')").click()
    expect(page.locator("#create-form .field-error")).to_contain_text("a cycle needs a deadline")
    assert len(cycles.list_cycles(site.db)) == 1


def test_a_visitor_sees_the_cycle_with_every_write_disabled(site: Site, open_page) -> None:  # noqa: ANN001
    seed(site)
    page = open_page(NOBODY, "/offline/cycles/dt")
    expect(page.locator("#cycle-card h2")).to_have_text("2024C prompt")
    # Every write (the selection preview is a read).
    buttons = page.locator("#cycle-card form button:not([hx-get])").evaluate_all(
        "bs => bs.map(b => [b.innerText.trim(), b.disabled])"
    )
    assert buttons and all(disabled for _label, disabled in buttons), buttons
    expect(page.locator("#cycle-card p.refusal[data-refusal=permission]")).to_contain_text(
        "visitor@cern.ch may not datasets:cycle:complete"
    )
