"""The dataset page in Chromium: a certifier marks LS BAD for a component of an OPEN workspace and corrects
a DCS bit to false with a reason, seeing both in the history; edits of a workspace that is not OPEN are
drawn disabled with the reason; state moves with their history; the run page links to its datasets."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from runreg.registry import service as registry
from runreg.web.display import dataset_url
from tests.browser.conftest import CERTIFIER, SHIFTER, Site
from tests.builders.datasets import PROMPT, WAITING, create_offline_dataset
from tests.builders.runs import create_collision_run

RUN = 380300


def seed(site: Site, **states: str) -> None:
    create_collision_run(site.db, RUN, ls_count=60, off={"dtp_ready": (30, 34)})
    create_offline_dataset(site.db, RUN, PROMPT, states=states or {"csc": "SIGNOFF"})


def bar(page: Page, component: str) -> list[tuple[str, str, str]]:
    found = page.locator(f"article[data-component='{component}'] svg.lsbar rect").evaluate_all(
        "rects => rects.map(r => [r.dataset.first, r.dataset.last, r.dataset.status])"
    )
    return [(first, last, status) for first, last, status in found]


def bit(page: Page, key: str) -> list[tuple[str, str, str]]:
    found = page.locator(f"#dcs .bit[data-key='{key}'] svg.lsbar rect").evaluate_all(
        "rects => rects.map(r => [r.dataset.first, r.dataset.last, r.dataset.status])"
    )
    return [(first, last, status) for first, last, status in found]


def test_a_certifier_marks_ls_bad_and_sets_a_dcs_bit_false_with_a_reason(site: Site, open_page) -> None:  # noqa: ANN001
    seed(site)
    page = open_page(CERTIFIER, "/offline/datasets/global")
    page.locator(f"#editable-datasets tr[data-run='{RUN}'] td.dataset-name a").click()
    expect(page.locator("h1 .ds-name")).to_have_text(PROMPT)
    assert page.url.endswith(dataset_url(RUN, PROMPT))
    assert bar(page, "tracker-pixel") == [("1", "60", "GOOD")]

    page.locator("article[data-component='tracker-pixel'] button.toggle[data-panel=edit]").click()
    form = page.locator("#flag-form-tracker-pixel")
    form.locator("input[name=first_ls]").fill("10")
    form.locator("input[name=last_ls]").fill("20")
    form.locator("select[name=status]").select_option("BAD")
    form.locator("input[name=comment]").fill("pixel FED errors")
    form.locator("button:has-text('Save')").click()
    expect(page.locator("#flash .flash.ok")).to_contain_text("tracker-pixel: LS 10–20 set to BAD")
    expect(page.locator("article[data-component='tracker-pixel'] button[data-panel=history]")).to_have_text(
        "History (2)"
    )
    assert bar(page, "tracker-pixel") == [("1", "9", "GOOD"), ("10", "20", "BAD"), ("21", "60", "GOOD")]
    stored = registry.component_ranges(registry.run_state(site.db, RUN), PROMPT)["tracker-pixel"]
    assert [(r["start"], r["end"], r["status"]) for r in stored] == [
        (1, 9, "GOOD"),
        (10, 20, "BAD"),
        (21, 60, "GOOD"),
    ]
    assert registry.component_ranges(registry.run_state(site.db, RUN))["tracker-pixel"][0]["status"] == "GOOD"

    # A DCS bit: the dataset sees the online values (dtp_ready false on 30–34) until it corrects them.
    assert bit(page, "dtp_ready") == [("1", "29", "true"), ("30", "34", "false"), ("35", "60", "true")]
    dcs = page.locator("#dcs-form")
    dcs.locator("select[name=key]").select_option("tibtid_ready")
    dcs.locator("input[name=first_ls]").fill("40")
    dcs.locator("input[name=last_ls]").fill("45")
    dcs.locator("input[name=value][value=false]").check()
    dcs.locator("button:has-text('Save')").click()  # no reason given
    expect(page.locator("#dcs-form label:has(input[name=comment]) .field-error")).to_contain_text(
        "needs a comment of at least 3 characters"
    )
    expect(page.locator("#dcs-form input[name=first_ls]")).to_have_value("40")  # what was typed stays
    page.locator("#dcs-form input[name=comment]").fill("TIB HV was off, the DCS record is late")
    page.locator("#dcs-form button:has-text('Save')").click()
    expect(page.locator("#flash .flash.ok")).to_contain_text("tibtid_ready: LS 40–45 set to false")
    expect(page.locator("#dcs .bit[data-key='tibtid_ready'] .tag.corrected")).to_be_visible()
    assert bit(page, "tibtid_ready") == [("1", "39", "true"), ("40", "45", "false"), ("46", "60", "true")]
    history = page.locator("#dcs-history tbody tr").first
    expect(history).to_contain_text("certifier@cern.ch")
    expect(history).to_contain_text("tibtid_ready LS 40–45 → false")
    expect(history).to_contain_text("TIB HV was off, the DCS record is late")
    expect(page.locator("#dataset-history tbody tr").first).to_contain_text("tibtid_ready: LS 40–45 → false")

    # ... and back to true: a correction may set either value.
    page.locator("#dcs-form select[name=key]").select_option("dtp_ready")
    page.locator("#dcs-form input[name=first_ls]").fill("30")
    page.locator("#dcs-form input[name=last_ls]").fill("34")
    page.locator("#dcs-form input[name=value][value=true]").check()
    page.locator("#dcs-form input[name=comment]").fill("DT HV was on")
    page.locator("#dcs-form button:has-text('Save')").click()
    expect(page.locator("#flash .flash.ok")).to_contain_text("dtp_ready: LS 30–34 set to true")
    expect(page.locator("#dcs .bit[data-key='dtp_ready'] .tag.corrected")).to_be_visible()
    assert bit(page, "dtp_ready") == [("1", "29", "true"), ("30", "34", "true"), ("35", "60", "true")]
    corrected = page.locator("#dcs .bit[data-key='dtp_ready'] rect.corrected")
    assert corrected.evaluate_all("rs => rs.map(r => r.dataset.first)") == ["30"]
    run = registry.run_state(site.db, RUN)
    assert run.oms_values(PROMPT)["dtp_ready"].get(32) is True
    assert run.oms_values("online")["dtp_ready"].get(32) is False  # the online run is untouched


def test_edits_of_a_workspace_that_is_not_open_are_disabled_with_the_reason(site: Site, open_page) -> None:  # noqa: ANN001
    seed(site)
    page = open_page(CERTIFIER, dataset_url(RUN, PROMPT))
    csc = page.locator("article[data-component='csc-csc']")
    expect(csc.locator(".ws-state")).to_have_text("SIGNOFF")
    csc.locator("button.toggle[data-panel=edit]").click()
    save = csc.locator("#flag-form-csc-csc button:has-text('Save')")
    expect(save).to_be_disabled()
    reason = f"dataset '{PROMPT}' of run {RUN} is SIGNOFF in workspace csc"
    assert reason in (save.get_attribute("title") or "")
    expect(csc.locator(".refusal-note")).to_contain_text(reason)
    expect(
        page.locator("article[data-component='dt-dt'] #flag-form-dt-dt button:has-text('Save')")
    ).to_be_enabled()


def test_a_shifter_sees_every_write_disabled_with_the_gates_reason(site: Site, open_page) -> None:  # noqa: ANN001
    seed(site)
    page = open_page(SHIFTER, dataset_url(RUN, PROMPT))
    for button in (
        page.locator("#states tr[data-workspace=global] button:has-text('→ SIGNOFF')"),
        page.locator("#dcs-form button:has-text('Save')"),
        page.locator("#flag-form-dt-dt button:has-text('Save')"),
    ):
        expect(button).to_be_disabled()
        assert "shifter@cern.ch may not" in (button.get_attribute("title") or "")
    expect(page.locator("#dcs .refusal-note")).to_contain_text("may not")


def test_moves_on_the_dataset_page_and_their_history(site: Site, open_page) -> None:  # noqa: ANN001
    create_collision_run(site.db, RUN, ls_count=60)
    create_offline_dataset(site.db, RUN, PROMPT, state=WAITING)
    page = open_page(CERTIFIER, dataset_url(RUN, PROMPT))
    expect(page.locator("#states tr[data-workspace=dt] button")).to_have_text(["→ OPEN"])
    page.locator("#states tr[data-workspace=global] button:has-text('→ OPEN')").click()
    expect(page.locator("#flash .flash.ok")).to_contain_text("global moved to OPEN")
    expect(page.locator("#states tr[data-workspace=dt] .state")).to_have_text("OPEN")  # the cascade
    page.locator("#states tr[data-workspace=dt] button:has-text('→ SIGNOFF')").click()
    expect(page.locator("#states tr[data-workspace=dt] .state")).to_have_text("SIGNOFF")
    expect(page.locator("#states tr[data-workspace=dt] td").last).to_contain_text("certifier@cern.ch")
    page.locator("details.state-history summary").click()
    moves = page.locator("details.state-history tbody tr")
    expect(moves.first).to_contain_text("dt OPEN → SIGNOFF")
    expect(moves.last).to_contain_text(f"global {WAITING} → OPEN")
    expect(moves.last).to_contain_text(f"dt {WAITING} → OPEN")


def test_the_run_page_links_to_its_offline_datasets_and_hides_the_hidden(site: Site, open_page) -> None:  # noqa: ANN001
    seed(site)
    create_offline_dataset(site.db, RUN, "/ReReco/Hidden2024/DQM", extra={"hidden": True})
    page = open_page(SHIFTER, f"/runs/{RUN}")
    listed = page.locator("#offline-datasets tbody tr")
    expect(listed).to_have_count(1)
    expect(listed.first).to_contain_text("1 sample")
    listed.first.locator("a").click()
    expect(page.locator("h1 .ds-name")).to_have_text(PROMPT)
    page.goto(site.url(f"/datasets/{RUN}/No/Such/DQM"))
    expect(page.locator(".flash.error")).to_contain_text(f"run {RUN} has no dataset '/No/Such/DQM'")
