"""Admin for the reports app.

Sections:
- Work calendar: office hours (a singleton) and holidays / make-up working days. Every
  save goes through ``reports.calendar`` so caches in all processes are refreshed, and
  the list pages warn about years that fall back to Monday–Friday.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from reports import calendar
from reports.models import WorkDay, WorkSchedule

# ---------------------------------------------------------------------------------------
# Work calendar
# ---------------------------------------------------------------------------------------

_WEEKDAYS = (_("周一"), _("周二"), _("周三"), _("周四"), _("周五"), _("周六"), _("周日"))


def _warn_coverage(request: HttpRequest) -> None:
    for text in calendar.calendar_coverage_warnings():
        messages.warning(request, text)


@admin.register(WorkDay)
class WorkDayAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["date", "weekday", "is_working", "note", "source", "updated_at"]
    list_filter = ["is_working", "source"]
    search_fields = ["note"]
    date_hierarchy = "date"
    fields = ["date", "is_working", "note", "source", "updated_at"]
    list_per_page = 100

    @admin.display(description=_("星期"))
    def weekday(self, obj: WorkDay) -> str:
        return str(_WEEKDAYS[obj.date.weekday()])

    def get_readonly_fields(self, request: HttpRequest, obj: WorkDay | None = None) -> list[str]:
        # The date identifies the row; to move a holiday, add the new day and delete the old.
        readonly = ["source", "updated_at"]
        return ["date", *readonly] if obj is not None else readonly

    def has_delete_permission(self, request: HttpRequest, obj: WorkDay | None = None) -> bool:
        # A seeded day deleted here would come back with the next seed; edit it instead
        # (it then becomes an administrator's row, which seeding never touches).
        if obj is not None and obj.source == WorkDay.Source.CHINESE_CALENDAR:
            return False
        return super().has_delete_permission(request, obj)

    def save_model(self, request: HttpRequest, obj: WorkDay, form: Any, change: bool) -> None:
        saved = calendar.workday_save(day=obj.date, is_working=obj.is_working, note=obj.note)
        obj.pk, obj.source, obj.updated_at = saved.pk, saved.source, saved.updated_at

    def delete_model(self, request: HttpRequest, obj: WorkDay) -> None:
        calendar.workdays_delete(pks=[obj.pk])

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[WorkDay]) -> None:
        calendar.workdays_delete(pks=queryset.values_list("pk", flat=True))

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        if request.method == "GET":
            _warn_coverage(request)
        return super().changelist_view(request, extra_context)


@admin.register(WorkSchedule)
class WorkScheduleAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    fields = ["morning_start", "morning_end", "afternoon_start", "afternoon_end", "updated_at"]
    readonly_fields = ["updated_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: WorkSchedule | None = None) -> bool:
        return False

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        # One schedule: the list is just a detour to it.
        if not self.has_view_or_change_permission(request):
            return super().changelist_view(request, extra_context)
        schedule = calendar.get_schedule()
        url = reverse("admin:reports_workschedule_change", args=[schedule.pk])
        return HttpResponseRedirect(url)

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        if request.method == "GET":
            _warn_coverage(request)
        return super().change_view(request, object_id, form_url, extra_context)

    def save_model(self, request: HttpRequest, obj: WorkSchedule, form: Any, change: bool) -> None:
        saved = calendar.schedule_update(
            morning_start=obj.morning_start,
            morning_end=obj.morning_end,
            afternoon_start=obj.afternoon_start,
            afternoon_end=obj.afternoon_end,
        )
        obj.revision, obj.updated_at = saved.revision, saved.updated_at


# =======================================================================================
# Catalogue, filing standards, stage limits, routing rules and the read-only case list.
# (Catalogue/rules section: import/export, 规则检查 and 试分拨 pages. The imports are
# here so that this section stays self-contained below the calendar section.)
# =======================================================================================

import re  # noqa: E402
from dataclasses import replace  # noqa: E402
from datetime import datetime  # noqa: E402
from functools import cached_property  # noqa: E402
from math import ceil  # noqa: E402

from django import forms  # noqa: E402
from django.contrib.admin.views.main import ChangeList  # noqa: E402
from django.core.exceptions import PermissionDenied  # noqa: E402
from django.core.paginator import Paginator  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.models import Count, Q  # noqa: E402
from django.http import Http404  # noqa: E402
from django.http.response import HttpResponseBase  # noqa: E402
from django.shortcuts import get_object_or_404, render  # noqa: E402
from django.urls import URLPattern, path  # noqa: E402
from django.utils import timezone  # noqa: E402
from django.utils.html import format_html  # noqa: E402
from django.utils.translation import gettext  # noqa: E402

from grids import geo  # noqa: E402
from grids.models import Level, Region  # noqa: E402
from grids.selectors import departments_visible_to, regions_visible_to  # noqa: E402
from jinzhitong.protected import protected_file_response  # noqa: E402
from reports import catalog as catalog_service  # noqa: E402
from reports import dispatching  # noqa: E402
from reports.models import (  # noqa: E402
    Category,
    FilingStandard,
    Report,
    ReportEvent,
    ReportPhoto,
    RoutingRule,
    StageLimit,
)
from reports.resources import CONTENT_TYPES  # noqa: E402
from reports.selectors import (  # noqa: E402
    report_clock,
    reports_listed_for,
    reports_visible_to,
    rule_regions_visible_to,
    rules_visible_to,
    stage_limits,
)
from reports.sla import format_amount  # noqa: E402

# A city's catalogue or rule table is well under a megabyte; 10 MB is a wrong file.
MAX_TABLE_UPLOAD = 10 * 1024 * 1024


def can_import_tables(user: Any) -> bool:
    """Catalogue and rule tables are city-wide: only superusers replace them in bulk."""
    return bool(user.is_active and user.is_staff and user.is_superuser)


class TableImportForm(forms.Form):
    file = forms.FileField(
        label=_("文件"), help_text=_("XLSX 或 CSV（UTF-8 或 GB18030 编码），首行为列名")
    )

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_TABLE_UPLOAD:
            raise forms.ValidationError(
                gettext("文件过大（上限 %(mb)d MB）") % {"mb": MAX_TABLE_UPLOAD // (1024 * 1024)}
            )
        if catalog_service.file_format(upload.name) is None:
            raise forms.ValidationError(gettext("请上传 .xlsx 或 .csv 文件"))
        return upload


def _table_import_view(
    request: HttpRequest,
    model_admin: admin.ModelAdmin,  # type: ignore[type-arg]
    *,
    title: str,
    help_lines: list[str],
    importer: Any,
) -> HttpResponse:
    """Upload → service → messages; on any error the rows are listed and nothing changed."""
    if not can_import_tables(request.user):
        raise PermissionDenied
    errors: list[str] = []
    form = TableImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            result = importer(upload.read(), fmt=catalog_service.file_format(upload.name))
        except catalog_service.TableImportError as e:
            errors = e.errors
        else:
            messages.success(request, gettext("导入完成：") + result.summary())
            for warning in result.warnings:
                messages.warning(request, warning)
            opts = model_admin.model._meta
            return HttpResponseRedirect(
                reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
            )
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.model._meta,
        "title": title,
        "help_lines": help_lines,
        "form": form,
        "errors": errors,
    }
    return render(request, "admin/table_import.html", context)


def _table_export_view(
    request: HttpRequest,
    model_admin: admin.ModelAdmin,  # type: ignore[type-arg]
    *,
    basename: str,
    exporter: Any,
    **scope: Any,
) -> HttpResponse:
    if not model_admin.has_view_permission(request):
        raise PermissionDenied
    fmt = request.GET.get("format", "xlsx")
    if fmt not in CONTENT_TYPES:
        fmt = "xlsx"
    response = HttpResponse(exporter(fmt=fmt, **scope), content_type=CONTENT_TYPES[fmt])
    stamp = timezone.localdate().strftime("%Y%m%d")
    response["Content-Disposition"] = f'attachment; filename="{basename}-{stamp}.{fmt}"'
    return response


# --- categories and filing standards --------------------------------------------------


class MajorCategoryFilter(admin.SimpleListFilter):
    title = _("大类")
    parameter_name = "major"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        majors = Category.objects.filter(parent__isnull=True).order_by("sort", "code")
        return [(str(pk), f"{code} {name}") for pk, code, name in majors.values_list(
            "pk", "code", "name"
        )]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        if not value or not value.isdigit():
            return queryset
        if queryset.model is Category:
            return queryset.filter(Q(pk=value) | Q(parent_id=value))
        return queryset.filter(category__parent_id=value)


class CategoryAdminForm(forms.ModelForm):
    class Meta:
        model = Category
        fields = ["code", "name", "kind", "parent", "keywords", "sort", "is_active"]
        help_texts = {
            "parent": _("留空为大类；小类须选择所属大类"),
            "keywords": _("上报时检索类别用，空格分隔"),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        parent = self.fields.get("parent")
        if isinstance(parent, forms.ModelChoiceField):
            parent.queryset = Category.objects.filter(parent__isnull=True).exclude(
                pk=self.instance.pk
            )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if (
            data.get("parent") is not None
            and self.instance.pk
            and self.instance.children.exists()
        ):
            raise forms.ValidationError(gettext("该大类下还有小类，不能改为小类"))
        return data


class FilingStandardInline(admin.TabularInline):  # type: ignore[type-arg]
    model = FilingStandard
    fields = [
        "code", "condition", "limit_amount", "limit_unit", "closing_condition", "is_urgent",
        "sort",
    ]
    extra = 0


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    form = CategoryAdminForm
    list_display = ["code", "tree_name", "parent", "kind", "standard_count", "sort", "is_active"]
    list_display_links = ["code", "tree_name"]
    list_filter = ["kind", MajorCategoryFilter, "is_active"]
    search_fields = ["name", "^code", "keywords"]
    list_select_related = ["parent"]
    ordering = ["code"]
    inlines = [FilingStandardInline]
    list_per_page = 200

    def get_queryset(self, request: HttpRequest) -> QuerySet[Category]:
        return super().get_queryset(request).annotate(standard_total=Count("standards"))

    @admin.display(description=_("名称"), ordering="name")
    def tree_name(self, obj: Category) -> str:
        # Codes extend their major's code, so ordering by code lists each major with its
        # minors beneath it; the indent makes that visible.
        return obj.name if obj.parent_id is None else f"　└ {obj.name}"

    @admin.display(description=_("立案条件数"), ordering="standard_total")
    def standard_count(self, obj: Category) -> int:
        return int(getattr(obj, "standard_total", 0))

    def get_inlines(self, request: HttpRequest, obj: Category | None) -> list[Any]:
        # Filing standards belong to minor categories only.
        if obj is not None and obj.parent_id is None:
            return []
        return list(self.inlines)

    def save_model(self, request: HttpRequest, obj: Category, form: Any, change: bool) -> None:
        catalog_service.category_save(category=obj)

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        if formset.model is not FilingStandard:
            super().save_formset(request, form, formset, change)
            return
        standards = formset.save(commit=False)
        for standard in formset.deleted_objects:
            catalog_service.standard_delete(standard=standard)
        for standard in standards:
            catalog_service.standard_save(standard=standard)

    def get_urls(self) -> list[URLPattern]:
        extra = [
            path("import/", self.admin_site.admin_view(self.import_view),
                 name="reports_category_import"),
            path("export/", self.admin_site.admin_view(self.export_view),
                 name="reports_category_export"),
        ]
        return extra + super().get_urls()

    def import_view(self, request: HttpRequest) -> HttpResponse:
        return _table_import_view(
            request, self,
            title=gettext("导入案件类别与立案条件"),
            help_lines=[
                gettext("一张表：每行一个大类（type=major）、小类（minor）或立案条件（standard），"
                        "列为 type, code, parent_code, name, kind, keywords, limit_amount, "
                        "limit_unit, closing_condition, urgent, sort, active；格式与“导出”相同。"),
                gettext("按代码新增或更新，不会删除；停用请把 active 填 0。"
                        "文件中任何一行有误，整份文件都不导入。"),
            ],
            importer=catalog_service.import_catalog,
        )

    def export_view(self, request: HttpRequest) -> HttpResponse:
        return _table_export_view(
            request, self, basename="catalogue", exporter=catalog_service.export_catalog
        )


@admin.register(FilingStandard)
class FilingStandardAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["code", "category", "condition", "limit", "closing_condition", "is_urgent"]
    list_filter = ["limit_unit", "is_urgent", MajorCategoryFilter]
    search_fields = ["^code", "condition", "category__name"]
    list_select_related = ["category__parent"]
    ordering = ["code"]
    list_per_page = 200

    @admin.display(description=_("处置时限"))
    def limit(self, obj: FilingStandard) -> str:
        return f"{format_amount(obj.limit_amount)} {obj.get_limit_unit_display()}"

    def save_model(
        self, request: HttpRequest, obj: FilingStandard, form: Any, change: bool
    ) -> None:
        catalog_service.standard_save(standard=obj)

    def delete_model(self, request: HttpRequest, obj: FilingStandard) -> None:
        catalog_service.standard_delete(standard=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[FilingStandard]) -> None:
        for standard in queryset:
            catalog_service.standard_delete(standard=standard)

    def formfield_for_foreignkey(
        self, db_field: Any, request: HttpRequest, **kwargs: Any
    ) -> forms.ModelChoiceField | None:
        if db_field.name == "category":
            kwargs["queryset"] = Category.objects.filter(parent__isnull=False).select_related(
                "parent"
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(StageLimit)
class StageLimitAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["stage", "amount", "unit"]
    list_editable = ["amount", "unit"]
    ordering = ["stage"]

    def has_delete_permission(self, request: HttpRequest, obj: StageLimit | None = None) -> bool:
        # Every stage needs a limit; change it instead.
        return False


# --- routing rules --------------------------------------------------------------------


class RoutingRuleAdminForm(forms.ModelForm):
    class Meta:
        model = RoutingRule
        fields = [
            "category", "region", "department", "level", "mode", "priority", "is_active",
            "valid_from", "valid_until", "note",
        ]
        help_texts = {
            "region": _("规则覆盖该区划及其全部下级"),
            "category": _("选大类则覆盖其全部小类"),
            "priority": _("同一区划、同一类别的规则之间，数值大者优先"),
            "valid_until": _("含当天；留空为长期有效"),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        department = self.fields.get("department")
        if (
            isinstance(department, forms.ModelChoiceField)
            and department.queryset is not None
            and self.instance.department_id
        ):
            # A street's rule may send cases to a district department that street staff
            # cannot otherwise pick: the rule stays savable with its current department.
            department.queryset = department.queryset.model.objects.filter(
                Q(pk__in=department.queryset.values("pk")) | Q(pk=self.instance.department_id)
            )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("valid_from"), data.get("valid_until")
        if start and end and end < start:
            self.add_error("valid_until", gettext("失效日期不能早于生效日期"))
        department, region, level = data.get("department"), data.get("region"), data.get("level")
        if department is not None and region is not None and level:
            for problem in catalog_service.rule_department_errors(
                level=level, department_name=department.name,
                department_region=department.region, region=region,
            ):
                self.add_error("department", problem)
        return data


class RuleDryRunForm(forms.Form):
    category = forms.ModelChoiceField(
        label=_("类别"),
        queryset=Category.objects.filter(is_active=True).select_related("parent").order_by("code"),
    )
    region_code = forms.CharField(
        label=_("网格（或区划）代码"), required=False, max_length=32,
        help_text=_("填写网格代码；或者留空，填写下面的经纬度"),
    )
    lng = forms.FloatField(label=_("经度"), required=False, min_value=-180, max_value=180)
    lat = forms.FloatField(label=_("纬度"), required=False, min_value=-90, max_value=90)
    at = forms.DateTimeField(
        label=_("时间"), required=False, help_text=_("留空为现在；格式 2026-07-01 09:00")
    )

    def __init__(self, *args: Any, regions: QuerySet[Region], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Only places inside the user's scope; another street's code "does not exist".
        self.regions = regions

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        code = data.get("region_code")
        lng, lat = data.get("lng"), data.get("lat")
        if code:
            region = self.regions.filter(code=code).first()
            if region is None:
                self.add_error("region_code", gettext("区划代码“%(code)s”不存在") % {"code": code})
            data["region"] = region
        elif lng is not None and lat is not None:
            hit = geo.get_index().locate(lng, lat)
            region = None if hit is None else self.regions.filter(pk=hit.id).first()
            if hit is None:
                self.add_error("lng", gettext("该位置不在任何网格内"))
            elif region is None:
                self.add_error("lng", gettext("该位置不在您的管辖范围内"))
            data["region"] = region
        elif not self.errors:
            raise forms.ValidationError(gettext("请填写网格代码，或同时填写经度和纬度"))
        return data


@admin.register(RoutingRule)
class RoutingRuleAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    form = RoutingRuleAdminForm
    list_display = [
        "id", "category", "region", "department", "level", "mode", "priority", "is_active",
        "validity",
    ]
    list_filter = ["level", "mode", "is_active", ("department", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["category__name", "^category__code", "region__name", "^region__code"]
    list_select_related = ["category__parent", "region", "department"]
    autocomplete_fields = ["category", "region", "department"]
    ordering = ["category__code", "region__code", "-priority", "id"]
    list_per_page = 200

    # Scope: a rule belongs to the region it covers (reports.selectors.rules_visible_to);
    # the list, change/delete pages, bulk actions, export, check and dry run all go
    # through it, and the region/department choices are the user's own.

    actions = ["disable_selected", "enable_selected"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[RoutingRule]:
        return rules_visible_to(request.user)

    @admin.action(description=_("停用所选规则"), permissions=["change"])
    def disable_selected(self, request: HttpRequest, queryset: QuerySet[RoutingRule]) -> None:
        n = catalog_service.rules_set_active(rules=queryset, active=False)
        messages.success(request, gettext("已停用 %(n)d 条规则") % {"n": n})

    @admin.action(description=_("启用所选规则"), permissions=["change"])
    def enable_selected(self, request: HttpRequest, queryset: QuerySet[RoutingRule]) -> None:
        n = catalog_service.rules_set_active(rules=queryset, active=True)
        messages.success(request, gettext("已启用 %(n)d 条规则") % {"n": n})

    def formfield_for_foreignkey(
        self, db_field: Any, request: HttpRequest, **kwargs: Any
    ) -> forms.ModelChoiceField | None:
        if db_field.name == "region":
            kwargs["queryset"] = rule_regions_visible_to(request.user)
        elif db_field.name == "department":
            kwargs["queryset"] = departments_visible_to(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    @admin.display(description=_("有效期"))
    def validity(self, obj: RoutingRule) -> str:
        if obj.valid_from is None and obj.valid_until is None:
            return gettext("长期")
        start = obj.valid_from.isoformat() if obj.valid_from else "…"
        end = obj.valid_until.isoformat() if obj.valid_until else "…"
        return gettext("%(start)s 至 %(end)s") % {"start": start, "end": end}

    def save_model(self, request: HttpRequest, obj: RoutingRule, form: Any, change: bool) -> None:
        catalog_service.rule_save(rule=obj)
        for warning in catalog_service.rule_conflict_warnings():
            messages.warning(request, warning)

    def delete_model(self, request: HttpRequest, obj: RoutingRule) -> None:
        catalog_service.rule_delete(rule=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[RoutingRule]) -> None:
        for rule in queryset:
            catalog_service.rule_delete(rule=rule)

    def get_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view
        extra = [
            path("import/", view(self.import_view), name="reports_routingrule_import"),
            path("export/", view(self.export_view), name="reports_routingrule_export"),
            path("check/", view(self.check_view), name="reports_routingrule_check"),
            path("dry-run/", view(self.dry_run_view), name="reports_routingrule_dry_run"),
        ]
        return extra + super().get_urls()

    def import_view(self, request: HttpRequest) -> HttpResponse:
        return _table_import_view(
            request, self,
            title=gettext("导入分拨规则"),
            help_lines=[
                gettext("列：id（可选）, category_code, region_code, department_code, "
                        "level（street/district）, mode（auto/propose）, priority, active, "
                        "valid_from, valid_until（YYYY-MM-DD）, note；格式与“导出”相同。"),
                gettext("有 id 的行更新该规则；没有 id 的行按“类别、区划、部门、层级、方式、"
                        "生效日期”匹配已有规则，匹配到则更新，否则新建。"
                        "不会删除规则；停用请把 active 填 0。"
                        "文件中任何一行有误，整份文件都不导入。"),
            ],
            importer=catalog_service.import_rules,
        )

    def export_view(self, request: HttpRequest) -> HttpResponse:
        return _table_export_view(
            request, self, basename="routing-rules", exporter=catalog_service.export_rules,
            rules=self.get_queryset(request),
        )

    def check_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": gettext("规则检查"),
            "check": self._scoped_check(request, catalog_service.check_rules()),
        }
        return render(request, "admin/reports/routingrule/check.html", context)

    def _scoped_check(
        self, request: HttpRequest, check: catalog_service.RuleCheck
    ) -> catalog_service.RuleCheck:
        """The check as far as the user's scope goes: their streets, their rules."""
        if request.user.is_superuser:
            return check
        rule_ids = set(self.get_queryset(request).values_list("pk", flat=True))
        regions = regions_visible_to(request.user)
        region_ids = set(regions.values_list("pk", flat=True))
        return replace(
            check,
            rule_count=self.get_queryset(request).filter(is_active=True).count(),
            region_count=regions.filter(level=Level.STREET).count(),
            conflicts=tuple(
                c for c in check.conflicts if all(rid in rule_ids for rid, _text in c.rules)
            ),
            uncovered=tuple(u for u in check.uncovered if u.region_id in region_ids),
        )

    def dry_run_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        form = RuleDryRunForm(request.GET or None, regions=regions_visible_to(request.user))
        result = None
        hidden_rule = False
        if form.is_bound and form.is_valid() and form.cleaned_data.get("region") is not None:
            at: datetime | None = form.cleaned_data.get("at")
            result = dispatching.dry_run(
                category=form.cleaned_data["category"],
                region=form.cleaned_data["region"],
                at=at,
            )
            if not request.user.is_superuser:
                result, hidden_rule = self._scoped_dry_run(request, result)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": gettext("试分拨"),
            "form": form,
            "result": result,
            "hidden_rule": hidden_rule,
        }
        return render(request, "admin/reports/routingrule/dry_run.html", context)

    def _scoped_dry_run(
        self, request: HttpRequest, result: catalog_service.DryRun
    ) -> tuple[catalog_service.DryRun, bool]:
        """Only rules in scope are shown; a winner outside it is named as such, no more."""
        rule_ids = set(self.get_queryset(request).values_list("pk", flat=True))
        decision = result.decision
        hidden = any(
            r.id not in rule_ids
            for r in ((decision.rule,) if decision.rule else ()) + decision.candidates
        )
        if hidden:
            decision = replace(
                decision, reason=gettext("由管辖范围以外的规则决定（由上级管理员维护）")
            )
        return replace(
            result,
            decision=decision,
            rule=result.rule if result.rule and result.rule.pk in rule_ids else None,
            candidates=tuple(r for r in result.candidates if r.pk in rule_ids),
            considered=tuple(c for c in result.considered if c.rule.pk in rule_ids),
        ), hidden


