"""The situation map (七彩民情图) and the due-visit list on a 390 px phone, with the demo
community 宝翠花都社区, in a real browser. Screenshots go to tests/e2e/screenshots/."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command

from grids.models import Region
from tests.e2e.conftest import axe_violations

pytestmark = pytest.mark.e2e



def _log_in(page: Any, base: str, username: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill("jzt-demo-2026")
    page.get_by_role("button", name="登录").click()
    page.wait_for_load_state()


@pytest.fixture
def demo(live_server: Any) -> None:
    call_command("load_demo", "--quiet-logins", stdout=StringIO())


def test_the_situation_map_on_a_phone(
    phone: Any, live_server: Any, demo: None, screenshot: Any
) -> None:
    community = Region.objects.get(code="120113004013")
    _log_in(phone, live_server.url, "wangli")
    phone.goto(f"{live_server.url}/residents/communities/{community.pk}/map/")
    assert phone.get_by_role("heading", level=1).inner_text() == "宝翠花都社区 · 七彩民情图"
    phone.wait_for_selector("#res-map[data-ready='1']")
    doors = phone.locator("a.door")
    assert doors.count() > 100
    assert phone.locator(".legend-list li").count() == 8  # seven colours and the party badge
    assert phone.locator(".leaflet-overlay-pane svg path").count() == 4  # the grid's buildings
    overflow = phone.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0
    screenshot(phone, "residents-map-phone")
    doors.first.click()
    phone.wait_for_url("**/residents/households/*/")
    assert phone.get_by_role("heading", level=2, name="成员").is_visible()
    assert "*" * 11 in phone.locator("td.code").first.inner_text()  # masked identity number


def test_the_due_visit_list_on_a_phone(
    phone: Any, live_server: Any, demo: None, screenshot: Any
) -> None:
    _log_in(phone, live_server.url, "wangli")
    phone.goto(f"{live_server.url}/residents/due/")
    assert phone.get_by_role("heading", level=1).inner_text() == "本周应走访"
    items = phone.locator(".due-item")
    assert items.count() > 5
    assert "逾期" in items.first.inner_text()
    overflow = phone.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0
    screenshot(phone, "residents-due-phone")
    items.first.get_by_role("link", name="记走访").click()
    phone.get_by_label("情况").fill("老人身体不错，聊了半小时")
    phone.get_by_role("button", name="保存走访").click()
    assert "走访已记录" in phone.locator(".messages").inner_text()


def test_a_household_and_the_door_grid_fit_a_390_px_phone(
    phone: Any, live_server: Any, demo: None, screenshot: Any
) -> None:
    community = Region.objects.get(code="120113004013")
    _log_in(phone, live_server.url, "wangli")
    phone.goto(f"{live_server.url}/residents/communities/{community.pk}/map/")
    phone.wait_for_selector("#res-map[data-ready='1']")
    # Every entrance's door grid ends inside its building's block, none is cut off.
    cut = phone.evaluate(
        """() => [...document.querySelectorAll('.entrance')].filter(e => {
             const box = e.getBoundingClientRect(), bld = e.closest('.bld').getBoundingClientRect();
             return box.right > bld.right + 1 || e.scrollWidth > e.clientWidth; }).length"""
    )
    assert cut == 0
    phone.locator("a.door").first.click()
    phone.wait_for_url("**/residents/households/*/")
    # A member's name is on one line, not one character a line.
    name = phone.locator(".members td.name a").first.bounding_box()
    assert name is not None and name["height"] < 30 and name["width"] > name["height"]
    overflow = phone.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0
    history = phone.locator("section", has=phone.get_by_role("heading", name="变更记录"))
    assert "{" not in history.inner_text()
    assert axe_violations(phone) == []
    screenshot(phone, "residents-household-phone")


def test_building_labels_on_the_situation_map_never_overlap(
    desktop: Any, live_server: Any, demo: None, screenshot: Any
) -> None:
    community = Region.objects.get(code="120104005035")  # 26 buildings close together
    _log_in(desktop, live_server.url, "zhaogang")
    desktop.goto(f"{live_server.url}/residents/communities/{community.pk}/map/")
    desktop.wait_for_selector("#res-map[data-ready='1']")
    overlapping = desktop.evaluate(
        """() => {
             const boxes = [...document.querySelectorAll('#res-map .bld-label')]
               .filter(n => getComputedStyle(n).visibility !== 'hidden')
               .map(n => n.getBoundingClientRect());
             let n = 0;
             boxes.forEach((a, i) => boxes.slice(i + 1).forEach(b => {
               const x = a.left < b.right && b.left < a.right;
               if (x && a.top < b.bottom && b.top < a.bottom) n++;
             }));
             return n; }"""
    )
    assert overlapping == 0
    assert int(desktop.locator("#res-map").get_attribute("data-labels")) >= 4
    screenshot(desktop, "residents-map-labels-desktop")
