"""Admin of the residents app: the care tags, levels (with their visit plans) and rules are
editable; the personal-data access log is reviewable by superusers and editable by nobody.

Households and people are not in the admin: they are read through scoped pages only, so
that every full-record view is logged with a purpose.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from residents.models import AccessLog, CareLevel, CareRule, Tag


@admin.register(CareLevel)
class CareLevelAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["rank", "name", "color", "visit_every_days", "meaning"]
    list_editable = ["name", "color", "visit_every_days", "meaning"]
    ordering = ["rank"]


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["name", "code", "graded", "derived", "sort"]
    list_editable = ["sort"]
    readonly_fields = ["derived"]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Derived tags (高龄) have a meaning in code.
        if obj is not None and obj.derived:
            return False
        return super().has_delete_permission(request, obj)


@admin.register(CareRule)
class CareRuleAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["tag", "max_grade", "level"]
    list_filter = ["level"]


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
