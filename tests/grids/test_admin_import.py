from __future__ import annotations

import json
from typing import Any

from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from accounts.models import User
from grids.models import Region, Role
from tests.conftest import City
from tests.factories import UserFactory, assign, square

URL = "/admin/grids/region/import/"

BOW_TIE = {
    "type": "Polygon",
    "coordinates": [
        [[117.3, 39.3], [117.31, 39.31], [117.31, 39.3], [117.3, 39.31], [117.3, 39.3]]
    ],
}


def feature(code: str, name: str, level: str, parent: str | None,
            geometry: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "type": "Feature",
        "properties": {"code": code, "name": name, "level": level, "parent_code": parent},
        "geometry": geometry,
    }


def upload(*features: dict[str, Any]) -> SimpleUploadedFile:
    body = json.dumps({"type": "FeatureCollection", "features": list(features)})
    return SimpleUploadedFile("regions.geojson", body.encode("utf-8"), "application/geo+json")


def good_file() -> SimpleUploadedFile:
    return upload(
        feature("T120104001002", "新社区", "community", "T120104001"),
        feature("T120104001002001", "蝴蝶网格", "grid", "T120104001002", BOW_TIE),
    )


def staff(username: str, *perms: str) -> User:
    user = UserFactory(username=username, is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(codename__in=perms))
    return user


def test_it_shows_the_upload_form(client: Client, admin_user: User) -> None:
    client.force_login(admin_user)

    response = client.get(URL)

    assert response.status_code == 200
    body = response.content.decode()
    assert 'type="file"' in body and "先预检不写入" in body
    assert "INVALID_TEMPLATE_VARIABLE" not in body


def test_it_imports_and_reports_counts_and_warnings(
    client: Client, admin_user: User, city: City
) -> None:
    client.force_login(admin_user)

    response = client.post(URL, {"file": good_file()}, follow=True)

    assert Region.objects.filter(code="T120104001002001").exists()
    texts = [str(m) for m in response.context["messages"]]
    assert "导入完成：新建 2，更新 0，未变 0" in texts
    assert any(t.startswith("T120104001002001：边界无效") for t in texts)


def test_it_checks_without_writing_on_a_dry_run(
    client: Client, admin_user: User, city: City
) -> None:
    client.force_login(admin_user)

    response = client.post(URL, {"file": good_file(), "dry_run": "on"}, follow=True)

    assert not Region.objects.filter(code="T120104001002").exists()
    texts = [str(m) for m in response.context["messages"]]
    assert "预检通过，未写入：将新建 2，更新 0，未变 0" in texts


def test_it_lists_every_error_and_changes_nothing(
    client: Client, admin_user: User, city: City
) -> None:
    client.force_login(admin_user)
    count = Region.objects.count()
    bad = upload(
        feature("T120104001002", "好社区", "community", "T120104001"),
        feature("T120104001003001", "越级网格", "grid", "T120104001", square(117.3, 39.3)),
        feature("T120199", "孤区", "district", "T999999"),
    )

    response = client.post(URL, {"file": bad})

    assert response.status_code == 200
    assert response.context["errors"] == [
        "T120104001003001：网格不能位于街道之下（上级应为社区）",
        "T120199：上级代码 T999999 不存在",
    ]
    body = response.content.decode()
    assert "T120199：上级代码 T999999 不存在" in body
    assert "INVALID_TEMPLATE_VARIABLE" not in body
    assert Region.objects.count() == count


def test_it_reports_a_file_that_is_not_json(client: Client, admin_user: User) -> None:
    client.force_login(admin_user)
    junk = SimpleUploadedFile("x.geojson", b"PK\x03\x04 zip?", "application/zip")

    response = client.post(URL, {"file": junk})

    assert response.status_code == 200
    assert response.context["errors"][0].startswith("文件不是")


def test_it_refuses_staff_without_the_add_region_permission(
    client: Client, city: City
) -> None:
    client.force_login(staff("clerk", "view_region", "change_region"))

    assert client.get(URL).status_code == 403
    assert client.post(URL, {"file": good_file()}).status_code == 403
    assert not Region.objects.filter(code="T120104001002").exists()


def test_it_sends_a_non_staff_user_to_the_admin_login(client: Client, outsider: User) -> None:
    client.force_login(outsider)

    response = client.get(URL)

    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_it_lets_staff_with_add_region_import_inside_their_scope_only(
    client: Client, city: City
) -> None:
    user = staff("importer", "add_region", "change_region", "view_region")
    assign(user, Role.DISTRICT_STAFF, region=city.district)  # 南开区
    client.force_login(user)
    outside = upload(feature("T120101001009", "越权社区", "community", "T120101001"))

    inside_response = client.post(URL, {"file": good_file()})
    outside_response = client.post(URL, {"file": outside})

    assert inside_response.status_code == 302
    assert Region.objects.filter(code="T120104001002").exists()
    assert outside_response.context["errors"] == [
        "T120101001009：T120101001 不在您的管辖范围内"
    ]
    assert not Region.objects.filter(code="T120101001009").exists()
