"""Browser tests: Debian's Chromium driven by Playwright against pytest-django's live_server.

One browser per test session (per xdist worker); each test gets a fresh context, so
cookies never leak between tests. Without /usr/bin/chromium the tests are skipped on a
developer machine and fail in CI (CI=true), where a browser is part of the contract.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

# Playwright's sync API runs an asyncio loop in this thread; Django would otherwise refuse
# ORM calls made from fixtures while it runs.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).parent / "screenshots"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} is missing: install Debian's chromium package to run browser tests"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def _context(browser: Any, viewport: dict[str, int], *, mobile: bool) -> Iterator[Any]:
    # Our users' browsers ask for Chinese; an English browser would get English pages.
    context = browser.new_context(
        viewport=viewport, locale="zh-CN", is_mobile=mobile, has_touch=mobile,
        device_scale_factor=2 if mobile else 1,
    )
    # A loaded 2-core CI machine runs two browsers and two servers at once.
    context.set_default_timeout(20_000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def phone(browser: Any, live_server: Any) -> Iterator[Any]:
    """A page on a 390×844 phone viewport."""
    yield from _context(browser, PHONE, mobile=True)


@pytest.fixture
def desktop(browser: Any, live_server: Any) -> Iterator[Any]:
    yield from _context(browser, DESKTOP, mobile=False)


@pytest.fixture
def screenshot() -> Any:
    SCREENSHOTS.mkdir(exist_ok=True)

    def save(page: Any, name: str) -> Path:
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return save


# axe-core is a test asset (tests/e2e/assets/), never collected into production's static
# files. The page loads it from a same-origin URL that no server has: Playwright answers
# that one request itself with the file, so the Content-Security-Policy (script-src 'self',
# no inline script) needs no exception and Playwright's inline injection is not used.
AXE_FILE = Path(__file__).parent / "assets" / "axe-core-4.14.1" / "axe.min.js"
AXE_PATH = "/__e2e__/axe-core-4.14.1/axe.min.js"


def axe_violations(page: Any) -> list[str]:
    """Serious and critical axe-core findings on the page as it is now."""
    pattern = f"**{AXE_PATH}"

    def serve(route: Any) -> None:
        route.fulfill(path=str(AXE_FILE), content_type="text/javascript; charset=utf-8")

    page.route(pattern, serve)
    try:
        page.add_script_tag(url=AXE_PATH)
    finally:
        page.unroute(pattern, serve)
    return page.evaluate(
        """() => axe.run().then(r => r.violations
            .filter(v => v.impact === 'serious' || v.impact === 'critical')
            .map(v => v.id + ': ' + v.nodes.map(n => n.target.join(' ')).join(', ')))"""
    )
