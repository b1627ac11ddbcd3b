"""Celery tasks: thin, idempotent, enqueued after commit (STYLE.md §8).

Enqueueing never raises into a request: if the broker is down the report stays
unrouted and ``sweep_unrouted`` (beat, every ``ROUTING_SWEEP_SECONDS``) re-enqueues it
once the broker is back; ``report_route`` routes each version exactly once.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from celery import shared_task
from django.db.models import F, Q
from django.utils import timezone

from reports.models import OPEN_STATES, Report, ReportPhoto, State

logger = logging.getLogger(__name__)


@shared_task(ignore_result=True, acks_late=True)
def route_report(report_id: int) -> None:
    from reports.services import report_route

    report_route(report_id)


def enqueue_route(report_id: int) -> None:
    """Send the routing task; on a broker failure log it and let the sweep catch up."""
    try:
        route_report.apply_async((report_id,), retry=False)
    except Exception as e:  # kombu raises several types for an unreachable broker
        logger.warning("routing of report %s not enqueued (%s); the sweep will retry", report_id, e)


@shared_task(ignore_result=True)
def sweep_unrouted(limit: int = 500) -> int:
    """Re-enqueue reports whose routing version has not been applied yet."""
    ids = list(
        Report.objects.filter(routed_version__lt=F("route_version"))
        .order_by("created_at")
        .values_list("id", flat=True)[:limit]
    )
    for report_id in ids:
        enqueue_route(report_id)
    return len(ids)


@shared_task(ignore_result=True, acks_late=True)
def make_thumbnail(photo_id: int) -> None:
    from reports.photos import photo_make_thumbnail

    photo_make_thumbnail(photo_id)


def enqueue_thumbnails(report_id: int) -> None:
    for photo_id in ReportPhoto.objects.filter(report_id=report_id, thumbnail="").values_list(
        "id", flat=True
    ):
        try:
            make_thumbnail.apply_async((photo_id,), retry=False)
        except Exception as e:
            logger.warning("thumbnail of photo %s not enqueued (%s)", photo_id, e)


def overdue_candidates(now: timezone.datetime) -> Q:
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
    from reports.workflow import report_mark_overdue, report_resume

    now = timezone.now()
    for report in Report.objects.filter(suspended=True, suspended_until__lte=now)[:limit]:
        report_resume(report)
    flagged = 0
    for report in Report.objects.filter(
        overdue_candidates(now), state__in=list(OPEN_STATES), is_overdue=False
    )[:limit]:
        flagged += report_mark_overdue(report)
    return flagged


def thumbnails_backlog(max_age: timedelta = timedelta(minutes=5)) -> int:
    """Photos still without a thumbnail after ``max_age`` (for monitoring)."""
    return ReportPhoto.objects.filter(
        thumbnail="", created_at__lt=timezone.now() - max_age
    ).count()
