"""The change log in Chromium: filtering, a change set as a diff, reverting it, and a revert refused
because a later change set touched the same values (listed with a link to it)."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from runreg.registry import service as registry
from runreg.registry.service import FlagEdit
from tests.browser.conftest import EXPERT, ONCALL, SHIFTER, Site
from tests.builders.runs import EXPERT as EXPERT_ACTOR
from tests.builders.runs import SHIFTER as SHIFTER_ACTOR
from tests.builders.runs import create_collision_run


def bad(site: Site, first: int, last: int, comment: str) -> int:
    result = registry.edit_flags(
        site.db,
        actor=SHIFTER_ACTOR,
        run_number=380100,
        edits=[FlagEdit("dt-dt", first, last, "BAD", comment)],
        comment=comment,
    )
    assert result.change_set_id is not None
    return result.change_set_id


def dt_statuses(site: Site) -> list[tuple[int, int, str]]:
    ranges = registry.component_ranges(registry.run_state(site.db, 380100))["dt-dt"]
    return [(r["start"], r["end"], r["status"]) for r in ranges]


def test_the_log_filters_and_a_change_set_reads_as_a_diff(site: Site, open_page) -> None:  # noqa: ANN001
    create_collision_run(site.db, 380100, ls_count=40, components=("dt-dt",))
    create_collision_run(site.db, 380101, ls_count=40, components=("dt-dt",))
    mistake = bad(site, 10, 20, "HV trip in sector 4")

    page = open_page(SHIFTER, "/log")
    rows = page.locator("#change-sets tbody tr[data-change-set]")
    expect(rows).to_have_count(3)
    expect(rows.first).to_contain_text("alice@cern.ch")
    expect(rows.first.locator(".kind")).to_have_text("human")

    page.select_option("select[name=kind]", "automatic")
    page.click("button:has-text('Apply')")
    expect(page).to_have_url(re.compile(r"kind=automatic"))
    expect(rows).to_have_count(2)
    page.fill("input[name=run]", "380101")
    page.click("button:has-text('Apply')")
    expect(rows).to_have_count(1)
    expect(rows.first.locator("td.runs")).to_have_text("380101")

    page.goto(site.url(f"/log/{mistake}"))
    change = page.locator("table.changes tbody tr").first
    expect(change).to_contain_text("dt-dt")
    expect(change.locator("td.ls")).to_have_text("10–20")
    expect(change.locator("td.old")).to_contain_text("GOOD")
    expect(change.locator("td.new")).to_contain_text("BAD")
    expect(change.locator("td.new")).to_contain_text("HV trip in sector 4")
    # A shifter may not revert: the button is disabled with the gate's reason.
    button = page.locator("form.revert button")
    expect(button).to_be_disabled()
    assert "registry:change_set:revert" in (button.get_attribute("title") or "")


def test_an_oncall_shifter_reverts_a_change_and_sees_the_new_change_set(site: Site, open_page) -> None:  # noqa: ANN001
    create_collision_run(site.db, 380100, ls_count=40, components=("dt-dt",))
    mistake = bad(site, 10, 20, "wrong run, sorry")
    page = open_page(ONCALL, "/log")
    page.click(f"a.cs:has-text('#{mistake}')")
    expect(page).to_have_url(re.compile(rf"/log/{mistake}$"))
    page.fill("form.revert input[name=comment]", "that was the wrong run")
    page.click("form.revert button:has-text('Revert this change set')")
    done = page.locator("#revert-result .flash.ok")
    expect(done).to_contain_text(f"Change set #{mistake} reverted")
    assert dt_statuses(site) == [(1, 40, "GOOD")]

    done.locator("a.new-change-set").click()
    expect(page.locator("h1")).to_contain_text("that was the wrong run")
    expect(page.locator(".cs-meta")).to_contain_text(f"change set #{mistake}")  # "Reverts"
    expect(page.locator("table.changes td.new").first).to_contain_text("GOOD")


def test_a_revert_refused_by_a_later_change_links_to_it(site: Site, open_page) -> None:  # noqa: ANN001
    create_collision_run(site.db, 380100, ls_count=40, components=("dt-dt",))
    first = bad(site, 10, 20, "HV trip in sector 4")
    later = bad(site, 15, 25, "HV trip spreads to sector 5")
    page = open_page(ONCALL, f"/log/{first}")
    page.click("form.revert button:has-text('Revert this change set')")
    refusal = page.locator("#revert-result .flash.error")
    expect(refusal).to_contain_text("later change sets changed the same values")
    link = refusal.locator(f"ul.conflicts a[href='/log/{later}']")
    expect(link).to_have_text(f"change set #{later}")
    # On-call may not force over later changes: the force button says why.
    force = page.locator("#revert-result form.force button")
    expect(force).to_be_disabled()
    assert "registry:change_set:force_revert" in (force.get_attribute("title") or "")
    assert dt_statuses(site) == [(1, 9, "GOOD"), (10, 14, "BAD"), (15, 25, "BAD"), (26, 40, "GOOD")]

    link.click()
    expect(page).to_have_url(re.compile(rf"/log/{later}$"))
    expect(page.locator("table.changes td.new").first).to_contain_text("HV trip spreads to sector 5")


def test_an_expert_forces_the_revert_of_a_signed_off_run_with_a_reason(site: Site, open_page) -> None:  # noqa: ANN001
    create_collision_run(site.db, 380100, ls_count=40, components=("dt-dt",))
    mistake = bad(site, 10, 20, "HV trip in sector 4")
    registry.move_run(site.db, actor=EXPERT_ACTOR, run_number=380100, to_state="SIGNOFF")
    page = open_page(EXPERT, f"/log/{mistake}")
    page.click("form.revert button:has-text('Revert this change set')")
    expect(page.locator("#revert-result ul.closed")).to_contain_text("which is SIGNOFF")
    force = page.locator("#revert-result form.force")
    force.locator("button:has-text('Force the revert')").click()  # without a reason
    expect(page.locator("#revert-result .field-error")).to_contain_text("a forced revert needs a reason")
    assert dt_statuses(site) == [(1, 9, "GOOD"), (10, 20, "BAD"), (21, 40, "GOOD")]

    page.fill("#revert-result form.force input[name=comment]", "flagged on the wrong run")
    page.click("#revert-result form.force button:has-text('Force the revert')")
    expect(page.locator("#revert-result .flash.ok")).to_contain_text(f"Change set #{mistake} reverted")
    assert dt_statuses(site) == [(1, 40, "GOOD")]
    assert registry.run_state(site.db, 380100).status == "SIGNOFF"
