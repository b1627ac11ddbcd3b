"""The demo city's case history: a few hundred cases over the last 90 days, once.

``load_demo`` calls ``demo_history_load()`` after the people and the catalogue are in. The
cases are drawn by the benchmark generator (``casegen.generator.CaseMaker``, which checks
every state change against ``reports.workflow.TRANSITIONS``) over a world made of the demo's
own people: each street with a grid worker or grid head gets cases in those grids, triaged by
the street's center, dispatched to the street's department (or, transferred up, the
district's) and handled by its handler login. A street nobody triages (西宁's) gets cases its
worker fixed on the spot, and a few waiting. Photos point at a few real JPEG files made here,
so case pages show pictures; the bell of whoever must act now has the notices the workflow
would have sent; the statistics are rebuilt from the events.

Marked by idempotency keys starting with ``demo-``: a second run adds nothing.
"""

from __future__ import annotations

import io
import random
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from PIL import Image, ImageDraw

from casegen.generator import (
    CaseMaker,
    World,
    _reset_sequences,
    _write_cases_python,
    minor_limits,
    stage_limits,
)
from evaluation.rollup import rollups_rebuild
from grids.models import Assignment, Building, Level, Region, Role
from reports import notifications
from reports.models import (
    Category,
    Notification,
    PhotoKind,
    Report,
    ReportEvent,
    ReportPhoto,
    State,
    TimeRequest,
)
from reports.notifications import NoticeKind, Recipients, notify

DEMO_KEY_PREFIX = "demo-"
DAYS = 90
CASES = 360
SEED = 2026
# A grid whose own worker logs in (张鑫's, 王丽's) gets this many shares of the cases.
OWN_WORKER_WEIGHT = 4
PHOTO_VARIANTS = 3
# Two of three cases filed in this last stretch are still being worked on.
RECENT = timedelta(days=21)
# Notices about what happened in the last days are unread; older ones were read.
UNREAD_FOR = timedelta(days=3)

# The longest wait (seconds) in the states whose stage limit is minutes (most are on time).
_ON_DUTY: dict[str, int] = {State.REPORTED: 1200, State.ACCEPTED: 1200,
                            State.TRANSFERRED: 1200, State.DISPATCHED: 3600,
                            State.HANDLED: 2400}
# Plausible descriptions by major category code; the minor category's name comes first.
_PLACES = ["楼前", "楼后空地", "小区南门", "单元门口", "楼顶", "路口", "绿化带旁", "车棚附近"]
_DETAILS = {
    "01": ["堆放多日，气味明显", "影响居民通行", "清理后又有人倾倒"],
    "02": ["存在安全隐患", "夜间影响照明和通行", "居民多次反映"],
    "03": ["绿地被破坏", "树木长势影响采光", "需尽快恢复"],
    "04": ["楼顶长出小树，根系可能破坏防水层", "外墙有脱落风险", "居民担心安全"],
}


@dataclass(frozen=True)
class DemoPhoto:
    image: str
    thumbnail: str


