"""The case page and its actions: only what the viewer may do now; 404 out of scope,
403 for the wrong person, the Chinese message and nothing changed on bad input."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from grids.models import Department
from reports import services, workflow
from reports.dispatching import report_route
from reports.models import EventKind, Notification, Report, RoutingRule, State
from reports.notifications import notify
from reports.photos import photos_ingest
from reports.views.case import ACTIONS
from tests.conftest import City
from tests.reports.conftest import Catalog, file_report, jpeg

pytestmark = pytest.mark.django_db


def _client(user: User) -> Client:
    c = Client()
    c.force_login(user)
    return c


@pytest.fixture
def reported(worker: User, city: City, catalog: Catalog) -> Report:
    return file_report(worker, city, catalog.roof_tree, photos=[jpeg()])


def _dispatched(report: Report, staff: User, department: Department) -> Report:
    r = workflow.report_accept(report, actor=staff)
    return workflow.report_dispatch(r, actor=staff, department=department)


def _forms(html: str) -> set[str]:
    return {a for a in workflow.TRANSITIONS if f'data-action="{a}"' in html} | (
        {"accept_dispatch"} if 'data-action="accept_dispatch"' in html else set()
    )


def test_it_shows_the_case_with_its_place_photos_clock_and_timeline(
    street_staff: User, reported: Report
) -> None:
    response = _client(street_staff).get(reverse("reports:detail", args=[reported.pk]))
    html = response.content.decode()
    assert response.status_code == 200
    assert "南开区 › 万兴街道 › 天大北五村社区 › 第六网格" in html
    assert "房屋安全›楼顶杂树" in html
    photo = reported.photos.get()
    assert reverse("reports:photo", args=[reported.pk, photo.pk]) + "?thumb=1" in html
    assert "clock clock-ok" in html and "剩余" in html
    assert "上报" in html and "张鑫" in html  # the FILED event and its actor


def test_it_offers_the_street_center_only_its_triage_actions(
    street_staff: User, reported: Report
) -> None:
    html = _client(street_staff).get(reverse("reports:detail", args=[reported.pk])).content
    assert _forms(html.decode()) == {
        "accept_dispatch", "accept", "reject", "merge", "recategorize", "transfer_up", "urge"
    }


def test_it_shows_a_handler_no_action_on_their_handled_case(
    street_staff: User, street_handler: User, street_department: Department, reported: Report
) -> None:
    r = _dispatched(reported, street_staff, street_department)
    r = workflow.report_acknowledge(r, actor=street_handler)
    workflow.report_handle(r, actor=street_handler, note="已清除", photos=[jpeg()])
    response = _client(street_handler).get(reverse("reports:detail", args=[r.pk]))
    assert response.status_code == 200
    assert _forms(response.content.decode()) == set()
    assert "您当前不能对该案件执行任何操作" in response.content.decode()


def test_it_hides_another_departments_case_from_a_handler_with_404(
    street_staff: User, handler: User, street_department: Department, reported: Report
) -> None:
    r = _dispatched(reported, street_staff, street_department)
    c = _client(handler)
    assert c.get(reverse("reports:detail", args=[r.pk])).status_code == 404
    assert c.post(reverse("reports:act", args=[r.pk, "acknowledge"])).status_code == 404
    photo = r.photos.get()
    assert c.get(reverse("reports:photo", args=[r.pk, photo.pk])).status_code == 404


def test_it_hides_the_case_from_another_street_with_404(
    other_street_staff: User, reported: Report
) -> None:
    response = _client(other_street_staff).get(reverse("reports:detail", args=[reported.pk]))
    assert response.status_code == 404


def test_it_refuses_the_wrong_person_with_403_and_changes_nothing(
    worker: User, reported: Report, street_department: Department
) -> None:
    url = reverse("reports:act", args=[reported.pk, "accept_dispatch"])
    response = _client(worker).post(url, {"department": street_department.pk})
    reported.refresh_from_db()
    assert response.status_code == 403
    assert reported.state == State.REPORTED


def test_it_accepts_and_dispatches_in_one_click_to_the_chosen_department(
    street_staff: User, reported: Report, street_department: Department
) -> None:
    url = reverse("reports:act", args=[reported.pk, "accept_dispatch"])
    response = _client(street_staff).post(
        url, {"department": street_department.pk, "next": reverse("reports:triage")}
    )
    reported.refresh_from_db()
    assert response.status_code == 302 and response["Location"] == reverse("reports:triage")
    assert reported.state == State.DISPATCHED and reported.department == street_department
    kinds = list(reported.events.values_list("kind", flat=True))
    assert kinds[-2:] == [EventKind.ACCEPTED, EventKind.DISPATCHED]


def test_it_refuses_a_department_the_center_may_not_dispatch_to(
    street_staff: User, reported: Report, city: City
) -> None:
    url = reverse("reports:act", args=[reported.pk, "accept_dispatch"])
    # The district's department belongs one level up: not in the street's list.
    response = _client(street_staff).post(url, {"department": city.department.pk})
    reported.refresh_from_db()
    assert response.status_code == 400
    assert "请选择本中心可派遣的处置部门" in response.content.decode()
    assert reported.state == State.REPORTED


def test_it_shows_the_workflow_message_when_the_state_has_moved_on(
    street_staff: User, reported: Report
) -> None:
    workflow.report_accept(reported, actor=street_staff)
    response = _client(street_staff).post(reverse("reports:act", args=[reported.pk, "accept"]))
    html = response.content.decode()
    assert response.status_code == 400
    assert "案件当前状态为“已立案待派遣”，不能立案" in html
    assert reported.events.filter(kind=EventKind.ACCEPTED).count() == 1


def test_it_requires_a_reason_to_reject_and_rejects_with_one(
    street_staff: User, reported: Report
) -> None:
    c = _client(street_staff)
    url = reverse("reports:act", args=[reported.pk, "reject"])
    response = c.post(url, {"choice": "其他", "detail": ""})
    reported.refresh_from_db()
    assert response.status_code == 400 and reported.state == State.REPORTED
    assert "选择“其他”时请填写补充说明" in response.content.decode()
    c.post(url, {"choice": "重复上报", "detail": "与昨日案件相同"})
    reported.refresh_from_db()
    assert reported.state == State.REJECTED
    assert reported.events.get(kind=EventKind.REJECTED).note == "重复上报：与昨日案件相同"


def test_it_merges_into_a_nearby_open_case(
    street_staff: User, worker: User, city: City, catalog: Catalog, reported: Report
) -> None:
    first = file_report(worker, city, catalog.roof_tree)
    c = _client(street_staff)
    html = c.get(reverse("reports:detail", args=[reported.pk])).content.decode()
    assert first.number in html  # offered as a merge target
    c.post(reverse("reports:act", args=[reported.pk, "merge"]), {"into": first.pk})
    reported.refresh_from_db()
    assert reported.state == State.MERGED and reported.merged_into == first
    html = c.get(reverse("reports:detail", args=[first.pk])).content.decode()
    assert reported.number in html  # listed among merged duplicates


def test_it_lets_the_handler_acknowledge_and_handle_with_result_photos(
    street_staff: User, street_handler: User, street_department: Department, reported: Report
) -> None:
    r = _dispatched(reported, street_staff, street_department)
    c = _client(street_handler)
    c.post(reverse("reports:act", args=[r.pk, "acknowledge"]))
    missing = c.post(reverse("reports:act", args=[r.pk, "handle"]), {"note": "已清除"})
    assert "请上传至少一张处置结果照片" in missing.content.decode()
    c.post(
        reverse("reports:act", args=[r.pk, "handle"]),
        {"note": "已清除", "photos": [jpeg("a.jpg"), jpeg("b.jpg")]},
    )
    r.refresh_from_db()
    assert r.state == State.HANDLED
    assert r.photos.filter(kind="result").count() == 2


def test_it_asks_for_a_suspension_within_a_year_and_the_center_grants_it(
    street_staff: User, street_handler: User, street_department: Department, reported: Report
) -> None:
    r = _dispatched(reported, street_staff, street_department)
    url = reverse("reports:act", args=[r.pk, "request_suspension"])
    c = _client(street_handler)
    too_late = c.post(url, {"reason": "需等待拆违审批", "until": "2099-01-01"})
    assert too_late.status_code == 400
    assert "挂账截止时间须在今后一年以内" in too_late.content.decode()
    assert not r.time_requests.exists()
    until = (timezone.localdate() + timedelta(days=30)).isoformat()
    c.post(url, {"reason": "需等待拆违审批", "until": until})
    assert r.time_requests.get().status == "pending"
    _client(street_staff).post(
        reverse("reports:act", args=[r.pk, "decide_request"]), {"grant": "1"}
    )
    r.refresh_from_db()
    assert r.suspended
    assert r.time_requests.get().status == "granted"


def test_it_marks_the_cases_notices_read_when_opened(
    street_staff: User, reported: Report
) -> None:
    notify(report_id=reported.pk, kind="overdue", message="案件已超期")
    _client(street_staff).get(reverse("reports:detail", args=[reported.pk]))
    assert Notification.objects.get().read_at is not None


def test_it_shows_the_routing_proposal_and_dispatches_to_it(
    street_staff: User, reported: Report, city: City, street_department: Department
) -> None:
    RoutingRule.objects.create(
        category=reported.category, region=city.street, department=street_department,
        level="street", mode="propose",
    )
    report_route(reported.pk)
    html = _client(street_staff).get(reverse("reports:triage")).content.decode()
    assert "建议派遣：万兴街道综合执法大队" in html
    assert f'<option value="{street_department.pk}" selected>' in html


def test_it_draws_the_case_page_in_the_same_queries_at_n_and_2n_timeline_rows(
    street_staff: User, city: City, reported: Report, django_assert_num_queries: Any
) -> None:
    c = _client(street_staff)
    url = reverse("reports:detail", args=[reported.pk])

    def grow(n: int) -> None:
        # Each step adds a timeline event with a photo, a sighting with a photo and a
        # merged duplicate.
        for i in range(n):
            workflow.report_urge(reported, actor=street_staff, note=f"督办{i}")
            photos_ingest(
                report=reported, kind="before", files=[jpeg()], uploaded_by=street_staff,
                event=reported.events.order_by("-pk").first(),
            )
            services.report_add_sighting(
                reported, actor=reported.reporter, note=f"又看到了{i}", photos=[jpeg()],
                idempotency_key=f"sighting-{reported.events.count()}",
            )
            duplicate = file_report(reported.reporter, city, reported.category)
            workflow.report_merge(duplicate, actor=street_staff, into=reported)

    grow(3)
    c.get(url)  # warm the calendar cache
    # session, user, scope, case, notices marked read, departments (dispatch form), merge
    # candidates, photos, calendar revision, stage limits, timeline, timeline photos,
    # duplicates, unread count (bell), categories (recategorize form).
    with django_assert_num_queries(QUERIES_CASE):
        assert c.get(url).content.decode().count('href="/cases/') >= 3
    grow(3)
    with django_assert_num_queries(QUERIES_CASE):
        html = c.get(url).content.decode()
    assert html.count("又看到了") == 2 * 6  # in the timeline and among the sightings


QUERIES_CASE = 15


def test_it_says_why_in_chinese_when_refusing_the_wrong_person(
    worker: User, reported: Report
) -> None:
    response = _client(worker).post(reverse("reports:act", args=[reported.pk, "reject"]))
    assert response.status_code == 403
    assert "您无权对该案件执行“不予立案”" in response.content.decode()


def test_it_offers_a_form_for_every_workflow_action() -> None:
    # System-only transitions (resume, mark overdue) are taken by the sweeps, never on a page.
    for_people = {n for n, t in workflow.TRANSITIONS.items() if t.who is not workflow.nobody}
    assert {a.transition for a in ACTIONS.values()} == for_people


# -- merged duplicates and sightings ---------------------------------------------------------


def test_it_lists_merged_duplicates_and_links_only_those_the_viewer_may_open(
    worker: User, neighbour_worker: User, street_staff: User, city: City, catalog: Catalog,
    reported: Report,
) -> None:
    mine = file_report(worker, city, catalog.roof_tree, description="同一棵树，我又报了一次")
    theirs = file_report(
        neighbour_worker, city, catalog.roof_tree, description="隔壁网格看到的同一棵树",
        lng=117.1805, lat=39.105,
    )
    for dup in (mine, theirs):
        workflow.report_merge(dup, actor=street_staff, into=reported)

    staff_html = _client(street_staff).get(reverse("reports:detail", args=[reported.pk]))
    worker_html = _client(worker).get(reverse("reports:detail", args=[reported.pk]))

    staff_text, worker_text = staff_html.content.decode(), worker_html.content.decode()
    assert "已合并的重复上报（2）" in staff_text
    for dup in (mine, theirs):
        assert f'<a href="{reverse("reports:detail", args=[dup.pk])}">{dup.number}</a>' in (
            staff_text
        )
    # The worker of 第六网格 sees that 第五网格's report was merged, but gets no link to it.
    assert f'<a href="{reverse("reports:detail", args=[mine.pk])}">' in worker_text
    assert theirs.number in worker_text
    assert f'href="{reverse("reports:detail", args=[theirs.pk])}"' not in worker_text


def test_it_lists_sightings_with_note_photo_who_and_when(
    worker: User, street_staff: User, reported: Report
) -> None:
    services.report_add_sighting(
        reported, actor=worker, note="下午又长高了一些", photos=[jpeg()],
        idempotency_key="seen-1",
    )
    html = _client(street_staff).get(reverse("reports:detail", args=[reported.pk])).content.decode()
    section = html[html.index('id="duplicates"'):]
    section = section[: section.index("</section>")]
    assert "补充上报（我也看到了）（1）" in section
    assert "下午又长高了一些" in section and "张鑫" in section
    photo = reported.photos.order_by("-pk").first()
    assert reverse("reports:photo", args=[reported.pk, photo.pk]) + "?thumb=1" in section


def test_it_shows_no_duplicates_section_on_a_case_without_any(
    street_staff: User, reported: Report
) -> None:
    html = _client(street_staff).get(reverse("reports:detail", args=[reported.pk])).content.decode()
    assert 'id="duplicates"' not in html


def test_a_duplicate_from_another_grid_shows_only_its_number_and_time_on_the_masters_page(
    worker: User, neighbour_worker: User, street_staff: User, city: City, catalog: Catalog,
    reported: Report,
) -> None:
    theirs = file_report(
        neighbour_worker, city, catalog.roof_tree, description="隔壁网格看到的同一棵树",
        lng=117.1805, lat=39.105,
    )
    workflow.report_merge(theirs, actor=street_staff, into=reported)

    worker_text = _client(worker).get(
        reverse("reports:detail", args=[reported.pk])).content.decode()
    staff_text = _client(street_staff).get(
        reverse("reports:detail", args=[reported.pk])).content.decode()

    section = worker_text[worker_text.index('id="duplicates"'):]
    section = section[: section.index("</section>")]
    assert theirs.number in section and "不在您的查看范围内" in section
    for secret in ("隔壁网格看到的同一棵树", str(neighbour_worker), city.neighbour_grid.name):
        assert secret not in section
        assert secret in staff_text


def test_a_merged_case_links_to_its_master_only_for_whoever_may_open_it(
    worker: User, neighbour_worker: User, street_staff: User, city: City, catalog: Catalog,
    reported: Report,
) -> None:
    theirs = file_report(neighbour_worker, city, catalog.roof_tree, lng=117.1805, lat=39.105)
    workflow.report_merge(theirs, actor=street_staff, into=reported)
    master_url = reverse("reports:detail", args=[reported.pk])

    reporter_text = _client(neighbour_worker).get(
        reverse("reports:detail", args=[theirs.pk])).content.decode()
    staff_text = _client(street_staff).get(
        reverse("reports:detail", args=[theirs.pk])).content.decode()

    assert _client(neighbour_worker).get(master_url).status_code == 404
    assert f'href="{master_url}"' not in reporter_text
    assert reported.number in reporter_text and "不在您的查看范围内" in reporter_text
    assert f'<a href="{master_url}">{reported.number}</a>' in staff_text
