"""Scoped reads of the rollups: who sees which figures, and the sums behind every table.

A leader sees their region's subtree, a center its own level down, a department its own
figures, a grid worker their own scores; out of scope is 404 for the views.
"""

from __future__ import annotations

import calendar as pycalendar
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import reduce
from operator import or_
from typing import Any

from django.db.models import Exists, F, Func, OuterRef, Q, QuerySet, Sum, TextField, Window
from django.db.models.functions import Rank
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from evaluation.models import (
    COUNTERS,
    ROLLUP_FIELDS,
    WORKER_COUNTERS,
    DailyRollup,
    DailyStreetRollup,
    MonthlyGridRollup,
    MonthlyRollup,
    WorkerDailyRollup,
)
from grids.models import Department, Level, Region, Role
from grids.selectors import region_contains, scope_for
from reports.models import Category, EventKind, Report, ReportEvent, State
from reports.selectors import reports_visible_to

# The rollup column holding the region of each level (the city has none: its districts).
LEVEL_COLUMN: dict[int, str] = {
    Level.DISTRICT: "district",
    Level.STREET: "street",
    Level.COMMUNITY: "community",
    Level.GRID: "grid",
}
PERIOD_KINDS = ("day", "week", "month", "quarter", "year", "range")
MAX_RANGE_DAYS = 3660


# -- periods ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    kind: str
    start: date
    end: date  # inclusive

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> Period:
        if self.kind == "month":
            end = self.start - timedelta(days=1)
            return Period("month", end.replace(day=1), end)
        if self.kind == "quarter":
            end = self.start - timedelta(days=1)
            return Period("quarter", date(end.year, end.month - 2, 1), end)
        if self.kind == "year":
            year = self.start.year - 1
            return Period("year", date(year, 1, 1), date(year, 12, 31))
        before = self.start - timedelta(days=1)
        return Period(self.kind, self.start - timedelta(days=self.days), before)

    def label(self) -> str:
        if self.kind == "day":
            return f"{self.start:%Y-%m-%d}"
        if self.kind == "month":
            return _("%(y)s年%(m)s月") % {"y": self.start.year, "m": self.start.month}
        if self.kind == "quarter":
            quarter = (self.start.month + 2) // 3
            return _("%(y)s年第%(q)s季度") % {"y": self.start.year, "q": quarter}
        if self.kind == "year":
            return _("%(y)s年") % {"y": self.start.year}
        return f"{self.start:%Y-%m-%d} — {self.end:%Y-%m-%d}"


