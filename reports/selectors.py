"""Which cases a user may see, and what they may do with one.

Out of scope is 404 (``get_report_for_user``); in scope but not allowed is 403
(the workflow raises ``PermissionDenied``).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Case, F, Prefetch, Q, QuerySet, Value, When
from django.http import Http404
from django.utils.translation import gettext as _
from pypinyin import Style, lazy_pinyin

from grids.models import Building, Department, Level, Region, Role
from grids.selectors import is_city_admin, regions_visible_to, scope_for, subtree_q
from reports import sla
from reports.fit import department_fits
from reports.models import (
    OPEN_STATES,
    Category,
    DispatchLevel,
    EventKind,
    FilingStandard,
    Notification,
    PhotoKind,
    Report,
    ReportEvent,
    ReportPhoto,
    RequestStatus,
    RoutingRule,
    Stage,
    StageLimit,
    State,
    TimeRequest,
    Urgency,
)
from reports.sla import LimitUnit, SlaState, WorkCalendar
from reports.workflow import allowed_actions, handle_limit, running_due, running_stage


def _branches(user: Any) -> Q:
    """Cases by the user's places and departments (not yet the cases they filed)."""
    scope = scope_for(user)
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
    return q


def reports_visible_to(user: Any) -> QuerySet[Report]:
    """Cases visible to ``user``: by grid, community, street, district, department or region."""
    scope = scope_for(user)
    if scope.is_global:
        return Report.objects.all()
    q = _branches(user)
    if getattr(user, "is_authenticated", False):
        q |= Q(reporter=user)
    return Report.objects.filter(q)


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
def reports_listed_for(user: Any) -> QuerySet[Report]:
    """The cases of ``reports_visible_to``, shaped for a newest-first list.

    PostgreSQL cannot read ``street = S OR reporter = me`` in the order of one index, so
    a centre's list would walk the whole city's newest cases to keep its street's. The
    "cases I filed" branch is left out when it adds nothing — when every case the user
    filed lies inside their other branches (one query over their own cases, on
    ``reports_reporter_created``) — and the list reads ``reports_street_created`` (or its
    district / department twin) in order."""
    scope = scope_for(user)
    if scope.is_global:
        return Report.objects.all()
    q = _branches(user)
    if (
        getattr(user, "is_authenticated", False)
        and Report.objects.filter(reporter=user).exclude(q).exists()
    ):
        q |= Q(reporter=user)
    return Report.objects.filter(q)


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
    return allowed_actions(user, report)


def notifications_for(user: Any) -> QuerySet[Notification]:
    """The user's own notices, newest first (unread and read)."""
    if not getattr(user, "is_authenticated", False):
        return Notification.objects.none()
    return (
        Notification.objects.filter(recipient=user)
        .select_related("report")
        .order_by("-created_at", "-pk")
    )


def unread_count(user: Any) -> int:
    """How many of the user's notices are unread (one COUNT on the recipient index)."""
    if not getattr(user, "is_authenticated", False):
        return 0
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()


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

    The colour comes from ``sla.sla_state`` alone (docs/time-limits.md); None when no
    clock runs (closed, verified, suspended)."""
    stage, due = running_stage(report), running_due(report)
    if stage is None or due is None:
        return None
    if stage == Stage.HANDLE:
        amount, unit = handle_limit(report)
    else:
        amount, unit = limits.get(stage, (Decimal("0.25"), LimitUnit.WORKING_HOURS))
    left = sla.time_left(now, due, unit, calendar=calendar)
    if stage == Stage.HANDLE and report.handle_started is not None:
        # Extensions move the deadline: the whole span since handling began counts.
        light = sla.sla_state(now, due, report.handle_started, unit, calendar=calendar)
    else:
        span = sla.limit_span(amount, unit, calendar=calendar)
        light = sla.sla_state(now, due, None, unit, calendar=calendar, total=span)
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


def filing_map(grids: QuerySet[Region]) -> dict[str, Any]:
    """The filing page's map: the grids the user files in and their buildings, as the
    workspace map draws them (two queries, bounded by the user's own few grids)."""
    regions = list(grids.only("id", "code", "name", "level", "boundary"))
    buildings = Building.objects.filter(grid__in=[g.pk for g in regions]).only(
        "id", "name", "lng", "lat"
    ).order_by("code")
    features: list[dict[str, Any]] = [
        {
            "type": "Feature",
            "geometry": g.boundary,
            "properties": {"id": g.pk, "name": g.name, "kind": "own"},
        }
        for g in regions
        if g.boundary
    ]
    features += [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [b.lng, b.lat]},
            "properties": {"id": b.pk, "name": b.name, "kind": "building"},
        }
        for b in buildings
    ]
    return {"type": "FeatureCollection", "features": features}


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


