"""Catalogue import/export: all or nothing, round trips, idempotent, the demo seeds."""

from __future__ import annotations

import io
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError

from reports.catalog import CatalogImportError, export_catalog, import_catalog
from reports.models import Category, FilingStandard
from tests.xlsx_bombs import xlsx_with_far_cell

SEEDS = Path(settings.BASE_DIR) / "seeds"

HEADER = (
    "type,code,parent_code,name,kind,keywords,limit_amount,limit_unit,closing_condition,"
    "urgent,sort,active"
)
GOOD = "\n".join([
    HEADER,
    "major,02,,设施管理,component,市政设施,,,,,1,1",
    "minor,0201,02,井盖,component,井盖 窨井,,,,,1,1",
    "standard,0201-1,0201,井盖缺失,,,2,urgent_hours,恢复,1,1,",
    "standard,0201-2,0201,井盖破损,,,2,working_days,更换,0,2,",
    "major,04,,房屋安全,event,,,,,,2,1",
    "minor,0401,04,楼顶杂树,event,楼顶 杂树,,,,,1,1",
    "standard,0401-1,0401,楼顶生长杂树,,,10,working_days,清除杂树及根系,0,1,",
]) + "\n"


def csv_bytes(text: str) -> bytes:
    return text.encode("utf-8")


def xlsx_bytes(text: str) -> bytes:
    book = openpyxl.Workbook()
    for line in text.strip().splitlines():
        book.active.append(line.split(","))
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


def test_it_imports_categories_and_standards(db: None) -> None:
    result = import_catalog(csv_bytes(GOOD), fmt="csv")

    assert result.created == 7
    manhole = Category.objects.get(code="0201")
    assert manhole.parent == Category.objects.get(code="02")
    missing = FilingStandard.objects.get(code="0201-1")
    assert (missing.category, missing.limit_amount, missing.limit_unit, missing.is_urgent) == (
        manhole, Decimal(2), "urgent_hours", True
    )
    assert FilingStandard.objects.get(code="0401-1").limit_unit == "working_days"


def test_it_changes_nothing_and_names_every_bad_row(db: None) -> None:
    bad = "\n".join([
        HEADER,
        "major,02,,设施管理,component,,,,,,1,1",
        "minor,0201,02,井盖,component,,,,,,1,1",
        "standard,0201-1,0201,井盖缺失,,,0,urgent_hours,恢复,1,1,",  # row 4: limit 0
        "minor,0299,99,无主小类,event,,,,,,1,1",  # row 5: unknown major
        "standard,0201-2,0201,井盖破损,,,2,fortnights,更换,0,2,",  # row 6: bad unit
        "minor,0201,02,重复,event,,,,,,1,1",  # row 7: duplicate code
        "standard,0201-3,02,挂在大类下,,,2,working_days,更换,0,3,",  # row 8: major parent
    ])

    with pytest.raises(CatalogImportError) as excinfo:
        import_catalog(csv_bytes(bad), fmt="csv")

    errors = excinfo.value.errors
    assert [e.split("：", 1)[0] for e in errors] == ["第4行", "第6行", "第7行", "第5行", "第8行"]
    assert "处置时限“0”" in errors[0]
    assert "上级大类“99”不存在" in errors[3]
    assert "与第3行重复" in errors[2]
    assert not Category.objects.exists()
    assert not FilingStandard.objects.exists()


def test_it_refuses_a_file_with_a_missing_column(db: None) -> None:
    with pytest.raises(CatalogImportError) as excinfo:
        import_catalog(csv_bytes("type,code,name\nmajor,01,市容环境\n"), fmt="csv")

    assert excinfo.value.errors == ["第1行：缺少列“parent_code”"]


def test_it_refuses_a_file_that_is_not_xlsx(db: None) -> None:
    with pytest.raises(CatalogImportError) as excinfo:
        import_catalog(b"not a workbook", fmt="xlsx")

    assert "不是有效的 XLSX 文件" in excinfo.value.errors[0]


def test_it_is_idempotent(db: None) -> None:
    import_catalog(csv_bytes(GOOD), fmt="csv")

    again = import_catalog(xlsx_bytes(GOOD), fmt="xlsx")

    assert (again.created, again.updated, again.unchanged) == (0, 0, 7)
    assert Category.objects.count() == 4


def test_it_updates_by_code(db: None) -> None:
    import_catalog(csv_bytes(GOOD), fmt="csv")
    changed = GOOD.replace("2,working_days,更换", "3,working_days,更换井盖")

    result = import_catalog(csv_bytes(changed), fmt="csv")

    assert (result.created, result.updated) == (0, 1)
    cracked = FilingStandard.objects.get(code="0201-2")
    assert (cracked.limit_amount, cracked.closing_condition) == (Decimal(3), "更换井盖")


