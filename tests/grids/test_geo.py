import math
import random
import time
from typing import Any

import pytest
import shapely

from grids import geo, tree
from grids.models import GeoStamp
from tests.conftest import City
from tests.factories import BuildingFactory

# Fixture grids (tests/conftest.py): 第六网格 is [117.17, 117.18] × [39.10, 39.11],
# 第五网格 is [117.18, 117.19] × [39.10, 39.11]; they share the edge lng = 117.18.


def test_it_finds_the_grid_containing_a_point_inside(city: City) -> None:
    hit = geo.get_index().locate(117.175, 39.105)
    assert hit is not None and hit.code == city.grid.code


def test_it_finds_a_grid_for_a_point_on_its_outer_edge(city: City) -> None:
    hit = geo.get_index().locate(117.17, 39.105)
    assert hit is not None and hit.code == city.grid.code


def test_it_gives_a_point_on_a_shared_edge_to_the_grid_with_the_smaller_code(city: City) -> None:
    hit = geo.get_index().locate(117.18, 39.105)
    assert hit is not None and hit.code == min(city.grid.code, city.neighbour_grid.code)


def test_it_answers_none_for_a_point_outside_every_grid(city: City) -> None:
    assert geo.get_index().locate(100.0, 30.0) is None


def test_it_rebuilds_the_index_when_another_process_changes_a_boundary(city: City) -> None:
    index = geo.get_index()
    assert index.locate(117.5, 39.5) is None
    # Simulate another process: the boundary changes and the stamp moves on, while this
    # process still holds its old index in memory.
    tree.region_update(
        city.other_grid,
        boundary={
            "type": "Polygon",
            "coordinates": [[[117.5, 39.5], [117.51, 39.5], [117.51, 39.51], [117.5, 39.5]]],
        },
    )
    assert GeoStamp.objects.get(key="grids").version > index.version
    hit = geo.get_index().locate(117.505, 39.502)
    assert hit is not None and hit.code == city.other_grid.code


def test_it_names_the_nearest_building_of_the_grid(city: City) -> None:
    BuildingFactory(grid=city.grid, number="24", lng=117.171, lat=39.101)
    b25 = BuildingFactory(grid=city.grid, number="25", lng=117.176, lat=39.106)
    tree.bump_geo_stamp()
    index = geo.get_index()
    near = index.nearest_building(city.grid.pk, 117.1761, 39.1061)
    assert near is not None and near.id == b25.pk
    assert near.distance_m < 20


@pytest.mark.parametrize(
    ("boundary", "message"),
    [
        ({"type": "Point", "coordinates": [1, 2]}, "Polygon"),
        ({"type": "Polygon", "coordinates": [[[0, 0], [500, 0], [500, 1], [0, 0]]]}, "超出"),
        ({"type": "Polygon", "coordinates": "x"}, "格式"),
        ({"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [2, 2], [0, 0]]]}, "无法修复"),
    ],
)
def test_it_refuses_boundaries_that_cannot_be_polygons(boundary: dict, message: str) -> None:
    with pytest.raises(geo.BoundaryError, match=message):
        geo.normalize_boundary(boundary)


def test_it_repairs_a_self_intersecting_ring_with_a_warning() -> None:
    bow_tie = {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]}
    result = geo.normalize_boundary(bow_tie)
    assert result.geometry["type"] == "MultiPolygon"
    assert len(result.warnings) == 1 and "已自动修复" in result.warnings[0]


def random_ring(vertices: int, seed: int = 1) -> dict:
    """``shapely.Polygon(random points)``: a ring crossing itself thousands of times."""
    rng = random.Random(seed)
    points = [[117 + rng.random() * 0.01, 39 + rng.random() * 0.01] for _ in range(vertices)]
    return {"type": "Polygon", "coordinates": [[*points, points[0]]]}


def test_it_refuses_a_tangled_400_vertex_ring_within_the_time_budget() -> None:
    # Repairing it took 39 s before (make_valid, under the tree lock); the budget is 2 s.
    started = time.perf_counter()
    with pytest.raises(geo.BoundaryError, match="自相交超过 200 处"):
        geo.normalize_boundary(random_ring(400))
    assert time.perf_counter() - started < 2.5


def test_it_refuses_a_tangled_5000_vertex_ring_within_the_time_budget() -> None:
    started = time.perf_counter()
    with pytest.raises(geo.BoundaryError, match="自相交"):
        geo.normalize_boundary(random_ring(4999))
    assert time.perf_counter() - started < 2.5


def test_it_repairs_a_large_ring_with_a_few_crossings_within_the_time_budget() -> None:
    # A 4,000-vertex circle with 150 pairs of neighbouring vertices swapped: 150 bow ties.
    n = 4000
    points = [
        [117 + 0.01 * math.cos(2 * math.pi * i / n), 39 + 0.01 * math.sin(2 * math.pi * i / n)]
        for i in range(n)
    ]
    for j in range(150):
        i = j * (n // 150) + 1
        points[i], points[i + 1] = points[i + 1], points[i]

    started = time.perf_counter()
    result = geo.normalize_boundary({"type": "Polygon", "coordinates": [[*points, points[0]]]})

    assert time.perf_counter() - started < 2.5
    assert "已自动修复" in result.warnings[0]
    assert shapely.geometry.shape(result.geometry).is_valid


def test_it_refuses_a_boundary_with_more_vertices_than_the_limit(settings: Any) -> None:
    settings.GRID_BOUNDARY_MAX_VERTICES = 100
    ring = random_ring(100)  # 101 positions: the ring closes on its first point

    with pytest.raises(geo.BoundaryError, match="边界有 101 个顶点，超过上限 100 个"):
        geo.normalize_boundary(ring)
