"""Catalogue and rule tables as files: read, validate all or nothing, upsert, write.

See ``reports.catalog`` for the overview; the formats are described in
seeds/make_categories.py (catalogue) and docs/routing-rules.md (rules).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from datetime import time as dtime
from decimal import Decimal, InvalidOperation
from typing import Any, Final

import tablib
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from grids.models import Department, Region
from jinzhitong import xlsx
from jinzhitong.cells import unescape_formula
from reports.catalog.rules import (
    reset_rule_table_cache,
    rule_conflict_warnings,
    rule_department_errors,
    rule_save,
)
from reports.models import (
    Category,
    CategoryKind,
    DispatchLevel,
    FilingStandard,
    RoutingMode,
    RoutingRule,
)
from reports.resources import (
    CATALOG_COLUMNS,
    ROW_MAJOR,
    ROW_MINOR,
    ROW_STANDARD,
    RULE_COLUMNS,
    CategoryResource,
    FilingStandardResource,
    RoutingRuleResource,
    read_dataset,
    write_dataset,
)
from reports.sla import LimitUnit

# A city's catalogue has hundreds of rows and its rule table thousands; far more is a
# wrong file, and refusing it early keeps the error list readable.
MAX_ROWS: Final = 50_000
MAX_ERRORS: Final = 200


class TableImportError(Exception):
    """The file was refused; ``errors`` lists every problem found ("第N行：…")."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("\n".join(errors))
        self.errors = errors


class CatalogImportError(TableImportError):
    pass


class RuleImportError(TableImportError):
    pass


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    warnings: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return _("新建 %(c)d，更新 %(u)d，未变 %(n)d") % {
            "c": self.created,
            "u": self.updated,
            "n": self.unchanged,
        }


# ------------------------------------------------------------------------- reading tables


@dataclass(frozen=True)
class _Row:
    line: int  # the spreadsheet row number; the header is row 1
    values: dict[str, str]

    def __getitem__(self, key: str) -> str:
        return self.values.get(key, "")


class _Errors:
    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, line: int | None, message: str) -> None:
        if line is None:
            self.items.append(message)
        else:
            self.items.append(_("第%(line)d行：%(message)s") % {"line": line, "message": message})

    def __bool__(self) -> bool:
        return bool(self.items)

    def raise_if_any(self, error_cls: type[TableImportError]) -> None:
        if not self.items:
            return
        errors = self.items
        if len(errors) > MAX_ERRORS:
            hidden = len(errors) - MAX_ERRORS
            errors = [*errors[:MAX_ERRORS], _("……另有 %(n)d 个错误未列出") % {"n": hidden}]
        raise error_cls(errors)


