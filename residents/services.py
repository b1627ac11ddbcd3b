"""Every write of residents' data: households, people, tags, care levels, visits, wishes,
the access log and erasure. Views, commands, tasks and the importer call these only.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from celery import current_app
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import User
from grids.models import Entrance
from reports.models import Category
from reports.photos import photo_prepare
from reports.services import report_file
from residents import crypto
from residents.errors import ResidentError
from residents.identity import (
    IdentityError,
    check_phone,
    mask_id,
    mask_phone,
    parse_id_number,
)
from residents.models import (
    AccessKind,
    AccessLog,
    CareLevel,
    CareRule,
    Change,
    ChangeKind,
    Household,
    Person,
    PersonTag,
    Presence,
    Relation,
    Tag,
    Visit,
    VisitKind,
    Wish,
    WishStatus,
)
from residents.selectors import people_visible_to

# An identity number registered where the user may not look: the message must not tell
# where, nor even that it is registered (numbers are unique across the city, so a refusal
# cannot be avoided; it reads the same as a number that cannot be taken for other reasons).
NUMBER_UNAVAILABLE = gettext_lazy(
    "该身份证号无法在此登记，请核对号码；如为迁入人员，请联系上级网格中心办理迁入"
)

# Tags with a meaning in code: 高龄 is derived from the birth date; 党员 marks the household.
TAG_AGED = "aged80"
TAG_PARTY = "party"
AGED_YEARS = 80


def age_on(birth: date, today: date) -> int:
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


# -- care levels ----------------------------------------------------------------------------


@dataclass(frozen=True)
class CareTable:
    """The rules and levels, loaded once per operation (two small queries)."""

    levels: dict[int, CareLevel]  # by pk
    default: CareLevel
    # tag id → [(max_grade or None, level)], most demanding first
    rules: dict[int, list[tuple[int | None, CareLevel]]]
    aged_tag_id: int | None
    party_tag_id: int | None

    @classmethod
    def load(cls) -> CareTable:
        levels = {lv.pk: lv for lv in CareLevel.objects.all()}
        if not levels:
            raise ResidentError(_("尚未设置关注等级，请联系管理员"))
        rules: dict[int, list[tuple[int | None, CareLevel]]] = {}
        for rule in CareRule.objects.order_by("level__rank"):
            rules.setdefault(rule.tag_id, []).append((rule.max_grade, levels[rule.level_id]))
        special = dict(Tag.objects.filter(code__in=[TAG_AGED, TAG_PARTY]).values_list("code", "pk"))
        return cls(
            levels=levels,
            default=max(levels.values(), key=lambda lv: lv.rank),
            rules=rules,
            aged_tag_id=special.get(TAG_AGED),
            party_tag_id=special.get(TAG_PARTY),
        )

    def derive(
        self, members: Iterable[tuple[date | None, Iterable[tuple[int, int | None]]]], today: date
    ) -> tuple[CareLevel, bool]:
        """The most demanding level any member's tags ask for, and whether a member is a
        party member. ``members``: (birth date, [(tag id, grade)]) per person."""
        best = self.default
        party = False
        for birth, tags in members:
            pairs = list(tags)
            if birth is not None and self.aged_tag_id and age_on(birth, today) >= AGED_YEARS:
                pairs.append((self.aged_tag_id, None))
            for tag_id, grade in pairs:
                if tag_id == self.party_tag_id:
                    party = True
                for max_grade, level in self.rules.get(tag_id, ()):
                    if max_grade is not None and (grade is None or grade > max_grade):
                        continue
                    if level.rank < best.rank:
                        best = level
                    break
        return best, party


def _today() -> date:
    return timezone.localdate()


def _next_due(household: Household, level: CareLevel, today: date) -> date:
    if household.last_visit_on is None:
        return today
    return household.last_visit_on + timedelta(days=level.visit_every_days)


def household_refresh_care(
    *, household: Household, today: date | None = None, actor: User | None = None,
    table: CareTable | None = None,
) -> Household:
    """Recompute the derived and effective care level; history when the colour changes."""
    today = today or _today()
    table = table or CareTable.load()
    members = [
        (p.birth_date, [(t.tag_id, t.grade) for t in p.tags.all()])
        for p in household.members.filter(erased_at__isnull=True).prefetch_related("tags")
    ]
    derived, party = table.derive(members, today)
    override = household.override_level
    if override is not None and household.override_until and household.override_until < today:
        override = None
    effective = override or derived
    before = household.care_level_id
    household.derived_level = derived
    household.has_party_member = party
    if override is None and household.override_level_id is not None:
        household.override_level = None
        household.override_reason = ""
        household.override_until = None
    if before != effective.pk and household.next_visit_due is not None:
        household.next_visit_due = _next_due(household, effective, today)
    elif household.next_visit_due is None:
        household.next_visit_due = _next_due(household, effective, today)
    household.care_level = effective
    household.save()
    if before != effective.pk and before is not None:
        Change.objects.create(
            household=household, kind=ChangeKind.CARE_LEVEL, actor=actor,
            before={"level": table.levels[before].rank if before in table.levels else None},
            after={"level": effective.rank}, reason=_("按标签规则计算"),
        )
    return household


def household_override_care(
    *, actor: User, household: Household, level: CareLevel, reason: str, until: date,
    today: date | None = None,
) -> Household:
    """The worker sets a care level by hand, with a reason, until a date."""
    today = today or _today()
    reason = (reason or "").strip()
    if not reason:
        raise ResidentError(_("请填写调整原因"), field="reason")
    if until <= today:
        raise ResidentError(_("有效期必须晚于今天"), field="until")
    if until > today + timedelta(days=366):
        raise ResidentError(_("有效期最长一年"), field="until")
    with transaction.atomic():
        household = Household.objects.select_for_update().get(pk=household.pk)
        before = household.care_level.rank if household.care_level else None
        household.override_level = level
        household.override_reason = reason
        household.override_until = until
        household.care_level = level
        household.next_visit_due = _next_due(household, level, today)
        household.save()
        Change.objects.create(
            household=household, kind=ChangeKind.CARE_LEVEL, actor=actor,
            before={"level": before}, after={"level": level.rank, "until": until.isoformat()},
            reason=reason,
        )
    return household


# -- the city's care tables (admin) ------------------------------------------------------------


def care_level_save(*, actor: User, level: CareLevel) -> CareLevel:
    """Create or change a care level; every household's level and due date follow."""
    before = (
        CareLevel.objects.filter(pk=level.pk).values_list("visit_every_days", flat=True).first()
        if level.pk else None
    )
    level.save()
    previous = {} if before in (None, level.visit_every_days) else {level.pk: before}
    _care_table_changed(previous_days=previous)
    return level


