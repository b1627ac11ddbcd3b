"""Query budgets: the statistics table and the drill-down list read the same number of
queries at N and 2N rows."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from evaluation.rollup import rollups_catch_up
from grids.models import Role
from reports import services
from tests.conftest import City
from tests.evaluation import conftest as evaluation_fixtures
from tests.factories import UserFactory, assign

pytestmark = pytest.mark.django_db

catalog = evaluation_fixtures.catalog


def _workers_file(city: City, category: Any, n: int) -> None:
    for _ in range(n):
        u = UserFactory()
        assign(u, Role.GRID_WORKER, region=city.grid)
        services.report_file(
            reporter=u, category=category, description="井盖破损",
            idempotency_key=uuid.uuid4().hex, lng=117.175, lat=39.105,
        )
    rollups_catch_up(settle=timedelta(0))


def _today() -> dict[str, str]:
    return {"period": "month", "date": timezone.localdate().isoformat()}


@pytest.mark.parametrize("by", ["worker", "department", "category", "source", "street"])
def test_it_reads_the_table_in_as_many_queries_at_2n_rows_as_at_n(
    city: City, catalog: Any, street_staff: User, django_assert_num_queries: Any, by: str
) -> None:
    client = Client()
    client.force_login(street_staff)
    url = reverse("evaluation:stats")
    _workers_file(city, catalog.roof_tree, 3)
    client.get(url, {**_today(), "by": by})  # warm the session and caches
    with CaptureQueriesContext(connection) as n_rows:
        client.get(url, {**_today(), "by": by})

    _workers_file(city, catalog.roof_tree, 3)

    # session, user, scope, city + weights, labels, current and previous sums by row,
    # current and previous totals, stage hours, the bell's unread count: none of them per row.
    with django_assert_num_queries(len(n_rows.captured_queries)):
        response = client.get(url, {**_today(), "by": by})
    assert len(response.context["rows"]) >= 2
    assert len(n_rows.captured_queries) <= 12


def test_it_lists_the_cases_behind_a_figure_in_as_many_queries_at_2n_as_at_n(
    city: City, catalog: Any, street_staff: User, django_assert_num_queries: Any
) -> None:
    client = Client()
    client.force_login(street_staff)
    url = reverse("evaluation:cases")
    params = {**_today(), "metric": "reported"}
    _workers_file(city, catalog.roof_tree, 3)
    client.get(url, params)
    with CaptureQueriesContext(connection) as n_rows:
        response = client.get(url, params)
    assert response.context["page"].paginator.count == 3

    _workers_file(city, catalog.roof_tree, 3)

    # session, user, scope, count, one page of cases with category, grid, street, department,
    # the bell's unread count
    with django_assert_num_queries(len(n_rows.captured_queries)):
        response = client.get(url, params)
    assert response.context["page"].paginator.count == 6
    assert len(n_rows.captured_queries) == 6
