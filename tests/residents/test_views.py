"""Residents pages: scope (404/403), masking, logged full records, query budgets at N and 2N,
registers upload → preview → confirm, exports only for roles allowed to export."""

from __future__ import annotations

import io
import re
from datetime import date
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from openpyxl import Workbook, load_workbook
from PIL import ExifTags, Image

from accounts.models import User
from grids.models import Role
from residents import services
from residents.models import AccessLog, Household, Person, Tag
from residents.registers import COLUMNS
from tests.conftest import City
from tests.factories import BuildingFactory, EntranceFactory, UserFactory, assign
from tests.residents.conftest import Place, id_number, make_household, make_person


def _client(user: User) -> Client:
    c = Client()
    c.force_login(user)
    return c


def _fill(place: Place, n: int, start: int = 0) -> list[Household]:
    out = []
    party = Tag.objects.get(code="party")
    for i in range(start, start + n):
        h = make_household(place.entrance, door=f"{i // 4 + 1}0{i % 4 + 1}", floor=i // 4 + 1)
        p = make_person(h, seq=2 * i + 1, name=f"居民{i}")
        if i % 3 == 0:
            services.person_set_tags(actor=None, person=p, tags={party: None})  # type: ignore[arg-type]
        out.append(h)
    return out


@pytest.mark.parametrize("n", [6, 12])
def test_the_situation_map_runs_in_a_fixed_number_of_queries(
    place: Place, worker: User, city: City, n: int, django_assert_num_queries: Any
) -> None:
    _fill(place, n)
    c = _client(worker)
    url = reverse("residents:map", args=[city.community.pk])
    # session, user, assignments, the bell's unread count, community, buildings,
    # entrances, households, levels
    with django_assert_num_queries(9):
        response = c.get(url)
    html = response.content.decode()
    assert html.count('class="door lv-') == n
    assert html.count('title="党员户"') == (n + 2) // 3
    assert id_number(1) not in html and "居民0" not in html


@pytest.mark.parametrize("n", [5, 10])
def test_the_due_page_runs_in_a_fixed_number_of_queries(
    place: Place, worker: User, n: int, django_assert_num_queries: Any
) -> None:
    _fill(place, n)
    c = _client(worker)
    # session, user, assignments, the bell's unread count, households (+entrance,
    # building, level), members
    with django_assert_num_queries(6):
        response = c.get(reverse("residents:due"))
    assert response.content.decode().count('class="due-item"') == n


def test_a_neighbouring_grid_worker_gets_404_for_a_household_and_a_person(
    place: Place, neighbour_worker: User
) -> None:
    h = make_household(place.entrance)
    p = make_person(h)
    c = _client(neighbour_worker)
    assert c.get(reverse("residents:household", args=[h.pk])).status_code == 404
    assert c.get(reverse("residents:person", args=[p.pk])).status_code == 404
    assert c.post(reverse("residents:person_reveal", args=[p.pk]),
                  {"purpose": "看看"}).status_code == 404
    assert AccessLog.objects.count() == 0


def test_a_department_handler_sees_no_resident_anywhere(
    place: Place, handler: User, city: City
) -> None:
    h = make_household(place.entrance)
    c = _client(handler)
    for url in (reverse("residents:index"), reverse("residents:due"),
                reverse("residents:map", args=[city.community.pk]),
                reverse("residents:household", args=[h.pk]), reverse("residents:registers")):
        assert c.get(url).status_code == 403


def test_lists_show_masked_numbers_and_a_full_view_logs_one_row(
    place: Place, worker: User
) -> None:
    h = make_household(place.entrance)
    p = make_person(h, seq=41, phone="13812345678")
    c = _client(worker)
    page = c.get(reverse("residents:household", args=[h.pk])).content.decode()
    assert "138****5678" in page and id_number(41)[:3] + "*" * 11 + id_number(41)[-4:] in page
    assert "13812345678" not in page and id_number(41) not in page
    response = c.post(reverse("residents:person_reveal", args=[p.pk]),
                      {"purpose": "核实低保申请"}, REMOTE_ADDR="10.1.2.3")
    assert id_number(41) in response.content.decode()
    assert "no-store" in response["Cache-Control"]
    log = AccessLog.objects.get()
    assert (log.user, log.person, log.purpose, log.ip) == (worker, p, "核实低保申请", "10.1.2.3")


def test_a_full_view_without_purpose_shows_nothing_and_logs_nothing(
    place: Place, worker: User
) -> None:
    p = make_person(make_household(place.entrance), seq=43)
    response = _client(worker).post(reverse("residents:person_reveal", args=[p.pk]),
                                    {"purpose": ""})
    assert response.status_code == 400
    assert id_number(43) not in response.content.decode()
    assert AccessLog.objects.count() == 0


def test_recording_a_visit_from_the_phone_form(place: Place, worker: User) -> None:
    h = make_household(place.entrance)
    response = _client(worker).post(reverse("residents:visit_new", args=[h.pk]), {
        "visited_on": date.today().isoformat(), "kind": "home", "situation": "精神不错",
        "needs": "", "wish": "想要一副老花镜",
    })
    assert response.status_code == 302
    h.refresh_from_db()
    assert (h.last_visit_on, h.wishes.get().title) == (date.today(), "想要一副老花镜")


def test_a_visit_dated_tomorrow_is_refused_in_chinese(place: Place, worker: User) -> None:
    h = make_household(place.entrance)
    response = _client(worker).post(reverse("residents:visit_new", args=[h.pk]), {
        "visited_on": date.fromordinal(date.today().toordinal() + 1).isoformat(),
        "kind": "home",
    })
    assert "走访日期不能晚于今天" in response.content.decode()
    assert h.visits.count() == 0


def _sheet(rows: list[list[Any]]) -> io.BytesIO:
    wb = Workbook()
    ws = wb.active
    ws.append(COLUMNS)
    for r in rows:
        ws.append(r)
    out = io.BytesIO()
    wb.save(out)
    out.seek(0)
    out.name = "台账.xlsx"
    return out


def test_upload_preview_then_confirm_writes_the_register(
    place: Place, worker: User, city: City
) -> None:
    c = _client(worker)
    row = ["1", "1", 3, 302, "户主", "王秀兰", "", "", id_number(51), "13800000000", "在住",
           "独居老人", ""]
    response = c.post(reverse("residents:registers"),
                      {"community": city.community.pk, "file": _sheet([row])})
    preview = c.get(response["Location"]).content.decode()
    assert "检查通过" in preview and Person.objects.count() == 0
    c.post(response["Location"])
    assert Person.objects.get().household.door == "302"


def test_export_is_refused_to_a_grid_worker_and_logged_for_street_staff(
    place: Place, worker: User, street_staff: User, city: City
) -> None:
    make_person(make_household(place.entrance), seq=61)
    data = {"community": city.community.pk, "purpose": "年度台账报送"}
    assert _client(worker).post(reverse("residents:export"), data).status_code == 403
    response = _client(street_staff).post(reverse("residents:export"), data)
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet.cell(2, 9).value == id_number(61)
    log = AccessLog.objects.get()
    assert (log.kind, log.user, log.rows) == ("export", street_staff, 1)
    assert log.purpose == "年度台账报送"


def test_the_levels_stylesheet_colours_every_level(worker: User) -> None:
    css = _client(worker).get(reverse("residents:levels_css")).content.decode()
    assert ".lv-1{background:#7f0000;color:#fff" in css and css.count(".lv-") == 7


def test_adding_a_member_with_a_bad_check_digit_is_refused_in_chinese(
    place: Place, worker: User
) -> None:
    h = make_household(place.entrance)
    bad = id_number(71)[:17] + ("0" if id_number(71)[17] != "0" else "1")
    data = {"name": "刘桂英", "relation": "head", "id_number": bad, "phone": "",
            "presence": "here"}
    response = _client(worker).post(reverse("residents:member_add", args=[h.pk]), data)
    assert response.status_code == 400
    assert "身份证号校验位错误" in response.content.decode()
    assert Person.objects.count() == 0
    data["id_number"] = id_number(71)
    _client(worker).post(reverse("residents:member_add", args=[h.pk]), data)
    assert Person.objects.get().birth_date == date(1945, 3, 12)


def test_erasing_a_person_from_the_page_needs_a_confirmation(
    place: Place, worker: User, neighbour_worker: User
) -> None:
    p = make_person(make_household(place.entrance), seq=73)
    url = reverse("residents:person_erase", args=[p.pk])
    assert _client(neighbour_worker).post(url, {"confirm": "on"}).status_code == 404
    _client(worker).post(url, {})
    p.refresh_from_db()
    assert p.erased_at is None
    _client(worker).post(url, {"confirm": "on"})
    p.refresh_from_db()
    assert (p.erased_at is not None, p.name, p.id_cipher) == (True, "", "")


def test_import_progress_and_errors_sheet_belong_to_the_uploader(
    place: Place, worker: User, neighbour_worker: User, city: City
) -> None:
    c = _client(worker)
    bad = ["1", "1", "", "101", "户主", "", "", "", "", "", "在住", "", ""]
    response = c.post(reverse("residents:registers"),
                      {"community": city.community.pk, "file": _sheet([bad])})
    job_id = int(response["Location"].rstrip("/").split("/")[-1])
    sheet = load_workbook(io.BytesIO(
        c.get(reverse("residents:import_errors", args=[job_id])).content)).active
    assert [c.value for c in sheet[2]] == [2, "姓名", "姓名不能为空"]
    assert c.get(reverse("residents:import_progress", args=[job_id])).json()["status"] == (
        "previewed"
    )
    other = _client(neighbour_worker)
    assert other.get(reverse("residents:import_progress", args=[job_id])).status_code == 404


def _jpeg_with_gps_and_trailer() -> bytes:
    """A phone photo carrying its GPS position, with a zip appended (a polyglot)."""
    exif = Image.Exif()
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (39.0, 6.0, 30.0)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (117.0, 10.0, 12.0)
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 30, 30)).save(out, "JPEG", exif=exif)
    return out.getvalue() + b"PK\x03\x04 hidden payload"


