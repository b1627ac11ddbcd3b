"""The admin in Chinese: django-axes' names and Django's permission names ("Can add …"),
which no installed catalogue translated."""

from __future__ import annotations

import pytest
from axes.models import AccessAttempt
from django.test import Client
from django.urls import reverse

from accounts.models import User

pytestmark = pytest.mark.django_db


def _admin(admin_user: User) -> Client:
    c = Client()
    c.force_login(admin_user)
    return c


def test_it_names_the_login_protection_app_and_its_tables_in_chinese(admin_user: User) -> None:
    html = _admin(admin_user).get(reverse("admin:index")).content.decode()
    assert "登录保护" in html and "登录尝试" in html and "登录失败记录" in html
    assert "Access attempts" not in html and ">Axes<" not in html


def test_it_shows_the_access_attempt_list_in_chinese(admin_user: User) -> None:
    AccessAttempt.objects.create(
        user_agent="curl", ip_address="10.0.0.1", username="zhangxin", http_accept="*/*",
        path_info="/accounts/login/", get_data="", post_data="", failures_since_start=3,
    )
    html = _admin(admin_user).get(reverse("admin:axes_accessattempt_changelist")).content
    text = html.decode()
    assert "浏览器标识" in text and "IP 地址" in text
    assert "User Agent" not in text and "Attempt Time" not in text


@pytest.mark.parametrize("url", ["admin:auth_group_add", "admin:accounts_user_change"])
def test_it_names_permissions_in_chinese(admin_user: User, url: str) -> None:
    args = [admin_user.pk] if url.endswith("change") else []
    html = _admin(admin_user).get(reverse(url, args=args)).content.decode()
    assert "网格与区划 | 区划 | 可以添加" in html
    assert "Can add" not in html and "Can change" not in html


def test_it_gives_the_admin_scripts_their_chinese_strings(admin_user: User) -> None:
    # Django 5.2's permission picker asks for "Choose all %s", which Django's own
    # Simplified Chinese catalogue lacks.
    body = _admin(admin_user).get("/admin/jsi18n/").content.decode()
    assert '"Choose all %s": "\\u5168\\u9009%s"' in body or '"Choose all %s": "全选%s"' in body
