"""The admin in a real browser at 390 and 1366 px: Chinese throughout, case numbers on one
line in the case list."""

from __future__ import annotations

from typing import Any

import pytest

from accounts.models import User
from tests.conftest import City
from tests.reports import conftest as report_fixtures
from tests.reports.conftest import Catalog, file_report

pytestmark = pytest.mark.e2e

catalog = report_fixtures.catalog


def _admin_log_in(page: Any, base: str) -> None:
    page.goto(f"{base}/admin/login/")
    page.fill("#id_username", "admin")
    page.fill("#id_password", "pw-123456")
    page.click("input[type=submit]")
    page.wait_for_url(f"{base}/admin/")


@pytest.mark.parametrize("width", [390, 1366])
def test_it_keeps_case_numbers_on_one_line_in_the_admin_case_list(
    browser: Any, live_server: Any, admin_user: User, worker: User, city: City,
    catalog: Catalog, screenshot: Any, width: int,
) -> None:
    report = file_report(worker, city, catalog.roof_tree)
    context = browser.new_context(viewport={"width": width, "height": 800}, locale="zh-CN")
    page = context.new_page()
    _admin_log_in(page, live_server.url)
    assert "登录保护" in page.locator("#content-main").inner_text()
    page.goto(f"{live_server.url}/admin/reports/report/")
    cell = page.locator("#result_list .field-number").first
    assert cell.inner_text() == report.number
    line = page.evaluate(
        "() => parseFloat(getComputedStyle(document.querySelector('#result_list .field-number'))"
        ".lineHeight) || 20"
    )
    box = cell.locator("a").bounding_box()
    assert box is not None and box["height"] < 1.5 * line  # one line, not broken at the dashes
    screenshot(page, f"admin-cases-{width}")
    context.close()