def test_it_keeps_a_major_a_major(db: None) -> None:
    import_catalog(csv_bytes(GOOD), fmt="csv")
    turned = GOOD.replace("major,04,,房屋安全,event", "minor,04,02,房屋安全,event")

    with pytest.raises(CatalogImportError) as excinfo:
        import_catalog(csv_bytes(turned), fmt="csv")

    assert "第6行：类别“04”在系统中是大类" in excinfo.value.errors[0]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_it_round_trips(db: None, fmt: str) -> None:
    import_catalog(csv_bytes(GOOD), fmt="csv")
    exported = export_catalog(fmt=fmt)
    Category.objects.filter(parent__isnull=False).delete()  # minors first: PROTECT
    Category.objects.all().delete()

    result = import_catalog(exported, fmt=fmt)

    assert result.created == 7
    assert export_catalog(fmt="csv") == ("\ufeff" + GOOD.replace("\n", "\r\n")).encode()


def test_it_reads_chinese_headers_and_values(db: None) -> None:
    text = "\n".join([
        "层级,代码,上级代码,名称,部件/事件,处置时限,时限单位,结案条件,紧急",
        "大类,04,,房屋安全,事件,,,,",
        "小类,0401,04,楼顶杂树,事件,,,,",
        "立案条件,0401-1,0401,楼顶生长杂树,,10,工作日,清除杂树及根系,否",
    ])

    import_catalog(xlsx_bytes(text), fmt="xlsx")

    standard = FilingStandard.objects.get(code="0401-1")
    assert (standard.category.kind, standard.limit_unit, standard.is_urgent) == (
        "event", "working_days", False
    )


def test_the_demo_catalogue_loads_and_exports_as_the_seed_csv(db: None) -> None:
    result = import_catalog((SEEDS / "categories.xlsx").read_bytes(), fmt="xlsx")

    assert Category.objects.filter(parent__isnull=True).count() == 9
    assert Category.objects.filter(parent__isnull=False).count() >= 60
    assert result.created == Category.objects.count() + FilingStandard.objects.count()
    assert export_catalog(fmt="csv") == (SEEDS / "categories.csv").read_bytes()
    manhole = FilingStandard.objects.filter(category__name="井盖").order_by("sort")
    assert [(s.condition, s.limit_amount, s.limit_unit) for s in manhole[:2]] == [
        ("井盖缺失", Decimal(2), "urgent_hours"),
        ("井盖破损", Decimal(2), "working_days"),
    ]
    assert Category.objects.get(name="楼顶杂树").parent.name == "房屋安全"


def test_the_commands_import_and_export(db: None, tmp_path: Path) -> None:
    source = tmp_path / "catalogue.csv"
    source.write_bytes(csv_bytes(GOOD))
    out = io.StringIO()

    call_command("import_catalog", str(source), stdout=out)
    call_command("export_catalog", "-o", str(tmp_path / "out.xlsx"), stderr=io.StringIO())

    assert "新建 7" in out.getvalue()
    book = openpyxl.load_workbook(tmp_path / "out.xlsx")
    assert [c.value for c in book.active[1]] == HEADER.split(",")
    assert book.active.max_row == 8


def test_the_import_command_fails_with_the_row_errors(db: None, tmp_path: Path) -> None:
    source = tmp_path / "bad.csv"
    source.write_bytes(csv_bytes(HEADER + "\nmajor,01,,市容环境,thing,,,,,,1,1\n"))

    with pytest.raises(CommandError) as excinfo:
        call_command("import_catalog", str(source))

    assert "第2行：kind“thing”无效" in str(excinfo.value)


def test_it_reads_a_csv_saved_by_chinese_excel(db: None) -> None:
    import_catalog(GOOD.encode("gb18030"), fmt="csv")

    assert Category.objects.get(code="0401").name == "楼顶杂树"


@pytest.mark.parametrize("cell", ["XFD1048576", "AD1048576"])
def test_it_refuses_a_sheet_reaching_past_the_limits_before_reading_it(
    db: None, cell: str
) -> None:
    data = xlsx_with_far_cell(cell, header=HEADER.split(","), declare=False)
    with pytest.raises(CatalogImportError) as excinfo:
        import_catalog(data, fmt="xlsx")

    assert excinfo.value.errors == [
        f"表格范围过大（到 {cell}）：每个文件最多 50001 行、64 列（到 BL 列），"
        "请删除多余的行和列后重新上传"
    ]
