"""Routing-rule import/export, the rule table loader, and the rule checks."""

from __future__ import annotations

import io
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from accounts.models import User
from grids.models import Department
from reports import routing, workflow
from reports.catalog import (
    RuleImportError,
    category_paths,
    check_rules,
    export_rules,
    import_rules,
    load_rule_table,
    region_paths,
)
from reports.errors import WorkflowError
from reports.models import Report, RoutingRule, State
from tests.conftest import City
from tests.factories import DepartmentFactory
from tests.reports.conftest import Catalog, file_report
from tests.xlsx_bombs import xlsx_with_far_cell

HEADER = (
    "category_code,region_code,department_code,level,mode,priority,active,valid_from,"
    "valid_until,note"
)


@pytest.fixture
def team(city: City) -> Department:
    return DepartmentFactory(code="WX-ZFD", name="万兴街道综合执法大队", region=city.street)


@pytest.fixture
def water(city: City) -> Department:
    return DepartmentFactory(code="SWJ", name="天津市水务局", region=city.city)


def rules_csv(city: City, *lines: str) -> bytes:
    return ("\n".join([HEADER, *lines]) + "\n").encode("utf-8")


def good_rows(city: City) -> list[str]:
    nankai = city.department.code
    return [
        f"01,{city.street.code},WX-ZFD,street,auto,0,1,,,万兴街道市容",
        f"0501,{city.district.code},{nankai},district,propose,0,1,,,楼顶杂树",
        f"0101,{city.city.code},SWJ,district,propose,5,1,2026-01-01,2026-12-31,",
    ]


def test_it_imports_rules_and_is_idempotent(
    city: City, catalog: Catalog, team: Department, water: Department
) -> None:
    first = import_rules(rules_csv(city, *good_rows(city)), fmt="csv")
    second = import_rules(rules_csv(city, *good_rows(city)), fmt="csv")

    assert (first.created, second.created, second.updated, second.unchanged) == (3, 0, 0, 3)
    rule = RoutingRule.objects.get(category=catalog.garbage)
    assert (rule.department, rule.level, rule.mode, rule.priority) == (
        water, "district", "propose", 5
    )
    assert (rule.valid_from, rule.valid_until) == (date(2026, 1, 1), date(2026, 12, 31))


def test_it_names_every_bad_row_and_writes_nothing(
    city: City, catalog: Catalog, team: Department, water: Department
) -> None:
    nankai = city.department.code
    street, district = city.street.code, city.district.code
    rows = [
        f"01,{street},WX-ZFD,street,auto,0,1,,,",  # row 2: fine
        f"99,{street},WX-ZFD,street,auto,0,1,,,",  # row 3
        "01,000000,WX-ZFD,street,auto,0,1,,,",  # row 4
        f"01,{street},NOPE,street,auto,0,1,,,",  # row 5
        f"01,{street},WX-ZFD,city,auto,0,1,,,",  # row 6
        f"01,{street},WX-ZFD,street,sometimes,0,1,,,",  # row 7
        f"0101,{street},WX-ZFD,street,auto,0,1,2026-13-01,,",  # row 8
        f"0201,{street},WX-ZFD,street,auto,0,1,2026-06-01,2026-05-31,",  # row 9
        f"0501,{district},WX-ZFD,district,propose,0,1,,,",  # row 10: street dept, district rule
        f"0501,{street},{nankai},street,propose,0,1,,,",  # row 11: district dept, street rule
        f"0501,{city.other_district.code},{nankai},district,propose,0,1,,,",  # row 12
        f"01,{street},WX-ZFD,street,auto,3,1,,,",  # row 13: same rule as row 2
    ]

    with pytest.raises(RuleImportError) as excinfo:
        import_rules(rules_csv(city, *rows), fmt="csv")

    assert excinfo.value.errors == [
        "第3行：类别代码“99”不存在",
        "第4行：区划代码“000000”不存在",
        "第5行：部门编码“NOPE”不存在",
        "第6行：派遣层级“city”无效，应为 street（街道）或 district（区级）",
        "第7行：方式“sometimes”无效，应为 auto（自动派遣）或 propose（建议派遣）",
        "第8行：valid_from“2026-13-01”不是有效日期，应为 YYYY-MM-DD",
        "第9行：失效日期 2026-05-31 早于生效日期 2026-06-01",
        "第10行：派遣层级为区级（district），但部门“万兴街道综合执法大队”属于万兴街道，"
        "须为区级或市级部门",
        "第10行：部门“万兴街道综合执法大队”（属于万兴街道）不管辖区划“南开区”",
        "第11行：派遣层级为街道（street），但部门“南开区城管委”属于南开区，不是街道级部门",
        "第12行：部门“南开区城管委”（属于南开区）不管辖区划“和平区”",
        "第13行：与第2行是同一条规则（类别、区划、部门、层级、方式、生效日期都相同）",
    ]
    assert not RoutingRule.objects.exists()


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_an_exported_table_imports_unchanged(
    city: City, catalog: Catalog, team: Department, water: Department, fmt: str
) -> None:
    import_rules(rules_csv(city, *good_rows(city)), fmt="csv")

    result = import_rules(export_rules(fmt=fmt), fmt=fmt)

    assert (result.created, result.updated, result.unchanged) == (0, 0, 3)


