"""The admin for regions, buildings, departments and assignments: scope and tree rules."""

from __future__ import annotations

import json
from typing import Any
from unittest import mock

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse

from accounts.models import User
from grids import services
from grids.models import Assignment, Building, Department, Entrance, GeoStamp, Region, Role
from tests.conftest import City
from tests.factories import BuildingFactory, make_region, square

BOW_TIE = {
    "type": "Polygon",
    "coordinates": [[[117.17, 39.10], [117.18, 39.11], [117.18, 39.10], [117.17, 39.11],
                     [117.17, 39.10]]],
}


def make_staff(user: User, *codenames: str) -> User:
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    return User.objects.get(pk=user.pk)  # fresh: no cached permissions or scope


def login(client: Client, user: User) -> Client:
    client.force_login(user)
    return client


def region_form(region: Region | None = None, **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"parent": "", "code": "", "name": "", "boundary": ""}
    if region is not None:
        data.update(
            parent=region.parent_id or "",
            code=region.code,
            name=region.name,
            boundary=json.dumps(region.boundary) if region.boundary else "",
        )
    data.update(overrides)
    return data


def changelist_names(client: Client) -> str:
    response = client.get(reverse("admin:grids_region_changelist"))
    assert response.status_code == 200
    return response.content.decode()


# --- scope -----------------------------------------------------------------------------


def test_it_shows_street_staff_only_their_streets_regions(
    client: Client, city: City, street_staff: User
) -> None:
    staff = make_staff(street_staff, "view_region")

    page = changelist_names(login(client, staff))

    for name in ("万兴街道", "天大北五村社区", "第六网格", "第五网格"):
        assert f">{name}</a>" in page  # a row of the list, not the user's own title
    for name in ("新兴街道", "朝阳里社区", "和平区", "第一网格", "天津市"):
        assert name not in page


def test_it_shows_a_superuser_every_region(client: Client, city: City, admin_user: User) -> None:
    page = changelist_names(login(client, admin_user))

    for name in ("天津市", "万兴街道", "新兴街道", "和平区", "第一网格"):
        assert f">{name}</a>" in page


@pytest.mark.parametrize("attr", ["other_street", "other_grid", "other_district", "district"])
def test_it_hides_change_pages_of_regions_outside_scope(
    client: Client, city: City, street_staff: User, attr: str
) -> None:
    staff = make_staff(street_staff, "view_region", "change_region")
    region = getattr(city, attr)

    response = login(client, staff).get(
        reverse("admin:grids_region_change", args=[region.pk])
    )

    # Django's admin answers "does not exist" with a redirect to the index.
    assert response.status_code == 302
    assert region.name not in client.get(response.url).content.decode()


def test_it_refuses_staff_without_region_permission(
    client: Client, city: City, street_staff: User
) -> None:
    staff = make_staff(street_staff)

    response = login(client, staff).get(reverse("admin:grids_region_changelist"))

    assert response.status_code == 403


def test_it_sends_non_staff_to_the_login_page(client: Client, city: City, worker: User) -> None:
    response = login(client, worker).get(reverse("admin:grids_region_changelist"))

    assert response.status_code == 302
    assert reverse("admin:login") in response.url


def _autocomplete(client: Client, model: str, field: str, term: str = "") -> list[str]:
    response = client.get(
        reverse("admin:autocomplete"),
        {"app_label": "grids", "model_name": model, "field_name": field, "term": term},
    )
    assert response.status_code == 200
    return [row["text"] for row in response.json()["results"]]


def test_it_offers_only_visible_non_grid_parents(
    client: Client, city: City, street_staff: User
) -> None:
    staff = make_staff(street_staff, "view_region", "add_region")

    texts = " ".join(_autocomplete(login(client, staff), "region", "parent"))

    assert "万兴街道" in texts and "天大北五村社区" in texts
    assert "新兴街道" not in texts and "朝阳里社区" not in texts and "和平区" not in texts
    assert "网格" not in texts  # a grid can never be a parent


def test_it_offers_only_visible_grids_for_a_building(
    client: Client, city: City, street_staff: User
) -> None:
    staff = make_staff(street_staff, "view_region", "add_building")

    texts = " ".join(_autocomplete(login(client, staff), "building", "grid", "网格"))

    assert "第六网格" in texts and "第五网格" in texts
    assert "第一网格" not in texts


