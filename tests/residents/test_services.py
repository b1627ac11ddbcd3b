"""Households, people and personal numbers: encryption, search, uniqueness, scope, erasure."""

from __future__ import annotations

import io

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.db import connection
from django.http import Http404
from django.test import Client
from django.urls import reverse

from accounts.models import User
from residents import crypto, selectors, services
from residents.errors import ResidentError
from residents.identity import IdentityError, mask_id, mask_phone, parse_id_number
from residents.models import AccessLog, Change, ChangeKind, Person
from tests.conftest import City
from tests.residents.conftest import Place, id_number, make_household, make_person


def test_it_derives_sex_and_birth_date_from_the_identity_number() -> None:
    info = parse_id_number(id_number(7, born="19800229"))
    assert (info.birth_date.isoformat(), info.sex) == ("1980-02-29", "M")


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("12010419450312001", "身份证号应为 18 位，前 17 位为数字，最后一位为数字或 X"),
        ("990104194503120011", "身份证号的地区码无效"),
        ("120104194502300011", "身份证号中的出生日期无效"),
        (id_number(1)[:17] + ("0" if id_number(1)[17] != "0" else "1"), "身份证号校验位错误"),
    ],
)
def test_it_refuses_a_bad_identity_number_with_the_reason(value: str, reason: str) -> None:
    with pytest.raises(IdentityError) as e:
        parse_id_number(value)
    assert str(e.value) == reason


def test_it_masks_identity_and_phone_numbers() -> None:
    assert mask_id("120104194503121234") == "120***********1234"
    assert mask_phone("13812345678") == "138****5678"


def test_it_stores_no_plain_identity_or_phone_number(place: Place) -> None:
    person = make_person(make_household(place.entrance), seq=11, phone="13912345678")
    with connection.cursor() as cur:
        cur.execute("SELECT * FROM residents_person WHERE id = %s", [person.pk])
        row = " ".join(str(v) for v in cur.fetchone())
    assert id_number(11) not in row
    assert "13912345678" not in row
    assert "1945031" not in row  # not even the birth-date part of the number
    assert crypto.decrypt(Person.objects.get(pk=person.pk).id_cipher) == id_number(11)


def test_it_finds_a_person_by_identity_number(place: Place, worker: User) -> None:
    household = make_household(place.entrance)
    make_person(household, seq=1)
    wanted = make_person(household, seq=3, name="李建国", relation="spouse")
    found = services.find_by_id_number(selectors.people_visible_to(worker), id_number(3).lower())
    assert found == wanted


def test_it_refuses_the_same_identity_number_twice_in_the_city(place: Place) -> None:
    make_person(make_household(place.entrance), seq=5)
    other = make_household(place.neighbour_entrance)
    with pytest.raises(ResidentError) as e:
        make_person(other, seq=5, name="冒名")
    assert e.value.message == (
        "该身份证号无法在此登记，请核对号码；如为迁入人员，请联系上级网格中心办理迁入"
    )
    assert Person.objects.count() == 1


def test_a_number_registered_outside_the_workers_grids_is_not_said_to_exist(
    place: Place, worker: User, neighbour_worker: User
) -> None:
    make_person(make_household(place.neighbour_entrance), seq=7)
    mine = make_household(place.entrance)
    with pytest.raises(ResidentError) as e:
        services.person_add(actor=worker, household=mine, name="王某", id_number=id_number(7))
    assert "已登记" not in e.value.message and "其他" not in e.value.message
    assert e.value.message.startswith("该身份证号无法在此登记")


def test_a_number_registered_in_the_workers_own_grid_is_said_to_be_there(
    place: Place, worker: User
) -> None:
    make_person(make_household(place.entrance, door="101"), seq=9)
    with pytest.raises(ResidentError) as e:
        services.person_add(actor=worker, household=make_household(place.entrance, door="102"),
                            name="王某", id_number=id_number(9))
    assert e.value.message == "该身份证号已登记在您管辖的其他户中，请在该户办理迁出"


def test_it_refuses_a_blank_name_and_writes_nothing(place: Place) -> None:
    household = make_household(place.entrance)
    with pytest.raises(ResidentError):
        make_person(household, name="  ")
    assert Person.objects.count() == 0


def test_it_moves_a_person_to_another_household_with_history(
    place: Place, worker: User
) -> None:
    first = make_household(place.entrance, door="101")
    second = make_household(place.entrance, door="102")
    person = make_person(first)
    services.person_move(actor=worker, person=person, household=second, relation="head")
    change = Change.objects.filter(kind=ChangeKind.MEMBER_MOVED).get()
    assert (person.household, first.members.count()) == (second, 0)
    assert (change.actor, change.before, change.after["household"]) == (
        worker, {"household": first.pk}, second.pk
    )


def test_a_neighbouring_grid_worker_gets_404_for_a_household_and_a_person(
    place: Place, neighbour_worker: User
) -> None:
    household = make_household(place.entrance)
    person = make_person(household)
    with pytest.raises(Http404):
        selectors.get_household_for_user(neighbour_worker, household.pk)
    with pytest.raises(Http404):
        selectors.get_person_for_user(neighbour_worker, person.pk)


