"""Limits on filing (docs/architecture.md, "Limits on input"): a rate per user and per
address, the pixels decoded per request, the position against the chosen grid, and every
photo limit a setting that works."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import uuid
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from PIL import Image

from accounts.models import User
from reports.models import Report, ReportEvent
from reports.photos import reencode, validate_upload
from tests.conftest import City
from tests.reports.conftest import Catalog, file_report, jpeg

JSON = {"HTTP_ACCEPT": "application/json"}


def _client(user: User) -> Client:
    c = Client()
    c.force_login(user)
    return c


def _filing(catalog: Catalog, **over: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "idempotency_key": uuid.uuid4().hex, "lng": "117.175", "lat": "39.105",
        "category": catalog.garbage.pk, "urgency": "normal", "description": "路边垃圾堆放",
        "photos": [jpeg()],
    }
    data.update(over)
    return {k: v for k, v in data.items() if v is not None}


# -- rate -------------------------------------------------------------------------------------


def test_a_worker_filing_past_the_rate_gets_429_in_chinese_and_nothing_is_stored(
    worker: User, catalog: Catalog, settings: Any
) -> None:
    settings.REPORT_FILING_RATE = (2, 60)
    c = _client(worker)
    answers = [c.post(reverse("reports:file"), _filing(catalog), **JSON) for _ in range(3)]
    page = c.post(reverse("reports:file"), _filing(catalog))

    assert [a.status_code for a in answers] == [201, 201, 429]
    assert answers[2].json()["errors"]["__all__"][0].startswith(
        "提交过于频繁：每人每 60 秒最多提交 2 次"
    )
    assert page.status_code == 429 and "提交过于频繁" in page.content.decode()
    assert Report.objects.count() == 2


def test_a_resent_submission_is_not_counted_against_the_rate(
    worker: User, catalog: Catalog, settings: Any
) -> None:
    settings.REPORT_FILING_RATE = (1, 60)
    c = _client(worker)
    data = _filing(catalog)
    first = c.post(reverse("reports:file"), data, **JSON)
    again = c.post(reverse("reports:file"), {**data, "photos": [jpeg()]}, **JSON)
    assert (first.status_code, again.status_code) == (201, 201)
    assert first.json()["number"] == again.json()["number"]


def test_the_rate_per_address_covers_several_users(
    worker: User, neighbour_worker: User, catalog: Catalog, city: City, settings: Any
) -> None:
    settings.REPORT_FILING_RATE_PER_ADDRESS = (2, 60)
    mine = [_client(worker).post(reverse("reports:file"), _filing(catalog),
                                 REMOTE_ADDR="10.9.9.9", **JSON) for _ in range(2)]
    theirs = _client(neighbour_worker).post(
        reverse("reports:file"), _filing(catalog, lng="117.185"), REMOTE_ADDR="10.9.9.9", **JSON
    )
    elsewhere = _client(neighbour_worker).post(
        reverse("reports:file"), _filing(catalog, lng="117.185"), REMOTE_ADDR="10.9.9.8", **JSON
    )
    assert [r.status_code for r in mine] == [201, 201]
    assert theirs.status_code == 429
    assert theirs.json()["errors"]["__all__"][0].startswith("本网络提交过于频繁")
    assert elsewhere.status_code == 201


def test_sightings_count_against_the_rate(
    worker: User, city: City, catalog: Catalog, settings: Any
) -> None:
    report = file_report(worker, city, catalog.garbage)
    settings.REPORT_FILING_RATE = (1, 60)
    c = _client(worker)
    answers = [
        c.post(reverse("reports:sighting", args=[report.pk]),
               {"idempotency_key": f"s-{n}", "note": "又看到了"}, **JSON)
        for n in range(2)
    ]
    assert [a.status_code for a in answers] == [201, 429]
    assert ReportEvent.objects.filter(report=report, kind="sighting").count() == 1


# -- pixels per request -------------------------------------------------------------------------


def test_the_pixels_decoded_per_request_are_bounded(
    worker: User, catalog: Catalog, settings: Any
) -> None:
    settings.REPORT_PHOTOS_MAX_PIXELS_PER_REQUEST = 5_000  # one 64 × 48 photo is 3,072
    c = _client(worker)
    two = c.post(reverse("reports:file"), _filing(catalog, photos=[jpeg(), jpeg()]), **JSON)
    one = c.post(reverse("reports:file"), _filing(catalog), **JSON)
    assert two.status_code == 400
    assert two.json()["errors"]["__all__"] == [
        "照片总像素过多（约 0 万像素），每次最多 0 万像素，请减少照片数量或降低分辨率。"
    ]
    assert one.status_code == 201 and Report.objects.count() == 1


# -- position against the chosen grid ----------------------------------------------------------


@pytest.mark.parametrize(
    ("lng", "tolerance", "filed"),
    [
        ("117.175", 100, True),  # inside 第六网格
        ("117.1805", 100, True),  # ~43 m east of its edge: GPS error
        ("117.1805", 10, False),  # the same, with a 10 m tolerance
        ("117.19", 100, False),  # ~860 m away
    ],
)
def test_a_position_outside_the_chosen_grid_is_refused_beyond_the_tolerance(
    worker: User, city: City, catalog: Catalog, settings: Any, lng: str, tolerance: int,
    filed: bool,
) -> None:
    settings.REPORT_POSITION_TOLERANCE_M = tolerance
    response = _client(worker).post(
        reverse("reports:file"), _filing(catalog, grid=city.grid.pk, lng=lng), **JSON
    )
    assert (response.status_code == 201) is filed
    if not filed:
        assert response.json()["errors"]["__all__"][0].startswith(
            "定位位置不在所选网格“第六网格”内"
        )
        assert Report.objects.count() == 0


# -- photo limits are settings that work ------------------------------------------------------


def _upload(size: tuple[int, int]) -> SimpleUploadedFile:
    out = io.BytesIO()
    Image.new("RGB", size, (10, 120, 30)).save(out, "JPEG")
    return SimpleUploadedFile("p.jpg", out.getvalue(), content_type="image/jpeg")


def test_report_photo_max_pixels_changes_what_is_refused(settings: Any) -> None:
    validate_upload(_upload((100, 100)))
    settings.REPORT_PHOTO_MAX_PIXELS = 5_000
    with pytest.raises(ValidationError) as e:
        validate_upload(_upload((100, 100)))
    assert e.value.code == "too_many_pixels"


def test_report_photo_max_side_changes_the_stored_size(settings: Any) -> None:
    settings.REPORT_PHOTO_MAX_SIDE = 40
    _content, width, height = reencode(_upload((100, 50)))
    assert (width, height) == (40, 20)


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("REPORT_PHOTO_MAX_PIXELS", "1234", 1234),
        ("REPORT_PHOTO_MAX_SIDE", "1000", 1000),
        ("REPORT_PHOTO_MAX_BYTES", "2048", 2048),
        ("REPORT_PHOTOS_MAX_PIXELS_PER_REQUEST", "999", 999),
        ("REPORT_FILING_RATE", "5/m", (5, 60)),
        ("REPORT_FILING_RATE_PER_ADDRESS", "100/h", (100, 3600)),
        ("REPORT_POSITION_TOLERANCE_M", "250", 250),
    ],
)
def test_every_filing_limit_is_read_from_the_environment(
    name: str, value: str, expected: Any
) -> None:
    result = subprocess.run(
        [sys.executable, "-c",
         f"from jinzhitong import settings; print(repr(settings.{name}))"],
        capture_output=True, text=True, timeout=60, cwd=django_settings.BASE_DIR,
        env={**os.environ, name: value},
    )
    assert result.stdout.strip() == repr(expected), result.stderr