@functools.lru_cache(maxsize=8192)
def _pinyin_keys(text: str) -> tuple[str, str]:
    """Full pinyin and initials without tones: 垃圾桶 → ("lajitong", "ljt").

    Cached: a pure function of the text, and converting a city's category names on every
    filing page was half the page's CPU (bench/request_cpu.py)."""
    syllables = lazy_pinyin(text, errors="ignore")
    return "".join(syllables), "".join(
        lazy_pinyin(text, style=Style.FIRST_LETTER, errors="ignore")
    )


_filing_categories: tuple[int, list[dict[str, Any]]] | None = None


def categories_for_filing() -> list[dict[str, Any]]:
    """The minor categories a case may be filed under, with their filing standards and the
    pinyin keys the phone's search matches (ljt → 垃圾桶); two queries.

    The rows are read as plain tuples and the list is rebuilt only when they changed (this
    process keeps the last one with the hash of the rows it came from): building it was a
    third of the filing page's CPU (bench/request_cpu.py)."""
    global _filing_categories
    minors = list(
        Category.objects.filter(is_active=True, parent__isnull=False, parent__is_active=True)
        .order_by("parent__sort", "parent__code", "sort", "code")
        .values_list("pk", "name", "parent__name", "keywords", "code", "nearby_radius_m")
    )
    standards = list(
        FilingStandard.objects.filter(category_id__in=[c[0] for c in minors]).values_list(
            "pk", "category_id", "condition", "is_urgent"
        )
    )
    signature = hash((tuple(minors), tuple(standards)))
    cached = _filing_categories
    if cached is not None and cached[0] == signature:
        return cached[1]
    by_category: dict[int, list[dict[str, Any]]] = {}
    for pk, category_id, condition, urgent in standards:
        by_category.setdefault(category_id, []).append(
            {"id": pk, "condition": condition, "urgent": urgent}
        )
    out = []
    for pk, name, major, keywords, code, radius in minors:
        words = f"{name} {major} {keywords}"
        full, initials = _pinyin_keys(words.replace(" ", ""))
        name_full, name_initials = _pinyin_keys(name)
        out.append(
            {
                "id": pk,
                "name": name,
                "major": major,
                "code": code,
                "radius": radius,
                "search": " ".join([words.lower(), full, initials, name_full, name_initials]),
                "standards": by_category.get(pk, []),
            }
        )
    _filing_categories = (signature, out)
    return out


# -- desk pages: triage, board, overdue, inbox, case page, notifications -------------------

# Cases a street center triages (new, returned, sent down) and a district center's share.
STREET_TRIAGE_STATES = (State.REPORTED, State.ACCEPTED)
DISTRICT_TRIAGE_STATES = (State.TRANSFERRED,)
INBOX_STATES = (State.DISPATCHED, State.ACKNOWLEDGED)
# "Near the deadline" on list filters: the running stage ends within this window.
NEAR_WINDOW = timedelta(hours=24)
# Lists never count past this: the table grows to millions of rows.
COUNT_CAP = 1000

# The deadline field of the stage that runs in each open state (as in workflow._RUNNING).
_DUE_FIELDS: tuple[tuple[tuple[str, ...], str], ...] = (
    ((State.REPORTED,), "accept_due"),
    ((State.ACCEPTED, State.TRANSFERRED), "dispatch_due"),
    ((State.DISPATCHED, State.ACKNOWLEDGED), "handle_due"),
    ((State.HANDLED,), "verify_due"),
)


def _running_due_q(lookup: str, value: datetime) -> Q:
    """Cases whose running stage's deadline matches ``<due> <lookup> value``."""
    q = Q(pk__in=[])
    for states, field_name in _DUE_FIELDS:
        part = Q(state__in=states, **{f"{field_name}__{lookup}": value})
        if field_name == "handle_due":
            part &= Q(suspended=False)
        q |= part
    return q


def overdue_q(now: datetime) -> Q:
    """Open cases past the deadline of their running stage."""
    return _running_due_q("lt", now)


def near_deadline_q(now: datetime) -> Q:
    """Open cases whose running stage ends within ``NEAR_WINDOW`` (not yet overdue)."""
    return _running_due_q("gte", now) & _running_due_q("lt", now + NEAR_WINDOW)


def _urgency_first() -> Case:
    return Case(When(urgency=Urgency.URGENT, then=Value(0)), default=Value(1))


_LIST_RELATED = (
    "grid",
    "community",
    "category__parent",
    "standard",
    "department",
    "proposed_department",
    "building",
)


