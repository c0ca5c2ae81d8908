"""Render every page of the demo to PNG in docs/screenshots/ with headless Chromium (Debian's package).

    .venv/bin/python scripts/screenshots.py [--base http://127.0.0.1:9500] [--only NAME]

Against a running `make run` demo (dev identity on): each page is opened as the identity it is meant for,
chosen through the demo's dev sign-in cookie. Add a page by adding a line to PAGES.
"""

from __future__ import annotations

import argparse
import shutil
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

OUT = Path(__file__).resolve().parent.parent / "docs" / "screenshots"
SHIFTER = "shifter@cern.ch|cms-dqm-runregistry-online-shifters"
EXPERT = "expert@cern.ch|cms-dqm-runregistry-experts"
CERTIFIER = "certifier@cern.ch|cms-dqm-runregistry-data-certification"
VISITOR = "visitor@cern.ch|"
ONCALL = "oncall@cern.ch|cms-dqm-oncall"
DT_CERTIFIER = "dt-certifier@cern.ch|cms-dqm-runregistry-offline-dt-certifiers"


def _newest_human_change_set(page: Page) -> None:
    page.locator("#change-sets a.cs").first.click()
    page.wait_for_load_state("networkidle")


def _revert_refused(page: Page) -> None:
    """The oldest human change set of the demo's seed is overwritten by a later one: its revert is refused."""
    page.locator("#change-sets a.cs").last.click()
    page.wait_for_load_state("networkidle")
    page.locator("form.revert button").click()
    page.wait_for_selector("#revert-result .flash")


def _invalid_yaml(page: Page) -> None:
    page.locator("#yaml").evaluate("el => { el.value = el.value.replace('priority: 1', 'priority: first'); }")
    page.fill("input[name=comment]", "castor exclusion first")
    page.click("button:has-text('Save as a new version')")
    page.wait_for_selector(".problems")


def _playground(page: Page) -> None:
    run = page.locator("#change-sets td.runs a").first.inner_text()
    page.goto(
        page.url.split("/log")[0] + f"/config/playground?classifier=component_classifiers.39&run={run}&ls=12"
    )
    page.wait_for_load_state("networkidle")


def _trend_vs_oms(page: Page) -> None:
    """A trend against the delivered luminosity of its runs."""
    page.select_option("#corr-b", "oms:delivered")
    page.locator("#corr-show").click()
    page.wait_for_timeout(600)


def _fullscreen(page: Page) -> None:
    """The first plot full screen, its third run selected: the run's facts and its stored histograms."""
    page.wait_for_selector("body[data-trends-drawn]")
    page.locator(".chart-card .fs-open").first.click()
    page.wait_for_selector("#fullscreen[data-ready]")
    for _ in range(3):
        page.keyboard.press("ArrowRight")
    page.wait_for_selector("#fs-previews figure.preview")
    page.wait_for_timeout(800)


def _fullscreen_with_oms(page: Page) -> None:
    """The same, with the runs' delivered luminosity on a second y axis."""
    _fullscreen(page)
    page.select_option("#fs-oms", "delivered")
    page.wait_for_timeout(600)


def _first_workflow(page: Page) -> None:
    """The first workflow of the table, once its history plot and golden-JSON share are drawn."""
    page.locator("tr[data-workflow] a.wf-name").first.click()
    page.wait_for_selector("#history-plot.js-plotly-plot, #history-plot.empty-plot")
    page.wait_for_load_state("networkidle")


def _cycle_preview(page: Page) -> None:
    """The create form with the count of datasets its filter selects."""
    page.fill("#create-form input[name=name]", "2024C prompt, second pass")
    page.fill("#create-form input[name=deadline]", "2027-02-01T18:00")
    page.fill("#create-form input[name=dataset]", "%PromptReco%")
    page.locator("#create-form button:has-text('Preview the selection')").click()
    page.wait_for_selector("#create-form .preview-count")


