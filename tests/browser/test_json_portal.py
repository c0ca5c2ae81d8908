"""The JSON portal in Chromium: a certifier makes a golden JSON, watches it run and downloads it; a bad rule
is shown at its node and queues nothing; two JSONs are compared; presets, tags and the official flag; what a
shifter (no certification:json:create) sees and may not forge."""

from __future__ import annotations

import json
import re
import threading
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import expect

from runreg.certification import service
from runreg.certification.runners import InlineRunner
from runreg.registry import service as registry
from runreg.registry.service import FlagEdit
from tests.browser.conftest import SECRET, SHIFTER, Site
from tests.builders.runs import CERTIFIER as CERTIFIER_ACTOR
from tests.builders.runs import SHIFTER as SHIFTER_ACTOR
from tests.builders.runs import create_collision_run
from tests.contract.test_json_portal import PROMPT, RULE, offline_dataset

CERTIFIER = ("certifier@cern.ch", "cms-dqm-runregistry-data-certification")
expect.set_options(timeout=10_000)  # a loaded CI machine: a job and a reload can take a few seconds
PATTERN = "/PromptReco/Collisions2024_/DQM"
DT_ONLY = {"==": [{"var": "lumisection.rr.dt-dt"}, "GOOD"]}
# What RULE keeps of the seed, by hand: run 380001 lacks LS 5-6 (bpix off), 380002 LS 8-10 (DT BAD).
EXPECTED = {"380001": [[1, 4], [7, 20]], "380002": [[1, 7]]}


def seed(site: Site) -> None:
    create_collision_run(site.db, 380001, ls_count=20, off={"bpix_ready": (5, 6)})
    create_collision_run(site.db, 380002, ls_count=10)
    registry.edit_flags(
        site.db,
        actor=SHIFTER_ACTOR,
        run_number=380002,
        edits=[FlagEdit("dt-dt", 8, 10, "BAD", "HV trip")],
        comment="HV",
    )
    for run_number in (380001, 380002):
        offline_dataset(site.db, run_number)


@pytest.fixture
def held_jobs(monkeypatch: pytest.MonkeyPatch) -> threading.Event:
    """Jobs of the test server wait for this event before computing, so a test sees them queued."""
    release = threading.Event()
    real = service.run_job

    def held(db, job_id: int) -> None:  # noqa: ANN001
        release.wait(20)
        real(db, job_id)

    monkeypatch.setattr(service, "run_job", held)
    return release


def fill_rule(page, rule: object) -> None:  # noqa: ANN001
    page.fill(
        "#create-json textarea[name=json_logic]",
        json.dumps(rule, indent=1) if not isinstance(rule, str) else rule,
    )


def redrawn_panel(page):  # noqa: ANN001, ANN201
    """Around an action that redraws the create panel: wait until the new panel is live. htmx binds the new
    select a moment after the swap, and a choice made before that is lost; the new panel's pattern preview
    loading (its `load` trigger) shows it is bound."""
    return page.expect_response(lambda response: "/json_portal/matches" in response.url)


def choose_new_rule(page) -> None:  # noqa: ANN001
    """No preset: the panel is drawn again without the golden preset's description (wait for it, or what
    is typed next goes into the panel being replaced)."""
    page.select_option("#create-json select[name=preset]", "")
    expect(page.locator("#create-panel .preset-about")).to_have_count(0)


