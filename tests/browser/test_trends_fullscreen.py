"""One Historic DQM plot full screen in Chromium: opened from the URL, the selected run moved with the → key
(the OMS info table and the previews of the stored MEs follow), a preview enlarged, a trend of another
dataset added (two traces) and an OMS quantity on a second axis, a run range read again, Esc leaves."""

from __future__ import annotations

from urllib.parse import quote

from playwright.sync_api import expect

from tests.browser.conftest import SHIFTER
from tests.browser.test_trends import PIXEL, dqm_root, shown, trends_site  # noqa: F401
from tests.contract.trends_support import RUNS

DIGIS = "DigisPerClusterPerPixel"  # main ME, optional1, optional2 stored; the config names no reference


def test_a_plot_full_screen_moves_run_by_run_with_its_mes_and_takes_another_dataset(
    trends_site,  # noqa: ANN001, F811
    open_page,  # noqa: ANN001
) -> None:
    page = open_page(SHIFTER, PIXEL.replace("per_page=4", "per_page=100"))
    key = next(c["key"] for c in shown(page)["charts"] if c["series"][0]["name"] == DIGIS)
    page.goto(trends_site.url(f"{PIXEL}&fs={quote(key)}&sel={RUNS[1]}"))
    screen = page.locator("#fullscreen[data-ready]")
    expect(screen).to_be_visible()
    expect(page.locator("#fs-run")).to_have_text(f"run {RUNS[1]} (2 of 4)")
    expect(screen).to_have_attribute("data-panel-run", str(RUNS[1]))
    previews = page.locator("#fs-previews figure.preview")
    expect(previews).to_have_count(4)
    expect(page.locator("#fs-previews .preview-plot .bars path")).not_to_have_count(0)  # bins drawn
    expect(previews.nth(3)).to_contain_text("names no reference")
    expect(page.locator("#fs-info")).to_contain_text(f"{9000 + RUNS[1] % 1000}")  # the run's fill
    # → : the next run, its table and its histograms
    first_bins = page.evaluate("document.querySelector('#fs-previews .preview-plot').data[0].y")
    page.keyboard.press("ArrowRight")
    expect(page.locator("#fs-run")).to_have_text(f"run {RUNS[2]} (3 of 4)")
    expect(screen).to_have_attribute("data-panel-run", str(RUNS[2]))
    assert f"sel={RUNS[2]}" in page.url
    expect(page.locator("#fs-info")).to_contain_text(f"{9000 + RUNS[2] % 1000}")
    assert page.evaluate("document.querySelector('#fs-previews .preview-plot').data[0].y") != first_bins
    # a preview enlarged; Esc closes it first, the full screen stays
    page.locator("#fs-previews .preview-plot").first.click()
    expect(page.locator("#fs-enlarged")).to_be_visible()
    expect(page.locator("#fs-enlarged-plot .bars path")).not_to_have_count(0)
    page.keyboard.press("Escape")
    expect(page.locator("#fs-enlarged")).to_be_hidden()
    expect(screen).to_be_visible()
    # the same trend of the other dataset (offered first), added: two traces
    expect(page.locator("#fs-add-pd")).to_have_value("Muon-Tagged")
    expect(page.locator("#fs-add-trend option:checked")).to_have_text(DIGIS)
    page.locator("#fs-add").click()
    expect(page.locator("#fullscreen[data-ready]")).to_be_visible()
    assert "add=" in page.url and f"sel={RUNS[2]}" in page.url
    expect(page.locator("#fs-chart .scatterlayer .trace")).to_have_count(2)
    expect(page.locator("#fs-series-list")).to_contain_text("Muon-Tagged / ReReco-Pix-2024")
    # an OMS quantity on a second y axis
    page.select_option("#fs-oms", "delivered")
    expect(page.locator("#fs-chart .scatterlayer .trace")).to_have_count(3)
    expect(page.locator("#fs-chart .g-y2title")).to_have_text("OMS delivered lumi")
    expect(page.locator("#fs-correlate")).to_be_disabled()  # three series
    page.select_option("#fs-oms", "")
    page.locator("#fs-correlate").check()  # the two datasets run by run
    expect(page.locator("#fs-chart .scatterlayer .point")).not_to_have_count(0)
    page.locator("#fs-correlate").uncheck()
    # a narrower run range: read again, the plot still full screen
    page.fill("#fs-from", str(RUNS[1]))
    page.fill("#fs-to", str(RUNS[2]))
    page.locator("#fs-runs-apply").click()
    expect(page.locator("#fullscreen[data-ready]")).to_be_visible()
    assert f"from_run={RUNS[1]}" in page.url and "filter=range" in page.url
    expect(page.locator("#fs-chart .scatterlayer .trace").first.locator(".point")).to_have_count(2)
    # the added trend removed
    page.locator(".fs-remove").click()
    expect(page.locator("#fullscreen[data-ready]")).to_be_visible()
    expect(page.locator("#fs-chart .scatterlayer .trace")).to_have_count(1)
    # Esc leaves the full screen, and the URL forgets it
    page.keyboard.press("Escape")
    expect(page.locator("#fullscreen")).to_be_hidden()
    assert "fs=" not in page.url and "sel=" not in page.url
    expect(page.locator(".chart-card").first).to_be_visible()


def test_the_full_screen_button_of_a_card_opens_it(trends_site, open_page) -> None:  # noqa: ANN001, F811
    page = open_page(SHIFTER, PIXEL)
    expect(page.locator("body[data-trends-drawn]")).to_have_count(1)
    page.locator("#group-ADC_Pix_group .fs-open").click()
    expect(page.locator("#fullscreen[data-ready]")).to_be_visible()
    assert "fs=group-ADC_Pix_group" in page.url
    expect(page.locator("#fs-chart .scatterlayer .trace")).to_have_count(2)  # the group's two series
    page.locator("#fs-prev").click()
    expect(page.locator("#fs-run")).to_have_text(f"run {RUNS[2]} (3 of 4)")
