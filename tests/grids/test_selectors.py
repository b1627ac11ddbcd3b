"""Subtree reads cost a fixed number of queries whatever the subtree's size."""

from __future__ import annotations

import pytest

from accounts.models import User
from grids.models import Level
from grids.selectors import regions_visible_to
from tests.conftest import City
from tests.factories import make_region, square


def _grids_visible(user: User) -> list[str]:
    user.__dict__.pop("_jinzhitong_scope", None)
    return list(regions_visible_to(user).filter(level=Level.GRID).values_list("code", flat=True))


@pytest.mark.parametrize("persona", ["street_staff", "district_staff", "leader"])
def test_it_reads_a_subtree_in_two_queries_at_any_size(
    request: pytest.FixtureRequest, persona: str, city: City, django_assert_num_queries
) -> None:
    user = request.getfixturevalue(persona)
    for i in range(10):
        make_region(city.community, boundary=square(117.2 + i * 0.01, 39.2))
    # assignments (scope) + the subtree range query
    with django_assert_num_queries(2):
        small = _grids_visible(user)
    for i in range(40):
        make_region(city.community, boundary=square(117.3 + i * 0.01, 39.3))
    with django_assert_num_queries(2):
        large = _grids_visible(user)
    assert len(large) == len(small) + 40


def test_it_never_shows_another_streets_regions(
    city: City, street_staff: User, other_street_staff: User
) -> None:
    mine = set(regions_visible_to(street_staff).values_list("code", flat=True))
    theirs = set(regions_visible_to(other_street_staff).values_list("code", flat=True))
    assert city.grid.code in mine and city.other_grid.code not in mine
    assert city.other_grid.code in theirs and city.grid.code not in theirs
    assert city.district.code not in mine  # scope is the subtree, not the ancestors
