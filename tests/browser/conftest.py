"""Pages in a real headless Chromium (Debian's package, driven by Playwright) against runreg served on a real
socket, with identities coming through the SSO proxy's headers as in production."""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from runreg.configuration import service as configuration
from runreg.http.app import create_app
from runreg.kernel.actors import SYSTEM
from runreg.settings import Settings
from runreg.storage import migrate
from runreg.storage.database import Database
from tests.builders.network import free_port

SECRET = "browser-test-proxy-secret"
SHIFTER = ("shifter@cern.ch", "cms-dqm-runregistry-online-shifters")
EXPERT = ("expert@cern.ch", "cms-dqm-runregistry-experts")
NOBODY = ("visitor@cern.ch", "")
ONCALL = ("oncall@cern.ch", "cms-dqm-oncall")
CERTIFIER = ("certifier@cern.ch", "cms-dqm-runregistry-data-certification")


def chromium_path() -> str:
    path = shutil.which("chromium")
    if path is None:  # fail, never skip: `make install` installs Debian's chromium
        pytest.fail("chromium is not installed (make install installs Debian's `chromium` package)")
    return path


@dataclass
class Site:
    """runreg serving one SQLite database on a free port."""

    db: Database
    base: str
    requests: list[str] = field(default_factory=list)

    def url(self, path: str) -> str:
        return f"{self.base}{path}"


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        instance = p.chromium.launch(executable_path=chromium_path(), args=["--no-sandbox"])
        yield instance
        instance.close()


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    with served(tmp_path) as running:
        yield running


@contextmanager
def served(tmp_path: Path, **settings_: Any) -> Iterator[Site]:
    """runreg on a fresh, migrated SQLite database and a free port (`settings_`: more settings)."""
    db = Database(f"sqlite:///{tmp_path / 'runreg.sqlite'}")
    migrate.upgrade(db)
    configuration.ensure_default(db, actor=SYSTEM)
    port = free_port()
    settings = Settings(proxy_secret=SECRET, dev_identity=False, allowed_hosts=["127.0.0.1"], **settings_)
    app = create_app(db, settings=settings, oms=None)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    assert server.started, "the test server did not start"
    try:
        yield Site(db, f"http://127.0.0.1:{port}")
    finally:
        server.should_exit = True
        thread.join(5)
        db.dispose()


def signed_in(browser: Browser, site: Site, identity: tuple[str, str]) -> BrowserContext:
    """A browser session behind the SSO proxy as `identity` (e-mail, comma-separated e-groups); every
    request it makes is recorded so a test can check none leaves the server."""
    email, egroups = identity
    context = browser.new_context(
        viewport={"width": 1500, "height": 1000},
        extra_http_headers={"x-runreg-proxy-secret": SECRET, "email": email, "egroups": egroups},
    )
    context.on("request", lambda request: site.requests.append(request.url))
    return context


@pytest.fixture
def open_page(browser: Browser, site: Site) -> Iterator[Any]:
    contexts: list[BrowserContext] = []

    def open_as(identity: tuple[str, str], path: str) -> Page:
        context = signed_in(browser, site, identity)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(10_000)
        page.goto(site.url(path))
        return page

    yield open_as
    for context in contexts:
        context.close()
    strangers = [url for url in site.requests if not url.startswith(site.base)]
    assert strangers == [], f"pages loaded third-party URLs: {strangers[:5]}"
