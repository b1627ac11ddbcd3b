"""Admin of the routing rules: scoped to the regions a rule covers
(``reports.selectors.rules_visible_to``), with import/export, 规则检查 and 试分拨 pages."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import URLPattern, path
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from grids import geo
from grids.models import Level, Region
from grids.selectors import departments_visible_to, regions_visible_to
from reports import catalog as catalog_service
from reports import dispatching
from reports.admin.tables import table_export_view, table_import_view
from reports.models import Category, RoutingRule
from reports.selectors import rule_regions_visible_to, rules_visible_to


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
        return table_import_view(
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
        return table_export_view(
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
        self, request: HttpRequest, result: dispatching.DryRun
    ) -> tuple[dispatching.DryRun, bool]:
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
