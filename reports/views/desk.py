"""Desk pages: the center's triage queue, board, overdue list, the department inbox and
notifications. Reads go through ``reports.selectors`` (scoped to the viewer); every
action form on these pages POSTs to ``reports:act`` (see ``reports.views.case``).

List pages never count past ``selectors.COUNT_CAP`` rows and fetch one page at a time,
so their cost does not grow with the table (bench/pages.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from io import BytesIO
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods
from openpyxl import Workbook

from grids.models import Role
from grids.selectors import departments_visible_to, regions_visible_to, scope_for
from jinzhitong.db_router import read_replica
from reports import selectors, services
from reports.calendar import get_calendar
from reports.forms import desk as f
from reports.models import Report, State
from reports.views.triage_rows import routing_reasons, triage_rows

PER_PAGE = 50
MAP_CAP = 2000
EXPORT_CAP = 20000
_CENTER_ROLES = (Role.STREET_STAFF, Role.DISTRICT_STAFF)


@dataclass(frozen=True)
class Page:
    rows: list[Any]
    number: int
    count: int  # capped at COUNT_CAP + 1
    per_page: int

    @property
    def capped(self) -> bool:
        return self.count > selectors.COUNT_CAP

    @property
    def shown_count(self) -> str:
        return f"{selectors.COUNT_CAP}+" if self.capped else str(self.count)

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number * self.per_page < min(self.count, selectors.COUNT_CAP)

    @property
    def previous_number(self) -> int:
        return self.number - 1

    @property
    def next_number(self) -> int:
        return self.number + 1


def page_of(request: HttpRequest, qs: QuerySet[Any], per_page: int = PER_PAGE) -> Page:
    """One page of ``qs`` (1 count query bounded by the cap, 1 row query + prefetches)."""
    last = max(1, selectors.COUNT_CAP // per_page)
    try:
        number = min(max(1, int(request.GET.get("page", "1"))), last)
    except ValueError:
        number = 1
    start = (number - 1) * per_page
    rows = list(qs[start : start + per_page])
    count = selectors.capped_count(qs) if rows or number > 1 else 0
    return Page(rows=rows, number=number, count=count, per_page=per_page)


def _require_center(user: Any, *, leaders: bool = False) -> None:
    roles = _CENTER_ROLES + ((Role.LEADER,) if leaders else ())
    scope = scope_for(user)
    if not (scope.is_global or scope.roles & set(roles)):
        raise PermissionDenied(_("只有网格中心人员可以使用此页面"))


@dataclass(frozen=True)
class Row:
    """A case on a list page, with its clock and the forms offered on the row."""

    report: Report
    clock: selectors.Clock | None
    extra: dict[str, Any]


def _clocked(reports: list[Report], now: datetime) -> list[Row]:
    calendar, limits = get_calendar(), selectors.stage_limits()
    return [
        Row(r, selectors.report_clock(r, now=now, calendar=calendar, limits=limits), {})
        for r in reports
    ]


@login_required
@require_GET
def triage(request: HttpRequest) -> HttpResponse:
    """分拨台: new, returned and sent-down cases, most urgent and oldest first."""
    _require_center(request.user)
    page = page_of(request, selectors.triage_queue(request.user))
    departments = selectors.dispatchable_departments(request.user)
    candidates = selectors.merge_candidates_for(page.rows)
    rows = _clocked(page.rows, timezone.now())
    for row in rows:
        r = row.report
        row.extra["merge"] = candidates.get(r.pk, [])
        row.extra["departments"] = selectors.departments_for(r, departments)
        # A district-level proposal: the street's one click is to transfer it up.
        row.extra["propose_up"] = r.proposed_department is not None and r.state != (
            State.TRANSFERRED
        ) and r.proposed_department not in row.extra["departments"]
        row.extra["action"] = "accept_dispatch" if r.state == State.REPORTED else "dispatch"
    # Rows are written in Python: through templates they were ~85% of the page's CPU
    # (bench/request_cpu.py, docs/operations.md "Scale out").
    html = triage_rows(
        request, rows, routing_reasons(page.rows), reject_reasons=f.REJECT_REASONS[1:]
    )
    return render(request, "reports/desk/triage.html", {"page": page, "rows": html})


def _board_filter(request: HttpRequest) -> f.BoardFilter:
    user = request.user
    return f.BoardFilter(
        request.GET,
        selectors.board_cases(user, open_only=False),
        departments=departments_visible_to(user),
        regions=regions_visible_to(user),
        now=timezone.now(),
    )


@login_required
@read_replica
@require_GET
def board(request: HttpRequest) -> HttpResponse:
    """案件总览: the open cases in scope, or by state and date every case ever filed
    (closed, rejected, merged included); filtered, paginated, on a map."""
    _require_center(request.user, leaders=True)
    flt = _board_filter(request)
    qs = flt.qs if flt.is_valid() else flt.queryset.none()
    page = page_of(request, qs)
    labels = dict(State.choices)
    points = [
        {"id": pk, "number": number, "lat": lat, "lng": lng, "state": str(labels[state])}
        for pk, number, lat, lng, state in qs.filter(lat__isnull=False, lng__isnull=False)
        .values_list("pk", "number", "lat", "lng", "state")[:MAP_CAP]
    ]
    query = request.GET.copy()
    query.pop("page", None)
    ctx = {
        "filter": flt,
        "page": page,
        "rows": _clocked(page.rows, timezone.now()),
        "points": points,
        "map_capped": len(points) >= MAP_CAP,
        "query": query.urlencode(),
    }
    template = "reports/desk/board.html#results" if request.htmx else "reports/desk/board.html"
    return render(request, template, ctx)


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def excel_safe(value: Any) -> Any:
    """A cell value that a spreadsheet will not run as a formula (CSV/XLSX injection)."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