def _with_photos(qs: QuerySet[Report]) -> QuerySet[Report]:
    return qs.prefetch_related(
        Prefetch("photos", queryset=ReportPhoto.objects.order_by("pk"), to_attr="photo_list")
    )


def center_regions(user: Any) -> tuple[list[Any], list[Any]]:
    """The streets and districts whose center the user staffs (no query)."""
    scope = scope_for(user)
    return scope.regions_for(Role.STREET_STAFF), scope.regions_for(Role.DISTRICT_STAFF)


def triage_queue(user: Any) -> QuerySet[Report]:
    """新/回退/退回 cases waiting for this user's center, most urgent then oldest first.

    Each row carries its photos and its routing events (ROUTED / ROUTE_NONE) in two
    prefetch queries, so the page's query count does not grow with its rows."""
    streets, districts = center_regions(user)
    q = Q(pk__in=[])
    if streets:
        q |= Q(street_id__in=[r.pk for r in streets], state__in=STREET_TRIAGE_STATES)
    if districts:
        q |= Q(district_id__in=[r.pk for r in districts], state__in=DISTRICT_TRIAGE_STATES)
    routing_events = ReportEvent.objects.filter(
        kind__in=(EventKind.ROUTED, EventKind.ROUTE_NONE)
    ).order_by("-at", "-pk")
    return _with_photos(
        reports_visible_to(user)
        .filter(q)
        .select_related(*_LIST_RELATED)
        .prefetch_related(Prefetch("events", queryset=routing_events, to_attr="routing_events"))
        .order_by(_urgency_first(), "created_at", "pk")
    )


def board_cases(user: Any, *, open_only: bool = True) -> QuerySet[Report]:
    """Every case in the user's scope, newest first: open ones only, or with
    ``open_only=False`` also the closed, rejected and merged ones (the board's history,
    which its state filter narrows)."""
    qs = reports_visible_to(user)
    if open_only:
        qs = qs.filter(state__in=OPEN_STATES)
    return qs.select_related(*_LIST_RELATED).order_by("-created_at", "-pk")


def inbox_cases(user: Any) -> QuerySet[Report]:
    """Cases dispatched to the user's departments, most urgent and nearest deadline first."""
    departments = [d.pk for d in scope_for(user).departments]
    return _with_photos(
        Report.objects.filter(department_id__in=departments, state__in=INBOX_STATES)
        .select_related(*_LIST_RELATED)
        .order_by(_urgency_first(), F("handle_due").asc(nulls_last=True), "pk")
    )


# 已办: the states a case is in once its department has reported it handled.
DONE_STATES = (State.HANDLED, State.VERIFIED, State.CLOSED)


def done_cases(user: Any) -> QuerySet[Report]:
    """已办: cases the user's departments handled (reported done, checked, closed), newest
    first; the department's own history, whatever became of the case afterwards."""
    departments = [d.pk for d in scope_for(user).departments]
    return (
        Report.objects.filter(department_id__in=departments, state__in=DONE_STATES)
        .select_related(*_LIST_RELATED)
        .order_by("-created_at", "-pk")
    )


def overdue_cases(user: Any, now: datetime) -> QuerySet[Report]:
    return board_cases(user).filter(overdue_q(now)).order_by(_urgency_first(), "created_at")


def near_deadline_cases(user: Any, now: datetime) -> QuerySet[Report]:
    return board_cases(user).filter(near_deadline_q(now)).order_by(_urgency_first(), "created_at")


def pending_requests(user: Any) -> QuerySet[TimeRequest]:
    """Extension and suspension requests waiting for the user's center to decide."""
    streets, districts = center_regions(user)
    q = Q(pk__in=[])
    if streets:
        q |= Q(
            report__street_id__in=[r.pk for r in streets],
            report__dispatch_level=DispatchLevel.STREET,
        )
    if districts:
        q |= Q(
            report__district_id__in=[r.pk for r in districts],
            report__dispatch_level=DispatchLevel.DISTRICT,
        )
    return (
        TimeRequest.objects.filter(q, status=RequestStatus.PENDING)
        .select_related("report__department", "report__category__parent", "requested_by")
        .order_by("created_at", "pk")
    )


def cases_to_close(user: Any) -> QuerySet[Report]:
    """Verified cases the user's center closes (结案)."""
    return board_cases(user).filter(state=State.VERIFIED).order_by("updated_at", "pk")


def capped_count(qs: QuerySet[Any], cap: int = COUNT_CAP) -> int:
    """How many rows, counting no further than ``cap + 1`` (one bounded query)."""
    return qs.order_by()[: cap + 1].count()


