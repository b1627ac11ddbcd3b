"""Celery tasks: thin, idempotent, enqueued after commit (STYLE.md §8).

Tasks are sent by name from ``reports.effects`` (which never imports this module).
Enqueueing never raises into a request: if the broker is down the report stays
unrouted and ``sweep_unrouted`` (beat, every ``ROUTING_SWEEP_SECONDS``) re-enqueues it
once the broker is back; ``report_route`` routes each version exactly once.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from celery import shared_task
from django.conf import settings
from django.db.models import F, Q
from django.utils import timezone

from jinzhitong import heartbeat
from reports import effects
from reports.dispatching import report_route
from reports.errors import WorkflowError
from reports.models import OPEN_STATES, Report, ReportPhoto, State
from reports.photos import photo_files_sweep, photo_make_thumbnail
from reports.workflow import report_mark_overdue, report_resume

logger = logging.getLogger(__name__)


@shared_task(name=effects.ROUTE_TASK, ignore_result=True, acks_late=True)
def route_report(report_id: int) -> None:
    report_route(report_id)


@shared_task(name=effects.SWEEP_UNROUTED_TASK, ignore_result=True)
def sweep_unrouted(limit: int = 500) -> int:
    """Route reports whose routing version has not been applied yet: re-enqueue them
    (with a broker), or route them here and now (in-process)."""
    heartbeat.mark(heartbeat.SWEEP)
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
    heartbeat.mark(heartbeat.SWEEP)
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


# A thumbnail task normally runs within seconds of the commit; a photo older than this
# with no thumbnail lost its task (broker down at commit, worker killed mid-task).
THUMBNAIL_GRACE = timedelta(minutes=1)
# Older photos are not looked at again: one whose file is gone would be retried forever,
# and the partial index (reportphoto_no_thumb_idx) keeps the query to this window.
THUMBNAIL_WINDOW = timedelta(days=2)


@shared_task(name="reports.tasks.sweep_thumbnails", ignore_result=True)
def sweep_thumbnails(limit: int = 200) -> int:
    """Make the thumbnails whose task was lost: photos without one, older than a minute.

    Makes them here (not by re-enqueueing) so a broker that loses tasks cannot lose them
    again; a photo whose file is gone is skipped quietly each time (logged by the maker).
    Returns how many it made."""
    heartbeat.mark(heartbeat.SWEEP)
    now = timezone.now()
    ids = list(
        ReportPhoto.objects.filter(
            thumbnail="", created_at__lt=now - THUMBNAIL_GRACE,
            created_at__gte=now - THUMBNAIL_WINDOW,
        )
        .order_by("created_at")
        .values_list("id", flat=True)[:limit]
    )
    made = 0
    for photo_id in ids:
        try:
            photo_make_thumbnail(photo_id)
        except Exception:
            # One damaged file must not stop the others.
            logger.exception("thumbnail of photo %s failed in the sweep", photo_id)
            continue
        made += ReportPhoto.objects.filter(pk=photo_id).exclude(thumbnail="").exists()
    if made:
        logger.info("thumbnail sweep made %d thumbnails", made)
    return made


@shared_task(name="reports.tasks.sweep_orphan_photos", ignore_result=True)
def sweep_orphan_photos() -> int:
    """Remove photo files that no row references, older than ``PHOTO_ORPHAN_MINUTES``."""
    heartbeat.mark(heartbeat.SWEEP)
    return photo_files_sweep(older_than=timedelta(minutes=settings.PHOTO_ORPHAN_MINUTES))
