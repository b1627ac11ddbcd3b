"""The periodic sweep flags overdue cases, notifies the responsible center and resumes
suspensions whose date has passed."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from accounts.models import User
from grids.models import Department
from reports import tasks, workflow
from reports.calendar import get_calendar
from reports.models import EventKind, Notification, Report
from reports.selectors import report_clock, stage_limits
from tests.conftest import City
from tests.reports.conftest import Catalog, file_report

pytestmark = pytest.mark.django_db


def _travel(monkeypatch: pytest.MonkeyPatch, delta: timedelta) -> None:
    later = timezone.now() + delta
    monkeypatch.setattr(timezone, "now", lambda: later)


def test_it_flags_an_unaccepted_report_overdue_once_and_notifies_the_street_center(
    worker: User,
    city: City,
    catalog: Catalog,
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks,
) -> None:
    report = file_report(worker, city, catalog.roof_tree)
    _travel(monkeypatch, timedelta(days=10))
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.sweep_overdue() == 1
        assert tasks.sweep_overdue() == 0
    report.refresh_from_db()
    assert report.is_overdue
    assert report.events.filter(kind=EventKind.OVERDUE).count() == 1
    notice = Notification.objects.get(report=report)
    assert notice.region_id == city.street.pk and "已超期" in notice.message


def test_it_leaves_cases_within_their_limit_alone(
    worker: User, city: City, catalog: Catalog
) -> None:
    file_report(worker, city, catalog.roof_tree)
    assert tasks.sweep_overdue() == 0


def test_it_does_not_flag_a_suspended_case_and_resumes_it_when_the_date_passes(
    worker: User,
    city: City,
    catalog: Catalog,
    street_staff: User,
    street_department: Department,
    street_handler: User,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    report = file_report(worker, city, catalog.roof_tree)
    workflow.report_accept(report, actor=street_staff)
    workflow.report_dispatch(report, actor=street_staff, department=street_department)
    workflow.report_acknowledge(report, actor=street_handler)
    until = timezone.now() + timedelta(days=60)
    req = workflow.report_request_suspension(
        report, actor=street_handler, reason="待拆迁", until=until
    )
    workflow.report_decide_request(report, actor=street_staff, request=req, grant=True)
    due_before = Report.objects.get(pk=report.pk).handle_due
    _travel(monkeypatch, timedelta(days=30))
    assert tasks.sweep_overdue() == 0  # paused: no clock runs
    _travel(monkeypatch, timedelta(days=61))
    tasks.sweep_overdue()
    report.refresh_from_db()
    assert not report.suspended
    assert report.handle_due > due_before + timedelta(days=40)
    assert report.events.filter(kind=EventKind.RESUMED).count() == 1


def test_it_shows_time_left_green_then_yellow_then_red_in_the_admin_list(
    worker: User, city: City, catalog: Catalog, admin_user: User, client,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Filed on a Tuesday at 10:00, so the 15 working minutes to accept lie in one period.
    filed = datetime(2026, 11, 17, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    monkeypatch.setattr(timezone, "now", lambda: filed)
    report = file_report(worker, city, catalog.roof_tree)
    calendar, limits = get_calendar(), stage_limits()
    due = report.accept_due
    assert report_clock(report, now=due - timedelta(minutes=14), calendar=calendar,
                        limits=limits).state == "ok"
    assert report_clock(report, now=due - timedelta(minutes=2), calendar=calendar,
                        limits=limits).state == "warning"
    late = report_clock(report, now=due + timedelta(minutes=5), calendar=calendar, limits=limits)
    assert late.state == "overdue" and late.text.startswith("超期")
    client.force_login(admin_user)
    response = client.get("/admin/reports/report/")
    assert response.status_code == 200
    assert 'class="sla sla-' in response.content.decode()


SENT: list[str] = []


def collect(notice: Notification) -> None:
    """A stand-in transport (SMS, 政务微信 …) configured by dotted path."""
    SENT.append(notice.message)


def test_it_hands_notices_to_the_configured_transports(
    worker: User, city: City, catalog: Catalog, settings, monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks,
) -> None:
    settings.NOTIFICATION_TRANSPORTS = ["tests.reports.test_overdue.collect"]
    SENT.clear()
    report = file_report(worker, city, catalog.roof_tree)
    _travel(monkeypatch, timedelta(days=10))
    with django_capture_on_commit_callbacks(execute=True):
        tasks.sweep_overdue()
    assert SENT == [f"案件 {report.number} 已超期（待立案）"]
