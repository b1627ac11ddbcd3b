"""Error answers: JSON for the phone's scripts, pages for browsers; a dropped database
connection is 503 with Retry-After, never a 400 about sessions."""

from __future__ import annotations

from typing import Any
from unittest import mock

import pytest
from django.contrib.sessions.backends.base import UpdateError
from django.contrib.sessions.models import Session
from django.db import InterfaceError, OperationalError
from django.test import Client, RequestFactory
from django.urls import reverse

from accounts.models import User
from jinzhitong import errors
from jinzhitong.sessions import SessionStore

JSON = {"HTTP_ACCEPT": "application/json"}


def _client(user: User) -> Client:
    c = Client(raise_request_exception=False)
    c.force_login(user)
    return c


@pytest.mark.parametrize(
    "exc", [OperationalError("server closed the connection"), InterfaceError("already closed")]
)
def test_it_answers_503_with_retry_after_when_the_database_drops_in_a_view(
    worker: User, exc: Exception
) -> None:
    with mock.patch("reports.selectors.filing_grids", side_effect=exc):
        response = _client(worker).get(reverse("reports:file"), **JSON)

    assert response.status_code == 503
    assert response["Retry-After"] == "10"
    assert response.json()["error"] == "系统暂时无法连接数据库，本次操作未保存，请稍后重试。"
    assert response.json()["retry"] is True


def test_it_shows_a_browser_the_503_page_when_the_database_drops(worker: User) -> None:
    with mock.patch("reports.selectors.filing_grids", side_effect=OperationalError("gone")):
        response = _client(worker).get(reverse("reports:file"))

    assert response.status_code == 503
    assert response["Retry-After"] == "10"
    assert "系统暂时不可用" in response.content.decode()


def test_it_answers_503_not_a_session_400_when_saving_the_session_fails(
    worker: User, settings: Any
) -> None:
    settings.SESSION_SAVE_EVERY_REQUEST = True
    client = _client(worker)

    with mock.patch.object(Session, "save", side_effect=OperationalError("terminating connection")):
        response = client.get(reverse("reports:mine"), **JSON)

    assert response.status_code == 503
    assert response["Retry-After"] == "10"
    assert response.json()["status"] == 503


def test_it_still_reports_a_session_deleted_meanwhile_as_django_does(db: None) -> None:
    # Django's own case for its 400 (SessionInterrupted): the row is gone, the database fine.
    store = SessionStore()
    store["k"] = 1
    store.create()
    Session.objects.all().delete()
    store["k"] = 2

    with pytest.raises(UpdateError):
        store.save()


def test_it_lets_a_dropped_connection_through_the_session_store(db: None) -> None:
    store = SessionStore()
    store["k"] = 1
    store.create()

    with mock.patch.object(Session, "save", side_effect=OperationalError("gone")):
        with pytest.raises(OperationalError):
            store.save()


def test_it_answers_json_404_to_a_json_client(worker: User) -> None:
    response = _client(worker).get("/cases/999999/", **JSON)

    assert response.status_code == 404
    body = response.json()
    assert (body["error"], body["status"]) == (
        "您要找的页面或案件不存在，或不在您的管辖范围内。", 404,
    )


def test_it_answers_the_404_page_to_a_browser(worker: User) -> None:
    response = _client(worker).get("/no-such-page/")

    assert response.status_code == 404
    assert "页面不存在" in response.content.decode()
    assert response["Content-Type"].startswith("text/html")


def test_it_answers_json_403_with_the_reason(street_staff: User) -> None:
    response = _client(street_staff).get(reverse("reports:file"), **JSON)

    assert response.status_code == 403
    assert response.json()["error"] == "只有网格员和网格长可以使用此页面"


def test_it_answers_json_500_to_a_json_client(worker: User) -> None:
    with mock.patch("reports.selectors.filing_grids", side_effect=RuntimeError("bug")):
        response = _client(worker).get(reverse("reports:file"), **JSON)

    assert response.status_code == 500
    assert response.json()["error"] == "服务器出错了，本次操作可能未保存，请稍后重试。"


def test_it_draws_the_500_page_without_the_database(
    db: None, django_assert_num_queries: Any
) -> None:
    request = RequestFactory().get("/m/file/")

    with django_assert_num_queries(0):
        response = errors.server_error(request)

    assert response.status_code == 500
    assert "服务器出错了" in response.content.decode()


def test_it_draws_the_503_page_without_the_database(
    db: None, django_assert_num_queries: Any
) -> None:
    request = RequestFactory().get("/center/triage/")

    with django_assert_num_queries(0):
        response = errors.database_unavailable(request)

    assert response.status_code == 503
    assert "系统暂时不可用" in response.content.decode()


def test_it_answers_json_400_to_an_api_path() -> None:
    request = RequestFactory().get("/api/v1/locate")

    response = errors.bad_request(request, Exception("bad"))

    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"


def test_it_returns_the_request_id_it_was_given_or_makes_one(db: None) -> None:
    client = Client()

    given = client.get("/healthz", HTTP_X_REQUEST_ID="edge-42")
    forged = client.get("/healthz", HTTP_X_REQUEST_ID="a b\nINFO fake line")

    assert given["X-Request-ID"] == "edge-42"
    assert len(forged["X-Request-ID"]) == 32 and "\n" not in forged["X-Request-ID"]


def test_it_answers_json_403_when_the_phones_csrf_token_expired(worker: User) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(worker)

    response = client.post(reverse("reports:file"), {}, **JSON)

    assert response.status_code == 403
    assert response.json()["error"] == "页面已过期或登录已失效，请重新登录后再提交。"


def test_it_names_a_too_large_submission_in_json(settings: Any, worker: User) -> None:
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 3
    client = _client(worker)

    response = client.post(
        reverse("reports:file"), {f"f{n}": "x" for n in range(10)}, **JSON
    )

    assert response.status_code == 400
    assert response.json()["errors"] == {"__all__": ["提交的内容太大，请减少照片或文字后重试。"]}
