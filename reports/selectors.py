"""Which cases a user may see, and what they may do with one.

Out of scope is 404 (``get_report_for_user``); in scope but not allowed is 403
(the workflow raises ``PermissionDenied``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Prefetch, Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext as _
from pypinyin import Style, lazy_pinyin

from grids.models import Level, Region, Role
from grids.selectors import regions_visible_to, scope_for, subtree_q
from reports import sla
from reports.models import (
    OPEN_STATES,
    Category,
    PhotoKind,
    Report,
    ReportPhoto,
    RoutingRule,
    Stage,
    StageLimit,
    State,
)
from reports.sla import LimitUnit, SlaState, WorkCalendar


def reports_visible_to(user: Any) -> QuerySet[Report]:
    """Cases visible to ``user``: by grid, community, street, district, department or region."""
    scope = scope_for(user)
    if scope.is_global:
        return Report.objects.all()
    q = Q(pk__in=[])
    grids = [r.pk for r in scope.regions_for(Role.GRID_WORKER)]
    if grids:
        q |= Q(grid_id__in=grids)
    communities = [r.pk for r in scope.regions_for(Role.GRID_HEAD)]
    if communities:
        q |= Q(community_id__in=communities)
    streets = [r.pk for r in scope.regions_for(Role.STREET_STAFF)]
    if streets:
        q |= Q(street_id__in=streets)
    districts = [r.pk for r in scope.regions_for(Role.DISTRICT_STAFF)]
    if districts:
        q |= Q(district_id__in=districts)
    departments = [d.pk for d in scope.departments]
    if departments:
        q |= Q(department_id__in=departments)
    leader_regions = scope.regions_for(Role.LEADER, Role.ADMIN)
    if leader_regions:
        q |= subtree_q(leader_regions, prefix="grid__")
    if getattr(user, "is_authenticated", False):
        q |= Q(reporter=user)
    return Report.objects.filter(q)


def is_city_admin(user: Any) -> bool:
    """Superusers, and holders of the administrator role at a city node."""
    scope = scope_for(user)
    return scope.is_global or any(
        region.level == Level.CITY for region in scope.regions_for(Role.ADMIN)
    )


def rule_regions_visible_to(user: Any) -> QuerySet[Region]:
    """Regions whose routing rules ``user`` may see and write: their scope, without the
    city node itself unless they administer the city (a city-wide rule routes every
    street's cases)."""
    regions = regions_visible_to(user)
    if is_city_admin(user):
        return regions
    return regions.exclude(level=Level.CITY)


def rules_visible_to(user: Any) -> QuerySet[RoutingRule]:
    """Routing rules belong to the region they cover: visible and editable within scope."""
    scope = scope_for(user)
    if scope.is_global:
        return RoutingRule.objects.all()
    rules = RoutingRule.objects.filter(subtree_q(scope.regions, prefix="region__"))
    if not is_city_admin(user):
        rules = rules.exclude(region__level=Level.CITY)
    return rules


def get_report_for_user(user: Any, pk: int | str) -> Report:
    """The case if the user may see it; Http404 otherwise (never reveal that it exists)."""
    try:
        return (
            reports_visible_to(user)
            .select_related(
                "grid",
                "community",
                "street",
                "district",
                "category__parent",
                "standard",
                "department",
                "reporter",
            )
            .get(pk=int(pk))
        )
    except (Report.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def actions_for(user: Any, report: Report) -> frozenset[str]:
    """The workflow actions ``user`` may take on ``report`` now (for buttons; the
    workflow checks again under the row lock)."""
    from reports.workflow import allowed_actions

    return allowed_actions(user, report)


@dataclass(frozen=True)
class Clock:
    """Time left on the case's running stage, and its traffic light."""

    due: datetime
    left: timedelta
    state: str  # sla.SlaState value: ok / warning / overdue
    stage: str

    @property
    def text(self) -> str:
        minutes = int(abs(self.left).total_seconds() // 60)
        days, rest = divmod(minutes, 24 * 60)
        hours, mins = divmod(rest, 60)
        span = (
            _("%(d)s天%(h)s小时") % {"d": days, "h": hours}
            if days
            else _("%(h)s小时%(m)s分") % {"h": hours, "m": mins}
        )
        if self.state == SlaState.OVERDUE:
            return _("超期 %(span)s") % {"span": span}
        return _("剩余 %(span)s") % {"span": span}


def stage_limits() -> dict[str, tuple[Decimal, LimitUnit]]:
    """All triage stage limits in one query (for list pages)."""
    return {s.stage: (s.amount, LimitUnit(s.unit)) for s in StageLimit.objects.all()}


def report_clock(
    report: Report,
    *,
    now: datetime,
    calendar: WorkCalendar,
    limits: dict[str, tuple[Decimal, LimitUnit]],
) -> Clock | None:
    """Time left on the running stage (no queries: pass the calendar and stage limits).

    Yellow when less than ``sla.WARNING_RATIO`` of the stage's limit is left, red once
    past due; None when no clock runs (closed, verified, suspended)."""
    from reports.workflow import handle_limit, running_due, running_stage

    stage, due = running_stage(report), running_due(report)
    if stage is None or due is None:
        return None
    if stage == Stage.HANDLE:
        amount, unit = handle_limit(report)
    else:
        amount, unit = limits.get(stage, (Decimal("0.25"), LimitUnit.WORKING_HOURS))
    left = sla.time_left(now, due, unit, calendar=calendar)
    if now > due:
        light = SlaState.OVERDUE
    else:
        if unit == LimitUnit.WORKING_DAYS:
            total = calendar.day_length * int(amount)
        elif unit == LimitUnit.CALENDAR_DAYS:
            total = timedelta(days=int(amount))
        else:
            total = timedelta(hours=float(amount))
        light = SlaState.WARNING if left < total * float(sla.WARNING_RATIO) else SlaState.OK
    return Clock(due=due, left=left, state=light, stage=stage)


# -- the grid worker's pages ------------------------------------------------------------


def reports_filed_by(user: Any) -> QuerySet[Report]:
    """我的上报: the cases the user filed, newest first (reporter index)."""
    return (
        Report.objects.filter(reporter=user)
        .select_related("category__parent", "department", "grid", "standard")
        .order_by("-created_at", "-pk")
    )


def filing_grids(user: Any) -> QuerySet[Region]:
    """The grids the user files in from the phone: their own grids (网格员) and the grids
    of their communities (网格长)."""
    scope = scope_for(user)
    grids = [r.pk for r in scope.regions_for(Role.GRID_WORKER)]
    communities = [r.pk for r in scope.regions_for(Role.GRID_HEAD)]
    return Region.objects.filter(
        Q(pk__in=grids) | Q(parent_id__in=communities), level=Level.GRID
    ).order_by("code")


def reports_to_verify(user: Any) -> QuerySet[Report]:
    """待核查: handled cases in the user's grids (grid worker) or communities (grid head),
    waiting for the on-site check; the oldest deadline first."""
    scope = scope_for(user)
    grids = [r.pk for r in scope.regions_for(Role.GRID_WORKER)]
    communities = [r.pk for r in scope.regions_for(Role.GRID_HEAD)]
    if not grids and not communities:
        return Report.objects.none()
    return (
        Report.objects.filter(Q(grid_id__in=grids) | Q(community_id__in=communities))
        .filter(state=State.HANDLED)
        .select_related("category__parent", "department", "grid", "standard")
        .prefetch_related(_first_photos(PhotoKind.RESULT))
        .order_by("verify_due", "pk")
    )


def _first_photos(kind: str) -> Prefetch[Any]:
    return Prefetch(
        "photos",
        queryset=ReportPhoto.objects.filter(kind=kind).order_by("pk"),
        to_attr="listed_photos",
    )


# Metres per degree of latitude; a degree of longitude is this times cos(latitude).
_M_PER_DEG = 111_320.0


def distance_m(lng1: float, lat1: float, lng2: float, lat2: float) -> float:
    """Equirectangular distance: exact enough (< 0.1 %) at the few hundred metres used here."""
    x = (lng2 - lng1) * math.cos(math.radians((lat1 + lat2) / 2))
    return math.hypot(x, lat2 - lat1) * _M_PER_DEG


@dataclass(frozen=True)
class Nearby:
    report: Report
    distance_m: float


def nearby_open_reports(
    user: Any, *, category: Category, lng: float, lat: float, limit: int = 5
) -> list[Nearby]:
    """附近已有相同问题: the user's visible open cases of ``category`` within the category's
    radius of the point, nearest first. A bounding box narrows the rows in SQL (visible
    cases of one category in one state set), the exact distance is taken in Python."""
    radius = float(category.nearby_radius_m)
    dlat = radius / _M_PER_DEG
    dlng = radius / (_M_PER_DEG * max(math.cos(math.radians(lat)), 0.01))
    rows = (
        reports_visible_to(user)
        .filter(
            category=category,
            state__in=OPEN_STATES,
            lat__range=(lat - dlat, lat + dlat),
            lng__range=(lng - dlng, lng + dlng),
        )
        .select_related("category")
        .prefetch_related(_first_photos(PhotoKind.REPORT))
        .order_by("-created_at")[:50]
    )
    hits = []
    for r in rows:
        assert r.lng is not None and r.lat is not None  # filtered by the box above
        d = distance_m(lng, lat, r.lng, r.lat)
        if d <= radius:
            hits.append(Nearby(r, d))
    hits.sort(key=lambda h: h.distance_m)
    return hits[:limit]


def _pinyin_keys(text: str) -> tuple[str, str]:
    """Full pinyin and initials without tones: 垃圾桶 → ("lajitong", "ljt")."""
    syllables = lazy_pinyin(text, errors="ignore")
    return "".join(syllables), "".join(
        lazy_pinyin(text, style=Style.FIRST_LETTER, errors="ignore")
    )


def categories_for_filing() -> list[dict[str, Any]]:
    """The minor categories a case may be filed under, with their filing standards and the
    pinyin keys the phone's search matches (ljt → 垃圾桶); two queries."""
    minors = (
        Category.objects.filter(is_active=True, parent__isnull=False, parent__is_active=True)
        .select_related("parent")
        .prefetch_related("standards")
        .order_by("parent__sort", "parent__code", "sort", "code")
    )
    out = []
    for c in minors:
        assert c.parent is not None  # filtered above
        words = f"{c.name} {c.parent.name} {c.keywords}"
        full, initials = _pinyin_keys(words.replace(" ", ""))
        name_full, name_initials = _pinyin_keys(c.name)
        out.append(
            {
                "id": c.pk,
                "name": c.name,
                "major": c.parent.name,
                "code": c.code,
                "radius": c.nearby_radius_m,
                "search": " ".join(
                    [words.lower(), full, initials, name_full, name_initials]
                ),
                "standards": [
                    {"id": s.pk, "condition": s.condition, "urgent": s.is_urgent}
                    for s in c.standards.all()
                ],
            }
        )
    return out
