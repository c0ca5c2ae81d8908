"""Render every page of the demo to PNG in docs/screenshots/ with headless Chromium (Debian's package).

    .venv/bin/python scripts/screenshots.py [--base http://127.0.0.1:9500] [--only NAME]

Against a running `make run` demo (dev identity on): each page is opened as the identity it is meant for,
chosen through the demo's dev sign-in cookie. Add a page by adding a line to PAGES.
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

from playwright.sync_api import sync_playwright

OUT = Path(__file__).resolve().parent.parent / "docs" / "screenshots"
SHIFTER = "shifter@cern.ch|cms-dqm-runregistry-online-shifters"
EXPERT = "expert@cern.ch|cms-dqm-runregistry-experts"
CERTIFIER = "certifier@cern.ch|cms-dqm-runregistry-data-certification"
VISITOR = "visitor@cern.ch|"

#: (file name, path, identity cookie, optional CSS selector to click before the shot)
PAGES: list[tuple[str, str, str, str | None]] = [
    ("online-global", "/online/global", SHIFTER, None),
    ("online-tracker-filtered", "/online/tracker?class=Collisions24&sort=ls:desc", SHIFTER, None),
    (
        "online-ranges-popover",
        "/online/global",
        SHIFTER,
        "#all-runs td.component .bar.commented, #all-runs td.component .bar",
    ),
    ("online-visitor-disabled", "/online/global", VISITOR, None),
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
            if click:
                page.locator(click).first.click()
                page.wait_for_timeout(600)
            page.screenshot(path=OUT / f"{name}.png", full_page=True)
            context.close()
            print(f"{OUT / name}.png")
        browser.close()


if __name__ == "__main__":
    main()