def test_a_visit_photo_is_stored_re_encoded_without_exif_under_a_random_name(
    place: Place, worker: User, settings: Any, tmp_path: Any
) -> None:
    settings.MEDIA_ROOT = tmp_path
    h = make_household(place.entrance)
    original = _jpeg_with_gps_and_trailer()
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(ExifTags.IFD.GPSInfo)
    response = _client(worker).post(reverse("residents:visit_new", args=[h.pk]), {
        "visited_on": timezone.localdate().isoformat(), "kind": "home",
        "photo": SimpleUploadedFile("王秀兰家门口.jpg", original, content_type="image/jpeg"),
    })
    assert response.status_code == 302
    photo = h.visits.get().photo
    stored = photo.read()
    assert re.fullmatch(r"residents/visits/\d{4}/\d{2}/[0-9a-f]{32}\.jpg", photo.name)
    assert b"hidden payload" not in stored and b"Exif" not in stored
    img = Image.open(io.BytesIO(stored))
    assert (img.format, img.size, dict(img.getexif())) == ("JPEG", (64, 48), {})


def test_a_visit_photo_that_is_not_an_image_is_refused_in_chinese(
    place: Place, worker: User
) -> None:
    h = make_household(place.entrance)
    response = _client(worker).post(reverse("residents:visit_new", args=[h.pk]), {
        "visited_on": timezone.localdate().isoformat(), "kind": "home",
        "photo": SimpleUploadedFile("a.jpg", b"\xff\xd8\xff\xe0 not really", "image/jpeg"),
    })
    assert response.status_code == 200
    assert h.visits.count() == 0


