"""Admin of the cases, read-only: cases are written only by ``reports.workflow``. The list
stays as fast at a million cases as at ten thousand (see ``ReportAdmin``)."""

from __future__ import annotations

import re
from functools import cached_property
from math import ceil
from typing import Any

from django.contrib import admin
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import connection
from django.db.models import QuerySet
from django.http import Http404, HttpRequest
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from jinzhitong.protected import protected_file_response
from reports.calendar import get_calendar
from reports.models import Report, ReportEvent, ReportPhoto
from reports.selectors import report_clock, reports_listed_for, reports_visible_to, stage_limits


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

    def get_results(self, request: HttpRequest) -> None:
        """The page's rows, each carrying its clock (``time_left``): one calendar and one
        stage-limit read per page, not per row."""
        super().get_results(request)
        now, work_calendar, limits = timezone.now(), get_calendar(), stage_limits()
        for report in self.result_list:
            report.list_clock = report_clock(  # type: ignore[attr-defined]
                report, now=now, calendar=work_calendar, limits=limits
            )


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

    @admin.display(description=_("剩余时限"))
    def time_left(self, obj: Report) -> str:
        # The clock the change list computed for this row (ReportChangeList.get_results).
        clock = getattr(obj, "list_clock", None)
        if clock is None:
            return "—"
        return format_html('<span class="sla sla-{}">{}</span>', clock.state, clock.text)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Report | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Report | None = None) -> bool:
        return False
