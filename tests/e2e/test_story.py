"""The source story in real browsers, from the phone to closure.

张鑫 (grid worker) files from a 390 px phone with a photo and his GPS position (grid,
building 25 and its entrance 3 filled in from /api/v1/locate); 万兴街道's
center (wanxing) accepts and dispatches from its triage page; the department handler
(zhifa), told by the bell, acknowledges in the inbox and handles with a result photo on
the case page; 张鑫, told by the bell, checks on site on /m/verify/ and passes it; the
center closes it. Each person has their own browser context and logs in through the login
form. Screenshots go to tests/e2e/screenshots/story-*.png. A second
test takes the rework path: the check fails with a reason and a photo, the handler is told
and handles again, the second check passes.
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from PIL import Image

from accounts.models import User
from grids.models import Department
from reports import services, workflow
from reports.models import EventKind, Report, ReportEvent, RoutingRule, State
from tests.conftest import City
from tests.e2e.conftest import SCREENSHOTS, axe_violations
from tests.factories import BuildingFactory, EntranceFactory
from tests.reports import conftest as report_fixtures
from tests.reports.conftest import Catalog, file_report, jpeg

pytestmark = pytest.mark.e2e

catalog = report_fixtures.catalog
street_department = report_fixtures.street_department
street_handler = report_fixtures.street_handler

HERE = {"longitude": 117.175, "latitude": 39.105}  # inside 第六网格
PASSWORD = "pw-123456"


def _context(browser: Any, *, phone: bool) -> Iterator[Any]:
    if phone:
        context = browser.new_context(
            viewport={"width": 390, "height": 844}, locale="zh-CN", is_mobile=True,
            has_touch=True, device_scale_factor=2, geolocation=HERE,
            permissions=["geolocation"],
        )
    else:
        context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")
    context.set_default_timeout(15_000)
    yield context.new_page()
    context.close()


@pytest.fixture
def worker_phone(browser: Any, live_server: Any) -> Iterator[Any]:
    yield from _context(browser, phone=True)


@pytest.fixture
def center_desk(browser: Any, live_server: Any) -> Iterator[Any]:
    yield from _context(browser, phone=False)


@pytest.fixture
def handler_desk(browser: Any, live_server: Any) -> Iterator[Any]:
    yield from _context(browser, phone=False)


def _log_in(page: Any, base: str, username: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{base}/work/**")


def _jpeg(colour: tuple[int, int, int], name: str) -> dict[str, Any]:
    buf = io.BytesIO()
    Image.new("RGB", (1200, 900), colour).save(buf, "JPEG")
    return {"name": name, "mimeType": "image/jpeg", "buffer": buf.getvalue()}


def _shot(page: Any, name: str) -> None:
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def _bell(page: Any) -> str:
    return page.locator("#bell").inner_text()


def _wait_for(check: Callable[[], bool], seconds: float = 10) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if check():
            return
        time.sleep(0.2)
    raise AssertionError("timed out")


@pytest.fixture
def garbage_rule(city: City, catalog: Catalog, street_department: Department) -> RoutingRule:
    """The street's rule: rubbish in 万兴街道 is proposed to its law-enforcement team."""
    return RoutingRule.objects.create(
        category=catalog.garbage, region=city.street, department=street_department,
        level="street", mode="propose",
    )


