"""In-app notices to the responsible center or department; further transports pluggable.

``settings.NOTIFICATION_TRANSPORTS`` lists dotted paths of callables taking a
``Notification`` (SMS gateway, 政务微信 …). A failing transport is logged, never fatal.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.conf import settings
from django.utils.module_loading import import_string

from reports.models import DispatchLevel, Notification, Report, State

logger = logging.getLogger(__name__)


def responsible_region_id(report: Report) -> int:
    """The center that must act: the district once transferred or dispatched by it."""
    if report.state == State.TRANSFERRED or report.dispatch_level == DispatchLevel.DISTRICT:
        return report.district_id
    return report.street_id


def notify(*, report_id: int, kind: str, message: str) -> Notification | None:
    report = Report.objects.filter(pk=report_id).first()
    if report is None:
        return None
    notice = Notification.objects.create(
        region_id=responsible_region_id(report),
        department_id=report.department_id,
        report=report,
        kind=kind,
        message=message[:200],
    )
    for path in getattr(settings, "NOTIFICATION_TRANSPORTS", []):
        try:
            transport: Callable[[Notification], None] = import_string(path)
            transport(notice)
        except Exception:
            logger.exception("notification transport %s failed for %s", path, notice.pk)
    return notice
