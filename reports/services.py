"""Filing a case, and the other domain writes that are not case transitions.

State transitions live in ``reports.workflow``; filing creates the case (state
``reported``) and schedules routing (``reports.dispatching``) once it has committed.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from grids import geo
from grids.models import Building, Department, Entrance, Level, Region, Role
from grids.selectors import region_contains, scope_for
from jinzhitong import ratelimit
from reports import effects, workflow
from reports.errors import WorkflowError
from reports.events import event_write
from reports.models import (
    OPEN_STATES,
    CaseSequence,
    Category,
    EventKind,
    FilingStandard,
    Notification,
    Report,
    ReportEvent,
    Source,
    Stage,
    State,
    Urgency,
)
from reports.photos import MAX_PHOTOS, files_removed_on_failure, photos_check_pixels, photos_ingest
from reports.selectors import reports_visible_to
from reports.workflow import check_category, check_text, prepare_photos

logger = logging.getLogger(__name__)


# -- numbers -----------------------------------------------------------------------------


def next_case_number(district: Region, now: datetime) -> str:
    """District code + local date + a per-day sequence, e.g. 120104-20261123-0001.

    One atomic upsert, so two reports filed at the same instant never share a number.
    """
    local = timezone.localtime(now)
    prefix = f"{district.code}-{local:%Y%m%d}"
    table = CaseSequence._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (prefix, last) VALUES (%s, 1) "
            f"ON CONFLICT (prefix) DO UPDATE SET last = {table}.last + 1 RETURNING last",
            [prefix],
        )
        (seq,) = cursor.fetchone()
    return f"{prefix}-{seq:04d}"


# -- validation ----------------------------------------------------------------------------


IDEMPOTENCY_KEY_LENGTH = 64  # Report.idempotency_key's max_length

# The longest description (and sighting note) and address a case takes: longer ones are
# refused with a message, never cut (the forms check the same limits).
MAX_DESCRIPTION = 2000
MAX_ADDRESS = 200  # Report.address's max_length


def _description(description: str, address: str) -> tuple[str, str]:
    """The description (required) and address, stripped, or a refusal naming the limit."""
    description = check_text(description, limit=MAX_DESCRIPTION, what=_("问题描述"))
    if not description:
        raise WorkflowError(_("请填写问题描述"))
    return description, check_text(address, limit=MAX_ADDRESS, what=_("地址"))


def _idempotency_key(value: str | None) -> str:
    """The submission's key (1–64 characters), or a clear refusal: an empty key would
    match an earlier case of the same reporter, and the column holds 64 characters
    (SQLite would not enforce that)."""
    key = (value or "").strip()
    if not key or len(key) > IDEMPOTENCY_KEY_LENGTH:
        raise WorkflowError(_("缺少有效的提交标识，请刷新页面后重试"))
    return key


def _may_file(user: User, grid: Region) -> bool:
    scope = scope_for(user)
    if scope.is_global:
        return True
    for role, region in scope.region_roles:
        if role == Role.GRID_WORKER and region.pk == grid.pk:
            return True
        if role == Role.GRID_HEAD and region.pk == grid.parent_id:
            return True
        if role in (Role.STREET_STAFF, Role.DISTRICT_STAFF) and region_contains(region, grid):
            return True
    return False


def _resolve_grid(grid: Region | None, lng: float | None, lat: float | None) -> Region:
    if grid is not None:
        if grid.level != Level.GRID:
            raise WorkflowError(_("请选择网格"))
        _check_position(grid, lng, lat)
        return grid
    if lng is None or lat is None:
        raise WorkflowError(_("请提供位置或选择网格"))
    hit = geo.get_index().locate(lng, lat)
    if hit is None:
        raise WorkflowError(_("该位置不在任何网格内，请在地图上手动选择位置"))
    return Region.objects.get(pk=hit.id)


def _check_position(grid: Region, lng: float | None, lat: float | None) -> None:
    """A chosen grid and a submitted position must agree, up to the GPS error
    REPORT_POSITION_TOLERANCE_M (a 南开 case was stored at Xining's coordinates)."""
    if lng is None or lat is None or not grid.boundary:
        return
    tolerance = settings.REPORT_POSITION_TOLERANCE_M
    outside = geo.distance_outside_m(grid.boundary, lng, lat)
    if outside > tolerance:
        raise WorkflowError(
            _("定位位置不在所选网格“%(grid)s”内（相距约 %(m)d 米，允许误差 %(tol)d 米），"
              "请重新定位，或选择位置所在的网格")
            % {"grid": grid.name, "m": round(outside), "tol": tolerance}
        )


def _check_pixels(*photo_lists: list[Any] | None) -> None:
    """All photos of one request together, from their headers, before any is decoded."""
    try:
        photos_check_pixels([p for photos in photo_lists for p in (photos or [])])
    except ValidationError as e:
        raise WorkflowError(e.messages[0]) from e


def filing_throttle(*, reporter: User, address: str | None, idempotency_key: str) -> str:
    """Count one filing attempt of ``reporter`` from ``address``; the Chinese reason when
    REPORT_FILING_RATE (per user) or REPORT_FILING_RATE_PER_ADDRESS is exceeded, else "".

    A retry of a submission already stored (same idempotency key) is not counted: the
    phone's offline queue resends until it gets its answer."""
    key = (idempotency_key or "").strip()[:IDEMPOTENCY_KEY_LENGTH]
    if key and Report.objects.filter(reporter=reporter, idempotency_key=key).exists():
        return ""
    count, seconds = settings.REPORT_FILING_RATE
    wait = ratelimit.hit(f"filing:user:{reporter.pk}", settings.REPORT_FILING_RATE)
    if wait is not None:
        return _("提交过于频繁：每人每 %(s)d 秒最多提交 %(n)d 次，请 %(wait)d 秒后再试") % {
            "s": seconds, "n": count, "wait": wait,
        }
    if address:
        count, seconds = settings.REPORT_FILING_RATE_PER_ADDRESS
        wait = ratelimit.hit(f"filing:addr:{address}", settings.REPORT_FILING_RATE_PER_ADDRESS)
        if wait is not None:
            return _("本网络提交过于频繁：每 %(s)d 秒最多提交 %(n)d 次，请 %(wait)d 秒后再试") % {
                "s": seconds, "n": count, "wait": wait,
            }
    return ""


def _check_place(grid: Region, building: Building | None, entrance: Entrance | None) -> None:
    if building is not None and building.grid_id != grid.pk:
        raise WorkflowError(_("所选楼栋不在该网格内"))
    if entrance is not None and (building is None or entrance.building_id != building.pk):
        raise WorkflowError(_("所选单元不属于该楼栋"))


# -- filing -------------------------------------------------------------------------------


def report_file(
    *,
    reporter: User,
    category: Category,
    description: str,
    idempotency_key: str,
    grid: Region | None = None,
    lng: float | None = None,
    lat: float | None = None,
    standard: FilingStandard | None = None,
    urgency: str = Urgency.NORMAL,
    building: Building | None = None,
    entrance: Entrance | None = None,
    address: str = "",
    source: str = Source.GRID_WORKER,
    photos: list[Any] | None = None,
) -> Report:
    """信息收集: store a new case, then route it once the transaction has committed.

    A retry with the same ``idempotency_key`` returns the case the first attempt made.
    Filing never depends on the broker: routing is enqueued after commit, and a sweep
    re-enqueues anything left unrouted.
    """
    key = _idempotency_key(idempotency_key)
    existing = Report.objects.filter(reporter=reporter, idempotency_key=key).first()
    if existing is not None:
        return existing
    description, address = _description(description, address)
    if len(photos or []) > 9:
        raise WorkflowError(_("最多上传 9 张照片"))
    _check_pixels(photos)
    photos = prepare_photos(photos)
    grid = _resolve_grid(grid, lng, lat)
    if not _may_file(reporter, grid):
        raise PermissionDenied(_("您不能在该网格上报案件"))
    category, standard = check_category(category, standard)
    _check_place(grid, building, entrance)
    if lng is None and building is not None:
        lng, lat = building.lng, building.lat
    community, street, district = _ancestors(grid)
    try:
        # Outside the transaction: if it fails, even at commit, the photos' files go too.
        with files_removed_on_failure(), transaction.atomic():
            now = timezone.now()
            report = Report(
                number=next_case_number(district, now),
                state=State.REPORTED,
                source=source,
                reporter=reporter,
                idempotency_key=key,
                grid=grid,
                community=community,
                street=street,
                district=district,
                building=building,
                entrance=entrance,
                lng=lng,
                lat=lat,
                address=address,
                category=category,
                standard=standard,
                urgency=urgency,
                description=description,
                accept_due=workflow._due(now, workflow.stage_limit(Stage.ACCEPT)),
            )
            report.save()
            event = event_write(
                report=report,
                kind=EventKind.FILED,
                actor=reporter,
                to_state=State.REPORTED,
                note=description,
                data={"grid": grid.code, "category": category.code},
            )
            if photos:
                photos_ingest(
                    report=report, kind="report", files=photos, uploaded_by=reporter, event=event
                )
                effects.thumbnails_on_commit(report.pk)
            effects.route_on_commit(report.pk)
    except IntegrityError:
        # The same submission raced itself (double tap on a slow network).
        existing = Report.objects.filter(reporter=reporter, idempotency_key=key).first()
        if existing is None:
            raise
        return existing
    return report


def report_file_self_handled(
    *,
    reporter: User,
    category: Category,
    description: str,
    idempotency_key: str,
    before_photos: list[Any],
    after_photos: list[Any],
    grid: Region | None = None,
    lng: float | None = None,
    lat: float | None = None,
    building: Building | None = None,
    entrance: Entrance | None = None,
    address: str = "",
) -> Report:
    """自处: a grid worker fixed a small problem on the spot — filed closed, with
    before/after photos ("小事不出网格"); counted apart in statistics, never routed."""
    key = _idempotency_key(idempotency_key)
    existing = Report.objects.filter(reporter=reporter, idempotency_key=key).first()
    if existing is not None:
        return existing
    if not before_photos or not after_photos:
        raise WorkflowError(_("自行处置须上传处置前和处置后照片"))
    description, address = _description(description, address)
    _check_pixels(before_photos, after_photos)
    before_photos = prepare_photos(before_photos)
    after_photos = prepare_photos(after_photos)
    grid = _resolve_grid(grid, lng, lat)
    scope = scope_for(reporter)
    if not any(
        (role == Role.GRID_WORKER and r.pk == grid.pk)
        or (role == Role.GRID_HEAD and r.pk == grid.parent_id)
        for role, r in scope.region_roles
    ):
        raise PermissionDenied(_("只有本网格的网格员可以自行处置"))
    category, standard = check_category(category, None)
    _check_place(grid, building, entrance)
    community, street, district = _ancestors(grid)
    with files_removed_on_failure(), transaction.atomic():
        now = timezone.now()
        report = Report.objects.create(
            number=next_case_number(district, now),
            state=State.CLOSED,
            source=Source.GRID_WORKER,
            reporter=reporter,
            idempotency_key=key,
            grid=grid,
            community=community,
            street=street,
            district=district,
            building=building,
            entrance=entrance,
            lng=lng,
            lat=lat,
            address=address,
            category=category,
            standard=standard,
            description=description,
            self_handled=True,
            closed_at=now,
            closed_on_time=True,
            routed_version=1,
        )
        event = event_write(
            report=report,
            kind=EventKind.SELF_HANDLED,
            actor=reporter,
            to_state=State.CLOSED,
            note=description,
        )
        photos_ingest(
            report=report, kind="before", files=before_photos, uploaded_by=reporter, event=event
        )
        photos_ingest(
            report=report, kind="after", files=after_photos, uploaded_by=reporter, event=event
        )
        effects.thumbnails_on_commit(report.pk)
    return report


# Sightings add photos of kind "report" to a case that may already hold nine; a case
# seen by many workers may collect more, but not without bound.
SIGHTING_PHOTO_CAP = 90


def report_add_sighting(
    report: Report,
    *,
    actor: User,
    note: str,
    idempotency_key: str,
    photos: list[Any] | None = None,
) -> ReportEvent:
    """附近已有相同问题 → "我也看到了": add a worker's sighting (note and photos) to an open
    case instead of filing a duplicate. One timeline event of kind ``sighting``; not a
    state change. A retry with the same key returns the first event."""
    key = _idempotency_key(idempotency_key)
    if not reports_visible_to(actor).filter(pk=report.pk).exists():
        raise PermissionDenied(_("您无权查看该案件"))
    note = check_text(note, limit=MAX_DESCRIPTION, what=_("补充说明"))
    if not note and not photos:
        raise WorkflowError(_("请填写补充说明或上传照片"))
    if len(photos or []) > MAX_PHOTOS:
        raise WorkflowError(_("最多上传 9 张照片"))
    _check_pixels(photos)
    prepared = prepare_photos(photos)
    with files_removed_on_failure(), transaction.atomic():
        locked = Report.objects.select_for_update().get(pk=report.pk)
        existing = ReportEvent.objects.filter(
            report=locked, kind=EventKind.SIGHTING, actor=actor, data__key=key
        ).first()
        if existing is not None:
            return existing
        if locked.state not in OPEN_STATES:
            raise WorkflowError(_("该案件已办结，请重新上报"))
        event = event_write(
            report=locked,
            kind=EventKind.SIGHTING,
            actor=actor,
            from_state=locked.state,
            note=note,
            data={"key": key, "photos": len(prepared)},
        )
        if prepared:
            try:
                photos_ingest(
                    report=locked,
                    kind="report",
                    files=prepared,
                    uploaded_by=actor,
                    event=event,
                    max_count=SIGHTING_PHOTO_CAP,
                )
            except ValidationError as e:
                raise WorkflowError("；".join(e.messages)) from e
            effects.thumbnails_on_commit(locked.pk)
    return event


def _ancestors(grid: Region) -> tuple[Region, Region, Region]:
    by_level = {r.level: r for r in grid.get_ancestors()}
    return by_level[Level.COMMUNITY], by_level[Level.STREET], by_level[Level.DISTRICT]


# -- notices -------------------------------------------------------------------------------


def notification_mark_read(
    *, user: User, ids: Iterable[int] | None = None, report: Report | None = None
) -> int:
    """Mark the user's own notices read — those listed, all about one case, or (neither
    given) all of them. Someone else's notices are never touched. Returns how many changed."""
    notices = Notification.objects.filter(recipient=user, read_at__isnull=True)
    if ids is not None:
        notices = notices.filter(pk__in=list(ids))
    if report is not None:
        notices = notices.filter(report=report)
    return notices.update(read_at=timezone.now())


# -- desk ------------------------------------------------------------------------------


def report_accept_and_dispatch(
    report: Report, *, actor: User, department: Department, note: str = ""
) -> Report:
    """One click at triage: 立案 (when still new) and 派遣, both or neither."""
    with transaction.atomic():
        if report.state == State.REPORTED:
            report = workflow.report_accept(report, actor=actor, note=note)
        return workflow.report_dispatch(report, actor=actor, department=department, note=note)
