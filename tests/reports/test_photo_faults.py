"""Faults around photo files: a failed transaction leaves no file, a full or read-only
disk answers the phone in Chinese JSON that its queue does not resend, lost thumbnails
and orphaned files are swept."""

from __future__ import annotations

import errno
import os
import time
from datetime import timedelta
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from django.core.files.storage import FileSystemStorage
from django.db import transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from grids.models import Department
from reports import photos, services, workflow
from reports.errors import StorageUnavailable
from reports.models import PhotoKind, Report, ReportPhoto
from reports.tasks import sweep_orphan_photos, sweep_thumbnails
from tests.conftest import City
from tests.reports.conftest import Catalog, file_report, jpeg


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def _files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()]


def _client(user: User) -> Client:
    c = Client()
    c.force_login(user)
    return c


def _filing(catalog: Catalog) -> dict[str, Any]:
    return {
        "idempotency_key": "k-storage-full",
        "lng": "117.175",
        "lat": "39.105",
        "category": catalog.garbage.pk,
        "urgency": "normal",
        "description": "路边垃圾堆放",
        "photos": [jpeg(), jpeg()],
    }


# -- a failed transaction leaves no file ------------------------------------------------


def test_it_leaves_no_file_when_the_filing_transaction_fails_after_the_photos(
    worker: User, city: City, catalog: Catalog, _media: Path
) -> None:
    # The last step inside the filing transaction, after the photos were written, fails.
    with mock.patch.object(services.effects, "route_on_commit", side_effect=RuntimeError("boom")):
        with pytest.raises(RuntimeError):
            file_report(worker, city, catalog.garbage, photos=[jpeg(), jpeg(), jpeg()])

    assert not Report.objects.exists()
    assert not ReportPhoto.objects.exists()
    assert _files(_media) == []


def test_it_leaves_no_file_when_the_commit_itself_fails(
    worker: User, city: City, catalog: Catalog, _media: Path
) -> None:
    # A nested block succeeds (its files are handed to the outer one); the outer fails.
    with pytest.raises(RuntimeError):
        with photos.files_removed_on_failure(), transaction.atomic():
            file_report(worker, city, catalog.garbage, photos=[jpeg()])
            assert len(_files(_media)) == 1
            raise RuntimeError("commit failed")

    assert not Report.objects.exists()
    assert _files(_media) == []


def test_it_leaves_no_result_photo_when_a_transition_fails_after_writing_it(
    worker: User, city: City, catalog: Catalog, street_staff: User,
    street_department: Department, street_handler: User, _media: Path,
) -> None:
    report = file_report(worker, city, catalog.garbage, photos=[jpeg()])
    workflow.report_accept(report, actor=street_staff)
    workflow.report_dispatch(report, actor=street_staff, department=street_department)
    workflow.report_acknowledge(report, actor=street_handler)
    before = sorted(_files(_media))

    with mock.patch.object(workflow, "_notify_on_commit", side_effect=RuntimeError("boom")):
        with pytest.raises(RuntimeError):
            workflow.report_handle(report, actor=street_handler, note="已清理", photos=[jpeg()])

    assert sorted(_files(_media)) == before
    assert not ReportPhoto.objects.filter(kind=PhotoKind.RESULT).exists()


# -- storage full or read-only -----------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "reason"),
    [(errno.ENOSPC, "full"), (errno.EROFS, "read_only"), (errno.EACCES, "denied")],
)
def test_it_answers_the_phone_in_chinese_json_when_storage_refuses_the_file(
    worker: User, catalog: Catalog, _media: Path, code: int, reason: str
) -> None:
    with mock.patch.object(FileSystemStorage, "save", side_effect=OSError(code, os.strerror(code))):
        response = _client(worker).post(
            reverse("reports:file"), _filing(catalog), HTTP_ACCEPT="application/json"
        )

    assert response.status_code == 507
    body = response.json()
    assert body["retry"] is False
    assert body["reason"] == reason
    assert "本次提交未保存" in body["error"]
    assert body["errors"] == {"__all__": [body["error"]]}
    assert not Report.objects.exists()
    assert _files(_media) == []