def test_it_refuses_a_forged_parent_from_another_street(
    client: Client, city: City, street_staff: User
) -> None:
    staff = make_staff(street_staff, "view_region", "add_region")
    before = Region.objects.count()

    response = login(client, staff).post(
        reverse("admin:grids_region_add"),
        region_form(parent=city.other_community.pk, code="T120101001001009", name="伪造网格"),
    )

    assert response.status_code == 200
    assert "parent" in response.context["adminform"].form.errors
    assert Region.objects.count() == before


def test_it_refuses_a_forged_grid_for_a_building(
    client: Client, city: City, street_staff: User
) -> None:
    staff = make_staff(street_staff, "view_building", "add_building")

    response = login(client, staff).post(
        reverse("admin:grids_building_add"),
        {
            "grid": city.other_grid.pk, "code": "B-X", "number": "1", "name": "1号楼",
            "lng": "117.195", "lat": "39.125",
            "entrances-TOTAL_FORMS": "0", "entrances-INITIAL_FORMS": "0",
        },
    )

    assert response.status_code == 200
    assert "grid" in response.context["adminform"].form.errors
    assert not Building.objects.filter(code="B-X").exists()


def test_it_lists_only_buildings_inside_scope(
    client: Client, city: City, street_staff: User
) -> None:
    BuildingFactory(grid=city.grid, name="万兴一号楼")
    BuildingFactory(grid=city.other_grid, name="新兴一号楼")
    staff = make_staff(street_staff, "view_building")

    page = login(client, staff).get(reverse("admin:grids_building_changelist")).content.decode()

    assert "万兴一号楼" in page
    assert "新兴一号楼" not in page


def test_it_lists_only_assignments_inside_scope(
    client: Client, city: City, street_staff: User, worker: User, other_street_staff: User
) -> None:
    staff = make_staff(street_staff, "view_assignment")

    page = login(client, staff).get(reverse("admin:grids_assignment_changelist")).content.decode()

    assert "张鑫" in page
    assert "新兴街道网格中心" not in page


def test_it_does_not_draw_other_streets_on_the_map(
    client: Client, city: City, street_staff: User
) -> None:
    """The map's grey context shows siblings, but only those the editor may see."""
    make_region(city.district, "南开第二街道", "T120104002", square(117.30, 39.20))
    staff = make_staff(street_staff, "view_region", "change_region")

    grid_page = login(client, staff).get(
        reverse("admin:grids_region_change", args=[city.grid.pk])
    ).content.decode()
    street_page = client.get(
        reverse("admin:grids_region_change", args=[city.street.pk])
    ).content.decode()

    # json_script escapes non-ASCII names, so look for the codes.
    assert '"code": "T120104001001005"' in grid_page  # the sibling grid, in grey
    assert "T120104002" not in street_page


# --- tree rules through the admin -------------------------------------------------------


def test_it_creates_a_region_one_level_below_its_parent(
    client: Client, city: City, admin_user: User
) -> None:
    response = login(client, admin_user).post(
        reverse("admin:grids_region_add"),
        region_form(parent=city.community.pk, code="T120104001001007", name="第七网格",
                    boundary=json.dumps(square(117.19, 39.10))),
    )

    assert response.status_code == 302
    region = Region.objects.get(code="T120104001001007")
    assert region.level == 4 and region.parent == city.community
    assert region.centroid_lng == pytest.approx(117.195)


def test_it_refuses_a_grid_as_parent(client: Client, city: City, admin_user: User) -> None:
    before = Region.objects.count()

    response = login(client, admin_user).post(
        reverse("admin:grids_region_add"),
        region_form(parent=city.grid.pk, code="T1201040010010061", name="网格下的网格"),
    )

    assert response.status_code == 200
    assert "网格之下不能再设下级区划" in response.content.decode()
    assert Region.objects.count() == before


def test_it_moves_a_region_when_its_parent_changes(
    client: Client, city: City, admin_user: User
) -> None:
    response = login(client, admin_user).post(
        reverse("admin:grids_region_change", args=[city.grid.pk]),
        region_form(city.grid, parent=city.other_community.pk),
    )

    assert response.status_code == 302
    moved = Region.objects.get(pk=city.grid.pk)
    assert moved.parent_id == city.other_community.pk and moved.level == 4
    assert moved.is_descendant_of(Region.objects.get(pk=city.other_street.pk))


