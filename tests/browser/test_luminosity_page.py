"""The luminosity page in Chromium: a luminosity admin uploads a brilcalc file and sees the runs switch source;
a bad line is named and nothing changes; the luminosity of a pasted JSON says where each run's comes from."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import expect

from tests.browser.conftest import SHIFTER, Site
from tests.builders.runs import create_collision_run
from tests.contract.test_luminosity import brilcalc

LUMI_ADMIN = ("lumi@cern.ch", "cms-dqm-runregistry-admins-lum")
BRILCALC = "brilcalc (normtag normtag_BRIL.json)"
SCREENSHOTS = Path(__file__).parents[2] / "docs" / "screenshots"


def seed(site: Site) -> None:
    for run in (380001, 380002):
        create_collision_run(site.db, run, ls_count=10, components=("dt-dt",))


def test_an_admin_imports_brilcalc_and_the_run_switches_source(site: Site, open_page, tmp_path) -> None:  # noqa: ANN001
    seed(site)
    page = open_page(LUMI_ADMIN, "/luminosity")
    expect(page.locator("#sources tr[data-source='oms'] td.used")).to_have_text("2")
    csv = tmp_path / "2024-physics.csv"
    csv.write_text(brilcalc(380002, 10))
    page.locator("#import-form input[type=file]").set_input_files(str(csv))
    page.locator("#import-form input[name=comment]").fill("2024 physics normtag")
    page.locator("#import-form button[type=submit]").click()
    expect(page.locator("#flash")).to_contain_text("imported 2024-physics.csv: 1 run, 10 LS")
    # The overview reloads itself after the import: one run now uses brilcalc, the other still OMS.
    expect(page.locator(f"#sources tr[data-source='{BRILCALC}'] td.used")).to_have_text("1")
    expect(page.locator("#sources tr[data-source='oms'] td.used")).to_have_text("1")
    expect(page.locator("#imports tbody tr").first).to_contain_text("2024-physics.csv")
    expect(page.locator("#imports tbody tr").first).to_contain_text("lumi@cern.ch")

    page.locator("#of-json-form textarea").fill('{"380001": [[1, 10]], "380002": [[1, 5]]}')
    page.locator("#of-json-form button[type=submit]").click()
    expect(page.locator("#of-json tr[data-run='380002'] td.source")).to_have_text(BRILCALC)
    expect(page.locator("#of-json tr[data-run='380001'] td.source")).to_have_text("oms")
    expect(page.locator("#of-json tr[data-run='380002'] td").nth(1)).to_have_text("5")
    page.screenshot(path=str(SCREENSHOTS / "luminosity.png"), full_page=True)


def test_a_bad_line_is_named_and_nothing_is_imported(site: Site, open_page, tmp_path) -> None:  # noqa: ANN001
    seed(site)
    page = open_page(LUMI_ADMIN, "/luminosity")
    lines = brilcalc(380002, 10).splitlines()
    lines[5] = "380002:9001,4:4,06/01/24 10:00:00,STABLE BEAMS,6800,lots,100000,50,HFET"
    csv = tmp_path / "broken.csv"
    csv.write_text("\n".join(lines) + "\n")
    page.locator("#import-form input[type=file]").set_input_files(str(csv))
    page.locator("#import-form button[type=submit]").click()
    expect(page.locator("#import-form [role=alert]")).to_contain_text("line 6")
    expect(page.locator("#imports td.empty")).to_be_visible()
    expect(page.locator("#sources tr[data-source='oms'] td.used")).to_have_text("2")


def test_a_json_that_is_not_one_is_refused_with_the_reason(site: Site, open_page) -> None:  # noqa: ANN001
    seed(site)
    page = open_page(SHIFTER, "/luminosity")
    page.locator("#of-json-form textarea").fill('{"380001": [[5, 2]]}')
    page.locator("#of-json-form button[type=submit]").click()
    expect(page.locator("#of-json [role=alert]")).to_contain_text("380001")


def test_a_shifter_sees_the_import_refused_with_the_reason(site: Site, open_page) -> None:  # noqa: ANN001
    seed(site)
    page = open_page(SHIFTER, "/luminosity")
    button = page.locator("#import-form button")
    expect(button).to_be_disabled()
    expect(page.locator("#import-form .refusal")).to_contain_text("luminosity:import")
