"""Notices on every hand-off: who is told, and the in-app rows; further transports pluggable.

``recipients_for(report, kind)`` is the one place that decides who is told (docs/workflow.md
"Who is told what"). The workflow calls ``notify`` through ``transaction.on_commit``, so a
rolled-back transition tells no one. One ``Notification`` row per recipient (unread until
``read_at``); when nobody holds the role yet, one row addressed to the center or department
alone keeps the notice for whoever joins.

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


def _center(report: Report) -> list[User]:
    return _active(
        Q(assignments__role=_center_role(report),
          assignments__region_id=responsible_region_id(report))
    )


def _street(report: Report) -> list[User]:
    return _active(
        Q(assignments__role=Role.STREET_STAFF, assignments__region_id=report.street_id)
    )


def _department(report: Report) -> list[User]:
    if report.department_id is None:
        return []
    return _active(
        Q(assignments__role=Role.HANDLER, assignments__department_id=report.department_id)
    )


def _grid(report: Report) -> list[User]:
    return _active(
        Q(assignments__role=Role.GRID_WORKER, assignments__region_id=report.grid_id)
        | Q(assignments__role=Role.GRID_HEAD, assignments__region_id=report.community_id)
    )


def _center_and_leaders(report: Report) -> list[User]:
    """An overdue case concerns its center and the leaders over its place, who may urge it
    (督办): leaders assigned at the case's grid or any region above it."""
    grid = Region.objects.only("tree_id", "lft", "rght").get(pk=report.grid_id)
    leaders = Q(
        assignments__role=Role.LEADER,
        assignments__region__tree_id=grid.tree_id,
        assignments__region__lft__lte=grid.lft,
        assignments__region__rght__gte=grid.rght,
    )
    center = _center(report)
    return center + [u for u in _active(leaders) if u not in center]


def _reporter(report: Report) -> list[User]:
    return _active(Q(pk=report.reporter_id))


def _department_or_center(report: Report) -> list[User]:
    """Urging presses whoever holds the case: the department, else the center."""
    return _department(report) if report.department_id is not None else _center(report)


# Who must act after each hand-off (the case is read *after* the transition).
_RECIPIENTS: dict[str, Callable[[Report], list[User]]] = {
    NoticeKind.DISPATCHED: _department,
    NoticeKind.RETURNED: _center,
    NoticeKind.TRANSFERRED: _center,
    NoticeKind.SENT_DOWN: _street,
    NoticeKind.EXTENSION_REQUESTED: _center,
    NoticeKind.SUSPENSION_REQUESTED: _center,
    NoticeKind.REQUEST_DECIDED: _department,
    NoticeKind.HANDLED: _grid,
    NoticeKind.REWORK: _department,
    NoticeKind.URGED: _department_or_center,
    NoticeKind.OVERDUE: _center_and_leaders,
    NoticeKind.CLOSED: _reporter,
    NoticeKind.IN_QUEUE: _center,
    NoticeKind.VERIFIED: _center,
}


def recipients_for(report: Report, kind: str) -> list[User]:
    """The users told about ``kind`` on ``report`` (in its state after the transition)."""
    return _RECIPIENTS[kind](report)


def notify(
    *, report_id: int, kind: str, message: str, actor_id: int | None = None
) -> list[Notification]:
    """Create the notices of one hand-off (the actor is not told of their own act) and
    hand each to the configured transports."""
    report = Report.objects.filter(pk=report_id).first()
    if report is None:
        return []
    users = [u for u in recipients_for(report, kind) if u.pk != actor_id]
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
