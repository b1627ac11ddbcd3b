"""tools/backup.sh and tools/restore.sh, end to end on PostgreSQL: cases with photos are
backed up, restored into a fresh database and photo folder, and the counts match and a
restored photo opens. Skipped on SQLite (the scripts are for PostgreSQL)."""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from django.db import connection
from PIL import Image

from accounts.models import User
from reports.models import Report, ReportEvent, ReportPhoto
from tests.conftest import City
from tests.reports import conftest as reports_fixtures
from tests.reports.conftest import Catalog, file_report, jpeg

ROOT = Path(__file__).resolve().parents[1]
catalog = reports_fixtures.catalog  # the case fixtures of tests/reports, used by name

pytestmark = [
    pytest.mark.django_db(transaction=True),  # pg_dump reads committed rows only
    pytest.mark.skipif(
        shutil.which("pg_dump") is None or shutil.which("pg_restore") is None,
        reason="pg_dump/pg_restore are not installed",
    ),
]


def _url(name: str) -> str:
    s = connection.settings_dict
    user = s.get("USER") or "postgres"
    password = f":{s['PASSWORD']}" if s.get("PASSWORD") else ""
    host = s.get("HOST") or "127.0.0.1"
    port = s.get("PORT") or 5432
    return f"postgresql://{user}{password}@{host}:{port}/{name}"


@pytest.fixture
def fresh_database() -> Iterator[str]:
    if connection.vendor != "postgresql":
        pytest.skip("backup and restore are for PostgreSQL")
    name = f"jzt_restore_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(_url("postgres"), autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    yield _url(name)
    with psycopg.connect(_url("postgres"), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _run(args: list[str], env: dict[str, str]) -> str:
    result = subprocess.run(
        args, env={**os.environ, **env}, capture_output=True, text=True, check=False, timeout=300
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_it_restores_cases_events_and_photos_from_a_backup(
    worker: User, city: City, catalog: Catalog, settings: Any, tmp_path: Path,
    fresh_database: str,
) -> None:
    media = tmp_path / "media"
    settings.MEDIA_ROOT = media
    for _n in range(3):
        file_report(worker, city, catalog.garbage, photos=[jpeg(), jpeg()])
    counts = (Report.objects.count(), ReportEvent.objects.count(), ReportPhoto.objects.count())
    thumbnails = ReportPhoto.objects.exclude(thumbnail="").count()
    backups = tmp_path / "backups"

    folder = Path(_run(
        [str(ROOT / "tools/backup.sh"), str(backups)],
        {"DATABASE_URL": _url(connection.settings_dict["NAME"]), "MEDIA_ROOT": str(media)},
    ).strip())
    restored_media = tmp_path / "restored-media"
    out = _run(
        [str(ROOT / "tools/restore.sh"), str(folder), fresh_database, str(restored_media)], {}
    )

    assert sorted(p.name for p in folder.iterdir()) == ["SHA256SUMS", "database.dump", "media.tar"]
    with psycopg.connect(fresh_database) as restored:
        got = tuple(
            restored.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # type: ignore[index]
            for table in ("reports_report", "reports_reportevent", "reports_reportphoto")
        )
        image_name = restored.execute(
            "SELECT image FROM reports_reportphoto ORDER BY id LIMIT 1"
        ).fetchone()[0]  # type: ignore[index]
    assert got == counts
    assert (counts[0], counts[2]) == (3, 6)
    assert f"cases {counts[0]}" in out and f"photos {counts[2]}" in out
    with Image.open(restored_media / image_name) as img:
        img.load()
        assert img.format == "JPEG" and img.size == (64, 48)
    assert len([p for p in restored_media.rglob("*") if p.is_file()]) == 6 + thumbnails


def test_it_refuses_to_restore_over_a_database_that_has_tables(
    worker: User, settings: Any, tmp_path: Path, fresh_database: str
) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"
    folder = Path(_run(
        [str(ROOT / "tools/backup.sh"), str(tmp_path / "b")],
        {"DATABASE_URL": _url(connection.settings_dict["NAME"]), "MEDIA_ROOT": str(tmp_path)},
    ).strip())
    _run([str(ROOT / "tools/restore.sh"), str(folder), fresh_database, str(tmp_path / "m1")], {})

    again = subprocess.run(
        [str(ROOT / "tools/restore.sh"), str(folder), fresh_database, str(tmp_path / "m2")],
        capture_output=True, text=True, check=False,
    )

    assert again.returncode == 1
    assert "already has" in again.stderr


def test_it_refuses_a_backup_whose_checksum_does_not_match(
    worker: User, tmp_path: Path, fresh_database: str
) -> None:
    folder = Path(_run(
        [str(ROOT / "tools/backup.sh"), str(tmp_path / "b")],
        {
            "DATABASE_URL": _url(connection.settings_dict["NAME"]),
            "MEDIA_ROOT": str(tmp_path / "none"),
        },
    ).strip())
    with open(folder / "media.tar", "ab") as f:
        f.write(b"tampered")

    bad = subprocess.run(
        [str(ROOT / "tools/restore.sh"), str(folder), fresh_database, str(tmp_path / "m")],
        capture_output=True, text=True, check=False,
    )

    assert bad.returncode == 1
    assert "checksum" in bad.stderr
