"""Notices on every hand-off: who is who, and the in-app rows; further transports pluggable.

The transition table (``reports.workflow.TRANSITIONS``, each row's ``notices``) declares
which notice each hand-off sends and to whom, naming one of the recipient functions below
(docs/workflow.md "Who is told what"). The workflow calls ``notify`` through
``transaction.on_commit``, so a rolled-back transition tells no one. One ``Notification``
row per recipient (unread until ``read_at``); when nobody holds the role yet, one row
addressed to the center or department alone keeps the notice for whoever joins.

``settings.NOTIFICATION_TRANSPORTS`` lists dotted paths of callables taking a
``Notification`` (SMS gateway, 政务微信 …). A failing transport is logged, never fatal.

A leaf below the workflow: models only.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.conf import settings
from django.db.models import Q
from django.utils.module_loading import import_string

from accounts.models import User
from grids.models import Region, Role
from reports.models import DispatchLevel, Notification, Report, State

logger = logging.getLogger(__name__)


class NoticeKind:
    """What happened, as stored in ``Notification.kind``."""

    DISPATCHED = "dispatched"
    RETURNED = "returned"
    TRANSFERRED = "transferred"
    SENT_DOWN = "sent_down"
    EXTENSION_REQUESTED = "extension_requested"
    SUSPENSION_REQUESTED = "suspension_requested"
    REQUEST_DECIDED = "request_decided"
    HANDLED = "handled"
    REWORK = "rework"
    URGED = "urged"
    OVERDUE = "overdue"
    CLOSED = "closed"
    # A case waiting in the center's queue: no rule dispatched it (none matched, a rule
    # only proposes, or the rule's department cannot take it).
    IN_QUEUE = "in_queue"
    VERIFIED = "verified"
    # Told to whoever filed the case.
    REJECTED = "rejected"
    MERGED = "merged"
    RECATEGORIZED = "recategorized"
    ACKNOWLEDGED = "acknowledged"
    # The department: a suspension ended, the handling clock runs again.
    RESUMED = "resumed"


# Who is told: a function of the case as it stands after the transition.
Recipients = Callable[[Report], list[User]]


def responsible_region_id(report: Report) -> int:
    """The center that must act: the district once transferred or dispatched by it."""
    if report.state == State.TRANSFERRED or report.dispatch_level == DispatchLevel.DISTRICT:
        return report.district_id
    return report.street_id


def _center_role(report: Report) -> str:
    if responsible_region_id(report) == report.district_id:
        return Role.DISTRICT_STAFF
    return Role.STREET_STAFF


def _active(q: Q) -> list[User]:
    return list(User.objects.filter(q, is_active=True).distinct().order_by("pk"))


def center(report: Report) -> list[User]:
    """The center that must act now: the district once transferred or dispatched by it."""
    return _active(
        Q(assignments__role=_center_role(report),
          assignments__region_id=responsible_region_id(report))
    )


def street_center(report: Report) -> list[User]:
    """The staff of the case's street center."""
    return _active(
        Q(assignments__role=Role.STREET_STAFF, assignments__region_id=report.street_id)
    )


def department(report: Report) -> list[User]:
    """The handlers of the case's department."""
    if report.department_id is None:
        return []
    return _active(
        Q(assignments__role=Role.HANDLER, assignments__department_id=report.department_id)
    )


def grid_workers(report: Report) -> list[User]:
    """The grid's workers and the community's grid head (they verify on site)."""
    return _active(
        Q(assignments__role=Role.GRID_WORKER, assignments__region_id=report.grid_id)
        | Q(assignments__role=Role.GRID_HEAD, assignments__region_id=report.community_id)
    )


def center_and_leaders(report: Report) -> list[User]:
    """An overdue case concerns its center and the leaders over its place, who may urge it
    (督办): leaders assigned at the case's grid or any region above it."""
    grid = Region.objects.only("tree_id", "lft", "rght").get(pk=report.grid_id)
    leaders = Q(
        assignments__role=Role.LEADER,
        assignments__region__tree_id=grid.tree_id,
        assignments__region__lft__lte=grid.lft,
        assignments__region__rght__gte=grid.rght,
    )
    in_charge = center(report)
    return in_charge + [u for u in _active(leaders) if u not in in_charge]


def reporter(report: Report) -> list[User]:
    """Whoever filed the case."""
    return _active(Q(pk=report.reporter_id))


def department_or_center(report: Report) -> list[User]:
    """Urging presses whoever holds the case: the department, else the center."""
    return department(report) if report.department_id is not None else center(report)


def notify(
    *,
    report_id: int,
    kind: str,
    message: str,
    recipients: Recipients = center,
    actor_id: int | None = None,
) -> list[Notification]:
    """Create the notices of one hand-off for ``recipients(case)`` (by default the center
    that must act; the actor is not told of their own act) and hand each to the
    configured transports."""
    report = Report.objects.filter(pk=report_id).first()
    if report is None:
        return []
    users = [u for u in recipients(report) if u.pk != actor_id]
    base = {
        "region_id": responsible_region_id(report),
        "department_id": report.department_id,
        "report": report,
        "kind": kind,
        "message": message[:200],
    }
    if users:
        notices = Notification.objects.bulk_create(
            [Notification(recipient=user, **base) for user in users]
        )
    else:
        notices = [Notification.objects.create(recipient=None, **base)]
    for path in getattr(settings, "NOTIFICATION_TRANSPORTS", []):
        for notice in notices:
            try:
                transport: Callable[[Notification], None] = import_string(path)
                transport(notice)
            except Exception:
                logger.exception("notification transport %s failed for %s", path, notice.pk)
    return notices
