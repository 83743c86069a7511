"""Browser tests (issue 4): Playwright driving Debian's Chromium against pytest-django's
live server. `playwright install` cannot download browsers on these machines, so the
tests launch the system Chromium (`apt-get install chromium`; `make test` installs it
where it can, see scripts/browser.sh).

Without Chromium the browser tests fail with the command that fixes it; they are never
skipped silently. `BROWSER_TESTS=off` is the one explicit way to leave them out (for a
laptop without Chromium), and CI never sets it."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"


def pytest_collection_modifyitems(config, items):
    if os.environ.get("BROWSER_TESTS", "").lower() != "off":
        return
    skip = pytest.mark.skip(reason="BROWSER_TESTS=off was set explicitly")
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="package")
def browser() -> Iterator[object]:
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        pytest.fail(
            f"Chromium not found at {CHROMIUM}: run `apt-get install -y chromium` "
            "(or set CHROMIUM_PATH), or set BROWSER_TESTS=off to leave these tests out"
        )
    # Playwright's sync API runs an event loop in this thread; the ORM calls the tests
    # make between page actions are ordinary synchronous ones.
    # Only for these tests (package scope): never left behind for the rest of the run.
    before = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    try:
        with sync_playwright() as pw:
            chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            yield chromium
            chromium.close()
    finally:
        if before is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = before


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    pg = context.new_page()
    yield pg
    context.close()


@pytest.fixture
def axe_source() -> str:
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: run `npm ci` (make test does)")
    return AXE.read_text()
