"""The run page in Chromium: LS edits with their bar and history, errors next to the field, sign-off refusals,
the run as of an older change set, the classifiers' trace on an LS, what a visitor without e-groups sees."""

from __future__ import annotations

import re

import httpx
from playwright.sync_api import Page, expect

from runreg.registry import service as registry
from runreg.registry.service import FlagEdit
from tests.browser.conftest import EXPERT, NOBODY, SECRET, SHIFTER, Site
from tests.builders.runs import OMS_WORKER, create_collision_run

RUN = 380200


def seed(site: Site, **rr: object) -> None:
    create_collision_run(
        site.db, RUN, ls_count=60, components=("dt-dt", "tracker-pixel"), off={"dtp_ready": (30, 34)}, rr=rr
    )


def change_sets(site: Site) -> int:
    return len(registry.history(site.db, run_number=RUN, limit=1000))


def open_editor(page: Page, component: str) -> None:
    page.locator(f"article[data-component='{component}'] button.toggle[data-panel=edit]").click()


def buttons(page: Page) -> list[tuple[str, bool, str]]:
    """Every write button of the run's main part: (label, disabled, the reason shown on it)."""
    return page.locator("#run-main form button").evaluate_all(
        "bs => bs.map(b => [b.innerText.trim(), b.disabled, b.title])"
    )


def segments(page: Page, component: str) -> list[tuple[str, str, str]]:
    return page.locator(f"article[data-component='{component}'] svg.lsbar rect").evaluate_all(
        "rects => rects.map(r => [r.dataset.first, r.dataset.last, r.dataset.status])"
    )


def test_a_shifter_marks_ls_bad_and_sees_the_bar_and_the_history_change(site: Site, open_page) -> None:  # noqa: ANN001
    seed(site)
    page = open_page(SHIFTER, f"/runs/{RUN}")
    expect(page.locator("h1")).to_contain_text(f"Run {RUN}")
    assert segments(page, "dt-dt") == [["1", "60", "GOOD"]]
    history = page.locator("article[data-component='dt-dt'] button.toggle[data-panel=history]")
    expect(history).to_have_text("History (1)")

    open_editor(page, "dt-dt")
    form = page.locator("#flag-form-dt-dt")
    form.locator("input[name=first_ls]").fill("10")
    form.locator("input[name=last_ls]").fill("20")
    form.locator("select[name=status]").select_option("BAD")
    form.locator("input[name=comment]").fill("HV trip in sector 4")
    form.locator("input[name=cause]").fill("HV")
    form.locator("button:has-text('Save')").click()

    expect(page.locator("#flash .flash.ok")).to_contain_text("dt-dt: LS 10–20 set to BAD")
    expect(history).to_have_text("History (2)")  # the page reloaded its main part
    assert segments(page, "dt-dt") == [["1", "9", "GOOD"], ["10", "20", "BAD"], ["21", "60", "GOOD"]]
    bad = page.locator("article[data-component='dt-dt'] rect[data-status=BAD] title")
    assert bad.text_content() == "LS 10–20: BAD — HV trip in sector 4 (cause: HV)"
    history.click()
    newest = page.locator("article[data-component='dt-dt'] .panel.history tbody tr").first
    expect(newest).to_contain_text("shifter@cern.ch")
    expect(newest).to_contain_text("manual")
    expect(newest).to_contain_text("10–20")
    expect(newest).to_contain_text("BAD")
    expect(newest).to_contain_text("HV trip in sector 4")
    oldest = page.locator("article[data-component='dt-dt'] .panel.history tbody tr").last
    expect(oldest).to_contain_text("oms-ingestion")
    expect(oldest).to_contain_text("automatic")
    # tracker-pixel was not touched
    assert segments(page, "tracker-pixel") == [["1", "60", "GOOD"]]
    stored = registry.component_ranges(registry.run_state(site.db, RUN))["dt-dt"]
    assert stored[1] == {
        "start": 10,
        "end": 20,
        "status": "BAD",
        "comment": "HV trip in sector 4",
        "cause": "HV",
    }


