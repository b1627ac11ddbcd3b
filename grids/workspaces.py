"""Per-role workspaces: where each role lands after signing in, and what its page shows.

A workspace is drawn from the user's assignments *for that role only*: a person who is a
grid worker of one grid and a leader of a district sees the grid on the worker page and
the district on the leader page. Every read of regions, buildings and departments goes
through ``grids.selectors`` and is then narrowed to the role's own regions, so nothing
outside the user's scope can appear, whatever the role.

The number of queries is fixed (see ``build_workspace``): it does not grow with the
number of regions or buildings in scope.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import reduce
from operator import or_
from typing import Any

from django.db.models import Count, Q
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy

from grids.models import LEVEL_SLUGS, Department, Level, Region, Role
from grids.selectors import (
    Scope,
    buildings_visible_to,
    departments_visible_to,
    regions_visible_to,
    scope_for,
    subtree_q,
)

# Order matters: a person with several roles lands on the first one listed here.
WORKSPACE_ORDER: list[str] = [
    Role.GRID_WORKER,
    Role.GRID_HEAD,
    Role.STREET_STAFF,
    Role.DISTRICT_STAFF,
    Role.HANDLER,
    Role.LEADER,
    Role.ADMIN,
]

# Level names as row labels of the summary's counts (plural in English).
LEVEL_COUNT_LABELS: dict[int, Any] = {
    Level.CITY: pgettext_lazy("count", "市"),
    Level.DISTRICT: pgettext_lazy("count", "区"),
    Level.STREET: pgettext_lazy("count", "街道"),
    Level.COMMUNITY: pgettext_lazy("count", "社区"),
    Level.GRID: pgettext_lazy("count", "网格"),
}

# Roles whose work involves departments (dispatching to them, or being one).
_DEPARTMENT_ROLES = {Role.STREET_STAFF, Role.DISTRICT_STAFF, Role.HANDLER, Role.LEADER}


def workspace_url(role: str) -> str:
    if role == Role.ADMIN:
        return reverse("admin:index")
    return reverse("grids:workspace", kwargs={"role": role})


# Each role's work pages, by URL name (reversed, never imported: grids sits below
# reports). Pages another branch has not merged yet are left out (NoReverseMatch).
_WORKER_PAGES = [
    ("reports:file", pgettext_lazy("nav", "上报问题")),
    ("reports:mine", pgettext_lazy("nav", "我的上报")),
    ("reports:verify_queue", pgettext_lazy("nav", "待核查")),
    ("residents:index", pgettext_lazy("nav", "民情")),
    ("residents:due", pgettext_lazy("nav", "本周走访")),
]
_CENTER_PAGES = [
    ("reports:triage", pgettext_lazy("nav", "分拨台")),
    ("reports:board", pgettext_lazy("nav", "案件总览")),
    ("reports:overdue", pgettext_lazy("nav", "督办与审批")),
    ("residents:index", pgettext_lazy("nav", "民情")),
    ("evaluation:stats", pgettext_lazy("nav", "统计分析")),
]
WORK_PAGES: dict[str, list[tuple[str, Any]]] = {
    Role.GRID_WORKER: _WORKER_PAGES,
    Role.GRID_HEAD: _WORKER_PAGES,
    Role.STREET_STAFF: _CENTER_PAGES,
    Role.DISTRICT_STAFF: _CENTER_PAGES,
    Role.HANDLER: [
        ("reports:inbox", pgettext_lazy("nav", "待办案件")),
        ("reports:done", pgettext_lazy("nav", "已办案件")),
    ],
    Role.LEADER: [
        ("reports:board", pgettext_lazy("nav", "案件总览")),
        ("reports:overdue", pgettext_lazy("nav", "督办")),
        ("evaluation:stats", pgettext_lazy("nav", "统计分析")),
        ("evaluation:screen", pgettext_lazy("nav", "领导驾驶舱")),
    ],
    Role.ADMIN: [],
}


def work_links(role: str) -> list[tuple[str, str]]:
    """(url, label) of the role's workspace and its work pages (no query)."""
    links = [(workspace_url(role), str(pgettext_lazy("nav", "工作台")))]
    for name, label in WORK_PAGES.get(role, []):
        try:
            links.append((reverse(name), str(label)))
        except NoReverseMatch:
            continue
    return links


def workspace_for(scope: Scope) -> str:
    for role in WORKSPACE_ORDER:
        if role in scope.roles:
            return workspace_url(role)
    return reverse("grids:no_role")


@dataclass(frozen=True)
class RoleLink:
    role: str
    label: str
    url: str
    current: bool


def role_links(scope: Scope, current: str) -> list[RoleLink]:
    """Links to each workspace the user holds, in landing order (no query)."""
    return [
        RoleLink(role=r, label=str(Role(r).label), url=workspace_url(r), current=r == current)
        for r in WORKSPACE_ORDER
        if r in scope.roles
    ]


@dataclass(frozen=True)
class Place:
    """One of the user's regions for this role, with its path for the title."""

    region: Region
    path: list[Region]
    department: Department | None = None

    @property
    def path_names(self) -> list[str]:
        # The city is implied for everyone below it; it is only named for a city-wide role.
        shown = [r for r in self.path if r.level != Level.CITY] or self.path
        return [r.name for r in shown]

    @property
    def label(self) -> str:
        where = " › ".join(self.path_names)
        if self.department is not None:
            return f"{self.department.name}（{where}）"
        return where


@dataclass(frozen=True)
class LevelCount:
    level: int
    label: str
    count: int