def test_the_export_takes_the_role_per_grid_for_a_head_here_and_a_worker_there(
    place: Place, city: City
) -> None:
    make_person(make_household(place.entrance), seq=62)  # in 第六网格
    other = BuildingFactory(grid=city.other_grid, number="1", name="1号楼")
    make_person(make_household(EntranceFactory(building=other, number="1")), seq=63)
    dual = UserFactory(username="dual", full_name="两岗")
    assign(dual, Role.GRID_HEAD, region=city.other_community)
    assign(dual, Role.GRID_WORKER, region=city.grid)
    c = _client(dual)

    page = c.get(reverse("residents:registers"))
    where_worker = c.post(reverse("residents:export"),
                          {"community": city.community.pk, "purpose": "年度台账报送"})
    where_head = c.post(reverse("residents:export"),
                        {"community": city.other_community.pk, "purpose": "年度台账报送"})

    offered = page.context["export_form"].fields["community"].queryset
    assert list(offered) == [city.other_community]
    assert where_worker.status_code == 302
    sheet = load_workbook(io.BytesIO(where_head.content)).active
    assert [sheet.cell(r, 9).value for r in range(2, sheet.max_row + 1)] == [id_number(63)]
    assert list(AccessLog.objects.values_list("region_id", "rows")) == [
        (city.other_community.pk, 1)
    ]


def test_it_tells_a_households_history_in_sentences(
    place: Place, worker: User, city: City
) -> None:
    from residents.models import CareLevel, Change, ChangeKind

    h = make_household(place.entrance, door="401", floor=4)
    make_person(h, seq=1, name="韦宏伟")
    party = Tag.objects.get(code="party")
    person = h.members.get()
    services.person_set_tags(actor=worker, person=person, tags={party: None})
    level = CareLevel.objects.get(rank=1)
    services.household_override_care(
        actor=worker, household=h, level=level, reason="独居", until=date(2099, 1, 1),
        today=date(2098, 6, 1),
    )
    Change.objects.create(household=h, kind=ChangeKind.IMPORTED, after={"rows": 3})
    html = _client(worker).get(reverse("residents:household", args=[h.pk])).content.decode()
    history = html[html.index("变更记录"):]
    assert "从台账导入 3 行" in history
    assert "建档：4 层 401" in history
    assert "新增成员 韦宏伟（户主）" in history
    assert f"标签：无 → {party.name}" in history
    assert "关注等级：" in history and f"→ 1 · {level.name}（至 2099-01-01）" in history
    assert "{" not in history and "'rows'" not in history