@login_required
@read_replica
@require_GET
def board_export(request: HttpRequest) -> HttpResponse:
    """The board's current selection as XLSX (at most EXPORT_CAP rows)."""
    _require_center(request.user, leaders=True)
    flt = _board_filter(request)
    qs = flt.qs if flt.is_valid() else flt.queryset.none()
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(_("案件"))
    ws.append(
        [
            _("案件编号"), _("状态"), _("类别"), _("紧急程度"), _("网格"), _("地址"),
            _("问题描述"), _("处置部门"), _("上报时间"), _("超期"),
        ]
    )
    tz = timezone.get_current_timezone()
    for r in qs[:EXPORT_CAP].iterator(chunk_size=2000):
        ws.append(
            [
                excel_safe(v)
                for v in (
                    r.number,
                    r.get_state_display(),
                    str(r.category),
                    r.get_urgency_display(),
                    r.grid.name,
                    r.address,
                    r.description,
                    r.department.name if r.department else "",
                    r.created_at.astimezone(tz).strftime("%Y-%m-%d %H:%M"),
                    _("是") if r.is_overdue else "",
                )
            ]
        )
    out = BytesIO()
    wb.save(out)
    response = HttpResponse(
        out.getvalue(),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="cases-{stamp}.xlsx"'
    return response


@login_required
@require_GET
def overdue(request: HttpRequest) -> HttpResponse:
    """督办: overdue and near-deadline cases, requests to decide, verified cases to close."""
    _require_center(request.user, leaders=True)
    user, now = request.user, timezone.now()
    late = list(selectors.overdue_cases(user, now)[:PER_PAGE])
    near = list(selectors.near_deadline_cases(user, now)[:PER_PAGE])
    requests = list(selectors.pending_requests(user)[:PER_PAGE])
    to_close = list(selectors.cases_to_close(user)[:PER_PAGE])
    clocked = _clocked(late + near, now)
    ctx = {
        "late": clocked[: len(late)],
        "near": clocked[len(late) :],
        "requests": requests,
        "to_close": to_close,
        "per_page": PER_PAGE,
    }
    return render(request, "reports/desk/overdue.html", ctx)


@login_required
@require_GET
def inbox(request: HttpRequest) -> HttpResponse:
    """待办: cases dispatched to my department, most urgent and nearest deadline first."""
    scope = scope_for(request.user)
    if not scope.departments:
        raise PermissionDenied(_("只有处置部门人员可以使用此页面"))
    page = page_of(request, selectors.inbox_cases(request.user))
    ctx = {"page": page, "rows": _clocked(page.rows, timezone.now())}
    return render(request, "reports/desk/inbox.html", ctx)


@login_required
@require_GET
def done(request: HttpRequest) -> HttpResponse:
    """已办: cases my department handled, by state and date, newest first."""
    if not scope_for(request.user).departments:
        raise PermissionDenied(_("只有处置部门人员可以使用此页面"))
    flt = f.DoneFilter(request.GET, selectors.done_cases(request.user))
    page = page_of(request, flt.qs if flt.is_valid() else flt.queryset.none())
    query = request.GET.copy()
    query.pop("page", None)
    ctx = {
        "filter": flt,
        "page": page,
        "rows": _clocked(page.rows, timezone.now()),
        "query": query.urlencode(),
    }
    return render(request, "reports/desk/done.html", ctx)


@login_required
@require_http_methods(["GET", "POST"])
def notifications(request: HttpRequest) -> HttpResponse:
    """通知: notices about cases that concern me; POST marks one or all read."""
    if request.method == "POST":
        raw = request.POST.get("id", "")
        ids = [int(raw)] if raw.isdigit() else None
        services.notification_mark_read(user=request.user, ids=ids)
        return redirect("reports:notifications")
    page = page_of(request, selectors.notifications_for(request.user).select_related("report"))
    return render(request, "reports/desk/notifications.html", {"page": page})


@login_required
@require_GET
def bell(request: HttpRequest) -> HttpResponse:
    """The bell's unread count, polled by htmx every 60 s."""
    return render(request, "base.html#bell", {})