def test_a_certifier_creates_a_json_watches_it_finish_and_downloads_it(
    site: Site,
    open_page,  # noqa: ANN001
    held_jobs: threading.Event,
    tmp_path: Path,
) -> None:
    seed(site)
    page = open_page(CERTIFIER, "/json_portal")
    choose_new_rule(page)
    page.fill("#create-json input[name=dataset_pattern]", PATTERN)
    expect(page.locator("#pattern-matches")).to_contain_text("matches 1 dataset in 2 runs")
    fill_rule(page, RULE)
    page.fill("#create-json input[name=tags]", "era A")
    page.click("#create-json button.create")

    expect(page.locator("#flash")).to_contain_text("JSON queued")
    row = page.locator("#jobs tr[data-job]").first
    expect(row).to_have_attribute("data-status", "queued")
    expect(row.locator(".progress")).to_be_visible()
    row.locator("a.job-link").click()
    expect(page.locator("#progress")).to_contain_text("queued")

    held_jobs.set()  # the worker takes it: the progress partial follows it, then the page shows the result
    expect(page.locator("[data-figure=ls]")).to_have_text("25", timeout=15_000)
    expect(page.locator("[data-figure=runs]")).to_have_text("2")
    expect(page.locator("#progress")).to_have_count(0)
    expect(page.locator("table.per-run tr[data-run='380001'] td.ranges")).to_have_text("1–4, 7–20")
    expect(page.locator("#chart-rules.js-plotly-plot")).to_have_count(1)  # Plotly drew it

    with page.expect_download() as golden:
        page.click("a.download[data-kind=json]")
    assert json.loads(Path(golden.value.path()).read_text()) == EXPECTED
    with page.expect_download() as cmssw:
        page.click("a.download[data-kind=lumis_to_process]")
    assert Path(cmssw.value.path()).read_text() == ("380001:1-380001:4,380001:7-380001:20,380002:1-380002:7")
    with page.expect_download() as anti:
        page.click("a.download[data-kind=anti_json]")
    assert json.loads(Path(anti.value.path()).read_text()) == {"380001": [[5, 6]], "380002": [[8, 10]]}

    page.goto(site.url("/json_portal?tab=my"))
    expect(page.locator("#jobs tr[data-job]")).to_have_count(1)
    expect(page.locator("#jobs tr[data-job] .tag")).to_have_text("era A")


def test_a_bad_rule_is_shown_at_its_node_and_queues_nothing(site: Site, open_page) -> None:  # noqa: ANN001
    seed(site)
    page = open_page(CERTIFIER, "/json_portal")
    page.fill("#create-json input[name=dataset_pattern]", PATTERN)
    fill_rule(
        page,
        {"and": [{"==": [{"var": "run.oms.energy"}, 6800]}, {"==": [{"var": "lumisection.rr.dt"}, "GOOD"]}]},
    )
    page.click("#create-json button.create")

    error = page.locator("#create-panel .field-error[data-field=json_logic]")
    expect(error).to_contain_text("rule/and/1/==/0")
    expect(error).to_contain_text('unknown variable "lumisection.rr.dt"')
    marked = page.locator("#create-panel pre.outline .marked")
    expect(marked).to_have_count(1)
    expect(marked).to_contain_text('"lumisection.rr.dt"')
    expect(page.locator("#create-json input[name=dataset_pattern]")).to_have_value(PATTERN)  # kept

    fill_rule(page, '{"and": [')
    page.click("#create-json button:has-text('Check rule')")
    expect(page.locator("#rule-check .field-error")).to_contain_text("not valid JSON")
    fill_rule(page, DT_ONLY)
    page.click("#create-json button:has-text('Check rule')")
    expect(page.locator("#rule-check .rule-ok")).to_contain_text("1 RR component (dt-dt)")

    page.fill("#create-json input[name=dataset_pattern]", "/Nothing/%")
    expect(page.locator("#pattern-matches")).to_contain_text("matches no dataset")
    page.click("#create-json button.create")
    expect(page.locator("#create-panel [data-field=dataset_pattern]")).to_contain_text("No datasets matched")
    assert service.list_jobs(site.db) == []


def test_comparing_two_jsons_shows_what_only_a_has(site: Site, open_page) -> None:  # noqa: ANN001
    seed(site)
    runner = InlineRunner(site.db)
    a = service.submit(site.db, runner, actor=CERTIFIER_ACTOR, rule=DT_ONLY, dataset_pattern=PROMPT)
    b = service.submit(site.db, runner, actor=CERTIFIER_ACTOR, rule=RULE, dataset_pattern=PROMPT)
    page = open_page(CERTIFIER, "/json_portal/compare")
    page.select_option("select[name=a]", str(a))
    page.select_option("select[name=b]", str(b))
    page.click("button:has-text('Compare')")

    expect(page).to_have_url(re.compile(rf"a={a}&b={b}"))
    only_a = page.locator("#part-only_a")
    expect(only_a.locator("[data-figure=runs]")).to_have_text("1")
    expect(only_a.locator("[data-figure=ls]")).to_have_text("2")
    expect(only_a.locator("[data-figure=recorded]")).to_have_text("0.1")  # 2 LS × 0.05
    expect(page.locator("#part-only_b [data-figure=ls]")).to_have_text("0")
    expect(page.locator("#part-both [data-figure=ls]")).to_have_text("25")
    expect(page.locator("table.differences tbody tr")).to_have_count(1)
    expect(page.locator("table.differences tr[data-run='380001'] td.only-a")).to_have_text("5–6")
    with page.expect_download() as part:
        only_a.locator("a:has-text('JSON')").click()
    assert json.loads(Path(part.value.path()).read_text()) == {"380001": [[5, 6]]}


