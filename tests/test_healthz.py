from unittest import mock

from django.test import Client, override_settings


def test_it_reports_the_database_ok_and_the_broker_disabled_without_redis(
    client: Client, db: None
) -> None:
    with override_settings(REDIS_URL=""):
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"database": "ok", "broker": "disabled", "status": "ok"}


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
