"""Celery tasks: thin, idempotent, enqueued after commit (STYLE.md §8).

Tasks are sent by name from ``reports.effects`` (which never imports this module).
Enqueueing never raises into a request: if the broker is down the report stays
unrouted and ``sweep_unrouted`` (beat, every ``ROUTING_SWEEP_SECONDS``) re-enqueues it
once the broker is back; ``report_route`` routes each version exactly once.
"""

from __future__ import annotations

import logging
from datetime import datetime

from celery import shared_task
from django.db.models import F, Q
from django.utils import timezone

from reports import effects
from reports.dispatching import report_route
from reports.errors import WorkflowError
from reports.models import OPEN_STATES, Report, State
from reports.photos import photo_make_thumbnail
from reports.workflow import report_mark_overdue, report_resume

logger = logging.getLogger(__name__)


@shared_task(name=effects.ROUTE_TASK, ignore_result=True, acks_late=True)
def route_report(report_id: int) -> None:
    report_route(report_id)


@shared_task(name=effects.SWEEP_UNROUTED_TASK, ignore_result=True)
def sweep_unrouted(limit: int = 500) -> int:
    """Route reports whose routing version has not been applied yet: re-enqueue them
    (with a broker), or route them here and now (in-process)."""
    ids = list(
        Report.objects.filter(routed_version__lt=F("route_version"))
        .order_by("created_at")
        .values_list("id", flat=True)[:limit]
    )
    sent = 0
    for report_id in ids:
        if effects.send(effects.ROUTE_TASK, (report_id,), f"routing of report {report_id}"):
            sent += 1
    return sent


@shared_task(name=effects.THUMBNAIL_TASK, ignore_result=True, acks_late=True)
def make_thumbnail(photo_id: int) -> None:
    photo_make_thumbnail(photo_id)


def overdue_candidates(now: datetime) -> Q:
    return (
        Q(state=State.REPORTED, accept_due__lt=now)
        | Q(state__in=[State.ACCEPTED, State.TRANSFERRED], dispatch_due__lt=now)
        | Q(state__in=[State.DISPATCHED, State.ACKNOWLEDGED], suspended=False, handle_due__lt=now)
        | Q(state=State.HANDLED, verify_due__lt=now)
    )


@shared_task(ignore_result=True)
def sweep_overdue(limit: int = 1000) -> int:
    """Flag open cases past their running stage's deadline, notify their center, and
    resume suspensions whose date has passed."""
    now = timezone.now()
    for report in Report.objects.filter(suspended=True, suspended_until__lte=now)[:limit]:
        try:
            report_resume(report, actor=None)
        except WorkflowError:
            pass  # resumed or moved on since the query read it (safe to run twice)
    flagged = 0
    for report in Report.objects.filter(
        overdue_candidates(now), state__in=list(OPEN_STATES), is_overdue=False
    )[:limit]:
        try:
            flagged += report_mark_overdue(report, actor=None)
        except WorkflowError:
            pass  # closed since the query read it
    return flagged
