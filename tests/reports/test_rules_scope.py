"""Routing rules belong to the region they cover: scoped staff see and write only theirs.

万兴街道's staff (all rule permissions, not a superuser) against a rule of 和平区 and a
city-wide rule: list, change, delete, add, bulk delete, export, 规则检查 and 试分拨.
"""

from __future__ import annotations

import io

import openpyxl
import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse

from grids.models import Department, Role
from reports.models import RoutingRule
from tests.conftest import City
from tests.factories import DepartmentFactory, UserFactory, assign
from tests.reports.conftest import Catalog


@pytest.fixture
def team(city: City) -> Department:
    return DepartmentFactory(code="WX-ZFD", name="万兴街道综合执法大队", region=city.street)


@pytest.fixture
def rules(city: City, catalog: Catalog, team: Department) -> dict[str, RoutingRule]:
    def rule(region: object, department: Department, level: str, note: str) -> RoutingRule:
        return RoutingRule.objects.create(
            category=catalog.cityscape, region=region, department=department,
            level=level, mode="auto", note=note,
        )

    return {
        "own": rule(city.street, team, "street", "万兴规则"),
        "other": rule(city.other_district, city.other_department, "district", "和平规则"),
        "city": rule(city.city, city.department, "district", "全市规则"),
    }


@pytest.fixture
def wanxing(client: Client, city: City) -> Client:
    user = UserFactory(username="wx-admin", full_name="万兴街道管理员", is_staff=True)
    user.user_permissions.set(
        Permission.objects.filter(content_type__app_label="reports", codename__endswith="rule")
    )
    assign(user, Role.STREET_STAFF, region=city.street)
    client.force_login(user)
    return client


def test_it_lists_only_the_rules_of_ones_street(
    wanxing: Client, rules: dict[str, RoutingRule]
) -> None:
    page = wanxing.get(reverse("admin:reports_routingrule_changelist")).content.decode()

    own_link = reverse("admin:reports_routingrule_change", args=[rules["own"].pk])
    assert own_link in page
    for key in ("other", "city"):
        assert reverse("admin:reports_routingrule_change", args=[rules[key].pk]) not in page


@pytest.mark.parametrize("key", ["other", "city"])
def test_it_hides_the_change_page_of_a_rule_outside_scope(
    wanxing: Client, rules: dict[str, RoutingRule], key: str
) -> None:
    rule = rules[key]
    url = reverse("admin:reports_routingrule_change", args=[rule.pk])

    shown = wanxing.get(url)
    posted = wanxing.post(url, {
        "category": rule.category_id, "region": rule.region_id,
        "department": rule.department_id, "level": rule.level, "mode": rule.mode,
        "priority": "9", "is_active": "", "note": "改了",
    })

    assert shown.status_code == 302  # the admin's "does not exist" redirect
    assert posted.status_code == 302
    fresh = RoutingRule.objects.get(pk=rule.pk)
    assert (fresh.priority, fresh.is_active, fresh.note) == (0, True, rule.note)


@pytest.mark.parametrize("key", ["other", "city"])
def test_it_refuses_to_delete_a_rule_outside_scope(
    wanxing: Client, rules: dict[str, RoutingRule], key: str
) -> None:
    rule = rules[key]

    single = wanxing.post(
        reverse("admin:reports_routingrule_delete", args=[rule.pk]), {"post": "yes"}
    )
    bulk = wanxing.post(
        reverse("admin:reports_routingrule_changelist"),
        {"action": "delete_selected", "_selected_action": [rule.pk], "post": "yes"},
    )

    assert single.status_code == 302 and bulk.status_code in (200, 302)
    assert RoutingRule.objects.filter(pk=rule.pk).exists()


@pytest.mark.parametrize("region", ["other_street", "city"])
def test_it_refuses_to_add_a_rule_outside_scope(
    wanxing: Client, city: City, catalog: Catalog, team: Department, region: str
) -> None:
    response = wanxing.post(reverse("admin:reports_routingrule_add"), {
        "category": catalog.garbage.pk, "region": getattr(city, region).pk,
        "department": team.pk, "level": "street", "mode": "auto", "priority": "0",
        "is_active": "on",
    })

    assert response.status_code == 200
    assert "region" in response.context["adminform"].form.errors
    assert not RoutingRule.objects.filter(category=catalog.garbage).exists()