# --- cases (read-only) ----------------------------------------------------------------


class ReportEventInline(admin.TabularInline):  # type: ignore[type-arg]
    model = ReportEvent
    fields = ("at", "kind", "actor", "from_state", "to_state", "note")
    readonly_fields = ("at", "kind", "actor", "from_state", "to_state", "note")
    ordering = ("at", "pk")
    extra = 0
    can_delete = False
    verbose_name_plural = _("流转记录")

    def get_queryset(self, request: HttpRequest) -> QuerySet[ReportEvent]:
        return super().get_queryset(request).select_related("actor")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ReportPhotoInline(admin.TabularInline):  # type: ignore[type-arg]
    """The case's photos, read-only: a thumbnail linking to the full image, served by
    ``ReportAdmin.photo_view`` (scoped like the case itself)."""

    model = ReportPhoto
    fields = ("preview", "kind", "uploaded_by", "created_at")
    readonly_fields = ("preview", "kind", "uploaded_by", "created_at")
    ordering = ("created_at", "pk")
    extra = 0
    can_delete = False
    verbose_name_plural = _("案件照片")

    def get_queryset(self, request: HttpRequest) -> QuerySet[ReportPhoto]:
        return super().get_queryset(request).select_related("uploaded_by")

    @admin.display(description=_("照片"))
    def preview(self, obj: ReportPhoto) -> str:
        def url(variant: str) -> str:
            return reverse("admin:reports_report_photo", args=[obj.report_id, obj.pk, variant])

        return format_html(
            '<a href="{}" target="_blank" rel="noopener"><img src="{}" alt="{}" height="96" '
            'loading="lazy"></a>',
            url("full"),
            url("thumb" if obj.thumbnail else "full"),
            obj.get_kind_display(),
        )

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


