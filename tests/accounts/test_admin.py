"""The user admin: who sees whom, and no way for scoped staff to widen their powers."""

from __future__ import annotations

from typing import Any

from django.test import Client
from django.urls import reverse

from accounts.models import User
from grids.models import Assignment, Role
from tests.conftest import City
from tests.grids.test_admin import login, make_staff


def user_rows(client: Client) -> str:
    response = client.get(reverse("admin:accounts_user_changelist"))
    assert response.status_code == 200
    return response.content.decode()


def test_it_shows_street_staff_themselves_and_users_inside_their_street(
    client: Client, city: City, street_staff: User, worker: User, other_street_staff: User,
    admin_user: User,
) -> None:
    staff = make_staff(street_staff, "view_user")

    page = user_rows(login(client, staff))

    assert ">wanxing</a>" in page and ">zhangxin</a>" in page
    assert ">xinxing</a>" not in page
    assert ">admin</a>" not in page


def test_it_shows_a_superuser_every_user(
    client: Client, city: City, worker: User, other_street_staff: User, admin_user: User
) -> None:
    page = user_rows(login(client, admin_user))

    assert ">zhangxin</a>" in page and ">xinxing</a>" in page and ">admin</a>" in page


def test_it_hides_users_of_another_street(
    client: Client, city: City, street_staff: User, other_street_staff: User
) -> None:
    staff = make_staff(street_staff, "view_user", "change_user")

    change = login(client, staff).get(
        reverse("admin:accounts_user_change", args=[other_street_staff.pk])
    )
    password = client.get(
        reverse("admin:auth_user_password_change", args=[other_street_staff.pk])
    )

    assert change.status_code == 302  # the admin's "does not exist" redirect
    assert password.status_code == 404


def test_it_hides_a_superuser_even_with_an_assignment_in_scope(
    client: Client, city: City, street_staff: User, admin_user: User
) -> None:
    Assignment.objects.create(user=admin_user, role=Role.LEADER, region=city.street)
    staff = make_staff(street_staff, "view_user", "change_user")

    response = login(client, staff).get(
        reverse("admin:auth_user_password_change", args=[admin_user.pk])
    )

    assert response.status_code == 404


def test_it_makes_privileges_read_only_for_scoped_staff(
    client: Client, city: City, street_staff: User, worker: User
) -> None:
    staff = make_staff(street_staff, "view_user", "change_user")

    page = login(client, staff).get(
        reverse("admin:accounts_user_change", args=[worker.pk])
    ).content.decode()

    assert 'name="full_name"' in page
    for field in ("is_superuser", "is_staff", "user_permissions", "groups"):
        assert f'name="{field}"' not in page


def _user_post(user: User, **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "username": user.username, "full_name": user.full_name, "phone": "", "email": "",
        "is_active": "on", "is_superuser": "on", "is_staff": "on",
        "assignments-TOTAL_FORMS": "0", "assignments-INITIAL_FORMS": "0",
        "assignments-MIN_NUM_FORMS": "0", "assignments-MAX_NUM_FORMS": "1000",
    }
    data.update(overrides)
    return data


def test_it_ignores_a_posted_superuser_flag_from_scoped_staff(
    client: Client, city: City, street_staff: User
) -> None:
    staff = make_staff(street_staff, "view_user", "change_user")

    response = login(client, staff).post(
        reverse("admin:accounts_user_change", args=[staff.pk]), _user_post(staff)
    )

    assert response.status_code == 302
    assert not User.objects.get(pk=staff.pk).is_superuser


def test_it_shows_only_assignments_inside_scope_inline(
    client: Client, city: City, street_staff: User, worker: User
) -> None:
    Assignment.objects.create(user=worker, role=Role.GRID_WORKER, region=city.other_grid)
    staff = make_staff(street_staff, "view_user", "change_user", "view_assignment")

    page = login(client, staff).get(
        reverse("admin:accounts_user_change", args=[worker.pk])
    ).content.decode()

    assert "T120104001001006" in page  # 第六网格, inside 万兴街道
    assert "T120101001001001" not in page  # 第一网格 of 新兴街道


def test_it_requires_a_role_when_scoped_staff_add_a_user(
    client: Client, city: City, street_staff: User
) -> None:
    staff = make_staff(
        street_staff, "view_user", "add_user", "change_user", "view_region",
        "view_assignment", "add_assignment", "change_assignment",
    )

    response = login(client, staff).post(
        reverse("admin:accounts_user_add"),
        {
            "username": "newworker", "full_name": "新网格员", "phone": "",
            "usable_password": "true", "password1": "x-Secret-2024!", "password2": "x-Secret-2024!",
            "assignments-TOTAL_FORMS": "0", "assignments-INITIAL_FORMS": "0",
            "assignments-MIN_NUM_FORMS": "1", "assignments-MAX_NUM_FORMS": "1000",
        },
    )

    assert response.status_code == 200
    assert "请至少为该用户分配一个岗位" in response.content.decode()
    assert not User.objects.filter(username="newworker").exists()


def test_it_lets_scoped_staff_add_a_worker_of_their_street(
    client: Client, city: City, street_staff: User
) -> None:
    staff = make_staff(
        street_staff, "view_user", "add_user", "change_user", "view_region",
        "view_assignment", "add_assignment", "change_assignment",
    )

    response = login(client, staff).post(
        reverse("admin:accounts_user_add"),
        {
            "username": "newworker", "full_name": "新网格员", "phone": "",
            "usable_password": "true", "password1": "x-Secret-2024!", "password2": "x-Secret-2024!",
            "assignments-TOTAL_FORMS": "1", "assignments-INITIAL_FORMS": "0",
            "assignments-MIN_NUM_FORMS": "1", "assignments-MAX_NUM_FORMS": "1000",
            "assignments-0-role": Role.GRID_WORKER, "assignments-0-region": city.grid.pk,
        },
    )

    assert response.status_code == 302
    user = User.objects.get(username="newworker")
    assert list(user.assignments.values_list("role", "region")) == [
        (Role.GRID_WORKER, city.grid.pk)
    ]
