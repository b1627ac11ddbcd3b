"""The grid worker's phone pages as plain HTTP (no JavaScript): filing, self-handled,
my reports, the verify queue, nearby cases and sightings."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import User
from grids.models import Department
from reports import workflow
from reports.models import EventKind, Report, ReportEvent, ReportPhoto, State
from tests.conftest import City
from tests.factories import BuildingFactory, EntranceFactory
from tests.reports.conftest import Catalog, file_report, jpeg


def _client(user: User) -> Client:
    c = Client()
    c.force_login(user)
    return c


def _filing(catalog: Catalog, **over: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "idempotency_key": uuid.uuid4().hex,
        "lng": "117.175",
        "lat": "39.105",
        "category": catalog.garbage.pk,
        "urgency": "normal",
        "description": "路边垃圾堆放",
        "photos": [jpeg()],
    }
    data.update(over)
    return {k: v for k, v in data.items() if v is not None}


def _handled(city: City, catalog: Catalog, worker: User, street_staff: User,
             street_department: Department, street_handler: User, **kw: Any) -> Report:
    report = file_report(worker, city, catalog.garbage, photos=[jpeg()], **kw)
    workflow.report_accept(report, actor=street_staff)
    workflow.report_dispatch(report, actor=street_staff, department=street_department)
    workflow.report_acknowledge(report, actor=street_handler)
    workflow.report_handle(report, actor=street_handler, note="已清理", photos=[jpeg()])
    return report


# -- filing ------------------------------------------------------------------------------


def test_it_shows_the_filing_form_to_a_grid_worker(worker: User, catalog: Catalog) -> None:
    response = _client(worker).get(reverse("reports:file"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "上报问题" in body and 'capture="environment"' in body
    # The category picker's data carries full pinyin and initials of 暴露垃圾.
    assert "baolulaji" in body and "bllj" in body


def test_it_files_a_report_with_a_plain_post_and_redirects_to_my_reports(
    worker: User, catalog: Catalog, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = _client(worker).post(reverse("reports:file"), _filing(catalog))
    assert response.status_code == 302 and response["Location"] == reverse("reports:mine")
    report = Report.objects.get()
    assert report.grid.name == "第六网格" and report.category == catalog.garbage
    assert report.photos.count() == 1


def test_it_offers_the_entrances_of_my_grids_with_their_building(
    worker: User, city: City, catalog: Catalog
) -> None:
    b25 = BuildingFactory(grid=city.grid, number="25", name="25号楼", lng=117.175, lat=39.105)
    third = EntranceFactory(building=b25, number="3", name="3门")
    elsewhere = BuildingFactory(grid=city.neighbour_grid, number="9", lng=117.185, lat=39.105)
    EntranceFactory(building=elsewhere, number="1", name="邻网格1门")
    body = _client(worker).get(reverse("reports:file")).content.decode()
    assert f'<option value="{third.pk}" data-building="{b25.pk}">25号楼3门</option>' in body
    assert "邻网格1门" not in body


def test_it_files_a_report_at_the_entrance_the_worker_chose(
    worker: User, city: City, catalog: Catalog
) -> None:
    b25 = BuildingFactory(grid=city.grid, number="25", name="25号楼", lng=117.175, lat=39.105)
    third = EntranceFactory(building=b25, number="3", name="3门")
    response = _client(worker).post(
        reverse("reports:file"), _filing(catalog, entrance=third.pk)
    )
    assert response.status_code == 302
    report = Report.objects.get()
    assert report.entrance == third and report.building == b25  # the building follows


def test_it_refuses_an_entrance_of_another_building_and_saves_nothing(
    worker: User, city: City, catalog: Catalog
) -> None:
    b25 = BuildingFactory(grid=city.grid, number="25", name="25号楼", lng=117.175, lat=39.105)
    b26 = BuildingFactory(grid=city.grid, number="26", name="26号楼", lng=117.176, lat=39.105)
    third = EntranceFactory(building=b25, number="3", name="3门")
    response = _client(worker).post(
        reverse("reports:file"), _filing(catalog, building=b26.pk, entrance=third.pk)
    )
    assert response.status_code == 400
    assert "所选单元不属于该楼栋，请重新选择" in response.content.decode()
    assert Report.objects.count() == 0


def test_it_refuses_an_entrance_outside_my_grids(
    worker: User, city: City, catalog: Catalog
) -> None:
    elsewhere = BuildingFactory(grid=city.neighbour_grid, number="9", lng=117.185, lat=39.105)
    theirs = EntranceFactory(building=elsewhere, number="1", name="1门")
    response = _client(worker).post(reverse("reports:file"), _filing(catalog, entrance=theirs.pk))
    assert response.status_code == 400
    assert "请选择您负责网格内的单元" in response.content.decode()
    assert Report.objects.count() == 0


def test_it_answers_json_to_the_page_script(worker: User, catalog: Catalog) -> None:
    response = _client(worker).post(
        reverse("reports:file"), _filing(catalog), HTTP_ACCEPT="application/json"
    )
    assert response.status_code == 201
    assert response.json()["number"] == Report.objects.get().number


def test_it_makes_one_case_when_the_same_submission_is_sent_twice(
    worker: User, catalog: Catalog
) -> None:
    c = _client(worker)
    key = uuid.uuid4().hex
    first = c.post(reverse("reports:file"), _filing(catalog, idempotency_key=key),
                   HTTP_ACCEPT="application/json")
    second = c.post(reverse("reports:file"), _filing(catalog, idempotency_key=key),
                    HTTP_ACCEPT="application/json")
    assert first.json()["number"] == second.json()["number"]
    assert Report.objects.count() == 1


@pytest.mark.parametrize(
    ("missing", "message"),
    [
        ("photos", "请至少拍摄或选择一张现场照片"),
        ("category", "请选择问题类别"),
        ("description", "请填写问题描述"),
    ],
)
def test_it_re_renders_with_a_chinese_message_and_saves_nothing(
    worker: User, catalog: Catalog, missing: str, message: str
) -> None:
    response = _client(worker).post(reverse("reports:file"), _filing(catalog, **{missing: None}))
    assert response.status_code == 400
    assert message in response.content.decode()
    assert Report.objects.count() == 0 and ReportPhoto.objects.count() == 0


def test_it_refuses_a_point_outside_every_grid_with_a_chinese_message(
    worker: User, catalog: Catalog
) -> None:
    response = _client(worker).post(
        reverse("reports:file"), _filing(catalog, lng="100.0", lat="30.0")
    )
    assert response.status_code == 400
    assert "该位置不在任何网格内" in response.content.decode()
    assert Report.objects.count() == 0


def test_it_refuses_more_than_nine_photos(worker: User, catalog: Catalog) -> None:
    response = _client(worker).post(
        reverse("reports:file"), _filing(catalog, photos=[jpeg(f"{n}.jpg") for n in range(10)])
    )
    assert response.status_code == 400
    assert "最多上传 9 张照片" in response.content.decode()
    assert Report.objects.count() == 0


def test_it_refuses_a_standard_of_another_category(worker: User, catalog: Catalog) -> None:
    response = _client(worker).post(
        reverse("reports:file"), _filing(catalog, standard=catalog.manhole_missing.pk)
    )
    assert response.status_code == 400
    assert "立案条件与所选类别不符" in response.content.decode()
    assert Report.objects.count() == 0


def test_it_refuses_the_phone_pages_to_street_staff(street_staff: User, catalog: Catalog) -> None:
    assert _client(street_staff).get(reverse("reports:file")).status_code == 403


def test_it_refuses_filing_in_another_workers_grid(
    worker: User, catalog: Catalog, city: City
) -> None:
    response = _client(worker).post(
        reverse("reports:file"), _filing(catalog, lng="117.185", lat="39.105")
    )
    assert response.status_code == 400
    assert "您不能在该网格上报案件" in response.content.decode()
    assert Report.objects.count() == 0


# -- self-handled -----------------------------------------------------------------------------


def test_it_files_a_self_handled_case_closed(worker: User, catalog: Catalog) -> None:
    response = _client(worker).post(
        reverse("reports:self_handled"),
        {
            "idempotency_key": uuid.uuid4().hex, "lng": "117.175", "lat": "39.105",
            "category": catalog.garbage.pk, "description": "捡走了垃圾",
            "before_photos": [jpeg("b.jpg")], "after_photos": [jpeg("a.jpg")],
        },
    )
    assert response.status_code == 302
    report = Report.objects.get()
    assert report.state == State.CLOSED and report.self_handled
    assert sorted(report.photos.values_list("kind", flat=True)) == ["after", "before"]


def test_it_requires_the_after_photo_of_a_self_handled_case(
    worker: User, catalog: Catalog
) -> None:
    response = _client(worker).post(
        reverse("reports:self_handled"),
        {
            "idempotency_key": uuid.uuid4().hex, "lng": "117.175", "lat": "39.105",
            "category": catalog.garbage.pk, "description": "捡走了垃圾",
            "before_photos": [jpeg("b.jpg")],
        },
    )
    assert response.status_code == 400
    assert "请上传处置后照片" in response.content.decode()
    assert Report.objects.count() == 0


# -- my reports -----------------------------------------------------------------------


def test_it_lists_my_reports_with_state_and_time_left(
    worker: User, neighbour_worker: User, city: City, catalog: Catalog
) -> None:
    mine = file_report(worker, city, catalog.garbage, description="我的")
    file_report(neighbour_worker, city, catalog.garbage, description="别人的",
                lng=117.185, lat=39.105)
    body = _client(worker).get(reverse("reports:mine")).content.decode()
    assert mine.number in body and "待立案" in body and "剩余" in body
    assert "别人的" not in body


@pytest.mark.parametrize("n", [3, 6])
def test_it_lists_my_reports_in_a_fixed_number_of_queries(
    worker: User, city: City, catalog: Catalog, django_assert_num_queries: Any, n: int
) -> None:
    for _ in range(n):
        file_report(worker, city, catalog.garbage)
    c = _client(worker)
    # session, user, scope (assignments), filing grids, reports with category/department/
    # standard, their count (bounded), calendar revision, stage limits, unread notices (bell).
    with django_assert_num_queries(9):
        assert c.get(reverse("reports:mine")).status_code == 200


# -- verify queue --------------------------------------------------------------------------


@pytest.fixture
def handled(city: City, catalog: Catalog, worker: User, street_staff: User,
            street_department: Department, street_handler: User) -> Report:
    return _handled(city, catalog, worker, street_staff, street_department, street_handler)


def test_it_lists_handled_cases_of_my_grid_to_verify(
    worker: User, neighbour_worker: User, handled: Report
) -> None:
    assert handled.number in _client(worker).get(reverse("reports:verify_queue")).content.decode()
    other = _client(neighbour_worker).get(reverse("reports:verify_queue")).content.decode()
    assert handled.number not in other


def test_it_passes_the_check(worker: User, handled: Report) -> None:
    response = _client(worker).post(
        reverse("reports:verify_case", args=[handled.pk]), {"result": "pass"}
    )
    assert response.status_code == 302
    handled.refresh_from_db()
    assert handled.state == State.VERIFIED


def test_it_sends_back_for_rework_with_a_reason_and_a_photo(
    worker: User, handled: Report
) -> None:
    response = _client(worker).post(
        reverse("reports:verify_case", args=[handled.pk]),
        {"result": "fail", "note": "垃圾还在", "photos": [jpeg()]},
    )
    assert response.status_code == 302
    handled.refresh_from_db()
    assert handled.state == State.ACKNOWLEDGED and handled.rework_count == 1
    assert handled.photos.filter(kind="verify").count() == 1


def test_it_requires_a_reason_and_a_photo_to_fail_the_check(
    worker: User, handled: Report
) -> None:
    response = _client(worker).post(
        reverse("reports:verify_case", args=[handled.pk]), {"result": "fail"}
    )
    body = response.content.decode()
    assert response.status_code == 400
    assert "核查不通过时请说明问题" in body and "核查不通过时请上传现场照片" in body
    handled.refresh_from_db()
    assert handled.state == State.HANDLED


def test_it_hides_another_grids_case_from_the_verify_form(
    neighbour_worker: User, handled: Report
) -> None:
    response = _client(neighbour_worker).post(
        reverse("reports:verify_case", args=[handled.pk]), {"result": "pass"}
    )
    assert response.status_code == 404
    handled.refresh_from_db()
    assert handled.state == State.HANDLED


@pytest.mark.parametrize("n", [2, 4])
def test_it_lists_the_verify_queue_in_a_fixed_number_of_queries(
    city: City, catalog: Catalog, worker: User, street_staff: User,
    street_department: Department, street_handler: User,
    django_assert_num_queries: Any, n: int,
) -> None:
    for _ in range(n):
        _handled(city, catalog, worker, street_staff, street_department, street_handler)
    c = _client(worker)
    # session, user, scope, filing grids, cases, their result photos, calendar revision,
    # stage limits, unread notices (bell).
    with django_assert_num_queries(9):
        assert c.get(reverse("reports:verify_queue")).status_code == 200


# -- nearby and sightings -------------------------------------------------------------------


def _nearby(user: User, catalog: Catalog, lng: float = 117.175, lat: float = 39.105) -> Any:
    return _client(user).get(
        reverse("reports:nearby"), {"category": catalog.garbage.pk, "lng": lng, "lat": lat}
    )


def test_it_shows_open_cases_of_the_same_category_within_the_radius(
    worker: User, city: City, catalog: Catalog
) -> None:
    near = file_report(worker, city, catalog.garbage, lng=117.1753, lat=39.105)  # ~26 m
    file_report(worker, city, catalog.garbage, lng=117.1765, lat=39.105)  # ~130 m
    file_report(worker, city, catalog.roof_tree, lng=117.175, lat=39.105)  # other category
    body = _nearby(worker, catalog).json()
    assert [r["number"] for r in body["reports"]] == [near.number]
    assert body["reports"][0]["distance_m"] == 26


def test_it_uses_the_categorys_own_radius(worker: User, city: City, catalog: Catalog) -> None:
    catalog.garbage.nearby_radius_m = 200
    catalog.garbage.save()
    file_report(worker, city, catalog.garbage, lng=117.1765, lat=39.105)  # ~130 m
    assert len(_nearby(worker, catalog).json()["reports"]) == 1


def test_it_does_not_show_cases_the_worker_cannot_see(
    worker: User, neighbour_worker: User, city: City, catalog: Catalog
) -> None:
    # On the border of 第五网格, 10 m from a point just inside 第六网格.
    file_report(neighbour_worker, city, catalog.garbage, lng=117.1801, lat=39.105)
    assert _nearby(worker, catalog, lng=117.1799).json()["reports"] == []


def test_it_refuses_bad_nearby_coordinates(worker: User, catalog: Catalog) -> None:
    response = _nearby(worker, catalog, lng=500)
    assert response.status_code == 400
    assert response.json()["error"] == "请提供类别和有效的经纬度"


@pytest.mark.parametrize("n", [2, 4])
def test_it_answers_nearby_in_a_fixed_number_of_queries(
    worker: User, city: City, catalog: Catalog, django_assert_num_queries: Any, n: int
) -> None:
    for _ in range(n):
        file_report(worker, city, catalog.garbage, lng=117.1751, lat=39.105, photos=[jpeg()])
    c = _client(worker)
    # session, user, category (form), scope, cases, their first photos.
    with django_assert_num_queries(6):
        body = c.get(
            reverse("reports:nearby"),
            {"category": catalog.garbage.pk, "lng": 117.175, "lat": 39.105},
        ).json()
    assert len(body["reports"]) == n


def test_it_adds_a_sighting_to_a_case_once(worker: User, city: City, catalog: Catalog) -> None:
    report = file_report(worker, city, catalog.garbage)
    c = _client(worker)
    data = {"idempotency_key": "sight-1", "note": "今天又看到了"}
    for _ in range(2):
        response = c.post(reverse("reports:sighting", args=[report.pk]),
                          {**data, "photos": [jpeg()]}, HTTP_ACCEPT="application/json")
        assert response.status_code == 201
    event = ReportEvent.objects.get(report=report, kind=EventKind.SIGHTING)
    assert event.note == "今天又看到了" and event.photos.count() == 1
    report.refresh_from_db()
    assert report.state == State.REPORTED and Report.objects.count() == 1


def test_it_hides_another_grids_case_from_the_sighting_endpoint(
    worker: User, neighbour_worker: User, city: City, catalog: Catalog
) -> None:
    report = file_report(worker, city, catalog.garbage)
    response = _client(neighbour_worker).post(
        reverse("reports:sighting", args=[report.pk]),
        {"idempotency_key": "x", "note": "我也看到了"},
    )
    assert response.status_code == 404
    assert not ReportEvent.objects.filter(kind=EventKind.SIGHTING).exists()


def test_it_refuses_a_sighting_on_a_closed_case(worker: User, city: City, catalog: Catalog,
                                               street_staff: User) -> None:
    report = file_report(worker, city, catalog.garbage)
    workflow.report_reject(report, actor=street_staff, reason="重复")
    response = _client(worker).post(
        reverse("reports:sighting", args=[report.pk]),
        {"idempotency_key": "x", "note": "还在"}, HTTP_ACCEPT="application/json",
    )
    assert response.status_code == 400
    assert response.json()["errors"]["__all__"] == ["该案件已办结，请重新上报"]


def test_it_serves_the_service_worker_from_the_root(client: Client) -> None:
    response = client.get("/sw.js")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    assert "/static/js/file.js" in response.content.decode()


# -- the filing map ----------------------------------------------------------------------


def test_it_gives_the_filing_map_the_workers_grid_and_its_buildings(
    worker: User, city: City, catalog: Catalog
) -> None:
    BuildingFactory(grid=city.grid, name="25号楼<b>", lng=117.175, lat=39.105)
    BuildingFactory(grid=city.neighbour_grid, name="邻格楼", lng=117.18, lat=39.1)
    response = _client(worker).get(reverse("reports:file"))
    body = response.content.decode()
    features = [
        (f["properties"]["kind"], f["properties"]["name"])
        for f in response.context["grid_map"]["features"]
    ]
    assert features == [("own", city.grid.name), ("building", "25号楼<b>")]
    assert 'id="grid-map"' in body and "\\u003Cb\\u003E" in body and "<b>" not in body
    assert "/static/js/region-layer.js" in body


def test_it_gives_the_self_handled_map_the_workers_grid(worker: User, city: City) -> None:
    response = _client(worker).get(reverse("reports:self_handled"))
    kinds = [f["properties"]["kind"] for f in response.context["grid_map"]["features"]]
    assert kinds == ["own"]


def test_it_finds_my_closed_and_older_cases_by_state_and_date(
    worker: User, city: City, catalog: Catalog, street_staff: User
) -> None:
    from datetime import timedelta

    from django.utils import timezone

    open_case = file_report(worker, city, catalog.garbage)
    rejected = workflow.report_reject(
        file_report(worker, city, catalog.garbage), actor=street_staff, reason="不属实"
    )
    old = file_report(worker, city, catalog.garbage)
    Report.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=90))
    c = _client(worker)
    url = reverse("reports:mine")
    html = c.get(url, {"state": "rejected"}).content.decode()
    assert rejected.number in html and open_case.number not in html
    since = (timezone.localdate() - timedelta(days=30)).isoformat()
    html = c.get(url, {"created_after": since}).content.decode()
    assert open_case.number in html and old.number not in html


def test_it_pages_my_reports_past_the_first_fifty(
    worker: User, city: City, catalog: Catalog
) -> None:
    first = file_report(worker, city, catalog.garbage)
    for _ in range(50):
        file_report(worker, city, catalog.garbage)
    c = _client(worker)
    assert first.number not in c.get(reverse("reports:mine")).content.decode()
    assert first.number in c.get(reverse("reports:mine"), {"page": 2}).content.decode()
