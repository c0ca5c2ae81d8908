"""The Historic DQM page in Chromium: charts drawn from the registry's runs, a clicked point's links, x by
time, the correlation of two trends kept in the URL, CSV of the shown points, a golden JSON uploaded, and
recompute for an expert (drawn disabled for a shifter)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from runreg.kernel.actors import SYSTEM
from runreg.trends import runinfo, service
from tests.browser.conftest import EXPERT, SHIFTER
from tests.builders.runs import create_collision_run
from tests.contract.trends_support import RUNS, make_files

PIXEL = "/trends?subsystem=PixelPhase1&pd=ZeroBias&ps=PromptReco&per_page=4"


@pytest.fixture(scope="module")
def dqm_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("dqm")
    make_files(root)
    return root


@pytest.fixture
def trends_site(site, dqm_root: Path):  # noqa: ANN001, ANN201
    runinfo.forget()
    service.extract(site.db, actor=SYSTEM, tree=service.config_tree(), root=dqm_root)
    for run in RUNS[:4]:
        create_collision_run(site.db, run, ls_count=20)
    return site


def shown(page) -> dict:  # noqa: ANN001
    return json.loads(page.locator("#trends-data").text_content())


def test_charts_point_links_time_axis_and_correlation(trends_site, open_page) -> None:  # noqa: ANN001
    page = open_page(SHIFTER, PIXEL)
    expect(page.locator("body[data-trends-drawn]")).to_have_count(1)
    cards = page.locator(".chart-card")
    expect(cards).to_have_count(4)
    group = page.locator("#group-ADC_Pix_group")
    expect(group.locator(".scatterlayer .trace")).to_have_count(2)  # the display group: two overlaid series
    expect(group.locator(".scatterlayer .point")).to_have_count(8)  # 4 runs each (the 5th file is corrupt)
    expect(page.locator("button:has-text('Recompute')").first).to_be_disabled()  # a shifter may not
    group.locator(".scatterlayer .point").first.click(force=True)
    links = group.locator(".point-links")
    expect(links).to_be_visible()
    expect(links.locator("a").first).to_have_attribute("href", f"/runs/{RUNS[0]}")
    expect(links.locator("a:has-text('DQM GUI')")).to_have_attribute(
        "href", re.compile(f"expand_url.*run={RUNS[0]}")
    )
    # correlation of the group's two series, kept in the URL
    page.locator("#corr-show").click()
    expect(page.locator("#correlation .scatterlayer .point")).to_have_count(4)
    assert "corr=" in page.url
    page.reload()
    expect(page.locator("#correlation .scatterlayer .point")).to_have_count(4)
    # a trend against an OMS quantity of its runs
    page.select_option("#corr-b", "oms:delivered")
    page.locator("#corr-show").click()
    expect(page.locator("#correlation .scatterlayer .point")).to_have_count(4)
    assert "oms%3Adelivered" in page.url or "oms:delivered" in page.url
    # x by start time
    page.select_option("select[name=x]", "time")
    page.locator("#trend-filters button.primary").click()
    expect(page.locator("body[data-trends-drawn]")).to_have_count(1)
    assert "x=time" in page.url
    assert shown(page)["x"] == "time"
    expect(page.locator("#group-ADC_Pix_group .xtick").first).not_to_have_text(str(RUNS[0]))


def test_csv_and_golden_json_upload(trends_site, open_page, tmp_path: Path) -> None:  # noqa: ANN001
    page = open_page(SHIFTER, PIXEL + "&latest=2")
    with page.expect_download() as download:
        page.locator("#export-csv").click()
    text = Path(download.value.path()).read_text()
    assert text.startswith("subsystem,pd,processing_string,trend,trend_id,run,value,error")
    assert {int(line.split(",")[5]) for line in text.splitlines()[1:]} == set(RUNS[2:4])
    golden = tmp_path / "golden.json"
    golden.write_text(json.dumps({str(RUNS[0]): [[1, 5]], str(RUNS[3]): [[1, 20]]}))
    page.goto(trends_site.url(PIXEL))
    page.set_input_files("#golden-file", str(golden))
    expect(page.locator("#uploaded-note")).to_be_visible()
    runs = {p[0] for c in shown(page)["charts"] for s in c["series"] for p in s["points"]}
    assert runs == {RUNS[0], RUNS[3]}


def test_an_expert_recomputes_a_trend_from_the_page(trends_site, open_page) -> None:  # noqa: ANN001
    page = open_page(EXPERT, PIXEL)
    card = page.locator(".chart-card").nth(1)
    card.locator("button:has-text('Recompute')").click()
    expect(page.locator("#flash .flash.ok")).to_contain_text("recomputed from the stored histograms")


def test_the_run_page_links_to_the_trends_around_its_run(trends_site, open_page) -> None:  # noqa: ANN001
    page = open_page(SHIFTER, f"/runs/{RUNS[1]}")
    page.locator("#run-trends").click()
    expect(page.locator("body[data-trends-drawn]")).to_have_count(1)
    assert f"mark={RUNS[1]}" in page.url
    data = shown(page)
    assert data["mark"] == RUNS[1] and data["charts"]
    expect(page.locator(".chart-card .shapelayer path[style*='dash']").first).to_be_attached()


def test_x_by_fill_places_each_run_inside_its_fill(trends_site, open_page) -> None:  # noqa: ANN001
    page = open_page(SHIFTER, PIXEL + "&x=fill&fills=0")
    expect(page.locator("body[data-trends-drawn]")).to_have_count(1)
    xs = page.evaluate("document.querySelector('#group-ADC_Pix_group .chart').data[0].x")
    fills = [9000 + run % 1000 for run in RUNS[:4]]  # the builder's fill of each run
    assert len(xs) == 4 and all(abs(x - fill) <= 0.4 for x, fill in zip(xs, fills, strict=True))
    expect(page.locator("#group-ADC_Pix_group .xtitle")).to_have_text("LHC fill")
