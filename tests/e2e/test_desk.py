"""Desk workflow in real browsers: each role in its own browser context.

The center triages and dispatches, the department acknowledges and handles with a result
photo, the grid worker verifies (through the workflow function), the center closes.
Screenshots of every desk page at 1366 px and 390 px go to tests/e2e/screenshots (ignored;
`make screens` writes docs/screens); axe-core finds no serious or critical violation on
any of them."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import pytest
from PIL import Image

from accounts.models import User
from grids.models import Department
from reports import workflow
from reports.dispatching import report_route
from reports.models import Notification, Report, RoutingRule, State
from reports.notifications import notify
from tests.conftest import City
from tests.e2e.conftest import SCREENSHOTS, axe_violations
from tests.reports import conftest as report_fixtures
from tests.reports.conftest import Catalog, file_report, jpeg

pytestmark = pytest.mark.e2e

# The case fixtures of the unit tests, shared here.
catalog = report_fixtures.catalog
street_department = report_fixtures.street_department
street_handler = report_fixtures.street_handler

WIDE = {"width": 1366, "height": 768}
NARROW = {"width": 390, "height": 844}
PASSWORD = "pw-123456"


def _page(browser: Any, viewport: dict[str, int]) -> Iterator[Any]:
    mobile = viewport["width"] < 500
    context = browser.new_context(
        viewport=viewport, locale="zh-CN", is_mobile=mobile, has_touch=mobile,
        device_scale_factor=2 if mobile else 1,
    )
    context.set_default_timeout(15_000)
    yield context.new_page()
    context.close()


@pytest.fixture
def center(browser: Any, live_server: Any) -> Iterator[Any]:
    yield from _page(browser, WIDE)


@pytest.fixture
def dept(browser: Any, live_server: Any) -> Iterator[Any]:
    yield from _page(browser, WIDE)


@pytest.fixture
def phone_center(browser: Any, live_server: Any) -> Iterator[Any]:
    yield from _page(browser, NARROW)


def _log_in(page: Any, base: str, username: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{base}/work/**")


def _shot(page: Any, name: str) -> None:
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def _photo(name: str, colour: tuple[int, int, int]) -> Any:
    buf = io.BytesIO()
    Image.new("RGB", (640, 480), colour).save(buf, "JPEG")
    upload = jpeg(name, (640, 480))
    upload.file = io.BytesIO(buf.getvalue())
    upload.size = len(buf.getvalue())
    return upload


@pytest.fixture
def cases(
    worker: User, city: City, catalog: Catalog, street_department: Department
) -> list[Report]:
    """A routed roof tree with a proposal, an urgent manhole and rubbish, all new."""
    RoutingRule.objects.create(
        category=catalog.roof_tree, region=city.street, department=street_department,
        level="street", mode="propose",
    )
    tree = file_report(
        worker, city, catalog.roof_tree, description="3号楼楼顶长出一棵小树，根系可能破坏防水层",
        address="天大北五村3号楼", photos=[_photo("tree.jpg", (90, 140, 60))],
    )
    report_route(tree.pk)
    manhole = file_report(
        worker, city, catalog.manhole, standard=catalog.manhole_missing, urgency="urgent",
        description="路口井盖缺失，行人易跌落", lng=117.176, lat=39.104,
        photos=[_photo("hole.jpg", (60, 60, 70))],
    )
    rubbish = file_report(
        worker, city, catalog.garbage, description="垃圾堆在小区门口", lng=117.174, lat=39.106
    )
    return [tree, manhole, rubbish]


def test_it_takes_a_case_from_triage_to_closed_with_each_role_in_its_own_browser(
    center: Any, dept: Any, live_server: Any, street_staff: User, street_handler: User,
    worker: User, cases: list[Report],
) -> None:
    base = live_server.url
    tree = cases[0]

    # The street center sees the proposal and dispatches in one click.
    _log_in(center, base, "wanxing")
    center.get_by_role("link", name="分拨台").first.click()
    row = center.locator(f"article[aria-labelledby=case-{tree.pk}]")
    assert "建议派遣：万兴街道综合执法大队" in row.inner_text()
    assert center.locator("article").first.inner_text().find("紧急") >= 0  # urgent first
    assert axe_violations(center) == []
    _shot(center, "desk-triage-1366")
    row.get_by_role("button", name="立案并派遣").click()
    center.get_by_text(f"案件 {tree.number}：立案并派遣 成功").wait_for()
    tree.refresh_from_db()
    assert tree.state == State.DISPATCHED

    # The department acknowledges in its inbox, then reports it handled with a photo.
    _log_in(dept, base, "zhifa")
    dept.get_by_role("link", name="待办案件").first.click()
    assert tree.number in dept.locator("main").inner_text()
    assert axe_violations(dept) == []
    _shot(dept, "desk-inbox-1366")
    dept.locator("article", has_text=tree.number).get_by_role("button", name="签收").click()
    dept.get_by_text(f"案件 {tree.number}：签收 成功").wait_for()
    dept.goto(f"{base}/cases/{tree.pk}/")
    handle = dept.locator("form[data-action='handle']")
    handle.locator("textarea[name=note]").fill("已清除楼顶杂树及根系")
    handle.locator("input[name=photos]").set_input_files(
        files=[{"name": "done.jpg", "mimeType": "image/jpeg", "buffer": _jpeg_bytes()}]
    )
    handle.get_by_role("button", name="处置完毕（反馈）").click()
    dept.get_by_text(f"案件 {tree.number}：处置完毕（反馈） 成功").wait_for()
    tree.refresh_from_db()
    assert tree.state == State.HANDLED

    # The grid worker checks on site (through the workflow, as the phone page would).
    workflow.report_verify(tree, actor=worker, passed=True, note="现场核查已解决")

    # The center closes it from its case page; the timeline shows every step.
    center.goto(f"{base}/cases/{tree.pk}/")
    center.locator("form[data-action='close']").get_by_role("button", name="结案").click()
    center.get_by_text(f"案件 {tree.number}：结案 成功").wait_for()
    tree.refresh_from_db()
    assert tree.state == State.CLOSED
    timeline = center.locator(".timeline").inner_text()
    for step in ("上报", "立案", "派遣", "签收", "处置完毕", "核查通过", "结案"):
        assert step in timeline
    assert axe_violations(center) == []
    _shot(center, "desk-case-1366")


def test_it_merges_and_recategorizes_from_the_triage_page(
    center: Any, live_server: Any, street_staff: User, worker: User, city: City,
    catalog: Catalog, cases: list[Report],
) -> None:
    base = live_server.url
    _tree, _manhole, rubbish = cases
    again = file_report(worker, city, catalog.garbage, description="小区门口又见垃圾堆",
                        lng=117.1741, lat=39.1061)
    _log_in(center, base, "wanxing")
    center.goto(f"{base}/center/triage/")

    # Merge: open the row's 合并, pick the nearby case of the same category, confirm.
    row = center.locator(f"article[aria-labelledby=case-{again.pk}]")
    row.locator("summary", has_text="合并").click()
    row.get_by_label("合并到附近的案件").select_option(str(rubbish.pk))
    assert axe_violations(center) == []
    _shot(center, "desk-triage-merge-1366")
    row.get_by_role("button", name="确认合并").click()
    center.get_by_text(f"案件 {again.number}：合并 成功").wait_for()
    assert center.url.endswith("/center/triage/")
    again.refresh_from_db()
    assert again.state == State.MERGED and again.merged_into_id == rubbish.pk

    # Recategorize: one click lands on the open form on the case page.
    center.locator(f"article[aria-labelledby=case-{rubbish.pk}]").get_by_role(
        "link", name="更正类别…").click()
    form = center.locator("form[data-action='recategorize']")
    assert form.is_visible()
    form.get_by_label("正确类别").select_option(str(catalog.manhole.pk))
    form.get_by_role("button", name="更正类别（重新分拨）").click()
    center.get_by_text(f"案件 {rubbish.number}：更正类别（重新分拨） 成功").wait_for()
    rubbish.refresh_from_db()
    assert rubbish.category == catalog.manhole
    # The merged duplicate is listed on the case page, with a link.
    assert center.locator("#duplicates").get_by_role("link", name=again.number).is_visible()
    assert axe_violations(center) == []


def test_it_shows_a_handler_no_action_on_another_departments_case(
    dept: Any, live_server: Any, street_staff: User, street_handler: User, city: City,
    cases: list[Report],
) -> None:
    other = Department.objects.create(code="OTHER1", name="万兴街道房管站", region=city.street)
    r = workflow.report_accept(cases[2], actor=street_staff)
    workflow.report_dispatch(r, actor=street_staff, department=other)
    _log_in(dept, live_server.url, "zhifa")
    response = dept.goto(f"{live_server.url}/cases/{r.pk}/")
    assert response.status == 404
    assert dept.locator("form[data-action]").count() == 0


def test_it_draws_the_board_map_overdue_and_notifications_at_both_widths(
    center: Any, phone_center: Any, live_server: Any, street_staff: User,
    street_handler: User, street_department: Department, cases: list[Report],
) -> None:
    base = live_server.url
    tree, manhole, _rubbish = cases
    workflow.report_dispatch(
        workflow.report_accept(manhole, actor=street_staff), actor=street_staff,
        department=street_department,
    )
    # Each new case already told the center it waits in its queue; count only this one.
    Notification.objects.filter(kind="in_queue").delete()
    notify(report_id=tree.pk, kind="overdue", message=f"案件 {tree.number} 已超期（待立案）")
    for page, width in ((center, 1366), (phone_center, 390)):
        _log_in(page, base, "wanxing")
        assert "1 条未读" in page.locator("#bell").inner_text()
        errors: list[str] = []
        page.on("pageerror", lambda e, seen=errors: seen.append(str(e)))
        page.goto(f"{base}/center/board/")
        page.wait_for_timeout(500)
        assert errors == []
        page.wait_for_selector("#board-map[data-ready='1']")
        assert page.locator("#board-map").get_attribute("data-points") == "3"
        assert axe_violations(page) == []
        _shot(page, f"desk-board-{width}")
        page.goto(f"{base}/center/triage/")
        assert axe_violations(page) == []
        if width == 390:
            _shot(page, "desk-triage-390")
        page.goto(f"{base}/center/overdue/")
        assert axe_violations(page) == []
        _shot(page, f"desk-overdue-{width}")
        page.goto(f"{base}/notifications/")
        assert axe_violations(page) == []
        _shot(page, f"desk-notifications-{width}")
        page.goto(f"{base}/cases/{manhole.pk}/")
        page.wait_for_selector("#case-map[data-ready='1']")
        assert axe_violations(page) == []
        if width == 390:
            _shot(page, "desk-case-390")
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0


def test_it_draws_the_inbox_on_a_phone(
    phone_center: Any, live_server: Any, street_staff: User, street_handler: User,
    street_department: Department, cases: list[Report],
) -> None:
    for r in cases[:2]:
        workflow.report_dispatch(
            workflow.report_accept(r, actor=street_staff), actor=street_staff,
            department=street_department,
        )
    _log_in(phone_center, live_server.url, "zhifa")
    phone_center.goto(f"{live_server.url}/dept/inbox/")
    assert phone_center.locator("article").count() == 2
    assert axe_violations(phone_center) == []
    overflow = phone_center.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0
    _shot(phone_center, "desk-inbox-390")


def _jpeg_bytes() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (640, 480), (200, 200, 200)).save(buf, "JPEG")
    return buf.getvalue()


def test_it_shows_the_whole_board_table_at_1366_and_the_done_list(
    center: Any, dept: Any, live_server: Any, street_staff: User, street_handler: User,
    street_department: Department, cases: list[Report],
) -> None:
    base = live_server.url
    tree, _manhole, _rubbish = cases
    workflow.report_dispatch(
        workflow.report_accept(tree, actor=street_staff), actor=street_staff,
        department=street_department,
    )
    workflow.report_acknowledge(tree, actor=street_handler)
    workflow.report_handle(
        tree, actor=street_handler, note="已处置", photos=[_photo("r.jpg", (9, 9, 9))]
    )
    _log_in(center, base, "wanxing")
    center.goto(f"{base}/center/board/?state=all")
    center.wait_for_selector("#board-map[data-ready='1']")
    # Every column of the table is on screen: the table does not scroll sideways.
    clipped = center.evaluate(
        "() => { const w = document.querySelector('#results .table-wrap');"
        " return w.scrollWidth - w.clientWidth; }"
    )
    assert clipped <= 0
    assert center.locator("#results tbody tr").count() == 3
    assert axe_violations(center) == []
    _shot(center, "desk-board-history-1366")
    center.goto(f"{base}/center/board/?state=rejected")
    center.wait_for_selector("#board-map[data-ready='1']")
    assert center.locator("#board-map-empty").is_visible()  # an empty map says why
    _log_in(dept, base, "zhifa")
    dept.goto(f"{base}/dept/done/")
    assert dept.locator("tbody tr").count() == 1
    assert tree.number in dept.locator("tbody").inner_text()
    assert axe_violations(dept) == []
    _shot(dept, "desk-done-1366")