def _cell(value: Any) -> str:
    """A cell as the text a person sees in the sheet (Excel turns 01 into 1.0 etc.)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        if value.time() == dtime.min:
            return value.date().isoformat()
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    # Exports prefix formula-like text with an apostrophe (jinzhitong.cells): undo it.
    return str(unescape_formula(str(value).strip()))


def _read_rows(
    data: bytes,
    fmt: str,
    *,
    columns: Sequence[str],
    aliases: dict[str, str],
    required: Iterable[str],
    error_cls: type[TableImportError],
) -> list[_Row]:
    """The file's data rows keyed by column name; header problems raise at once."""
    if fmt not in ("csv", "xlsx"):
        raise error_cls([_("不支持的文件格式“%(fmt)s”，请使用 CSV 或 XLSX") % {"fmt": fmt}])
    if fmt == "xlsx":
        # openpyxl fills every row and column up to a sheet's extent: look first, bounded.
        try:
            xlsx.check_xlsx(data, xlsx.default_limits(rows=MAX_ROWS + 1))
        except xlsx.XlsxError as e:
            message = str(e) if e.code == "too_large" else (
                _("文件无法读取：不是有效的 %(kind)s 文件") % {"kind": "XLSX"}
            )
            raise error_cls([message]) from None
    try:
        dataset: tablib.Dataset = read_dataset(data, fmt)
    except UnicodeDecodeError:
        raise error_cls([_("CSV 文件编码无法识别，请保存为 UTF-8 编码")]) from None
    except tablib.InvalidDimensions:
        raise error_cls([_("文件中有的行列数与表头不一致，请检查是否有多余的分隔符")]) from None
    except StopIteration:
        raise error_cls([_("文件是空的")]) from None
    except Exception:  # openpyxl/zipfile raise many kinds for a file that is not XLSX
        kind = "XLSX" if fmt == "xlsx" else "CSV"
        raise error_cls([_("文件无法读取：不是有效的 %(kind)s 文件") % {"kind": kind}]) from None

    errors = _Errors()
    positions: list[tuple[int, str]] = []
    seen: set[str] = set()
    for index, header in enumerate(dataset.headers or []):
        name = _cell(header)
        if not name:
            continue  # spreadsheets often carry empty trailing columns
        key = aliases.get(name, aliases.get(name.lower(), name.lower()))
        if key not in columns:
            errors.add(1, _("未知列“%(name)s”（可用的列：%(columns)s）")
                       % {"name": name, "columns": "、".join(columns)})
        elif key in seen:
            errors.add(1, _("列“%(name)s”重复") % {"name": name})
        else:
            seen.add(key)
            positions.append((index, key))
    for key in required:
        if key not in seen:
            errors.add(1, _("缺少列“%(name)s”") % {"name": key})
    errors.raise_if_any(error_cls)

    rows: list[_Row] = []
    for number, raw in enumerate(dataset, start=2):
        values = {key: _cell(raw[index]) for index, key in positions}
        if not any(values.values()):
            continue  # blank lines between blocks are fine
        rows.append(_Row(number, values))
        if len(rows) > MAX_ROWS:
            raise error_cls([_("文件超过 %(n)d 行，请拆分后导入") % {"n": MAX_ROWS}])
    if not rows:
        raise error_cls([_("文件没有数据行")])
    return rows


_TRUE: Final = frozenset({"1", "true", "yes", "y", "是", "启用", "√"})
_FALSE: Final = frozenset({"0", "false", "no", "n", "否", "停用", "×"})


def _parse_bool(text: str, default: bool) -> bool | None:
    if text == "":
        return default
    lowered = text.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    return None


def _parse_int(text: str, default: int) -> int | None:
    if text == "":
        return default
    if not re.fullmatch(r"[+-]?\d{1,9}", text):
        return None
    return int(text)


