"""A grid worker and street staff log in and land on their workspaces, in a real browser."""

from __future__ import annotations

from typing import Any

import pytest

from accounts.models import User
from grids import tree
from tests.conftest import City
from tests.factories import square

pytestmark = pytest.mark.e2e


def _log_in(page: Any, base: str, username: str, password: str) -> None:
    page.goto(f"{base}/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()


def test_it_lands_a_grid_worker_on_their_grid_map_on_a_phone(
    phone: Any, live_server: Any, worker: User, screenshot: Any
) -> None:
    _log_in(phone, live_server.url, "zhangxin", "pw-123456")
    phone.wait_for_url(f"{live_server.url}/work/grid_worker/")
    heading = phone.get_by_role("heading", level=1)
    assert heading.inner_text() == "网格员 · 南开区 › 万兴街道 › 天大北五村社区 › 第六网格"
    phone.wait_for_selector("#ws-map[data-ready='1']")
    # Leaflet draws the grid's boundary as an SVG path in its overlay pane.
    assert phone.locator(".leaflet-overlay-pane svg path").count() >= 1
    assert phone.get_by_role("region", name="第六网格 的边界地图").is_visible()
    overflow = phone.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0
    screenshot(phone, "grid-worker-phone")


def test_it_shows_a_chinese_error_for_a_wrong_password(
    phone: Any, live_server: Any, worker: User, screenshot: Any
) -> None:
    _log_in(phone, live_server.url, "zhangxin", "not-the-password")
    alert = phone.get_by_role("alert")
    assert alert.inner_text().strip() == "用户名或密码不正确。"
    assert phone.url.startswith(f"{live_server.url}/accounts/login/")
    screenshot(phone, "login-wrong-password-phone")


def test_it_lands_street_staff_on_the_street_workspace(
    desktop: Any, live_server: Any, street_staff: User, city: City, screenshot: Any
) -> None:
    # The street and its community get outlines around their two grids.
    tree.region_update(city.street, boundary=square(117.165, 39.095, 0.03))
    tree.region_update(city.community, boundary=square(117.168, 39.098, 0.024))
    _log_in(desktop, live_server.url, "wanxing", "pw-123456")
    desktop.wait_for_url(f"{live_server.url}/work/street_staff/")
    heading = desktop.get_by_role("heading", level=1).inner_text()
    assert heading == "街道网格中心 · 南开区 › 万兴街道"
    desktop.wait_for_selector("#ws-map[data-ready='1']")
    assert desktop.locator(".leaflet-overlay-pane svg path").count() >= 2
    assert desktop.get_by_role("cell", name="天大北五村社区").is_visible()
    screenshot(desktop, "street-staff-desktop")


def test_it_lets_the_keyboard_reach_the_login_form_with_a_visible_focus(
    phone: Any, live_server: Any, db: None, screenshot: Any
) -> None:
    phone.goto(f"{live_server.url}/accounts/login/")
    phone.focus("a.skip-link")
    reached = []
    for _ in range(4):
        phone.keyboard.press("Tab")
        reached.append(phone.evaluate("document.activeElement.id || document.activeElement.type"))
        outline = phone.evaluate("getComputedStyle(document.activeElement).outlineStyle")
        assert outline != "none"
    assert reached[1:] == ["id_username", "id_password", "submit"]
    screenshot(phone, "login-keyboard-focus-phone")