def test_bad_without_comment_is_explained_next_to_the_field_and_writes_nothing(  # noqa: ANN001
    site: Site, open_page
) -> None:
    seed(site)
    before = change_sets(site)
    page = open_page(SHIFTER, f"/runs/{RUN}")
    open_editor(page, "dt-dt")
    form = page.locator("#flag-form-dt-dt")
    form.locator("input[name=first_ls]").fill("10")
    form.locator("input[name=last_ls]").fill("20")
    form.locator("select[name=status]").select_option("BAD")
    form.locator("button:has-text('Save')").click()

    error = page.locator("#flag-form-dt-dt label:has(input[name=comment]) .field-error")
    expect(error).to_have_text("a BAD status needs a comment of at least 3 characters")
    expect(page.locator("#flag-form-dt-dt input[name=first_ls]")).to_have_value("10")  # what was typed stays
    expect(page.locator("#flag-form-dt-dt select[name=status]")).to_have_value("BAD")
    assert change_sets(site) == before

    page.locator("#flag-form-dt-dt input[name=last_ls]").fill("99")  # past the run's end
    page.locator("#flag-form-dt-dt input[name=comment]").fill("HV trip")
    page.locator("#flag-form-dt-dt button:has-text('Save')").click()
    error = page.locator("#flag-form-dt-dt label:has(input[name=last_ls]) .field-error")
    expect(error).to_have_text("run 380200 has 60 lumisections, got 99")
    expect(page.locator("#flag-form-dt-dt label:has(input[name=comment]) .field-error")).to_have_count(0)
    assert change_sets(site) == before
    assert segments(page, "dt-dt") == [["1", "60", "GOOD"]]


def test_a_sign_off_refusal_names_the_ls_and_component(site: Site, open_page) -> None:  # noqa: ANN001
    seed(site)
    registry.edit_flags(
        site.db,
        actor=OMS_WORKER,
        run_number=RUN,
        edits=[FlagEdit("tracker-pixel", 41, 45, "NO VALUE FOUND")],
        comment="classifier",
    )
    page = open_page(SHIFTER, f"/runs/{RUN}")
    page.locator("button.move-SIGNOFF").click()
    expect(page.locator("#flash .flash.error")).to_contain_text(
        "run 380200 cannot be signed off: LS 41 of component tracker-pixel is NO VALUE FOUND"
    )
    assert registry.run_state(site.db, RUN).status == "OPEN"
    expect(page.locator("h1 .state")).to_have_text("OPEN")
    # The refresh needs OMS, which this server has none of: the service's answer is shown.
    page.locator("button:has-text('Refresh from OMS')").click()
    expect(page.locator("#flash .flash.error")).to_contain_text("no OMS connection configured")


def test_an_expert_edits_the_class_from_the_classifiers_or_as_free_text(site: Site, open_page) -> None:  # noqa: ANN001
    seed(site)
    page = open_page(EXPERT, f"/runs/{RUN}")
    form = page.locator("#attribute-form-class")
    options = form.locator("select[name=value] option").all_inner_texts()
    assert options[:4] == ["(no class)", "Collisions24", "Cosmics24", "Commissioning24"]
    form.locator("select[name=value]").select_option("Cosmics24")
    form.locator("button:has-text('Save class')").click()
    expect(page.locator("#flash .flash.ok")).to_contain_text("class set to Cosmics24")
    expect(page.locator("h1 .class-tag")).to_have_text("Cosmics24")
    expect(page.locator("dd[data-key=class] .layer")).to_have_text("manual")

    form = page.locator("#attribute-form-class")
    form.locator("select[name=value]").select_option("__other__")
    form.locator("input[name=other]").fill("Collisions24_HI")
    form.locator("button:has-text('Save class')").click()
    expect(page.locator("h1 .class-tag")).to_have_text("Collisions24_HI")
    assert registry.run_state(site.db, RUN).rr["class"] == "Collisions24_HI"
    page.locator("#attribute-form-stop_reason input[name=value]").fill("magnet ramp")
    page.locator("#attribute-form-stop_reason button").click()
    expect(page.locator("dd[data-key=stop_reason]")).to_contain_text("magnet ramp")
    history = page.locator("#run-history tbody tr").first
    expect(history).to_contain_text("stop_reason → magnet ramp")
    expect(history).to_contain_text("expert@cern.ch")


