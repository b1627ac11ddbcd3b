"""Exported tables never carry live formulas, and re-import to identical values."""

from __future__ import annotations

import io

import openpyxl
import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import User
from grids.models import Department
from reports.catalog import export_catalog, export_rules, import_catalog, import_rules
from reports.models import Category, RoutingRule
from tests.conftest import City
from tests.factories import DepartmentFactory
from tests.reports.conftest import Catalog

EVIL = '=HYPERLINK("http://x","y")'


@pytest.fixture
def team(city: City) -> Department:
    return DepartmentFactory(code="WX-ZFD", name="万兴街道综合执法大队", region=city.street)


@pytest.fixture
def evil_rule(city: City, catalog: Catalog, team: Department) -> RoutingRule:
    return RoutingRule.objects.create(
        category=catalog.cityscape, region=city.street, department=team,
        level="street", mode="auto", note=EVIL,
    )


def xlsx_cells(data: bytes) -> list[openpyxl.cell.Cell]:
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    return [cell for row in sheet.iter_rows() for cell in row]


def test_it_exports_a_formula_like_category_name_as_text_in_xlsx(
    admin_user: User, client: Client, catalog: Catalog
) -> None:
    Category.objects.filter(pk=catalog.garbage.pk).update(name=EVIL)
    client.force_login(admin_user)

    response = client.get(reverse("admin:reports_category_export"), {"format": "xlsx"})

    cells = [c for c in xlsx_cells(response.content) if "HYPERLINK" in str(c.value)]
    assert [(c.value, c.data_type) for c in cells] == [("'" + EVIL, "s")]


def test_it_exports_a_formula_like_category_name_as_text_in_csv(catalog: Catalog) -> None:
    Category.objects.filter(pk=catalog.garbage.pk).update(name=EVIL)

    text = export_catalog(fmt="csv").decode("utf-8-sig")

    assert "'=HYPERLINK(" in text
    assert ',=HYPERLINK(' not in text and ',"=HYPERLINK(' not in text


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_it_round_trips_a_formula_like_category_name(fmt: str, catalog: Catalog) -> None:
    Category.objects.filter(pk=catalog.garbage.pk).update(name=EVIL, keywords="@home -x")
    exported = export_catalog(fmt=fmt)
    Category.objects.filter(pk=catalog.garbage.pk).update(name="changed", keywords="")

    import_catalog(exported, fmt=fmt)

    garbage = Category.objects.get(pk=catalog.garbage.pk)
    assert (garbage.name, garbage.keywords) == (EVIL, "@home -x")


def test_it_exports_a_formula_like_rule_note_as_text_in_xlsx(evil_rule: RoutingRule) -> None:
    cells = [c for c in xlsx_cells(export_rules(fmt="xlsx")) if "HYPERLINK" in str(c.value)]

    assert [(c.value, c.data_type) for c in cells] == [("'" + EVIL, "s")]


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_it_round_trips_a_formula_like_rule_note(fmt: str, evil_rule: RoutingRule) -> None:
    exported = export_rules(fmt=fmt)
    RoutingRule.objects.filter(pk=evil_rule.pk).update(note="changed")

    import_rules(exported, fmt=fmt)

    assert RoutingRule.objects.get(pk=evil_rule.pk).note == EVIL
