"""Who sees which cases, and the cost of listing them."""

from __future__ import annotations

import pytest
from django.db import connection
from django.http import Http404

from accounts.models import User
from grids.models import Department
from reports import workflow
from reports.models import Report
from reports.selectors import (
    board_cases,
    get_report_for_user,
    merge_candidates,
    merge_candidates_for,
    reports_visible_to,
)
from tests.conftest import City
from tests.factories import UserFactory, assign
from tests.reports.conftest import Catalog, file_report

pytestmark = pytest.mark.django_db


@pytest.fixture
def report(worker: User, city: City, catalog: Catalog) -> Report:
    return file_report(worker, city, catalog.roof_tree)


@pytest.mark.parametrize(
    ("persona", "sees"),
    [
        ("worker", True),
        ("neighbour_worker", False),
        ("street_staff", True),
        ("other_street_staff", False),
        ("district_staff", True),
        ("leader", True),
        ("handler", False),  # not dispatched to their department
        ("outsider", False),
        ("admin_user", True),
    ],
)
def test_it_shows_a_case_only_to_the_people_whose_place_it_is(
    request: pytest.FixtureRequest, persona: str, sees: bool, report: Report
) -> None:
    user = request.getfixturevalue(persona)
    assert reports_visible_to(user).filter(pk=report.pk).exists() is sees


def test_it_shows_a_case_to_the_department_it_was_dispatched_to(
    report: Report, street_staff: User, street_department: Department, street_handler: User
) -> None:
    assert not reports_visible_to(street_handler).filter(pk=report.pk).exists()
    workflow.report_accept(report, actor=street_staff)
    workflow.report_dispatch(report, actor=street_staff, department=street_department)
    assert reports_visible_to(street_handler).filter(pk=report.pk).exists()


def test_it_answers_404_for_a_forged_id_of_a_case_out_of_scope(
    report: Report, other_street_staff: User
) -> None:
    with pytest.raises(Http404):
        get_report_for_user(other_street_staff, report.pk)
    with pytest.raises(Http404):
        get_report_for_user(other_street_staff, "not-a-number")


@pytest.mark.parametrize("persona", ["street_staff", "leader", "worker"])
def test_it_lists_cases_in_a_fixed_number_of_queries(
    request: pytest.FixtureRequest, persona: str, worker: User, city: City, catalog: Catalog,
    django_assert_num_queries,
) -> None:
    user = request.getfixturevalue(persona)
    fresh = UserFactory()
    assign(fresh, "grid_worker", region=city.grid)

    def listing() -> list[tuple[str, str, str, str]]:
        # One query for the user's assignments (scope), one for the list with its joins.
        user.__dict__.pop("_jinzhitong_scope", None)
        return [
            (r.number, r.category.name, r.grid.name, r.street.name)
            for r in reports_visible_to(user).select_related("category", "grid", "street")
        ]

    for _ in range(5):
        file_report(worker, city, catalog.roof_tree)
    with django_assert_num_queries(2):
        assert len(listing()) == 5
    for _ in range(5):
        file_report(worker, city, catalog.roof_tree)
    with django_assert_num_queries(2):
        assert len(listing()) == 10


def test_it_offers_each_triage_row_a_prefix_of_its_merge_candidates_in_one_query(
    worker: User, neighbour_worker: User, city: City, catalog: Catalog,
    django_assert_num_queries: object,
) -> None:
    rows = [
        file_report(worker, city, catalog.garbage, lng=117.171, lat=39.101),
        file_report(worker, city, catalog.roof_tree, lng=117.179, lat=39.109),
        file_report(neighbour_worker, city, catalog.garbage, lng=117.185, lat=39.105),
    ]
    for lng, lat in ((117.172, 39.102), (117.178, 39.108), (117.184, 39.106)):
        file_report(worker if lng < 117.18 else neighbour_worker, city, catalog.garbage,
                    lng=lng, lat=lat)
        file_report(worker if lng < 117.18 else neighbour_worker, city, catalog.roof_tree,
                    lng=lng, lat=lat)
    with django_assert_num_queries(1):  # type: ignore[operator]
        batched = merge_candidates_for(rows, per_row=3)
    for r in rows:
        expected = [c.pk for c in merge_candidates(r)][:3]
        assert [c.pk for c in batched[r.pk]] == expected and expected


@pytest.mark.skipif(connection.vendor != "sqlite", reason="reads SQLite's query plan")
def test_the_board_reaches_a_centers_own_filings_by_their_open_state(
    street_staff: User, report: Report
) -> None:
    # Center staff file every hotline case themselves: years of them, a few dozen open.
    # The board must not read all of them to find the open ones.
    sql, params = board_cases(street_staff).query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
        plan = [row[-1] for row in cursor.fetchall()]

    reporter_steps = [step for step in plan if "reporter_id" in step]
    assert reporter_steps, plan
    assert all("reporter_id=? AND state=?" in step for step in reporter_steps), plan
