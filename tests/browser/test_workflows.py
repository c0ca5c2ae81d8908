"""Following production workflows in Chromium: filter the table, open a running workflow, read its history
plot (drawn by the vendored Plotly), see a visitor's update button disabled with the reason, and as an
authorized person update it after DBS moved on: the page re-draws with the new numbers and a longer line."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from runreg.integrations.cmsweb import connect
from runreg.simulators.cmsweb.server import SimulatedClock, create_app, run_in_thread
from runreg.simulators.cmsweb.world import DAY, CmswebWorld
from runreg.workflows import service
from tests.browser.conftest import EXPERT, NOBODY, Site, served, signed_in

# A world whose eighth day is today: the page's times read as they would in production.
EPOCH = time.time() - 8 * DAY
WORLD = CmswebWorld(seed=4, workflows=70, epoch=EPOCH)
NOW = WORLD.epoch + 8 * DAY


def running_plan():  # noqa: ANN201
    """A workflow running now whose datasets keep growing for the next few simulated hours."""
    return next(
        p for p in WORLD.plans
        if p.request_type == "TaskChain" and p.status_at(NOW - 3 * 3600) == "running-open"
        and (p.time_of("running-closed") or 0) > NOW + 4 * 3600 and p.target_events > 0
    )  # fmt: skip


@pytest.fixture
def stats(tmp_path: Path) -> Iterator[tuple[Site, SimulatedClock]]:
    clock = SimulatedClock(datetime.fromtimestamp(NOW - 3 * 3600, UTC), speed=0)
    with run_in_thread(create_app(CmswebWorld(seed=4, workflows=70, epoch=EPOCH), clock)) as cmsweb:
        dbs = f"{cmsweb.base_url}/dbs/prod/global/DBSReader"
        with served(tmp_path, cmsweb_url=cmsweb.base_url, dbs_url=dbs) as site:
            # Three updates an hour apart, the last an hour ago: a history to draw.
            with connect(cmsweb.base_url, dbs) as sources:
                for _ in range(3):
                    service.update(site.db, sources, clock=lambda: clock().timestamp())
                    clock.advance(3600)
            yield site, clock


def points(page: Page) -> int:
    return page.locator("#history-plot").evaluate("n => n.data.reduce((k, t) => k + t.x.length, 0)")


def test_filter_open_a_workflow_read_its_plot_and_update_it(
    browser: Browser, stats: tuple[Site, SimulatedClock], tmp_path: Path
) -> None:
    site, clock = stats
    plan = running_plan()
    visitor = signed_in(browser, site, NOBODY).new_page()
    visitor.set_default_timeout(15_000)
    visitor.goto(site.url("/stats"))
    expect(visitor.locator("nav.sections a.active")).to_have_text("Workflows")
    visitor.fill("#wf-filters input[name=type]", "TaskChain")
    visitor.fill("#wf-filters input[name=status]", "running-open")
    visitor.click("#wf-filters button:has-text('Filter')")
    rows = visitor.locator("tr[data-workflow]")
    expect(rows.first).to_be_visible()
    names = rows.evaluate_all("rows => rows.map(r => r.dataset.workflow)")
    assert plan.name in names
    assert all(WORLD.plan(n).request_type == "TaskChain" for n in names)
    visitor.screenshot(path=str(tmp_path / "workflows-table.png"))

    visitor.locator(f"tr[data-workflow='{plan.name}'] a.wf-name").click()
    expect(visitor.locator("h1.wf-title")).to_have_text(plan.name)
    expect(visitor.locator("#history-plot.js-plotly-plot")).to_be_visible()
    traces = visitor.locator("#history-plot").evaluate("n => n.data.map(t => t.name)")
    assert traces == [d.rsplit("/", 1)[1] for d in service.get(site.db, name=plan.name)["OutputDatasets"]]
    before = points(visitor)
    button = visitor.locator(".wf-actions button:has-text('Update now')")
    expect(button).to_be_disabled()
    assert "workflows:update" in (button.get_attribute("title") or "")
    visitor.screenshot(path=str(tmp_path / "workflow-page.png"), full_page=True)

    # DBS moves on three simulated hours; an expert asks for this workflow now.
    clock.advance(3 * 3600)
    expert = signed_in(browser, site, EXPERT).new_page()
    expert.set_default_timeout(15_000)
    expert.goto(site.url(f"/stats/workflow/{plan.name}"))
    expect(expert.locator("#history-plot.js-plotly-plot")).to_be_visible()
    expert.locator(".wf-actions button:has-text('Update now')").click()
    expect(expert.locator("#flash")).to_contain_text("read again from ReqMgr2 and DBS")
    expect(expert.locator("#history-plot.js-plotly-plot")).to_be_visible()
    more = "n => document.getElementById('history-plot').data.reduce((k, t) => k + t.x.length, 0) > n"
    expert.wait_for_function(more, arg=before)
    assert points(expert) > before
    expert.screenshot(path=str(tmp_path / "workflow-updated.png"), full_page=True)
