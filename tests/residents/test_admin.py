"""The residents admin: the city's care tables are changed only by city-level
administrators, and every change reaches the households (level and due date)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from grids.models import Role
from residents import services
from residents.models import CareLevel, CareRule, Household, Tag
from tests.conftest import City
from tests.factories import assign
from tests.residents.conftest import Place, id_number, make_household, make_person

CARE_PERMS = [f"{verb}_{model}" for verb in ("add", "change", "delete", "view")
              for model in ("carelevel", "carerule", "tag")]


def _staff(user: User) -> User:
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    user.user_permissions.add(*Permission.objects.filter(codename__in=CARE_PERMS))
    return User.objects.get(pk=user.pk)


def _client(user: User) -> Client:
    c = Client()
    c.force_login(user)
    return c


def _level_form(level: CareLevel, **changes: Any) -> dict[str, Any]:
    data = {"rank": level.rank, "name": level.name, "color": level.color,
            "meaning": level.meaning, "visit_every_days": level.visit_every_days}
    return data | changes


@pytest.fixture
def street_admin(city: City, street_staff: User) -> User:
    """万兴街道's staff, given admin rights (is_staff, the models' permissions, the admin
    role) over their street: delegated, not city-level."""
    assign(street_staff, Role.ADMIN, region=city.street)
    return _staff(street_staff)


@pytest.fixture
def city_admin(city: City) -> User:
    user = User.objects.create_user("cityadmin", password="pw-123456")
    assign(user, Role.ADMIN, region=city.city)
    return _staff(user)


def test_delegated_street_admin_cannot_change_the_city_care_tables(
    street_admin: User
) -> None:
    level = CareLevel.objects.get(rank=7)
    rule = CareRule.objects.first()
    assert rule is not None
    c = _client(street_admin)

    edit = c.post(reverse("admin:residents_carelevel_change", args=[level.pk]),
                  _level_form(level, visit_every_days=1))
    add = c.post(reverse("admin:residents_carerule_add"),
                 {"tag": Tag.objects.get(code="veteran").pk, "max_grade": "", "level": level.pk})
    delete = c.post(reverse("admin:residents_carerule_delete", args=[rule.pk]), {"post": "yes"})
    listed = c.get(reverse("admin:residents_carelevel_changelist"))

    assert (edit.status_code, add.status_code, delete.status_code) == (403, 403, 403)
    assert listed.status_code == 200 and 'name="form-0-visit_every_days"' not in (
        listed.content.decode()
    )
    assert CareLevel.objects.get(rank=7).visit_every_days == 365
    assert CareRule.objects.filter(pk=rule.pk).exists()


def test_a_city_admin_may_change_the_care_tables(city_admin: User) -> None:
    level = CareLevel.objects.get(rank=7)
    response = _client(city_admin).post(
        reverse("admin:residents_carelevel_change", args=[level.pk]),
        _level_form(level, visit_every_days=200),
    )
    assert response.status_code == 302
    assert CareLevel.objects.get(rank=7).visit_every_days == 200


def test_changing_a_levels_visit_interval_in_the_admin_moves_households_due_dates(
    place: Place, admin_user: User, worker: User, django_capture_on_commit_callbacks: Any
) -> None:
    today = timezone.localdate()
    visited = today - timedelta(days=10)
    household = make_household(place.entrance)
    services.visit_record(actor=worker, household=household, visited_on=visited, kind="home")
    suggested = make_household(place.entrance, door="102")
    services.visit_record(actor=worker, household=suggested, visited_on=visited, kind="home",
                          next_suggested_on=visited + timedelta(days=3))
    level = CareLevel.objects.get(rank=7)
    assert Household.objects.get(pk=household.pk).next_visit_due == visited + timedelta(365)

    with django_capture_on_commit_callbacks(execute=True):
        response = _client(admin_user).post(
            reverse("admin:residents_carelevel_change", args=[level.pk]),
            _level_form(level, visit_every_days=30),
        )

    assert response.status_code == 302
    assert Household.objects.get(pk=household.pk).next_visit_due == visited + timedelta(30)
    # A date the worker suggested on the visit is theirs, not the plan's.
    assert Household.objects.get(pk=suggested.pk).next_visit_due == visited + timedelta(3)


def test_a_new_care_rule_in_the_admin_recolours_households(
    place: Place, admin_user: User, worker: User, django_capture_on_commit_callbacks: Any
) -> None:
    household = make_household(place.entrance, today=date(2026, 3, 1))
    person = make_person(household, id_number=id_number(11, born="19800101"))
    services.person_set_tags(actor=worker, person=person,
                             tags={Tag.objects.get(code="veteran"): None})
    assert Household.objects.get(pk=household.pk).care_level.rank == 5
    veteran_rule = CareRule.objects.get(tag__code="veteran")

    with django_capture_on_commit_callbacks(execute=True):
        response = _client(admin_user).post(
            reverse("admin:residents_carerule_change", args=[veteran_rule.pk]),
            {"tag": veteran_rule.tag_id, "max_grade": "",
             "level": CareLevel.objects.get(rank=2).pk},
        )

    assert response.status_code == 302
    refreshed = Household.objects.get(pk=household.pk)
    assert (refreshed.care_level.rank, refreshed.derived_level.rank) == (2, 2)
    assert refreshed.changes.filter(kind="care_level").exists()
