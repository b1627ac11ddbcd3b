"""Two staff click "dispatch" on the same case at the same instant: exactly one wins."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from django.db import connection, connections

from accounts.models import User
from grids.models import Department, Role
from reports import events, workflow
from reports.errors import WorkflowError
from reports.models import EventKind, Report, State
from tests.conftest import City
from tests.factories import UserFactory, assign
from tests.reports.conftest import Catalog, file_report

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="row locks need PostgreSQL (CI runs it)"
    ),
]


def test_it_lets_exactly_one_of_two_simultaneous_dispatches_win(
    worker: User,
    city: City,
    catalog: Catalog,
    street_staff: User,
    street_department: Department,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    colleague = UserFactory(username="wanxing2", full_name="万兴街道值班员")
    assign(colleague, Role.STREET_STAFF, region=city.street)
    report = file_report(worker, city, catalog.roof_tree)
    workflow.report_accept(report, actor=street_staff)

    # Hold the row lock long enough that the second click surely arrives while the first
    # is still inside its transaction.
    real_write = events.event_write

    def slow_write(**kwargs: Any) -> Any:
        time.sleep(0.3)
        return real_write(**kwargs)

    monkeypatch.setattr(workflow, "event_write", slow_write)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def click(actor: User) -> None:
        try:
            barrier.wait()
            workflow.report_dispatch(
                Report.objects.get(pk=report.pk), actor=actor, department=street_department
            )
            outcomes.append("won")
        except WorkflowError:
            outcomes.append("refused")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=click, args=(u,)) for u in (street_staff, colleague)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)

    assert sorted(outcomes) == ["refused", "won"]
    report.refresh_from_db()
    assert report.state == State.DISPATCHED
    assert report.events.filter(kind=EventKind.DISPATCHED).count() == 1


def test_it_gives_reports_filed_at_the_same_instant_different_numbers(
    worker: User, city: City, catalog: Catalog
) -> None:
    barrier = threading.Barrier(4)
    numbers: list[str] = []
    errors: list[BaseException] = []

    def file_one() -> None:
        try:
            barrier.wait()
            numbers.append(file_report(worker, city, catalog.roof_tree).number)
        except BaseException as e:  # surfaced by the assertion below
            errors.append(e)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=file_one) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)

    assert errors == []
    assert sorted(n[-4:] for n in numbers) == ["0001", "0002", "0003", "0004"]