def dispatchable_departments(user: Any) -> list[Department]:
    """Active departments any of the user's centers may dispatch to (one query).

    Narrow to one case with ``departments_for``."""
    streets, districts = center_regions(user)
    q = Q(pk__in=[])
    if streets:
        q |= Q(region_id__in=[r.pk for r in streets])
    if districts:
        q |= Q(region_id__in=[r.pk for r in districts])
        q |= Q(region__level=Level.CITY, region__tree_id__in={r.tree_id for r in districts})
    return list(
        Department.objects.filter(q, is_active=True).select_related("region").order_by("code")
    )


def departments_for(report: Report, departments: list[Department]) -> list[Department]:
    """The departments a center may dispatch this case to, in its current state (no query
    when the case's grid and the departments' regions are loaded): the same fit rule
    dispatch and routing use."""
    level = DispatchLevel.DISTRICT if report.state == State.TRANSFERRED else DispatchLevel.STREET
    return [d for d in departments if department_fits(report, d, level)]


def merge_candidates(report: Report, *, limit: int = 20) -> QuerySet[Report]:
    """Open cases of the same street near this one (about 500 m), nearest category first."""
    qs = Report.objects.filter(street_id=report.street_id, state__in=OPEN_STATES).exclude(
        pk=report.pk
    )
    if report.lat is not None and report.lng is not None:
        box = MERGE_BOX_DEG
        qs = qs.filter(
            lat__range=(report.lat - box, report.lat + box),
            lng__range=(report.lng - box, report.lng + box),
        )
    same = Case(When(category_id=report.category_id, then=Value(0)), default=Value(1))
    return qs.select_related("category").order_by(same, "-created_at")[:limit]


def report_timeline(report: Report) -> list[ReportEvent]:
    """The case's timeline with actors and photos (two queries)."""
    return list(
        report.events.select_related("actor")
        .prefetch_related(Prefetch("photos", queryset=ReportPhoto.objects.order_by("pk")))
        .order_by("at", "pk")
    )


MERGE_BOX_DEG = 0.005  # about 500 m: the box merge_candidates searches


@dataclass(frozen=True, slots=True)
class MergeCandidate:
    """A case a triage row may be merged into: what its <option> shows."""

    pk: int
    number: str
    category_id: int
    category_name: str
    description: str


def merge_candidates_for(
    reports: list[Report], *, per_row: int = 8, cap: int = 1000
) -> dict[int, list[MergeCandidate]]:
    """``merge_candidates`` for a page of rows in one query: for each row, its street's
    open cases within about 500 m, same category first, then newest.

    The query fetches at most ``cap`` of the newest candidates for the whole page, so a
    row's list is a prefix of what ``merge_candidates`` (which the merge form checks
    against) would offer, except in a street with more than ``cap`` open cases nearby.
    The pool is read as plain rows, grouped by street: a model instance per candidate
    was a fifth of the triage page's CPU (bench/request_cpu.py)."""
    if not reports:
        return {}
    near = Q(pk__in=[])
    for r in reports:
        if r.lat is None or r.lng is None:
            near |= Q(street_id=r.street_id)
        else:
            near |= Q(
                street_id=r.street_id,
                lat__range=(r.lat - MERGE_BOX_DEG, r.lat + MERGE_BOX_DEG),
                lng__range=(r.lng - MERGE_BOX_DEG, r.lng + MERGE_BOX_DEG),
            )
    by_street: dict[int, list[tuple[Any, ...]]] = {}
    for row in (
        Report.objects.filter(near, state__in=OPEN_STATES)
        .order_by("-created_at", "-pk")
        .values_list("id", "street_id", "lat", "lng", "category_id", "number",
                     "category__name", "description")[:cap]
    ):
        by_street.setdefault(row[1], []).append(row)
    out: dict[int, list[MergeCandidate]] = {}
    box = MERGE_BOX_DEG
    for r in reports:
        pool = by_street.get(r.street_id, [])
        if r.lat is None or r.lng is None:
            hits = [c for c in pool if c[0] != r.pk]
        else:
            lat, lng = r.lat, r.lng
            hits = [
                c for c in pool
                if c[0] != r.pk and c[2] is not None and c[3] is not None
                and abs(c[2] - lat) <= box and abs(c[3] - lng) <= box
            ]
        # Stable sort keeps newest first within each group, as merge_candidates orders.
        hits.sort(key=lambda c: c[4] != r.category_id)
        out[r.pk] = [
            MergeCandidate(pk=c[0], number=c[5], category_id=c[4], category_name=c[6],
                           description=c[7])
            for c in hits[:per_row]
        ]
    return out