# (now, calendar, stage limits) for the rows of the changelist being rendered.
_CLOCK_CONTEXT: ContextVar[tuple[Any, Any, Any]] = ContextVar("report_clock_context")

# Up to this many matching cases are counted exactly; past it the list says "1000" (or,
# unfiltered on PostgreSQL, the planner's estimate) and offers no deeper pages: nobody
# pages through a thousand cases, they filter or search. A street center's list or a
# number prefix matches thousands of cases at city scale, and each counted row is a heap
# read: 10,000 made the street list three times slower at 1,000,000 cases than at 10,000.
COUNT_CAP = 1_000


class CappedCountPaginator(Paginator):
    """A paginator whose count costs the same at ten thousand and ten million cases.

    ``COUNT(*)`` over a ``LIMIT COUNT_CAP + 1`` subquery; above the cap, the unfiltered
    table's size comes from ``pg_class.reltuples`` (kept by ANALYZE/autovacuum)."""

    @cached_property
    def count(self) -> int:
        qs: QuerySet[Any] = self.object_list  # type: ignore[assignment]
        exact = qs.order_by()[: COUNT_CAP + 1].count()
        if exact <= COUNT_CAP:
            return int(exact)
        if connection.vendor == "postgresql" and not qs.query.where:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass",
                    [qs.model._meta.db_table],
                )
                row = cursor.fetchone()
            if row is not None and row[0] > COUNT_CAP:
                return int(row[0])
        return COUNT_CAP

    @cached_property
    def num_pages(self) -> int:
        pages = ceil(min(self.count, COUNT_CAP) / self.per_page) if self.count else 0
        return max(pages, 1) if self.allow_empty_first_page or self.count else pages