_DATE_RE: Final = re.compile(r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?(?: 00:00(?::00)?)?")


def _parse_date(text: str) -> date | None:
    match = _DATE_RE.fullmatch(text)
    if match is None:
        return None
    try:
        return date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return None


def _too_long(text: str, limit: int) -> bool:
    return len(text) > limit


# ------------------------------------------------------------------------------ catalogue

_CATALOG_ALIASES: Final[dict[str, str]] = {
    "层级": "type",
    "行类型": "type",
    "代码": "code",
    "编码": "code",
    "上级代码": "parent_code",
    "名称": "name",
    "名称/立案条件": "name",
    "部件/事件": "kind",
    "类型": "kind",
    "检索词": "keywords",
    "关键词": "keywords",
    "处置时限": "limit_amount",
    "时限": "limit_amount",
    "时限单位": "limit_unit",
    "结案条件": "closing_condition",
    "紧急": "urgent",
    "排序": "sort",
    "启用": "active",
}
_ROW_TYPES: Final[dict[str, str]] = {
    ROW_MAJOR: ROW_MAJOR,
    "大类": ROW_MAJOR,
    ROW_MINOR: ROW_MINOR,
    "小类": ROW_MINOR,
    ROW_STANDARD: ROW_STANDARD,
    "立案条件": ROW_STANDARD,
}
_KINDS: Final[dict[str, str]] = {
    CategoryKind.COMPONENT.value: CategoryKind.COMPONENT.value,
    "部件": CategoryKind.COMPONENT.value,
    CategoryKind.EVENT.value: CategoryKind.EVENT.value,
    "事件": CategoryKind.EVENT.value,
}
# The Chinese labels are fixed source strings (not the translated choice labels), so a
# file reads the same whatever the admin's language.
_UNITS: Final[dict[str, str]] = {
    **{unit.value: unit.value for unit in LimitUnit},
    "紧急工作时": LimitUnit.URGENT_HOURS.value,
    "工作时": LimitUnit.WORKING_HOURS.value,
    "工作日": LimitUnit.WORKING_DAYS.value,
    "自然日": LimitUnit.CALENDAR_DAYS.value,
}
_AMOUNT_MAX: Final = Decimal("99999.99")



@dataclass
class _CategorySpec:
    line: int
    type: str
    code: str
    parent_code: str
    values: dict[str, Any]


@dataclass
class _StandardSpec:
    line: int
    code: str
    category_code: str
    values: dict[str, Any]


def _catalog_row(
    row: _Row, errors: _Errors
) -> _CategorySpec | _StandardSpec | None:
    line = row.line
    row_type = _ROW_TYPES.get(row["type"].lower()) or _ROW_TYPES.get(row["type"])
    if row_type is None:
        errors.add(line, _("type“%(v)s”无效，应为 major（大类）、minor（小类）"
                           "或 standard（立案条件）") % {"v": row["type"]})
        return None
    code, parent_code, name = row["code"], row["parent_code"], row["name"]
    before = len(errors.items)
    if not code:
        errors.add(line, _("缺少代码"))
    elif re.search(r"\s", code):
        errors.add(line, _("代码“%(code)s”不能含空格") % {"code": code})
    sort = _parse_int(row["sort"], 0)
    if sort is None or sort < 0:
        errors.add(line, _("排序“%(v)s”应为不小于 0 的整数") % {"v": row["sort"]})

    if row_type == ROW_STANDARD:
        if _too_long(code, 40):
            errors.add(line, _("立案条件代码不能超过 40 个字符"))
        if not parent_code:
            errors.add(line, _("立案条件须填写所属小类的代码（parent_code）"))
        if not name:
            errors.add(line, _("缺少立案条件（name 列）"))
        elif _too_long(name, 200):
            errors.add(line, _("立案条件不能超过 200 个字符"))
        for column in ("kind", "keywords", "active"):
            if row[column]:
                errors.add(line, _("立案条件行不填“%(column)s”") % {"column": column})
        amount: Decimal | None = None
        if not row["limit_amount"]:
            errors.add(line, _("缺少处置时限（limit_amount）"))
        else:
            try:
                amount = Decimal(row["limit_amount"])
            except InvalidOperation:
                amount = None
            if (
                amount is None
                or not amount.is_finite()
                or amount <= 0
                or amount > _AMOUNT_MAX
                or amount != amount.quantize(Decimal("0.01"))
            ):
                errors.add(line, _("处置时限“%(v)s”应为大于 0 的数，最多两位小数")
                           % {"v": row["limit_amount"]})
                amount = None
        unit = _UNITS.get(row["limit_unit"])
        if unit is None:
            errors.add(line, _("时限单位“%(v)s”无效，应为 urgent_hours（紧急工作时）、"
                               "working_hours（工作时）、working_days（工作日）或 "
                               "calendar_days（自然日）") % {"v": row["limit_unit"]})
        closing = row["closing_condition"]
        if not closing:
            errors.add(line, _("缺少结案条件（closing_condition）"))
        elif _too_long(closing, 200):
            errors.add(line, _("结案条件不能超过 200 个字符"))
        urgent = _parse_bool(row["urgent"], False)
        if urgent is None:
            errors.add(line, _("urgent“%(v)s”应为 1 或 0") % {"v": row["urgent"]})
        if len(errors.items) > before:
            return None
        return _StandardSpec(
            line, code, parent_code,
            {
                "condition": name, "limit_amount": amount, "limit_unit": unit,
                "closing_condition": closing, "is_urgent": urgent, "sort": sort,
            },
        )

    if _too_long(code, 32):
        errors.add(line, _("类别代码不能超过 32 个字符"))
    if row_type == ROW_MAJOR and parent_code:
        errors.add(line, _("大类不填上级代码（parent_code）"))
    if row_type == ROW_MINOR and not parent_code:
        errors.add(line, _("小类须填写所属大类的代码（parent_code）"))
    if not name:
        errors.add(line, _("缺少名称"))
    elif _too_long(name, 64):
        errors.add(line, _("名称不能超过 64 个字符"))
    kind = _KINDS.get(row["kind"].lower())
    if kind is None:
        errors.add(line, _("kind“%(v)s”无效，应为 component（部件）或 event（事件）")
                   % {"v": row["kind"]})
    if _too_long(row["keywords"], 200):
        errors.add(line, _("检索词不能超过 200 个字符"))
    for column in ("limit_amount", "limit_unit", "closing_condition", "urgent"):
        if row[column]:
            errors.add(line, _("类别行不填“%(column)s”（时限写在立案条件行）") % {"column": column})
    active = _parse_bool(row["active"], True)
    if active is None:
        errors.add(line, _("active“%(v)s”应为 1 或 0") % {"v": row["active"]})
    if len(errors.items) > before:
        return None
    return _CategorySpec(
        line, row_type, code, parent_code,
        {"name": name, "kind": kind, "keywords": row["keywords"], "sort": sort,
         "is_active": active},
    )


def _changed(obj: Any, values: dict[str, Any]) -> list[str]:
    changed = [name for name, value in values.items() if getattr(obj, name) != value]
    for name in changed:
        setattr(obj, name, values[name])
    return changed


def import_catalog(file_bytes: bytes, *, fmt: str) -> ImportResult:
    """Upsert categories and filing standards from a CSV/XLSX table, all or nothing."""
    rows = _read_rows(
        file_bytes, fmt, columns=CATALOG_COLUMNS, aliases=_CATALOG_ALIASES,
        required=("type", "code", "parent_code", "name"), error_cls=CatalogImportError,
    )
    errors = _Errors()
    categories: dict[str, _CategorySpec] = {}
    standards: dict[str, _StandardSpec] = {}
    refused: set[str] = set()  # codes of rows already in error: not reported again as parents
    for row in rows:
        spec = _catalog_row(row, errors)
        if spec is None:
            refused.add(row["code"])
            continue
        table: dict[str, Any] = standards if isinstance(spec, _StandardSpec) else categories
        first = table.get(spec.code)
        if first is not None:
            errors.add(spec.line, _("代码“%(code)s”与第%(line)d行重复")
                       % {"code": spec.code, "line": first.line})
            continue
        table[spec.code] = spec

    with transaction.atomic():
        existing = {c.code: c for c in Category.objects.select_for_update()}
        existing_standards = {s.code: s for s in FilingStandard.objects.select_for_update()}

        def is_major(code: str) -> bool | None:
            if code in categories:
                return categories[code].type == ROW_MAJOR
            if code in existing:
                return existing[code].parent_id is None
            return None

        for spec in categories.values():
            current = existing.get(spec.code)
            if current is not None and (current.parent_id is None) != (spec.type == ROW_MAJOR):
                was = _("小类") if current.parent_id is not None else _("大类")
                errors.add(spec.line, _("类别“%(code)s”在系统中是%(was)s，导入不能改变大类/小类"
                                        "（请在后台修改）") % {"code": spec.code, "was": was})
            if spec.type == ROW_MINOR and spec.parent_code not in refused:
                major = is_major(spec.parent_code)
                if major is None:
                    errors.add(spec.line, _("上级大类“%(code)s”不存在")
                               % {"code": spec.parent_code})
                elif not major:
                    errors.add(spec.line, _("上级“%(code)s”是小类，小类只能放在大类下")
                               % {"code": spec.parent_code})
        for sspec in standards.values():
            if sspec.category_code in refused:
                continue
            major = is_major(sspec.category_code)
            if major is None:
                errors.add(sspec.line, _("所属小类“%(code)s”不存在")
                           % {"code": sspec.category_code})
            elif major:
                errors.add(sspec.line, _("立案条件只能属于小类，“%(code)s”是大类")
                           % {"code": sspec.category_code})
        errors.raise_if_any(CatalogImportError)

        result = ImportResult()
        saved: dict[str, Category] = dict(existing)
        # Majors before minors, so a minor's parent always exists when it is written.
        ordered = sorted(categories.values(), key=lambda s: s.type != ROW_MAJOR)
        for spec in ordered:
            values = dict(spec.values)
            values["parent_id"] = saved[spec.parent_code].pk if spec.type == ROW_MINOR else None
            obj = existing.get(spec.code)
            if obj is None:
                obj = category_save(category=Category(code=spec.code, **values))
                result.created += 1
            else:
                changed = _changed(obj, values)
                if changed:
                    category_save(category=obj, update_fields=changed)
                    result.updated += 1
                else:
                    result.unchanged += 1
            saved[spec.code] = obj
        for sspec in standards.values():
            values = dict(sspec.values)
            values["category_id"] = saved[sspec.category_code].pk
            std = existing_standards.get(sspec.code)
            if std is None:
                standard_save(standard=FilingStandard(code=sspec.code, **values))
                result.created += 1
            else:
                changed = _changed(std, values)
                if changed:
                    standard_save(standard=std, update_fields=changed)
                    result.updated += 1
                else:
                    result.unchanged += 1
    return result


def catalog_dataset() -> tablib.Dataset:
    """The whole catalogue in import format: each major, its minors, their standards."""
    categories = list(Category.objects.select_related("parent").order_by("sort", "code"))
    standards = list(FilingStandard.objects.select_related("category").order_by("sort", "code"))
    minors: dict[int, list[Category]] = {}
    for category in categories:
        if category.parent_id is not None:
            minors.setdefault(category.parent_id, []).append(category)
    by_category: dict[int, list[FilingStandard]] = {}
    for standard in standards:
        by_category.setdefault(standard.category_id, []).append(standard)

    category_resource, standard_resource = CategoryResource(), FilingStandardResource()
    dataset = tablib.Dataset(headers=list(CATALOG_COLUMNS), title="catalogue")
    for major in categories:
        if major.parent_id is not None:
            continue
        dataset.append(category_resource.export_resource(major))
        for minor in minors.get(major.pk, []):
            dataset.append(category_resource.export_resource(minor))
            for standard in by_category.get(minor.pk, []):
                dataset.append(standard_resource.export_resource(standard))
    return dataset


def export_catalog(*, fmt: str) -> bytes:
    return write_dataset(catalog_dataset(), fmt)


def category_errors(category: Category) -> list[str]:
    """Why ``category`` cannot be saved as it stands (the admin form shows these too)."""
    errors: list[str] = []
    parent = category.parent
    if parent is not None:
        if category.pk is not None and parent.pk == category.pk:
            errors.append(_("类别不能以自己为上级"))
        elif parent.parent_id is not None:
            errors.append(_("上级“%(code)s”是小类，小类只能放在大类下") % {"code": parent.code})
        if category.pk is not None and category.children.exists():
            errors.append(_("该大类下还有小类，不能改为小类"))
    return errors


def category_save(*, category: Category, update_fields: list[str] | None = None) -> Category:
    """Save a new or edited category (admin, catalogue import): two levels only."""
    errors = category_errors(category)
    if errors:
        raise ValidationError(errors)
    category.save(update_fields=update_fields)
    return category


def standard_save(
    *, standard: FilingStandard, update_fields: list[str] | None = None
) -> FilingStandard:
    """Save a new or edited filing standard (立案条件); it belongs to a minor category."""
    if standard.category.parent_id is None:
        raise ValidationError(
            _("立案条件只能属于小类，“%(code)s”是大类") % {"code": standard.category.code}
        )
    if standard.limit_amount is not None and standard.limit_amount <= 0:
        raise ValidationError(_("处置时限必须大于 0"))
    standard.save(update_fields=update_fields)
    return standard


def standard_delete(*, standard: FilingStandard) -> None:
    standard.delete()
def rules_set_active(*, rules: QuerySet[RoutingRule], active: bool) -> int:
    """Enable or disable ``rules`` (already limited to the caller's scope); the number
    changed. ``updated_at`` is set so every process reloads its rule table."""
    return rules.exclude(is_active=active).update(is_active=active, updated_at=timezone.now())


# ---------------------------------------------------------------------------- rule import

_RULE_ALIASES: Final[dict[str, str]] = {
    "编号": "id",
    "规则编号": "id",
    "类别代码": "category_code",
    "区划代码": "region_code",
    "部门编码": "department_code",
    "部门代码": "department_code",
    "派遣层级": "level",
    "层级": "level",
    "方式": "mode",
    "派遣方式": "mode",
    "优先级": "priority",
    "启用": "active",
    "生效日期": "valid_from",
    "失效日期": "valid_until",
    "备注": "note",
}
_LEVELS: Final[dict[str, str]] = {
    "street": DispatchLevel.STREET.value,
    "街道": DispatchLevel.STREET.value,
    "district": DispatchLevel.DISTRICT.value,
    "区级": DispatchLevel.DISTRICT.value,
    "区": DispatchLevel.DISTRICT.value,
}
_MODES: Final[dict[str, str]] = {
    "auto": RoutingMode.AUTO.value,
    "自动": RoutingMode.AUTO.value,
    "自动派遣": RoutingMode.AUTO.value,
    "propose": RoutingMode.PROPOSE.value,
    "建议": RoutingMode.PROPOSE.value,
    "建议派遣": RoutingMode.PROPOSE.value,
}
_PRIORITY_LIMIT: Final = 1_000_000

# (category_id, region_id, department_id, level, mode, valid_from)
_RuleKey = tuple[int, int, int, str, str, date | None]


@dataclass
class _RuleSpec:
    line: int
    id: int | None
    values: dict[str, Any]

    @property
    def key(self) -> _RuleKey:
        v = self.values
        return (v["category_id"], v["region_id"], v["department_id"], v["level"], v["mode"],
                v["valid_from"])


def _rule_key(rule: RoutingRule) -> _RuleKey:
    return (rule.category_id, rule.region_id, rule.department_id, rule.level, rule.mode,
            rule.valid_from)


def import_rules(file_bytes: bytes, *, fmt: str) -> ImportResult:
    """Upsert routing rules from a CSV/XLSX table, all or nothing.

    A row with an ``id`` updates that rule (every column); a row without one updates the
    rule with the same category, region, department, level, mode and valid_from (its
    priority, active, valid_until and note) or creates it.
    """
    rows = _read_rows(
        file_bytes, fmt, columns=RULE_COLUMNS, aliases=_RULE_ALIASES,
        required=("category_code", "region_code", "department_code", "level", "mode"),
        error_cls=RuleImportError,
    )
    errors = _Errors()
    categories = {
        c.code: c for c in Category.objects.filter(code__in={r["category_code"] for r in rows})
    }
    regions = {r.code: r for r in Region.objects.filter(code__in={r["region_code"] for r in rows})}
    departments = {
        d.code: d
        for d in Department.objects.select_related("region").filter(
            code__in={r["department_code"] for r in rows}
        )
    }
    specs: list[_RuleSpec] = []
    for row in rows:
        line, before = row.line, len(errors.items)
        rule_id: int | None = None
        if row["id"]:
            rule_id = _parse_int(row["id"], 0)
            if rule_id is None or rule_id <= 0:
                errors.add(line, _("id“%(v)s”应为正整数（新规则留空）") % {"v": row["id"]})
        category = categories.get(row["category_code"])
        if category is None:
            errors.add(line, _("类别代码“%(v)s”不存在") % {"v": row["category_code"]})
        region = regions.get(row["region_code"])
        if region is None:
            errors.add(line, _("区划代码“%(v)s”不存在") % {"v": row["region_code"]})
        department = departments.get(row["department_code"])
        if department is None:
            errors.add(line, _("部门编码“%(v)s”不存在") % {"v": row["department_code"]})
        elif not department.is_active:
            errors.add(line, _("部门“%(v)s”已停用") % {"v": department.name})
        level = _LEVELS.get(row["level"].lower())
        if level is None:
            errors.add(line, _("派遣层级“%(v)s”无效，应为 street（街道）或 district（区级）")
                       % {"v": row["level"]})
        mode = _MODES.get(row["mode"].lower())
        if mode is None:
            errors.add(line, _("方式“%(v)s”无效，应为 auto（自动派遣）或 propose（建议派遣）")
                       % {"v": row["mode"]})
        priority = _parse_int(row["priority"], 0)
        if priority is None or abs(priority) > _PRIORITY_LIMIT:
            errors.add(line, _("优先级“%(v)s”应为整数") % {"v": row["priority"]})
        active = _parse_bool(row["active"], True)
        if active is None:
            errors.add(line, _("active“%(v)s”应为 1 或 0") % {"v": row["active"]})
        bounds: dict[str, date | None] = {}
        for column in ("valid_from", "valid_until"):
            text = row[column]
            bounds[column] = _parse_date(text) if text else None
            if text and bounds[column] is None:
                errors.add(line, _("%(column)s“%(v)s”不是有效日期，应为 YYYY-MM-DD")
                           % {"column": column, "v": text})
        start, end = bounds["valid_from"], bounds["valid_until"]
        if start and end and end < start:
            errors.add(line, _("失效日期 %(end)s 早于生效日期 %(start)s")
                       % {"end": end.isoformat(), "start": start.isoformat()})
        if _too_long(row["note"], 200):
            errors.add(line, _("备注不能超过 200 个字符"))
        if department is not None and region is not None and level is not None:
            for problem in rule_department_errors(
                level=level, department_name=department.name,
                department_region=department.region, region=region,
            ):
                errors.add(line, problem)
        if len(errors.items) > before:
            continue
        assert category and region and department  # narrowed by the checks above
        specs.append(_RuleSpec(line, rule_id, {
            "category_id": category.pk, "region_id": region.pk, "department_id": department.pk,
            "level": level, "mode": mode, "priority": priority, "is_active": active,
            "valid_from": start, "valid_until": end, "note": row["note"],
        }))

    with transaction.atomic():
        existing = {rule.pk: rule for rule in RoutingRule.objects.select_for_update()}
        by_key: dict[_RuleKey, list[int]] = {}
        for rule in existing.values():
            by_key.setdefault(_rule_key(rule), []).append(rule.pk)

        targets: dict[int, int] = {}  # rule id → line that writes it
        keys: dict[_RuleKey, int] = {}  # natural key → line that holds it
        for spec in specs:
            first_line = keys.get(spec.key)
            if first_line is not None:
                errors.add(spec.line, _("与第%(line)d行是同一条规则（类别、区划、部门、层级、方式、"
                                        "生效日期都相同）") % {"line": first_line})
                continue
            keys[spec.key] = spec.line
            target: int | None = spec.id
            if target is not None and target not in existing:
                errors.add(spec.line, _("规则 id %(id)d 不存在（新规则请把 id 留空）")
                           % {"id": target})
                continue
            if target is None:
                matches = sorted(by_key.get(spec.key, []))
                if len(matches) > 1:
                    errors.add(spec.line, _("系统中有多条相同的规则 %(ids)s，"
                                            "请填写 id 指明更新哪一条")
                               % {"ids": "、".join(f"#{m}" for m in matches)})
                    continue
                target = matches[0] if matches else None
            if target is not None:
                other = targets.get(target)
                if other is not None:
                    errors.add(spec.line, _("与第%(line)d行更新的是同一条规则 #%(id)d")
                               % {"line": other, "id": target})
                    continue
                targets[target] = spec.line
                spec.id = target
        errors.raise_if_any(RuleImportError)

        result = ImportResult()
        new: list[RoutingRule] = []
        for spec in specs:
            if spec.id is None:
                new.append(RoutingRule(**spec.values))
                continue
            rule = existing[spec.id]
            changed = _changed(rule, spec.values)
            if changed:
                rule_save(rule=rule, update_fields=changed)
                result.updated += 1
            else:
                result.unchanged += 1
        # New rules in one statement (a city's table is thousands of rows); the rows
        # were validated above, as rule_save would, and the cache is dropped below.
        RoutingRule.objects.bulk_create(new)
        result.created = len(new)
        transaction.on_commit(reset_rule_table_cache)
    result.warnings.extend(rule_conflict_warnings())
    return result


def rules_dataset(rules: QuerySet[RoutingRule] | None = None) -> tablib.Dataset:
    """The rule table in import format; ``rules`` limits it (e.g. to a user's scope)."""
    rules = (RoutingRule.objects.all() if rules is None else rules).select_related(
        "category", "region", "department"
    ).order_by("category__code", "region__code", "-priority", "pk")
    dataset = tablib.Dataset(headers=list(RULE_COLUMNS), title="rules")
    resource = RoutingRuleResource()
    for rule in rules:
        dataset.append(resource.export_resource(rule))
    return dataset


def export_rules(*, fmt: str, rules: QuerySet[RoutingRule] | None = None) -> bytes:
    return write_dataset(rules_dataset(rules), fmt)


def file_format(filename: str) -> str | None:
    """"xlsx" or "csv" from a file name's extension; None for anything else."""
    suffix = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    return suffix if suffix in ("xlsx", "csv") else None