def care_level_delete(*, actor: User, level: CareLevel) -> None:
    level.delete()  # PROTECT: a level still in use by a household or rule cannot go
    _care_table_changed()


def care_rule_save(*, actor: User, rule: CareRule) -> CareRule:
    rule.save()
    _care_table_changed()
    return rule


def care_rule_delete(*, actor: User, rule: CareRule) -> None:
    rule.delete()
    _care_table_changed()


def tag_save(*, actor: User, tag: Tag) -> Tag:
    tag.save()
    _care_table_changed()  # the aged and party tags are found by code
    return tag


def tag_delete(*, actor: User, tag: Tag) -> None:
    tag.delete()  # the tag's rules and people's tags go with it
    _care_table_changed()


def _care_table_changed(*, previous_days: dict[int, int] | None = None) -> None:
    days = {str(k): v for k, v in (previous_days or {}).items()}
    transaction.on_commit(lambda: _enqueue_refresh(days))


def _enqueue_refresh(previous_days: dict[str, int]) -> None:
    # Sent by name (tasks.py imports this module); without a broker it runs here.
    if current_app.conf.task_always_eager:
        care_households_refresh(previous_days={int(k): v for k, v in previous_days.items()})
    else:
        current_app.send_task("residents.tasks.refresh_care_levels", args=[previous_days])


