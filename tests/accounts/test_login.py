"""The login page, logging out and the language switch."""

from __future__ import annotations

from django.test import Client
from django.urls import reverse

from accounts.models import User

LOGIN = "/accounts/login/"


def test_it_shows_a_labelled_login_form_in_chinese(client: Client, db: None) -> None:
    response = client.get(LOGIN)
    html = response.content.decode()
    assert response.status_code == 200
    assert '<html lang="zh-hans">' in html
    assert '<label for="id_username">用户名</label>' in html
    assert '<label for="id_password">密码</label>' in html
    assert 'autocomplete="current-password"' in html
    assert '<main id="main"' in html


def test_it_logs_a_grid_worker_in_and_sends_them_to_their_workspace(
    client: Client, worker: User
) -> None:
    response = client.post(LOGIN, {"username": "zhangxin", "password": "pw-123456"}, follow=True)
    assert response.redirect_chain[-1][0] == "/work/grid_worker/"
    assert "第六网格" in response.content.decode()


def test_it_follows_next_after_logging_in(client: Client, street_staff: User) -> None:
    response = client.post(
        LOGIN, {"username": "wanxing", "password": "pw-123456", "next": "/work/street_staff/"}
    )
    assert response["Location"] == "/work/street_staff/"


def test_it_refuses_a_wrong_password_with_a_chinese_message(
    client: Client, worker: User
) -> None:
    response = client.post(LOGIN, {"username": "zhangxin", "password": "wrong"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "用户名或密码不正确。" in html
    assert 'role="alert"' in html
    assert "_auth_user_id" not in client.session


def test_it_refuses_an_inactive_account(client: Client, worker: User) -> None:
    worker.is_active = False
    worker.save(update_fields=["is_active"])
    response = client.post(LOGIN, {"username": "zhangxin", "password": "pw-123456"})
    assert "_auth_user_id" not in client.session
    assert response.status_code == 200


def test_it_sends_a_logged_in_user_past_the_login_page(client: Client, worker: User) -> None:
    client.force_login(worker)
    assert client.get(LOGIN)["Location"] == reverse("home")


def test_it_logs_out_with_a_post(client: Client, worker: User) -> None:
    client.force_login(worker)
    response = client.post("/accounts/logout/")
    assert response["Location"] == LOGIN
    assert client.get("/work/grid_worker/").status_code == 302


def test_it_switches_the_interface_to_english(client: Client, db: None) -> None:
    response = client.post("/i18n/setlang/", {"language": "en", "next": LOGIN}, follow=True)
    html = response.content.decode()
    assert '<html lang="en">' in html
    assert ">Username</label>" in html
    assert ">Sign in</h1>" in html


def test_it_offers_both_languages_in_the_footer(client: Client, db: None) -> None:
    html = client.get(LOGIN).content.decode()
    assert 'name="language" value="zh-hans"' in html
    assert 'name="language" value="en"' in html
    assert 'aria-pressed="true"' in html