def test_it_runs_the_source_story_from_the_phone_to_closure(
    worker_phone: Any, center_desk: Any, handler_desk: Any, live_server: Any, city: City,
    worker: User, street_staff: User, street_handler: User, garbage_rule: RoutingRule,
) -> None:
    base = live_server.url
    b25 = BuildingFactory(grid=city.grid, number="25", name="25号楼", lng=117.1751, lat=39.1051)
    EntranceFactory(building=b25, number="1", name="1门", lng=117.1745, lat=39.1051)
    door3 = EntranceFactory(building=b25, number="3", name="3门", lng=117.1750, lat=39.1050)

    # 1. 张鑫 files on his phone: a photo, his GPS position, the category by pinyin.
    phone = worker_phone
    _log_in(phone, base, "zhangxin")
    phone.goto(f"{base}/m/file/")
    phone.wait_for_selector("#file-form[data-ready='1']")
    # The grid, the nearest building and its nearest entrance come from /api/v1/locate.
    phone.wait_for_function(
        "() => document.getElementById('place-status').textContent.includes('25号楼')"
    )
    phone.set_input_files("#photo-gallery", files=[_jpeg((90, 140, 60), "rubbish.jpg")])
    phone.wait_for_selector("#photo-list li img")
    phone.fill("#category-search", "bllj")
    phone.get_by_role("button", name="市容环境 › 暴露垃圾").click()
    phone.get_by_label("问题描述").fill("天大北五村小区门口垃圾堆放，影响通行")
    _shot(phone, "story-1-file")
    phone.get_by_role("button", name="提交上报").click()
    phone.wait_for_url(f"{base}/m/mine/")
    _wait_for(lambda: Report.objects.count() == 1)
    report = Report.objects.get()
    assert report.grid.name == "第六网格" and report.photos.count() == 1
    assert report.building == b25 and report.entrance == door3
    assert report.lng is not None and abs(report.lng - HERE["longitude"]) < 1e-6
    phone.get_by_text(report.number).first.wait_for()
    _shot(phone, "story-2-mine")

    # 2. The street center finds it in triage with the proposal, accepts and dispatches.
    center = center_desk
    _log_in(center, base, "wanxing")
    center.get_by_role("link", name="分拨台").first.click()
    row = center.locator(f"article[aria-labelledby=case-{report.pk}]")
    assert "建议派遣：万兴街道综合执法大队" in row.inner_text()
    _shot(center, "story-3-triage")
    row.get_by_role("button", name="立案并派遣").click()
    center.get_by_text(f"案件 {report.number}：立案并派遣 成功").wait_for()
    report.refresh_from_db()
    assert report.state == State.DISPATCHED and report.department == garbage_rule.department

    # 3. The handler's bell says so; acknowledge in the inbox, handle with a result photo.
    dept = handler_desk
    _log_in(dept, base, "zhifa")
    assert "1 条未读" in _bell(dept)
    dept.get_by_role("link", name="待办案件").first.click()
    dept.locator("article", has_text=report.number).get_by_role("button", name="签收").click()
    dept.get_by_text(f"案件 {report.number}：签收 成功").wait_for()
    dept.goto(f"{base}/cases/{report.pk}/")
    assert "未读" not in _bell(dept)  # opening the case read its notice
    handle = dept.locator("form[data-action='handle']")
    handle.locator("textarea[name=note]").fill("已清运，门口恢复整洁")
    handle.locator("input[name=photos]").set_input_files(
        files=[_jpeg((200, 200, 200), "done.jpg")]
    )
    _shot(dept, "story-4-handle")
    handle.get_by_role("button", name="处置完毕（反馈）").click()
    dept.get_by_text(f"案件 {report.number}：处置完毕（反馈） 成功").wait_for()
    report.refresh_from_db()
    assert report.state == State.HANDLED

    # 4. 张鑫's bell tells him (the department acknowledged his report, then handled it);
    # on site, he passes the check from /m/verify/ on the phone.
    phone.goto(f"{base}/m/verify/")
    assert "2 条未读" in _bell(phone)
    card = phone.locator("li.case", has_text=report.number)
    assert card.locator("img").count() == 1  # the department's result photo
    assert axe_violations(phone) == []
    _shot(phone, "story-5-verify")
    card.get_by_role("button", name="核查通过").click()
    phone.get_by_text(f"已提交核查结果：{report.number}").wait_for()
    report.refresh_from_db()
    assert report.state == State.VERIFIED

    # 5. The center finds it among the verified cases to close and closes it.
    center.goto(f"{base}/center/overdue/")
    assert report.number in center.locator("main").inner_text()
    center.goto(f"{base}/cases/{report.pk}/")
    center.locator("form[data-action='close']").get_by_role("button", name="结案").click()
    center.get_by_text(f"案件 {report.number}：结案 成功").wait_for()
    report.refresh_from_db()
    assert report.state == State.CLOSED
    assert axe_violations(center) == []
    _shot(center, "story-6-closed")

    # The reporter is told it is closed: one more unread notice on his phone.
    phone.goto(f"{base}/m/mine/")
    assert "3 条未读" in _bell(phone)

    # The timeline: every step, in order, with who took it.
    events = list(
        ReportEvent.objects.filter(report=report).order_by("at", "pk")
        .values_list("kind", "actor__username")
    )
    assert events == [
        (EventKind.FILED, "zhangxin"),
        (EventKind.ROUTED, None),
        (EventKind.ACCEPTED, "wanxing"),
        (EventKind.DISPATCHED, "wanxing"),
        (EventKind.ACKNOWLEDGED, "zhifa"),
        (EventKind.HANDLED, "zhifa"),
        (EventKind.VERIFIED, "zhangxin"),
        (EventKind.CLOSED, "wanxing"),
    ]
    timeline = center.locator(".timeline").inner_text()
    for step in ("上报", "自动分拨", "立案", "派遣", "签收", "处置完毕", "核查通过", "结案"):
        assert step in timeline


