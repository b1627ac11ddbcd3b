"""Celery tasks: thin, idempotent, enqueued after commit (STYLE.md §8).

Enqueueing never raises into a request: if the broker is down the report stays
unrouted and ``sweep_unrouted`` (beat, every ``ROUTING_SWEEP_SECONDS``) re-enqueues it
once the broker is back; ``report_route`` routes each version exactly once.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime
from typing import Any

from celery import shared_task
from django.db.models import F, Q
from django.utils import timezone

from reports.models import OPEN_STATES, Report, ReportPhoto, State

logger = logging.getLogger(__name__)


@shared_task(ignore_result=True, acks_late=True)
def route_report(report_id: int) -> None:
    from reports.services import report_route

    report_route(report_id)


# After a failed publish, skip publishing for this long: a phone filing during a broker
# outage must not wait for a connection timeout each time. The sweeps catch up.
BROKER_BACKOFF_SECONDS = 10.0
_broker_down_until = 0.0


def _publish(task: Any, args: tuple[Any, ...], what: str) -> bool:
    """Send a task now if the broker seems up; False if it was not sent."""
    global _broker_down_until
    if task.app.conf.task_always_eager:
        # In-process (no REDIS_URL): a failing task is a bug to log, not a dead broker.
        try:
            task.apply(args, throw=True)
        except Exception:
            logger.exception("%s failed", what)
            return False
        return True
    if time.monotonic() < _broker_down_until:
        logger.info("%s not enqueued: broker marked down; the sweep will retry", what)
        return False
    try:
        task.apply_async(args, retry=False)
    except Exception as e:  # kombu/redis raise several types for an unreachable broker
        _broker_down_until = time.monotonic() + BROKER_BACKOFF_SECONDS
        logger.warning("%s not enqueued (%s); the sweep will retry", what, e)
        return False
    return True


def enqueue_route(report_id: int) -> None:
    """Send the routing task; on a broker failure log it and let the sweep catch up."""
    _publish(route_report, (report_id,), f"routing of report {report_id}")


@shared_task(ignore_result=True)
def sweep_unrouted(limit: int = 500) -> int:
    """Re-enqueue reports whose routing version has not been applied yet."""
    ids = list(
        Report.objects.filter(routed_version__lt=F("route_version"))
        .order_by("created_at")
        .values_list("id", flat=True)[:limit]
    )
    sent = 0
    for report_id in ids:
        if _publish(route_report, (report_id,), f"routing of report {report_id}"):
            sent += 1
    return sent


@shared_task(ignore_result=True, acks_late=True)
def make_thumbnail(photo_id: int) -> None:
    from reports.photos import photo_make_thumbnail

    photo_make_thumbnail(photo_id)


def enqueue_thumbnails(report_id: int) -> None:
    for photo_id in ReportPhoto.objects.filter(report_id=report_id, thumbnail="").values_list(
        "id", flat=True
    ):
        _publish(make_thumbnail, (photo_id,), f"thumbnail of photo {photo_id}")


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