def test_it_refuses_a_move_that_breaks_the_level_rule(
    client: Client, city: City, admin_user: User
) -> None:
    response = login(client, admin_user).post(
        reverse("admin:grids_region_change", args=[city.grid.pk]),
        region_form(city.grid, parent=city.other_street.pk),
    )

    assert response.status_code == 200
    assert "上级必须是社区" in response.content.decode()
    assert Region.objects.get(pk=city.grid.pk).parent_id == city.community.pk


def test_it_lets_street_staff_save_their_street(
    client: Client, city: City, street_staff: User
) -> None:
    """The street's parent (the district) is outside their scope but stays a valid choice."""
    staff = make_staff(street_staff, "view_region", "change_region")

    response = login(client, staff).post(
        reverse("admin:grids_region_change", args=[city.street.pk]),
        region_form(city.street, name="万兴街道办事处"),
    )

    assert response.status_code == 302
    assert Region.objects.get(pk=city.street.pk).name == "万兴街道办事处"


def test_it_saves_a_bow_tie_boundary_with_a_warning(
    client: Client, city: City, admin_user: User
) -> None:
    before = GeoStamp.objects.get(key="grids").version

    response = login(client, admin_user).post(
        reverse("admin:grids_region_change", args=[city.grid.pk]),
        region_form(city.grid, boundary=json.dumps(BOW_TIE)),
        follow=True,
    )

    page = response.content.decode()
    assert "已自动修复" in page
    grid = Region.objects.get(pk=city.grid.pk)
    assert grid.boundary["type"] == "MultiPolygon"
    assert GeoStamp.objects.get(key="grids").version == before + 1


@pytest.mark.parametrize(
    ("boundary", "message"),
    [
        ("{not json", "边界不是有效的 JSON"),
        (json.dumps({"type": "Point", "coordinates": [117.1, 39.1]}), "Polygon 或 MultiPolygon"),
        (json.dumps(square(200.0, 39.1)), "超出经纬度范围"),
        # 1,000 nested arrays answered 500 (RecursionError); the region import refused them.
        ("[" * 1000 + "]" * 1000, "边界嵌套层数过多"),
        ('{"type": "Polygon", "coordinates": ' + "[" * 1000 + "]" * 1000 + "}",
         "边界嵌套层数过多"),
        ("{" + '"a":{' * 1000 + "}" * 1001, "边界嵌套层数过多"),
    ],
)
def test_it_explains_a_bad_boundary_in_chinese(
    client: Client, city: City, admin_user: User, boundary: str, message: str
) -> None:
    original = city.grid.boundary

    response = login(client, admin_user).post(
        reverse("admin:grids_region_change", args=[city.grid.pk]),
        region_form(city.grid, boundary=boundary),
    )

    assert response.status_code == 200
    assert message in response.content.decode()
    assert Region.objects.get(pk=city.grid.pk).boundary == original


def test_it_accepts_a_pasted_feature(client: Client, city: City, admin_user: User) -> None:
    # West of 第六网格's old place: overlapping 第五网格 would be refused.
    feature = {"type": "Feature", "properties": {}, "geometry": square(117.16, 39.10)}

    response = login(client, admin_user).post(
        reverse("admin:grids_region_change", args=[city.grid.pk]),
        region_form(city.grid, boundary=json.dumps(feature)),
    )

    assert response.status_code == 302
    boundary = Region.objects.get(pk=city.grid.pk).boundary
    assert boundary["type"] == "Polygon"
    assert boundary["coordinates"][0][2] == [117.17, 39.11]


def test_it_clears_a_boundary(client: Client, city: City, admin_user: User) -> None:
    response = login(client, admin_user).post(
        reverse("admin:grids_region_change", args=[city.grid.pk]),
        region_form(city.grid, boundary=""),
    )

    assert response.status_code == 302
    grid = Region.objects.get(pk=city.grid.pk)
    assert grid.boundary is None and grid.centroid_lng is None


def test_it_deletes_a_leaf_region(client: Client, city: City, admin_user: User) -> None:
    leaf = make_region(city.community, "待删网格", "T120104001001099")

    response = login(client, admin_user).post(
        reverse("admin:grids_region_delete", args=[leaf.pk]), {"post": "yes"}
    )

    assert response.status_code == 302
    assert not Region.objects.filter(pk=leaf.pk).exists()


