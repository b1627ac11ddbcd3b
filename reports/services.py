"""Filing a case and applying routing decisions.

State transitions themselves live in ``reports.workflow``; filing creates the case
(state ``reported``) and routing calls workflow transitions as the system (actor None).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from grids import geo
from grids.models import Building, Department, Entrance, Level, Region, Role
from grids.selectors import region_contains, scope_for
from reports import routing, workflow
from reports.events import event_write
from reports.models import (
    OPEN_STATES,
    CaseSequence,
    Category,
    EventKind,
    FilingStandard,
    Report,
    ReportEvent,
    RoutingMode,
    Source,
    Stage,
    State,
    Urgency,
)
from reports.photos import MAX_PHOTOS, photos_ingest
from reports.selectors import reports_visible_to
from reports.workflow import WorkflowError

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


def check_category(
    category: Category, standard: FilingStandard | None
) -> tuple[Category, FilingStandard | None]:
    """A case needs an active minor category; the standard must belong to it."""
    if category.parent_id is None or not category.is_active:
        raise WorkflowError(_("请选择一个有效的小类"))
    if standard is None:
        standard = category.standards.order_by("sort", "code").first()
    elif standard.category_id != category.pk:
        raise WorkflowError(_("立案条件与所选类别不符"))
    return category, standard


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
        return grid
    if lng is None or lat is None:
        raise WorkflowError(_("请提供位置或选择网格"))
    hit = geo.get_index().locate(lng, lat)
    if hit is None:
        raise WorkflowError(_("该位置不在任何网格内，请在地图上手动选择位置"))
    return Region.objects.get(pk=hit.id)


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
    key = (idempotency_key or "").strip()
    if not key or len(key) > 64:
        raise WorkflowError(_("缺少有效的提交标识，请刷新页面后重试"))
    existing = Report.objects.filter(reporter=reporter, idempotency_key=key).first()
    if existing is not None:
        return existing
    description = (description or "").strip()
    if not description:
        raise WorkflowError(_("请填写问题描述"))
    if len(photos or []) > 9:
        raise WorkflowError(_("最多上传 9 张照片"))
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
        with transaction.atomic():
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
                address=address.strip(),
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
                from reports.photos import photos_ingest

                photos_ingest(
                    report=report, kind="report", files=photos, uploaded_by=reporter, event=event
                )
                workflow._thumbnails_on_commit(report)
            enqueue_route_on_commit(report.pk)
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
    key = (idempotency_key or "").strip()
    existing = Report.objects.filter(reporter=reporter, idempotency_key=key).first()
    if existing is not None:
        return existing
    if not before_photos or not after_photos:
        raise WorkflowError(_("自行处置须上传处置前和处置后照片"))
    description = (description or "").strip()
    if not description:
        raise WorkflowError(_("请填写问题描述"))
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
    from reports.photos import photos_ingest

    with transaction.atomic():
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
            address=address.strip(),
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
        workflow._thumbnails_on_commit(report)
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
    key = (idempotency_key or "").strip()
    if not key or len(key) > 64:
        raise WorkflowError(_("缺少有效的提交标识，请刷新页面后重试"))
    if not reports_visible_to(actor).filter(pk=report.pk).exists():
        raise PermissionDenied(_("您无权查看该案件"))
    note = (note or "").strip()
    if not note and not photos:
        raise WorkflowError(_("请填写补充说明或上传照片"))
    if len(photos or []) > MAX_PHOTOS:
        raise WorkflowError(_("最多上传 9 张照片"))
    prepared = prepare_photos(photos)
    with transaction.atomic():
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
            workflow._thumbnails_on_commit(locked)
    return event


def prepare_photos(files: list[Any] | None) -> list[Any]:
    """Validate and re-encode uploads before any transaction: Pillow work (up to seconds
    for nine photos) must not run while a case row or SQLite's write lock is held."""
    if not files:
        return []
    from django.core.exceptions import ValidationError

    from reports.photos import photos_prepare

    try:
        return list(photos_prepare(files))
    except ValidationError as e:
        raise WorkflowError("；".join(e.messages)) from e


def _ancestors(grid: Region) -> tuple[Region, Region, Region]:
    by_level = {r.level: r for r in grid.get_ancestors()}
    return by_level[Level.COMMUNITY], by_level[Level.STREET], by_level[Level.DISTRICT]


