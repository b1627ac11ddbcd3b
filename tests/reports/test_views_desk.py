"""Desk lists: triage queue, board (filters, map, export), overdue, inbox, notifications.

Each list is drawn in the same number of queries at N and 2N rows."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from io import BytesIO
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from accounts.models import User
from grids.models import Department
from reports import workflow
from reports.dispatching import report_route
from reports.models import Notification, Report, RoutingRule, State
from reports.notifications import notify
from reports.views.desk import excel_safe
from tests.conftest import City
from tests.reports.conftest import Catalog, file_report, jpeg

pytestmark = pytest.mark.django_db


def _client(user: User) -> Client:
    c = Client()
    c.force_login(user)
    return c


def _dispatch(r: Report, staff: User, department: Department) -> Report:
    return workflow.report_dispatch(
        workflow.report_accept(r, actor=staff), actor=staff, department=department
    )


# -- triage ------------------------------------------------------------------------------


def test_it_lists_new_cases_urgent_first_then_oldest(
    street_staff: User, worker: User, city: City, catalog: Catalog
) -> None:
    old = file_report(worker, city, catalog.roof_tree, description="旧的普通案件")
    urgent = file_report(worker, city, catalog.roof_tree, description="新的紧急案件",
                         urgency="urgent")
    html = _client(street_staff).get(reverse("reports:triage")).content.decode()
    assert html.index(urgent.number) < html.index(old.number)


def test_it_keeps_another_streets_cases_out_of_the_triage_queue(
    other_street_staff: User, worker: User, city: City, catalog: Catalog
) -> None:
    r = file_report(worker, city, catalog.roof_tree)
    html = _client(other_street_staff).get(reverse("reports:triage")).content.decode()
    assert r.number not in html and "没有待分拨的案件" in html


def test_it_shows_returned_cases_again_in_triage(
    street_staff: User, street_handler: User, street_department: Department, worker: User,
    city: City, catalog: Catalog,
) -> None:
    r = _dispatch(file_report(worker, city, catalog.roof_tree), street_staff, street_department)
    workflow.report_return(r, actor=street_handler, reason="不属于本部门")
    html = _client(street_staff).get(reverse("reports:triage")).content.decode()
    assert r.number in html and "已立案待派遣" in html


def test_it_offers_nearby_open_cases_to_merge_into_same_category_first(
    street_staff: User, worker: User, neighbour_worker: User, city: City, catalog: Catalog
) -> None:
    new = file_report(worker, city, catalog.garbage, description="门口垃圾")
    other_kind = file_report(worker, city, catalog.roof_tree, description="楼顶小树")
    same_kind = file_report(worker, city, catalog.garbage, description="门口垃圾又报一次")
    far = file_report(neighbour_worker, city, catalog.garbage, lng=117.188, lat=39.105)  # 1.1 km
    html = _client(street_staff).get(reverse("reports:triage")).content.decode()
    form = html[html.index(f'id="mi-{new.pk}"'):]
    form = form[: form.index("</select>")]
    assert form.index(same_kind.number) < form.index(other_kind.number)
    assert far.number not in form and f">{new.number} " not in form


def test_it_merges_from_the_triage_page_and_comes_back_to_it(
    street_staff: User, worker: User, city: City, catalog: Catalog
) -> None:
    first = file_report(worker, city, catalog.garbage, description="门口垃圾")
    again = file_report(worker, city, catalog.garbage, description="门口垃圾又报一次")
    triage = reverse("reports:triage")
    response = _client(street_staff).post(
        reverse("reports:act", args=[again.pk, "merge"]),
        {"into": first.pk, "note": "同一处垃圾", "next": triage},
    )
    assert response.status_code == 302 and response["Location"] == triage
    again.refresh_from_db()
    assert again.state == State.MERGED and again.merged_into == first


def test_it_refuses_to_merge_into_a_case_that_is_not_nearby(
    street_staff: User, worker: User, neighbour_worker: User, city: City, catalog: Catalog
) -> None:
    far = file_report(neighbour_worker, city, catalog.garbage, lng=117.188, lat=39.105)
    r = file_report(worker, city, catalog.garbage)
    response = _client(street_staff).post(
        reverse("reports:act", args=[r.pk, "merge"]), {"into": far.pk}
    )
    assert response.status_code == 400
    assert "只能合并到附近未办结的案件" in response.content.decode()
    r.refresh_from_db()
    assert r.state == State.REPORTED


def test_it_links_recategorize_to_the_open_form_on_the_case_page(
    street_staff: User, worker: User, city: City, catalog: Catalog
) -> None:
    r = file_report(worker, city, catalog.garbage)
    c = _client(street_staff)
    link = f"{reverse('reports:detail', args=[r.pk])}?open=recategorize#action-recategorize"
    assert f'href="{link}"' in c.get(reverse("reports:triage")).content.decode()
    html = c.get(link.split("#")[0]).content.decode()
    assert '<details class="action" id="action-recategorize" open>' in html
    assert '<details class="action" id="action-merge">' in html  # only the one asked for


@pytest.mark.parametrize("persona", ["handler", "worker", "outsider"])
def test_it_refuses_the_center_pages_to_people_who_are_not_center_staff(
    request: pytest.FixtureRequest, persona: str
) -> None:
    c = _client(request.getfixturevalue(persona))
    for name in ("reports:triage", "reports:board", "reports:overdue", "reports:board_export"):
        assert c.get(reverse(name)).status_code == 403


# -- board -------------------------------------------------------------------------------


def test_it_filters_the_board_by_state_category_and_text(
    street_staff: User, worker: User, city: City, catalog: Catalog
) -> None:
    tree = file_report(worker, city, catalog.roof_tree, description="楼顶杂树")
    rubbish = file_report(worker, city, catalog.garbage, description="垃圾堆在路口")
    workflow.report_accept(rubbish, actor=street_staff)
    c = _client(street_staff)
    url = reverse("reports:board")
    html = c.get(url, {"state": "accepted"}).content.decode()
    assert rubbish.number in html and tree.number not in html
    html = c.get(url, {"category": catalog.housing.pk}).content.decode()
    assert tree.number in html and rubbish.number not in html
    html = c.get(url, {"q": "路口"}).content.decode()
    assert rubbish.number in html and tree.number not in html


def test_it_filters_the_board_to_overdue_cases(
    street_staff: User, worker: User, city: City, catalog: Catalog
) -> None:
    late = file_report(worker, city, catalog.roof_tree)
    fresh = file_report(worker, city, catalog.roof_tree)
    Report.objects.filter(pk=late.pk).update(accept_due=timezone.now() - timedelta(hours=1))
    html = _client(street_staff).get(reverse("reports:board"), {"deadline": "overdue"})
    text = html.content.decode()
    assert late.number in text and fresh.number not in text
    assert "clock clock-overdue" in text


def test_it_puts_the_selection_on_the_map_as_data_not_html(
    street_staff: User, worker: User, city: City, catalog: Catalog
) -> None:
    r = file_report(worker, city, catalog.roof_tree)
    response = _client(street_staff).get(reverse("reports:board"))
    points = response.context["points"]
    assert points == [
        {"id": r.pk, "number": r.number, "lat": 39.105, "lng": 117.175, "state": "待立案"}
    ]
    assert 'id="map-points"' in response.content.decode()


def test_it_renders_only_the_results_for_an_htmx_filter_request(
    street_staff: User, worker: User, city: City, catalog: Catalog
) -> None:
    r = file_report(worker, city, catalog.roof_tree)
    response = _client(street_staff).get(reverse("reports:board"), HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert html.lstrip().startswith('<section id="results"')
    assert r.number in html and "<html" not in html


def test_it_exports_the_selection_to_xlsx_with_formulas_defused(
    street_staff: User, worker: User, city: City, catalog: Catalog
) -> None:
    file_report(worker, city, catalog.roof_tree, description="=HYPERLINK(\"http://x\")")
    response = _client(street_staff).get(reverse("reports:board_export"))
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "案件编号"
    assert rows[1][6] == "'=HYPERLINK(\"http://x\")"


@pytest.mark.parametrize("value", ["=1+1", "+1", "-1", "@SUM(A1)"])
def test_it_escapes_cells_that_a_spreadsheet_would_run(value: str) -> None:
    assert excel_safe(value) == "'" + value
    assert excel_safe("正常文字") == "正常文字"


# -- overdue, requests, closing ----------------------------------------------------------


def test_it_lists_overdue_cases_and_urges_a_department_with_a_note(
    street_staff: User, worker: User, city: City, catalog: Catalog,
    street_department: Department, django_capture_on_commit_callbacks: Any,
) -> None:
    r = _dispatch(file_report(worker, city, catalog.roof_tree), street_staff, street_department)
    Report.objects.filter(pk=r.pk).update(handle_due=timezone.now() - timedelta(hours=2))
    c = _client(street_staff)
    html = c.get(reverse("reports:overdue")).content.decode()
    assert r.number in html and "超期" in html
    with django_capture_on_commit_callbacks(execute=True):
        c.post(reverse("reports:act", args=[r.pk, "urge"]), {"note": "请今天处理"})
    r.refresh_from_db()
    assert r.urge_count == 1
    assert Notification.objects.filter(report=r, kind="urged").exists()


def test_it_lists_verified_cases_to_close(
    street_staff: User, street_handler: User, street_department: Department, worker: User,
    city: City, catalog: Catalog,
) -> None:
    r = _dispatch(file_report(worker, city, catalog.roof_tree), street_staff, street_department)
    r = workflow.report_acknowledge(r, actor=street_handler)
    r = workflow.report_handle(r, actor=street_handler, note="已清除", photos=[jpeg()])
    r = workflow.report_verify(r, actor=worker, passed=True)
    c = _client(street_staff)
    assert r.number in c.get(reverse("reports:overdue")).content.decode()
    c.post(reverse("reports:act", args=[r.pk, "close"]), {"next": reverse("reports:overdue")})
    r.refresh_from_db()
    assert r.state == State.CLOSED


# -- inbox -------------------------------------------------------------------------------


def test_it_lists_my_departments_cases_and_acknowledges_from_the_inbox(
    street_staff: User, street_handler: User, street_department: Department, worker: User,
    city: City, catalog: Catalog,
) -> None:
    mine = _dispatch(file_report(worker, city, catalog.roof_tree), street_staff,
                     street_department)
    not_mine = file_report(worker, city, catalog.roof_tree)
    c = _client(street_handler)
    html = c.get(reverse("reports:inbox")).content.decode()
    assert mine.number in html and not_mine.number not in html
    response = c.post(
        reverse("reports:act", args=[mine.pk, "acknowledge"]), {"next": reverse("reports:inbox")}
    )
    mine.refresh_from_db()
    assert response["Location"] == reverse("reports:inbox")
    assert mine.state == State.ACKNOWLEDGED


def test_it_refuses_the_inbox_to_center_staff(street_staff: User) -> None:
    assert _client(street_staff).get(reverse("reports:inbox")).status_code == 403


# -- notifications -----------------------------------------------------------------------


def test_it_counts_unread_notices_on_the_bell_and_marks_them_read(
    street_staff: User, other_street_staff: User, worker: User, city: City, catalog: Catalog
) -> None:
    r = file_report(worker, city, catalog.roof_tree)
    notify(report_id=r.pk, kind="overdue", message="案件已超期")
    c = _client(street_staff)
    bell = c.get(reverse("reports:bell")).content.decode()
    assert "1 条未读" in bell and 'hx-trigger="every 60s"' in bell
    assert "未读" not in _client(other_street_staff).get(reverse("reports:bell")).content.decode()
    assert "案件已超期" in c.get(reverse("reports:notifications")).content.decode()
    c.post(reverse("reports:notifications"))
    assert "未读" not in c.get(reverse("reports:bell")).content.decode()


# -- query budgets -------------------------------------------------------------------------


def _budget(
    django_assert_num_queries: Any, c: Client, url: str, grow: Callable[[], None], n: int
) -> None:
    grow()
    c.get(url)  # warm per-process caches (calendar)
    with django_assert_num_queries(n):
        assert c.get(url).status_code == 200
    grow()
    with django_assert_num_queries(n):
        assert c.get(url).status_code == 200


def test_it_draws_the_triage_queue_in_the_same_queries_at_n_and_2n(
    street_staff: User, worker: User, city: City, catalog: Catalog,
    django_assert_num_queries: Any,
) -> None:
    def grow() -> None:
        for _ in range(3):
            file_report(worker, city, catalog.roof_tree, photos=[jpeg()])

    # session, user, scope, rows, photos, routing events, count, departments, merge
    # candidates of the whole page, calendar revision, stage limits, unread count.
    _budget(django_assert_num_queries, _client(street_staff), reverse("reports:triage"), grow, 12)


def test_it_draws_the_board_in_the_same_queries_at_n_and_2n(
    street_staff: User, worker: User, city: City, catalog: Catalog,
    django_assert_num_queries: Any,
) -> None:
    def grow() -> None:
        for _ in range(3):
            file_report(worker, city, catalog.roof_tree)

    # session, user, scope, rows, count, map points, calendar revision, stage limits, and
    # the filter's choices (categories, departments, grids), unread count.
    _budget(django_assert_num_queries, _client(street_staff), reverse("reports:board"), grow, 12)


def test_it_draws_the_overdue_page_in_the_same_queries_at_n_and_2n(
    street_staff: User, worker: User, city: City, catalog: Catalog,
    django_assert_num_queries: Any,
) -> None:
    def grow() -> None:
        for _ in range(3):
            r = file_report(worker, city, catalog.roof_tree)
            Report.objects.filter(pk=r.pk).update(accept_due=timezone.now() - timedelta(hours=1))

    # session, user, scope, overdue, near, requests, to close, calendar revision, stage
    # limits, unread count.
    _budget(
        django_assert_num_queries, _client(street_staff), reverse("reports:overdue"), grow, 10
    )


def test_it_draws_the_inbox_in_the_same_queries_at_n_and_2n(
    street_staff: User, street_handler: User, street_department: Department, worker: User,
    city: City, catalog: Catalog, django_assert_num_queries: Any,
) -> None:
    def grow() -> None:
        for _ in range(3):
            _dispatch(file_report(worker, city, catalog.roof_tree, photos=[jpeg()]),
                      street_staff, street_department)

    # session, user, scope, rows, photos, count, calendar revision, stage limits, unread.
    _budget(django_assert_num_queries, _client(street_handler), reverse("reports:inbox"), grow, 9)


def test_it_draws_the_notifications_in_the_same_queries_at_n_and_2n(
    street_staff: User, worker: User, city: City, catalog: Catalog,
    django_assert_num_queries: Any,
) -> None:
    r = file_report(worker, city, catalog.roof_tree)

    def grow() -> None:
        for i in range(3):
            notify(report_id=r.pk, kind="overdue", message=f"超期{i}")

    # session, user, scope, rows, count, unread count.
    _budget(
        django_assert_num_queries, _client(street_staff), reverse("reports:notifications"),
        grow, 6,
    )


def test_it_lets_the_district_center_dispatch_a_transferred_case_to_a_district_department(
    street_staff: User, district_staff: User, worker: User, city: City, catalog: Catalog
) -> None:
    r = file_report(worker, city, catalog.roof_tree)
    workflow.report_transfer_up(r, actor=street_staff, note="需区级协调")
    c = _client(district_staff)
    html = c.get(reverse("reports:triage")).content.decode()
    assert r.number in html and "退回街道" in html
    # The district's own department is offered; the street's triage no longer lists it.
    assert f'<option value="{city.department.pk}"' in html
    assert r.number not in _client(street_staff).get(reverse("reports:triage")).content.decode()
    c.post(reverse("reports:act", args=[r.pk, "dispatch"]), {"department": city.department.pk})
    r.refresh_from_db()
    assert r.state == State.DISPATCHED and r.dispatch_level == "district"


def test_it_sends_a_transferred_case_back_down_only_with_a_reason(
    street_staff: User, district_staff: User, worker: User, city: City, catalog: Catalog
) -> None:
    r = workflow.report_transfer_up(file_report(worker, city, catalog.roof_tree),
                                    actor=street_staff)
    c = _client(district_staff)
    refused = c.post(reverse("reports:act", args=[r.pk, "send_down"]), {"reason": " "})
    r.refresh_from_db()
    assert refused.status_code == 400 and r.state == State.TRANSFERRED
    c.post(reverse("reports:act", args=[r.pk, "send_down"]), {"reason": "属街道职责"})
    r.refresh_from_db()
    assert r.state == State.ACCEPTED
    assert r.number in _client(street_staff).get(reverse("reports:triage")).content.decode()


def test_it_points_the_street_to_transfer_up_when_the_proposal_is_a_district_department(
    street_staff: User, worker: User, city: City, catalog: Catalog
) -> None:
    RoutingRule.objects.create(
        category=catalog.roof_tree, region=city.district, department=city.department,
        level="district", mode="propose",
    )
    r = file_report(worker, city, catalog.roof_tree)
    report_route(r.pk)
    html = _client(street_staff).get(reverse("reports:triage")).content.decode()
    assert "建议派遣：南开区城管委" in html and "区级部门，请上报区级" in html
    assert f'<option value="{city.department.pk}"' not in html


# -- triage texts a street clerk reads (issue 15) --------------------------------------------


def test_it_shows_a_long_description_short_with_the_rest_behind_more(
    street_staff: User, worker: User, city: City, catalog: Catalog
) -> None:
    long = "楼顶长出一棵杂树，" * 20  # 200 characters
    r = file_report(worker, city, catalog.roof_tree, description=long)
    short = file_report(worker, city, catalog.roof_tree, description="门口有垃圾")

    html = _client(street_staff).get(reverse("reports:triage")).content.decode()

    row = html[html.index(f'id="case-{r.pk}"'):html.index(f'id="case-{short.pk}"')]
    assert '<details class="case-desc"><summary>' in row and "展开全文" in row
    summary = row[row.index("<summary>"):row.index("</summary>")]
    assert long not in summary and summary.count("楼顶长出一棵杂树") == 6  # 60 characters
    assert f"<p>{long}</p>" in row  # the whole text, one click away, no script
    assert '<p class="case-desc">门口有垃圾</p>' in html


def test_it_says_which_rule_proposed_the_department_as_a_sentence(
    street_staff: User, worker: User, city: City, catalog: Catalog,
    street_department: Department,
) -> None:
    RoutingRule.objects.create(
        category=catalog.roof_tree, region=city.street, department=street_department,
        level="street", mode="propose", priority=0,
    )
    r = file_report(worker, city, catalog.roof_tree)
    report_route(r.pk)

    html = _client(street_staff).get(reverse("reports:triage")).content.decode()

    expected = f"按规则：万兴街道 · {catalog.roof_tree.name} → {street_department.name}"
    assert expected in html
    # The rule's internals stay on the case page's timeline, not on the clerk's list.
    assert "规则#" not in html and "优先级" not in html and "上溯" not in html


def test_it_says_plainly_when_no_rule_applies(
    street_staff: User, worker: User, city: City, catalog: Catalog
) -> None:
    r = file_report(worker, city, catalog.roof_tree)
    report_route(r.pk)

    html = _client(street_staff).get(reverse("reports:triage")).content.decode()

    assert "没有适用的分拨规则，请人工分拨" in html and "无分拨建议" in html


def test_it_draws_routed_triage_rows_in_the_same_queries_at_n_and_2n(
    street_staff: User, worker: User, city: City, catalog: Catalog,
    street_department: Department, django_assert_num_queries: Any,
) -> None:
    RoutingRule.objects.create(
        category=catalog.roof_tree, region=city.street, department=street_department,
        level="street", mode="propose",
    )

    def grow() -> None:
        for _ in range(3):
            report_route(file_report(worker, city, catalog.roof_tree, photos=[jpeg()]).pk)

    # The 12 of the unrouted queue, plus the rules named by the rows' routing events.
    _budget(django_assert_num_queries, _client(street_staff), reverse("reports:triage"), grow, 13)


# -- history: closed cases on the board, the department's 已办 -----------------------------


def _handled(r: Report, staff: User, department: Department, handler: User) -> Report:
    r = _dispatch(r, staff, department)
    workflow.report_acknowledge(r, actor=handler)
    return workflow.report_handle(r, actor=handler, note="已处置", photos=[jpeg()])


def _closed(r: Report, staff: User, department: Department, handler: User, worker: User) -> Report:
    r = _handled(r, staff, department, handler)
    workflow.report_verify(r, actor=worker, passed=True)
    return workflow.report_close(r, actor=staff)


def test_it_finds_closed_rejected_and_merged_cases_on_the_board_by_state(
    street_staff: User, street_handler: User, street_department: Department, worker: User,
    city: City, catalog: Catalog,
) -> None:
    open_case = file_report(worker, city, catalog.roof_tree)
    closed = _closed(file_report(worker, city, catalog.roof_tree), street_staff,
                     street_department, street_handler, worker)
    rejected = workflow.report_reject(
        file_report(worker, city, catalog.garbage), actor=street_staff, reason="不属实"
    )
    c = _client(street_staff)
    url = reverse("reports:board")
    html = c.get(url).content.decode()
    assert open_case.number in html and closed.number not in html  # open cases by default
    for state in ("closed", "rejected", "merged"):
        assert f'<option value="{state}"' in html
    html = c.get(url, {"state": "closed"}).content.decode()
    assert closed.number in html and open_case.number not in html
    html = c.get(url, {"state": "rejected"}).content.decode()
    assert rejected.number in html and closed.number not in html
    html = c.get(url, {"state": "all"}).content.decode()
    assert all(r.number in html for r in (open_case, closed, rejected))


def test_it_narrows_the_boards_history_to_a_date_range(
    street_staff: User, street_handler: User, street_department: Department, worker: User,
    city: City, catalog: Catalog,
) -> None:
    old = _closed(file_report(worker, city, catalog.roof_tree), street_staff,
                  street_department, street_handler, worker)
    Report.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=40))
    recent = _closed(file_report(worker, city, catalog.roof_tree), street_staff,
                     street_department, street_handler, worker)
    since = (timezone.localdate() - timedelta(days=7)).isoformat()
    html = _client(street_staff).get(
        reverse("reports:board"), {"state": "closed", "created_after": since}
    ).content.decode()
    assert recent.number in html and old.number not in html


def test_it_lists_the_cases_my_department_handled_by_state(
    street_staff: User, street_handler: User, street_department: Department, handler: User,
    worker: User, city: City, catalog: Catalog,
) -> None:
    handled = _handled(file_report(worker, city, catalog.roof_tree), street_staff,
                       street_department, street_handler)
    closed = _closed(file_report(worker, city, catalog.roof_tree), street_staff,
                     street_department, street_handler, worker)
    waiting = _dispatch(file_report(worker, city, catalog.roof_tree), street_staff,
                        street_department)
    c = _client(street_handler)
    html = c.get(reverse("reports:done")).content.decode()
    assert handled.number in html and closed.number in html and waiting.number not in html
    assert 'href="/dept/done/" aria-current="page"' in html  # in the handler's navigation
    html = c.get(reverse("reports:done"), {"state": "closed"}).content.decode()
    assert closed.number in html and handled.number not in html
    # Another department's handler sees none of them.
    html = _client(handler).get(reverse("reports:done")).content.decode()
    assert handled.number not in html and closed.number not in html


def test_it_refuses_the_done_list_to_people_without_a_department(
    street_staff: User, worker: User
) -> None:
    assert _client(street_staff).get(reverse("reports:done")).status_code == 403
    assert _client(worker).get(reverse("reports:done")).status_code == 403


def test_it_draws_the_done_list_in_the_same_queries_at_n_and_2n(
    street_staff: User, street_handler: User, street_department: Department, worker: User,
    city: City, catalog: Catalog, django_assert_num_queries: Any,
) -> None:
    def grow() -> None:
        for _ in range(3):
            _closed(file_report(worker, city, catalog.roof_tree), street_staff,
                    street_department, street_handler, worker)

    # session, user, scope, rows, count, calendar revision, stage limits, unread count.
    _budget(django_assert_num_queries, _client(street_handler), reverse("reports:done"), grow, 8)


def test_it_draws_the_boards_whole_history_in_the_same_queries_at_n_and_2n(
    street_staff: User, street_handler: User, street_department: Department, worker: User,
    city: City, catalog: Catalog, django_assert_num_queries: Any,
) -> None:
    def grow() -> None:
        for _ in range(3):
            _closed(file_report(worker, city, catalog.roof_tree), street_staff,
                    street_department, street_handler, worker)
            file_report(worker, city, catalog.roof_tree)

    # As the open board: session, user, scope, rows, count, map points, calendar revision,
    # stage limits, the filter's choices (categories, departments, grids), unread count.
    url = reverse("reports:board") + "?state=all"
    _budget(django_assert_num_queries, _client(street_staff), url, grow, 12)
