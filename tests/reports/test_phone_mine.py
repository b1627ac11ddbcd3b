"""我的上报 says where each case really is: a self-handled case is closed by its worker,
never "未派遣"."""

from __future__ import annotations

import uuid

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import User
from grids.models import Department
from reports import services, workflow
from tests.conftest import City
from tests.reports.conftest import Catalog, file_report, jpeg

pytestmark = pytest.mark.django_db


def _mine(user: User) -> str:
    c = Client()
    c.force_login(user)
    response = c.get(reverse("reports:mine"))
    assert response.status_code == 200
    return response.content.decode()


def _item(html: str, number: str) -> str:
    start = html.index(number)
    return html[start:html.index("</li>", start)]


def test_it_shows_a_self_handled_case_as_handled_on_the_spot_and_closed(
    worker: User, catalog: Catalog
) -> None:
    report = services.report_file_self_handled(
        reporter=worker, category=catalog.garbage, description="捡走了垃圾",
        idempotency_key=uuid.uuid4().hex, lng=117.175, lat=39.105,
        before_photos=[jpeg("b.jpg")], after_photos=[jpeg("a.jpg")],
    )

    item = _item(_mine(worker), report.number)

    assert "已结案" in item and "现场自行处置" in item
    assert "未派遣" not in item


def test_it_shows_where_each_other_case_is(
    worker: User, street_staff: User, city: City, catalog: Catalog,
    street_department: Department,
) -> None:
    waiting = file_report(worker, city, catalog.garbage)
    dispatched = file_report(worker, city, catalog.garbage)
    workflow.report_accept(dispatched, actor=street_staff)
    workflow.report_dispatch(dispatched, actor=street_staff, department=street_department)
    rejected = file_report(worker, city, catalog.garbage)
    workflow.report_reject(rejected, actor=street_staff, reason="重复上报")

    html = _mine(worker)

    assert "未派遣" in _item(html, waiting.number)
    assert street_department.name in _item(html, dispatched.number)
    assert "不予立案" in _item(html, rejected.number)
    assert "未派遣" not in _item(html, rejected.number)
