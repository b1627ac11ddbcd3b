"""Admin of the work calendar: office hours (a singleton) and holidays / make-up working
days. Every save goes through ``reports.calendar`` so caches in all processes are
refreshed, and the list pages warn about years that fall back to Monday–Friday. The
calendar is one table for the whole deployment: only city-level administrators write it
(``CityWideAdmin``)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from reports import calendar
from reports.admin.tables import CityWideAdmin
from reports.models import WorkDay, WorkSchedule

_WEEKDAYS = (_("周一"), _("周二"), _("周三"), _("周四"), _("周五"), _("周六"), _("周日"))


def _warn_coverage(request: HttpRequest) -> None:
    for text in calendar.calendar_coverage_warnings():
        messages.warning(request, text)


@admin.register(WorkDay)
class WorkDayAdmin(CityWideAdmin, admin.ModelAdmin):  # type: ignore[type-arg]
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
class WorkScheduleAdmin(CityWideAdmin, admin.ModelAdmin):  # type: ignore[type-arg]
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