def test_it_updates_a_rule_by_id(
    city: City, catalog: Catalog, team: Department, water: Department
) -> None:
    import_rules(rules_csv(city, *good_rows(city)), fmt="csv")
    rule = RoutingRule.objects.get(category=catalog.cityscape)
    book = openpyxl.load_workbook(io.BytesIO(export_rules(fmt="xlsx")))
    sheet = book.active
    for row in sheet.iter_rows(min_row=2):
        if row[0].value == str(rule.pk):
            row[5].value = "propose"  # mode
            row[10].value = "改为建议派遣"
    buf = io.BytesIO()
    book.save(buf)

    result = import_rules(buf.getvalue(), fmt="xlsx")

    rule.refresh_from_db()
    assert (result.updated, rule.mode, rule.note) == (1, "propose", "改为建议派遣")
    assert RoutingRule.objects.count() == 3


def test_it_refuses_an_unknown_id(city: City, catalog: Catalog, team: Department) -> None:
    text = "id," + HEADER + f"\n999,01,{city.street.code},WX-ZFD,street,auto,0,1,,,\n"

    with pytest.raises(RuleImportError) as excinfo:
        import_rules(text.encode(), fmt="csv")

    assert excinfo.value.errors == ["第2行：规则 id 999 不存在（新规则请把 id 留空）"]


def test_load_rule_table_is_one_query(
    city: City, catalog: Catalog, team: Department, water: Department,
    django_assert_num_queries: object,
) -> None:
    import_rules(rules_csv(city, *good_rows(city)), fmt="csv")
    RoutingRule.objects.filter(category=catalog.garbage).update(is_active=False)

    with django_assert_num_queries(1):  # type: ignore[operator]
        table = load_rule_table()

    assert len(table) == 2


def test_paths_come_from_one_query_each(
    city: City, catalog: Catalog, django_assert_num_queries: object
) -> None:
    with django_assert_num_queries(1):  # type: ignore[operator]
        streets = region_paths()
    with django_assert_num_queries(1):  # type: ignore[operator]
        grids = region_paths([city.grid, city.other_grid])
    with django_assert_num_queries(1):  # type: ignore[operator]
        categories = category_paths()

    assert streets[city.street.pk] == (city.city.pk, city.district.pk, city.street.pk)
    assert len(streets) == 2
    assert grids[city.grid.pk] == (
        city.city.pk, city.district.pk, city.street.pk, city.community.pk, city.grid.pk
    )
    assert categories[catalog.roof_tree.pk] == (catalog.housing.pk, catalog.roof_tree.pk)
    assert catalog.housing.pk not in categories


def test_the_table_routes_like_the_rules_say(
    city: City, catalog: Catalog, team: Department, water: Department
) -> None:
    import_rules(rules_csv(city, *good_rows(city)), fmt="csv")
    path = region_paths([city.grid])[city.grid.pk]

    decision = routing.route(
        region_path=path,
        category_path=(catalog.cityscape.pk, catalog.garbage.pk),
        at=datetime(2026, 3, 1, 9, tzinfo=ZoneInfo("Asia/Shanghai")),
        table=load_rule_table(),
    )

    assert decision.department_id == team.pk  # the street rule beats the city rule


def test_check_lists_conflicts_and_uncovered_pairs(
    city: City, catalog: Catalog, team: Department
) -> None:
    other_team = DepartmentFactory(code="WX-CJB", name="万兴街道城建科", region=city.street)
    street = city.street.code
    import_rules(rules_csv(
        city,
        f"01,{street},WX-ZFD,street,auto,0,1,,,",
        f"01,{street},WX-CJB,street,auto,0,1,,,",
    ), fmt="csv")

    check = check_rules()

    assert len(check.conflicts) == 1
    conflict = check.conflicts[0]
    assert (conflict.region, conflict.category) == ("天津市›南开区›万兴街道", "市容环境")
    assert [text for _id, text in conflict.rules] == [
        "万兴街道综合执法大队（街道处置，自动派遣）", "万兴街道城建科（街道处置，自动派遣）",
    ]
    uncovered = {u.region: u.categories for u in check.uncovered}
    assert uncovered["天津市›南开区›万兴街道"] == ("公用设施›井盖", "房屋安全›楼顶杂树")
    assert len(uncovered["天津市›和平区›新兴街道"]) == 3
    assert other_team.pk in {rule.department_id for rule in load_rule_table().rules}


