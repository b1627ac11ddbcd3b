import pytest
from django.db import IntegrityError, transaction

from grids.models import Level, Region
from tests.conftest import City


def test_it_refuses_a_grid_directly_under_a_street_at_the_database(city: City) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        Region.objects.create(code="X1", name="越级网格", level=Level.GRID, parent=city.street)


def test_it_refuses_moving_a_street_under_the_city_with_a_raw_update(city: City) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        Region.objects.filter(pk=city.street.pk).update(parent=city.city)
    assert Region.objects.get(pk=city.street.pk).parent_id == city.district.pk


def test_it_refuses_a_parentless_district(db: None) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        Region.objects.create(code="X2", name="孤立区", level=Level.DISTRICT, parent=None)


def test_it_refuses_changing_a_level_that_would_break_the_children(city: City) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        Region.objects.filter(pk=city.community.pk).update(level=Level.GRID, depth=Level.GRID)


def test_it_accepts_a_correct_chain_and_keeps_level_equal_to_depth(city: City) -> None:
    levels = [r.level for r in city.grid.get_ancestors(include_self=True)]
    assert levels == [0, 1, 2, 3, 4]
    assert all(r.level == r.depth for r in Region.objects.all())