def care_households_refresh(
    *, today: date | None = None, previous_days: dict[int, int] | None = None,
    batch: int = 2000,
) -> int:
    """Recompute every household's derived and effective level after the care tables
    changed, in chunks, a few UPDATEs per chunk; returns the households changed.

    The due date moves when the effective level changes (as in ``household_refresh_care``)
    and when it was the plan's date under a level's previous interval
    (``previous_days``: level pk → days); a date a worker suggested on a visit stays."""
    today = today or _today()
    table = CareTable.load()
    previous_days = previous_days or {}
    changed = 0
    last = 0
    while True:
        chunk = list(
            Household.objects.filter(pk__gt=last).order_by("pk").only(
                "pk", "care_level_id", "derived_level_id", "override_level_id",
                "override_until", "last_visit_on", "next_visit_due", "has_party_member",
            )[:batch]
        )
        if not chunk:
            return changed
        last = chunk[-1].pk
        ids = [h.pk for h in chunk]
        tags: dict[int, list[tuple[int, int | None]]] = {}
        for pid, tag_id, grade in PersonTag.objects.filter(
            person__household_id__in=ids
        ).values_list("person_id", "tag_id", "grade"):
            tags.setdefault(pid, []).append((tag_id, grade))
        members: dict[int, list[tuple[date | None, list[tuple[int, int | None]]]]] = {}
        for pid, hid, birth in Person.objects.filter(
            household_id__in=ids, erased_at__isnull=True
        ).values_list("pk", "household_id", "birth_date"):
            members.setdefault(hid, []).append((birth, tags.get(pid, [])))
        groups: dict[tuple[Any, ...], list[int]] = {}
        history: list[Change] = []
        for h in chunk:
            derived, party = table.derive(members.get(h.pk, []), today)
            override = h.override_level_id
            if override is not None and h.override_until and h.override_until < today:
                override = None  # expired: care_overrides_expire clears it
            effective = derived if override is None else table.levels[override]
            due = h.next_visit_due
            plan = (
                None if h.last_visit_on is None
                else h.last_visit_on + timedelta(days=effective.visit_every_days)
            )
            old_days = previous_days.get(h.care_level_id or 0)
            if effective.pk != h.care_level_id or due is None:
                due = plan or today
            elif plan is not None and old_days is not None and (
                due == h.last_visit_on + timedelta(days=old_days)  # type: ignore[operator]
            ):
                due = plan
            after = (derived.pk, effective.pk, party, due)
            if after == (h.derived_level_id, h.care_level_id, h.has_party_member,
                         h.next_visit_due):
                continue
            groups.setdefault(after, []).append(h.pk)
            if effective.pk != h.care_level_id and h.care_level_id in table.levels:
                history.append(Change(
                    household_id=h.pk, kind=ChangeKind.CARE_LEVEL, actor=None,
                    before={"level": table.levels[h.care_level_id].rank},
                    after={"level": effective.rank}, reason=_("关注等级规则调整"),
                ))
        with transaction.atomic():
            for (derived_id, care_id, party, due), pks in groups.items():
                Household.objects.filter(pk__in=pks).update(
                    derived_level_id=derived_id, care_level_id=care_id,
                    has_party_member=party, next_visit_due=due,
                )
            Change.objects.bulk_create(history, batch_size=1000)
        changed += sum(len(pks) for pks in groups.values())


def care_overrides_expire(*, today: date | None = None) -> int:
    """Overrides whose expiry has passed fall back to the derived level."""
    today = today or _today()
    table = CareTable.load()
    n = 0
    for household in Household.objects.filter(override_until__lt=today).select_related(
        "override_level"
    ):
        with transaction.atomic():
            household_refresh_care(household=household, today=today, table=table)
        n += 1
    return n


# -- households and people ------------------------------------------------------------------


def household_create(
    *, actor: User | None, entrance: Entrance, floor: int, door: str, notes: str = "",
    today: date | None = None,
) -> Household:
    door = (door or "").strip()
    if not door:
        raise ResidentError(_("请填写门牌号"), field="door")
    if Household.objects.filter(entrance=entrance, door=door).exists():
        raise ResidentError(_("该单元已有此门牌号的户"), field="door")
    with transaction.atomic():
        household = Household.objects.create(
            entrance=entrance, grid_id=entrance.building.grid_id, floor=floor, door=door,
            notes=notes,
        )
        Change.objects.create(
            household=household, kind=ChangeKind.CREATED, actor=actor,
            after={"entrance": entrance.pk, "floor": floor, "door": door},
        )
        household_refresh_care(household=household, today=today, actor=actor)
    return household