def test_it_removes_the_half_written_file_when_the_disk_fills_mid_write(
    worker: User, city: City, catalog: Catalog, _media: Path
) -> None:
    real_save = FileSystemStorage._save
    calls = []

    def fill_up(self: FileSystemStorage, name: str, content: Any) -> str:
        calls.append(name)
        if len(calls) == 2:  # the second photo: part of it reaches the disk
            Path(self.path(name)).parent.mkdir(parents=True, exist_ok=True)
            Path(self.path(name)).write_bytes(b"\xff\xd8partial")
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_save(self, name, content)

    with mock.patch.object(FileSystemStorage, "_save", fill_up):
        with pytest.raises(StorageUnavailable):
            file_report(worker, city, catalog.garbage, photos=[jpeg(), jpeg()])

    assert not Report.objects.exists()
    assert _files(_media) == []


def test_it_shows_a_browser_the_storage_page_when_the_disk_is_full(
    worker: User, catalog: Catalog
) -> None:
    with mock.patch.object(FileSystemStorage, "save", side_effect=OSError(errno.ENOSPC, "full")):
        response = _client(worker).post(reverse("reports:file"), _filing(catalog))

    assert response.status_code == 507
    assert "照片存储空间已满" in response.content.decode()
    assert not Report.objects.exists()


# -- sweeps -------------------------------------------------------------------------------


def _filed_ago(age: timedelta) -> None:
    ReportPhoto.objects.update(created_at=timezone.now() - age)


def test_it_makes_a_lost_thumbnail_in_the_sweep(
    worker: User, city: City, catalog: Catalog, _media: Path
) -> None:
    # The thumbnail task is lost: the on-commit callbacks never run.
    report = file_report(worker, city, catalog.garbage, photos=[jpeg(size=(800, 600))])
    photo = ReportPhoto.objects.get(report=report)
    assert not photo.thumbnail

    _filed_ago(timedelta(seconds=30))
    assert sweep_thumbnails() == 0  # too young: its task may still be on its way
    _filed_ago(timedelta(minutes=2))
    made = sweep_thumbnails()

    photo.refresh_from_db()
    assert made == 1
    assert photo.thumbnail.name.startswith("reports/thumbs/")
    assert (_media / photo.thumbnail.name).is_file()


def test_it_skips_a_photo_whose_file_is_gone_and_makes_the_others(
    worker: User, city: City, catalog: Catalog, _media: Path
) -> None:
    report = file_report(worker, city, catalog.garbage, photos=[jpeg(), jpeg()])
    gone, kept = ReportPhoto.objects.filter(report=report).order_by("pk")
    (_media / gone.image.name).unlink()

    _filed_ago(timedelta(minutes=2))
    made = sweep_thumbnails()

    assert made == 1
    kept.refresh_from_db()
    assert kept.thumbnail


def _age(path: Path, minutes: int) -> None:
    then = time.time() - minutes * 60
    os.utime(path, (then, then))


def test_it_removes_old_files_no_row_references_and_keeps_the_rest(
    worker: User, city: City, catalog: Catalog, _media: Path, settings: Any
) -> None:
    settings.PHOTO_ORPHAN_MINUTES = 60
    report = file_report(worker, city, catalog.garbage, photos=[jpeg()])
    photo = ReportPhoto.objects.get(report=report)
    photos.photo_make_thumbnail(photo.pk)
    photo.refresh_from_db()
    folder = (_media / photo.image.name).parent
    old_orphan, young_orphan = folder / "old.jpg", folder / "young.jpg"
    old_orphan.write_bytes(b"x")
    young_orphan.write_bytes(b"x")
    for path in (old_orphan, _media / photo.image.name, _media / photo.thumbnail.name):
        _age(path, 120)
    _age(young_orphan, 0)  # dated by our clock, not the kernel's (JZT_TEST_CLOCK moves ours)

    removed = sweep_orphan_photos()

    assert removed == 1
    assert not old_orphan.exists()
    assert young_orphan.exists()
    assert (_media / photo.image.name).exists() and (_media / photo.thumbnail.name).exists()
