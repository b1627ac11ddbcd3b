"""Admin: catalogue and rule import/export pages, 规则检查, 试分拨, and the read-only cases."""

from __future__ import annotations

import io
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from unittest import mock
from zoneinfo import ZoneInfo

import openpyxl
import pytest
import time_machine
from django.contrib.auth.models import Permission
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.urls import reverse
from PIL import Image

from accounts.models import User
from grids.models import Department, Role
from reports import catalog as catalog_service
from reports.admin import cases as reports_admin
from reports.catalog import cached_rule_table, import_rules
from reports.models import (
    Category,
    FilingStandard,
    Report,
    ReportEvent,
    ReportPhoto,
    RoutingRule,
    StageLimit,
)
from tests.conftest import City
from tests.factories import DepartmentFactory, UserFactory, assign
from tests.reports.conftest import Catalog, jpeg

CATALOG_HEADER = (
    "type,code,parent_code,name,kind,keywords,limit_amount,limit_unit,closing_condition,"
    "urgent,sort,active"
)
# The time-left colours depend on the working hours left: tests that read them run on a
# fixed working morning, never on the day the suite happens to run.
WEDNESDAY_MORNING = datetime(2026, 6, 10, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
RULE_HEADER = (
    "category_code,region_code,department_code,level,mode,priority,active,valid_from,"
    "valid_until,note"
)


def upload(name: str, text: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode("utf-8"), content_type="text/csv")


def page(client: Client, url: str, **params: str) -> str:
    response = client.get(url, params)
    assert response.status_code == 200
    text = response.content.decode()
    assert "INVALID_TEMPLATE_VARIABLE" not in text
    return text


@pytest.fixture
def admin_client_(client: Client, admin_user: User) -> Client:
    client.force_login(admin_user)
    return client


@pytest.fixture
def staff(city: City) -> User:
    """Staff with every reports permission, but not a superuser."""
    user = UserFactory(username="staff", full_name="区管理员", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(content_type__app_label="reports"))
    assign(user, Role.STREET_STAFF, region=city.other_street)
    return user


@pytest.fixture
def team(city: City) -> Department:
    return DepartmentFactory(code="WX-ZFD", name="万兴街道综合执法大队", region=city.street)


def add_rules(city: City, *lines: str) -> None:
    import_rules(("\n".join([RULE_HEADER, *lines]) + "\n").encode(), fmt="csv")


# --- catalogue import / export --------------------------------------------------------


def test_it_imports_a_catalogue(admin_client_: Client, db: None) -> None:
    text = "\n".join([
        CATALOG_HEADER,
        "major,03,,园林绿化,component,,,,,,1,1",
        "minor,0301,03,毁绿种菜,event,种菜,,,,,1,1",
        "standard,0301-1,0301,公共绿地被开垦种菜,,,5,working_days,恢复绿化,0,1,",
    ])

    response = admin_client_.post(
        reverse("admin:reports_category_import"), {"file": upload("c.csv", text)}, follow=True
    )

    assert response.redirect_chain[-1][0] == reverse("admin:reports_category_changelist")
    assert "导入完成：新建 3" in response.content.decode()
    assert Category.objects.get(code="0301").parent.name == "园林绿化"


def test_it_lists_the_bad_rows_and_imports_nothing(admin_client_: Client, db: None) -> None:
    text = "\n".join([
        CATALOG_HEADER,
        "major,03,,园林绿化,component,,,,,,1,1",
        "minor,0301,09,毁绿种菜,event,,,,,,1,1",
        "standard,0301-1,0301,种菜,,,5,weeks,恢复绿化,0,1,",
    ])

    response = admin_client_.post(
        reverse("admin:reports_category_import"), {"file": upload("c.csv", text)}
    )

    body = response.content.decode()
    assert response.status_code == 200
    assert "第4行：时限单位“weeks”无效" in body
    assert "第3行：上级大类“09”不存在" in body
    assert not Category.objects.exists()


def test_it_exports_the_catalogue_as_xlsx(admin_client_: Client, catalog: Catalog) -> None:
    response = admin_client_.get(reverse("admin:reports_category_export"), {"format": "xlsx"})

    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    assert [c.value for c in sheet[1]] == CATALOG_HEADER.split(",")
    assert sheet.max_row == 1 + 6 + 4


@pytest.mark.parametrize(
    "name", ["admin:reports_category_import", "admin:reports_routingrule_import"]
)
def test_staff_who_are_not_superusers_may_not_import(
    client: Client, staff: User, name: str
) -> None:
    client.force_login(staff)
    text = "\n".join([CATALOG_HEADER, "major,03,,园林绿化,component,,,,,,1,1"])

    get = client.get(reverse(name))
    post = client.post(reverse(name), {"file": upload("c.csv", text)})

    assert (get.status_code, post.status_code) == (403, 403)
    assert not Category.objects.exists()


def test_the_import_buttons_are_hidden_from_staff(client: Client, staff: User) -> None:
    client.force_login(staff)

    body = page(client, reverse("admin:reports_routingrule_changelist"))

    assert reverse("admin:reports_routingrule_import") not in body
    assert reverse("admin:reports_routingrule_check") in body


# --- rules ----------------------------------------------------------------------------


def test_the_rules_import_page_names_the_bad_rows(
    admin_client_: Client, city: City, catalog: Catalog, team: Department
) -> None:
    text = "\n".join([
        RULE_HEADER,
        f"01,{city.street.code},WX-ZFD,street,auto,0,1,,,",
        f"01,{city.street.code},WX-ZFD,district,auto,0,1,,,",
    ])

    response = admin_client_.post(
        reverse("admin:reports_routingrule_import"), {"file": upload("r.csv", text)}
    )

    assert "第3行：派遣层级为区级（district）" in response.content.decode()
    assert not RoutingRule.objects.exists()


def test_the_rule_form_refuses_a_department_of_the_wrong_level(
    admin_client_: Client, city: City, catalog: Catalog, team: Department
) -> None:
    response = admin_client_.post(reverse("admin:reports_routingrule_add"), {
        "category": catalog.roof_tree.pk, "region": city.district.pk, "department": team.pk,
        "level": "district", "mode": "propose", "priority": 0, "is_active": "on",
    })

    assert response.status_code == 200
    assert "须为区级或市级部门" in response.content.decode()
    assert not RoutingRule.objects.exists()


def test_the_check_page_lists_conflicts_and_gaps(
    admin_client_: Client, city: City, catalog: Catalog, team: Department
) -> None:
    DepartmentFactory(code="WX-CJB", name="万兴街道城建科", region=city.street)
    add_rules(
        city,
        f"01,{city.street.code},WX-ZFD,street,auto,0,1,,,",
        f"01,{city.street.code},WX-CJB,street,propose,0,1,,,",
    )

    body = page(admin_client_, reverse("admin:reports_routingrule_check"))

    assert "规则冲突：1 组" in body
    assert "万兴街道城建科（街道处置，建议派遣）" in body
    assert "公用设施›井盖、房屋安全›楼顶杂树" in body


def test_dry_run_by_grid_code_shows_the_rule_and_why(
    admin_client_: Client, city: City, catalog: Catalog, team: Department
) -> None:
    add_rules(
        city,
        f"01,{city.street.code},WX-ZFD,street,auto,0,1,,,",
        f"0101,{city.district.code},{city.department.code},district,propose,0,1,,,",
    )
    street_rule = RoutingRule.objects.get(department=team)

    body = page(admin_client_, reverse("admin:reports_routingrule_dry_run"),
                category=str(catalog.garbage.pk), region_code=city.grid.code)

    link = reverse("admin:reports_routingrule_change", args=[street_rule.pk])
    assert f'命中规则 <a href="{link}">#{street_rule.pk}</a>' in body
    assert f"规则#{street_rule.pk}：区划 万兴街道（街道级，上溯2层）" in body
    assert "被更具体或优先级更高的规则覆盖" in body  # the district rule it beat


def test_dry_run_by_position_finds_the_grid(
    admin_client_: Client, city: City, catalog: Catalog
) -> None:
    add_rules(city, f"0501,{city.district.code},{city.department.code},district,propose,0,1,,,")

    body = page(admin_client_, reverse("admin:reports_routingrule_dry_run"),
                category=str(catalog.roof_tree.pk), lng="117.175", lat="39.105")

    assert "天津市›南开区›万兴街道›天大北五村社区›第六网格" in body
    assert "南开区城管委（区级，建议派遣）" in body


def test_dry_run_says_when_no_rule_matches(
    admin_client_: Client, city: City, catalog: Catalog
) -> None:
    body = page(admin_client_, reverse("admin:reports_routingrule_dry_run"),
                category=str(catalog.manhole.pk), region_code=city.other_grid.code)

    assert "没有匹配的规则：案件由街道中心人工分拨" in body


def test_dry_run_refuses_a_point_outside_every_grid(
    admin_client_: Client, city: City, catalog: Catalog
) -> None:
    body = page(admin_client_, reverse("admin:reports_routingrule_dry_run"),
                category=str(catalog.manhole.pk), lng="100", lat="30")

    assert "该位置不在任何网格内" in body
    assert "dry-run-result" not in body


def test_the_catalogue_pages_render(admin_client_: Client, catalog: Catalog) -> None:
    listing = page(admin_client_, reverse("admin:reports_category_changelist"))
    minor = page(admin_client_, reverse("admin:reports_category_change",
                                        args=[catalog.manhole.pk]))

    assert "　└ 井盖" in listing
    assert "井盖破损" in minor
    page(admin_client_, reverse("admin:reports_filingstandard_changelist"))
    page(admin_client_, reverse("admin:reports_stagelimit_changelist"))
    page(admin_client_, reverse("admin:reports_routingrule_changelist"))
    page(admin_client_, reverse("admin:reports_routingrule_add"))
    page(admin_client_, reverse("admin:reports_routingrule_dry_run"))


# --- cases ----------------------------------------------------------------------------


def make_report(city: City, category: Category, reporter: User, number: str) -> Report:
    report = Report.objects.create(
        number=number, state="reported", reporter=reporter, idempotency_key=uuid.uuid4().hex,
        grid=city.grid, community=city.community, street=city.street, district=city.district,
        category=category, description="楼顶有一棵小树",
    )
    ReportEvent.objects.create(report=report, kind="filed", actor=reporter, to_state="reported",
                               note="网格员上报")
    return report


def test_the_case_list_and_timeline_are_read_only(
    admin_client_: Client, city: City, catalog: Catalog, admin_user: User
) -> None:
    report = make_report(city, catalog.roof_tree, admin_user, "NK20260101-0001")
    change_url = reverse("admin:reports_report_change", args=[report.pk])

    listing = page(admin_client_, reverse("admin:reports_report_changelist"))
    detail = page(admin_client_, change_url)
    add = admin_client_.get(reverse("admin:reports_report_add"))
    post = admin_client_.post(change_url, {"description": "改掉"})
    delete = admin_client_.post(reverse("admin:reports_report_delete", args=[report.pk]),
                                {"post": "yes"})

    assert "NK20260101-0001" in listing
    assert "网格员上报" in detail
    assert 'name="_save"' not in detail
    assert (add.status_code, post.status_code, delete.status_code) == (403, 403, 403)
    report.refresh_from_db()
    assert report.description == "楼顶有一棵小树"


def test_staff_see_only_the_cases_in_their_scope(
    client: Client, city: City, catalog: Catalog, staff: User, admin_user: User
) -> None:
    mine = make_report(city, catalog.garbage, admin_user, "HP-0001")
    mine.grid, mine.community, mine.street, mine.district = (
        city.other_grid, city.other_community, city.other_street, city.other_district
    )
    mine.save()
    theirs = make_report(city, catalog.garbage, admin_user, "NK-0002")
    client.force_login(staff)

    listing = page(client, reverse("admin:reports_report_changelist"))
    hidden = client.get(reverse("admin:reports_report_change", args=[theirs.pk]))

    assert "HP-0001" in listing
    assert "NK-0002" not in listing
    assert hidden.status_code == 302  # the admin's "does not exist" redirect


def test_the_case_list_costs_the_same_at_n_and_2n_rows(
    admin_client_: Client, city: City, catalog: Catalog, admin_user: User,
    django_assert_num_queries: object,
) -> None:
    url = reverse("admin:reports_report_changelist")
    for i in range(5):
        make_report(city, catalog.garbage, admin_user, f"A-{i}")
    admin_client_.get(url)  # warm the session and content types

    # session, user, the paginator's count, the page of cases with category (and its
    # major), street, department and standard joined; the calendar's revision and the
    # stage limits for the time-left column (once per page, not per row).
    with django_assert_num_queries(6) as small:  # type: ignore[operator]
        admin_client_.get(url)
    for i in range(5, 10):
        make_report(city, catalog.garbage, admin_user, f"A-{i}")
    with django_assert_num_queries(len(small.captured_queries)):  # type: ignore[operator]
        admin_client_.get(url)


def test_the_demo_sends_the_roof_tree_to_the_district(admin_client_: Client) -> None:
    call_command("load_demo", "--quiet-logins", stdout=io.StringIO())
    call_command("load_demo_reports", stdout=io.StringIO())
    roof_tree = Category.objects.get(name="楼顶杂树")

    body = page(admin_client_, reverse("admin:reports_routingrule_dry_run"),
                category=str(roof_tree.pk), region_code="120104005035006")
    check = page(admin_client_, reverse("admin:reports_routingrule_check"))

    assert "区划 南开区（区级，上溯3层） × 类别 房屋安全›楼顶杂树（小类） → 南开区城管委" in body
    assert "规则冲突：0 组" in check


# --- the case change page: timeline, labels, photos -----------------------------------


def test_the_timeline_header_names_the_event_in_chinese_at_local_time(
    admin_client_: Client, city: City, catalog: Catalog, admin_user: User
) -> None:
    report = make_report(city, catalog.roof_tree, admin_user, "NK20260101-0002")
    ReportEvent.objects.filter(report=report).update(at=datetime(2026, 1, 1, 1, 5, tzinfo=UTC))

    detail = page(admin_client_, reverse("admin:reports_report_change", args=[report.pk]))

    assert "上报 2026-01-01 09:05" in detail  # 01:05 UTC is 09:05 in Beijing
    assert "filed 2026" not in detail
    assert "01:05" not in detail


def test_every_field_of_the_case_page_has_a_chinese_label(
    admin_client_: Client, city: City, catalog: Catalog, admin_user: User
) -> None:
    report = make_report(city, catalog.roof_tree, admin_user, "NK20260101-0003")

    detail = page(admin_client_, reverse("admin:reports_report_change", args=[report.pk]))

    for label in ("分拨版本", "已分拨版本", "超期通知时间"):
        assert label in detail
    for english in ("Route version", "Routed version", "Overdue notified at"):
        assert english not in detail


def test_the_case_page_shows_its_photos_linking_to_full_size(
    client: Client, admin_client_: Client, city: City, catalog: Catalog, admin_user: User,
    staff: User,
) -> None:
    report = make_report(city, catalog.roof_tree, admin_user, "NK20260101-0004")
    uploader = UserFactory(username="wgy", full_name="网格员小王")
    photo = ReportPhoto.objects.create(
        report=report, kind="before", image=jpeg("before.jpg", (640, 480)),
        thumbnail=jpeg("before-thumb.jpg", (64, 48)), uploaded_by=uploader,
    )
    full = reverse("admin:reports_report_photo", args=[report.pk, photo.pk, "full"])
    thumb = reverse("admin:reports_report_photo", args=[report.pk, photo.pk, "thumb"])

    detail = page(admin_client_, reverse("admin:reports_report_change", args=[report.pk]))
    full_image = admin_client_.get(full)
    thumb_image = admin_client_.get(thumb)
    client.force_login(staff)  # another street's staff
    hidden = client.get(full)

    assert f'href="{full}"' in detail
    assert f'src="{thumb}"' in detail
    assert "处置前" in detail
    assert "网格员小王" in detail
    assert full_image.status_code == 200
    assert full_image["Content-Type"] == "image/jpeg"
    assert Image.open(io.BytesIO(b"".join(full_image.streaming_content))).size == (640, 480)
    assert Image.open(io.BytesIO(b"".join(thumb_image.streaming_content))).size == (64, 48)
    assert hidden.status_code == 404


def test_limits_print_without_an_exponent(
    admin_client_: Client, catalog: Catalog
) -> None:
    standard = FilingStandard.objects.create(
        category=catalog.roof_tree, code="T-10", condition="十天条件",
        limit_amount=Decimal("10.00"), limit_unit="working_days", closing_condition="清除",
    )
    stage = StageLimit.objects.get(stage="accept")
    stage.amount = Decimal("100.00")
    stage.save()

    listing = page(admin_client_, reverse("admin:reports_filingstandard_changelist"))

    assert str(standard) == "十天条件（10工作日）"
    assert str(stage).endswith("：100" + stage.get_unit_display())
    assert "10 工作日" in listing
    assert "E+" not in listing


# --- catalogue and rule saves go through reports.catalog --------------------------------


def test_a_rule_saved_in_the_admin_reaches_the_cached_table_and_warns_of_a_conflict(
    admin_client_: Client, city: City, catalog: Catalog, team: Department
) -> None:
    other = DepartmentFactory(code="WX-CJB", name="万兴街道城建科", region=city.street)
    add_rules(city, f"01,{city.street.code},WX-ZFD,street,auto,0,1,,,")
    before = cached_rule_table()

    with mock.patch("reports.catalog.rule_save", wraps=catalog_service.rule_save) as spy:
        response = admin_client_.post(reverse("admin:reports_routingrule_add"), {
            "category": catalog.cityscape.pk, "region": city.street.pk,
            "department": other.pk, "level": "street", "mode": "propose", "priority": 0,
            "is_active": "on",
        }, follow=True)

    after = cached_rule_table()
    assert response.status_code == 200
    assert after is not before
    assert {r.department_id for r in after.rules} == {team.pk, other.pk}
    assert "规则表中有 1 组冲突" in response.content.decode()
    spy.assert_called_once()


def test_the_category_page_saves_filing_standards_through_the_service(
    admin_client_: Client, catalog: Catalog
) -> None:
    minor = catalog.roof_tree
    data = {
        "code": minor.code, "name": minor.name, "kind": minor.kind,
        "parent": minor.parent_id, "keywords": "", "sort": "0", "is_active": "on",
        "standards-TOTAL_FORMS": "1", "standards-INITIAL_FORMS": "0",
        "standards-0-code": "05-NEW", "standards-0-condition": "新增条件",
        "standards-0-limit_amount": "3", "standards-0-limit_unit": "working_days",
        "standards-0-closing_condition": "清除", "standards-0-sort": "0",
    }

    with mock.patch(
        "reports.catalog.standard_save", wraps=catalog_service.standard_save
    ) as standard_spy, mock.patch(
        "reports.catalog.category_save", wraps=catalog_service.category_save
    ) as category_spy:
        response = admin_client_.post(
            reverse("admin:reports_category_change", args=[minor.pk]), data
        )

    assert response.status_code == 302
    assert str(FilingStandard.objects.get(code="05-NEW")) == "新增条件（3工作日）"
    standard_spy.assert_called_once()
    category_spy.assert_called_once()


def test_the_catalogue_service_refuses_a_standard_on_a_major(catalog: Catalog) -> None:
    standard = FilingStandard(
        category=catalog.housing, code="05-X", condition="大类条件",
        limit_amount=Decimal("1"), limit_unit="working_days", closing_condition="清除",
    )

    with pytest.raises(ValidationError, match="立案条件只能属于小类"):
        catalog_service.standard_save(standard=standard)
    assert not FilingStandard.objects.filter(code="05-X").exists()


def test_rules_deleted_in_bulk_in_the_admin_go_through_the_service(
    admin_client_: Client, city: City, catalog: Catalog, team: Department
) -> None:
    add_rules(city, f"01,{city.street.code},WX-ZFD,street,auto,0,1,,,")
    rule = RoutingRule.objects.get()
    assert len(cached_rule_table().rules) == 1

    with mock.patch("reports.catalog.rule_delete", wraps=catalog_service.rule_delete) as spy:
        response = admin_client_.post(reverse("admin:reports_routingrule_changelist"), {
            "action": "delete_selected", "_selected_action": [rule.pk], "post": "yes",
        })

    assert response.status_code == 302
    assert not RoutingRule.objects.exists()
    assert cached_rule_table().rules == ()
    spy.assert_called_once()
def test_the_case_list_shows_the_newest_first(
    admin_client_: Client, city: City, catalog: Catalog, admin_user: User
) -> None:
    old = make_report(city, catalog.garbage, admin_user, "NK-20260101-0001")
    new = make_report(city, catalog.garbage, admin_user, "NK-20260102-0001")
    Report.objects.filter(pk=old.pk).update(created_at=new.created_at - timedelta(days=1))

    listing = page(admin_client_, reverse("admin:reports_report_changelist"))

    assert listing.index("NK-20260102-0001") < listing.index("NK-20260101-0001")


@pytest.mark.parametrize(
    ("term", "found"),
    [
        ("NK-20260102-0001", ["NK-20260102-0001"]),
        ("nk-20260102-0001 ", ["NK-20260102-0001"]),
        ("NK-202601", ["NK-20260101-0001", "NK-20260101-0002", "NK-20260102-0001"]),
        ("NK-20260101", ["NK-20260101-0001", "NK-20260101-0002"]),
        ("20260101", []),
        ("NK-2026%", []),
    ],
)
def test_it_finds_cases_by_exact_number_or_prefix(
    admin_client_: Client, city: City, catalog: Catalog, admin_user: User, term: str,
    found: list[str],
) -> None:
    for number in ("NK-20260101-0001", "NK-20260101-0002", "NK-20260102-0001", "HP-20260101-0001"):
        make_report(city, catalog.garbage, admin_user, number)

    listing = page(admin_client_, reverse("admin:reports_report_changelist"), q=term)

    shown = sorted(n for n in ("NK-20260101-0001", "NK-20260101-0002", "NK-20260102-0001",
                               "HP-20260101-0001") if f">{n}<" in listing)
    assert shown == found


def test_a_search_never_shows_cases_out_of_scope(
    client: Client, city: City, catalog: Catalog, staff: User, admin_user: User
) -> None:
    make_report(city, catalog.garbage, admin_user, "NK-20260101-0001")
    client.force_login(staff)

    listing = page(client, reverse("admin:reports_report_changelist"), q="NK-20260101-0001")

    assert ">NK-20260101-0001<" not in listing
    assert "0 条结果" in listing


def test_the_count_stops_at_the_cap(
    admin_client_: Client, city: City, catalog: Catalog, admin_user: User,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(reports_admin, "COUNT_CAP", 3)
    for i in range(5):
        make_report(city, catalog.garbage, admin_user, f"NK-20260101-000{i}")

    if connection.vendor == "postgresql":
        # Above the cap PostgreSQL's own estimate of the table is shown; ANALYZE sets it
        # (statistics outlive a test's rolled-back transaction, so set them here).
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE reports_report")
        total = "5 案件"
    else:
        total = "3 案件"  # SQLite has no planner estimate: the list stops at the cap

    capped = page(admin_client_, reverse("admin:reports_report_changelist"))
    exact = page(admin_client_, reverse("admin:reports_report_changelist"), q="NK-20260101-0001")

    assert total in capped
    assert "1 案件" in exact


def test_the_case_list_only_sorts_by_indexed_columns(
    admin_client_: Client, city: City, catalog: Catalog, admin_user: User
) -> None:
    make_report(city, catalog.garbage, admin_user, "NK-20260101-0001")

    listing = page(admin_client_, reverse("admin:reports_report_changelist"))

    # number and created_at headers are links that sort; state, category … are not.
    assert listing.count('class="sortable') == 2


def test_a_centers_case_list_costs_the_same_at_n_and_2n_rows(
    client: Client, city: City, catalog: Catalog, staff: User, admin_user: User,
    django_assert_num_queries: object,
) -> None:
    def add(i: int) -> None:
        report = make_report(city, catalog.garbage, admin_user, f"HP-{i}")
        Report.objects.filter(pk=report.pk).update(
            grid=city.other_grid, community=city.other_community, street=city.other_street,
            district=city.other_district,
        )

    url = reverse("admin:reports_report_changelist")
    for i in range(5):
        add(i)
    client.force_login(staff)
    client.get(url)

    # session, user, the staff member's user and group permissions, assignments (scope),
    # "did they file cases outside their street?", the capped count, the page, the
    # calendar's revision and the stage limits.
    with django_assert_num_queries(10) as small:  # type: ignore[operator]
        response = client.get(url)
    for i in range(5, 10):
        add(i)
    with django_assert_num_queries(len(small.captured_queries)):  # type: ignore[operator]
        again = client.get(url)

    assert response.content.decode().count(">HP-") == 5
    assert again.content.decode().count(">HP-") == 10


def test_a_center_still_lists_a_case_it_filed_outside_its_street(
    client: Client, city: City, catalog: Catalog, staff: User, admin_user: User
) -> None:
    # Filed while the staff member worked in 万兴街道; they have moved to 新兴街道 since.
    make_report(city, catalog.garbage, staff, "NK-20260101-0001")
    make_report(city, catalog.garbage, admin_user, "NK-20260101-0002")
    client.force_login(staff)

    listing = page(client, reverse("admin:reports_report_changelist"))

    assert ">NK-20260101-0001<" in listing
    assert ">NK-20260101-0002<" not in listing


@pytest.mark.parametrize("state", ["reported", "accepted", "dispatched", "acknowledged",
                                   "handled"])
@time_machine.travel(WEDNESDAY_MORNING, tick=False)
def test_the_time_left_column_costs_no_query_per_row_in_any_stage(
    admin_client_: Client, city: City, catalog: Catalog, admin_user: User, state: str,
    django_assert_num_queries: object,
) -> None:
    # The list reads only some columns of a case; a column that the time-left clock
    # needs and the list does not read (say, when handling began) is loaded row by row.
    now = datetime.now(UTC)

    def add(i: int) -> None:
        report = make_report(city, catalog.garbage, admin_user, f"NK-20260101-{i:04d}")
        Report.objects.filter(pk=report.pk).update(
            state=state, accept_due=now + timedelta(hours=1),
            dispatch_due=now + timedelta(hours=1), handle_started=now - timedelta(days=1),
            handle_due=now + timedelta(days=2), verify_due=now - timedelta(hours=1),
        )

    url = reverse("admin:reports_report_changelist")
    for i in range(3):
        add(i)
    admin_client_.get(url)  # warm the session and content types
    with django_assert_num_queries(6) as small:  # type: ignore[operator]
        response = admin_client_.get(url)
    for i in range(3, 9):
        add(i)
    with django_assert_num_queries(len(small.captured_queries)):  # type: ignore[operator]
        again = admin_client_.get(url)

    expected = "超期" if state == "handled" else "剩余"
    assert response.content.decode().count(f">{expected} ") == 3
    assert again.content.decode().count(f">{expected} ") == 9


@time_machine.travel(WEDNESDAY_MORNING, tick=False)
def test_the_case_list_rows_are_the_html_django_would_render(
    admin_client_: Client, city: City, catalog: Catalog, admin_user: User,
) -> None:
    # The case list renders its rows itself (reports.admin_rows) for speed; every cell
    # must stay what Django's own items_for_result gives: links with the preserved
    # filters, labels of choices, relations, empty cells, local times, time-left colours.
    from django.contrib.admin.templatetags.admin_list import items_for_result

    from reports import admin_rows

    now = datetime.now(UTC)
    rows = [
        ("reported", None, None, {"accept_due": now + timedelta(hours=3)}),
        # Near its limit on any day and at any hour: a minute left of thirty days.
        ("dispatched", city.department, catalog.garbage_standard,
         {"handle_started": now - timedelta(days=30), "handle_due": now + timedelta(minutes=1)}),
        ("acknowledged", city.department, catalog.roof_tree_standard,
         {"handle_started": now - timedelta(days=3), "handle_due": now - timedelta(hours=5)}),
        ("handled", city.other_department, None, {"verify_due": now + timedelta(days=1)}),
        ("closed", city.department, None, {}),
        ("dispatched", city.department, None,
         {"suspended": True, "handle_due": now + timedelta(days=1)}),
    ]
    for i, (state, department, standard, extra) in enumerate(rows):
        report = make_report(city, catalog.roof_tree if i % 2 else catalog.garbage, admin_user,
                             f"NK-20260101-{i:04d}")
        Report.objects.filter(pk=report.pk).update(
            state=state, department=department, standard=standard, **extra
        )

    response = admin_client_.get(
        reverse("admin:reports_report_changelist"),
        {"q": "NK-2026", "o": "-6", "created_at__gte": "2000-01-01 00:00:00+08:00"},
    )
    cl = response.context["cl"]
    django_rows = ["".join(items_for_result(cl, r, None)) for r in cl.result_list]
    ours = admin_rows.result_list(cl)["results"]

    assert len(django_rows) == 6
    assert [str(row[0]) for row in ours] == django_rows
    body = response.content.decode()
    assert "_changelist_filters=" in django_rows[0]
    assert all(row in body for row in django_rows if "sla-" not in row)
    assert {"sla-ok", "sla-warning", "sla-overdue"} <= {
        s for row in django_rows for s in ("sla-ok", "sla-warning", "sla-overdue") if s in row
    }


def test_a_popup_case_list_takes_djangos_own_rows(
    admin_client_: Client, city: City, catalog: Catalog, admin_user: User,
) -> None:
    report = make_report(city, catalog.garbage, admin_user, "NK-20260101-0001")

    listing = page(admin_client_, reverse("admin:reports_report_changelist"), _popup="1")

    assert f'data-popup-opener="{report.pk}"' in listing


def test_the_case_list_writes_hostile_names_as_text(
    admin_client_: Client, city: City, catalog: Catalog, admin_user: User,
) -> None:
    payload = '<img src=x onerror="alert(1)">执法队'
    Department.objects.filter(pk=city.department.pk).update(name=payload)
    report = make_report(city, catalog.garbage, admin_user, "NK-20260101-0001")
    Report.objects.filter(pk=report.pk).update(state="dispatched", department=city.department)

    body = admin_client_.get(reverse("admin:reports_report_changelist")).content.decode()

    assert payload not in body
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;执法队" in body