def test_it_refuses_a_department_outside_scope(
    wanxing: Client, city: City, catalog: Catalog
) -> None:
    response = wanxing.post(reverse("admin:reports_routingrule_add"), {
        "category": catalog.garbage.pk, "region": city.street.pk,
        "department": city.other_department.pk, "level": "district", "mode": "auto",
        "priority": "0", "is_active": "on",
    })

    assert response.status_code == 200
    assert "department" in response.context["adminform"].form.errors
    assert not RoutingRule.objects.filter(category=catalog.garbage).exists()


def test_it_lets_street_staff_add_and_change_a_rule_of_their_street(
    wanxing: Client, city: City, catalog: Catalog, team: Department
) -> None:
    response = wanxing.post(reverse("admin:reports_routingrule_add"), {
        "category": catalog.garbage.pk, "region": city.grid.pk, "department": team.pk,
        "level": "street", "mode": "propose", "priority": "0", "is_active": "on",
    })

    assert response.status_code == 302
    assert RoutingRule.objects.get(category=catalog.garbage).region_id == city.grid.pk


def test_it_exports_only_the_rules_in_scope(
    wanxing: Client, rules: dict[str, RoutingRule]
) -> None:
    xlsx = wanxing.get(reverse("admin:reports_routingrule_export"), {"format": "xlsx"})
    csv = wanxing.get(reverse("admin:reports_routingrule_export"), {"format": "csv"})

    sheet = openpyxl.load_workbook(io.BytesIO(xlsx.content)).active
    notes = [row[-1] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert notes == ["万兴规则"]
    text = csv.content.decode("utf-8-sig")
    assert "万兴规则" in text and "和平规则" not in text and "全市规则" not in text


def test_the_check_page_shows_only_the_streets_and_rules_in_scope(
    wanxing: Client, city: City, rules: dict[str, RoutingRule], catalog: Catalog
) -> None:
    page = wanxing.get(reverse("admin:reports_routingrule_check")).content.decode()

    assert "启用的规则 1 条；按 1 个街道" in page
    assert "新兴街道" not in page


def test_the_dry_run_refuses_a_grid_of_another_street(
    wanxing: Client, city: City, rules: dict[str, RoutingRule], catalog: Catalog
) -> None:
    page = wanxing.get(reverse("admin:reports_routingrule_dry_run"), {
        "category": catalog.garbage.pk, "region_code": city.other_grid.code,
    }).content.decode()

    assert "不存在" in page
    assert "dry-run-result" not in page and "和平规则" not in page


def test_the_dry_run_names_no_rule_outside_scope(
    wanxing: Client, city: City, rules: dict[str, RoutingRule], catalog: Catalog
) -> None:
    rules["own"].delete()  # the city-wide rule now decides for 万兴街道

    page = wanxing.get(reverse("admin:reports_routingrule_dry_run"), {
        "category": catalog.garbage.pk, "region_code": city.grid.code,
    }).content.decode()

    assert "由管辖范围以外的规则" in page
    city_link = reverse("admin:reports_routingrule_change", args=[rules["city"].pk])
    assert city_link not in page
    assert f"规则#{rules['city'].pk}" not in page and f">#{rules['city'].pk}<" not in page


def test_the_disable_action_touches_only_rules_in_scope(
    wanxing: Client, rules: dict[str, RoutingRule]
) -> None:
    response = wanxing.post(
        reverse("admin:reports_routingrule_changelist"),
        {"action": "disable_selected", "_selected_action": [r.pk for r in rules.values()]},
    )

    assert response.status_code == 302
    active = dict(RoutingRule.objects.values_list("note", "is_active"))
    assert active == {"万兴规则": False, "和平规则": True, "全市规则": True}
