"""The offline datasets of a workspace in Chromium: a certifier opens a waiting dataset, a shifter sees the
moves disabled with the gate's reason, the filter and sorting kept in the URL and handed to the DC tools and
the cycle creation, the states of every workspace as columns, hidden datasets never shown."""

from __future__ import annotations

import json
import re
from urllib.parse import parse_qs, urlparse

from playwright.sync_api import Page, expect

from runreg.registry import service as registry
from tests.browser.conftest import CERTIFIER, SHIFTER, Site
from tests.builders.datasets import EXPRESS, PROMPT, WAITING, create_offline_dataset, offline_workspaces
from tests.builders.runs import CERTIFIER as CERTIFIER_ACTOR
from tests.builders.runs import create_collision_run


def seed(site: Site) -> None:
    """Runs 380100–380102 with an OPEN prompt dataset each (380101: tracker SIGNOFF), run 380103's
    prompt dataset still waiting for the DQM GUI, express datasets of 380100 (OPEN) and 380103 (waiting),
    and a hidden dataset of 380102."""
    for run_number in (380100, 380101, 380102, 380103):
        create_collision_run(site.db, run_number, ls_count=40)
    create_offline_dataset(site.db, 380100, PROMPT)
    create_offline_dataset(site.db, 380101, PROMPT, states={"tracker": "SIGNOFF"})
    create_offline_dataset(site.db, 380102, PROMPT)
    create_offline_dataset(site.db, 380103, PROMPT, state=WAITING)
    create_offline_dataset(site.db, 380100, EXPRESS)
    create_offline_dataset(site.db, 380103, EXPRESS, state=WAITING)
    create_offline_dataset(
        site.db, 380102, "/ReReco/Hidden2024/DQM", extra={"hidden": True, "hidden_reason": "duplicate"}
    )


def rows(page: Page, table: str) -> list[tuple[str, str]]:
    found = page.locator(f"#{table} tbody tr[data-run]").evaluate_all(
        "rows => rows.map(r => [r.dataset.run, r.dataset.dataset])"
    )
    return [(run, name) for run, name in found]


def row(page: Page, table: str, run_number: int, name: str):  # noqa: ANN201
    return page.locator(f"#{table} tr[data-run='{run_number}'][data-dataset='{name}']")


def test_a_certifier_opens_a_waiting_dataset_and_every_waiting_workspace_opens(site: Site, open_page) -> None:  # noqa: ANN001
    seed(site)
    page = open_page(CERTIFIER, "/offline/datasets/global")
    assert rows(page, "waiting-datasets") == [("380103", EXPRESS), ("380103", PROMPT)]
    waiting = row(page, "waiting-datasets", 380103, PROMPT)
    expect(waiting.locator(".gui")).to_have_text("not in GUI yet")
    expect(waiting.locator("select[name=to_state]")).to_have_count(0)  # waiting: the only move is to OPEN
    waiting.locator("button:has-text('→ OPEN')").click()

    expect(page.locator("#flash .flash.ok")).to_contain_text(f"{PROMPT} of run 380103: global moved to OPEN")
    expect(row(page, "waiting-datasets", 380103, PROMPT)).to_have_count(0)  # the tables reloaded
    opened = row(page, "editable-datasets", 380103, PROMPT)
    expect(opened.locator(".state-cell .state")).to_have_text("OPEN")
    attributes = registry.run_state(site.db, 380103).datasets[PROMPT].attributes
    assert {attributes[f"{ws}_state"] for ws in offline_workspaces(site.db)} == {"OPEN"}
    assert registry.run_state(site.db, 380103).datasets[EXPRESS].attributes["global_state"] == WAITING

    # An OPEN dataset moves to any other state, chosen from the list.
    editable = row(page, "editable-datasets", 380100, PROMPT)
    options = editable.locator("select[name=to_state] option").all_inner_texts()
    assert options == ["→ SIGNOFF", "→ COMPLETED"]
    # (global to COMPLETED waits for every subsystem workspace: SIGNOFF is what the certifier does here)
    editable.locator("select[name=to_state]").select_option("SIGNOFF")
    editable.locator("button:has-text('Move')").click()
    expect(row(page, "editable-datasets", 380100, PROMPT).locator(".state-cell .state")).to_have_text(
        "SIGNOFF"
    )
    assert registry.run_state(site.db, 380100).datasets[PROMPT].attributes["global_state"] == "SIGNOFF"


