"""A realistic case history at city scale, for benchmarks (``manage.py generate_cases``).

Writes, in bulk and without going through ``reports.workflow``, the rows the workflow
would have written for N cases spread over D days: the case, its timeline (one event per
transition, with actor, from/to state and increasing timestamps), photo rows (without
files), extension and suspension requests, the stage deadlines and the on-time flags
frozen when each stage ended, per-district-per-day numbers (``CaseSequence`` advanced
past them). Calling the workflow a million times would take hours; this is a load tool,
never used by the application itself.

The lifecycle is read from ``reports.workflow.TRANSITIONS``, never copied: every state
change the generator writes is checked against the (from_state, to_state) pairs the table
allows (``LifecycleDrift`` otherwise), the states a history may stop in while open are the
table's non-terminal states, and the deadline an open case is flagged overdue against is
``reports.workflow.running_due``. A change to the lifecycle either flows through here or
stops the generator with a message naming the transition; it cannot leave it behind.

Simplifications (documented in docs/operations.md): deadlines count wall-clock time
(a working day is counted as 1.4 calendar days, a working hour as one hour), not the
work calendar, so a generated deadline may differ from what ``reports.sla`` would say by
a weekend or a holiday.

Everything made here is marked so that a second run can tell it from real data:
usernames start with ``gen_``, idempotency keys with ``gen-``, region and department
codes with ``GEN``. On PostgreSQL, Python draws a pool of case shapes and the server
expands them into the N cases with ``INSERT ... SELECT`` (see "PostgreSQL: case shapes"
below); elsewhere each case is drawn in Python and written with bulk inserts.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from math import ceil, sqrt
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection, models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from grids.models import Assignment, Department, Level, Region, Role
from reports.catalog import import_catalog, reset_rule_table_cache
from reports.models import (
    OPEN_STATES,
    CaseSequence,
    Category,
    DispatchLevel,
    EventKind,
    FilingStandard,
    PhotoKind,
    Report,
    ReportEvent,
    ReportPhoto,
    RequestKind,
    RequestStatus,
    RoutingMode,
    RoutingRule,
    Source,
    Stage,
    StageLimit,
    State,
    TimeRequest,
    Urgency,
)
from reports.workflow import TRANSITIONS, running_due

log = logging.getLogger(__name__)
GEN_USER_PREFIX = "gen_"
GEN_KEY_PREFIX = "gen-"
GEN_CODE_PREFIX = "GEN"
SEEDS = Path(settings.BASE_DIR) / "seeds"
# China has had no daylight saving time since 1991: local time is UTC+8 all year.
LOCAL_OFFSET = timedelta(hours=8)
BATCH = 20_000
# From this many cases on, PostgreSQL's indexes on the case, event and photo tables are
# dropped before the load and built again after it.
REBUILD_INDEXES_AT = 50_000


class GenerationRefused(Exception):
    """The database holds real data and ``--force`` was not given (message in Chinese)."""


@dataclass(frozen=True)
class TreeShape:
    """Children per node at each level; the default is about Tianjin's size."""

    districts: int = 16
    streets: int = 19
    communities: int = 18
    grids: int = 4


# -- refusing real data ------------------------------------------------------------------


def real_data_present() -> str | None:
    """A Chinese sentence naming the real data in the database, or None."""
    reports = Report.objects.exclude(idempotency_key__startswith=GEN_KEY_PREFIX).count()
    if reports:
        return _("数据库中已有 %(n)s 件非生成的案件") % {"n": reports}
    users = User.objects.exclude(username__startswith=GEN_USER_PREFIX).count()
    if users:
        return _("数据库中已有 %(n)s 个非生成的用户") % {"n": users}
    return None


# -- the region tree ---------------------------------------------------------------------


def _rect(x: float, y: float, w: float, h: float) -> dict[str, Any]:
    ring = [[x, y], [x + w, y], [x + w, y + h], [x, y + h], [x, y]]
    return {"type": "Polygon", "coordinates": [[[round(a, 7), round(b, 7)] for a, b in ring]]}