def _dctools_preview(page: Page) -> None:
    """A batch update of dt-dt previewed on the PromptReco datasets (nothing written)."""
    page.fill("#tool-form textarea[name=filter]", '{"name": {"like": "%PromptReco%"}}')
    page.locator("#tool-form select[name=columns]").select_option("dt-dt")
    page.fill("#tool-form input[name=comment]", "the chamber was on")
    page.locator("#tool-form button:has-text('Preview')").click()
    page.wait_for_selector("#dc-preview .dc-card, #dc-preview .field-error")


def _first_dataset(page: Page) -> None:
    """The dataset page of the newest editable dataset of the global workspace."""
    page.locator("#editable-datasets td.dataset-name a").first.click()
    page.wait_for_load_state("networkidle")


def _bad_regexp(page: Page) -> None:
    form = page.locator("#rule-new")
    form.locator("input[name=name]").fill("/PromptReco/Collisions2024E/DQM")
    form.locator("input[name=class]").fill("Collisions24")
    form.locator("input[name=run_from]").fill("380948")
    form.locator("textarea[name=regexps]").fill(
        "/ZeroBias/Run2024E-PromptReco-v.*?/DQMIO\n/Muon0/(Run2024E/DQMIO"
    )
    form.locator("button:has-text('Add the rule')").click()
    page.wait_for_selector("#rule-new .field-error")