def household_move(
    *, actor: User, household: Household, entrance: Entrance, floor: int, door: str
) -> Household:
    door = (door or "").strip()
    if Household.objects.filter(entrance=entrance, door=door).exclude(pk=household.pk).exists():
        raise ResidentError(_("该单元已有此门牌号的户"), field="door")
    with transaction.atomic():
        before = {"entrance": household.entrance_id, "floor": household.floor,
                  "door": household.door}
        household.entrance = entrance
        household.grid_id = entrance.building.grid_id
        household.floor = floor
        household.door = door
        household.save(update_fields=["entrance", "grid", "floor", "door", "updated_at"])
        Change.objects.create(
            household=household, kind=ChangeKind.MOVED, actor=actor, before=before,
            after={"entrance": entrance.pk, "floor": floor, "door": door},
        )
    return household


@dataclass(frozen=True)
class Identity:
    """Checked personal numbers, ready to store."""

    id_cipher: str
    id_hmac: str | None
    id_masked: str
    phone_cipher: str
    phone_hmac: str | None
    phone_masked: str
    sex: str
    birth_date: date | None


def identity_check(
    *, id_number: str, phone: str, sex: str = "", birth_date: date | None = None,
    today: date | None = None,
) -> Identity:
    """Check and encrypt; sex and birth date come from the identity number when given."""
    number = ""
    if (id_number or "").strip():
        try:
            info = parse_id_number(id_number, today=today)
        except IdentityError as e:
            raise ResidentError(str(e), field="id_number") from e
        number, sex, birth_date = info.number, info.sex, info.birth_date
    try:
        phone = check_phone(phone)
    except IdentityError as e:
        raise ResidentError(str(e), field="phone") from e
    return Identity(
        id_cipher=crypto.encrypt(number),
        id_hmac=crypto.blind_index("id", number),
        id_masked=mask_id(number),
        phone_cipher=crypto.encrypt(phone),
        phone_hmac=crypto.blind_index("phone", phone),
        phone_masked=mask_phone(phone),
        sex=sex,
        birth_date=birth_date,
    )


def person_add(
    *, actor: User | None, household: Household, name: str, id_number: str = "",
    phone: str = "", sex: str = "", birth_date: date | None = None,
    relation: str = Relation.OTHER, presence: str = Presence.HERE,
    moved_in_on: date | None = None, notes: str = "", today: date | None = None,
) -> Person:
    name = (name or "").strip()
    if not name:
        raise ResidentError(_("请填写姓名"), field="name")
    ident = identity_check(
        id_number=id_number, phone=phone, sex=sex, birth_date=birth_date, today=today
    )
    if ident.id_hmac and Person.objects.filter(id_hmac=ident.id_hmac).exists():
        if actor is not None and people_visible_to(actor).filter(id_hmac=ident.id_hmac).exists():
            raise ResidentError(_("该身份证号已登记在您管辖的其他户中，请在该户办理迁出"),
                                field="id_number")
        raise ResidentError(str(NUMBER_UNAVAILABLE), field="id_number")
    with transaction.atomic():
        person = Person.objects.create(
            household=household, name=name, relation=relation, presence=presence,
            moved_in_on=moved_in_on, notes=notes, **ident.__dict__,
        )
        Change.objects.create(
            household=household, person=person, kind=ChangeKind.MEMBER_ADDED, actor=actor,
            after={"name": name, "relation": relation},
        )
        household_refresh_care(household=household, today=today, actor=actor)
    return person


def person_move(
    *, actor: User, person: Person, household: Household, relation: str,
    moved_in_on: date | None = None,
) -> Person:
    """A person belongs to one household at a time: moving takes them out of the old one."""
    old = person.household
    if old is not None and old.pk == household.pk:
        raise ResidentError(_("此人已在该户中"), field="household")
    with transaction.atomic():
        person.household = household
        person.relation = relation
        person.moved_in_on = moved_in_on or _today()
        person.moved_out_on = None
        person.save(update_fields=["household", "relation", "moved_in_on", "moved_out_on"])
        Change.objects.create(
            household=household, person=person, kind=ChangeKind.MEMBER_MOVED, actor=actor,
            before={"household": old.pk if old else None},
            after={"household": household.pk, "relation": relation},
        )
        for h in ([old] if old else []) + [household]:
            household_refresh_care(household=h, actor=actor)
    return person


