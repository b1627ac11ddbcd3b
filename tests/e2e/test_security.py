"""In a real browser: a stored name never runs as script, and every page sends a CSP."""

from __future__ import annotations

from typing import Any

import pytest

from accounts.models import User
from grids import tree
from tests.conftest import City

pytestmark = pytest.mark.e2e

EVIL_NAME = '<img src=x onerror="window.__xss=1">'


def _admin_log_in(page: Any, base: str) -> None:
    page.goto(f"{base}/admin/login/")
    page.fill("#id_username", "admin")
    page.fill("#id_password", "pw-123456")
    page.click("input[type=submit]")
    page.wait_for_url(f"{base}/admin/")


def test_it_shows_a_neighbours_html_name_as_text_in_the_boundary_map(
    desktop: Any, live_server: Any, city: City, admin_user: User, screenshot: Any
) -> None:
    tree.region_update(city.neighbour_grid, name=EVIL_NAME)
    refused: list[str] = []
    desktop.on("console", lambda m: refused.append(m.text) if "Content Security" in m.text
               else None)
    _admin_log_in(desktop, live_server.url)

    desktop.goto(f"{live_server.url}/admin/grids/region/{city.grid.pk}/change/")
    desktop.wait_for_selector(".boundary-map .leaflet-overlay-pane svg path")
    # The neighbour is drawn in grey (CONTEXT_STYLE in boundary-editor.js); hover it.
    desktop.locator('.boundary-map path[stroke="#777"]').first.hover()
    tooltip = desktop.locator(".leaflet-tooltip")
    tooltip.wait_for()

    assert tooltip.inner_text() == EVIL_NAME
    assert tooltip.locator("img").count() == 0
    assert desktop.evaluate("typeof window.__xss") == "undefined"
    assert refused == []  # the admin page and the map need no inline script or style
    screenshot(desktop, "boundary-map-escaped-name")


def test_it_shows_the_region_tree_indented_without_breaking_the_policy(
    desktop: Any, live_server: Any, city: City, admin_user: User
) -> None:
    refused: list[str] = []
    desktop.on("console", lambda m: refused.append(m.text) if "Content Security" in m.text
               else None)
    _admin_log_in(desktop, live_server.url)

    desktop.goto(f"{live_server.url}/admin/grids/region/")
    city_indent = desktop.get_by_role("link", name="天津市", exact=True).locator(".tree-indent")
    grid_indent = desktop.get_by_role("link", name="第六网格", exact=True).locator(".tree-indent")

    assert refused == []  # mptt's inline padding made 8 refusals a page
    widths = [box["width"] for box in (city_indent.bounding_box(), grid_indent.bounding_box())
              if box is not None]
    assert widths == [0, 4 * 18]  # the grid is four levels below the city


@pytest.mark.parametrize("path", ["/", "/accounts/login/", "/admin/login/"])
def test_it_sends_a_content_security_policy_without_inline_script(
    desktop: Any, live_server: Any, db: None, path: str
) -> None:
    response = desktop.goto(f"{live_server.url}{path}")

    policy = response.all_headers()["content-security-policy"]
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy


def test_it_draws_the_workspace_map_without_breaking_the_policy(
    phone: Any, live_server: Any, worker: User
) -> None:
    refused: list[str] = []
    phone.on("console", lambda m: refused.append(m.text) if "Content Security" in m.text
             else None)
    phone.goto(f"{live_server.url}/accounts/login/")
    phone.get_by_label("用户名").fill("zhangxin")
    phone.get_by_label("密码").fill("pw-123456")
    phone.get_by_role("button", name="登录").click()

    phone.wait_for_selector("#ws-map[data-ready='1']")

    assert refused == []
