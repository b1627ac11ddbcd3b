"""The replica router: which database alias each page's queries use.

The "replica" alias of tests/settings.py reads the primary's test database (a mirror), so
the tests see which connection answered without a second server; the tests are
transactional so both connections see the committed rows. A real streaming replica is
tested in tests/test_replica_postgres.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.db import connections, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import User
from jinzhitong import db_router
from jinzhitong.db_router import STICKY_COOKIE, ReplicaRouter
from reports.models import Report, State
from tests.conftest import City
from tests.reports import conftest as reports_fixtures
from tests.reports.conftest import Catalog, file_report, jpeg

catalog = reports_fixtures.catalog

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "replica"])


@pytest.fixture(autouse=True)
def _replica(settings: Any) -> None:
    settings.REPLICA_DATABASE = "replica"


def _client(user: User) -> Client:
    c = Client()
    c.force_login(user)
    return c


@contextmanager
def _queries() -> Iterator[dict[str, CaptureQueriesContext]]:
    by_alias = {a: CaptureQueriesContext(connections[a]) for a in ("default", "replica")}
    with by_alias["default"], by_alias["replica"]:
        yield by_alias


def _sql(ctx: CaptureQueriesContext) -> str:
    return "\n".join(q["sql"] for q in ctx.captured_queries)


def test_it_reads_the_statistics_from_the_replica(leader: User, city: City) -> None:
    client = _client(leader)

    with _queries() as q:
        response = client.get(reverse("evaluation:stats"), {"period": "month", "by": "region"})

    assert response.status_code == 200
    assert "evaluation_" in _sql(q["replica"])
    # The primary answers only for the session and the user, read before the view.
    assert "evaluation_" not in _sql(q["default"])
    assert len(q["default"]) <= 2


@pytest.mark.parametrize("name", ["evaluation:screen", "evaluation:screen_json"])
def test_it_reads_the_leaders_screen_from_the_replica(leader: User, city: City, name: str) -> None:
    with _queries() as q:
        response = _client(leader).get(reverse(name))

    assert response.status_code == 200
    assert len(q["replica"]) > 0 and "evaluation_" not in _sql(q["default"])


@pytest.mark.parametrize("name", ["reports:board", "reports:board_export"])
def test_it_reads_the_board_and_its_export_from_the_replica(
    street_staff: User, worker: User, city: City, catalog: Catalog, name: str
) -> None:
    file_report(worker, city, catalog.garbage, photos=[jpeg()])

    with _queries() as q:
        response = _client(street_staff).get(reverse(name))

    assert response.status_code == 200
    assert "reports_report" in _sql(q["replica"])
    assert "reports_report" not in _sql(q["default"])


def test_it_reads_the_actors_own_case_page_from_the_primary_right_after_filing(
    worker: User, city: City, catalog: Catalog
) -> None:
    client = _client(worker)
    response = client.post(
        reverse("reports:file"),
        {
            "idempotency_key": "k-router-1", "lng": "117.175", "lat": "39.105",
            "category": catalog.garbage.pk, "urgency": "normal",
            "description": "路边垃圾堆放", "photos": [jpeg()],
        },
    )
    assert response.status_code == 302
    report = Report.objects.get()

    with _queries() as q:
        page = client.get(reverse("reports:detail", args=[report.pk]))

    assert page.status_code == 200 and report.number in page.content.decode()
    assert len(q["replica"]) == 0
    assert "reports_report" in _sql(q["default"])


def test_it_keeps_a_browser_on_the_primary_for_a_while_after_it_wrote(
    street_staff: User, worker: User, city: City, catalog: Catalog
) -> None:
    report = file_report(worker, city, catalog.garbage, photos=[jpeg()])
    client = _client(street_staff)
    acted = client.post(reverse("reports:act", args=[report.pk, "accept"]))
    assert acted.status_code == 302
    assert client.cookies[STICKY_COOKIE]["max-age"] == 30

    with _queries() as q:
        board = client.get(reverse("reports:board"))

    assert board.status_code == 200
    assert len(q["replica"]) == 0
    report.refresh_from_db()
    assert report.state == State.ACCEPTED and report.number in board.content.decode()


def test_it_reads_nothing_from_the_replica_when_none_is_configured(
    leader: User, city: City, settings: Any
) -> None:
    settings.REPLICA_DATABASE = ""

    with _queries() as q:
        response = _client(leader).get(reverse("evaluation:stats"))

    assert response.status_code == 200
    assert len(q["replica"]) == 0


def test_it_reads_the_primary_inside_a_transaction_of_a_marked_view() -> None:
    router = ReplicaRouter()
    token = db_router._replica_reads.set(True)
    try:
        outside = router.db_for_read(Report)
        with transaction.atomic():
            inside = router.db_for_read(Report)
    finally:
        db_router._replica_reads.reset(token)

    assert outside == "replica"
    assert inside is None  # the default database
    assert router.db_for_write(Report) == "default"


def test_it_never_reads_the_replica_outside_a_marked_view() -> None:
    assert ReplicaRouter().db_for_read(Report) is None


def test_it_migrates_only_the_primary() -> None:
    router = ReplicaRouter()

    assert router.allow_migrate("default", "reports") is True
    assert router.allow_migrate("replica", "reports") is False
