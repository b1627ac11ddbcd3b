"""Photos reach a browser only through the permission-checked view: streamed by Django, or
by nginx after the check (X-Accel-Redirect) when PHOTO_ACCEL_REDIRECT_PREFIX is set; every
photo and thumbnail link in pages and JSON points at that view, never at /media/."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client, override_settings
from django.urls import reverse

from accounts.models import User
from grids.models import Department
from reports import workflow
from reports.models import Report
from tests.conftest import City
from tests.reports.conftest import Catalog, file_report, jpeg

pytestmark = pytest.mark.django_db


def _client(user: User) -> Client:
    c = Client()
    c.force_login(user)
    return c


@pytest.fixture
def handled(city: City, catalog: Catalog, worker: User, street_staff: User,
            street_department: Department, street_handler: User) -> Report:
    report = file_report(worker, city, catalog.garbage, photos=[jpeg()])
    workflow.report_accept(report, actor=street_staff)
    workflow.report_dispatch(report, actor=street_staff, department=street_department)
    workflow.report_acknowledge(report, actor=street_handler)
    workflow.report_handle(report, actor=street_handler, note="已清理", photos=[jpeg()])
    return report


def _photo_url(report: Report, kind: str) -> str:
    photo = report.photos.get(kind=kind)
    return reverse("reports:photo", args=[report.pk, photo.pk])


def test_it_streams_the_photo_to_whoever_may_see_the_case(
    worker: User, handled: Report
) -> None:
    response = _client(worker).get(_photo_url(handled, "result"))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert response["Cache-Control"] == "private, max-age=3600"
    assert b"".join(response.streaming_content)[:2] == b"\xff\xd8"  # type: ignore[attr-defined]
    assert "X-Accel-Redirect" not in response


@override_settings(PHOTO_ACCEL_REDIRECT_PREFIX="/_protected/")
def test_behind_nginx_it_names_the_file_for_nginx_to_send(
    worker: User, handled: Report
) -> None:
    photo = handled.photos.get(kind="result")
    response = _client(worker).get(_photo_url(handled, "result"))
    assert response.status_code == 200
    assert response["X-Accel-Redirect"] == "/_protected/" + photo.image.name
    assert response["Content-Type"] == "image/jpeg"
    assert response["Cache-Control"] == "private, max-age=3600"
    assert response.content == b""
    # The file is where nginx's internal location (alias MEDIA_ROOT) will look.
    assert (Path(settings.MEDIA_ROOT) / photo.image.name).is_file()


@override_settings(PHOTO_ACCEL_REDIRECT_PREFIX="/_protected/")
def test_it_refuses_the_photo_before_any_redirect_to_nginx(
    neighbour_worker: User, handled: Report
) -> None:
    url = _photo_url(handled, "result")
    anonymous = Client().get(url)
    assert anonymous.status_code == 302 and "X-Accel-Redirect" not in anonymous
    assert reverse("accounts:login") in anonymous["Location"]
    outsider = _client(neighbour_worker).get(url)
    assert outsider.status_code == 404 and "X-Accel-Redirect" not in outsider


def test_the_verify_queue_and_page_show_the_result_photo_through_the_view(
    worker: User, handled: Report
) -> None:
    url = _photo_url(handled, "result")
    c = _client(worker)
    for page in (reverse("reports:verify_queue"),
                 reverse("reports:verify_case", args=[handled.pk])):
        html = c.get(page).content.decode()
        assert f'src="{url}?thumb=1"' in html, page
        assert f'href="{url}"' in html, page
        assert settings.MEDIA_URL not in html, page


def test_nearby_links_the_thumbnail_through_the_view(
    worker: User, city: City, catalog: Catalog
) -> None:
    report = file_report(worker, city, catalog.garbage, photos=[jpeg()])
    body = _client(worker).get(
        reverse("reports:nearby"), {"category": catalog.garbage.pk, "lng": 117.175, "lat": 39.105}
    ).json()
    assert body["reports"][0]["photo"] == _photo_url(report, "report") + "?thumb=1"


def test_no_template_links_a_stored_file_directly() -> None:
    """`.url` of an image or thumbnail would be /media/..., which is never served."""
    direct = re.compile(r"\b(image|thumbnail|photo|file)\.url\b")
    offenders = [
        str(path.relative_to(settings.BASE_DIR))
        for path in (Path(settings.BASE_DIR) / "templates").rglob("*.html")
        if direct.search(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []
