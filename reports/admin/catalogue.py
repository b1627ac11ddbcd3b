"""Admin of the catalogue: categories (大类/小类) with their filing standards (立案条件), and
the stage limits. City-wide tables: delegated staff read them, city-level administrators
write them (``CityWideAdmin``); bulk import is the superuser's."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern, path
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from reports import catalog as catalog_service
from reports.admin.tables import CityWideAdmin, table_export_view, table_import_view
from reports.models import Category, FilingStandard, StageLimit
from reports.sla import format_amount


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


class FilingStandardInline(CityWideAdmin, admin.TabularInline):  # type: ignore[type-arg]
    model = FilingStandard
    fields = [
        "code", "condition", "limit_amount", "limit_unit", "closing_condition", "is_urgent",
        "sort",
    ]
    extra = 0


@admin.register(Category)
class CategoryAdmin(CityWideAdmin, admin.ModelAdmin):  # type: ignore[type-arg]
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
        return table_import_view(
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
        return table_export_view(
            request, self, basename="catalogue", exporter=catalog_service.export_catalog
        )


@admin.register(FilingStandard)
class FilingStandardAdmin(CityWideAdmin, admin.ModelAdmin):  # type: ignore[type-arg]
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
class StageLimitAdmin(CityWideAdmin, admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["stage", "amount", "unit"]
    list_editable = ["amount", "unit"]
    ordering = ["stage"]

    def has_delete_permission(self, request: HttpRequest, obj: StageLimit | None = None) -> bool:
        # Every stage needs a limit; change it instead.
        return False
