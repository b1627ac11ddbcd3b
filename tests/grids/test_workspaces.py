"""The role-aware home and the per-role workspace pages (/work/<role>/)."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from pytest_django import DjangoAssertNumQueries

from accounts.models import User
from grids.models import Region, Role
from tests.conftest import City
from tests.factories import BuildingFactory, EntranceFactory, assign, make_region, square


def _page(client: Client, user: User, role: str) -> tuple[str, dict[str, Any]]:
    client.force_login(user)
    response = client.get(reverse("grids:workspace", kwargs={"role": role}))
    assert response.status_code == 200
    html = response.content.decode()
    match = re.search(r'<script id="ws-geojson" type="application/json">(.*?)</script>', html)
    assert match is not None
    return html, json.loads(match.group(1))


def _names(geojson: dict[str, Any], kind: str | None = None) -> set[str]:
    return {
        f["properties"]["name"]
        for f in geojson["features"]
        if kind is None or f["properties"]["kind"] == kind
    }


@pytest.mark.parametrize(
    ("persona", "role"),
    [
        ("worker", Role.GRID_WORKER),
        ("street_staff", Role.STREET_STAFF),
        ("district_staff", Role.DISTRICT_STAFF),
        ("handler", Role.HANDLER),
        ("leader", Role.LEADER),
    ],
)
def test_it_sends_each_role_home_to_its_own_workspace(
    client: Client, request: pytest.FixtureRequest, persona: str, role: str
) -> None:
    client.force_login(request.getfixturevalue(persona))
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"] == f"/work/{role}/"


def test_it_sends_a_person_with_no_role_to_an_explanation(client: Client, outsider: User) -> None:
    client.force_login(outsider)
    response = client.get("/", follow=True)
    assert response.status_code == 403
    assert "尚未分配岗位" in response.content.decode()


def test_it_sends_an_administrator_to_the_admin(client: Client, admin_user: User) -> None:
    client.force_login(admin_user)
    assert client.get("/")["Location"] == reverse("admin:index")
    assert client.get("/work/admin/")["Location"] == reverse("admin:index")


def test_it_asks_an_anonymous_visitor_to_log_in(client: Client, city: City) -> None:
    response = client.get("/work/grid_worker/")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))
    assert "next=/work/grid_worker/" in response["Location"]


def test_it_refuses_a_workspace_of_a_role_the_user_does_not_hold(
    client: Client, worker: User
) -> None:
    client.force_login(worker)
    response = client.get("/work/street_staff/")
    assert response.status_code == 403
    html = response.content.decode()
    assert "无权访问" in html
    assert 'href="/work/grid_worker/"' in html
    assert "万兴街道" not in html


def test_it_says_404_for_an_unknown_role(client: Client, worker: User) -> None:
    client.force_login(worker)
    assert client.get("/work/mayor/").status_code == 404


def test_it_titles_the_grid_workspace_with_the_role_and_the_path(
    client: Client, worker: User
) -> None:
    html, _geojson = _page(client, worker, Role.GRID_WORKER)
    assert "网格员 · 南开区 › 万兴街道 › 天大北五村社区 › 第六网格" in html


def test_it_gives_the_grid_worker_their_own_grid_not_the_neighbours(
    client: Client, worker: User, city: City
) -> None:
    html, geojson = _page(client, worker, Role.GRID_WORKER)
    own = [f for f in geojson["features"] if f["properties"]["kind"] == "own"]
    assert [f["properties"]["code"] for f in own] == [city.grid.code]
    assert own[0]["geometry"] == city.grid.boundary
    assert "第五网格" not in _names(geojson)
    assert "第五网格" not in html


def test_it_shows_the_street_its_communities_and_not_another_streets(
    client: Client, street_staff: User, other_street_staff: User, city: City
) -> None:
    html, geojson = _page(client, street_staff, Role.STREET_STAFF)
    assert "街道网格中心 · 南开区 › 万兴街道" in html
    assert "天大北五村社区" in html
    assert _names(geojson, "own") == {"万兴街道"}
    assert _names(geojson, "child") == {"天大北五村社区"}
    for elsewhere in ("新兴街道", "朝阳里社区", "和平区", "第一网格"):
        assert elsewhere not in html
        assert elsewhere not in _names(geojson)


def test_it_shows_the_other_street_only_its_own_side(
    client: Client, street_staff: User, other_street_staff: User
) -> None:
    html, geojson = _page(client, other_street_staff, Role.STREET_STAFF)
    assert _names(geojson) == {"新兴街道", "朝阳里社区"}
    assert "万兴街道" not in html
    assert "天大北五村社区" not in html


def test_it_counts_what_is_under_the_street(
    client: Client, street_staff: User, city: City
) -> None:
    building = BuildingFactory(grid=city.grid, number="1", name="1号楼")
    EntranceFactory(building=building, number="1")
    EntranceFactory(building=building, number="2")
    BuildingFactory(grid=city.other_grid, number="9", name="9号楼")
    client.force_login(street_staff)
    response = client.get("/work/street_staff/")
    ws = response.context["ws"]
    assert {row.label: row.count for row in ws.level_counts} == {"社区": 1, "网格": 2}
    assert (ws.building_count, ws.entrance_count) == (1, 2)


def test_it_lists_the_grid_workers_buildings_as_text_and_points(
    client: Client, worker: User, city: City
) -> None:
    building = BuildingFactory(grid=city.grid, number="3", name="3号楼", lng=117.175, lat=39.105)
    EntranceFactory(building=building, number="1")
    BuildingFactory(grid=city.neighbour_grid, number="4", name="4号楼", lng=117.185, lat=39.105)
    html, geojson = _page(client, worker, Role.GRID_WORKER)
    assert "3号楼" in html
    assert "4号楼" not in html
    points = [f for f in geojson["features"] if f["properties"]["kind"] == "building"]
    assert [p["geometry"]["coordinates"] for p in points] == [[117.175, 39.105]]


def test_it_shows_the_handler_their_department_and_its_region(
    client: Client, handler: User, city: City
) -> None:
    html, geojson = _page(client, handler, Role.HANDLER)
    assert "处置部门 · 南开区城管委（南开区）" in html
    assert _names(geojson, "own") == {"南开区"}
    assert "万兴街道" in _names(geojson, "child")
    assert "和平区城管委" not in html
    assert "和平区" not in _names(geojson)


def test_it_shows_the_district_its_departments_only(
    client: Client, district_staff: User
) -> None:
    html, _geojson = _page(client, district_staff, Role.DISTRICT_STAFF)
    assert "南开区城管委" in html
    assert "和平区城管委" not in html


def test_it_links_the_workspaces_of_a_person_with_several_roles(
    client: Client, worker: User, city: City
) -> None:
    assign(worker, Role.LEADER, region=city.street)
    html, _geojson = _page(client, worker, Role.LEADER)
    assert '<a href="/work/grid_worker/">网格员</a>' in html
    assert '<a href="/work/leader/" aria-current="page">领导</a>' in html
    assert "领导 · 南开区 › 万兴街道" in html


def test_it_shows_no_role_switch_to_a_person_with_one_role(client: Client, worker: User) -> None:
    html, _geojson = _page(client, worker, Role.GRID_WORKER)
    assert "切换岗位" not in html


def test_it_keeps_one_roles_regions_out_of_another_roles_workspace(
    client: Client, worker: User, city: City
) -> None:
    assign(worker, Role.LEADER, region=city.other_street)
    _html, geojson = _page(client, worker, Role.GRID_WORKER)
    assert _names(geojson) == {"第六网格"}


def test_it_gives_the_map_an_accessible_name_and_a_text_summary(
    client: Client, street_staff: User
) -> None:
    html, _geojson = _page(client, street_staff, Role.STREET_STAFF)
    assert 'aria-label="万兴街道 的边界地图"' in html
    assert '<table class="counts">' in html
    assert "vendor/leaflet-1.9.4/leaflet.js" in html


def test_it_passes_an_empty_tile_url_when_no_tile_server_is_configured(
    client: Client, worker: User, settings: Any
) -> None:
    settings.MAP_TILE_URL = ""
    html, _geojson = _page(client, worker, Role.GRID_WORKER)
    match = re.search(r'<script id="map-config" type="application/json">(.*?)</script>', html)
    assert match is not None
    assert json.loads(match.group(1))["tileUrl"] == ""


def _grow(city: City, grids: int) -> Region:
    """``grids`` more grids in a new community of 万兴街道, each with a building and entrance."""
    community = make_region(city.street, "新建社区")
    for i in range(grids):
        grid = make_region(community, f"扩展网格{i}", boundary=square(117.20 + i * 0.01, 39.20))
        building = BuildingFactory(grid=grid, number="1")
        EntranceFactory(building=building, number="1")
    return community


@pytest.mark.parametrize("grids", [3, 6])
def test_it_renders_the_street_workspace_in_a_fixed_number_of_queries(
    client: Client, street_staff: User, city: City, grids: int,
    django_assert_num_queries: DjangoAssertNumQueries,
) -> None:
    _grow(city, grids)
    client.force_login(street_staff)
    # 1 session, 2 user, 3 assignments (scope), 4 ancestors for the title,
    # 5 own regions + children with boundaries, 6 sub-regions counted by level,
    # 7 buildings and entrances counted, 8 departments in scope, 9 unread notices (bell).
    with django_assert_num_queries(9):
        response = client.get("/work/street_staff/")
    assert response.status_code == 200
    assert len(response.context["ws"].children) == 2


@pytest.mark.parametrize("grids", [3, 6])
def test_it_renders_the_grid_head_workspace_in_a_fixed_number_of_queries(
    client: Client, city: City, grids: int, django_assert_num_queries: DjangoAssertNumQueries,
) -> None:
    community = _grow(city, grids)
    head = User.objects.create_user("head", password="pw-123456")
    assign(head, Role.GRID_HEAD, region=community)
    client.force_login(head)
    # 1 session, 2 user, 3 assignments (scope), 4 ancestors for the title,
    # 5 own regions + children with boundaries, 6 sub-regions counted by level,
    # 7 buildings and entrances counted, 8 buildings listed with their entrance counts,
    # 9 unread notices (bell).
    with django_assert_num_queries(9):
        response = client.get("/work/grid_head/")
    assert response.status_code == 200
    assert len(response.context["ws"].buildings) == grids
