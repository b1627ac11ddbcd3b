"""Which cases a user may see, and what they may do with one.

Out of scope is 404 (``get_report_for_user``); in scope but not allowed is 403
(the workflow raises ``PermissionDenied``).
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from django.http import Http404

from grids.models import Role
from grids.selectors import scope_for, subtree_q
from reports.models import Report


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
