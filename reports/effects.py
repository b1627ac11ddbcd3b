"""Side effects that start background work: tasks are sent *by name*.

A leaf module: the workflow and services call these without importing ``reports.tasks``
(imports run one way, STYLE.md §8a). Enqueueing never raises into a request: if the
broker is down the case stays unrouted and ``sweep_unrouted`` re-enqueues it later.

In-process mode (no REDIS_URL, ``CELERY_TASK_ALWAYS_EAGER``) runs the task here and now,
retrying a few times with back-off: several processes filing on one SQLite file can
briefly find the database locked, and a case must not be left unrouted for that.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from celery import current_app
from django.db import OperationalError, transaction

from reports.models import ReportPhoto

logger = logging.getLogger(__name__)

ROUTE_TASK = "reports.tasks.route_report"
THUMBNAIL_TASK = "reports.tasks.make_thumbnail"
SWEEP_UNROUTED_TASK = "reports.tasks.sweep_unrouted"

# After a failed publish, skip publishing for this long: a phone filing during a broker
# outage must not wait for a connection timeout each time. The sweeps catch up.
BROKER_BACKOFF_SECONDS = 10.0
_broker_down_until = 0.0

# In-process retries: 6 attempts spread over about 1.5 s.
EAGER_ATTEMPTS = 6
EAGER_FIRST_DELAY = 0.05

_sleep: Callable[[float], None] = time.sleep


def _run_in_process(name: str, args: tuple[Any, ...], what: str) -> bool:
    if name not in current_app.tasks:
        # A web process never imports the tasks modules; let Celery's autodiscovery load
        # them (by name, at run time) so this leaf keeps no import of reports.tasks.
        current_app.loader.import_default_modules()
    task = current_app.tasks[name]
    delay = EAGER_FIRST_DELAY
    for attempt in range(1, EAGER_ATTEMPTS + 1):
        try:
            task.apply(args, throw=True)
        except OperationalError:
            # "database is locked" and the like: another process holds the write lock.
            if attempt == EAGER_ATTEMPTS:
                logger.exception("%s failed %d times; the sweep will retry", what, attempt)
                return False
            logger.warning("%s failed (attempt %d); retrying", what, attempt, exc_info=True)
            _sleep(delay)
            delay *= 2
        except Exception:
            # A bug to log, not a busy database: retrying would fail the same way.
            logger.exception("%s failed", what)
            return False
        else:
            return True
    return False


def send(name: str, args: tuple[Any, ...], what: str) -> bool:
    """Send a task now if the broker seems up; False if it was not sent (or failed
    in-process)."""
    global _broker_down_until
    if current_app.conf.task_always_eager:
        return _run_in_process(name, args, what)
    if time.monotonic() < _broker_down_until:
        logger.info("%s not enqueued: broker marked down; the sweep will retry", what)
        return False
    try:
        current_app.send_task(name, args, retry=False)
    except Exception as e:  # kombu/redis raise several types for an unreachable broker
        _broker_down_until = time.monotonic() + BROKER_BACKOFF_SECONDS
        logger.warning("%s not enqueued (%s); the sweep will retry", what, e)
        return False
    return True


def enqueue_route(report_id: int) -> bool:
    """Send the routing task; on failure log it and let the sweep catch up.

    In-process, a routing that failed even after retries is followed by one in-process
    sweep, so a case filed without a worker is never left waiting for a beat that does
    not run."""
    sent = send(ROUTE_TASK, (report_id,), f"routing of report {report_id}")
    if not sent and current_app.conf.task_always_eager:
        send(SWEEP_UNROUTED_TASK, (), "in-process sweep of unrouted reports")
    return sent


def enqueue_thumbnails(report_id: int) -> None:
    for photo_id in ReportPhoto.objects.filter(report_id=report_id, thumbnail="").values_list(
        "id", flat=True
    ):
        send(THUMBNAIL_TASK, (photo_id,), f"thumbnail of photo {photo_id}")


def route_on_commit(report_id: int) -> None:
    transaction.on_commit(lambda: enqueue_route(report_id))


def thumbnails_on_commit(report_id: int) -> None:
    transaction.on_commit(lambda: enqueue_thumbnails(report_id))
