"""The columns of the catalogue and rule-table files, as django-import-export resources.

These resources *write* the files (``export_*``) and name the columns; reading is done by
``reports.catalog``, which validates every row before writing anything (all or nothing,
errors by row in Chinese) — django-import-export's own row-by-row import would save the
good rows and report the bad ones. The file formats are described in
docs/routing-rules.md (rules) and seeds/make_categories.py (catalogue).

``read_dataset`` / ``write_dataset`` wrap import-export's CSV and XLSX formats: CSV is
written as UTF-8 with a byte-order mark so that Excel opens it with the right encoding,
and read as UTF-8 (with or without the mark) or, failing that, GB18030 — what Excel on a
Chinese Windows saves as "CSV".
"""

from __future__ import annotations

from typing import Any, Final, Literal

import tablib
from import_export import fields, resources
from import_export.formats import base_formats

from jinzhitong.cells import escape_formula
from reports.models import Category, FilingStandard, RoutingRule
from reports.sla import format_amount

FileFormat = Literal["csv", "xlsx"]
FILE_FORMATS: Final[tuple[str, ...]] = ("xlsx", "csv")
CONTENT_TYPES: Final[dict[str, str]] = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": base_formats.XLSX.CONTENT_TYPE,
}

# One table for the whole catalogue: a row per major category (type=major), minor
# category (type=minor) or filing standard (type=standard), parents referred to by code.
CATALOG_COLUMNS: Final[tuple[str, ...]] = (
    "type",
    "code",
    "parent_code",
    "name",
    "kind",
    "keywords",
    "limit_amount",
    "limit_unit",
    "closing_condition",
    "urgent",
    "sort",
    "active",
)

RULE_COLUMNS: Final[tuple[str, ...]] = (
    "id",
    "category_code",
    "region_code",
    "department_code",
    "level",
    "mode",
    "priority",
    "active",
    "valid_from",
    "valid_until",
    "note",
)

ROW_MAJOR: Final = "major"
ROW_MINOR: Final = "minor"
ROW_STANDARD: Final = "standard"


def _flag(value: bool) -> str:
    return "1" if value else "0"


def _col(name: str) -> fields.Field:
    # Every column is computed by a dehydrate_<name> method below.
    return fields.Field(column_name=name)


class _CatalogColumns(resources.ModelResource):  # type: ignore[misc]
    """The catalogue table's columns, shared by its category and standard rows."""

    type = _col("type")
    code = _col("code")
    parent_code = _col("parent_code")
    name = _col("name")
    kind = _col("kind")
    keywords = _col("keywords")
    limit_amount = _col("limit_amount")
    limit_unit = _col("limit_unit")
    closing_condition = _col("closing_condition")
    urgent = _col("urgent")
    sort = _col("sort")
    active = _col("active")


class CategoryResource(_CatalogColumns):
    """Category rows of the catalogue table (majors and minors)."""

    class Meta:
        model = Category
        fields = CATALOG_COLUMNS
        export_order = CATALOG_COLUMNS

    def dehydrate_type(self, obj: Category) -> str:
        return ROW_MINOR if obj.parent_id is not None else ROW_MAJOR

    def dehydrate_code(self, obj: Category) -> str:
        return obj.code

    def dehydrate_parent_code(self, obj: Category) -> str:
        return obj.parent.code if obj.parent_id is not None and obj.parent else ""

    def dehydrate_name(self, obj: Category) -> str:
        return obj.name

    def dehydrate_kind(self, obj: Category) -> str:
        return obj.kind

    def dehydrate_keywords(self, obj: Category) -> str:
        return obj.keywords

    def dehydrate_limit_amount(self, obj: Category) -> str:
        return ""

    def dehydrate_limit_unit(self, obj: Category) -> str:
        return ""

    def dehydrate_closing_condition(self, obj: Category) -> str:
        return ""

    def dehydrate_urgent(self, obj: Category) -> str:
        return ""

    def dehydrate_sort(self, obj: Category) -> str:
        return str(obj.sort)

    def dehydrate_active(self, obj: Category) -> str:
        return _flag(obj.is_active)