def test_it_refuses_to_delete_a_region_with_children(
    client: Client, city: City, admin_user: User
) -> None:
    response = login(client, admin_user).post(
        reverse("admin:grids_region_delete", args=[city.community.pk]), {"post": "yes"}
    )

    assert response.status_code == 200  # the "cannot delete, protected" page
    assert Region.objects.filter(pk=city.community.pk).exists()


def test_it_offers_no_bulk_delete_for_regions(
    client: Client, city: City, admin_user: User
) -> None:
    response = login(client, admin_user).get(reverse("admin:grids_region_changelist"))

    actions = [name for name, _label in response.context["action_form"].fields["action"].choices]
    assert "delete_selected" not in actions


# --- pages ------------------------------------------------------------------------------


def test_it_links_import_and_export_from_the_region_list(
    client: Client, city: City, admin_user: User
) -> None:
    page = changelist_names(login(client, admin_user))

    assert reverse("admin:grids_region_import") in page
    assert "导入 GeoJSON" in page
    assert reverse("admin:grids_region_export") in page


def test_it_exports_only_the_visible_tree(
    client: Client, city: City, street_staff: User
) -> None:
    staff = make_staff(street_staff, "view_region")

    response = login(client, staff).get(reverse("admin:grids_region_export"))

    codes = {f["properties"]["code"] for f in json.loads(response.content)["features"]}
    assert codes == {
        "T120104001", "T120104001001", "T120104001001005", "T120104001001006"
    }


def test_it_renders_the_boundary_map(client: Client, city: City, admin_user: User) -> None:
    page = login(client, admin_user).get(
        reverse("admin:grids_region_change", args=[city.grid.pk])
    ).content.decode()

    assert "vendor/leaflet-1.9.4/leaflet.js" in page and "js/boundary-editor.js" in page
    assert 'id="id_boundary_map"' in page
    assert 'id="id_boundary_map_config" type="application/json"' in page
    assert '<textarea name="boundary"' in page


def test_it_shows_an_empty_boundary_box_for_a_new_region(
    client: Client, admin_user: User
) -> None:
    page = login(client, admin_user).get(reverse("admin:grids_region_add")).content.decode()

    assert '<textarea name="boundary"' in page
    assert 'id="id_boundary">\n</textarea>' in page  # empty, not the text "null"


def test_it_titles_the_admin_in_chinese(client: Client, admin_user: User) -> None:
    page = login(client, admin_user).get(reverse("admin:index")).content.decode()

    assert "津治通 管理后台" in page


def test_it_validates_role_against_region_level(
    client: Client, city: City, admin_user: User, outsider: User
) -> None:
    response = login(client, admin_user).post(
        reverse("admin:grids_assignment_add"),
        {"user": outsider.pk, "role": Role.GRID_WORKER, "region": city.street.pk},
    )

    assert response.status_code == 200
    assert "网格员只能分配到网格" in response.content.decode()
    assert not Assignment.objects.filter(user=outsider).exists()


def test_it_keeps_street_staff_from_granting_the_admin_role(
    client: Client, city: City, street_staff: User, worker: User
) -> None:
    staff = make_staff(street_staff, "view_assignment", "add_assignment", "view_user")

    response = login(client, staff).post(
        reverse("admin:grids_assignment_add"),
        {"user": worker.pk, "role": Role.ADMIN, "region": city.grid.pk},
    )

    assert response.status_code == 200
    assert "只有超级管理员可以分配“管理员”角色" in response.content.decode()
    assert not Assignment.objects.filter(user=worker, role=Role.ADMIN).exists()


def test_it_bumps_the_geo_stamp_when_a_building_is_saved(
    client: Client, city: City, admin_user: User
) -> None:
    before = GeoStamp.objects.get(key="grids").version

    response = login(client, admin_user).post(
        reverse("admin:grids_building_add"),
        {
            "grid": city.grid.pk, "code": "B-NEW", "number": "9", "name": "9号楼",
            "lng": "117.175", "lat": "39.105",
            "entrances-TOTAL_FORMS": "0", "entrances-INITIAL_FORMS": "0",
        },
    )

    assert response.status_code == 302
    assert GeoStamp.objects.get(key="grids").version == before + 1


def test_it_hides_the_geo_stamp_from_scoped_staff(
    client: Client, city: City, street_staff: User
) -> None:
    staff = make_staff(street_staff, "view_geostamp")

    response = login(client, staff).get(reverse("admin:grids_geostamp_changelist"))

    assert response.status_code == 403



