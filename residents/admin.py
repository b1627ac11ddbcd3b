"""Admin of the residents app: the care tags, levels (with their visit plans) and rules are
editable; the personal-data access log is reviewable by superusers and editable by nobody.

Tags, levels and rules are city-wide tables: only city-level administrators (superusers,
or the admin role at a city) may change them, whatever model permissions a district's or
street's staff hold; others may look. Every change goes through ``residents.services``,
which refreshes every household's level and due date.

Households and people are not in the admin: they are read through scoped pages only, so
that every full-record view is logged with a purpose.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.forms import ModelForm
from django.http import HttpRequest

from grids.selectors import is_city_admin
from residents import services
from residents.models import AccessLog, CareLevel, CareRule, Tag


class CityTableAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Changes only by city-level administrators; bulk delete goes through the services."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return super().has_add_permission(request) and is_city_admin(request.user)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_change_permission(request, obj) and is_city_admin(request.user)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_delete_permission(request, obj) and is_city_admin(request.user)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        for obj in queryset:
            self.delete_model(request, obj)


@admin.register(CareLevel)
class CareLevelAdmin(CityTableAdmin):
    list_display = ["rank", "name", "color", "visit_every_days", "meaning"]
    list_editable = ["name", "color", "visit_every_days", "meaning"]
    ordering = ["rank"]

    def save_model(self, request: HttpRequest, obj: CareLevel, form: ModelForm, change: bool
                   ) -> None:
        services.care_level_save(actor=request.user, level=obj)  # type: ignore[arg-type]

    def delete_model(self, request: HttpRequest, obj: CareLevel) -> None:
        services.care_level_delete(actor=request.user, level=obj)  # type: ignore[arg-type]


@admin.register(Tag)
class TagAdmin(CityTableAdmin):
    list_display = ["name", "code", "graded", "derived", "sort"]
    list_editable = ["sort"]
    readonly_fields = ["derived"]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Derived tags (高龄) have a meaning in code.
        if obj is not None and obj.derived:
            return False
        return super().has_delete_permission(request, obj)

    def save_model(self, request: HttpRequest, obj: Tag, form: ModelForm, change: bool) -> None:
        services.tag_save(actor=request.user, tag=obj)  # type: ignore[arg-type]

    def delete_model(self, request: HttpRequest, obj: Tag) -> None:
        services.tag_delete(actor=request.user, tag=obj)  # type: ignore[arg-type]


@admin.register(CareRule)
class CareRuleAdmin(CityTableAdmin):
    list_display = ["tag", "max_grade", "level"]
    list_filter = ["level"]

    def save_model(self, request: HttpRequest, obj: CareRule, form: ModelForm, change: bool
                   ) -> None:
        services.care_rule_save(actor=request.user, rule=obj)  # type: ignore[arg-type]

    def delete_model(self, request: HttpRequest, obj: CareRule) -> None:
        services.care_rule_delete(actor=request.user, rule=obj)  # type: ignore[arg-type]


@admin.register(AccessLog)
class AccessLogAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["at", "kind", "user", "person_id", "region", "rows", "purpose", "ip"]
    list_filter = ["kind"]
    search_fields = ["user__username", "user__full_name", "purpose", "ip"]
    date_hierarchy = "at"
    list_select_related = ["user", "region"]

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.is_active and request.user.is_superuser)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return True

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