def test_presets_tags_and_the_official_flag(site: Site, open_page) -> None:  # noqa: ANN001
    seed(site)
    job = service.submit(
        site.db, InlineRunner(site.db), actor=CERTIFIER_ACTOR, rule=RULE, dataset_pattern=PROMPT
    )
    page = open_page(CERTIFIER, "/json_portal")
    choose_new_rule(page)
    page.fill("#create-json input[name=dataset_pattern]", PATTERN)
    fill_rule(page, DT_ONLY)
    page.fill("#preset-form input[name=preset_name]", "dt-only")
    with redrawn_panel(page):
        page.click("#preset-form button.save-preset")
    expect(page.locator("#flash")).to_contain_text("preset 'dt-only' saved")
    expect(page.locator("#create-json select[name=preset]")).to_have_value("dt-only")
    expect(page.locator("#preset-form button.save-preset")).to_have_text("Update preset")

    with redrawn_panel(page):
        page.select_option("#create-json select[name=preset]", "golden")
    expect(page.locator("#create-json input[name=dataset_pattern]")).to_have_value(
        "/PromptReco/Collisions2018_/DQM"
    )
    page.select_option("#create-json select[name=preset]", "dt-only")
    expect(page.locator("#create-json input[name=dataset_pattern]")).to_have_value(PATTERN)
    assert json.loads(page.locator("#create-json textarea[name=json_logic]").input_value()) == DT_ONLY

    page.goto(site.url(f"/json_portal/{job}"))
    page.fill(".tags-form input[name=tags]", "rereco, era A")
    page.click(".tags-form button:has-text('Save tags')")
    expect(page.locator("#flash")).to_contain_text(f"tags of JSON {job} saved")
    page.click("button.official-toggle")
    expect(page.locator("h1 .official")).to_be_visible()
    page.goto(site.url("/json_portal?tab=official"))
    expect(page.locator("#jobs tr[data-job]")).to_have_count(1)
    expect(page.locator("#jobs tr[data-job] .tag")).to_have_text(["rereco", "era A"])


def test_a_shifter_sees_why_they_may_not_create_and_a_forged_post_is_refused(site: Site, open_page) -> None:  # noqa: ANN001
    seed(site)
    job = service.submit(
        site.db, InlineRunner(site.db), actor=CERTIFIER_ACTOR, rule=RULE, dataset_pattern=PROMPT
    )
    page = open_page(SHIFTER, "/json_portal")
    create = page.locator("#create-json button:has-text('Create JSON')")
    expect(create).to_be_disabled()
    reason = create.get_attribute("title")
    assert (
        "may not certification:json:create" in reason and "cms-dqm-runregistry-data-certification" in reason
    )
    expect(page.locator("#preset-form button.save-preset")).to_be_disabled()
    expect(page.locator("#create-json input[name=official]")).to_be_disabled()

    page.goto(site.url(f"/json_portal/{job}"))
    for name in ("Delete", "Mark official", "Save tags"):
        expect(page.locator(f"#job button:has-text('{name}')")).to_be_disabled()
    assert "owner certifier@cern.ch" in page.locator("#job button.delete-json").get_attribute("title")

    headers = {"x-runreg-proxy-secret": SECRET, "email": SHIFTER[0], "egroups": SHIFTER[1]}
    with httpx.Client(base_url=site.base, headers=headers) as client:
        client.get("/json_portal")
        token = client.cookies.get("runreg_csrf")
        forged = client.post(
            "/json_portal/create",
            data={
                "dataset_pattern": PROMPT,
                "json_logic": json.dumps(RULE),
                "csrf": token,
                "policy": "refuse",
            },
        )
        deleted = client.post(f"/json_portal/{job}/delete", data={"csrf": token})
    assert forged.status_code == 403 and "may not certification:json:create" in forged.text
    assert deleted.status_code == 403
    assert [j.id for j in service.list_jobs(site.db)] == [job]
