"""The grid worker's phone pages in a real browser: filing offline, resending, server
validation, scope, screenshots at 390 px and 1366 px, and axe-core."""

from __future__ import annotations

import io
import time
from collections.abc import Callable
from typing import Any

import pytest
from PIL import Image

from accounts.models import User
from grids.models import Department
from reports import workflow
from reports.models import Report
from tests.conftest import City
from tests.e2e.conftest import axe_violations
from tests.factories import BuildingFactory, EntranceFactory
from tests.reports import conftest as reports_fixtures
from tests.reports.conftest import Catalog, file_report, jpeg

pytestmark = pytest.mark.e2e

# The case fixtures of tests/reports, used here by name.
catalog = reports_fixtures.catalog
street_department = reports_fixtures.street_department
street_handler = reports_fixtures.street_handler

HERE = {"longitude": 117.175, "latitude": 39.105}  # inside 第六网格


def _photo(name: str = "scene.jpg") -> dict[str, Any]:
    buf = io.BytesIO()
    Image.new("RGB", (1200, 900), (90, 140, 60)).save(buf, "JPEG")
    return {"name": name, "mimeType": "image/jpeg", "buffer": buf.getvalue()}


def _log_in(page: Any, base: str, username: str = "zhangxin") -> None:
    page.context.grant_permissions(["geolocation"])
    page.context.set_geolocation(HERE)
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill("pw-123456")
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{base}/work/**")


def _open_filing(page: Any, base: str) -> None:
    page.goto(f"{base}/m/file/")
    page.wait_for_selector("#file-form[data-ready='1']")
    page.wait_for_function(
        "() => document.getElementById('place-status').textContent.includes('第六网格')"
    )


def _fill(page: Any) -> None:
    page.set_input_files("#photo-gallery", files=[_photo()])
    page.wait_for_selector("#photo-list li img")
    page.fill("#category-search", "bllj")  # 暴露垃圾 by its pinyin initials
    page.get_by_role("button", name="市容环境 › 暴露垃圾").click()
    page.get_by_label("问题描述").fill("小区门口垃圾堆放")


def _wait_for(check: Callable[[], bool], seconds: float = 30) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if check():
            return
        time.sleep(0.2)
    raise AssertionError("timed out")


def test_it_queues_a_report_filed_offline_and_sends_it_once_back_online(
    phone: Any, live_server: Any, worker: User, catalog: Catalog, screenshot: Any
) -> None:
    _log_in(phone, live_server.url)
    _open_filing(phone, live_server.url)
    _fill(phone)
    phone.context.set_offline(True)
    phone.get_by_role("button", name="提交上报").click()
    status = phone.locator("#queue-status")
    status.filter(has_text="待发送 1 条").wait_for()
    assert Report.objects.count() == 0
    screenshot(phone, "phone-file-queued")

    phone.context.set_offline(False)
    phone.wait_for_function("() => document.getElementById('queue-status').hidden")
    _wait_for(lambda: Report.objects.count() == 1)
    # Another flush (the 20 s timer, another tab) finds nothing left to send.
    phone.evaluate("() => JZTOutbox.flush()")
    report = Report.objects.get()
    assert report.grid.name == "第六网格" and report.category.name == "暴露垃圾"
    assert report.photos.count() == 1 and report.photos.get().width <= 1600


def test_it_fills_the_nearest_entrance_and_lets_the_worker_correct_it(
    phone: Any, live_server: Any, worker: User, city: City, catalog: Catalog
) -> None:
    b25 = BuildingFactory(grid=city.grid, number="25", name="25号楼", lng=117.175, lat=39.105)
    EntranceFactory(building=b25, number="1", name="1门", lng=117.1744, lat=39.105)
    third = EntranceFactory(building=b25, number="3", name="3门", lng=117.1751, lat=39.105)
    b26 = BuildingFactory(grid=city.grid, number="26", name="26号楼", lng=117.178, lat=39.107)
    east = EntranceFactory(building=b26, number="2", name="2门")
    _log_in(phone, live_server.url)
    _open_filing(phone, live_server.url)
    phone.wait_for_function(
        "() => document.getElementById('place-status').textContent.includes('25号楼')"
    )
    entrance = phone.get_by_label("单元/楼门")
    assert entrance.input_value() == str(third.pk)
    assert "3门" in phone.locator("#place-status").inner_text()

    # On site it is building 26: its entrances only are offered, and the worker picks one.
    phone.get_by_label("楼栋").select_option(str(b26.pk))
    assert entrance.input_value() == ""
    offered = entrance.locator("option:not([disabled])").all_inner_texts()
    assert offered == ["不指定", "26号楼2门"]
    entrance.select_option(str(east.pk))
    _fill(phone)
    phone.get_by_role("button", name="提交上报").click()
    phone.wait_for_url(f"{live_server.url}/m/mine/")
    report = Report.objects.get()
    assert report.building == b26 and report.entrance == east


def test_it_opens_the_filing_page_from_the_service_worker_cache_offline(
    phone: Any, live_server: Any, worker: User, catalog: Catalog
) -> None:
    _log_in(phone, live_server.url)
    _open_filing(phone, live_server.url)
    phone.wait_for_function("() => navigator.serviceWorker.controller !== null", timeout=15_000)
    phone.context.set_offline(True)
    phone.reload()
    phone.wait_for_selector("#file-form[data-ready='1']")
    assert phone.get_by_role("heading", level=1).inner_text() == "上报问题"
    # The scripts came from the cache too: the pinyin search works.
    phone.fill("#category-search", "bllj")
    phone.get_by_role("button", name="市容环境 › 暴露垃圾").wait_for()


def test_it_makes_one_case_when_the_same_submission_is_sent_twice(
    phone: Any, live_server: Any, worker: User, catalog: Catalog
) -> None:
    _log_in(phone, live_server.url)
    _open_filing(phone, live_server.url)
    _fill(phone)
    phone.context.set_offline(True)
    phone.get_by_role("button", name="提交上报").click()
    phone.locator("#queue-status").filter(has_text="待发送 1 条").wait_for()
    phone.evaluate(
        "() => JZTOutbox.all()"
        ".then(items => { window.sent = items.find(i => i.status === 'queued'); })"
    )
    phone.context.set_offline(False)
    _wait_for(lambda: Report.objects.count() == 1)
    phone.wait_for_function("() => document.getElementById('queue-status').hidden")
    # The same item (same key, same photos) sent again, as after a lost answer or from a
    # second tab: the server answers with the case the first one made.
    again = phone.evaluate("() => JZTOutbox.send(window.sent)")
    assert again["data"]["number"] == Report.objects.get().number
    assert Report.objects.count() == 1


def test_it_shows_chinese_messages_and_saves_nothing_without_photo_or_category(
    phone: Any, live_server: Any, worker: User, catalog: Catalog, screenshot: Any
) -> None:
    _log_in(phone, live_server.url)
    _open_filing(phone, live_server.url)
    phone.get_by_label("问题描述").fill("没有照片也没有类别")
    phone.get_by_role("button", name="提交上报").click()
    alert = phone.get_by_role("alert")
    alert.filter(has_text="请至少拍摄或选择一张现场照片").wait_for()
    assert "请选择问题类别" in alert.inner_text()
    screenshot(phone, "phone-file-errors")
    assert Report.objects.count() == 0


def test_it_re_renders_the_plain_form_without_javascript(
    browser: Any, live_server: Any, worker: User, catalog: Catalog
) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844},
                                  locale="zh-CN", java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("用户名").fill("zhangxin")
    page.get_by_label("密码").fill("pw-123456")
    page.get_by_role("button", name="登录").click()
    page.goto(f"{live_server.url}/m/file/")
    page.get_by_label("问题描述").fill("没有照片")
    page.get_by_role("button", name="提交上报").click()
    text = page.get_by_role("alert").inner_text()
    assert "请至少拍摄或选择一张现场照片" in text and "请选择问题类别" in text
    assert Report.objects.count() == 0
    context.close()


def test_it_gives_404_for_another_grids_case(
    phone: Any, live_server: Any, neighbour_worker: User, worker: User, city: City,
    catalog: Catalog,
) -> None:
    report = file_report(worker, city, catalog.garbage)
    _log_in(phone, live_server.url, "neighbour")
    response = phone.goto(f"{live_server.url}/m/verify/{report.pk}/")
    assert response.status == 404


@pytest.fixture
def some_cases(city: City, catalog: Catalog, worker: User, street_staff: User,
               street_department: Department, street_handler: User) -> None:
    file_report(worker, city, catalog.roof_tree, description="3号楼楼顶长出小树",
                photos=[jpeg()])
    file_report(worker, city, catalog.manhole, description="井盖缺失，有人掉落风险",
                urgency="urgent", standard=catalog.manhole_missing)
    handled = file_report(worker, city, catalog.garbage, description="垃圾桶旁暴露垃圾",
                          photos=[jpeg()])
    workflow.report_accept(handled, actor=street_staff)
    workflow.report_dispatch(handled, actor=street_staff, department=street_department)
    workflow.report_acknowledge(handled, actor=street_handler)
    workflow.report_handle(handled, actor=street_handler, note="已清理", photos=[jpeg()])


@pytest.mark.parametrize(("path", "name"), [
    ("/m/file/", "file"), ("/m/self-handled/", "self-handled"), ("/m/mine/", "mine"),
    ("/m/verify/", "verify"),
])
def test_it_renders_each_phone_page_accessibly_at_390_and_1366(
    browser: Any, live_server: Any, worker: User, some_cases: None, screenshot: Any,
    path: str, name: str,
) -> None:
    for label, viewport, mobile in (("phone", {"width": 390, "height": 844}, True),
                                    ("desktop", {"width": 1366, "height": 768}, False)):
        context = browser.new_context(viewport=viewport, locale="zh-CN", is_mobile=mobile,
                                      has_touch=mobile, device_scale_factor=1)
        page = context.new_page()
        _log_in(page, live_server.url)
        page.goto(f"{live_server.url}{path}")
        if path in ("/m/file/", "/m/self-handled/"):
            page.wait_for_selector("#file-form[data-ready='1']")
            page.wait_for_function(
                "() => document.getElementById('place-status').textContent.includes('第六网格')"
            )
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0
        assert axe_violations(page) == []
        screenshot(page, f"phone-{name}-{label}")
        context.close()


def test_it_draws_the_workers_grid_and_buildings_on_the_filing_map(
    phone: Any, live_server: Any, worker: User, city: City, catalog: Catalog, screenshot: Any
) -> None:
    BuildingFactory(grid=city.grid, number="25", name="25号楼", lng=117.175, lat=39.105)
    BuildingFactory(grid=city.grid, number="26", name="<b>26号楼</b>", lng=117.178, lat=39.107)
    _log_in(phone, live_server.url)
    _open_filing(phone, live_server.url)
    # The grid's outline, two building points and the worker's pin.
    assert phone.locator("#pin-map").get_attribute("data-grids") == "3"
    assert phone.locator("#pin-map .leaflet-overlay-pane svg path").count() == 4
    phone.locator("#pin-map .leaflet-overlay-pane svg path").nth(2).hover()
    tooltip = phone.locator("#pin-map .leaflet-tooltip")
    assert tooltip.inner_text() == "<b>26号楼</b>"  # a name is text, never markup
    assert axe_violations(phone) == []
    screenshot(phone, "phone-file-map")
