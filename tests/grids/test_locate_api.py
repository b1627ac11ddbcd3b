from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from accounts.models import User
from tests.conftest import City
from tests.factories import BuildingFactory, EntranceFactory

URL = "/api/v1/locate"


def test_it_returns_the_grid_its_path_and_the_nearest_building(
    client: Client, city: City, worker: User
) -> None:
    building = BuildingFactory(grid=city.grid, number="25", name="25号楼", lng=117.175, lat=39.105)
    client.force_login(worker)
    response = client.get(URL, {"lng": "117.1751", "lat": "39.1051"})
    assert response.status_code == 200
    body = response.json()
    assert body["grid"]["code"] == city.grid.code
    assert [p["name"] for p in body["path"]] == [
        "天津市", "南开区", "万兴街道", "天大北五村社区", "第六网格"
    ]
    assert [p["level"] for p in body["path"]] == ["city", "district", "street", "community", "grid"]
    assert body["building"]["id"] == building.pk and body["building"]["name"] == "25号楼"


def test_it_answers_404_with_a_chinese_reason_outside_every_grid(
    client: Client, city: City, worker: User
) -> None:
    client.force_login(worker)
    response = client.get(URL, {"lng": "100", "lat": "30"})
    assert response.status_code == 404
    assert "不在任何网格内" in response.json()["error"]


def test_it_refuses_anonymous_users(client: Client, city: City) -> None:
    response = client.get(URL, {"lng": "117.175", "lat": "39.105"})
    assert response.status_code == 401
    assert response.json()["error"] == "请先登录"


def test_it_answers_400_for_bad_coordinates(client: Client, city: City, worker: User) -> None:
    client.force_login(worker)
    for params in ({"lng": "abc", "lat": "39"}, {"lng": "117"}, {"lng": "nan", "lat": "39"},
                   {"lng": "200", "lat": "39"}):
        response = client.get(URL, params)
        assert response.status_code == 400
        assert "经纬度" in response.json()["error"]


def test_it_costs_a_fixed_number_of_queries(
    client: Client, city: City, worker: User, django_assert_num_queries
) -> None:
    client.force_login(worker)
    client.get(URL, {"lng": "117.175", "lat": "39.105"})  # builds the index
    # session, user, geo stamp, the user's assignments (scope), grid row in scope, grid path
    with django_assert_num_queries(6):
        client.get(URL, {"lng": "117.175", "lat": "39.105"})


def test_it_answers_404_for_a_grid_of_another_street(
    client: Client, city: City, other_street_staff: User
) -> None:
    client.force_login(other_street_staff)

    response = client.get(URL, {"lng": "117.175", "lat": "39.105"})  # 万兴街道's 第六网格

    assert response.status_code == 404
    assert response.json() == {"error": "该位置不在您负责的区域内，请确认位置或联系所在网格中心"}


def test_it_answers_404_to_a_user_with_no_role(
    client: Client, city: City, outsider: User
) -> None:
    client.force_login(outsider)

    response = client.get(URL, {"lng": "117.175", "lat": "39.105"})

    assert response.status_code == 404
    assert "第六网格" not in response.content.decode()


def test_it_answers_for_a_grid_inside_the_street_of_street_staff(
    client: Client, city: City, street_staff: User
) -> None:
    client.force_login(street_staff)

    response = client.get(URL, {"lng": "117.185", "lat": "39.105"})

    assert response.status_code == 200
    assert response.json()["grid"]["code"] == city.neighbour_grid.code


def test_it_returns_the_nearest_entrance_of_the_nearest_building(
    client: Client, city: City, worker: User
) -> None:
    b25 = BuildingFactory(grid=city.grid, number="25", name="25号楼", lng=117.175, lat=39.105)
    EntranceFactory(building=b25, number="1", name="1门", lng=117.1745, lat=39.105)
    third = EntranceFactory(building=b25, number="3", name="3门", lng=117.1756, lat=39.105)
    EntranceFactory(building=b25, number="2", name="2门")  # no position yet
    client.force_login(worker)

    body = client.get(URL, {"lng": "117.1757", "lat": "39.1050"}).json()

    assert body["entrance"]["id"] == third.pk and body["entrance"]["name"] == "3门"
    assert body["entrance"]["distance_m"] < 10
    assert [e["name"] for e in body["entrances"]] == ["1门", "2门", "3门"]


def test_it_lists_the_entrances_to_choose_from_when_none_has_a_position(
    client: Client, city: City, worker: User
) -> None:
    b25 = BuildingFactory(grid=city.grid, number="25", name="25号楼", lng=117.175, lat=39.105)
    for n in ("1", "2"):
        EntranceFactory(building=b25, number=n, name=f"{n}门")
    client.force_login(worker)

    body = client.get(URL, {"lng": "117.175", "lat": "39.105"}).json()

    assert body["entrance"] is None
    assert [e["name"] for e in body["entrances"]] == ["1门", "2门"]


def test_it_answers_no_entrances_without_a_building(
    client: Client, city: City, worker: User
) -> None:
    client.force_login(worker)
    body = client.get(URL, {"lng": "117.175", "lat": "39.105"}).json()
    assert body["building"] is None and body["entrance"] is None and body["entrances"] == []


@pytest.mark.parametrize("n", [3, 6])
def test_it_costs_one_more_query_for_the_entrances_at_n_and_2n(
    client: Client, city: City, worker: User, django_assert_num_queries: Any, n: int
) -> None:
    b25 = BuildingFactory(grid=city.grid, number="25", name="25号楼", lng=117.175, lat=39.105)
    for i in range(n):
        EntranceFactory(building=b25, number=str(i), lng=117.175 + i / 10_000, lat=39.105)
    client.force_login(worker)
    client.get(URL, {"lng": "117.175", "lat": "39.105"})  # builds the index
    # session, user, geo stamp, scope, grid row in scope, grid path, the building's entrances
    with django_assert_num_queries(7):
        body = client.get(URL, {"lng": "117.175", "lat": "39.105"}).json()
    assert len(body["entrances"]) == n
