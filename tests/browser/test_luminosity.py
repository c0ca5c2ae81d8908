"""Luminosity in Chromium: the run page lists each source with the one golden JSONs use, and a JSON's page
says where each run's luminosity comes from after a brilcalc import."""

from __future__ import annotations

from playwright.sync_api import expect

from runreg.certification import service as certification
from runreg.certification.runners import InlineRunner
from runreg.luminosity import service as luminosity
from tests.browser.conftest import SHIFTER, Site
from tests.builders.runs import CERTIFIER, EXPERT, create_collision_run
from tests.contract.test_json_portal import PROMPT, offline_dataset
from tests.contract.test_luminosity import brilcalc


def seed(site: Site) -> int:
    for run in (380001, 380002):
        create_collision_run(site.db, run, ls_count=10, components=("dt-dt",))
        offline_dataset(site.db, run)
    luminosity.import_brilcalc(site.db, actor=EXPERT, text=brilcalc(380002, 10), filename="2024.csv")
    rule = {"==": [{"var": "lumisection.rr.dt-dt"}, "GOOD"]}
    return certification.submit(
        site.db, InlineRunner(site.db), actor=CERTIFIER, rule=rule, dataset_pattern=PROMPT
    )


def test_the_run_page_shows_every_source_and_the_one_used(site: Site, open_page, tmp_path) -> None:  # noqa: ANN001
    seed(site)
    page = open_page(SHIFTER, "/runs/380002")
    rows = page.locator(".group.luminosity tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_have_attribute("data-source", "brilcalc (normtag normtag_BRIL.json)")
    expect(rows.nth(0)).to_contain_text("used")
    expect(rows.nth(0).locator("td").nth(3)).to_contain_text("1")  # 10 LS × 100,000 /ub
    expect(rows.nth(1)).to_have_attribute("data-source", "oms")
    page.locator("#attributes").screenshot(path=str(tmp_path / "run-luminosity.png"))


def test_a_json_page_says_where_each_runs_luminosity_comes_from(site: Site, open_page) -> None:  # noqa: ANN001
    job_id = seed(site)
    page = open_page(SHIFTER, f"/json_portal/{job_id}")
    sources = page.locator(".lumi-sources .lumi-source")
    expect(sources).to_have_count(2)
    expect(page.locator(".lumi-source[data-source='oms']")).to_contain_text("1 run")
    expect(page.locator("tr[data-run='380002'] td.source")).to_have_text(
        "brilcalc (normtag normtag_BRIL.json)"
    )
    expect(page.locator("tr[data-run='380001'] td.source")).to_have_text("oms")
