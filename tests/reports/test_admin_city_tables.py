"""City-wide tables in the admin (stage limits, categories and filing standards, the work
calendar): delegated staff — a street's or district's own administrators — may read them;
only city-level administrators (superusers, or the administrator role at a city node)
add, change or delete rows. A refused POST is 403 and saves nothing."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse

from accounts.models import User
from grids.models import Role
from reports.calendar import get_schedule
from reports.models import Category, FilingStandard, StageLimit, WorkDay, WorkSchedule
from tests.conftest import City
from tests.factories import UserFactory, assign
from tests.reports.conftest import Catalog


def _admin_staff(username: str, role: str, region: Any) -> User:
    """Staff with every permission of the reports app, assigned ``role`` at ``region``."""
    user = UserFactory(username=username, full_name=username, is_staff=True)
    user.user_permissions.set(Permission.objects.filter(content_type__app_label="reports"))
    assign(user, role, region=region)
    return User.objects.get(pk=user.pk)


@pytest.fixture
def street_admin(city: City) -> User:
    """A delegated administrator: admin rights over 万兴街道 only."""
    return _admin_staff("wanxing-admin", Role.ADMIN, city.street)


@pytest.fixture
def district_staff_admin(city: City) -> User:
    return _admin_staff("nankai-staff", Role.DISTRICT_STAFF, city.district)


@pytest.fixture
def city_admin(city: City) -> User:
    return _admin_staff("tianjin-admin", Role.ADMIN, city.city)


def _client(user: User) -> Client:
    c = Client()
    c.force_login(user)
    return c


def _accept_limit() -> StageLimit:
    # The data migration's row may be gone (a transactional test flushes the database).
    limit, _created = StageLimit.objects.get_or_create(
        stage="accept", defaults={"amount": Decimal("0.25"), "unit": "working_hours"}
    )
    return limit


def _writes(catalog: Catalog) -> list[tuple[str, list[Any], dict[str, Any]]]:
    """(admin URL name, args, POST data) for an add, a change and a delete of each table."""
    limit = _accept_limit()
    schedule = get_schedule()
    day = WorkDay.objects.create(date=date(2026, 10, 1), is_working=False, note="国庆节")
    std = catalog.roof_tree_standard
    standard_fields = {
        "code": "0501-9", "condition": "新条件", "limit_amount": "1", "limit_unit": "working_days",
        "closing_condition": "办结", "sort": "0",
    }
    no_inline = {
        "standards-TOTAL_FORMS": "0", "standards-INITIAL_FORMS": "0",
        "standards-MIN_NUM_FORMS": "0", "standards-MAX_NUM_FORMS": "1000",
    }
    return [
        ("admin:reports_stagelimit_change", [limit.pk],
         {"stage": "accept", "amount": "99", "unit": "working_days"}),
        ("admin:reports_category_add", [],
         {"code": "09", "name": "新大类", "kind": "event", "sort": "0", "is_active": "on",
          **no_inline}),
        ("admin:reports_category_change", [catalog.roof_tree.pk],
         {"code": "0501", "name": "改名", "kind": "component", "parent": catalog.housing.pk,
          "sort": "0", "is_active": "on", **no_inline}),
        ("admin:reports_category_delete", [catalog.garbage.pk], {"post": "yes"}),
        ("admin:reports_filingstandard_add", [],
         {"category": catalog.roof_tree.pk, **standard_fields}),
        ("admin:reports_filingstandard_change", [std.pk],
         {"category": catalog.roof_tree.pk, **standard_fields}),
        ("admin:reports_filingstandard_delete", [catalog.garbage_standard.pk], {"post": "yes"}),
        ("admin:reports_workday_add", [], {"date": "2026-10-08", "is_working": "", "note": "x"}),
        ("admin:reports_workday_change", [day.pk], {"is_working": "on", "note": "改"}),
        ("admin:reports_workday_delete", [day.pk], {"post": "yes"}),
        ("admin:reports_workschedule_change", [schedule.pk],
         {"morning_start": "07:00", "morning_end": "11:00", "afternoon_start": "13:00",
          "afternoon_end": "16:00"}),
    ]


def _tables() -> tuple[Any, ...]:
    """Everything a write could touch, to compare before and after."""
    return (
        list(StageLimit.objects.order_by("stage").values_list("stage", "amount", "unit")),
        list(Category.objects.order_by("code").values_list("code", "name", "is_active")),
        list(FilingStandard.objects.order_by("code").values_list("code", "condition")),
        list(WorkDay.objects.order_by("date").values_list("date", "is_working", "note")),
        list(WorkSchedule.objects.values_list("morning_start", "afternoon_end")),
    )


@pytest.mark.parametrize("who", ["street_admin", "district_staff_admin"])
def test_delegated_staff_may_not_change_city_wide_tables(
    request: pytest.FixtureRequest, city: City, catalog: Catalog, who: str
) -> None:
    client = _client(request.getfixturevalue(who))
    writes = _writes(catalog)
    before = _tables()

    statuses = {
        name: client.post(reverse(name, args=args), data).status_code
        for name, args, data in writes
    }

    assert statuses == {name: 403 for name, _args, _data in writes}
    assert _tables() == before


def test_delegated_staff_may_not_edit_stage_limits_in_the_list(
    city: City, street_admin: User
) -> None:
    _accept_limit()
    limits = list(StageLimit.objects.order_by("pk"))
    data: dict[str, Any] = {
        "form-TOTAL_FORMS": str(len(limits)), "form-INITIAL_FORMS": str(len(limits)),
        "form-MIN_NUM_FORMS": "0", "form-MAX_NUM_FORMS": "1000", "_save": "保存",
    }
    for i, limit in enumerate(limits):
        data |= {f"form-{i}-id": limit.pk, f"form-{i}-amount": "99", f"form-{i}-unit": limit.unit}

    response = _client(street_admin).post(reverse("admin:reports_stagelimit_changelist"), data)

    assert response.status_code == 403
    assert not StageLimit.objects.filter(amount=Decimal(99)).exists()


def test_delegated_staff_may_still_read_city_wide_tables(
    city: City, catalog: Catalog, street_admin: User
) -> None:
    client = _client(street_admin)
    pages = [
        reverse("admin:reports_stagelimit_changelist"),
        reverse("admin:reports_category_changelist"),
        reverse("admin:reports_category_change", args=[catalog.roof_tree.pk]),
        reverse("admin:reports_filingstandard_changelist"),
        reverse("admin:reports_workday_changelist"),
    ]

    responses = [client.get(url) for url in pages]

    assert [r.status_code for r in responses] == [200] * len(pages)
    change_page = responses[2].content.decode()
    assert 'name="_save"' not in change_page  # read-only: no save button
    assert reverse("admin:reports_category_add") not in responses[1].content.decode()


def test_a_city_administrator_changes_them(
    city: City, catalog: Catalog, city_admin: User
) -> None:
    client = _client(city_admin)
    limit = _accept_limit()

    response = client.post(
        reverse("admin:reports_stagelimit_change", args=[limit.pk]),
        {"stage": "accept", "amount": "2", "unit": "working_hours"},
    )
    renamed = client.post(
        reverse("admin:reports_category_change", args=[catalog.roof_tree.pk]),
        {"code": "0501", "name": "楼顶杂树（含藤蔓）", "kind": "component",
         "parent": catalog.housing.pk, "sort": "0", "is_active": "on",
         "standards-TOTAL_FORMS": "0", "standards-INITIAL_FORMS": "0",
         "standards-MIN_NUM_FORMS": "0", "standards-MAX_NUM_FORMS": "1000"},
    )

    assert response.status_code == 302 and renamed.status_code == 302
    assert StageLimit.objects.get(stage="accept").amount == Decimal(2)
    assert Category.objects.get(pk=catalog.roof_tree.pk).name == "楼顶杂树（含藤蔓）"