def _changelist_queries(client: Client) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        response = client.get(reverse("admin:grids_region_changelist"))
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_it_lists_regions_in_a_constant_number_of_queries(
    client: Client, city: City, street_staff: User
) -> None:
    # 8 queries: session, user, user and group permissions, scope (assignments), total
    # and filtered counts, the page's rows with their parents joined.
    staff = make_staff(street_staff, "view_region")
    login(client, staff)
    for n in range(5):
        make_region(city.community, f"加测网格{n}", f"T1201040010010{50 + n}")
    at_n = _changelist_queries(client)
    for n in range(5, 15):
        make_region(city.community, f"加测网格{n}", f"T1201040010010{50 + n}")

    at_2n = _changelist_queries(client)

    assert at_2n == at_n


# --- saves go through grids.services ---------------------------------------------------


def building_form(grid: Region, **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "grid": grid.pk, "code": "B-SVC", "number": "7", "name": "7号楼",
        "lng": "117.175", "lat": "39.105",
        "entrances-TOTAL_FORMS": "0", "entrances-INITIAL_FORMS": "0",
    }
    data.update(overrides)
    return data


def test_the_building_admin_saves_entrances_and_deletes_through_the_service(
    client: Client, city: City, admin_user: User
) -> None:
    login(client, admin_user)
    with mock.patch(
        "grids.services.entrance_save", wraps=services.entrance_save
    ) as entrance_spy:
        created = client.post(reverse("admin:grids_building_add"), building_form(
            city.grid,
            **{"entrances-TOTAL_FORMS": "1", "entrances-0-number": "1",
               "entrances-0-name": "1单元", "entrances-0-lng": "", "entrances-0-lat": ""},
        ))
    building = Building.objects.get(code="B-SVC")
    before = GeoStamp.objects.get(key="grids").version
    with mock.patch(
        "grids.services.building_delete", wraps=services.building_delete
    ) as delete_spy:
        deleted = client.post(
            reverse("admin:grids_building_delete", args=[building.pk]), {"post": "yes"}
        )

    assert created.status_code == 302
    assert [e.name for e in entrance_spy.call_args.kwargs.values()] == ["1单元"]
    assert deleted.status_code == 302
    assert not Building.objects.filter(code="B-SVC").exists()
    assert not Entrance.objects.filter(name="1单元").exists()
    assert GeoStamp.objects.get(key="grids").version == before + 1
    delete_spy.assert_called_once()


def test_the_department_admin_saves_through_the_service(
    client: Client, city: City, admin_user: User
) -> None:
    with mock.patch(
        "grids.services.department_save", wraps=services.department_save
    ) as spy:
        response = login(client, admin_user).post(
            reverse("admin:grids_department_add"),
            {"code": "WX-LH", "name": "万兴街道绿化队", "region": city.street.pk,
             "is_active": "on"},
        )

    assert response.status_code == 302
    assert Department.objects.get(code="WX-LH").region == city.street
    spy.assert_called_once()


def test_the_assignment_admin_grants_and_revokes_through_the_service(
    client: Client, city: City, admin_user: User, outsider: User
) -> None:
    login(client, admin_user)
    with mock.patch(
        "grids.services.assignment_save", wraps=services.assignment_save
    ) as save_spy:
        granted = client.post(
            reverse("admin:grids_assignment_add"),
            {"user": outsider.pk, "role": Role.GRID_WORKER, "region": city.grid.pk},
        )
    assignment = Assignment.objects.get(user=outsider)
    with mock.patch(
        "grids.services.assignment_revoke", wraps=services.assignment_revoke
    ) as revoke_spy:
        revoked = client.post(
            reverse("admin:grids_assignment_delete", args=[assignment.pk]), {"post": "yes"}
        )

    assert (granted.status_code, revoked.status_code) == (302, 302)
    assert assignment.region == city.grid
    assert not Assignment.objects.filter(user=outsider).exists()
    save_spy.assert_called_once()
    revoke_spy.assert_called_once()


def test_the_region_tree_is_indented_by_class_with_no_inline_style(
    client: Client, city: City, admin_user: User
) -> None:
    page = changelist_names(login(client, admin_user))

    assert "style=" not in page
    assert '<span class="tree-indent level-4" aria-hidden="true"></span>第六网格</a>' in page
    assert "css/admin-region-list.css" in page
