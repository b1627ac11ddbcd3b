import pytest
from django.core.exceptions import ValidationError

from grids import services, tree
from grids.models import GeoStamp, Role
from tests.conftest import City
from tests.factories import UserFactory
from tests.grids.test_importer import spy_on_lock


def test_it_refuses_a_grid_worker_assigned_to_a_street(city: City) -> None:
    user = UserFactory()
    with pytest.raises(ValidationError, match="网格员 只能分配到网格一级"):
        services.assignment_grant(user=user, role=Role.GRID_WORKER, region=city.street)
    assert not user.assignments.exists()


def test_it_refuses_a_department_attached_to_a_community(city: City) -> None:
    with pytest.raises(ValidationError, match="处置部门只能设在市、区或街道"):
        services.department_upsert(code="DX", name="社区部门", region=city.community)


def test_it_moves_the_geo_stamp_when_a_building_is_added(city: City) -> None:
    before = GeoStamp.objects.get(key="grids").version
    services.building_upsert(
        grid=city.grid, code="B25", number="25", name="25号楼", lng=117.175, lat=39.105
    )
    assert GeoStamp.objects.get(key="grids").version == before + 1


def test_it_refuses_a_building_outside_a_grid_level(city: City) -> None:
    with pytest.raises(ValidationError, match="楼栋只能属于网格"):
        services.building_upsert(
            grid=city.community, code="B1", number="1", name="1号楼", lng=117.1, lat=39.1
        )


def test_it_repairs_a_boundary_before_taking_the_tree_lock(
    city: City, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen = spy_on_lock(monkeypatch, tree)
    bow_tie = {
        "type": "Polygon",
        "coordinates": [[[117.5, 39.5], [117.51, 39.51], [117.51, 39.5], [117.5, 39.51],
                         [117.5, 39.5]]],
    }

    updated = tree.region_update(city.other_grid, boundary=bow_tie)

    assert updated.boundary["type"] == "MultiPolygon"
    assert seen == [False]