# A full case number (district code-yyyymmdd-nnnn) is looked up exactly; anything else is
# a prefix. Both are served by the unique index on ``number`` (on PostgreSQL its
# varchar_pattern_ops twin serves LIKE 'prefix%'); Django's "^number" would compare
# UPPER(number), which no index serves.
_FULL_NUMBER = re.compile(r"^\S+-\d{8}-\d{4,}$")


# What a row of the case list reads: the columns shown, and what the time-left column
# needs (state, suspension, the running deadline, when handling began, the filing
# standard's limit): a column it needs and this list lacks costs one query per row. Without
# this, every row also carries the street's boundary polygon and fifty unused columns.
LIST_COLUMNS = (
    "number", "state", "created_at", "suspended", "accept_due", "dispatch_due",
    "handle_started", "handle_due", "verify_due", "category__name", "category__parent__name",
    "street__name", "street__code", "department__name", "standard__limit_amount",
    "standard__limit_unit",
)


class ReportChangeList(ChangeList):
    def get_queryset(self, request: HttpRequest, exclude_parameters: Any = None) -> Any:
        return super().get_queryset(request, exclude_parameters).only(*LIST_COLUMNS)


@admin.register(Report)
class ReportAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Cases are written only by ``reports.workflow``: the admin may look, never touch.

    The list stays as fast at a million cases as at ten thousand: newest first on the
    ``reports_created_desc`` index (street, district and department staff on their own
    ``reports_*_created`` index), a capped count, number search on the unique index, and
    no date hierarchy (its DISTINCT over dates scans the table)."""

    list_display = [
        "number", "state", "category", "street", "department", "created_at", "time_left",
    ]
    # Choice and boolean filters render without a query; none of them counts rows.
    list_filter = ["state", "is_overdue", "urgency", "source", "dispatch_level", "created_at"]
    search_fields = ["number"]
    search_help_text = _("按案件编号查找：完整编号或编号开头，如 120104-20261123")
    list_select_related = ["category__parent", "street", "department", "standard"]
    # -id makes the order total (same second) and matches the index exactly.
    ordering = ["-created_at", "-id"]
    sortable_by = ["number", "created_at"]
    inlines = [ReportEventInline, ReportPhotoInline]
    paginator = CappedCountPaginator
    # COUNT(*) over millions of cases on every page view is not worth it.
    show_full_result_count = False

    def get_queryset(self, request: HttpRequest) -> QuerySet[Report]:
        if request.user.is_superuser:
            return super().get_queryset(request)
        # The list reads in index order; the change page keeps the plain selector.
        if request.resolver_match is not None and request.resolver_match.url_name == (
            "reports_report_changelist"
        ):
            return reports_listed_for(request.user)
        return reports_visible_to(request.user)

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type[ChangeList]:
        return ReportChangeList

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Report], search_term: str
    ) -> tuple[QuerySet[Report], bool]:
        term = search_term.strip().upper()
        if not term:
            return queryset, False
        if _FULL_NUMBER.match(term):
            return queryset.filter(number=term), False
        return queryset.filter(number__startswith=term), False

    def get_readonly_fields(self, request: HttpRequest, obj: Report | None = None) -> list[str]:
        return [f.name for f in Report._meta.fields]

    def get_urls(self) -> list[URLPattern]:
        extra = [
            path(
                "<path:object_id>/photos/<int:photo_id>/<str:variant>/",
                self.admin_site.admin_view(self.photo_view),
                name="reports_report_photo",
            ),
        ]
        return extra + super().get_urls()

    def photo_view(
        self, request: HttpRequest, object_id: str, photo_id: int, variant: str
    ) -> HttpResponseBase:
        """One photo of a case the viewer may see (out of scope: 404)."""
        report = self.get_object(request, object_id)  # through the scoped get_queryset
        if report is None or variant not in ("full", "thumb"):
            raise Http404
        if not self.has_view_permission(request, report):
            raise PermissionDenied
        photo = get_object_or_404(ReportPhoto, report=report, pk=photo_id)
        image = photo.thumbnail if variant == "thumb" and photo.thumbnail else photo.image
        return protected_file_response(image)

    def changelist_view(self, request: HttpRequest, extra_context: Any = None) -> Any:
        # One calendar and one stage-limit read per page, not per row.
        token = _CLOCK_CONTEXT.set((timezone.now(), calendar.get_calendar(), stage_limits()))
        try:
            response = super().changelist_view(request, extra_context)
            if hasattr(response, "render"):
                response.render()
            return response
        finally:
            _CLOCK_CONTEXT.reset(token)

    @admin.display(description=_("剩余时限"))
    def time_left(self, obj: Report) -> str:
        context = _CLOCK_CONTEXT.get(None)
        if context is None:
            return "—"
        now, work_calendar, limits = context
        clock = report_clock(obj, now=now, calendar=work_calendar, limits=limits)
        if clock is None:
            return "—"
        return format_html('<span class="sla sla-{}">{}</span>', clock.state, clock.text)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Report | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Report | None = None) -> bool:
        return False