def test_import_warns_about_conflicts(city: City, catalog: Catalog, team: Department) -> None:
    DepartmentFactory(code="WX-CJB", name="万兴街道城建科", region=city.street)
    street = city.street.code

    result = import_rules(rules_csv(
        city,
        f"01,{street},WX-ZFD,street,auto,0,1,,,",
        f"01,{street},WX-CJB,street,auto,0,1,,,",
    ), fmt="csv")

    assert result.created == 2
    assert "1 组冲突" in result.warnings[0]


def test_check_rules_command_fails_on_conflicts(
    city: City, catalog: Catalog, team: Department
) -> None:
    DepartmentFactory(code="WX-CJB", name="万兴街道城建科", region=city.street)
    street = city.street.code
    import_rules(rules_csv(
        city,
        f"01,{street},WX-ZFD,street,auto,0,1,,,",
        f"01,{street},WX-CJB,street,auto,0,1,,,",
    ), fmt="csv")
    out = io.StringIO()

    with pytest.raises(CommandError) as excinfo:
        call_command("check_rules", stdout=out)

    assert excinfo.value.returncode == 1
    assert "规则冲突：1 组" in out.getvalue()
    assert "天津市›南开区›万兴街道：公用设施›井盖、房屋安全›楼顶杂树" in out.getvalue()


def test_check_rules_command_passes_without_conflicts(
    city: City, catalog: Catalog, team: Department
) -> None:
    out = io.StringIO()

    call_command("check_rules", "--level", "grid", "--summary", stdout=out)

    assert "规则冲突：0 组" in out.getvalue()
    assert "检查 3 个区划 × 3 个小类" in out.getvalue()


def test_the_rule_commands_import_and_export(
    city: City, catalog: Catalog, team: Department, water: Department, tmp_path: object
) -> None:
    folder = Path(str(tmp_path))
    (folder / "rules.csv").write_bytes(rules_csv(city, *good_rows(city)))
    out = io.StringIO()

    call_command("import_rules", str(folder / "rules.csv"), stdout=out)
    call_command("export_rules", stdout=out)

    text = out.getvalue()
    assert "新建 3" in text
    assert "id,category_code,region_code" in text
    assert f"0501,{city.district.code},{city.department.code},district,propose" in text


def test_the_demo_loads_with_no_conflicts(db: None) -> None:
    call_command("load_demo", "--quiet-logins", stdout=io.StringIO())
    out = io.StringIO()

    call_command("load_demo_reports", stdout=out)
    call_command("load_demo_reports", stdout=out)
    call_command("check_rules", "--summary", stdout=out)

    assert RoutingRule.objects.count() == 24
    assert "分拨规则：新建 0，更新 0，未变 24" in out.getvalue()
    assert "规则冲突：0 组" in out.getvalue()
    roof = RoutingRule.objects.get(category__name="楼顶杂树")
    assert (roof.department.name, roof.level, roof.mode) == ("南开区城管委", "district", "propose")


def test_check_rules_names_a_rule_whose_department_dispatch_would_refuse(
    city: City, catalog: Catalog, team: Department, worker: User, district_staff: User
) -> None:
    """One fit rule for the check and for dispatch: a district rule pointing at another
    district's department is listed, and dispatching such a case is refused alike."""
    rule = RoutingRule.objects.create(
        category=catalog.garbage, region=city.street, department=city.other_department,
        level="district", mode="auto",
    )
    out = io.StringIO()

    with pytest.raises(CommandError) as excinfo:
        call_command("check_rules", stdout=out)

    assert excinfo.value.returncode == 1
    assert f"#{rule.pk} 部门“和平区城管委”（属于和平区）不管辖区划“万兴街道”" in out.getvalue()
    report = file_report(worker, city, catalog.garbage)
    Report.objects.filter(pk=report.pk).update(state=State.TRANSFERRED)
    with pytest.raises(WorkflowError, match="不是本区级可派遣的处置部门"):
        workflow.report_dispatch(report, actor=district_staff, department=city.other_department)


def test_check_rules_passes_a_rule_whose_department_fits(
    city: City, catalog: Catalog, team: Department
) -> None:
    RoutingRule.objects.create(
        category=catalog.garbage, region=city.street, department=team,
        level="street", mode="auto",
    )
    out = io.StringIO()

    call_command("check_rules", stdout=out)

    assert "部门不符的规则：0 条" in out.getvalue()


def test_it_refuses_a_rule_sheet_reaching_xfd1048576_before_reading_it(db: None) -> None:
    with pytest.raises(RuleImportError) as excinfo:
        import_rules(xlsx_with_far_cell("XFD1048576", header=["id", "category"]), fmt="xlsx")

    assert excinfo.value.errors[0].startswith("表格范围过大（到 XFD1048576）")
