"""The time-left colour (docs/time-limits.md) is decided by ``sla.sla_state`` alone;
``report_clock`` — the admin column and every page — follows it at the boundaries."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from accounts.models import User
from reports.calendar import get_calendar
from reports.models import Report, State
from reports.selectors import report_clock, stage_limits
from tests.conftest import City
from tests.reports.conftest import Catalog, file_report

pytestmark = pytest.mark.django_db

TZ = ZoneInfo("Asia/Shanghai")
# A Tuesday at 10:00: the 15 working minutes to accept lie in one office period.
FILED = datetime(2026, 11, 17, 10, 0, tzinfo=TZ)


def _filed(worker: User, city: City, catalog: Catalog, monkeypatch: pytest.MonkeyPatch) -> Report:
    monkeypatch.setattr(timezone, "now", lambda: FILED)
    return file_report(worker, city, catalog.roof_tree)


@pytest.mark.parametrize(
    ("before_due", "colour"),
    [
        (timedelta(minutes=3), "ok"),  # exactly 20 % of 15 minutes left: still green
        (timedelta(minutes=3) - timedelta(seconds=1), "warning"),
        (timedelta(0), "warning"),  # exactly at the deadline: on time, yellow
        (-timedelta(microseconds=1), "overdue"),
    ],
)
def test_it_colours_the_accept_clock_at_the_boundaries(
    worker: User,
    city: City,
    catalog: Catalog,
    monkeypatch: pytest.MonkeyPatch,
    before_due: timedelta,
    colour: str,
) -> None:
    report = _filed(worker, city, catalog, monkeypatch)
    assert report.accept_due is not None
    clock = report_clock(
        report,
        now=report.accept_due - before_due,
        calendar=get_calendar(),
        limits=stage_limits(),
    )
    assert clock is not None and clock.state == colour


def test_it_counts_an_extension_in_the_whole_handling_span(
    worker: User, city: City, catalog: Catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    """3 working days, extended once to 6: yellow once less than 1.2 working days are
    left (20 % of the span since handling began), not 0.6."""
    calendar = get_calendar()
    report = _filed(worker, city, catalog, monkeypatch)
    started = datetime(2026, 11, 2, 9, 0, tzinfo=TZ)  # a Monday
    Report.objects.filter(pk=report.pk).update(
        state=State.ACKNOWLEDGED,
        handle_started=started,
        handle_due=datetime(2026, 11, 10, 9, 0, tzinfo=TZ),  # six working days later
        extension_count=1,
    )
    report.refresh_from_db()
    assert report.standard is not None and report.standard.limit_amount == Decimal(3)
    now = datetime(2026, 11, 9, 9, 0, tzinfo=TZ)  # Monday: one working day left
    clock = report_clock(report, now=now, calendar=calendar, limits=stage_limits())
    assert clock is not None and clock.state == "warning"