def _picture(kind: str, variant: int, size: tuple[int, int]) -> bytes:
    """A simple scene (sky, a building, ground; green when fixed), not a real photograph."""
    rnd = random.Random(f"{kind}-{variant}")
    w, h = size
    fixed = kind in (PhotoKind.RESULT, PhotoKind.AFTER)
    img = Image.new("RGB", size, (176, 204, 226))
    draw = ImageDraw.Draw(img)
    draw.rectangle([0, int(h * 0.72), w, h], fill=(120, 150, 90) if fixed else (128, 112, 96))
    left = int(w * (0.15 + 0.1 * rnd.random()))
    draw.rectangle([left, int(h * 0.2), left + int(w * 0.45), int(h * 0.72)],
                   fill=(196, 180, 160))
    for row in range(4):
        for col in range(4):
            x = left + 20 * w // 1024 + col * w // 10
            y = int(h * 0.26) + row * h // 9
            draw.rectangle([x, y, x + w // 20, y + h // 16], fill=(90, 110, 140))
    if not fixed:
        # The problem: something out of place by the building.
        cx, cy = int(w * (0.7 + 0.1 * rnd.random())), int(h * 0.7)
        draw.ellipse([cx - w // 12, cy - h // 10, cx + w // 12, cy + h // 20], fill=(70, 90, 40))
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=80)
    return buf.getvalue()


def demo_photos_ensure() -> dict[str, list[DemoPhoto]]:
    """The few photo files every demo case points at (written once into the media folder)."""
    photos: dict[str, list[DemoPhoto]] = defaultdict(list)
    for kind in (PhotoKind.REPORT, PhotoKind.RESULT, PhotoKind.BEFORE, PhotoKind.AFTER):
        for v in range(PHOTO_VARIANTS):
            image = f"reports/demo/{kind}-{v}.jpg"
            thumb = f"reports/demo/thumbs/{kind}-{v}.jpg"
            for name, size in ((image, (1024, 768)), (thumb, (320, 240))):
                if not default_storage.exists(name):
                    default_storage.save(name, ContentFile(_picture(kind, v, size)))
            photos[kind].append(DemoPhoto(image, thumb))
    return photos


class DemoCaseMaker(CaseMaker):
    """The generator's case maker with the demo's keys, descriptions and photo files, and
    recent cases left open in turn through every open state, grid by grid, so that each
    login's queue (triage, inbox, check, closing) has work in it."""

    key_prefix = DEMO_KEY_PREFIX
    photos: dict[str, list[DemoPhoto]] = {}
    category_names: dict[int, tuple[str, str]] = {}  # id → (name, major code)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.recent: dict[int, int] = defaultdict(int)
        self.opened: dict[int, int] = defaultdict(int)

    def _step(self, low: float, high: float) -> None:
        # Centers on duty triage within minutes, departments sign and grid workers check
        # within the hour: the benchmark's long waits would make every triage stage late
        # against the default 15/15/30 working-minute limits, and the demo's rates all 0 %.
        cap = _ON_DUTY.get(self.state)
        if cap is not None:
            high = min(high, max(2 * low, cap))
        super()._step(low, high)

    def _draw_target(self, created: datetime) -> str:
        if self.end - created >= RECENT:
            return super()._draw_target(created)
        grid = self.row["grid_id"]
        self.recent[grid] += 1
        if self.recent[grid] % 3 == 0:
            return super()._draw_target(created)
        self.opened[grid] += 1
        stops = self.open_stops
        return stops[self.opened[grid] % len(stops)]

    def _description(self, report_id: int, category: int) -> str:
        name, major = self.category_names.get(category, ("", ""))
        rnd = random.Random(report_id)
        detail = rnd.choice(_DETAILS.get(major, ["请尽快处理", "居民反映强烈", "已持续数日"]))
        return f"{name}：{detail}（{rnd.choice(_PLACES)}）"

    def _photo(self, event_id: int, kind: str, by: int, n: int = 1) -> None:
        choices = self.photos.get(kind) or self.photos[PhotoKind.REPORT]
        for i in range(n):
            p = choices[(self.report_id + i) % len(choices)]
            self.batch.photos.append(
                (self.report_id, event_id, kind, p.image, p.thumbnail, 1024, 768, by, self.t)
            )


def _first_user(assignments: list[Assignment], role: str, **where: int) -> int | None:
    for a in assignments:
        if a.role == role and all(getattr(a, k) == v for k, v in where.items()):
            return a.user_id
    return None


def demo_world() -> World | None:
    """The demo's people as the generator's world; None when the demo has no grid worker."""
    assignments = list(
        Assignment.objects.filter(user__is_active=True).select_related("department")
        .order_by("user_id", "pk")
    )
    regions = {r.pk: r for r in Region.objects.filter(level__lte=Level.GRID)}

    def up(r: Region, level: int) -> Region:
        while r.level > level and r.parent_id is not None:
            r = regions[r.parent_id]
        return r

    grid_rows: list[tuple[int, int, int, int, float, float]] = []
    worker: dict[int, int] = {}
    street_staff: dict[int, int] = {}
    district_staff: dict[int, int] = {}
    street_dept: dict[int, tuple[int, int]] = {}
    district_dept: dict[int, tuple[int, int]] = {}
    for grid in sorted((r for r in regions.values() if r.level == Level.GRID),
                       key=lambda r: r.code):
        community, street, district = (up(grid, lv) for lv in
                                       (Level.COMMUNITY, Level.STREET, Level.DISTRICT))
        own = _first_user(assignments, Role.GRID_WORKER, region_id=grid.pk)
        head = _first_user(assignments, Role.GRID_HEAD, region_id=community.pk)
        if own is None and head is None:
            continue
        worker[grid.pk] = own or head  # type: ignore[assignment]
        for level_id, staff_role, staff, depts in (
            (street.pk, Role.STREET_STAFF, street_staff, street_dept),
            (district.pk, Role.DISTRICT_STAFF, district_staff, district_dept),
        ):
            user = _first_user(assignments, staff_role, region_id=level_id)
            if user is not None:
                staff[level_id] = user
            handler = next(
                (a for a in assignments if a.role == Role.HANDLER and a.department is not None
                 and a.department.region_id == level_id), None,
            )
            if handler is not None and handler.department_id is not None:
                depts[level_id] = (handler.department_id, handler.user_id)
        # A street needs a department with a login to dispatch to, or nobody triages it.
        if street.pk not in street_dept:
            street_staff.pop(street.pk, None)
        if district.pk not in district_staff:
            district_dept.pop(district.pk, None)
        row = (grid.pk, community.pk, street.pk, district.pk,
               grid.centroid_lng or 117.0, grid.centroid_lat or 39.0)
        weight = OWN_WORKER_WEIGHT if own is not None and street.pk in street_staff else 1
        grid_rows.extend([row] * weight)
    if not grid_rows:
        return None
    return World(
        grids=grid_rows,
        district_code={r.pk: r.code for r in regions.values() if r.level == Level.DISTRICT},
        worker=worker,
        street_staff=street_staff,
        district_staff=district_staff,
        street_dept=street_dept,
        district_dept=district_dept,
        minors=minor_limits(),
        stage=stage_limits(),
    )


def demo_history_present() -> bool:
    return Report.objects.filter(idempotency_key__startswith=DEMO_KEY_PREFIX).exists()


def demo_history_load(*, count: int = CASES, days: int = DAYS, seed: int = SEED,
                      end: datetime | None = None) -> int:
    """Write the demo's case history once; returns the cases written (0 on a second run)."""
    if demo_history_present():
        return 0
    world = demo_world()
    if world is None or not world.minors:
        return 0
    end = end or timezone.now().replace(second=0, microsecond=0)
    DemoCaseMaker.photos = demo_photos_ensure()
    DemoCaseMaker.category_names = {
        c.pk: (c.name, c.parent.code if c.parent else c.code)
        for c in Category.objects.select_related("parent")
    }
    with transaction.atomic():
        _write_cases_python(world, count=count, days=days, end=end, before_days=0,
                            rng=random.Random(seed), maker_cls=DemoCaseMaker)
        _reset_sequences([Report, ReportEvent, ReportPhoto, TimeRequest])
        _buildings_set()
        _notices_send(end)
    # The statistics and the leader's screen count the history at once.
    rollups_rebuild()
    return Report.objects.filter(idempotency_key__startswith=DEMO_KEY_PREFIX).count()


def _buildings_set() -> None:
    """Each demo case at one of its grid's buildings (the generator leaves them empty)."""
    by_grid: dict[int, list[Building]] = defaultdict(list)
    for b in Building.objects.order_by("grid_id", "number"):
        by_grid[b.grid_id].append(b)
    cases = Report.objects.filter(idempotency_key__startswith=DEMO_KEY_PREFIX,
                                  building__isnull=True).values_list("pk", "grid_id")
    chosen: dict[int, list[int]] = defaultdict(list)
    for pk, grid_id in cases:
        buildings = by_grid.get(grid_id)
        if buildings:
            chosen[buildings[pk % len(buildings)].pk].append(pk)
    for building_id, pks in chosen.items():
        b = next(x for xs in by_grid.values() for x in xs if x.pk == building_id)
        Report.objects.filter(pk__in=pks).update(building_id=building_id, lng=b.lng, lat=b.lat)


# What the person who must act now was told, by the state the case waits in.
_WAITING: dict[str, tuple[str, str, Recipients]] = {
    State.REPORTED: (NoticeKind.IN_QUEUE, "新案件 %(number)s 待分拨", notifications.center),
    State.TRANSFERRED: (
        NoticeKind.TRANSFERRED, "案件 %(number)s 已上报区级，请派遣", notifications.center
    ),
    State.DISPATCHED: (
        NoticeKind.DISPATCHED, "案件 %(number)s 已派遣至%(dept)s，请签收",
        notifications.department,
    ),
    State.HANDLED: (
        NoticeKind.HANDLED, "案件 %(number)s 已处置完毕，请到现场核查",
        notifications.grid_workers,
    ),
    State.VERIFIED: (NoticeKind.VERIFIED, "案件 %(number)s 核查通过，待结案", notifications.center),
}


def _notices_send(end: datetime) -> None:
    """The notices the workflow would have sent about the cases as they stand: to whoever
    must act on each open case, to the center (and leaders) of each overdue case, to the
    reporter of each case closed in the last week."""
    cases = Report.objects.filter(idempotency_key__startswith=DEMO_KEY_PREFIX).select_related(
        "department"
    )
    for r in cases.filter(state__in=list(_WAITING)).order_by("updated_at"):
        kind, text, recipients = _WAITING[r.state]
        message = _(text) % {"number": r.number,
                             "dept": r.department.name if r.department else ""}
        _dated(notify(report_id=r.pk, kind=kind, message=message, recipients=recipients),
               r.updated_at, end)
    for r in cases.filter(is_overdue=True).order_by("overdue_notified_at"):
        message = _("案件 %(number)s 已超期（%(state)s）") % {
            "number": r.number, "state": r.get_state_display()}
        at = r.overdue_notified_at or r.updated_at
        _dated(notify(report_id=r.pk, kind=NoticeKind.OVERDUE, message=message,
                      recipients=notifications.center_and_leaders), at, end)
    for r in cases.filter(state=State.CLOSED, closed_at__gte=end - timedelta(days=7)):
        message = _("您上报的案件 %(number)s 已结案") % {"number": r.number}
        assert r.closed_at is not None
        _dated(notify(report_id=r.pk, kind=NoticeKind.CLOSED, message=message,
                      recipients=notifications.reporter), r.closed_at, end)


def _dated(notices: list[Notification], at: datetime, end: datetime) -> None:
    read_at: Any = None if end - at < UNREAD_FOR else at + timedelta(hours=2)
    Notification.objects.filter(pk__in=[n.pk for n in notices]).update(
        created_at=at, read_at=read_at
    )
