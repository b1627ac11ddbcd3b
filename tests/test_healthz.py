import errno
from typing import Any
from unittest import mock

from django.core.cache import cache
from django.core.files.storage import FileSystemStorage
from django.test import Client, override_settings

from jinzhitong import heartbeat
from reports.tasks import sweep_overdue


def test_it_reports_the_database_ok_and_the_broker_disabled_without_redis(
    client: Client, db: None
) -> None:
    with override_settings(REDIS_URL=""):
        response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert {k: body[k] for k in ("database", "broker", "status")} == {
        "database": "ok", "broker": "disabled", "status": "ok",
    }


def test_it_answers_503_when_the_broker_is_unreachable(client: Client, db: None) -> None:
    with override_settings(REDIS_URL="redis://127.0.0.1:1/0"):
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["broker"].startswith("error")


def test_it_answers_503_when_the_database_is_down(client: Client, db: None) -> None:
    with override_settings(REDIS_URL=""), mock.patch(
        "jinzhitong.views.connection.cursor", side_effect=OSError("down")
    ):
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["database"] == "error: OSError"


def test_it_checks_that_photo_storage_is_writable_and_leaves_no_probe(
    client: Client, db: None, settings: Any, tmp_path: Any
) -> None:
    settings.MEDIA_ROOT = tmp_path
    with override_settings(REDIS_URL=""):
        response = client.get("/healthz")
    assert response.json()["storage"] == "ok"
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


def test_it_answers_503_when_photo_storage_is_full_or_read_only(
    client: Client, db: None
) -> None:
    with override_settings(REDIS_URL=""), mock.patch.object(
        FileSystemStorage, "save", side_effect=OSError(errno.EROFS, "Read-only file system")
    ):
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["storage"] == "error: OSError"
    assert response.json()["status"] == "error"


def test_it_reports_unknown_worker_and_beat_before_any_heartbeat(
    client: Client, db: None
) -> None:
    cache.clear()
    with override_settings(REDIS_URL=""):
        body = client.get("/healthz").json()
    assert body["worker_heartbeat_age_s"] is None
    assert body["beat_last_sweep"] is None and body["beat_last_sweep_age_s"] is None


def test_it_reports_the_workers_heartbeat_age_and_the_last_sweep(
    client: Client, db: None
) -> None:
    heartbeat.mark(heartbeat.WORKER, now=1_000.0)
    with mock.patch("jinzhitong.heartbeat.time.time", return_value=2_000.0):
        sweep_overdue()
    with override_settings(REDIS_URL=""), mock.patch(
        "jinzhitong.views.time.time", return_value=2_045.0
    ):
        body = client.get("/healthz").json()
    assert body["worker_heartbeat_age_s"] == 1045.0
    assert body["beat_last_sweep_age_s"] == 45.0
    # 2,000 s after the epoch, in Beijing time.
    assert body["beat_last_sweep"] == "1970-01-01T08:33:20+08:00"
    assert body["status"] == "ok"


def test_it_marks_the_worker_alive_when_it_runs_the_heartbeat_task(db: None) -> None:
    from jinzhitong.celery import worker_heartbeat

    cache.clear()
    worker_heartbeat.apply()
    assert heartbeat.last(heartbeat.WORKER) is not None
