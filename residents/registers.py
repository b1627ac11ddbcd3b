"""Registers (台账): XLSX import and export of households and people, one row per person.

Upload → ``import_check`` reads and checks every row without writing anything and keeps
the file encrypted in a ``RegisterImport``; confirm → ``import_start`` writes all rows in
one transaction (``import_write``), in a background task above
``RESIDENTS_IMPORT_SYNC_ROWS`` rows, with progress in the cache.
"""

from __future__ import annotations

import io
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from celery import current_app
from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from python_calamine import CalamineError, CalamineWorkbook

from accounts.models import User
from grids.models import Entrance, Region
from grids.selectors import subtree_q
from jinzhitong import xlsx
from residents import crypto
from residents.errors import ResidentError
from residents.identity import (
    IdentityError,
    check_phone,
    mask_id,
    mask_phone,
    normalise_id,
    parse_id_number,
)
from residents.models import (
    Change,
    ChangeKind,
    Household,
    ImportStatus,
    Person,
    PersonTag,
    Presence,
    RegisterImport,
    Relation,
    Sex,
    Tag,
)
from residents.selectors import people_visible_to, resident_regions
from residents.services import NUMBER_UNAVAILABLE, CareTable

# The column layout a community office keeps; the order of the template and the export.
COLUMNS = ["楼栋", "单元", "楼层", "门牌", "户主关系", "姓名", "性别", "出生日期", "身份证号",
           "联系电话", "居住状态", "标签", "备注"]
REQUIRED = ["楼栋", "单元", "门牌", "姓名"]
MAX_COLUMNS = 30
_TAG_SPLIT = re.compile(r"[;；,，、\s]+")
_TAG_GRADE = re.compile(r"^(.+?)[（(]?([1-4])级?[)）]?$")
_SUFFIX = re.compile(r"(号楼|号|栋|单元|门)$")
_RELATIONS = {str(label): value for value, label in Relation.choices}
_PRESENCE = {str(label): value for value, label in Presence.choices}
_SEXES = {str(label): value for value, label in Sex.choices}


@dataclass(frozen=True)
class CellError:
    row: int
    column: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "message": self.message}


@dataclass
class RowPlan:
    row: int
    entrance: Entrance
    floor: int
    door: str
    name: str
    relation: str
    sex: str
    birth_date: date | None
    id_number: str
    id_hmac: str | None
    phone: str
    presence: str
    tags: list[tuple[Tag, int | None]]
    notes: str
    existing: int | None = None  # pk of the visible person with this identity number


@dataclass
class Checked:
    rows: list[RowPlan] = field(default_factory=list)
    errors: list[CellError] = field(default_factory=list)
    total: int = 0

    @property
    def households(self) -> int:
        return len({(r.entrance.pk, r.door) for r in self.rows})


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()


def _key(value: str) -> str:
    return _SUFFIX.sub("", value.strip())


