"""Render one page of a running runreg to PNG in headless Chromium (Debian's package): `python
scripts/screenshot.py URL OUT.png [--width 1600] [--email E --egroups G,G --secret S]`."""

from __future__ import annotations

import argparse
import shutil

from playwright.sync_api import sync_playwright


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("out")
    parser.add_argument("--width", type=int, default=1600)
    parser.add_argument("--height", type=int, default=1000)
    parser.add_argument("--cookie", default="", help="name=value set for the URL's host (dev sign-in)")
    args = parser.parse_args()
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        context = browser.new_context(viewport={"width": args.width, "height": args.height})
        if args.cookie:
            name, _, value = args.cookie.partition("=")
            context.add_cookies([{"name": name, "value": value, "url": args.url}])
        page = context.new_page()
        page.goto(args.url, wait_until="networkidle")
        page.screenshot(path=args.out, full_page=True)
        browser.close()


if __name__ == "__main__":
    main()