def test_it_sends_a_case_back_for_rework_and_passes_it_the_second_time(
    worker_phone: Any, handler_desk: Any, live_server: Any, city: City, catalog: Catalog,
    worker: User, street_staff: User, street_handler: User, street_department: Department,
) -> None:
    base = live_server.url
    report = file_report(worker, city, catalog.garbage, description="门口垃圾堆放",
                         photos=[jpeg()])
    workflow.report_accept(report, actor=street_staff)
    workflow.report_dispatch(report, actor=street_staff, department=street_department)
    workflow.report_acknowledge(report, actor=street_handler)
    workflow.report_handle(report, actor=street_handler, note="已清理", photos=[jpeg()])
    services.notification_mark_read(user=street_handler)  # the dispatch notice, read earlier

    # On site the rubbish is still there: 不通过 with a reason and a photo.
    phone = worker_phone
    _log_in(phone, base, "zhangxin")
    phone.goto(f"{base}/m/verify/")
    phone.locator("li.case", has_text=report.number).get_by_role(
        "link", name="不通过（返工）…").click()
    phone.get_by_label("不通过（返工）").check()
    phone.get_by_label("核查说明（不通过时必填）").fill("门口仍有两袋垃圾未清")
    phone.get_by_label("现场照片（不通过时必传）").set_input_files(
        files=[_jpeg((120, 90, 60), "still.jpg")]
    )
    _shot(phone, "story-rework-1-fail")
    phone.get_by_role("button", name="提交核查结果").click()
    phone.get_by_text(f"已提交核查结果：{report.number}").wait_for()
    report.refresh_from_db()
    assert report.state == State.ACKNOWLEDGED

    # The handler is told (bell), sees the reason on the case page and handles it again.
    dept = handler_desk
    _log_in(dept, base, "zhifa")
    assert "1 条未读" in _bell(dept)
    dept.goto(f"{base}/cases/{report.pk}/")
    assert "门口仍有两袋垃圾未清" in dept.locator(".timeline").inner_text()
    handle = dept.locator("form[data-action='handle']")
    handle.locator("textarea[name=note]").fill("已全部清运")
    handle.locator("input[name=photos]").set_input_files(
        files=[_jpeg((210, 210, 210), "clean.jpg")]
    )
    handle.get_by_role("button", name="处置完毕（反馈）").click()
    dept.get_by_text(f"案件 {report.number}：处置完毕（反馈） 成功").wait_for()
    _shot(dept, "story-rework-2-handled-again")

    # Back on the phone, the worker passes it.
    phone.goto(f"{base}/m/verify/")
    phone.locator("li.case", has_text=report.number).get_by_role(
        "button", name="核查通过").click()
    phone.get_by_text(f"已提交核查结果：{report.number}").wait_for()
    report.refresh_from_db()
    assert report.state == State.VERIFIED
    kinds = list(report.events.order_by("at", "pk").values_list("kind", flat=True))
    assert kinds[-4:] == [EventKind.HANDLED, EventKind.REWORK, EventKind.HANDLED,
                          EventKind.VERIFIED]
