"""Care levels: derived from tags by the rules (the most demanding wins), overridden by hand
with a reason and an expiry, history for every change."""

from __future__ import annotations

from datetime import date

import pytest

from accounts.models import User
from residents import services
from residents.errors import ResidentError
from residents.models import CareLevel, Change, ChangeKind, Household, Tag
from tests.residents.conftest import Place, make_household, make_person

TODAY = date(2026, 6, 10)


def _tag(code: str) -> Tag:
    return Tag.objects.get(code=code)


def _level(household: Household) -> int:
    household.refresh_from_db()
    return household.care_level.rank


def test_a_household_without_tags_gets_the_lightest_colour(place: Place) -> None:
    household = make_household(place.entrance, today=TODAY)
    make_person(household, id_number="", birth_date=date(1990, 1, 1), today=TODAY)
    assert _level(household) == 7


@pytest.mark.parametrize(
    ("tags", "rank"),
    [
        ({"empty_nest": None}, 3),
        ({"alone": None}, 2),
        ({"disabled": 1}, 1),
        ({"disabled": 3}, 4),
        ({"empty_nest": None, "alone": None, "veteran": None}, 2),  # the most demanding wins
        ({"party": None}, 6),
    ],
)
def test_it_derives_the_care_level_from_tags(
    place: Place, worker: User, tags: dict[str, int | None], rank: int
) -> None:
    household = make_household(place.entrance, today=TODAY)
    person = make_person(household, id_number="", birth_date=date(1970, 1, 1), today=TODAY)
    services.person_set_tags(
        actor=worker, person=person, tags={_tag(c): g for c, g in tags.items()}, today=TODAY
    )
    assert _level(household) == rank


def test_aged_80_is_derived_from_the_birth_date_never_typed(place: Place, worker: User) -> None:
    household = make_household(place.entrance, today=TODAY)
    person = make_person(household, id_number="", birth_date=date(1946, 6, 10), today=TODAY)
    assert _level(household) == 3
    with pytest.raises(ResidentError) as e:
        services.person_set_tags(actor=worker, person=person, tags={_tag("aged80"): None})
    assert e.value.message == "“高龄”由系统自动计算，不能手工添加"


def test_a_party_member_marks_the_household(place: Place, worker: User) -> None:
    household = make_household(place.entrance, today=TODAY)
    person = make_person(household, id_number="", birth_date=date(1970, 1, 1), today=TODAY)
    services.person_set_tags(actor=worker, person=person, tags={_tag("party"): None},
                             today=TODAY)
    household.refresh_from_db()
    assert household.has_party_member


def test_tag_changes_keep_who_and_before_after(place: Place, worker: User) -> None:
    household = make_household(place.entrance, today=TODAY)
    person = make_person(household, id_number="", birth_date=date(1970, 1, 1), today=TODAY)
    services.person_set_tags(actor=worker, person=person, tags={_tag("dibao"): None},
                             today=TODAY)
    services.person_set_tags(actor=worker, person=person, tags={_tag("disabled"): 2},
                             today=TODAY)
    change = Change.objects.filter(kind=ChangeKind.TAGS).first()
    assert change is not None
    assert (change.actor, change.before, change.after) == (
        worker, {"dibao": None}, {"disabled": 2}
    )
    assert person.tags.get().tagged_by == worker


def test_a_manual_override_holds_until_it_expires(place: Place, worker: User) -> None:
    household = make_household(place.entrance, today=TODAY)
    person = make_person(household, id_number="", birth_date=date(1970, 1, 1), today=TODAY)
    services.person_set_tags(actor=worker, person=person, tags={_tag("veteran"): None},
                             today=TODAY)
    services.household_override_care(
        actor=worker, household=household, level=CareLevel.objects.get(rank=1),
        reason="近期住院，需每周探望", until=date(2026, 7, 1), today=TODAY,
    )
    assert _level(household) == 1
    assert services.care_overrides_expire(today=date(2026, 7, 1)) == 0
    assert _level(household) == 1
    assert services.care_overrides_expire(today=date(2026, 7, 2)) == 1
    household.refresh_from_db()
    assert (household.care_level.rank, household.override_level, household.override_reason) == (
        5, None, ""
    )
    last = Change.objects.filter(kind=ChangeKind.CARE_LEVEL).first()
    assert last is not None and (last.before, last.after) == ({"level": 1}, {"level": 5})


@pytest.mark.parametrize(
    ("reason", "until", "message"),
    [
        ("", date(2026, 7, 1), "请填写调整原因"),
        ("住院", date(2026, 6, 10), "有效期必须晚于今天"),
    ],
)
def test_it_refuses_an_override_without_reason_or_future_expiry(
    place: Place, worker: User, reason: str, until: date, message: str
) -> None:
    household = make_household(place.entrance, today=TODAY)
    with pytest.raises(ResidentError) as e:
        services.household_override_care(
            actor=worker, household=household, level=CareLevel.objects.get(rank=1),
            reason=reason, until=until, today=TODAY,
        )
    assert e.value.message == message
    assert _level(household) == 7
