"""Visits: the plan per care level, the due list across month and year boundaries, visit
records, needs becoming cases or micro-wishes."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from reports.models import Category, Report
from residents import selectors, services
from residents.errors import ResidentError
from residents.models import CareLevel, Household, Visit, WishStatus
from tests.residents.conftest import Place, make_household, make_person


def _due_on(entrance: object, door: str, due: date) -> Household:
    household = make_household(entrance, door=door)  # type: ignore[arg-type]
    Household.objects.filter(pk=household.pk).update(next_visit_due=due)
    return household


@pytest.mark.parametrize(
    ("today", "inside", "outside"),
    [
        # Wednesday 2026-12-30: the week ends on Sunday 2027-01-03 (year boundary).
        (date(2026, 12, 30), [date(2026, 12, 1), date(2027, 1, 3)], [date(2027, 1, 4)]),
        # Thursday 2026-04-30: the week ends on Sunday 2026-05-03 (month boundary).
        (date(2026, 4, 30), [date(2026, 4, 27), date(2026, 5, 3)], [date(2026, 5, 4)]),
    ],
)
def test_the_due_list_covers_the_week_across_month_and_year_boundaries(
    place: Place, worker: User, today: date, inside: list[date], outside: list[date]
) -> None:
    due = [_due_on(place.entrance, f"1{n:02d}", d) for n, d in enumerate(inside)]
    for n, d in enumerate(outside):
        _due_on(place.entrance, f"2{n:02d}", d)
    listed = list(selectors.due_visits(worker, today))
    assert listed == due  # sorted by how late: the longest overdue first


def test_the_due_list_shows_only_the_workers_grids(
    place: Place, worker: User, neighbour_worker: User
) -> None:
    mine = _due_on(place.entrance, "101", date(2026, 1, 1))
    _due_on(place.neighbour_entrance, "101", date(2026, 1, 1))
    assert list(selectors.due_visits(worker, date(2026, 1, 5))) == [mine]
    assert len(selectors.due_visits(neighbour_worker, date(2026, 1, 5))) == 1


@pytest.mark.parametrize("n", [5, 10])
def test_the_due_list_runs_in_a_fixed_number_of_queries(
    place: Place, worker: User, n: int
) -> None:
    for i in range(n):
        household = make_household(place.entrance, door=f"{i + 100}")
        make_person(household, seq=2 * i + 1, name=f"居民{i}")
        Household.objects.filter(pk=household.pk).update(next_visit_due=date(2026, 1, 1))
    with CaptureQueriesContext(connection) as ctx:
        rows = list(selectors.due_visits(worker, date(2026, 1, 5)))
        names = [m.name for h in rows for m in h.members.all()]
    # assignments (scope), households with entrance/building/level, members
    assert (len(ctx.captured_queries), len(names)) == (3, n)


def test_a_visit_sets_the_next_due_date_by_the_care_level_plan(
    place: Place, worker: User
) -> None:
    household = make_household(place.entrance, today=date(2026, 3, 1))
    services.household_override_care(
        actor=worker, household=household, level=CareLevel.objects.get(rank=1),
        reason="术后恢复", until=date(2026, 9, 1), today=date(2026, 3, 1),
    )
    services.visit_record(actor=worker, household=household, visited_on=date(2026, 3, 2),
                          kind="home", situation="身体尚可", today=date(2026, 3, 2))
    household.refresh_from_db()
    assert (household.last_visit_on, household.next_visit_due) == (
        date(2026, 3, 2), date(2026, 3, 9)
    )


def test_a_suggested_next_visit_wins_over_the_plan(place: Place, worker: User) -> None:
    household = make_household(place.entrance)
    services.visit_record(actor=worker, household=household, visited_on=date(2026, 3, 2),
                          kind="phone", next_suggested_on=date(2026, 3, 5),
                          today=date(2026, 3, 2))
    household.refresh_from_db()
    assert household.next_visit_due == date(2026, 3, 5)


def test_it_refuses_a_visit_dated_in_the_future(place: Place, worker: User) -> None:
    household = make_household(place.entrance)
    with pytest.raises(ResidentError) as e:
        services.visit_record(actor=worker, household=household, visited_on=date(2026, 3, 3),
                              kind="home", today=date(2026, 3, 2))
    assert e.value.message == "走访日期不能晚于今天"
    assert Visit.objects.count() == 0


def test_a_need_found_becomes_a_case_linked_both_ways(
    place: Place, worker: User, django_capture_on_commit_callbacks: object
) -> None:
    major = Category.objects.create(code="09", name="民生服务", kind="event")
    minor = Category.objects.create(code="0901", name="居家照护", kind="event", parent=major)
    household = make_household(place.entrance)
    visit = services.visit_record(actor=worker, household=household,
                                  visited_on=date.today(), kind="home",
                                  needs="楼道灯坏了，老人夜里出门不便")
    services.visit_file_case(actor=worker, visit=visit, category=minor)
    report = Report.objects.get()
    assert report.description == "楼道灯坏了，老人夜里出门不便"
    assert (report.grid, report.entrance) == (household.grid, household.entrance)
    assert list(report.resident_visits.all()) == [visit]
    services.visit_file_case(actor=worker, visit=visit, category=minor)
    assert Report.objects.count() == 1


def test_a_micro_wish_is_claimed_then_fulfilled(place: Place, worker: User) -> None:
    household = make_household(place.entrance)
    wish = services.wish_create(actor=worker, household=household, title="一台收音机")
    services.wish_claim(actor=worker, wish=wish, claimed_by="社区志愿者小刘")
    with pytest.raises(ResidentError):
        services.wish_claim(actor=worker, wish=wish, claimed_by="另一位志愿者")
    services.wish_fulfil(actor=worker, wish=wish)
    assert (wish.status, wish.claimed_by) == (WishStatus.FULFILLED, "社区志愿者小刘")