def person_set_tags(
    *, actor: User, person: Person, tags: dict[Tag, int | None], today: date | None = None
) -> Person:
    """Replace the person's typed tags (derived tags are refused); history with the diff."""
    for tag, grade in tags.items():
        if tag.derived:
            raise ResidentError(_("“%(tag)s”由系统自动计算，不能手工添加") % {"tag": tag.name})
        if tag.graded and grade not in (1, 2, 3, 4):
            raise ResidentError(_("“%(tag)s”需要选择 1–4 级") % {"tag": tag.name})
        if not tag.graded and grade is not None:
            raise ResidentError(_("“%(tag)s”没有等级") % {"tag": tag.name})
    with transaction.atomic():
        current = {t.tag_id: t for t in person.tags.select_related("tag")}
        before = {t.tag.code: t.grade for t in current.values()}
        wanted = {tag.pk: (tag, grade) for tag, grade in tags.items()}
        PersonTag.objects.filter(person=person).exclude(tag_id__in=wanted).delete()
        for tag_id, (tag, grade) in wanted.items():
            old = current.get(tag_id)
            if old is None:
                PersonTag.objects.create(person=person, tag=tag, grade=grade, tagged_by=actor)
            elif old.grade != grade:
                PersonTag.objects.filter(pk=old.pk).update(grade=grade, tagged_by=actor,
                                                           tagged_at=timezone.now())
        after = {tag.code: grade for tag, grade in tags.items()}
        if before != after:
            Change.objects.create(
                household=person.household, person=person, kind=ChangeKind.TAGS, actor=actor,
                before=before, after=after,
            )
        if person.household is not None:
            household_refresh_care(household=person.household, today=today, actor=actor)
    return person


def person_erase(*, actor: User, person: Person) -> Person:
    """Erase personal data; keep sex, birth year and tags as anonymised statistics."""
    with transaction.atomic():
        household = person.household
        Change.objects.filter(person=person).update(before={}, after={})
        person.name = ""
        person.id_cipher = person.id_masked = person.phone_cipher = person.phone_masked = ""
        person.id_hmac = person.phone_hmac = None
        person.notes = ""
        if person.birth_date is not None:
            person.birth_date = person.birth_date.replace(month=1, day=1)
        person.household = None
        person.erased_at = timezone.now()
        person.save()
        Change.objects.create(
            household=household, person=None, kind=ChangeKind.ERASED, actor=actor,
            reason=_("删除一名成员的个人信息"),
        )
        if household is not None:
            household_refresh_care(household=household, actor=actor)
    return person


# -- the access log --------------------------------------------------------------------------


@dataclass(frozen=True)
class FullRecord:
    person: Person
    id_number: str
    phone: str


def person_reveal(*, actor: User, person: Person, purpose: str, ip: str | None) -> FullRecord:
    """Open the full record for a stated purpose: one log row, then the decrypted numbers."""
    purpose = (purpose or "").strip()
    if len(purpose) < 2:
        raise ResidentError(_("请说明查看完整信息的目的"), field="purpose")
    AccessLog.objects.create(
        kind=AccessKind.VIEW, user=actor, person=person,
        region_id=person.household.grid_id if person.household else None,
        purpose=purpose[:200], ip=ip,
    )
    return FullRecord(person, crypto.decrypt(person.id_cipher), crypto.decrypt(person.phone_cipher))


def export_log(*, actor: User, region_id: int, rows: int, purpose: str, ip: str | None) -> None:
    purpose = (purpose or "").strip()
    if len(purpose) < 2:
        raise ResidentError(_("请说明导出的目的"), field="purpose")
    AccessLog.objects.create(
        kind=AccessKind.EXPORT, user=actor, region_id=region_id, rows=rows,
        purpose=purpose[:200], ip=ip,
    )


def find_by_id_number(people: Any, id_number: str) -> Person | None:
    """Exact search by identity number, within the queryset the caller may see."""
    key = crypto.blind_index("id", id_number)
    return people.filter(id_hmac=key).first() if key else None


# -- visits and wishes -----------------------------------------------------------------------


