"""The user admin: who sees whom, and no way for scoped staff to widen their powers."""

from __future__ import annotations

from typing import Any
from unittest import mock

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import User
from grids import services as grid_services
from grids.models import Assignment, Role
from tests.conftest import City
from tests.factories import UserFactory, assign
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


def test_it_grants_and_revokes_roles_on_the_user_page_through_the_services(
    client: Client, city: City, street_staff: User
) -> None:
    staff = make_staff(
        street_staff, "view_user", "add_user", "change_user", "view_region",
        "view_assignment", "add_assignment", "change_assignment", "delete_assignment",
    )
    worker = UserFactory(username="w6", full_name="网格员六")
    old = assign(worker, Role.GRID_WORKER, region=city.grid)
    data = {
        "username": "w6", "full_name": "网格员六", "phone": "", "email": "", "is_active": "on",
        "assignments-TOTAL_FORMS": "2", "assignments-INITIAL_FORMS": "1",
        "assignments-MIN_NUM_FORMS": "0", "assignments-MAX_NUM_FORMS": "1000",
        "assignments-0-id": old.pk, "assignments-0-user": worker.pk,
        "assignments-0-role": Role.GRID_WORKER, "assignments-0-region": city.grid.pk,
        "assignments-0-DELETE": "on",
        "assignments-1-role": Role.GRID_WORKER, "assignments-1-region": city.neighbour_grid.pk,
    }
    saved, revoked = [], []
    real_save, real_revoke = grid_services.assignment_save, grid_services.assignment_revoke

    def spy_save(*, assignment: Assignment) -> Assignment:
        saved.append(assignment.region_id)
        return real_save(assignment=assignment)

    def spy_revoke(*, assignment: Assignment) -> None:
        revoked.append(assignment.region_id)
        real_revoke(assignment=assignment)

    with (
        mock.patch.object(grid_services, "assignment_save", spy_save),
        mock.patch.object(grid_services, "assignment_revoke", spy_revoke),
    ):
        response = login(client, staff).post(
            reverse("admin:accounts_user_change", args=[worker.pk]), data
        )

    assert response.status_code == 302, response.content.decode()[:2000]
    assert list(worker.assignments.values_list("region", flat=True)) == [city.neighbour_grid.pk]
    assert saved == [city.neighbour_grid.pk] and revoked == [city.grid.pk]


# --- delegated administration: no escalation through another user's account ------------


@pytest.fixture
def mixed_user(city: City) -> User:
    """A grid worker of 万兴街道 who also holds a district role in 南开区."""
    user = UserFactory(username="mixed", full_name="兼职人员")
    assign(user, Role.GRID_WORKER, region=city.grid)
    assign(user, Role.DISTRICT_STAFF, region=city.district)
    return user


def _password_post(password: str = "New-Secret-2026!") -> dict[str, str]:
    return {"password1": password, "password2": password, "usable_password": "true"}


def _grant_staff(street_staff: User) -> User:
    return make_staff(
        street_staff, "view_user", "change_user", "view_assignment", "add_assignment",
        "change_assignment", "delete_assignment", "view_region",
    )


def test_it_refuses_street_staff_resetting_the_password_of_a_user_with_a_district_role(
    client: Client, city: City, street_staff: User, mixed_user: User
) -> None:
    staff = make_staff(street_staff, "view_user", "change_user")
    url = reverse("admin:auth_user_password_change", args=[mixed_user.pk])

    page = login(client, staff).get(url)
    posted = client.post(url, _password_post())

    assert page.status_code == 403
    assert posted.status_code == 403
    assert User.objects.get(pk=mixed_user.pk).check_password("pw-123456")


def test_it_refuses_street_staff_changing_a_user_with_a_district_role(
    client: Client, city: City, street_staff: User, mixed_user: User
) -> None:
    staff = make_staff(street_staff, "view_user", "change_user")
    url = reverse("admin:accounts_user_change", args=[mixed_user.pk])

    response = login(client, staff).post(
        url, _user_post(mixed_user, full_name="改名", is_superuser="", is_staff="")
    )

    assert response.status_code == 403
    assert User.objects.get(pk=mixed_user.pk).full_name == "兼职人员"


def test_it_lets_street_staff_reset_the_password_of_a_worker_fully_in_their_street(
    client: Client, city: City, street_staff: User, worker: User
) -> None:
    staff = make_staff(street_staff, "view_user", "change_user")
    url = reverse("admin:auth_user_password_change", args=[worker.pk])

    response = login(client, staff).post(url, _password_post())

    assert response.status_code == 302
    assert User.objects.get(pk=worker.pk).check_password("New-Secret-2026!")