@dataclass
class Workspace:
    role: str
    role_label: str
    places: list[Place]
    children: list[Region]
    level_counts: list[LevelCount]
    buildings: list[Any]
    building_count: int
    entrance_count: int
    departments: list[Department]
    show_departments: bool
    geojson: dict[str, Any] = field(default_factory=dict)

    @property
    def has_boundaries(self) -> bool:
        return any(f["geometry"] for f in self.geojson.get("features", []))

    @property
    def title(self) -> str:
        if len(self.places) == 1:
            return f"{self.role_label} · {self.places[0].label}"
        return self.role_label


def _region_paths(regions: list[Region]) -> dict[int, list[Region]]:
    """Ancestors (inclusive) of each of the user's own regions, in one query.

    These are the names above the user's place (e.g. the district above a street); they
    are shown as a breadcrumb only, never with their boundaries or contents.
    """
    if not regions:
        return {}
    ancestors_q = reduce(
        or_,
        (Q(tree_id=r.tree_id, lft__lte=r.lft, rght__gte=r.rght) for r in regions),
    )
    ancestors = list(
        Region.objects.filter(ancestors_q)
        .only("id", "code", "name", "level", "tree_id", "lft", "rght")
        .order_by("tree_id", "lft")
    )
    return {
        r.pk: [
            a for a in ancestors if a.tree_id == r.tree_id and a.lft <= r.lft and a.rght >= r.rght
        ]
        for r in regions
    }


def _feature(region: Region, kind: str) -> dict[str, Any]:
    return {
        "type": "Feature",
        "geometry": region.boundary,
        "properties": {
            "id": region.pk,
            "code": region.code,
            "name": region.name,
            "level": LEVEL_SLUGS[region.level],
            "kind": kind,
        },
    }


def build_workspace(user: Any, role: str) -> Workspace:
    """Everything the workspace page of ``role`` shows, read within the user's scope.

    Queries (after the session/user/scope lookups the request already made):
    1. ancestors of the user's regions for the title;
    2. the user's regions and their children, with boundaries, for the map and list;
    3. sub-regions counted by level;
    4. buildings and entrances counted;
    5. buildings with their entrance counts (grid workers and heads only: few per grid);
    6. departments in scope (street/district centers, handlers, leaders only).
    """
    scope = scope_for(user)
    handler_departments = list(scope.departments) if role == Role.HANDLER else []
    own_regions = scope.regions_for(role)
    own_ids = [r.pk for r in own_regions]
    paths = _region_paths(own_regions)

    if handler_departments:
        places = [
            Place(region=d.region, path=paths.get(d.region_id, [d.region]), department=d)
            for d in handler_departments
        ]
    else:
        places = [Place(region=r, path=paths.get(r.pk, [r])) for r in own_regions]

    in_role = subtree_q(own_regions)
    visible = regions_visible_to(user).filter(in_role)
    shown = list(
        visible.filter(Q(pk__in=own_ids) | Q(parent_id__in=own_ids))
        .only("id", "code", "name", "level", "parent_id", "boundary", "tree_id", "lft", "rght")
        .order_by("tree_id", "lft")
    )
    own_shown = [r for r in shown if r.pk in own_ids]
    children = [r for r in shown if r.pk not in own_ids]

    by_level = dict(
        visible.exclude(pk__in=own_ids)
        .order_by()
        .values_list("level")
        .annotate(n=Count("id"))
        .values_list("level", "n")
    )
    # Levels below the user's highest place: a street shows communities and grids.
    top = min((r.level for r in own_regions), default=Level.GRID)
    level_counts = [
        LevelCount(level=lv, label=str(LEVEL_COUNT_LABELS[lv]), count=by_level.get(lv, 0))
        for lv in Level.values
        if lv > top
    ]

    buildings_qs = buildings_visible_to(user).filter(subtree_q(own_regions, prefix="grid__"))
    totals = buildings_qs.aggregate(
        buildings=Count("id", distinct=True), entrances=Count("entrances")
    )
    buildings: list[Any] = []
    if role in (Role.GRID_WORKER, Role.GRID_HEAD):
        buildings = list(
            buildings_qs.select_related("grid")
            .only("id", "code", "number", "name", "lng", "lat", "grid__name", "grid__code")
            .annotate(entrance_count=Count("entrances"))
            .order_by("grid__code", "code")
        )

    show_departments = role in _DEPARTMENT_ROLES
    departments: list[Department] = []
    if show_departments:
        dept_q = (
            Q(pk__in=[d.pk for d in handler_departments])
            if role == Role.HANDLER
            else subtree_q(own_regions, prefix="region__")
        )
        departments = list(
            departments_visible_to(user)
            .filter(dept_q, is_active=True)
            .select_related("region")
            .order_by("region__level", "code")
        )

    features = [_feature(r, "own") for r in own_shown] + [_feature(r, "child") for r in children]
    features += [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [b.lng, b.lat]},
            "properties": {"id": b.pk, "name": b.name, "kind": "building"},
        }
        for b in buildings
    ]
    return Workspace(
        role=role,
        role_label=str(Role(role).label),
        places=places,
        children=children,
        level_counts=level_counts,
        buildings=buildings,
        building_count=totals["buildings"] or 0,
        entrance_count=totals["entrances"] or 0,
        departments=departments,
        show_departments=show_departments,
        geojson={"type": "FeatureCollection", "features": features},
    )


def map_label(workspace: Workspace) -> str:
    """The map's accessible name: what it shows, in words."""
    if not workspace.places:
        return _("地图")
    return _("%(place)s 的边界地图") % {
        "place": "、".join(p.region.name for p in workspace.places)
    }