def visit_record(
    *, actor: User, household: Household, visited_on: date, kind: str, situation: str = "",
    needs: str = "", photo: Any = None, next_suggested_on: date | None = None,
    today: date | None = None,
) -> Visit:
    today = today or _today()
    if kind not in VisitKind.values:
        raise ResidentError(_("请选择走访方式"), field="kind")
    if visited_on > today:
        raise ResidentError(_("走访日期不能晚于今天"), field="visited_on")
    if next_suggested_on is not None and next_suggested_on <= visited_on:
        raise ResidentError(_("建议下次走访日期应晚于本次走访"), field="next_suggested_on")
    stored: Any = ""
    if photo:
        # The same checks and re-encoding as case photos, before the transaction: nothing of
        # the upload is kept (no EXIF position, no trailing bytes, not its file name).
        try:
            stored = photo_prepare(photo).content
        except ValidationError as e:
            raise ResidentError(e.messages[0], field="photo") from e
    with transaction.atomic():
        # Lock the household row only (care_level is the nullable side of an outer join).
        household = (
            Household.objects.select_for_update(of=("self",))
            .select_related("care_level")
            .get(pk=household.pk)
        )
        visit = Visit.objects.create(
            household=household, worker=actor, visited_on=visited_on, kind=kind,
            situation=situation.strip(), needs=needs.strip(), photo=stored,
            next_suggested_on=next_suggested_on,
        )
        if household.last_visit_on is None or visited_on >= household.last_visit_on:
            household.last_visit_on = visited_on
            level = household.care_level
            household.next_visit_due = next_suggested_on or (
                visited_on + timedelta(days=level.visit_every_days if level else 30)
            )
            household.save(update_fields=["last_visit_on", "next_visit_due", "updated_at"])
    return visit


def visit_file_case(*, actor: User, visit: Visit, category: Category) -> Visit:
    """A need found on a visit becomes a case, filed like any report; linked both ways."""
    if visit.report_id is not None:
        return visit
    if not visit.needs:
        raise ResidentError(_("这次走访没有记录需求，无法转为案件"), field="needs")
    household = visit.household
    entrance = household.entrance
    report = report_file(
        reporter=actor, category=category, description=visit.needs,
        idempotency_key=f"resident-visit-{visit.pk}", grid=household.grid,
        building=entrance.building, entrance=entrance,
        address=f"{entrance.building.name}{entrance.name}{household.door}",
    )
    Visit.objects.filter(pk=visit.pk).update(report=report)
    visit.report = report
    return visit


def wish_create(*, actor: User, household: Household, title: str,
                visit: Visit | None = None) -> Wish:
    title = (title or "").strip()
    if not title:
        raise ResidentError(_("请填写心愿内容"), field="title")
    return Wish.objects.create(household=household, visit=visit, title=title[:100])


def wish_claim(*, actor: User, wish: Wish, claimed_by: str) -> Wish:
    claimed_by = (claimed_by or "").strip()
    if not claimed_by:
        raise ResidentError(_("请填写认领人"), field="claimed_by")
    n = Wish.objects.filter(pk=wish.pk, status=WishStatus.OPEN).update(
        status=WishStatus.CLAIMED, claimed_by=claimed_by[:64], claimed_at=timezone.now()
    )
    if not n:
        raise ResidentError(_("该心愿已被认领"))
    wish.refresh_from_db()
    return wish


def wish_fulfil(*, actor: User, wish: Wish) -> Wish:
    n = Wish.objects.filter(pk=wish.pk, status=WishStatus.CLAIMED).update(
        status=WishStatus.FULFILLED, fulfilled_at=timezone.now()
    )
    if not n:
        raise ResidentError(_("只有已认领的心愿才能标记为已实现"))
    wish.refresh_from_db()
    return wish


# -- keys -----------------------------------------------------------------------------------


def keys_rotate(*, rehash: bool = False, batch: int = 500) -> int:
    """Re-encrypt every person's numbers under the newest key (and, with ``rehash``,
    recompute the keyed hashes after an HMAC key change). Returns the rows rewritten."""
    crypto.reset_keys()
    n = 0
    qs = Person.objects.exclude(id_cipher="", phone_cipher="").order_by("pk")
    last = 0
    while True:
        chunk = list(qs.filter(pk__gt=last)[:batch])
        if not chunk:
            break
        with transaction.atomic():
            for p in chunk:
                p.id_cipher = crypto.rotate(p.id_cipher)
                p.phone_cipher = crypto.rotate(p.phone_cipher)
                if rehash:
                    p.id_hmac = crypto.blind_index("id", crypto.decrypt(p.id_cipher))
                    p.phone_hmac = crypto.blind_index("phone", crypto.decrypt(p.phone_cipher))
            Person.objects.bulk_update(
                chunk, ["id_cipher", "phone_cipher", "id_hmac", "phone_hmac"]
            )
        n += len(chunk)
        last = chunk[-1].pk
    return n