def test_it_lets_street_staff_edit_a_worker_fully_in_their_street(
    client: Client, city: City, street_staff: User, worker: User
) -> None:
    staff = make_staff(street_staff, "view_user", "change_user")

    response = login(client, staff).post(
        reverse("admin:accounts_user_change", args=[worker.pk]),
        _user_post(worker, full_name="张鑫（改）", is_superuser="", is_staff=""),
    )

    assert response.status_code == 302
    assert User.objects.get(pk=worker.pk).full_name == "张鑫（改）"


def test_it_refuses_a_self_granted_role(
    client: Client, city: City, street_staff: User
) -> None:
    staff = _grant_staff(street_staff)

    response = login(client, staff).post(
        reverse("admin:grids_assignment_add"),
        {"user": staff.pk, "role": Role.GRID_WORKER, "region": city.grid.pk},
    )

    assert response.status_code == 200
    assert "不能为自己分配或修改岗位" in response.content.decode()
    assert list(staff.assignments.values_list("role", flat=True)) == [Role.STREET_STAFF]


def test_it_refuses_a_grant_outside_the_granters_scope(
    client: Client, city: City, street_staff: User, worker: User
) -> None:
    staff = _grant_staff(street_staff)

    response = login(client, staff).post(
        reverse("admin:grids_assignment_add"),
        {"user": worker.pk, "role": Role.GRID_WORKER, "region": city.other_grid.pk},
    )

    assert response.status_code == 200
    assert not worker.assignments.filter(region=city.other_grid).exists()


def test_it_refuses_a_grant_to_a_user_with_a_role_outside_scope(
    client: Client, city: City, street_staff: User, mixed_user: User
) -> None:
    staff = _grant_staff(street_staff)

    response = login(client, staff).post(
        reverse("admin:grids_assignment_add"),
        {"user": mixed_user.pk, "role": Role.GRID_WORKER, "region": city.neighbour_grid.pk},
    )

    assert response.status_code == 200
    assert not mixed_user.assignments.filter(region=city.neighbour_grid).exists()


def test_it_lets_street_staff_grant_a_role_inside_their_street(
    client: Client, city: City, street_staff: User, worker: User
) -> None:
    staff = _grant_staff(street_staff)

    response = login(client, staff).post(
        reverse("admin:grids_assignment_add"),
        {"user": worker.pk, "role": Role.GRID_WORKER, "region": city.neighbour_grid.pk},
    )

    assert response.status_code == 302
    assert worker.assignments.filter(region=city.neighbour_grid).exists()


def test_it_refuses_changing_an_in_scope_role_of_a_user_with_a_role_outside_scope(
    client: Client, city: City, street_staff: User, mixed_user: User
) -> None:
    staff = _grant_staff(street_staff)
    grid_role = mixed_user.assignments.get(role=Role.GRID_WORKER)

    response = login(client, staff).post(
        reverse("admin:grids_assignment_change", args=[grid_role.pk]),
        {"user": mixed_user.pk, "role": Role.GRID_WORKER, "region": city.neighbour_grid.pk},
    )

    assert response.status_code == 403
    assert Assignment.objects.get(pk=grid_role.pk).region_id == city.grid.pk


def test_it_refuses_editing_ones_own_assignment(
    client: Client, city: City, street_staff: User
) -> None:
    staff = _grant_staff(street_staff)
    own = staff.assignments.get()

    changed = login(client, staff).post(
        reverse("admin:grids_assignment_change", args=[own.pk]),
        {"user": staff.pk, "role": Role.LEADER, "region": city.street.pk},
    )
    deleted = client.post(reverse("admin:grids_assignment_delete", args=[own.pk]), {"post": "yes"})

    assert changed.status_code == 403
    assert deleted.status_code == 403
    assert Assignment.objects.get(pk=own.pk).role == Role.STREET_STAFF


def test_it_ignores_roles_posted_inline_on_ones_own_user_page(
    client: Client, city: City, street_staff: User
) -> None:
    staff = _grant_staff(street_staff)

    login(client, staff).post(
        reverse("admin:accounts_user_change", args=[staff.pk]),
        _user_post(
            staff, **{
                "assignments-TOTAL_FORMS": "1", "assignments-0-role": Role.GRID_WORKER,
                "assignments-0-region": str(city.grid.pk),
            },
        ),
    )

    assert list(staff.assignments.values_list("role", flat=True)) == [Role.STREET_STAFF]


def test_it_refuses_resetting_the_password_of_a_colleague_with_more_admin_rights(
    client: Client, city: City, street_staff: User
) -> None:
    staff = make_staff(street_staff, "view_user", "change_user")
    colleague = UserFactory(username="colleague", full_name="同事")
    assign(colleague, Role.STREET_STAFF, region=city.street)
    make_staff(colleague, "view_region", "add_region", "change_region")

    response = login(client, staff).post(
        reverse("admin:auth_user_password_change", args=[colleague.pk]), _password_post()
    )

    assert response.status_code == 403
    assert User.objects.get(pk=colleague.pk).check_password("pw-123456")