def test_the_grid_worker_and_superiors_see_the_household(
    place: Place, worker: User, street_staff: User, district_staff: User, leader: User
) -> None:
    household = make_household(place.entrance)
    for user in (worker, street_staff, district_staff, leader):
        assert selectors.get_household_for_user(user, household.pk) == household


def test_a_department_handler_sees_no_resident(
    place: Place, handler: User, other_street_staff: User, outsider: User
) -> None:
    make_person(make_household(place.entrance))
    for user in (handler, other_street_staff, outsider):
        assert not selectors.households_visible_to(user).exists()
        assert not selectors.people_visible_to(user).exists()
    assert not selectors.communities_visible_to(handler).exists()
    assert not selectors.sees_residents(handler)


def test_a_full_record_view_writes_exactly_one_log_row(place: Place, worker: User) -> None:
    person = make_person(make_household(place.entrance), seq=9)
    record = services.person_reveal(actor=worker, person=person, purpose="核实低保申请",
                                    ip="10.0.0.8")
    log = AccessLog.objects.get()
    assert record.id_number == id_number(9)
    assert (log.user, log.person, log.purpose, log.ip, log.kind) == (
        worker, person, "核实低保申请", "10.0.0.8", "view"
    )


def test_it_refuses_a_full_record_view_without_a_purpose(place: Place, worker: User) -> None:
    person = make_person(make_household(place.entrance))
    with pytest.raises(ResidentError):
        services.person_reveal(actor=worker, person=person, purpose=" ", ip=None)
    assert AccessLog.objects.count() == 0


def test_key_rotation_reencrypts_every_row_and_the_old_key_can_go(
    place: Place, settings: object
) -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.RESIDENTS_KEYS = [old]  # type: ignore[attr-defined]
    crypto.reset_keys()
    household = make_household(place.entrance)
    people = [make_person(household, seq=n, name=f"居民{n}") for n in (1, 3, 5)]
    settings.RESIDENTS_KEYS = [new, old]  # type: ignore[attr-defined]
    assert services.keys_rotate() == 3
    settings.RESIDENTS_KEYS = [new]  # type: ignore[attr-defined]
    crypto.reset_keys()
    numbers = [crypto.decrypt(p.id_cipher) for p in Person.objects.order_by("pk")]
    assert numbers == [id_number(p) for p in (1, 3, 5)]
    assert len(people) == 3


def test_erasing_a_person_keeps_only_anonymised_statistics(place: Place, worker: User) -> None:
    household = make_household(place.entrance)
    person = make_person(household, seq=13)
    services.person_erase(actor=worker, person=person)
    person.refresh_from_db()
    assert (person.name, person.id_cipher, person.phone_cipher) == ("", "", "")
    assert (person.id_hmac, person.household) == (None, None)
    assert (person.sex, str(person.birth_date)) == ("M", "1945-01-01")
    assert services.find_by_id_number(Person.objects.all(), id_number(13)) is None


def test_the_rotation_command_reencrypts_every_row(place: Place, settings: object) -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.RESIDENTS_KEYS = [old]  # type: ignore[attr-defined]
    crypto.reset_keys()
    make_person(make_household(place.entrance), seq=15)
    settings.RESIDENTS_KEYS = [new, old]  # type: ignore[attr-defined]
    out = io.StringIO()
    call_command("residents_rotate_keys", stdout=out)
    settings.RESIDENTS_KEYS = [new]  # type: ignore[attr-defined]
    crypto.reset_keys()
    assert out.getvalue().strip() == "已重新加密 1 条居民记录"
    assert crypto.decrypt(Person.objects.get().id_cipher) == id_number(15)


def test_the_access_log_cannot_be_edited_in_the_admin(
    place: Place, worker: User, admin_user: User
) -> None:
    person = make_person(make_household(place.entrance))
    log = services.person_reveal(actor=worker, person=person, purpose="核实", ip=None)
    c = Client()
    c.force_login(admin_user)
    row = AccessLog.objects.get()
    assert c.get(reverse("admin:residents_accesslog_changelist")).status_code == 200
    assert c.post(reverse("admin:residents_accesslog_delete", args=[row.pk]),
                  {"post": "yes"}).status_code == 403
    assert AccessLog.objects.filter(purpose="核实").count() == 1 and log.person == person


def test_missing_keys_fail_loudly_at_first_use(place: Place, settings: object) -> None:
    settings.RESIDENTS_KEYS = []  # type: ignore[attr-defined]
    crypto.reset_keys()
    household = make_household(place.entrance)
    with pytest.raises(ImproperlyConfigured):
        make_person(household, seq=17)
    assert Person.objects.count() == 0


def test_moving_a_household_keeps_history(place: Place, worker: User, city: City) -> None:
    household = make_household(place.entrance, door="101")
    services.household_move(actor=worker, household=household,
                            entrance=place.neighbour_entrance, floor=3, door="302")
    change = Change.objects.get(kind=ChangeKind.MOVED)
    assert (household.grid, change.actor, change.before["door"], change.after["door"]) == (
        city.neighbour_grid, worker, "101", "302"
    )
