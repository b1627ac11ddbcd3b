"""In a real browser: the leader's screen at 1920×1080 and on a phone, the statistics pages
at 1366 px; charts drawn, no CSP refusal. Screenshots go to tests/e2e/screenshots/."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from accounts.models import User
from evaluation.rollup import rollups_catch_up
from grids.models import Role
from tests.conftest import City
from tests.e2e.conftest import axe_violations
from tests.evaluation import conftest as evaluation_fixtures
from tests.evaluation.conftest import March
from tests.factories import UserFactory, assign

pytestmark = pytest.mark.e2e

# The hand-built month of tests/evaluation, shared with the browser tests.
catalog = evaluation_fixtures.catalog
street_department = evaluation_fixtures.street_department
street_handler = evaluation_fixtures.street_handler
clock = evaluation_fixtures.clock
march = evaluation_fixtures.march

MARCH = "period=month&date=2025-03-01"


@pytest.fixture
def city_leader(city: City) -> User:
    u = UserFactory(username="mayor", full_name="市领导")
    assign(u, Role.LEADER, region=city.city)
    return u


@pytest.fixture
def month(march: Callable[..., March], monkeypatch: pytest.MonkeyPatch) -> March:
    m = march()
    monkeypatch.undo()  # back to the real clock for the live server
    rollups_catch_up(settle=timedelta(0))
    return m


def _log_in(page: Any, base: str, username: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "pw-123456")
    page.click("button[type=submit], input[type=submit]")
    page.wait_for_load_state()


def _csp_refusals(page: Any) -> list[str]:
    refused: list[str] = []
    page.on("console", lambda m: refused.append(m.text) if "Content Security" in m.text
            else None)
    return refused


def test_it_draws_the_leaders_screen_at_1920_by_1080(
    browser: Any, live_server: Any, month: March, city_leader: User, screenshot: Any
) -> None:
    context = browser.new_context(viewport={"width": 1920, "height": 1080}, locale="zh-CN")
    page = context.new_page()
    refused = _csp_refusals(page)
    _log_in(page, live_server.url, "mayor")

    page.goto(f"{live_server.url}/evaluation/screen/?{MARCH}")
    page.wait_for_selector("#sc-map canvas")
    page.wait_for_selector("#sc-trend canvas")
    page.wait_for_timeout(800)  # the charts' entry animation

    assert page.locator("#kpi-reported").inner_text() == "28"
    assert page.locator("#sc-overdue-body tr").count() == 1
    assert page.locator("#sc-heat canvas.leaflet-heatmap-layer").count() == 1
    assert refused == []
    screenshot(page, "evaluation-screen-1920")
    context.close()


def test_it_stacks_the_leaders_screen_on_a_phone(
    phone: Any, live_server: Any, month: March, city_leader: User, screenshot: Any
) -> None:
    _log_in(phone, live_server.url, "mayor")

    phone.goto(f"{live_server.url}/evaluation/screen/?{MARCH}")
    phone.wait_for_selector("#sc-map canvas")
    phone.wait_for_timeout(800)

    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 390  # nothing wider than the phone
    screenshot(phone, "evaluation-screen-phone")


@pytest.mark.parametrize(
    ("name", "query"),
    [
        ("stats-region", f"{MARCH}&by=region"),
        ("stats-department", f"{MARCH}&by=department"),
        ("stats-worker", f"{MARCH}&by=worker"),
    ],
)
def test_it_shows_the_statistics_pages_at_1366(
    browser: Any, live_server: Any, month: March, city_leader: User, screenshot: Any,
    name: str, query: str,
) -> None:
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    page = context.new_page()
    refused = _csp_refusals(page)
    _log_in(page, live_server.url, "mayor")

    page.goto(f"{live_server.url}/evaluation/?{query}")

    assert page.locator(".eval-table tbody tr").count() >= 2
    assert refused == []
    screenshot(page, f"evaluation-{name}")
    context.close()


def test_it_drills_down_from_the_street_table_to_the_cases(
    browser: Any, live_server: Any, month: March, city_leader: User, screenshot: Any
) -> None:
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    page = context.new_page()
    _log_in(page, live_server.url, "mayor")
    page.goto(f"{live_server.url}/evaluation/?{MARCH}&by=street")

    page.locator(".eval-table tbody tr:first-child td:nth-child(5) a").click()  # 结案数
    page.wait_for_selector("h1")

    assert "结案数" in page.locator("h1").inner_text()
    assert page.locator(".eval-table tbody tr").count() == 20
    screenshot(page, "evaluation-drilldown")
    context.close()


def test_it_says_so_when_the_leaders_screen_has_nothing_to_show(
    browser: Any, live_server: Any, city_leader: User, screenshot: Any
) -> None:
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")
    page = context.new_page()
    _log_in(page, live_server.url, "mayor")
    page.goto(f"{live_server.url}/evaluation/screen/?{MARCH}")
    page.wait_for_selector("#sc-map canvas")
    for panel in ("sc-trend", "sc-cats", "sc-hot-body", "sc-overdue-body", "sc-heat"):
        assert page.locator(f"#{panel}-empty").is_visible(), panel
    assert page.locator("#sc-trend").is_hidden() and page.locator("#sc-cats").is_hidden()
    assert axe_violations(page) == []
    screenshot(page, "evaluation-screen-empty")
    context.close()


def test_it_keeps_the_navigation_and_the_bell_on_the_statistics_page(
    browser: Any, live_server: Any, street_staff: User, screenshot: Any
) -> None:
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")
    page = context.new_page()
    _log_in(page, live_server.url, street_staff.username)
    page.goto(f"{live_server.url}/evaluation/?{MARCH}")
    assert page.locator(".mainnav").get_by_role("link", name="分拨台").is_visible()
    assert page.locator("#bell").is_visible()
    assert axe_violations(page) == []
    screenshot(page, "evaluation-stats-with-navigation")
    context.close()
