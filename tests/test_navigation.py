"""The role-aware navigation on every page: each role's work pages, several roles side by side."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import User
from grids.models import Role
from tests.conftest import City
from tests.factories import assign

pytestmark = pytest.mark.django_db


def _get(user: User, url: str) -> str:
    c = Client()
    c.force_login(user)
    return c.get(url).content.decode()


def test_it_links_the_street_centers_work_pages_from_its_workspace(street_staff: User) -> None:
    html = _get(street_staff, reverse("grids:workspace", args=["street_staff"]))
    for name in ("reports:triage", "reports:board", "reports:overdue"):
        assert f'href="{reverse(name)}"' in html
    assert f'href="{reverse("reports:inbox")}"' not in html


def test_it_shows_a_person_with_two_roles_the_pages_of_both(
    street_staff: User, city: City
) -> None:
    assign(street_staff, Role.HANDLER, department=city.department)
    html = _get(street_staff, reverse("reports:inbox"))
    assert f'href="{reverse("reports:triage")}"' in html
    assert f'href="{reverse("reports:inbox")}" aria-current="page"' in html
    assert "街道网格中心" in html and "处置部门" in html


def test_it_shows_the_bell_to_a_grid_worker(worker: User) -> None:
    # Handled cases waiting for the worker's check, and closed ones, are notices to them.
    html = _get(worker, reverse("grids:workspace", args=["grid_worker"]))
    assert 'id="bell"' in html
    assert 'name="language"' in html  # the language switch stays


def test_it_shows_the_bell_to_a_leader(leader: User) -> None:
    html = _get(leader, reverse("grids:workspace", args=["leader"]))
    assert 'id="bell"' in html


def test_it_shows_no_bell_to_someone_with_no_role(outsider: User) -> None:
    html = _get(outsider, reverse("grids:no_role"))
    assert 'id="bell"' not in html