def test_as_of_an_older_change_set_shows_the_run_then_read_only(site: Site, open_page) -> None:  # noqa: ANN001
    seed(site)
    created = registry.history(site.db, run_number=RUN)[0].id
    registry.edit_flags(
        site.db,
        actor=OMS_WORKER,
        run_number=RUN,
        edits=[FlagEdit("dt-dt", 10, 20, "BAD", "automatic: HV")],
        comment="classifier saw dtp_ready false",
    )
    page = open_page(SHIFTER, f"/runs/{RUN}")
    assert segments(page, "dt-dt") == [["1", "9", "GOOD"], ["10", "20", "BAD"], ["21", "60", "GOOD"]]
    choices = page.locator("select[name=as_of] option").all_inner_texts()
    assert len(choices) == 3 and choices[0] == "now (current state)"
    assert choices[1].startswith(f"#{created + 1} ") and "classifier saw dtp_ready false" in choices[1]
    page.locator("select[name=as_of]").select_option(str(created))

    expect(page).to_have_url(re.compile(rf"as_of={created}"))
    banner = page.locator("#as-of-banner")
    expect(banner).to_contain_text(f"As of change set {created} by oms-ingestion")
    expect(banner).to_contain_text("Read-only")
    assert segments(page, "dt-dt") == [["1", "60", "GOOD"]]
    expect(page.locator("article[data-component='dt-dt'] button.toggle[data-panel=history]")).to_have_text(
        "History (1)"
    )
    writes = buttons(page)
    assert len(writes) >= 6
    for label, disabled, title in writes:
        assert disabled, label
        assert title == f"read-only: run 380200 as of change set {created}; open the current run to edit"


def test_why_traces_each_rule_on_the_chosen_ls(site: Site, open_page) -> None:  # noqa: ANN001
    seed(site)  # dtp_ready is false on LS 30-34
    page = open_page(SHIFTER, f"/runs/{RUN}")
    page.locator("#lumisections nav.switch a[data-view=oms]").click()
    row = page.locator("#lumisections tbody tr:has(td.lsnum:has-text('30–34'))")
    expect(row).to_have_count(1)
    row.locator("td.lsnum a").click()  # explains the first LS of that range

    why = page.locator("#why")
    expect(why.locator("input[name=ls]")).to_have_value("30")
    dt = why.locator("details.verdict[data-subject='dt-dt']")
    expect(dt.locator("summary")).to_contain_text("rules give BAD")
    expect(dt.locator("summary")).to_contain_text("the run holds GOOD")
    expect(dt.locator("summary .differs-tag")).to_be_visible()
    expect(dt).to_have_attribute("open", "")  # a disagreement opens itself
    decides = dt.locator("li.rule.decides")
    expect(decides.locator(".rule-head")).to_contain_text("gives BAD")
    read = decides.locator("li.node.true > code.leaf:text-is('dtp_ready == false') ~ .read")
    expect(read).to_have_text("dtp_ready = false")

    why.locator("input[name=ls]").fill("5")
    why.locator("button:has-text('Explain')").click()
    dt = page.locator("#why details.verdict[data-subject='dt-dt']")
    expect(dt.locator("summary")).to_contain_text("rules give GOOD")
    expect(page.locator("#why details.verdict[data-subject='class'] summary")).to_contain_text(
        "rules give Collisions24"
    )
    page.locator("#why input[name=ls]").fill("61")
    page.locator("#why button:has-text('Explain')").click()
    expect(page.locator("#why .field-error")).to_have_text("run 380200 has 60 lumisections, got 61")


def test_a_visitor_without_egroups_sees_every_write_disabled(site: Site, open_page) -> None:  # noqa: ANN001
    seed(site, significant=False)
    page = open_page(NOBODY, f"/runs/{RUN}")
    writes = buttons(page)
    labels = [label for label, _, _ in writes]
    assert {"Make significant", "→ SIGNOFF", "Refresh from OMS", "Save class", "Save stop reason"} <= set(
        labels
    )
    assert labels.count("Save") == page.locator("article.component").count()  # one LS editor per component
    for label, disabled, title in writes:
        assert disabled, label
        assert title.startswith("visitor@cern.ch may not registry:"), title
    assert "registry:flags:write (run 380200, dataset online, workspace dt, component dt-dt)" in " ".join(
        title for *_, title in writes
    )
    before = change_sets(site)
    headers = {"x-runreg-proxy-secret": SECRET, "email": NOBODY[0], "egroups": ""}
    with httpx.Client(base_url=site.base, headers=headers) as client:
        client.get(f"/runs/{RUN}")  # this client's CSRF cookie
        forged = client.post(
            f"/runs/{RUN}/flags/dt-dt",
            data={
                "first_ls": "1",
                "last_ls": "5",
                "status": "BAD",
                "comment": "forged",
                "csrf": client.cookies["runreg_csrf"],
            },
        )
    assert forged.status_code == 403 and "visitor@cern.ch may not registry:flags:write" in forged.text
    assert change_sets(site) == before
    # reading stays open to everyone: the LS table and the trace
    expect(page.locator("#why details.verdict[data-subject='class']")).to_be_visible()
    page.locator("#lumisections nav.switch a[data-view=joint]").click()
    expect(page.locator("#lumisections table.ls-table")).to_have_attribute("data-view", "joint")
