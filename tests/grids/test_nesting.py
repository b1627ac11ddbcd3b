"""Boundaries must nest: a child within its parent, grids of a community apart.

Fixture grids (tests/conftest.py): 第六网格 T120104001001006 is [117.17, 117.18] ×
[39.10, 39.11], 第五网格 T120104001001005 is [117.18, 117.19] × [39.10, 39.11]; the
community 天大北五村社区 has no boundary until a test gives it one.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from accounts.models import User
from grids import tree
from grids.importer import RegionImportError, import_regions
from grids.models import Region
from tests.conftest import City
from tests.factories import square
from tests.grids.test_admin import login, region_form
from tests.grids.test_importer import collection, feature, small_city

COMMUNITY = square(117.17, 39.10, 0.02)  # [117.17, 117.19] × [39.10, 39.12]


def with_community_boundary(city: City) -> None:
    tree.region_update(city.community, boundary=COMMUNITY)


def test_it_refuses_a_grid_drawn_over_half_the_city(city: City) -> None:
    with_community_boundary(city)
    original = Region.objects.get(pk=city.grid.pk).boundary

    with pytest.raises(ValidationError) as e:
        tree.region_update(city.grid, boundary=square(116.8, 38.8, 0.8))

    assert e.value.messages == [
        "网格 T120104001001006 超出上级 T120104001001 的范围",
        "网格 T120104001001006 与 T120104001001005 重叠",
    ]
    assert Region.objects.get(pk=city.grid.pk).boundary == original


def test_it_refuses_a_grid_overlapping_another_grid_of_its_community(city: City) -> None:
    with pytest.raises(ValidationError) as e:
        tree.region_update(city.grid, boundary=square(117.175, 39.10))

    assert e.value.messages == ["网格 T120104001001006 与 T120104001001005 重叠"]


def test_it_refuses_shrinking_a_parent_away_from_its_children(city: City) -> None:
    with pytest.raises(ValidationError) as e:
        tree.region_update(city.community, boundary=square(117.17, 39.10))

    assert e.value.messages == ["网格 T120104001001005 超出上级 T120104001001 的范围"]


def test_it_accepts_a_grid_sticking_out_less_than_the_tolerance(city: City) -> None:
    with_community_boundary(city)
    # 0.5% of the grid's area lies west of the community.
    moved = tree.region_update(city.grid, boundary=square(117.16995, 39.10))

    assert moved.boundary["coordinates"][0][0] == [117.16995, 39.1]


def test_it_reads_the_tolerance_from_settings(city: City, settings: Any) -> None:
    settings.GRID_BOUNDARY_TOLERANCE = 0.001
    with_community_boundary(city)

    with pytest.raises(ValidationError, match="超出上级"):
        tree.region_update(city.grid, boundary=square(117.16995, 39.10))


def test_it_lets_grids_of_different_communities_overlap(city: City) -> None:
    # 朝阳里社区's grid sits at [117.19, 117.20] × [39.12, 39.13].
    moved = tree.region_update(city.other_grid, boundary=square(117.185, 39.105))

    assert moved.boundary is not None


def test_it_refuses_creating_a_grid_outside_its_community(city: City) -> None:
    with_community_boundary(city)

    with pytest.raises(ValidationError, match="网格 T120104001001009 超出上级 T120104001001"):
        tree.region_create(
            code="T120104001001009", name="越界网格", parent=city.community,
            boundary=square(117.3, 39.3),
        )
    assert not Region.objects.filter(code="T120104001001009").exists()


def test_it_refuses_an_import_whose_grids_overlap_all_or_nothing(db: None) -> None:
    data = collection(
        *small_city(),
        feature("X101001001003", "重叠网格", "grid", "X101001001", square(117.505, 39.5)),
    )

    with pytest.raises(RegionImportError) as e:
        import_regions(data)

    # Each overlapping pair once, under the first of the two in the file.
    assert e.value.errors == [
        "X101001001001：网格 X101001001001 与 X101001001003 重叠",
        "X101001001002：网格 X101001001002 与 X101001001003 重叠",
    ]
    assert not Region.objects.exists()


def test_it_refuses_an_imported_grid_outside_its_community(db: None) -> None:
    features = small_city()
    features[3]["geometry"] = square(117.5, 39.5, 0.02)  # 一社区
    features.append(
        feature("X101001001003", "飞地网格", "grid", "X101001001", square(117.6, 39.6))
    )

    with pytest.raises(RegionImportError) as e:
        import_regions(collection(*features))

    assert e.value.errors == ["X101001001003：网格 X101001001003 超出上级 X101001001 的范围"]


def test_it_refuses_an_imported_grid_overlapping_one_in_the_database(city: City) -> None:
    data = collection(
        feature("T120104001001009", "新网格", "grid", "T120104001001", square(117.17, 39.105)),
    )

    with pytest.raises(RegionImportError) as e:
        import_regions(data)

    assert e.value.errors == [
        "T120104001001009：网格 T120104001001009 与 T120104001001006 重叠"
    ]


def test_it_refuses_an_imported_parent_that_leaves_its_children_out(city: City) -> None:
    data = collection(
        feature("T120104001001", "天大北五村社区", "community", "T120104001",
                square(117.17, 39.10)),
    )

    with pytest.raises(RegionImportError) as e:
        import_regions(data)

    assert e.value.errors == [
        "T120104001001：网格 T120104001001005 超出上级 T120104001001 的范围"
    ]


def test_it_explains_an_overlapping_boundary_in_the_admin(
    client: Client, city: City, admin_user: User
) -> None:
    original = city.grid.boundary

    response = login(client, admin_user).post(
        reverse("admin:grids_region_change", args=[city.grid.pk]),
        region_form(city.grid, boundary=json.dumps(square(117.175, 39.10))),
    )

    assert response.status_code == 200
    assert "网格 T120104001001006 与 T120104001001005 重叠" in response.content.decode()
    assert Region.objects.get(pk=city.grid.pk).boundary == original
