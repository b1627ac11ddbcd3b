"""Login throttling (django-axes), password rules and session lifetime."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import translation

from accounts.models import User
from jinzhitong import settings as production

LOGIN = "/accounts/login/"
ADMIN_LOGIN = "/admin/login/"


def test_it_refuses_the_right_password_after_thirty_wrong_ones(
    client: Client, worker: User
) -> None:
    for _ in range(30):
        client.post(LOGIN, {"username": "zhangxin", "password": "wrong-guess"})

    response = client.post(LOGIN, {"username": "zhangxin", "password": "pw-123456"})

    assert response.status_code == 429
    assert "登录已暂时锁定" in response.content.decode()
    assert "30 分钟后再试" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_it_locks_the_account_even_from_another_address(client: Client, worker: User) -> None:
    for _ in range(10):
        client.post(LOGIN, {"username": "zhangxin", "password": "wrong"}, REMOTE_ADDR="10.0.0.1")

    response = client.post(
        LOGIN, {"username": "zhangxin", "password": "pw-123456"}, REMOTE_ADDR="10.0.0.2"
    )

    assert response.status_code == 429


def test_it_locks_an_address_spraying_many_accounts(
    client: Client, worker: User, street_staff: User
) -> None:
    for n in range(10):
        client.post(LOGIN, {"username": f"guess{n}", "password": "wrong"}, REMOTE_ADDR="10.0.0.9")

    response = client.post(
        LOGIN, {"username": "wanxing", "password": "pw-123456"}, REMOTE_ADDR="10.0.0.9"
    )

    assert response.status_code == 429


def test_it_still_lets_in_after_a_few_typos(client: Client, worker: User) -> None:
    for _ in range(9):
        client.post(LOGIN, {"username": "zhangxin", "password": "typo"})

    response = client.post(LOGIN, {"username": "zhangxin", "password": "pw-123456"})

    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(worker.pk)


def test_it_throttles_the_admin_login_too(client: Client, admin_user: User) -> None:
    for _ in range(10):
        client.post(ADMIN_LOGIN, {"username": "admin", "password": "wrong"})

    response = client.post(ADMIN_LOGIN, {"username": "admin", "password": "pw-123456"})

    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_it_lets_a_superuser_see_and_unlock_lockouts(
    client: Client, worker: User, admin_user: User
) -> None:
    for _ in range(10):
        client.post(LOGIN, {"username": "zhangxin", "password": "wrong"})
    client.force_login(admin_user)

    page = client.get("/admin/axes/accessattempt/")

    assert page.status_code == 200
    assert "zhangxin" in page.content.decode()


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("Ab3-xyz", "至少包含 10 个字符"),
        ("1234567890123", "只包含数字"),
        ("password123", "太常见"),
    ],
)
def test_it_refuses_weak_passwords(password: str, reason: str, db: None) -> None:
    with translation.override("zh-hans"), pytest.raises(ValidationError) as error:
        validate_password(password, User(username="zhangxin"))

    assert any(reason in message for message in error.value.messages)


def test_it_accepts_the_demo_password(db: None) -> None:
    validate_password("jzt-demo-2026", User(username="zhangxin", full_name="张鑫"))


def test_it_ends_sessions_after_twelve_idle_hours(
    client: Client, worker: User, settings: Any
) -> None:
    settings.SESSION_SAVE_EVERY_REQUEST = production.SESSION_SAVE_EVERY_REQUEST
    client.force_login(worker)

    response = client.get("/work/grid_worker/")

    assert production.SESSION_COOKIE_AGE == settings.SESSION_COOKIE_AGE == 12 * 3600
    # Every request renews the cookie, so the twelve hours count from the last click.
    assert response.cookies[settings.SESSION_COOKIE_NAME]["max-age"] == 12 * 3600


def test_it_counts_failures_by_the_client_behind_the_proxy(
    client: Client, worker: User, street_staff: User, settings: Any
) -> None:
    settings.TRUSTED_PROXY_COUNT = 1
    for n in range(10):
        client.post(
            LOGIN, {"username": f"guess{n}", "password": "wrong"},
            REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.7",
        )

    colleague = client.post(
        LOGIN, {"username": "wanxing", "password": "pw-123456"},
        REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.2",
    )
    attacker = Client().post(
        LOGIN, {"username": "zhangxin", "password": "pw-123456"},
        REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="5.6.7.8, 203.0.113.7",
    )

    assert colleague.status_code == 302  # same proxy, another client: not locked
    assert attacker.status_code == 429  # a forged left-hand entry changes nothing
