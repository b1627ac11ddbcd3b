"""Which cases a user may see, and what they may do with one.

Out of scope is 404 (``get_report_for_user``); in scope but not allowed is 403
(the workflow raises ``PermissionDenied``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from grids.models import Role
from grids.selectors import scope_for, subtree_q
from reports import sla
from reports.models import Report, Stage, StageLimit
from reports.sla import LimitUnit, SlaState, WorkCalendar


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