def period_for(kind: str, anchor: date, end: date | None = None) -> Period:
    """The period of ``kind`` containing ``anchor``; ``range`` runs from anchor to end."""
    if kind == "day":
        return Period(kind, anchor, anchor)
    if kind == "week":
        start = anchor - timedelta(days=anchor.weekday())
        return Period(kind, start, start + timedelta(days=6))
    if kind == "month":
        last = pycalendar.monthrange(anchor.year, anchor.month)[1]
        return Period(kind, anchor.replace(day=1), anchor.replace(day=last))
    if kind == "quarter":
        first = 3 * ((anchor.month - 1) // 3) + 1
        last_month = first + 2
        last = pycalendar.monthrange(anchor.year, last_month)[1]
        return Period(kind, date(anchor.year, first, 1), date(anchor.year, last_month, last))
    if kind == "year":
        return Period(kind, date(anchor.year, 1, 1), date(anchor.year, 12, 31))
    if kind == "range" and end is not None:
        if end < anchor:
            raise ValueError(_("结束日期不能早于开始日期"))
        if (end - anchor).days > MAX_RANGE_DAYS:
            raise ValueError(_("日期范围不能超过十年"))
        return Period(kind, anchor, end)
    raise ValueError(_("未知的统计周期"))


# -- who sees what -----------------------------------------------------------------------


@dataclass(frozen=True)
class EvalScope:
    everything: bool = False
    regions: tuple[Region, ...] = ()
    departments: tuple[Department, ...] = ()
    worker_id: int | None = None

    @property
    def sees_regions(self) -> bool:
        return self.everything or bool(self.regions)

    @property
    def sees_anything(self) -> bool:
        return self.sees_regions or bool(self.departments) or self.worker_id is not None

    def contains(self, region: Region) -> bool:
        return self.everything or any(region_contains(r, region) for r in self.regions)


_REGION_ROLES = (Role.LEADER, Role.DISTRICT_STAFF, Role.STREET_STAFF, Role.GRID_HEAD, Role.ADMIN)


def evaluation_scope(user: Any) -> EvalScope:
    scope = scope_for(user)
    if scope.is_global:
        return EvalScope(everything=True)
    roots = scope.regions_for(*_REGION_ROLES)
    # Keep only the outermost regions, so no figure is summed twice.
    roots = [r for r in roots if not any(o is not r and region_contains(o, r) for o in roots)]
    is_worker = Role.GRID_WORKER in scope.roles
    return EvalScope(
        regions=tuple(roots),
        departments=tuple(scope.departments),
        worker_id=user.pk if is_worker else None,
    )


def top_regions(scope: EvalScope) -> list[Region]:
    if scope.everything:
        return list(Region.objects.filter(level=Level.CITY).order_by("code"))
    return list(scope.regions)


def get_region_for_scope(scope: EvalScope, pk: Any) -> Region:
    try:
        region = Region.objects.get(pk=int(pk))
    except (TypeError, ValueError, Region.DoesNotExist):
        raise Http404(_("区划不存在")) from None
    if not scope.contains(region):
        raise Http404(_("区划不存在"))
    return region


def get_department_for_scope(scope: EvalScope, pk: Any) -> Department:
    try:
        dept = Department.objects.select_related("region").get(pk=int(pk))
    except (TypeError, ValueError, Department.DoesNotExist):
        raise Http404(_("部门不存在")) from None
    own = any(d.pk == dept.pk for d in scope.departments)
    if not (own or scope.contains(dept.region)):
        raise Http404(_("部门不存在"))
    return dept


# -- the sums --------------------------------------------------------------------------


def only_city(region: Region) -> bool:
    """Whether ``region`` is a city and the only one (asked once per region object)."""
    if region.level != Level.CITY:
        return False
    known = getattr(region, "_evaluation_only_city", None)
    if known is None:
        known = not Region.objects.filter(level=Level.CITY).exclude(pk=region.pk).exists()
        region._evaluation_only_city = known  # type: ignore[attr-defined]
    return bool(known)


def region_q(region: Region) -> Q:
    if region.level == Level.CITY:
        if only_city(region):
            # Every row is in it: no join to the districts, so a table's own index order
            # (and index-only counts) stay usable. Not an empty Q(), which | would drop.
            return Q(pk__isnull=False)
        return Q(district_id__in=region.get_children().values("pk"))
    return Q(**{f"{LEVEL_COLUMN[region.level]}_id": region.pk})


# Groupings the monthly rollup (month × street × department) can answer.
MONTHLY_GROUPS = frozenset({None, "district_id", "street_id", "department_id"})


def whole_months(period: Period) -> bool:
    return period.start.day == 1 and (period.end + timedelta(days=1)).day == 1


def rollups_for(
    scope: EvalScope,
    period: Period,
    *,
    region: Region | None = None,
    department: Department | None = None,
    category: int | None = None,
    source: str | None = None,
    group: str | None = None,
) -> QuerySet[Any]:
    """The rollup rows behind a figure, within the viewer's scope. Whole months with no
    category or source filter, grouped at street level or above, read the monthly rollup
    (a few thousand rows a month for a whole city); everything else the daily one."""
    monthly = (
        whole_months(period)
        and category is None
        and not source
        and group in MONTHLY_GROUPS
        and (region is None or region.level <= Level.STREET)
        and all(r.level <= Level.STREET for r in scope.regions)
    )
    model: Any = MonthlyRollup if monthly else DailyRollup
    qs = model.objects.filter(day__gte=period.start, day__lte=period.end)
    if not scope.everything:
        parts = [region_q(r) for r in scope.regions]
        if scope.departments:
            parts.append(Q(department_id__in=[d.pk for d in scope.departments]))
        if not parts:
            return qs.none()
        qs = qs.filter(reduce(or_, parts))
    if region is not None:
        qs = qs.filter(region_q(region))
    if department is not None:
        qs = qs.filter(department_id=department.pk)
    if category is not None:
        minors = list(Category.objects.filter(parent_id=category).values_list("pk", flat=True))
        qs = qs.filter(category_id__in=[category, *minors])
    if source:
        qs = qs.filter(source=source)
    return qs


def screen_rollup(
    model: Any, scope: EvalScope, period: Period, *, region: Region | None = None
) -> QuerySet[Any] | None:
    """The rows of one of the leader's screen's own tables (DailyStreetRollup,
    MonthlyCategoryRollup, MonthlyGridRollup) behind a figure, within the viewer's scope;
    None when the table cannot answer: a department's own scope (the tables have no
    department), a place finer than the table, or part of a month for a monthly table.
    The caller then reads the daily rollup (same figures, more rows)."""
    finest = Level.GRID if model is MonthlyGridRollup else Level.STREET
    if model is not DailyStreetRollup and not whole_months(period):
        return None
    if not scope.everything and (scope.departments or not scope.regions):
        return None
    places = [*scope.regions, *([region] if region is not None else [])]
    if any(r.level > finest for r in places):
        return None
    qs = model.objects.filter(day__gte=period.start, day__lte=period.end)
    if not scope.everything:
        qs = qs.filter(reduce(or_, [region_q(r) for r in scope.regions]))
    if region is not None:
        qs = qs.filter(region_q(region))
    return qs


def sums_by(qs: QuerySet[Any], column: str, fields: tuple[str, ...]) -> dict[Any, dict[str, int]]:
    """``fields`` summed per value of ``column`` (one GROUP BY query)."""
    out: dict[Any, dict[str, int]] = {}
    for row in qs.order_by().values(column).annotate(**{f: Sum(f) for f in fields}):
        key = row.pop(column)
        out[key] = {k: int(v or 0) for k, v in row.items()}
    return out


def top_by_reported(qs: QuerySet[Any], column: str, n: int) -> dict[Any, dict[str, int]]:
    """Reports and overdue stages per value of ``column``, for the values whose report
    count is among the n highest (ties at the n-th included, so the caller can break them
    by name); one query, whatever the number of values."""
    ranked = (
        qs.order_by().values(column)
        .annotate(reported=Sum("reported"), overdue=Sum("overdue"))
        .annotate(rank=Window(Rank(), order_by=F("reported").desc()))
        .filter(rank__lte=n)
    )
    return {row[column]: {"reported": int(row["reported"] or 0),
                          "overdue": int(row["overdue"] or 0)} for row in ranked}


def top_grids_of_month(qs: QuerySet[Any], month: date, n: int) -> dict[Any, dict[str, int]]:
    """``top_by_reported`` for one month of MonthlyGridRollup, where a grid has one row:
    the n rows with the most reports and every row tied with the n-th, read in the order
    of the (day, −reported) index — a few rows whatever the city's size."""
    fields = ("grid_id", "reported", "overdue")
    qs = qs.filter(day=month)  # an equality, so the index gives the order
    rows = list(qs.order_by("-reported").values_list(*fields)[:n])
    if len(rows) == n:
        nth = rows[-1][1]
        rows = [r for r in rows if r[1] > nth] + list(qs.filter(reported=nth).values_list(*fields))
    return {grid: {"reported": reported, "overdue": overdue} for grid, reported, overdue in rows}


class _Sums(Func):
    """``CAST(COALESCE(SUM(a), 0) AS TEXT) || ',' || …``: the sums of many
    columns as one text. Django compiles each expression of a query on its own, and
    89 ``Sum()``s cost ~15 ms a query — more than running it."""

    contains_aggregate = True
    output_field = TextField()

    def __init__(self, fields: tuple[str, ...]) -> None:
        super().__init__()
        self.fields = fields

    def as_sql(  # type: ignore[override]
        self, compiler: Any, connection: Any, **extra: Any
    ) -> tuple[str, list[Any]]:
        table = compiler.quote_name_unless_alias(compiler.query.get_initial_alias())
        q = connection.ops.quote_name
        return " || ',' || ".join(
            # text casts spelled out: resolving ``bigint || text`` took PostgreSQL's
            # planner ~0.1 ms per column.
            f"CAST(COALESCE(SUM({table}.{q(f)}), 0) AS TEXT)" for f in self.fields
        ), []


def _ints(fields: tuple[str, ...], text: str | None) -> dict[str, int]:
    if text is None:
        return dict.fromkeys(fields, 0)
    return {f: int(v) for f, v in zip(fields, text.split(","), strict=True)}


def totals(qs: QuerySet[Any]) -> dict[str, int]:
    """Every rollup column summed over the rows (one query)."""
    return _ints(ROLLUP_FIELDS, qs.order_by().aggregate(s=_Sums(ROLLUP_FIELDS))["s"])


def grouped(qs: QuerySet[Any], column: str) -> dict[Any, dict[str, int]]:
    """Counter sums per value of ``column`` (one GROUP BY query; the duration columns are
    left out: only the totals show stage times)."""
    rows = qs.order_by().values(column).annotate(s=_Sums(COUNTERS)).values_list(column, "s")
    return {key: _ints(COUNTERS, text) for key, text in rows}


def child_column(region: Region) -> str:
    return LEVEL_COLUMN[min(region.level + 1, Level.GRID)]


def worker_rows(
    scope: EvalScope, period: Period, *, region: Region | None = None
) -> dict[int, dict[str, int]]:
    """A grid worker's own counters per user: the worker sees only their own row."""
    qs = WorkerDailyRollup.objects.filter(day__gte=period.start, day__lte=period.end)
    if not scope.everything:
        parts = [region_q(r) for r in scope.regions]
        if scope.worker_id is not None:
            parts.append(Q(user_id=scope.worker_id))
        if not parts:
            return {}
        qs = qs.filter(reduce(or_, parts))
    if region is not None:
        qs = qs.filter(region_q(region))
    out: dict[int, dict[str, int]] = {}
    sums = {f: Sum(f) for f in WORKER_COUNTERS}
    for row in qs.order_by().values("user_id").annotate(**sums):
        values: dict[str, Any] = dict(row)
        user_id = values.pop("user_id")
        out[user_id] = {k: int(v or 0) for k, v in values.items()}
    return out


# -- drill-down: the cases behind a figure -----------------------------------------------

# metric → (event kinds, extra condition on the event, extra condition on the case).
_FROM_REPORTED = Q(from_state=State.REPORTED)
DRILL_METRICS: dict[str, tuple[tuple[str, ...], Q, Q]] = {
    "reported": ((EventKind.FILED, EventKind.SELF_HANDLED), Q(), Q()),
    "valid": (
        (EventKind.ACCEPTED, EventKind.TRANSFERRED, EventKind.SELF_HANDLED),
        ~Q(kind=EventKind.TRANSFERRED) | _FROM_REPORTED,
        Q(),
    ),
    "accepted": (
        (EventKind.ACCEPTED, EventKind.TRANSFERRED),
        Q(kind=EventKind.ACCEPTED) | _FROM_REPORTED,
        Q(),
    ),
    "rejected": ((EventKind.REJECTED,), Q(), Q()),
    "merged": ((EventKind.MERGED,), _FROM_REPORTED, Q()),
    "self_handled": ((EventKind.SELF_HANDLED,), Q(), Q()),
    "dispatched": ((EventKind.DISPATCHED,), Q(), Q()),
    "returns": ((EventKind.RETURNED,), Q(), Q()),
    "handled": ((EventKind.HANDLED,), Q(), Q()),
    "closed": ((EventKind.CLOSED,), Q(), Q()),
    "closed_on_time": (
        (EventKind.CLOSED,), Q(), Q(closed_on_time=True, suspension_used=False)
    ),
    "reworked": ((EventKind.CLOSED,), Q(), Q(rework_count__gt=0)),
    "extended": ((EventKind.CLOSED,), Q(), Q(extension_count__gt=0)),
    "suspended": ((EventKind.SUSPENSION_GRANTED,), Q(), Q()),
    "urged": ((EventKind.URGED,), Q(), Q()),
    "overdue": ((EventKind.OVERDUE,), Q(), Q()),
}
# Events that carry the department they concern in their data.
_DEPARTMENT_IN_EVENT = {"dispatched", "returns"}


def cases_behind(
    user: Any,
    metric: str,
    period: Period,
    *,
    region: Region | None = None,
    department: Department | None = None,
    category: int | None = None,
    source: str | None = None,
) -> QuerySet[Report]:
    """The cases a figure counts, within what the user may see (docs/evaluation.md says
    where this list can differ from the rollup: a category corrected after the event)."""
    kinds, event_q, case_q = DRILL_METRICS[metric]
    start = datetime.combine(period.start, time.min, tzinfo=timezone.get_current_timezone())
    end = datetime.combine(
        period.end + timedelta(days=1), time.min, tzinfo=timezone.get_current_timezone()
    )
    events = ReportEvent.objects.filter(
        event_q, report_id=OuterRef("pk"), kind__in=kinds, at__gte=start, at__lt=end
    )
    if department is not None and metric in _DEPARTMENT_IN_EVENT:
        events = events.filter(data__department=department.pk)
    qs = reports_visible_to(user).filter(case_q).filter(Exists(events))
    if metric in ("dispatched", "handled"):
        # A case counts at its first dispatch / first "handled" report only.
        earlier = ReportEvent.objects.filter(report_id=OuterRef("pk"), kind__in=kinds, at__lt=start)
        qs = qs.exclude(Exists(earlier))
    if region is not None:
        if region.level == Level.CITY:
            qs = qs.filter(district__parent_id=region.pk)
        else:
            qs = qs.filter(**{f"{LEVEL_COLUMN[region.level]}_id": region.pk})
    if department is not None and metric not in _DEPARTMENT_IN_EVENT:
        qs = qs.filter(department_id=department.pk)
    if category is not None:
        qs = qs.filter(Q(category_id=category) | Q(category__parent_id=category))
    if source:
        qs = qs.filter(source=source)
    return qs.select_related("category__parent", "grid", "street", "department").order_by(
        "-created_at", "-pk"
    )