# -- routing -------------------------------------------------------------------------------


def enqueue_route_on_commit(report_id: int) -> None:
    from reports.tasks import enqueue_route

    transaction.on_commit(lambda: enqueue_route(report_id))


def decide_route(report: Report, at: datetime | None = None) -> routing.Decision:
    """Which department the rule table sends this case to (no side effects)."""
    from reports.catalog import cached_rule_table

    at = at or timezone.now()
    table = cached_rule_table()
    region_path = list(report.grid.get_ancestors(include_self=True).values_list("id", flat=True))
    category_path = [c for c in (report.category.parent_id, report.category_id) if c is not None]
    names = routing.Names(
        regions=dict(Region.objects.filter(pk__in=region_path).values_list("id", "name")),
        categories=dict(Category.objects.filter(pk__in=category_path).values_list("id", "name")),
        departments=_DepartmentNames(),
    )
    return routing.route(
        region_path=region_path, category_path=category_path, at=at, table=table, names=names
    )


class _DepartmentNames(Mapping[int, str]):
    """Names for the reason text, read only for the department a decision names
    (one small query) instead of every department of the city."""

    def __getitem__(self, key: int) -> str:
        name = Department.objects.filter(pk=key).values_list("name", flat=True).first()
        if name is None:
            raise KeyError(key)
        return name

    def __iter__(self) -> Iterator[int]:
        return iter(())

    def __len__(self) -> int:
        return 0


def report_route(report_id: int) -> routing.Decision | None:
    """Apply the rule table to a case, once per routing version (safe to run twice).

    Auto rules accept and dispatch (street level) or transfer up and dispatch (district
    level) as the system; propose rules set the proposed department for the center's
    one click; no rule (or a conflict) leaves the case to the street center. The
    timeline records the rule and the reason either way.
    """
    with transaction.atomic():
        report = (
            Report.objects.select_for_update(of=("self",))
            .select_related("grid", "category")
            .filter(pk=report_id)
            .first()
        )
        if report is None or report.routed_version >= report.route_version:
            return None
        version = report.route_version
        report.routed_version = version
        report.routed_at = timezone.now()
        report.save(update_fields=["routed_version", "routed_at", "updated_at"])
        if report.state not in (State.REPORTED, State.ACCEPTED):
            event_write(
                report=report,
                kind=EventKind.ROUTE_NONE,
                actor=None,
                from_state=report.state,
                note=_("案件已由中心人工处理，未自动分拨"),
                data={"version": version},
            )
            return None
        decision = decide_route(report)
        data: dict[str, Any] = {
            "version": version,
            "rule": decision.rule.id if decision.rule else None,
            "department": decision.department_id,
            "level": decision.level,
            "mode": decision.mode,
            "conflict": decision.conflict,
        }
        if decision.rule is None:
            event_write(
                report=report,
                kind=EventKind.ROUTE_NONE,
                actor=None,
                from_state=report.state,
                note=decision.reason,
                data=data,
            )
            return decision
        event_write(
            report=report,
            kind=EventKind.ROUTED,
            actor=None,
            from_state=report.state,
            note=decision.reason,
            data=data,
        )
        assert decision.department_id is not None  # a rule always names a department
        department = Department.objects.get(pk=decision.department_id)
        if decision.mode == RoutingMode.PROPOSE:
            report.proposed_department = department
            report.save(update_fields=["proposed_department", "updated_at"])
            return decision
        try:
            with transaction.atomic():
                if decision.level == "district":
                    workflow.report_transfer_up(report, actor=None, note=_("按分拨规则上报区级"))
                elif report.state == State.REPORTED:
                    workflow.report_accept(report, actor=None, note=_("按分拨规则自动立案"))
                workflow.report_dispatch(
                    report, actor=None, department=department, note=_("按分拨规则自动派遣")
                )
        except WorkflowError as e:
            # A rule pointing at a department the case cannot go to: leave it to people.
            report.proposed_department = department
            report.save(update_fields=["proposed_department", "updated_at"])
            event_write(
                report=report,
                kind=EventKind.ROUTE_NONE,
                actor=None,
                from_state=report.state,
                note=str(e),
                data=data,
            )
        return decision