Step = str | Callable[[Page], None] | None
#: (file name, path, identity cookie, optional step before the shot: a CSS selector to click, or a function)
PAGES: list[tuple[str, str, str, Step]] = [
    ("online-global", "/online/global", SHIFTER, None),
    ("online-tracker-filtered", "/online/tracker?class=Collisions24&sort=ls:desc", SHIFTER, None),
    (
        "online-ranges-popover",
        "/online/global",
        SHIFTER,
        "#all-runs td.component .bar.commented, #all-runs td.component .bar",
    ),
    ("online-visitor-disabled", "/online/global", VISITOR, None),
    ("log", "/log", SHIFTER, None),
    ("log-change-set", "/log?kind=human", SHIFTER, _newest_human_change_set),
    ("log-revert-refused", "/log?kind=human", ONCALL, _revert_refused),
    ("config-yaml-readonly", "/config", SHIFTER, None),
    ("config-yaml-error", "/config", EXPERT, _invalid_yaml),
    ("config-versions", "/config/versions", EXPERT, None),
    ("config-diff", "/config/diff", EXPERT, None),
    ("config-playground", "/log?kind=human", SHIFTER, _playground),
    ("json-portal", "/json_portal?tab=all", CERTIFIER, None),
    ("json-portal-shifter-disabled", "/json_portal", SHIFTER, None),
    ("json-result", "/json_portal/1", CERTIFIER, None),
    ("json-rule-check", "/json_portal", CERTIFIER, "#create-json button:has-text('Check rule')"),
    ("json-compare", "/json_portal/compare?a=2&b=1", CERTIFIER, None),
    ("run-page", "/runs/380013", SHIFTER, None),
    (
        "run-component-history",
        "/runs/380013",
        SHIFTER,
        "article[data-component='dt-dt'] button[data-panel=history]",
    ),
    ("run-ls-table-joint", "/runs/380013?ls_view=joint#lumisections", SHIFTER, None),
    (
        "run-why",
        "/runs/380013?ls=5#why",
        SHIFTER,
        "#why details.verdict[data-subject='tracker-pixel'] summary",
    ),
    ("run-as-of", "/runs/380013", SHIFTER, "#run-history tbody tr:last-child a"),
    ("run-visitor-disabled", "/runs/380013", VISITOR, None),
    ("run-page-expert", "/runs/380013#visibility", EXPERT, None),
    ("cycles-dt-certifier", "/offline/cycles/dt", DT_CERTIFIER, None),
    ("cycles-global-refused", "/offline/cycles/global", CERTIFIER, None),
    ("cycles-history", "/offline/cycles/csc", CERTIFIER, "#cycle-history summary"),
    ("cycles-create-preview", "/offline/cycles/global?new=1", CERTIFIER, _cycle_preview),
    ("cycles-visitor-disabled", "/offline/cycles/dt", VISITOR, None),
    ("dctools-batch-update-preview", "/offline/dc-tools?tool=batch_update", CERTIFIER, _dctools_preview),
    ("dctools-api-call", "/offline/dc-tools?tool=hide&filter=%7B%7D", CERTIFIER, "#api-call summary"),
    ("offline-global", "/offline/datasets/global", CERTIFIER, None),
    ("offline-tracker-all-states", "/offline/datasets/tracker?all_states=1", CERTIFIER, None),
    ("offline-shifter-disabled", "/offline/datasets/global", SHIFTER, None),
    ("dataset-page", "/offline/datasets/global", CERTIFIER, _first_dataset),
    ("dataset-page-shifter-disabled", "/offline/datasets/global", SHIFTER, _first_dataset),
    ("config-datasets-accepted", "/config/datasets-accepted", EXPERT, None),
    ("config-datasets-accepted-error", "/config/datasets-accepted", EXPERT, _bad_regexp),
    # ML: run `scripts/ml_agent_example.py --latest 12` against the demo first (the agent's predictions).
    ("ml-agreement", "/ml", CERTIFIER, None),
    ("ml-agreement-tracker-manual", "/ml?workspace=tracker&basis=manual", CERTIFIER, None),
    ("run-ml-rows", "/runs/380013", SHIFTER, None),
    # Historic DQM: the demo writes DQM files of its finished runs and extracts them every 15 s.
    (
        "trends-pixel",
        "/trends?subsystem=PixelPhase1&pd=ZeroBias&ps=PromptReco&errors=1&per_page=6",
        EXPERT,
        None,
    ),
    (
        "trends-time-class",
        "/trends?subsystem=SiStrips&pd=ZeroBias&ps=PromptReco&x=time&run_class=Collisions24&per_page=4",
        SHIFTER,
        None,
    ),
    (
        "trends-correlation",
        "/trends?subsystem=JetMET&pd=ZeroBias&ps=PromptReco&per_page=2",
        SHIFTER,
        "#corr-show",
    ),
    (
        "trends-certification-filter",
        "/trends?subsystem=Tracker&pd=ZeroBias&ps=PromptReco&component=tracker-strip&status=GOOD&significant=0&per_page=4",
        SHIFTER,
        None,
    ),
    (
        "trends-vs-oms",
        "/trends?subsystem=PixelPhase1&pd=ZeroBias&ps=PromptReco&per_page=2",
        SHIFTER,
        _trend_vs_oms,
    ),
    (
        "trends-fullscreen",
        "/trends?subsystem=PixelPhase1&pd=ZeroBias&ps=PromptReco&per_page=6",
        SHIFTER,
        _fullscreen,
    ),
    (
        "trends-fullscreen-oms",
        "/trends?subsystem=PixelPhase1&pd=ZeroBias&ps=PromptReco&per_page=6",
        SHIFTER,
        _fullscreen_with_oms,
    ),
    ("trends-ledger", "/trends/ledger", SHIFTER, None),
    # Stats2: the demo's cmsweb simulator and workflow update fill these after a few minutes.
    ("workflows-table", "/stats?status=running-open&type=*Chain", VISITOR, None),
    ("workflow-page", "/stats?status=running-open&type=*Chain", EXPERT, _first_workflow),
    ("workflow-rereco", "/stats?type=ReReco&status=running-open", VISITOR, _first_workflow),
]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", default="http://127.0.0.1:9500")
    parser.add_argument("--only", default=None)
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=shutil.which("chromium") or "/usr/bin/chromium")
        for name, path, identity, click in PAGES:
            if args.only and args.only != name:
                continue
            context = browser.new_context(viewport={"width": 1600, "height": 1000})
            context.add_cookies([{"name": "runreg_dev_identity", "value": identity, "url": args.base}])
            page = context.new_page()
            page.goto(args.base + path, wait_until="networkidle")
            if callable(click):
                click(page)
            elif click:
                page.locator(click).first.click()
                page.wait_for_timeout(600)
            # A plot in full screen covers the window, not the page: shot as the window shows it.
            full_screen = page.locator("body.fs-on").count() > 0
            page.screenshot(path=OUT / f"{name}.png", full_page=not full_screen)
            context.close()
            print(f"{OUT / name}.png")
        browser.close()


if __name__ == "__main__":
    main()