def test_a_shifter_without_the_grant_sees_the_moves_disabled_with_the_reason(site: Site, open_page) -> None:  # noqa: ANN001
    seed(site)
    page = open_page(SHIFTER, "/offline/datasets/global")
    button = row(page, "waiting-datasets", 380103, PROMPT).locator("button:has-text('→ OPEN')")
    expect(button).to_be_disabled()
    reason = button.get_attribute("title") or ""
    assert "shifter@cern.ch may not" in reason and "cms-dqm-runregistry-data-certification" in reason
    editable = row(page, "editable-datasets", 380100, PROMPT)
    expect(editable.locator("button:has-text('Move')")).to_be_disabled()
    choice = editable.locator("select[name=to_state]")
    expect(choice).to_be_disabled()
    assert "shifter@cern.ch may not" in (choice.get_attribute("title") or "")
    # Posting anyway is refused by the service, and nothing moves.
    page.evaluate(
        """() => htmx.ajax('POST', '/datasets/380103/move', {target: '#flash', values:
           {dataset: '/PromptReco/Collisions2024C/DQM', workspace: 'global', to_state: 'OPEN'}})"""
    )
    expect(page.locator("#flash .flash.error")).to_contain_text("may not")
    assert registry.run_state(site.db, 380103).datasets[PROMPT].attributes["global_state"] == WAITING


def test_the_filter_and_sort_stay_in_the_url_and_go_to_the_dc_tools_and_cycles(site: Site, open_page) -> None:  # noqa: ANN001
    seed(site)
    page = open_page(CERTIFIER, "/offline/datasets/global")
    assert rows(page, "editable-datasets") == [
        ("380102", PROMPT),
        ("380101", PROMPT),
        ("380100", EXPRESS),
        ("380100", PROMPT),
    ]  # newest run first, then by name; never the hidden dataset of 380102 nor the online ones
    page.fill("input[name=name]", "PromptReco")
    page.fill("input[name=run_min]", "380101")
    page.click("button:has-text('Apply')")
    expect(page).to_have_url(re.compile(r"name=PromptReco"))
    assert rows(page, "editable-datasets") == [("380102", PROMPT), ("380101", PROMPT)]
    assert rows(page, "waiting-datasets") == [("380103", PROMPT)]

    dc_tools = page.locator("#selection-tools a:has-text('DC expert tools')").get_attribute("href") or ""
    assert urlparse(dc_tools).path == "/offline/dc-tools"
    sent = json.loads(parse_qs(urlparse(dc_tools).query)["filter"][0])
    assert sent == {
        "and": [
            {"run_number": {">=": 380101}},
            {"name": {"like": "%PromptReco%"}},
            {"dataset_attributes.global_state": {"or": ["OPEN", "SIGNOFF", "COMPLETED"]}},
        ]
    }
    cycle = page.locator("#selection-tools a:has-text('Create a cycle')").get_attribute("href") or ""
    assert urlparse(cycle).path == "/offline/cycles/global"
    assert json.loads(parse_qs(urlparse(cycle).query)["filter"][0]) == sent

    page.click("#editable-datasets th.sortable a:has-text('Run')")  # descending already: now ascending
    expect(page).to_have_url(re.compile(r"sort=run%3Aasc|sort=run:asc"))
    expect(page).to_have_url(re.compile(r"name=PromptReco"))  # the filter stays
    assert rows(page, "editable-datasets") == [("380101", PROMPT), ("380102", PROMPT)]

    page.goto(site.url("/offline/datasets/tracker?state=SIGNOFF"))
    assert rows(page, "editable-datasets") == [("380101", PROMPT)]
    page.goto(site.url("/offline/datasets/global?raw=%7Bnot+json"))
    expect(page.locator(".filters .field-error")).to_contain_text("raw: not JSON")
    assert rows(page, "editable-datasets") == []


def test_every_workspace_state_as_columns_and_the_component_bars(site: Site, open_page) -> None:  # noqa: ANN001
    seed(site)
    registry.edit_flags(
        site.db,
        actor=CERTIFIER_ACTOR,
        run_number=380100,
        dataset=PROMPT,
        edits=[registry.FlagEdit("tracker-pixel", 5, 9, "BAD", "FED errors")],
        comment="FED errors",
    )
    page = open_page(CERTIFIER, "/offline/datasets/tracker")
    expect(page.locator("#editable-datasets th.ws-col")).to_have_count(0)
    headers = page.locator("#editable-datasets th.component").all_inner_texts()
    assert headers == ["tracker-track", "tracker-pixel", "tracker-strip"]
    bar = row(page, "editable-datasets", 380100, PROMPT).locator("td.component").nth(1).locator(".bar")
    title = bar.get_attribute("title") or ""
    assert "GOOD 35 LS, BAD 5 LS" in title and "FED errors" in title
    bar.click()
    expect(page.locator("#popover .popover-card")).to_contain_text("FED errors")
    expect(page.locator("#popover .popover-card header")).to_contain_text(PROMPT)

    page.click("a.toggle-states")
    expect(page).to_have_url(re.compile(r"all_states=1"))
    columns = page.locator("#editable-datasets th.ws-col").all_inner_texts()
    assert columns[0] == "global" and "tracker" not in columns
    assert len(columns) == len(offline_workspaces(site.db)) - 1
    signed = row(page, "editable-datasets", 380101, PROMPT)
    expect(signed.locator(".state-cell .state")).to_have_text("SIGNOFF")
    expect(signed.locator(".mini-state[title='global: OPEN']")).to_have_text("O")
    page.click("#editable-datasets th.sortable a:has-text('Dataset')")
    expect(page).to_have_url(re.compile(r"all_states=1"))  # the toggle stays on a sort