class FilingStandardResource(_CatalogColumns):
    """Filing-standard rows of the catalogue table; ``name`` holds the 立案条件 text."""

    class Meta:
        model = FilingStandard
        fields = CATALOG_COLUMNS
        export_order = CATALOG_COLUMNS

    def dehydrate_type(self, obj: FilingStandard) -> str:
        return ROW_STANDARD

    def dehydrate_code(self, obj: FilingStandard) -> str:
        return obj.code

    def dehydrate_parent_code(self, obj: FilingStandard) -> str:
        return obj.category.code

    def dehydrate_name(self, obj: FilingStandard) -> str:
        return obj.condition

    def dehydrate_kind(self, obj: FilingStandard) -> str:
        return ""

    def dehydrate_keywords(self, obj: FilingStandard) -> str:
        return ""

    def dehydrate_limit_amount(self, obj: FilingStandard) -> str:
        return format_amount(obj.limit_amount)

    def dehydrate_limit_unit(self, obj: FilingStandard) -> str:
        return obj.limit_unit

    def dehydrate_closing_condition(self, obj: FilingStandard) -> str:
        return obj.closing_condition

    def dehydrate_urgent(self, obj: FilingStandard) -> str:
        return _flag(obj.is_urgent)

    def dehydrate_sort(self, obj: FilingStandard) -> str:
        return str(obj.sort)

    def dehydrate_active(self, obj: FilingStandard) -> str:
        return ""


class RoutingRuleResource(resources.ModelResource):  # type: ignore[misc]
    """One row per routing rule; foreign keys written as codes."""

    id = _col("id")
    category_code = _col("category_code")
    region_code = _col("region_code")
    department_code = _col("department_code")
    level = _col("level")
    mode = _col("mode")
    priority = _col("priority")
    active = _col("active")
    valid_from = _col("valid_from")
    valid_until = _col("valid_until")
    note = _col("note")

    class Meta:
        model = RoutingRule
        fields = RULE_COLUMNS
        export_order = RULE_COLUMNS

    def dehydrate_id(self, obj: RoutingRule) -> str:
        return str(obj.pk)

    def dehydrate_category_code(self, obj: RoutingRule) -> str:
        return obj.category.code

    def dehydrate_region_code(self, obj: RoutingRule) -> str:
        return obj.region.code

    def dehydrate_department_code(self, obj: RoutingRule) -> str:
        return obj.department.code

    def dehydrate_level(self, obj: RoutingRule) -> str:
        return obj.level

    def dehydrate_mode(self, obj: RoutingRule) -> str:
        return obj.mode

    def dehydrate_priority(self, obj: RoutingRule) -> str:
        return str(obj.priority)

    def dehydrate_active(self, obj: RoutingRule) -> str:
        return _flag(obj.is_active)

    def dehydrate_valid_from(self, obj: RoutingRule) -> str:
        return obj.valid_from.isoformat() if obj.valid_from else ""

    def dehydrate_valid_until(self, obj: RoutingRule) -> str:
        return obj.valid_until.isoformat() if obj.valid_until else ""

    def dehydrate_note(self, obj: RoutingRule) -> str:
        return obj.note


def _format(fmt: str) -> base_formats.TablibFormat:
    if fmt == "csv":
        return base_formats.CSV()
    if fmt == "xlsx":
        return base_formats.XLSX()
    raise ValueError(f"unknown file format {fmt!r}")


def write_dataset(dataset: tablib.Dataset, fmt: str) -> bytes:
    """The dataset as file bytes in ``fmt`` (csv: UTF-8 with BOM; xlsx: one sheet).

    Text cells that a spreadsheet would evaluate are escaped (``jinzhitong.cells``); the
    readers in ``reports.catalog`` undo that, so files round-trip unchanged.
    """
    safe = tablib.Dataset(headers=dataset.headers, title=dataset.title)
    for row in dataset:
        safe.append([escape_formula(cell) for cell in row])
    data: Any = _format(fmt).export_data(safe)
    if fmt == "csv":
        return ("\ufeff" + data).encode("utf-8")
    return bytes(data)


def read_dataset(data: bytes, fmt: str) -> tablib.Dataset:
    """Parse file bytes into a dataset whose headers are the first row.

    Raises ``UnicodeDecodeError`` for undecodable CSV and whatever openpyxl/tablib raise
    for a malformed file; ``reports.catalog`` turns these into one Chinese message.
    """
    if fmt == "csv":
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = data.decode("gb18030")
        return _format("csv").create_dataset(text)
    return _format(fmt).create_dataset(data)
