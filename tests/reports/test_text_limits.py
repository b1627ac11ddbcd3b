"""A text longer than its limit is refused with a Chinese message naming the limit and
nothing is saved — never cut short. The forms render no ``maxlength`` (a browser silently
truncates pasted text at it: a 100,000-character description was saved as its first
2,000), and the services and the workflow check the same limits."""

from __future__ import annotations

import re
import uuid

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import User
from reports import services, workflow
from reports.errors import WorkflowError
from reports.models import Report, ReportEvent, State
from tests.conftest import City
from tests.reports.conftest import Catalog, file_report, jpeg

pytestmark = pytest.mark.django_db

HUGE = "树" * 100_000


def _client(user: User) -> Client:
    c = Client()
    c.force_login(user)
    return c


def _maxlengths(html: str) -> list[str]:
    return re.findall(r"<(?:textarea|input)[^>]*maxlength[^>]*>", html)


def test_the_filing_pages_let_the_server_judge_the_length(worker: User, catalog: Catalog) -> None:
    for name in ("reports:file", "reports:self_handled"):
        html = _client(worker).get(reverse(name)).content.decode()
        assert 'name="description"' in html
        assert [tag for tag in _maxlengths(html) if "idempotency_key" not in tag] == []


def test_it_refuses_a_huge_description_on_the_phone_and_saves_nothing(
    worker: User, catalog: Catalog
) -> None:
    data = {
        "idempotency_key": uuid.uuid4().hex, "lng": "117.175", "lat": "39.105",
        "category": catalog.garbage.pk, "urgency": "normal", "description": HUGE,
        "photos": [jpeg()],
    }

    page = _client(worker).post(reverse("reports:file"), data)
    script = _client(worker).post(reverse("reports:file"), data, HTTP_ACCEPT="application/json")

    assert page.status_code == 400
    assert "问题描述最多 2000 字，现有 100000 字，请删减后再提交" in page.content.decode()
    assert script.status_code == 400
    assert "问题描述最多 2000 字" in script.json()["errors"]["description"][0]
    assert Report.objects.count() == 0


def test_the_filing_service_refuses_a_huge_description(
    worker: User, city: City, catalog: Catalog
) -> None:
    with pytest.raises(WorkflowError, match="问题描述最多 2000 字，现有 100000 字"):
        file_report(worker, city, catalog.garbage, description=HUGE)
    with pytest.raises(WorkflowError, match="问题描述最多 2000 字"):
        services.report_file_self_handled(
            reporter=worker, category=catalog.garbage, description=HUGE,
            idempotency_key=uuid.uuid4().hex, lng=117.175, lat=39.105,
            before_photos=[jpeg("b.jpg")], after_photos=[jpeg("a.jpg")],
        )
    assert Report.objects.count() == 0
    assert file_report(worker, city, catalog.garbage, description="树" * 2000).description


def test_the_desk_forms_refuse_a_huge_note_and_change_nothing(
    worker: User, street_staff: User, city: City, catalog: Catalog
) -> None:
    report = file_report(worker, city, catalog.roof_tree)
    client = _client(street_staff)
    page = client.get(reverse("reports:detail", args=[report.pk])).content.decode()

    response = client.post(
        reverse("reports:act", args=[report.pk, "reject"]),
        {"choice": "其他", "detail": "树" * 600},
    )

    assert _maxlengths(page) == []
    assert response.status_code == 400
    assert "补充说明最多 500 字，现有 600 字，请删减后再提交" in response.content.decode()
    assert Report.objects.get(pk=report.pk).state == State.REPORTED


def test_the_workflow_refuses_a_huge_note(
    worker: User, street_staff: User, city: City, catalog: Catalog
) -> None:
    report = file_report(worker, city, catalog.roof_tree)

    with pytest.raises(WorkflowError, match="最多 2000 字，现有 100000 字"):
        workflow.report_reject(report, actor=street_staff, reason=HUGE)
    with pytest.raises(WorkflowError, match="最多 2000 字，现有 100000 字"):
        workflow.report_accept(report, actor=street_staff, note=HUGE)

    assert Report.objects.get(pk=report.pk).state == State.REPORTED
    assert not ReportEvent.objects.filter(report=report).exclude(kind="filed").exists()
