"""The embedded scheduler: without a broker the web process runs the beat schedule itself,
so the statistics move when a case closes and overdue cases get flagged."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from celery.schedules import crontab
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from grids.models import Department
from jinzhitong.scheduler import Scheduler
from reports import workflow
from reports.models import Report
from tests.conftest import City
from tests.reports import conftest as reports_fixtures
from tests.reports.conftest import Catalog, file_report, jpeg

catalog = reports_fixtures.catalog
street_department = reports_fixtures.street_department
street_handler = reports_fixtures.street_handler

BEIJING = ZoneInfo("Asia/Shanghai")
SCHEDULE = {
    "fast": {"task": "t.fast", "schedule": 10.0},
    "slow": {"task": "t.slow", "schedule": timedelta(minutes=1)},
}


def _scheduler(schedule: dict[str, dict[str, object]] = SCHEDULE) -> tuple[Scheduler, list[str]]:
    ran: list[str] = []
    return Scheduler(schedule, clock=lambda: 0.0, run=ran.append), ran


def test_it_runs_everything_at_start_then_each_task_at_its_interval() -> None:
    scheduler, ran = _scheduler()

    at = {t: scheduler.tick(now=t) for t in (0.0, 5.0, 10.0, 20.0, 25.0, 30.0, 60.0, 61.0)}

    assert at == {0.0: ["fast", "slow"], 5.0: [], 10.0: ["fast"], 20.0: ["fast"], 25.0: [],
                  30.0: ["fast"], 60.0: ["fast", "slow"], 61.0: []}
    assert ran == ["t.fast", "t.slow", "t.fast", "t.fast", "t.fast", "t.fast", "t.slow"]
    assert scheduler.seconds_to_next(now=61.0) == 9.0


def test_it_does_not_pile_up_missed_runs_after_a_long_pause() -> None:
    scheduler, _ran = _scheduler()
    scheduler.tick(now=0.0)

    assert scheduler.tick(now=3600.0) == ["fast", "slow"]
    assert scheduler.tick(now=3605.0) == []


def test_a_failing_task_does_not_stop_the_others() -> None:
    def run(task: str) -> None:
        if task == "t.fast":
            raise RuntimeError("boom")

    scheduler = Scheduler(SCHEDULE, clock=lambda: 0.0, run=run)

    assert scheduler.tick(now=0.0) == ["fast", "slow"]
    assert scheduler.tick(now=10.0) == ["fast"]


def test_it_leaves_out_entries_without_a_fixed_interval() -> None:
    scheduler, _ran = _scheduler({"nightly": {"task": "t.n", "schedule": crontab(hour=3)},
                                  **SCHEDULE})

    assert [e.name for e in scheduler.entries] == ["fast", "slow"]


def test_it_holds_every_entry_of_the_beat_schedule() -> None:
    scheduler, _ran = _scheduler(settings.CELERY_BEAT_SCHEDULE)

    assert {e.name for e in scheduler.entries} == set(settings.CELERY_BEAT_SCHEDULE)


def _at(monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    at = datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=BEIJING)
    monkeypatch.setattr(timezone, "now", lambda: at)


def _screen(leader: User) -> dict[str, int]:
    c = Client()
    c.force_login(leader)
    data = c.get(reverse("evaluation:screen_json"), {"period": "month", "date": "2025-03-01"})
    kpi: dict[str, int] = data.json()["kpi"]
    return kpi


def test_without_a_broker_a_closed_case_reaches_the_statistics_and_overdue_is_flagged(
    monkeypatch: pytest.MonkeyPatch,
    city: City,
    catalog: Catalog,
    worker: User,
    street_staff: User,
    street_department: Department,
    street_handler: User,
    leader: User,
) -> None:
    # Given, on a Tuesday morning: one case taken through to 结案, one left untouched.
    _at(monkeypatch, "2025-03-04 09:00")
    r = workflow.report_accept(file_report(worker, city, catalog.roof_tree), actor=street_staff)
    r = workflow.report_dispatch(r, actor=street_staff, department=street_department)
    r = workflow.report_acknowledge(r, actor=street_handler)
    r = workflow.report_handle(r, actor=street_handler, note="已清除", photos=[jpeg()])
    r = workflow.report_verify(r, actor=worker, passed=True, note="已核实")
    workflow.report_close(r, actor=street_staff)
    waiting = file_report(worker, city, catalog.roof_tree)
    before = _screen(leader)

    # When the embedded scheduler ticks, a day later, with the real beat schedule.
    _at(monkeypatch, "2025-03-05 09:00")
    ran = Scheduler(settings.CELERY_BEAT_SCHEDULE).tick()

    # Then the leader's screen counts both cases and the closure, and the waiting case
    # is flagged overdue.
    after = _screen(leader)
    assert {"evaluation-catch-up", "sweep-overdue"} <= set(ran)
    assert (before["reported"], before["closed"]) == (0, 0)
    assert (after["reported"], after["closed"]) == (2, 1)
    assert Report.objects.get(pk=waiting.pk).is_overdue is True
    assert after["overdue_open"] == 1