def build_tree(shape: TreeShape, *, cell: float = 0.004) -> int:
    """Insert a 5-level tree with precomputed nested-set columns; returns the node count.

    Each node is a rectangle tiled by its children's rectangles (a lattice of
    ``ceil(sqrt(k))`` columns), so boundaries nest and never overlap.
    """
    counts = [shape.districts, shape.streets, shape.communities, shape.grids]
    # Width and height of a node's block at each level, from the grid cell upwards.
    size: dict[int, tuple[float, float]] = {4: (cell, cell)}
    for level in (3, 2, 1, 0):
        k = counts[level]
        cols = ceil(sqrt(k))
        rows = ceil(k / cols)
        w, h = size[level + 1]
        size[level] = (w * cols, h * rows)
    tree_id = (Region.objects.aggregate(m=models.Max("tree_id"))["m"] or 0) + 1
    by_level: list[list[Region]] = [[] for _ in range(5)]
    counter = 0
    names = ["生成市", "区", "街道", "社区", "网格"]

    def visit(level: int, code: str, name: str, parent: Region | None, x: float, y: float) -> None:
        nonlocal counter
        counter += 1
        w, h = size[level]
        node = Region(
            code=code, name=name, level=level, depth=level, tree_id=tree_id, lft=counter,
            rght=0, parent=parent, boundary=_rect(x, y, w, h),
            centroid_lng=round(x + w / 2, 7), centroid_lat=round(y + h / 2, 7),
        )
        by_level[level].append(node)
        if level < 4:
            k = counts[level]
            cols = ceil(sqrt(k))
            cw, ch = size[level + 1]
            for i in range(k):
                child_code = f"{code}{i + 1:02d}" if level < 3 else f"{code}{i + 1:03d}"
                visit(
                    level + 1, child_code, f"{name}{i + 1}{names[level + 1]}" if level else
                    f"第{i + 1}区", node, x + (i % cols) * cw, y + (i // cols) * ch,
                )
        counter += 1
        node.rght = counter

    visit(0, f"{GEN_CODE_PREFIX}{tree_id:02d}", names[0], None, 117.0, 38.8)
    # Parents first: the database trigger checks each child's parent level on insert.
    for level in range(5):
        for node in by_level[level]:
            node.parent_id = node.parent.pk if node.parent is not None else None
        Region.objects.bulk_create(by_level[level], batch_size=2000)
    return sum(len(rows) for rows in by_level)


# -- the world the cases live in ----------------------------------------------------------


@dataclass
class World:
    """Ids of everything a case refers to, loaded once."""

    # (grid, community, street, district, lng, lat) per grid.
    grids: list[tuple[int, int, int, int, float, float]]
    district_code: dict[int, str]
    worker: dict[int, int]  # grid id -> grid worker
    street_staff: dict[int, int]
    district_staff: dict[int, int]
    street_dept: dict[int, tuple[int, int]]  # street -> (department, handler)
    district_dept: dict[int, tuple[int, int]]
    # (category id, standard id or None, handling limit)
    minors: list[tuple[int, int | None, timedelta]]
    stage: dict[str, timedelta] = field(default_factory=dict)


def _limit(amount: Any, unit: str) -> timedelta:
    a = float(amount)
    if unit == "working_days":
        return timedelta(days=a * 1.4)
    if unit == "calendar_days":
        return timedelta(days=a)
    return timedelta(hours=a)


def _ensure_catalogue() -> None:
    if not Category.objects.filter(parent__isnull=False).exists():
        import_catalog((SEEDS / "categories.xlsx").read_bytes(), fmt="xlsx")


def _gen_user(username: str, full_name: str, *, superuser: bool = False) -> User:
    user = User(
        username=username, full_name=full_name, is_staff=superuser, is_superuser=superuser
    )
    user.set_unusable_password()
    return user


def _ensure_people(streets: list[Region], districts: list[Region], grids: list[Region]) -> None:
    """Departments, rules, users and assignments for every node that has none yet."""
    have = set(Department.objects.filter(code__startswith=GEN_CODE_PREFIX).values_list(
        "code", flat=True))
    new_depts = [
        Department(code=f"{GEN_CODE_PREFIX}-{r.code}-{suffix}", name=f"{r.name}{label}", region=r)
        for rs, suffix, label in ((streets, "ZFD", "综合执法大队"), (districts, "CGW", "城管委"))
        for r in rs
        if f"{GEN_CODE_PREFIX}-{r.code}-{suffix}" not in have
    ]
    Department.objects.bulk_create(new_depts, batch_size=2000)
    if not new_depts:
        return
    depts = {d.region_id: d for d in Department.objects.filter(
        code__in=[d.code for d in new_depts])}
    majors = list(Category.objects.filter(parent__isnull=True).order_by("code"))
    rules = [
        # The district takes every category; the street's own team the first ones
        # (deepest region wins), so both levels of dispatch occur.
        RoutingRule(category=c, region=d, department=depts[d.pk], level=DispatchLevel.DISTRICT,
                    mode=RoutingMode.PROPOSE, note="generated")
        for d in districts if d.pk in depts for c in majors
    ] + [
        RoutingRule(category=c, region=s, department=depts[s.pk], level=DispatchLevel.STREET,
                    mode=RoutingMode.AUTO if i % 2 == 0 else RoutingMode.PROPOSE,
                    note="generated")
        for s in streets if s.pk in depts for i, c in enumerate(majors[:-2])
    ]
    RoutingRule.objects.bulk_create(rules, batch_size=2000)
    reset_rule_table_cache()

    people: list[tuple[User, str, Region | None, Department | None]] = []
    for g in grids:
        people.append((_gen_user(f"gen_w_{g.code}", f"网格员{g.code[-6:]}"),
                       Role.GRID_WORKER, g, None))
    for s in streets:
        people.append((_gen_user(f"gen_s_{s.code}", f"{s.name}网格中心"),
                       Role.STREET_STAFF, s, None))
    for d in districts:
        people.append((_gen_user(f"gen_d_{d.code}", f"{d.name}网格中心"),
                       Role.DISTRICT_STAFF, d, None))
        people.append((_gen_user(f"gen_l_{d.code}", f"{d.name}领导"), Role.LEADER, d, None))
    for dept in depts.values():
        people.append((_gen_user(f"gen_h_{dept.code}", f"{dept.name}处置员"),
                       Role.HANDLER, None, dept))
    User.objects.bulk_create([p[0] for p in people], batch_size=2000)
    ids = dict(User.objects.filter(username__startswith=GEN_USER_PREFIX).values_list(
        "username", "id"))
    Assignment.objects.bulk_create(
        [Assignment(user_id=ids[u.username], role=role, region=region, department=dept)
         for u, role, region, dept in people],
        batch_size=2000,
    )
    if "gen_admin" not in ids:
        _gen_user("gen_admin", "生成数据管理员", superuser=True).save()


def stage_limits() -> dict[str, timedelta]:
    """Each stage's limit (as ``reports.workflow.stage_limit``, in wall-clock time)."""
    stage = {s.stage: _limit(s.amount, s.unit) for s in StageLimit.objects.all()}
    for name in (Stage.ACCEPT, Stage.DISPATCH, Stage.VERIFY):
        stage.setdefault(name, timedelta(minutes=15))
    return stage


def minor_limits() -> list[tuple[int, int | None, timedelta]]:
    """(category, its first filing standard, that standard's handling limit) per minor."""
    standards: dict[int, FilingStandard] = {}
    for std in FilingStandard.objects.order_by("category_id", "sort", "code"):
        standards.setdefault(std.category_id, std)
    minors = []
    for cat in Category.objects.filter(parent__isnull=False, is_active=True).order_by("code"):
        first = standards.get(cat.pk)
        limit = _limit(first.limit_amount, first.limit_unit) if first else timedelta(days=7)
        minors.append((cat.pk, first.pk if first else None, limit))
    return minors


def prepare_world(shape: TreeShape) -> tuple[World, int]:
    """Tree (if none), catalogue, departments, rules and users; returns the world and
    the number of regions created."""
    created = 0
    with transaction.atomic():
        if not Region.objects.exists():
            created = build_tree(shape)
        _ensure_catalogue()
        regions = list(Region.objects.order_by("pk"))
        by_id = {r.pk: r for r in regions}
        grids = [r for r in regions if r.level == Level.GRID]
        streets = [r for r in regions if r.level == Level.STREET]
        districts = [r for r in regions if r.level == Level.DISTRICT]
        _ensure_people(streets, districts, grids)
    if not grids:
        raise GenerationRefused(_("数据库中没有网格，无法生成案件"))

    def up(r: Region, level: int) -> Region:
        while r.level > level:
            r = by_id[r.parent_id]  # type: ignore[index]
        return r

    grid_rows = []
    for g in grids:
        c, s, d = up(g, Level.COMMUNITY), up(g, Level.STREET), up(g, Level.DISTRICT)
        grid_rows.append((g.pk, c.pk, s.pk, d.pk, g.centroid_lng or 117.0, g.centroid_lat or 39.0))
    users = dict(User.objects.filter(username__startswith=GEN_USER_PREFIX).values_list(
        "username", "id"))
    code = {r.pk: r.code for r in regions}
    depts = {d.code: d for d in Department.objects.filter(code__startswith=GEN_CODE_PREFIX)}

    def dept_of(r: Region, suffix: str) -> tuple[int, int]:
        dept = depts[f"{GEN_CODE_PREFIX}-{r.code}-{suffix}"]
        return dept.pk, users[f"gen_h_{dept.code}"]

    minors = minor_limits()
    world = World(
        grids=grid_rows,
        district_code={d.pk: d.code for d in districts},
        worker={g.pk: users[f"gen_w_{g.code}"] for g in grids},
        street_staff={s.pk: users[f"gen_s_{s.code}"] for s in streets},
        district_staff={d.pk: users[f"gen_d_{d.code}"] for d in districts},
        street_dept={s.pk: dept_of(s, "ZFD") for s in streets},
        district_dept={d.pk: dept_of(d, "CGW") for d in districts},
        minors=minors,
        stage=stage_limits(),
    )
    del code
    return world, created


# -- one case ------------------------------------------------------------------------------

_REPORT_DEFAULTS: dict[str, Any] = {
    "source": Source.GRID_WORKER, "building_id": None, "entrance_id": None, "address": "",
    "department_id": None, "dispatch_level": "", "proposed_department_id": None,
    "merged_into_id": None, "self_handled": False, "route_version": 1, "routed_version": 1,
    "routed_at": None, "accept_due": None, "dispatch_due": None, "handle_started": None,
    "handle_due": None, "verify_due": None, "accept_on_time": None, "dispatch_on_time": None,
    "handle_on_time": None, "verify_on_time": None, "closed_on_time": None,
    "extension_count": 0, "suspended": False, "suspension_used": False, "suspended_at": None,
    "suspended_until": None, "rework_count": 0, "return_count": 0, "urge_count": 0,
    "is_overdue": False, "overdue_notified_at": None, "closed_at": None,
}

_SOURCES = [Source.GRID_WORKER] * 14 + [Source.RESIDENT, Source.HOTLINE, Source.HOTLINE,
                                         Source.INSPECTION, Source.LEADER]
_DESCRIPTIONS = ["楼顶长出小树", "路灯倾斜", "雨水井堵塞", "绿地被开垦种菜", "垃圾暴露堆放",
                 "井盖缺失", "占道经营", "违规张贴小广告", "共享单车乱停放", "楼道堆物"]
def open_share(age: timedelta) -> float:
    """The share of cases of this age (at the present) whose history stops while open.

    Most recent cases are still being worked on; a few older ones are stuck (suspended,
    disputed, waiting for money); a case over a year old has been settled. So the open
    workload depends on the filing rate, not on how many years of history lie behind it:
    a city with ten years of cases has about as many open cases as one with a year.
    """
    if age < timedelta(days=30):
        return 0.41
    if age < timedelta(days=365):
        return 0.02
    return 0.0


# -- the lifecycle, read from the transition table -------------------------------------------


class LifecycleDrift(RuntimeError):
    """The generator wrote a state change the transition table does not allow: the
    lifecycle changed and ``CaseMaker._history`` must follow it."""


# Filing is not a transition: it starts a case as reported, or closed when self-handled.
FILING_PAIRS = frozenset({("", State.REPORTED), ("", State.CLOSED)})


def allowed_pairs(action: str) -> frozenset[tuple[str, str]]:
    """(from_state, to_state) of ``action`` in the table; no targets: the state stays."""
    t = TRANSITIONS[action]
    return frozenset((s, to) for s in t.sources for to in (t.targets or {s}))


def all_allowed_pairs() -> frozenset[tuple[str, str]]:
    """Every state change the table allows, filing included."""
    pairs: set[tuple[str, str]] = set(FILING_PAIRS)
    for action in TRANSITIONS:
        pairs |= allowed_pairs(action)
    return frozenset(pairs)


# The transition behind each event kind the generator writes (events of routing and
# filing change no state through the table: routing only records what the rules said).
EVENT_ACTION: dict[str, str] = {
    EventKind.ACCEPTED: "accept",
    EventKind.REJECTED: "reject",
    EventKind.MERGED: "merge",
    EventKind.DISPATCHED: "dispatch",
    EventKind.TRANSFERRED: "transfer_up",
    EventKind.SENT_DOWN: "send_down",
    EventKind.ACKNOWLEDGED: "acknowledge",
    EventKind.RETURNED: "return",
    EventKind.HANDLED: "handle",
    EventKind.VERIFIED: "verify",
    EventKind.REWORK: "verify",
    EventKind.CLOSED: "close",
    EventKind.EXTENSION_REQUESTED: "request_extension",
    EventKind.SUSPENSION_REQUESTED: "request_suspension",
    EventKind.EXTENSION_GRANTED: "decide_request",
    EventKind.EXTENSION_REFUSED: "decide_request",
    EventKind.SUSPENSION_GRANTED: "decide_request",
    EventKind.SUSPENSION_REFUSED: "decide_request",
    EventKind.RESUMED: "resume",
    EventKind.URGED: "urge",
    EventKind.OVERDUE: "mark_overdue",
}


def event_pairs() -> dict[str, frozenset[tuple[str, str]]]:
    """The state changes each event kind may record, read from the table now (a case maker
    reads it when made, so a changed table is what it checks against)."""
    pairs: dict[str, frozenset[tuple[str, str]]] = {
        kind: allowed_pairs(action) for kind, action in EVENT_ACTION.items()
    }
    pairs[EventKind.FILED] = frozenset({("", State.REPORTED)})
    pairs[EventKind.SELF_HANDLED] = frozenset({("", State.CLOSED)})
    # Routing records what the rules said on a reported case; an accept or dispatch it
    # leads to is an event of its own.
    pairs[EventKind.ROUTED] = pairs[EventKind.ROUTE_NONE] = frozenset(
        {(State.REPORTED, State.REPORTED)}
    )
    return pairs


def open_stops() -> list[str]:
    """The open states a history may stop in: reached by filing or by a transition, and
    left by some transition (in the order of ``State``, so a seed keeps its cases)."""
    reached = {State.REPORTED} | {s for t in TRANSITIONS.values() for s in t.targets}
    left = {s for t in TRANSITIONS.values() if t.targets for s in t.sources}
    return [s for s in State if s in reached and s in left and s in OPEN_STATES]



class _RowView:
    """A report row read as the attributes ``reports.workflow.running_due`` looks at."""

    __slots__ = ("row",)

    def __init__(self, row: dict[str, Any]) -> None:
        self.row = row

    def __getattr__(self, name: str) -> Any:
        return self.row[name]


class _Stop(Exception):
    """The case's history ends here (its target state reached, or the present)."""


@dataclass
class Batch:
    reports: list[dict[str, Any]] = field(default_factory=list)
    events: list[tuple[Any, ...]] = field(default_factory=list)
    photos: list[tuple[Any, ...]] = field(default_factory=list)
    requests: list[list[Any]] = field(default_factory=list)


# Column orders of the tuples above (attnames).
EVENT_COLS = ("id", "report_id", "kind", "actor_id", "at", "from_state", "to_state", "note",
              "data")
PHOTO_COLS = ("report_id", "event_id", "kind", "image", "thumbnail", "width", "height",
              "uploaded_by_id", "created_at")
REQUEST_COLS = ("report_id", "kind", "status", "reason", "suspend_until", "requested_by_id",
                "decided_by_id", "decision_note", "created_at", "decided_at")


class CaseMaker:
    """Draws one case after another from one seeded random stream."""

    key_prefix = GEN_KEY_PREFIX

    def __init__(self, world: World, rng: random.Random, end: datetime,
                 next_event_id: int) -> None:
        self.w = world
        self.rng = rng
        self.end = end
        self.event_id = next_event_id
        self.last_in_street: dict[int, int] = {}
        self.seq: dict[str, int] = {}
        # Local date text by UTC ordinal (+1 from 16:00 UTC on): strftime is slow.
        self.day_text: dict[int, str] = {}
        self.pairs = event_pairs()
        self.open_stops = open_stops()

    def make(self, batch: Batch, report_id: int, created: datetime) -> None:
        w, rng = self.w, self.rng
        rand = rng.random
        # int(random() * n) rather than randrange: a third of the cost.
        grid, community, street, district, lng, lat = w.grids[int(rand() * len(w.grids))]
        category, standard, handle_limit = w.minors[int(rand() * len(w.minors))]
        day = created.toordinal() if created.hour < 16 else created.toordinal() + 1
        date = self.day_text.get(day)
        if date is None:
            date = self.day_text[day] = f"{(created + LOCAL_OFFSET):%Y%m%d}"
        prefix = f"{w.district_code[district]}-{date}"
        seq = self.seq.get(prefix, 0) + 1
        self.seq[prefix] = seq
        worker = w.worker[grid]
        source = _SOURCES[int(rand() * len(_SOURCES))]
        # A street nobody triages (a demo city's corner) has only its grid worker.
        staff = w.street_staff.get(street, worker)
        reporter = worker if source in (Source.GRID_WORKER, Source.RESIDENT) else staff
        urgent = rand() < 0.1
        if urgent:
            handle_limit = handle_limit / 2
        row = dict(_REPORT_DEFAULTS)
        row.update(
            id=report_id, number=f"{prefix}-{seq:04d}", source=source, reporter_id=reporter,
            idempotency_key=f"{self.key_prefix}{report_id}", grid_id=grid,
            community_id=community, street_id=street, district_id=district,
            lng=round(lng + (rand() - 0.5) / 500, 6),
            lat=round(lat + (rand() - 0.5) / 500, 6),
            category_id=category, standard_id=standard,
            urgency=Urgency.URGENT if urgent else Urgency.NORMAL,
            description=self._description(report_id, category),
            created_at=created,
        )
        self.row, self.batch, self.t, self.report_id = row, batch, created, report_id
        self.state = ""
        self.stop = self._target(created, street, district)
        try:
            self._history(worker, staff, street, district, handle_limit)
        except _Stop:
            pass
        row["state"] = self.state
        row["updated_at"] = self.t
        self._flag_overdue()
        batch.reports.append(row)
        self.last_in_street[street] = report_id

    def _description(self, report_id: int, category: int) -> str:
        return _DESCRIPTIONS[report_id % len(_DESCRIPTIONS)]

    def _target(self, created: datetime, street: int, district: int) -> str:
        stop = self._draw_target(created)
        if street not in self.w.street_staff:
            # Nobody triages there: cases are fixed on the spot, or wait to be accepted.
            return State.REPORTED if stop in OPEN_STATES else "self_handled"
        if stop == State.TRANSFERRED and district not in self.w.district_dept:
            return State.ACCEPTED  # no district center to transfer to
        return stop

    def _draw_target(self, created: datetime) -> str:
        r = self.rng.random()
        if r < 0.07:
            return "self_handled"
        if r < 0.11:
            return State.REJECTED
        if r < 0.14:
            return State.MERGED
        if r < 0.14 + open_share(self.end - created):
            stops = self.open_stops
            return stops[int(self.rng.random() * len(stops))]
        return State.CLOSED

    # -- events

    def _step(self, low: float, high: float) -> None:
        """Time moves on by low..high seconds; the history stops at the present."""
        t = self.t + timedelta(seconds=low + self.rng.random() * (high - low))
        if t >= self.end:
            raise _Stop
        self.t = t

    def _event(self, kind: str, actor: int | None, to_state: str = "", note: str = "",
               data: str = "{}") -> int:
        from_state = self.state
        to = to_state or from_state
        if (from_state, to) not in self.pairs[kind]:
            raise LifecycleDrift(
                f"{kind}: {from_state or '-'} → {to} is not allowed by "
                f"reports.workflow.TRANSITIONS[{EVENT_ACTION.get(kind, kind)!r}]"
            )
        self.event_id += 1
        self.batch.events.append((self.event_id, self.report_id, kind, actor, self.t,
                                  from_state, to, note, data))
        self.state = to
        return self.event_id

    def _iso(self, t: datetime) -> str:
        """A time as written into an event's data (ShapeMaker leaves a placeholder)."""
        return t.isoformat()

    def _reached(self) -> None:
        if self.state == self.stop:
            raise _Stop

    def _photo(self, event_id: int, kind: str, by: int, n: int = 1) -> None:
        for i in range(n):
            self.batch.photos.append((
                self.report_id, event_id, kind,
                f"reports/generated/{self.report_id}-{kind}-{i}.jpg", "", 1280, 960, by, self.t,
            ))

    # -- the lifecycle

    def _history(self, worker: int, staff: int, street: int, district: int,
                 handle_limit: timedelta) -> None:
        row, rng, w = self.row, self.rng, self.w
        if self.stop == "self_handled":
            ev = self._event(EventKind.SELF_HANDLED, worker, State.CLOSED, row["description"])
            self._photo(ev, PhotoKind.BEFORE, worker)
            self._photo(ev, PhotoKind.AFTER, worker)
            row.update(self_handled=True, closed_at=self.t, closed_on_time=True)
            return
        ev = self._event(EventKind.FILED, row["reporter_id"], State.REPORTED, row["description"])
        self._photo(ev, PhotoKind.REPORT, row["reporter_id"], 1 + int(rng.random() * 3))
        row["accept_due"] = self.t + w.stage[Stage.ACCEPT]
        self._step(1, 30)
        row["routed_at"] = self.t
        auto = rng.random() < 0.4
        to_district = self.stop == State.TRANSFERRED or rng.random() < 0.2
        if district not in w.district_dept:
            to_district = False
        if auto:
            self._event(EventKind.ROUTED, None, note="按分拨规则自动派遣")
        else:
            self._event(EventKind.ROUTE_NONE, None, note="无匹配的分拨规则")
        self._reached()
        # Triage by the street center (or the system for auto rules).
        triage_actor = None if auto else staff
        if auto:
            self._step(1, 5)
        else:
            self._step(60, 3 * 3600)
        if self.stop == State.REJECTED:
            self._end_accept()
            row["closed_at"] = self.t
            self._event(EventKind.REJECTED, staff, State.REJECTED, "不属于受理范围")
            return
        if self.stop == State.MERGED:
            self._end_accept()
            into = self.last_in_street.get(street)
            if into is None:
                row["closed_at"] = self.t
                self._event(EventKind.REJECTED, staff, State.REJECTED, "重复上报")
                self.stop = State.REJECTED
                return
            row.update(merged_into_id=into, closed_at=self.t)
            self._event(EventKind.MERGED, staff, State.MERGED, "重复案件",
                        f'{{"into": {into}}}')
            return
        self._end_accept()
        self._event(EventKind.ACCEPTED, triage_actor, State.ACCEPTED)
        row["dispatch_due"] = self.t + w.stage[Stage.DISPATCH]
        self._reached()
        returned = rng.random() < 0.05
        while True:
            if to_district:
                self._step(30, 2 * 3600)
                row["dispatch_on_time"] = self.t <= row["dispatch_due"]
                self._event(EventKind.TRANSFERRED, triage_actor, State.TRANSFERRED)
                row["dispatch_due"] = self.t + w.stage[Stage.DISPATCH]
                self._reached()
                dept, handler = w.district_dept[district]
                dispatcher: int | None = None if auto else w.district_staff[district]
                level = DispatchLevel.DISTRICT
            else:
                dept, handler = w.street_dept[street]
                dispatcher = triage_actor
                level = DispatchLevel.STREET
            self._step(5 if auto else 60, 10 if auto else 2 * 3600)
            row["dispatch_on_time"] = self.t <= row["dispatch_due"]
            handle_due = self.t + handle_limit
            row.update(department_id=dept, dispatch_level=level, handle_started=self.t,
                       handle_due=handle_due, handle_on_time=None)
            self._event(EventKind.DISPATCHED, dispatcher, State.DISPATCHED, data=(
                f'{{"department": {dept}, "level": "{level}", '
                f'"handle_due": "{self._iso(handle_due)}"}}'))
            self._reached()
            self._step(300, 8 * 3600)
            if returned:
                returned = False
                row.update(department_id=None, handle_due=None, handle_started=None,
                           return_count=row["return_count"] + 1)
                back = State.TRANSFERRED if level == DispatchLevel.DISTRICT else State.ACCEPTED
                self._event(EventKind.RETURNED, handler, back, "非本部门职责",
                            f'{{"department": {dept}}}')
                row["dispatch_due"] = self.t + w.stage[Stage.DISPATCH]
                if back == State.TRANSFERRED:
                    to_district = False  # the district dispatches again below
                    self._step(60, 3600)
                    row["dispatch_on_time"] = self.t <= row["dispatch_due"]
                    dept, handler = w.district_dept[district]
                    handle_due = self.t + handle_limit
                    row.update(department_id=dept, handle_started=self.t,
                               handle_due=handle_due)
                    self._event(EventKind.DISPATCHED, w.district_staff[district],
                                State.DISPATCHED, data=f'{{"department": {dept}}}')
                    self._step(300, 8 * 3600)
                    break
                self._reached()
                continue
            break
        self._event(EventKind.ACKNOWLEDGED, handler, State.ACKNOWLEDGED)
        self._reached()
        center = w.district_staff[district] if level == DispatchLevel.DISTRICT else staff
        if rng.random() < 0.08:
            self._time_requests(RequestKind.EXTENSION, handler, center, handle_limit)
        if rng.random() < 0.02:
            self._time_requests(RequestKind.SUSPENSION, handler, center, handle_limit)
        if rng.random() < 0.05:
            self._step(600, 86400)
            row["urge_count"] = 1
            self._event(EventKind.URGED, center, note="请加快处置")
        reworked = rng.random() < 0.06
        while True:
            self._step(1800, handle_limit.total_seconds() * 1.3)
            row["handle_on_time"] = self.t <= row["handle_due"]
            row["verify_due"] = self.t + w.stage[Stage.VERIFY]
            row["verify_on_time"] = None
            ev = self._event(EventKind.HANDLED, handler, State.HANDLED, "已处置完毕")
            self._photo(ev, PhotoKind.RESULT, handler)
            self._reached()
            self._step(300, 3 * 3600)
            row["verify_on_time"] = self.t <= row["verify_due"]
            if reworked:
                reworked = False
                row.update(rework_count=row["rework_count"] + 1, handle_started=self.t,
                           handle_due=self.t + handle_limit, handle_on_time=None)
                self._event(EventKind.REWORK, worker, State.ACKNOWLEDGED, "现场仍未处理干净")
                continue
            break
        self._event(EventKind.VERIFIED, worker, State.VERIFIED)
        self._reached()
        self._step(60, 4 * 3600)
        flags = [row["accept_on_time"], row["dispatch_on_time"], row["handle_on_time"],
                 row["verify_on_time"]]
        row.update(closed_at=self.t, closed_on_time=all(f is not False for f in flags))
        closer = w.district_staff[district] if level == DispatchLevel.DISTRICT and \
            rng.random() < 0.5 else staff
        self._event(EventKind.CLOSED, closer, State.CLOSED)

    def _end_accept(self) -> None:
        self.row["accept_on_time"] = self.t <= self.row["accept_due"]

    def _time_requests(self, kind: str, handler: int, center: int,
                       handle_limit: timedelta) -> None:
        """A request and the center's decision; a history that ends in between leaves the
        request pending, as the workflow would."""
        row = self.row
        self._step(600, 86400)
        extension = kind == RequestKind.EXTENSION
        reason = "需协调多个部门" if extension else "需等待专项资金"
        until = None if extension else self.t + timedelta(days=30)
        request: list[Any] = [self.report_id, kind, RequestStatus.PENDING, reason, until,
                              handler, None, "", self.t, None]
        self.batch.requests.append(request)  # a list: the decision fills it in below
        self._event(EventKind.EXTENSION_REQUESTED if extension else
                    EventKind.SUSPENSION_REQUESTED, handler, note=reason)
        self._step(600, 4 * 3600)
        grant = not extension or self.rng.random() < 0.8
        request[2] = RequestStatus.GRANTED if grant else RequestStatus.REFUSED
        request[6], request[7], request[9] = center, "" if grant else "理由不充分", self.t
        if extension:
            if grant:
                row["handle_due"] = row["handle_due"] + handle_limit
                row["extension_count"] += 1
            self._event(EventKind.EXTENSION_GRANTED if grant else EventKind.EXTENSION_REFUSED,
                        center, note=request[7])
            return
        row.update(suspended=True, suspension_used=True, suspended_at=self.t,
                   suspended_until=until)
        self._event(EventKind.SUSPENSION_GRANTED, center)
        paused_from = self.t
        self._step(86400, 30 * 86400)
        row["handle_due"] = row["handle_due"] + (self.t - paused_from)
        row["suspended"] = False
        self._event(EventKind.RESUMED, None)

    def _flag_overdue(self) -> None:
        """The periodic sweep would have flagged an open case past its running deadline."""
        row = self.row
        due = running_due(_RowView(row))  # type: ignore[arg-type]
        if due is None:
            return
        at = max(due, self.t) + timedelta(minutes=1)
        if at >= self.end:
            return
        self.t = at
        row.update(is_overdue=True, overdue_notified_at=at, updated_at=at)
        self._event(EventKind.OVERDUE, None, data=f'{{"due": "{self._iso(due)}"}}')


# -- writing -------------------------------------------------------------------------------


def _columns(model: type[models.Model]) -> list[tuple[str, str]]:
    """(attname, column) of every concrete field, in table order."""
    return [(f.attname, str(f.column)) for f in model._meta.concrete_fields]


REPORT_COLS = [name for name, _col in _columns(Report)]


class Writer:
    """Rows to the database: COPY on PostgreSQL, bulk inserts elsewhere."""

    def __init__(self) -> None:
        self.pg = connection.vendor == "postgresql"

    def _copy(self, model: type[models.Model], attnames: Iterable[str],
              rows: Iterable[Sequence[Any]]) -> None:
        cols = dict(_columns(model))
        names = ", ".join(connection.ops.quote_name(cols[a]) for a in attnames)
        with connection.cursor() as cursor:
            raw = cursor.cursor  # psycopg's own cursor: Django's wrapper has no copy()
            with raw.copy(f"COPY {model._meta.db_table} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)

    def _insert(self, model: type[models.Model], attnames: tuple[str, ...] | list[str],
                rows: Iterable[Sequence[Any]]) -> None:
        # Plain INSERTs rather than bulk_create: auto_now fields would overwrite the
        # generated timestamps.
        by_attname = {f.attname: f for f in model._meta.concrete_fields}
        fields = [by_attname[a] for a in attnames]
        names = ", ".join(connection.ops.quote_name(str(f.column)) for f in fields)
        sql = (f"INSERT INTO {model._meta.db_table} ({names}) "
               f"VALUES ({', '.join(['%s'] * len(fields))})")

        def prep(f: models.Field[Any, Any], v: Any) -> Any:
            if isinstance(f, models.JSONField) and isinstance(v, str):
                return v  # already JSON text
            return f.get_db_prep_save(v, connection)

        with connection.cursor() as cursor:
            cursor.executemany(
                sql, [[prep(f, v) for f, v in zip(fields, row, strict=True)] for row in rows]
            )

    def write(self, batch: Batch) -> None:
        put: Callable[..., None] = self._copy if self.pg else self._insert
        put(Report, REPORT_COLS, ([r[c] for c in REPORT_COLS] for r in batch.reports))
        put(ReportEvent, EVENT_COLS, batch.events)
        put(ReportPhoto, PHOTO_COLS, batch.photos)
        put(TimeRequest, REQUEST_COLS, batch.requests)


def _drop_secondary_indexes(tables: list[str]) -> list[str]:
    """Drop every index but the primary keys; returns the statements that rebuild them.

    Building an index once over all rows is several times cheaper than updating twenty
    of them row by row during the load of a million cases. Unique indexes go too (the
    generated numbers and keys are unique by construction; the rebuild checks it): a
    unique constraint comes back on its rebuilt index. Primary keys stay: foreign keys
    hang on them."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT t.relname, i.relname, pg_get_indexdef(x.indexrelid), c.conname "
            "FROM pg_index x "
            "JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid "
            "LEFT JOIN pg_constraint c ON c.conindid = x.indexrelid AND c.contype = 'u' "
            "WHERE t.relname = ANY(%s) AND NOT x.indisprimary",
            [tables],
        )
        found = cursor.fetchall()
        rebuild = []
        for table, name, definition, constraint in found:
            if constraint:
                cursor.execute(f'ALTER TABLE "{table}" DROP CONSTRAINT "{constraint}"')
                rebuild.append(definition)
                rebuild.append(f'ALTER TABLE "{table}" ADD CONSTRAINT "{constraint}" '
                               f'UNIQUE USING INDEX "{name}"')
            else:
                cursor.execute(f'DROP INDEX "{name}"')
                rebuild.append(definition)
    return rebuild


def _create_indexes(statements: list[str]) -> None:
    if not statements:
        return
    with connection.cursor() as cursor:
        # Enough memory for PostgreSQL to sort each index with its parallel workers.
        cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
        for statement in statements:
            t = time.perf_counter()
            cursor.execute(statement)
            log.debug("%.2f s  %s", time.perf_counter() - t, statement[:90])


def _next_id(model: type[models.Model]) -> int:
    return int(model._default_manager.aggregate(m=models.Max("pk"))["m"] or 0) + 1


def _reset_sequences(models_: list[type[models.Model]]) -> None:
    if connection.vendor != "postgresql":
        return  # SQLite continues after the largest rowid by itself
    with connection.cursor() as cursor:
        for model in models_:
            table = model._meta.db_table
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"COALESCE((SELECT MAX(id) FROM {table}), 1))"
            )


# -- PostgreSQL: case shapes expanded by the server -----------------------------------------
#
# Drawing each case in Python costs 125-250 µs, far from 20,000 cases per second. On
# PostgreSQL, Python draws a pool of case *shapes* only (a few thousand: state path, event
# kinds and offsets, flags, counts, category), with symbolic actors; one INSERT ... SELECT
# over generate_series(1, N) then gives every case its time, shape and grid by a seeded
# hash of its ordinal, and the timeline, photos and requests follow from the shape by joins.
#
# A shape is drawn at a fixed age (time before ``end``) and serves only cases at least that
# old, shifted earlier: a history truncated by the present stays truncated before it.
# Ages: one bucket per hour over the last 30 days, one per day up to 120 days, one for
# 120 days to a year (histories are complete by then, a few stuck open), and one for
# everything older (settled: see ``open_share``).

HOUR_US = 3_600_000_000
DAY_US = 24 * HOUR_US
RECENT_BUCKETS = 30 * 24  # hourly, up to 30 days
MID_BUCKETS = 90  # daily, 30..120 days
OLD_BUCKET = RECENT_BUCKETS + MID_BUCKETS
YEAR_BUCKET = OLD_BUCKET + 1
SHAPES_RECENT = 4
SHAPES_MID = 8
SHAPES_OLD = 2000
# Symbolic actors and departments in a shape, replaced per case by the case's grid.
_WORKER, _STAFF, _DSTAFF, _SHANDLER, _DHANDLER = -1, -2, -3, -4, -5
_SDEPT, _DDEPT, _INTO = -901, -902, -903
_ACTOR_SQL = (
    "CASE {x} WHEN -1 THEN gr.worker WHEN -2 THEN gr.staff WHEN -3 THEN gr.dstaff "
    "WHEN -4 THEN gr.shandler WHEN -5 THEN gr.dhandler END"
)
_DEPT_SQL = "CASE {x} WHEN -901 THEN gr.sdept WHEN -902 THEN gr.ddept END"
# Columns a case takes from its ordinal and grid rather than from its shape.
_PER_CASE = {"id", "number", "idempotency_key", "grid_id", "community_id", "street_id",
             "district_id", "lng", "lat"}
_ACTOR_COLS = {"reporter_id"}
_DEPT_COLS = {"department_id", "proposed_department_id"}


def _bucket_age_us(bucket: int) -> int:
    if bucket < RECENT_BUCKETS:
        return bucket * HOUR_US
    if bucket < OLD_BUCKET:
        return 30 * DAY_US + (bucket - RECENT_BUCKETS) * DAY_US
    if bucket == OLD_BUCKET:
        return 120 * DAY_US
    return 365 * DAY_US


def _us(delta: timedelta) -> int:
    return delta // timedelta(microseconds=1)


class ShapeMaker(CaseMaker):
    """CaseMaker over a one-grid world of symbolic ids; times become offsets."""

    def __init__(self, world: World, rng: random.Random, end: datetime) -> None:
        symbolic = World(
            grids=[(-11, -12, -13, -14, 0.0, 0.0)],
            district_code={-14: "X"},
            worker={-11: _WORKER},
            street_staff={-13: _STAFF},
            district_staff={-14: _DSTAFF},
            street_dept={-13: (_SDEPT, _SHANDLER)},
            district_dept={-14: (_DDEPT, _DHANDLER)},
            minors=world.minors,
            stage=world.stage,
        )
        super().__init__(symbolic, rng, end, 0)
        self.iso_offsets: list[int] = []

    def _iso(self, t: datetime) -> str:
        self.iso_offsets.append(_us(t - self.row["created_at"]))
        return "%T%"

    def shape(self, shape_id: int, created: datetime) -> tuple[list[Any], list[tuple[Any, ...]],
                                                              list[tuple[Any, ...]],
                                                              list[tuple[Any, ...]]]:
        """One shape's report row, events, photos and requests (offsets in µs)."""
        batch = Batch()
        self.event_id = 0
        self.iso_offsets = []
        self.last_in_street = {-13: _INTO}
        self.make(batch, shape_id, created)
        row = batch.reports[0]
        report = [shape_id, len(batch.events)] + [
            _us(row[c] - created) if isinstance(row[c], datetime) else row[c]
            for c in SHAPE_COLS
        ]
        offsets = iter(self.iso_offsets)
        events = []
        for ev_id, _report, kind, actor, at, from_state, to_state, note, data in batch.events:
            data_off = next(offsets) if "%T%" in data else None
            sub = data_off is not None or any(str(x) in data for x in (_SDEPT, _DDEPT, _INTO))
            events.append((shape_id, ev_id - 1, kind, actor, _us(at - created), from_state,
                           to_state, note, data, data_off, sub))
        photos = [
            (shape_id, ev_id - 1, kind, int(image.rsplit("-", 1)[1].split(".")[0]), width,
             height, by, _us(at - created))
            for _r, ev_id, kind, image, _t, width, height, by, at in batch.photos
        ]
        requests = [
            (shape_id, kind, status, reason,
             None if until is None else _us(until - created), by, decided_by, note,
             _us(at - created), None if decided is None else _us(decided - created))
            for _r, kind, status, reason, until, by, decided_by, note, at, decided
            in batch.requests
        ]
        return report, events, photos, requests


SHAPE_COLS = [c for c in REPORT_COLS if c not in _PER_CASE]


def _sql_type(field: models.Field[Any, Any]) -> str:
    kind = field.get_internal_type()
    if kind == "DateTimeField":
        return "bigint"  # offset in µs from the case's creation
    if kind == "BooleanField":
        return "boolean"
    if kind == "FloatField":
        return "float8"
    if kind in ("CharField", "TextField"):
        return "text"
    return "bigint"


def _temp_table(cursor: Any, name: str, columns: Sequence[tuple[str, str]]) -> None:
    cols = ", ".join(f"{c} {t}" for c, t in columns)
    # ON COMMIT DROP, but a test's transaction never commits: a second run in it would
    # find the tables still there.
    cursor.execute(f"DROP TABLE IF EXISTS {name}")
    cursor.execute(f"CREATE TEMP TABLE {name} ({cols}) ON COMMIT DROP")


def _copy_rows(cursor: Any, table: str, rows: Iterable[Sequence[Any]]) -> None:
    with cursor.cursor.copy(f"COPY {table} FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def _load_shapes(cursor: Any, world: World, rng: random.Random, end: datetime,
                 days: int, before_us: int) -> None:
    """Draw the shapes of every age bucket a case can fall in, into temp tables (cases
    are created between ``before_us + days`` and ``before_us`` before ``end``)."""
    by_attname = {f.attname: f for f in Report._meta.concrete_fields}
    _temp_table(cursor, "gen_shape", [("shape", "int"), ("n_events", "int")] + [
        (connection.ops.quote_name(str(by_attname[c].column)), _sql_type(by_attname[c]))
        for c in SHAPE_COLS
    ] + [("n_photos", "int"), ("n_requests", "int")])
    _temp_table(cursor, "gen_event", [
        ("shape", "int"), ("idx", "int"), ("kind", "text"), ("actor", "bigint"),
        ("off", "bigint"), ("from_state", "text"), ("to_state", "text"), ("note", "text"),
        ("data", "text"), ("data_off", "bigint"), ("sub", "boolean"), ("data_json", "jsonb"),
    ])
    _temp_table(cursor, "gen_photo", [
        ("shape", "int"), ("idx", "int"), ("kind", "text"), ("i", "int"), ("width", "int"),
        ("height", "int"), ("by", "bigint"), ("off", "bigint"), ("pidx", "int"),
    ])
    _temp_table(cursor, "gen_request", [
        ("shape", "int"), ("kind", "text"), ("status", "text"), ("reason", "text"),
        ("until_off", "bigint"), ("by", "bigint"), ("decided_by", "bigint"),
        ("decision_note", "text"), ("off", "bigint"), ("decided_off", "bigint"),
        ("ridx", "int"),
    ])
    _temp_table(cursor, "gen_bucket", [("bucket", "int primary key"), ("first", "int"),
                                       ("n", "int")])
    maker = ShapeMaker(world, rng, end)
    span_us = days * DAY_US
    shapes: list[list[Any]] = []
    events: list[tuple[Any, ...]] = []
    photos: list[tuple[Any, ...]] = []
    requests: list[tuple[Any, ...]] = []
    buckets: list[tuple[int, int, int]] = []
    for bucket in range(YEAR_BUCKET + 1):
        age = _bucket_age_us(bucket)
        if age >= before_us + span_us:
            break  # no case is this old
        if bucket < YEAR_BUCKET and _bucket_age_us(bucket + 1) <= before_us:
            continue  # no case is this young
        n = (SHAPES_RECENT if bucket < RECENT_BUCKETS else
             SHAPES_MID if bucket < OLD_BUCKET else SHAPES_OLD)
        first = len(shapes)
        drawn = [maker.shape(first + j, end - timedelta(microseconds=age)) for j in range(n)]
        # The first case of a run takes its bucket's first shape: never a merge, which
        # needs an earlier case.
        merged = SHAPE_COLS.index("merged_into_id") + 2
        plain = next((j for j, d in enumerate(drawn) if d[0][merged] is None), 0)
        drawn[0], drawn[plain] = drawn[plain], drawn[0]
        for j, (report, evs, phs, reqs) in enumerate(drawn):
            shape_id = first + j
            # Photo and request counts give each case its first photo and request id;
            # event data that names nothing of the case is jsonb already.
            shapes.append([shape_id, *report[1:], len(phs), len(reqs)])
            events.extend((shape_id, *e[1:], None if e[-1] else e[-3]) for e in evs)
            photos.extend((shape_id, *p[1:], k) for k, p in enumerate(phs))
            requests.extend((shape_id, *r[1:], k) for k, r in enumerate(reqs))
        buckets.append((bucket, first, n))
    for table, rows in (("gen_shape", shapes), ("gen_event", events), ("gen_photo", photos),
                        ("gen_request", requests), ("gen_bucket", buckets)):
        _copy_rows(cursor, table, rows)
    # Per shape rather than per case: offsets become intervals (a case's times are then
    # one addition each).
    offsets = {
        "gen_shape": [connection.ops.quote_name(str(by_attname[c].column)) for c in SHAPE_COLS
                      if by_attname[c].get_internal_type() == "DateTimeField"],
        "gen_event": ["off", "data_off"],
        "gen_photo": ["off"],
        "gen_request": ["until_off", "off", "decided_off"],
    }
    for table, cols in offsets.items():
        cursor.execute(f"ALTER TABLE {table} " + ", ".join(
            f"ALTER COLUMN {c} TYPE interval USING {c} * interval '1 microsecond'" for c in cols
        ))
    cursor.execute("ANALYZE gen_shape; ANALYZE gen_event; ANALYZE gen_photo; "
                   "ANALYZE gen_request; ANALYZE gen_bucket")


def _load_grids(cursor: Any, world: World) -> None:
    _temp_table(cursor, "gen_grid", [
        ("k", "int primary key"), ("grid", "bigint"), ("community", "bigint"),
        ("street", "bigint"), ("district", "bigint"), ("lng", "float8"), ("lat", "float8"),
        ("dcode", "text"), ("worker", "bigint"), ("staff", "bigint"), ("dstaff", "bigint"),
        ("sdept", "bigint"), ("shandler", "bigint"), ("ddept", "bigint"),
        ("dhandler", "bigint"),
    ])
    rows = []
    for k, (grid, community, street, district, lng, lat) in enumerate(world.grids):
        sdept, shandler = world.street_dept[street]
        ddept, dhandler = world.district_dept[district]
        rows.append((k, grid, community, street, district, lng, lat,
                     world.district_code[district], world.worker[grid],
                     world.street_staff[street], world.district_staff[district], sdept,
                     shandler, ddept, dhandler))
    _copy_rows(cursor, "gen_grid", rows)
    cursor.execute("ANALYZE gen_grid")


class _Timed:
    """A cursor that logs how long each statement took (``-v 2`` / DEBUG logging)."""

    def __init__(self, cursor: Any) -> None:
        self._cursor = cursor
        self.cursor = cursor.cursor
        self.rowcount = 0

    def execute(self, sql: str, params: Any = None) -> None:
        t = time.perf_counter()
        self._cursor.execute(sql, params)
        self.rowcount = self._cursor.rowcount
        log.debug("%.2f s  %s", time.perf_counter() - t, " ".join(sql.split())[:70])


def _write_cases_sql(world: World, *, count: int, days: int, seed: int, end: datetime,
                     before_days: int, rng: random.Random) -> int:
    """Write ``count`` cases on PostgreSQL; returns the number of events written."""
    first_report = _next_id(Report)
    first_event = _next_id(ReportEvent)
    first_photo = _next_id(ReportPhoto)
    first_request = _next_id(TimeRequest)
    span_us = days * DAY_US
    before_us = before_days * DAY_US
    start = end - timedelta(days=before_days + days)
    hash_seed = seed * 16
    with connection.cursor() as raw:
        cursor = _Timed(raw)
        cursor.execute("SET LOCAL synchronous_commit = off")
        cursor.execute("SET LOCAL work_mem = '256MB'")
        t = time.perf_counter()
        _load_shapes(cursor, world, rng, end, days, before_us)
        _load_grids(cursor, world)
        log.debug("%.2f s  shapes drawn and loaded", time.perf_counter() - t)
        cursor.execute("DROP TABLE IF EXISTS gen_case2")
        # Case ordinal g: its creation time (increasing with g), age bucket, shape and grid.
        # u(g, k) is a seeded hash of g mapped to [0, 1).
        def u(k: int) -> str:
            return (f"((hashint8extended(g, {hash_seed + k}) & 2147483647)::float8 "
                    "/ 2147483648.0)")

        age = f"({before_us} + {span_us} - cu)"  # at ``end``, in µs
        # One statement: the cases, then their numbers (after each prefix's CaseSequence),
        # merge targets and first event/photo/request ids from window functions.
        cursor.execute(f"""
            CREATE TEMP TABLE gen_case2 ON COMMIT DROP AS
            WITH t AS (
                SELECT g, {first_report - 1} + g AS id,
                       floor({span_us}::float8 * ((g - 1) + {u(1)}) / {count})::bigint AS cu,
                       {u(2)} AS u_shape, {u(3)} AS u_grid, {u(4)} AS u_lng, {u(5)} AS u_lat
                FROM generate_series(1, {count}) AS g
            ), b AS (
                SELECT t.*, %(start)s::timestamptz + cu * interval '1 microsecond' AS created,
                       CASE WHEN {age} < {30 * DAY_US}
                            THEN ({age}) / {HOUR_US}
                            WHEN {age} < {120 * DAY_US}
                            THEN {RECENT_BUCKETS} + ({age} - {30 * DAY_US}) / {DAY_US}
                            WHEN {age} < {365 * DAY_US} THEN {OLD_BUCKET}
                            ELSE {YEAR_BUCKET} END AS bucket
                FROM t
            ), s AS (
                SELECT b.g, b.id, b.created, b.u_lng, b.u_lat,
                       bk.first + CASE WHEN b.g = 1 THEN 0
                                       ELSE floor(b.u_shape * bk.n)::int END AS shape,
                       floor(b.u_grid * {len(world.grids)})::int AS gk
                FROM b JOIN gen_bucket bk ON bk.bucket = b.bucket
            ), c AS (
                SELECT s.*, sh.n_events, sh.n_photos, sh.n_requests, gr.street, gr.district,
                       gr.dcode || '-' || to_char(s.created AT TIME ZONE 'Asia/Shanghai',
                                                  'YYYYMMDD') AS prefix
                FROM s JOIN gen_shape sh ON sh.shape = s.shape JOIN gen_grid gr ON gr.k = s.gk
            )
            SELECT c.*,
                   COALESCE(lag(c.id) OVER (PARTITION BY c.street ORDER BY c.id),
                            NULLIF(c.id - 1, {first_report - 1})) AS into_id,
                   row_number() OVER (PARTITION BY c.prefix ORDER BY c.id)
                       + COALESCE(q.last, 0) AS seq,
                   {first_event} + sum(c.n_events) OVER w - c.n_events AS first_event,
                   {first_photo} + sum(c.n_photos) OVER w - c.n_photos AS first_photo,
                   {first_request} + sum(c.n_requests) OVER w - c.n_requests AS first_request
            FROM c LEFT JOIN {CaseSequence._meta.db_table} q ON q.prefix = c.prefix
            WINDOW w AS (ORDER BY c.id)
        """, {"start": start})
        by_attname = {f.attname: f for f in Report._meta.concrete_fields}
        columns, exprs = [], []
        for attname in REPORT_COLS:
            f = by_attname[attname]
            col = connection.ops.quote_name(str(f.column))
            columns.append(col)
            if attname == "id":
                exprs.append("c.id")
            elif attname == "number":
                exprs.append("c.prefix || '-' || CASE WHEN c.seq < 10000 "
                             "THEN lpad(c.seq::text, 4, '0') ELSE c.seq::text END")
            elif attname == "idempotency_key":
                exprs.append(f"'{GEN_KEY_PREFIX}' || c.id")
            elif attname in ("grid_id", "community_id", "street_id", "district_id"):
                exprs.append(f"gr.{attname[:-3]}")
            elif attname in ("lng", "lat"):
                exprs.append(f"round((gr.{attname} + (c.u_{attname} - 0.5) / 500)::numeric, 6)"
                             "::float8")
            elif attname == "merged_into_id":
                exprs.append(f"CASE WHEN s.{col} IS NOT NULL THEN c.into_id END")
            elif attname in _ACTOR_COLS:
                exprs.append(_ACTOR_SQL.format(x=f"s.{col}"))
            elif attname in _DEPT_COLS:
                exprs.append(_DEPT_SQL.format(x=f"s.{col}"))
            elif f.get_internal_type() == "DateTimeField":
                exprs.append(f"c.created + s.{col}")
            else:
                exprs.append(f"s.{col}")
        joins = ("FROM gen_case2 c JOIN gen_shape s ON s.shape = c.shape "
                 "JOIN gen_grid gr ON gr.k = c.gk")
        cursor.execute(f"INSERT INTO {Report._meta.db_table} ({', '.join(columns)}) "
                       f"SELECT {', '.join(exprs)} {joins}")
        iso = ("to_char((c.created + e.data_off) AT TIME ZONE 'UTC', "
               "'YYYY-MM-DD\"T\"HH24:MI:SS.US') || '+00:00'")
        data = (f"CASE WHEN e.sub THEN replace(replace(replace(replace(e.data, '%T%', "
                f"COALESCE({iso}, '')), '{_SDEPT}', gr.sdept::text), '{_DDEPT}', "
                f"gr.ddept::text), '{_INTO}', COALESCE(c.into_id::text, 'null'))::jsonb "
                "ELSE e.data_json END")
        cursor.execute(f"""
            INSERT INTO {ReportEvent._meta.db_table}
                (id, report_id, kind, actor_id, at, from_state, to_state, note, data)
            SELECT c.first_event + e.idx, c.id, e.kind, {_ACTOR_SQL.format(x="e.actor")},
                   c.created + e.off, e.from_state, e.to_state,
                   e.note, {data}
            FROM gen_case2 c JOIN gen_event e ON e.shape = c.shape
            JOIN gen_grid gr ON gr.k = c.gk
        """)
        events = cursor.rowcount
        cursor.execute(f"""
            INSERT INTO {ReportPhoto._meta.db_table}
                (id, report_id, event_id, kind, image, thumbnail, width, height,
                 uploaded_by_id, created_at)
            SELECT c.first_photo + p.pidx, c.id, c.first_event + p.idx, p.kind,
                   'reports/generated/' || c.id || '-' || p.kind || '-' || p.i || '.jpg', '',
                   p.width, p.height, {_ACTOR_SQL.format(x="p.by")}, c.created + p.off
            FROM gen_case2 c JOIN gen_photo p ON p.shape = c.shape
            JOIN gen_grid gr ON gr.k = c.gk
        """)
        cursor.execute(f"""
            INSERT INTO {TimeRequest._meta.db_table}
                (id, report_id, kind, status, reason, suspend_until, requested_by_id,
                 decided_by_id, decision_note, created_at, decided_at)
            SELECT c.first_request + r.ridx, c.id, r.kind, r.status, r.reason,
                   c.created + r.until_off, {_ACTOR_SQL.format(x="r.by")},
                   {_ACTOR_SQL.format(x="r.decided_by")}, r.decision_note,
                   c.created + r.off, c.created + r.decided_off
            FROM gen_case2 c JOIN gen_request r ON r.shape = c.shape
            JOIN gen_grid gr ON gr.k = c.gk
        """)
        cursor.execute(f"""
            INSERT INTO {CaseSequence._meta.db_table} (prefix, last)
            SELECT prefix, max(seq) FROM gen_case2 GROUP BY prefix
            ON CONFLICT (prefix) DO UPDATE
            SET last = GREATEST({CaseSequence._meta.db_table}.last, EXCLUDED.last)
        """)
    return events


@dataclass(frozen=True)
class Result:
    cases: int
    events: int
    regions_created: int
    # Writing the cases (with events, photos, requests, index rebuilds) …
    seconds: float
    # … and, before that, the tree, catalogue, departments, rules and users.
    world_seconds: float = 0.0

    @property
    def per_second(self) -> float:
        return self.cases / self.seconds if self.seconds else 0.0


def generate_cases(
    *,
    count: int,
    days: int = 365,
    seed: int = 1,
    force: bool = False,
    shape: TreeShape | None = None,
    end: datetime | None = None,
    before_days: int = 0,
    streets: Sequence[str] = (),
) -> Result:
    """Fill the database with ``count`` cases over ``days`` days ending ``before_days``
    before ``end`` (default: the start of today, local time, so two runs on the same day
    write the same rows). Histories run on up to ``end``: with ``before_days``, a run adds
    older history behind an earlier run's recent year without adding to its workload.

    ``streets`` (street codes) puts every case into the grids of those streets rather
    than spreading them over the city: a benchmark of one street's pages can then give
    the street a full page of history in a small database."""
    if not force:
        problem = real_data_present()
        if problem:
            raise GenerationRefused(
                _("%(problem)s，拒绝写入生成数据；确认要混入生成数据请加 --force。")
                % {"problem": problem}
            )
    started = time.perf_counter()
    world, created = prepare_world(shape or TreeShape())
    if streets:
        world = _only_streets(world, streets)
    world_seconds = time.perf_counter() - started
    started = time.perf_counter()
    if end is None:
        today = (timezone.now() + LOCAL_OFFSET).date()
        end = datetime(today.year, today.month, today.day, tzinfo=UTC) - LOCAL_OFFSET
    rng = random.Random(seed)
    pg = connection.vendor == "postgresql"
    events = 0
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                # Serialise generators; ids below are taken from MAX(id).
                cursor.execute(
                    f"LOCK TABLE {Report._meta.db_table}, {ReportEvent._meta.db_table} "
                    "IN EXCLUSIVE MODE"
                )
                cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
                if cursor.fetchone()[0]:
                    # Generated rows are consistent by construction: skip the millions of
                    # foreign-key trigger checks (ANALYZE/VACUUM remain the caller's job).
                    cursor.execute("SET LOCAL session_replication_role = replica")
        if connection.vendor == "postgresql" and count >= REBUILD_INDEXES_AT:
            rebuild = _drop_secondary_indexes(
                [m._meta.db_table for m in (Report, ReportEvent, ReportPhoto)]
            )
        else:
            rebuild = []
        if pg:
            events = _write_cases_sql(world, count=count, days=days, seed=seed, end=end,
                                      before_days=before_days, rng=rng)
        else:
            events = _write_cases_python(world, count=count, days=days, end=end,
                                         before_days=before_days, rng=rng)
        log.debug("%.2f s  written", time.perf_counter() - started)
        _create_indexes(rebuild)
        log.debug("%.2f s  indexes rebuilt", time.perf_counter() - started)
        _reset_sequences([Report, ReportEvent, ReportPhoto, TimeRequest])
    log.debug("%.2f s  committed", time.perf_counter() - started)
    return Result(count, events, created, time.perf_counter() - started, world_seconds)


def _only_streets(world: World, codes: Sequence[str]) -> World:
    ids = dict(Region.objects.filter(level=Level.STREET, code__in=codes).values_list(
        "code", "pk"))
    missing = sorted(set(codes) - set(ids))
    if missing:
        raise GenerationRefused(
            _("没有代码为 %(codes)s 的街道") % {"codes": "、".join(missing)}
        )
    chosen = set(ids.values())
    return replace(world, grids=[g for g in world.grids if g[2] in chosen])


def _write_cases_python(world: World, *, count: int, days: int, end: datetime,
                        before_days: int, rng: random.Random,
                        maker_cls: type[CaseMaker] = CaseMaker) -> int:
    """Write ``count`` cases one by one (SQLite and other databases); returns the events."""
    span = days * 86400
    start = end - timedelta(days=before_days + days)
    moments = sorted(rng.random() * span for _ in range(count))
    events = 0
    first_report = _next_id(Report)
    maker = maker_cls(world, rng, end, _next_id(ReportEvent) - 1)
    maker.seq = {
        p: last for p, last in CaseSequence.objects.values_list("prefix", "last")
    }
    writer = Writer()
    for offset in range(0, count, BATCH):
        batch = Batch()
        for i in range(offset, min(count, offset + BATCH)):
            maker.make(batch, first_report + i, start + timedelta(seconds=moments[i]))
        writer.write(batch)
        events += len(batch.events)
    prefixes = maker.seq
    existing = set(CaseSequence.objects.values_list("prefix", flat=True))
    CaseSequence.objects.bulk_create(
        [CaseSequence(prefix=p, last=n) for p, n in prefixes.items() if p not in existing],
        batch_size=2000,
    )
    for p, n in prefixes.items():
        if p in existing:
            CaseSequence.objects.filter(prefix=p, last__lt=n).update(last=n)
    return events