def read_sheet(data: bytes) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """Header and rows (1-based sheet row numbers) of the first sheet; bounded in bytes,
    uncompressed bytes (no zip bombs), rows and columns."""
    if len(data) > settings.RESIDENTS_IMPORT_MAX_BYTES:
        raise ResidentError(
            _("文件过大：最大 %(mb)s MB") % {"mb": settings.RESIDENTS_IMPORT_MAX_BYTES // 2**20}
        )
    invalid = ResidentError(_("文件不是有效的 Excel（.xlsx）文件"))
    limit = settings.RESIDENTS_IMPORT_MAX_ROWS
    try:
        # Declared and real extent first, streamed: a reader allocates for the whole range.
        xlsx.check_xlsx(data, xlsx.default_limits(rows=limit + 1))  # + the header row
    except xlsx.XlsxError as e:
        raise ResidentError(str(e)) from e
    try:
        sheet = CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_index(0)
        it = sheet.iter_rows()
        header = [_text(v) for v in next(it, [])[:MAX_COLUMNS]]
        rows: list[tuple[int, list[str]]] = []
        for n, values in enumerate(it, start=2):
            cells = [_text(v) for v in values[:MAX_COLUMNS]]
            if not any(cells):
                continue
            if len(rows) >= limit:
                raise ResidentError(_("行数过多：每个文件最多 %(n)s 行") % {"n": limit})
            rows.append((n, cells))
    except (CalamineError, OSError, ValueError) as e:
        raise invalid from e
    return header, rows


def _entrances(user: Any, community: Region) -> dict[tuple[str, str], Entrance]:
    qs = Entrance.objects.filter(building__grid__parent=community).select_related("building")
    regions = resident_regions(user)
    if regions is not None:
        qs = qs.filter(subtree_q(regions, prefix="building__grid__"))
    table: dict[tuple[str, str], Entrance] = {}
    for e in qs:
        for b in {_key(e.building.number), _key(e.building.name)}:
            for u in {_key(e.number), _key(e.name)}:
                table[(b, u)] = e
    return table


def import_check(
    *, user: Any, community: Region, data: bytes, today: date | None = None
) -> Checked:
    """Read and check every row; nothing is written."""
    header, rows = read_sheet(data)
    checked = Checked(total=len(rows))
    col = {name: i for i, name in enumerate(header) if name in COLUMNS}
    missing = [c for c in REQUIRED if c not in col]
    if missing:
        checked.errors.append(CellError(1, "、".join(missing), _("缺少必需的列")))
        return checked
    entrances = _entrances(user, community)
    tags = {t.name: t for t in Tag.objects.all()}
    seen_ids: dict[str, int] = {}
    seen_doors: dict[tuple[int, str, str], int] = {}
    plans: list[RowPlan] = []
    errors = checked.errors

    def cell(cells: list[str], name: str) -> str:
        i = col.get(name)
        return cells[i] if i is not None and i < len(cells) else ""

    for n, cells in rows:
        row_errors: list[CellError] = []

        def err(column: str, message: str, n: int = n, bucket: list[CellError] = row_errors
                ) -> None:
            bucket.append(CellError(n, column, message))

        name = cell(cells, "姓名")
        if not name:
            err("姓名", _("姓名不能为空"))
        elif len(name) > 32:
            err("姓名", _("姓名过长"))
        building, unit = cell(cells, "楼栋"), cell(cells, "单元")
        entrance = entrances.get((_key(building), _key(unit)))
        if entrance is None:
            err("单元", _("本社区（您的网格内）没有“%(b)s %(u)s”") % {"b": building, "u": unit})
        door = cell(cells, "门牌")
        if not door:
            err("门牌", _("门牌不能为空"))
        floor_text = cell(cells, "楼层")
        floor = 0
        if floor_text:
            try:
                floor = int(floor_text)
            except ValueError:
                err("楼层", _("楼层应为整数"))
        elif door[:-2].isdigit():
            floor = int(door[:-2])  # 302 → 3rd floor, as doors are numbered
        relation_text = cell(cells, "户主关系") or str(Relation.OTHER.label)
        relation = _RELATIONS.get(relation_text)
        if relation is None:
            err("户主关系", _("户主关系应为：%(c)s") % {"c": "、".join(_RELATIONS)})
        presence = _PRESENCE.get(cell(cells, "居住状态") or str(Presence.HERE.label))
        if presence is None:
            err("居住状态", _("居住状态应为“在住”或“外出”"))
        sex = _SEXES.get(cell(cells, "性别"), "")
        birth: date | None = None
        if cell(cells, "出生日期"):
            try:
                birth = date.fromisoformat(cell(cells, "出生日期")[:10])
            except ValueError:
                err("出生日期", _("出生日期格式应为 2000-01-31"))
        number = normalise_id(cell(cells, "身份证号"))
        id_hmac = None
        if number:
            try:
                info = parse_id_number(number, today=today)
                sex, birth = info.sex, info.birth_date
                id_hmac = crypto.blind_index("id", number)
                first = seen_ids.setdefault(number, n)
                if first != n:
                    err("身份证号", _("与第 %(row)s 行的身份证号重复") % {"row": first})
            except IdentityError as e:
                err("身份证号", str(e))
        try:
            phone = check_phone(cell(cells, "联系电话"))
        except IdentityError as e:
            err("联系电话", str(e))
            phone = ""
        person_tags: list[tuple[Tag, int | None]] = []
        for token in _TAG_SPLIT.split(cell(cells, "标签")):
            if not token:
                continue
            tag, grade = tags.get(token), None
            m = _TAG_GRADE.match(token)
            if tag is None and m and m.group(1) in tags:
                tag, grade = tags[m.group(1)], int(m.group(2))
            if tag is None:
                err("标签", _("未知标签“%(t)s”") % {"t": token})
            elif tag.derived:
                err("标签", _("“%(t)s”由系统自动计算，请勿填写") % {"t": tag.name})
            elif tag.graded and grade is None:
                err("标签", _("“%(t)s”需要注明等级，如“%(t)s2级”") % {"t": tag.name})
            else:
                person_tags.append((tag, grade if tag.graded else None))
        if entrance is not None and door and relation == Relation.HEAD:
            first = seen_doors.setdefault((entrance.pk, door, "head"), n)
            if first != n:
                err("户主关系", _("同一户已在第 %(row)s 行登记了户主") % {"row": first})
        if row_errors:
            errors.extend(row_errors)
            continue
        assert entrance is not None and relation is not None and presence is not None
        plans.append(RowPlan(n, entrance, floor, door, name, relation, sex, birth, number,
                             id_hmac, phone, presence, person_tags, cell(cells, "备注")))
    _check_existing(user, plans, errors)
    checked.rows = plans
    errors.sort(key=lambda e: (e.row, COLUMNS.index(e.column) if e.column in COLUMNS else 99))
    return checked


def _check_existing(user: Any, plans: list[RowPlan], errors: list[CellError]) -> None:
    """Identity numbers already registered: the user's own people are updated, anyone
    else's is an error (numbers are unique across the city) that names no place."""
    keys = [p.id_hmac for p in plans if p.id_hmac]
    found: dict[str, tuple[int, bool]] = {}
    visible = people_visible_to(user)
    for i in range(0, len(keys), 2000):
        chunk = keys[i:i + 2000]
        own = set(visible.filter(id_hmac__in=chunk).values_list("pk", flat=True))
        for pk, key in Person.objects.filter(id_hmac__in=chunk).values_list("pk", "id_hmac"):
            if key:
                found[key] = (pk, pk in own)
    for plan in plans:
        hit = found.get(plan.id_hmac or "")
        if hit is None:
            continue
        pk, mine = hit
        if mine:
            plan.existing = pk
        else:
            # Outside the user's scope: say nothing of where, nor that it is registered.
            errors.append(CellError(plan.row, "身份证号", str(NUMBER_UNAVAILABLE)))
    if errors:
        bad = {e.row for e in errors}
        plans[:] = [p for p in plans if p.row not in bad]


# -- jobs -------------------------------------------------------------------------------------


def progress_key(job_id: int) -> str:
    return f"residents:import:{job_id}"


def import_preview(*, user: User, community: Region, filename: str, data: bytes) -> tuple[
    RegisterImport, Checked
]:
    """Check an upload and keep it (encrypted) for confirmation."""
    checked = import_check(user=user, community=community, data=data)
    job = RegisterImport.objects.create(
        user=user, community=community, filename=filename[:200],
        payload=crypto.encrypt_bytes(data), total=checked.total,
        errors=[e.as_dict() for e in checked.errors],
        summary={"rows": checked.total, "households": checked.households,
                 "updates": sum(1 for r in checked.rows if r.existing)},
    )
    return job, checked


def import_start(*, user: User, job: RegisterImport) -> RegisterImport:
    """Confirm a previewed upload: write now, or in a background task if it is large."""
    if job.user_id != user.pk or job.status != ImportStatus.PREVIEWED:
        raise ResidentError(_("该导入已确认或不属于您"))
    if job.errors:
        raise ResidentError(_("文件有错误，请修改后重新上传"))
    updated = RegisterImport.objects.filter(pk=job.pk, status=ImportStatus.PREVIEWED).update(
        status=ImportStatus.RUNNING
    )
    if not updated:
        raise ResidentError(_("该导入已确认"))
    job.status = ImportStatus.RUNNING
    cache.set(progress_key(job.pk), 0, 3600)
    if job.total > settings.RESIDENTS_IMPORT_SYNC_ROWS:
        transaction.on_commit(lambda: _enqueue(job.pk))
        return job
    return import_write(job=job)


def _enqueue(job_id: int) -> None:
    # Sent by name: tasks.py imports this module. Without a broker (in-process mode)
    # send_task would not run it, so the import runs here after the response's commit.
    if current_app.conf.task_always_eager:
        job = RegisterImport.objects.get(pk=job_id)
        import_write(job=job)
    else:
        current_app.send_task("residents.tasks.register_import", args=[job_id])


def import_write(*, job: RegisterImport, today: date | None = None) -> RegisterImport:
    """Write every row of a confirmed upload, or nothing."""
    today = today or timezone.localdate()
    data = crypto.decrypt_bytes(bytes(job.payload))
    checked = import_check(user=job.user, community=job.community, data=data, today=today)
    if checked.errors:
        RegisterImport.objects.filter(pk=job.pk).update(
            status=ImportStatus.FAILED, errors=[e.as_dict() for e in checked.errors],
            finished_at=timezone.now(),
        )
        job.refresh_from_db()
        return job
    key = progress_key(job.pk)
    with transaction.atomic():
        rows_write(job.user, checked.rows, today, lambda done: cache.set(key, done, 3600))
        RegisterImport.objects.filter(pk=job.pk).update(
            status=ImportStatus.DONE, payload=b"", finished_at=timezone.now()
        )
    cache.set(key, checked.total, 3600)
    job.refresh_from_db()
    return job


def rows_write(
    user: User | None, plans: list[RowPlan], today: date, progress: Any = None
) -> None:
    """Write checked rows in bulk (the importer's confirmed rows, the demo generator)."""
    progress = progress or (lambda done: None)
    table = CareTable.load()
    # households: reuse (entrance, door), create the rest in bulk
    wanted = {(p.entrance.pk, p.door): p for p in plans}
    existing: dict[tuple[int, str], Household] = {}
    entrance_ids = list({p.entrance.pk for p in plans})
    for i in range(0, len(entrance_ids), 500):
        for h in Household.objects.filter(entrance_id__in=entrance_ids[i:i + 500]):
            existing[(h.entrance_id, h.door)] = h
    new = [
        Household(entrance=p.entrance, grid_id=p.entrance.building.grid_id, floor=p.floor,
                  door=p.door, care_level=table.default, derived_level=table.default,
                  next_visit_due=today)
        for k, p in wanted.items() if k not in existing
    ]
    Household.objects.bulk_create(new, batch_size=500)
    if new and new[0].pk is None:  # backends without RETURNING: read the keys back
        for h in Household.objects.filter(entrance_id__in=entrance_ids):
            existing[(h.entrance_id, h.door)] = h
    else:
        existing.update({(h.entrance_id, h.door): h for h in new})
    # people: update the user's own, create the others
    updates = {p.existing: p for p in plans if p.existing}
    people_new: list[Person] = []
    people_upd: list[Person] = []
    by_pk = Person.objects.in_bulk(list(updates)) if updates else {}
    for done, p in enumerate(plans, start=1):
        household = existing[(p.entrance.pk, p.door)]
        fields = dict(
            household=household, name=p.name, relation=p.relation, presence=p.presence,
            sex=p.sex, birth_date=p.birth_date, notes=p.notes,
            id_cipher=crypto.encrypt(p.id_number), id_hmac=p.id_hmac,
            id_masked=mask_id(p.id_number), phone_cipher=crypto.encrypt(p.phone),
            phone_hmac=crypto.blind_index("phone", p.phone), phone_masked=mask_phone(p.phone),
        )
        if p.existing:
            person = by_pk[p.existing]
            for k, v in fields.items():
                setattr(person, k, v)
            people_upd.append(person)
        else:
            people_new.append(Person(moved_in_on=today, **fields))
        if done % 1000 == 0:
            progress(done // 2)
    Person.objects.bulk_create(people_new, batch_size=500)
    if people_upd:
        Person.objects.bulk_update(people_upd, list(fields), batch_size=500)
    if people_new and people_new[0].pk is None:
        ids = {p.id_hmac: p for p in people_new if p.id_hmac}
        for pk, key in Person.objects.filter(id_hmac__in=list(ids)).values_list("pk", "id_hmac"):
            ids[key].pk = pk
    progress(len(plans) * 3 // 4)
    # tags: the sheet states every typed tag of the person
    people = people_upd + people_new
    if people_upd:
        PersonTag.objects.filter(person__in=people_upd).delete()
    PersonTag.objects.bulk_create(
        [PersonTag(person=person, tag=t, grade=g, tagged_by=user)
         for person, p in zip(people, [updates[x.pk] for x in people_upd]
                              + [p for p in plans if not p.existing], strict=True)
         for t, g in p.tags if person.pk],
        batch_size=1000,
    )
    # care levels of every touched household, computed in memory
    households = list({h.pk: h for h in (existing[k] for k in wanted)}.values())
    _refresh_many(households, table, today)
    rows_per_household = Counter(p.household_id for p in people)
    Change.objects.bulk_create(
        [Change(household=h, kind=ChangeKind.IMPORTED, actor=user,
                after={"rows": rows_per_household[h.pk]})
         for h in households],
        batch_size=1000,
    )


def _refresh_many(households: list[Household], table: CareTable, today: date) -> None:
    ids = [h.pk for h in households]
    members: dict[int, list[tuple[date | None, list[tuple[int, int | None]]]]] = {}
    tags: dict[int, list[tuple[int, int | None]]] = {}
    for i in range(0, len(ids), 2000):
        chunk = ids[i:i + 2000]
        for pid, tag_id, grade in PersonTag.objects.filter(
            person__household_id__in=chunk
        ).values_list("person_id", "tag_id", "grade"):
            tags.setdefault(pid, []).append((tag_id, grade))
        for pid, hid, birth in Person.objects.filter(
            household_id__in=chunk, erased_at__isnull=True
        ).values_list("pk", "household_id", "birth_date"):
            members.setdefault(hid, []).append((birth, tags.get(pid, [])))
    for h in households:
        derived, party = table.derive(members.get(h.pk, []), today)
        h.derived_level = derived
        h.has_party_member = party
        if h.override_level_id is None or (h.override_until and h.override_until < today):
            h.care_level = derived
        if h.last_visit_on is None or h.care_level is None:
            h.next_visit_due = today
        else:
            h.next_visit_due = h.last_visit_on + timedelta(days=h.care_level.visit_every_days)
    # A few distinct outcomes (level × party × due date): one UPDATE per outcome and
    # chunk, far cheaper than bulk_update's CASE per row.
    groups: dict[tuple[Any, ...], list[int]] = {}
    for h in households:
        key = (h.derived_level_id, h.care_level_id, h.has_party_member, h.next_visit_due)
        groups.setdefault(key, []).append(h.pk)
    for (derived_id, care_id, party, due), pks in groups.items():
        for i in range(0, len(pks), 900):
            Household.objects.filter(pk__in=pks[i:i + 900]).update(
                derived_level_id=derived_id, care_level_id=care_id, has_party_member=party,
                next_visit_due=due,
            )


# -- workbooks ---------------------------------------------------------------------------------


def _safe(value: Any) -> Any:
    """Spreadsheet cells never start a formula (CSV/XLSX injection)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return value


def _save(wb: Workbook) -> bytes:
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def template_workbook() -> bytes:
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(_("台账"))
    ws.append(COLUMNS)
    ws.append(["1", "1", "3", "302", "户主", "王秀兰", "女", "", "", "13800000000",
               "在住", "空巢老人；残疾人2级", ""])
    help_ws = wb.create_sheet(_("说明"))
    help_ws.append([_("每行一人；同一楼栋、单元、门牌的人为同一户。")])
    help_ws.append([_("必填：楼栋、单元、门牌、姓名。填写身份证号时，性别和出生日期由身份证号得出。")])
    help_ws.append([_("户主关系：") + "、".join(_RELATIONS)])
    help_ws.append([_("标签：") + "、".join(
        t.name + (_("（注明 1–4 级）") if t.graded else "")
        for t in Tag.objects.filter(derived=False)
    )])
    return _save(wb)


def errors_workbook(errors: Iterable[dict[str, Any]]) -> bytes:
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(_("错误"))
    ws.append([_("行"), _("列"), _("问题")])
    for e in errors:
        ws.append([e["row"], _safe(e["column"]), _safe(e["message"])])
    return _save(wb)


def export_workbook(people: Iterable[Person]) -> bytes:
    """The register with full numbers (callers check the right to export and log it)."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(_("台账"))
    ws.append(COLUMNS)
    for p in people:
        h = p.household
        assert h is not None
        tags = "；".join(
            t.tag.name + (f"{t.grade}级" if t.grade else "") for t in p.tags.all()
        )
        ws.append([_safe(v) for v in (
            h.entrance.building.number, h.entrance.number, h.floor, h.door,
            p.get_relation_display(), p.name, p.get_sex_display(),
            p.birth_date.isoformat() if p.birth_date else "",
            crypto.decrypt(p.id_cipher), crypto.decrypt(p.phone_cipher),
            p.get_presence_display(), tags, p.notes,
        )])
    return _save(wb)
