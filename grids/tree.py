"""Every write to the region tree goes through here.

django-mptt keeps nested-set columns (tree_id, lft, rght, depth) that two concurrent
writers can corrupt. Writes are serialised: on PostgreSQL by a transaction-scoped
advisory lock, on SQLite by its database-wide write lock (transactions start
IMMEDIATE, see settings). See docs/decisions/0001-tree-library.md.

Boundaries are validated and repaired (``geo.normalize_boundary``, the slow part)
before the lock is taken; under it only the nesting check runs, against the fresh
parent, children and neighbouring grids.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import F
from django.utils.translation import gettext as _

from grids import geo
from grids.models import GeoStamp, Level, Region

# An arbitrary constant: the advisory lock key for "the region tree".
TREE_LOCK_KEY = 0x6A7A74_01


@contextmanager
def tree_lock() -> Iterator[None]:
    """Run the block in a transaction that holds the tree write lock."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [TREE_LOCK_KEY])
        yield


def bump_geo_stamp(key: str = "grids") -> None:
    """Tell every process that boundaries or buildings changed (same transaction)."""
    updated = GeoStamp.objects.filter(key=key).update(version=F("version") + 1)
    if not updated:
        GeoStamp.objects.get_or_create(key=key, defaults={"version": 1})


def _normalize(boundary: dict[str, Any] | None) -> geo.NormalizedBoundary | None:
    """Validate and repair outside the lock; ``ValidationError`` for a bad boundary."""
    if boundary is None:
        return None
    try:
        return geo.normalize_boundary(boundary)
    except geo.BoundaryError as e:
        raise ValidationError(str(e), code="boundary") from e


def _apply_boundary(region: Region, normalized: geo.NormalizedBoundary | None) -> list[str]:
    if normalized is None:
        region.boundary = None
        region.centroid_lng = region.centroid_lat = None
        return []
    region.boundary = normalized.geometry
    region.centroid_lng, region.centroid_lat = normalized.centroid
    return normalized.warnings


def _placed(code: str, level: int, boundary: Any) -> geo.Placed | None:
    geometry = geo.to_shape(boundary)
    return None if geometry is None else geo.Placed(code, level, geometry)


def region_check_nesting(
    *,
    region: Region | None,
    code: str,
    level: int,
    parent: Region | None,
    boundary: dict[str, Any] | None,
) -> None:
    """Refuse a (normalised) boundary that leaves its parent, holds a child outside it,
    or, for a grid, overlaps another grid of the same community.

    ``region`` is the node as stored (None for a new one). Raises ``ValidationError``
    naming the codes. Read-only: forms call it to show the error next to the field,
    and the writers below call it again under the tree lock.
    """
    me = _placed(code, level, boundary)
    if me is None:
        return
    parent_placed = None
    siblings: list[geo.Placed] = []
    if parent is not None:
        parent_row = Region.objects.filter(pk=parent.pk).values_list("code", "level", "boundary")
        for p_code, p_level, p_boundary in parent_row:
            parent_placed = _placed(p_code, p_level, p_boundary)
        if level == Level.GRID:
            others = Region.objects.filter(parent_id=parent.pk, boundary__isnull=False)
            if region is not None:
                others = others.exclude(pk=region.pk)
            siblings = [
                p for c, lv, b in others.values_list("code", "level", "boundary")
                if (p := _placed(c, lv, b)) is not None
            ]
    children: list[geo.Placed] = []
    if region is not None and region.pk is not None:
        children = [
            p for c, lv, b in Region.objects.filter(
                parent_id=region.pk, boundary__isnull=False
            ).values_list("code", "level", "boundary")
            if (p := _placed(c, lv, b)) is not None
        ]
    outside, overlaps = geo.nesting_problems(
        me, parent=parent_placed, children=children, siblings=siblings,
        tolerance=geo.nesting_tolerance(),
    )
    level_of = {code: level} | {c.code: c.level for c in children}
    messages = [
        geo.outside_message(level=level_of[child], child=child, parent=parent_code)
        for child, parent_code in outside
    ] + [geo.overlap_message(a, b) for a, b in overlaps]
    if messages:
        raise ValidationError(messages, code="nesting")


def region_create(
    *,
    code: str,
    name: str,
    parent: Region | None,
    boundary: dict[str, Any] | None = None,
) -> Region:
    """Add a node; its level is one below its parent's (a city when there is none)."""
    normalized = _normalize(boundary)
    with tree_lock():
        if parent is not None:
            parent = Region.objects.get(pk=parent.pk)  # fresh lft/rght under the lock
            if parent.level >= Level.GRID:
                raise ValidationError(_("网格之下不能再设下级区划"))
        region = Region(
            code=code, name=name, parent=parent, level=0 if parent is None else parent.level + 1
        )
        _apply_boundary(region, normalized)
        region_check_nesting(
            region=None, code=code, level=region.level, parent=parent,
            boundary=region.boundary,
        )
        region.full_clean()
        region.save()
        if boundary is not None:
            bump_geo_stamp()
    return region


def region_update(
    region: Region,
    *,
    name: str | None = None,
    code: str | None = None,
    boundary: dict[str, Any] | None = None,
    clear_boundary: bool = False,
) -> Region:
    """Change a node's own fields; tree columns are untouched."""
    normalized = None if clear_boundary else _normalize(boundary)
    with tree_lock():
        region = Region.objects.select_for_update().get(pk=region.pk)
        fields = ["updated_at"]
        if name is not None:
            region.name = name
            fields.append("name")
        if code is not None:
            region.code = code
            fields.append("code")
        if boundary is not None or clear_boundary:
            _apply_boundary(region, normalized)
            fields += ["boundary", "centroid_lng", "centroid_lat"]
            region_check_nesting(
                region=region, code=region.code, level=region.level, parent=region.parent,
                boundary=region.boundary,
            )
        region.full_clean(exclude=["parent"])
        region.save(update_fields=fields)
        if "boundary" in fields:
            bump_geo_stamp()
    return region


def region_move(region: Region, *, new_parent: Region) -> Region:
    """Move a subtree under a new parent of the same level as the old one."""
    with tree_lock():
        region = Region.objects.get(pk=region.pk)
        new_parent = Region.objects.get(pk=new_parent.pk)
        if new_parent.level != region.level - 1:
            raise ValidationError(_("只能移动到上一级区划之下"))
        if new_parent.is_descendant_of(region, include_self=True):
            raise ValidationError(_("不能移动到自身之下"))
        region_check_nesting(
            region=region, code=region.code, level=region.level, parent=new_parent,
            boundary=region.boundary,
        )
        region.move_to(new_parent, position="last-child")
        bump_geo_stamp()
        return Region.objects.get(pk=region.pk)


def region_delete(region: Region) -> None:
    """Remove a node that has no children and nothing attached."""
    with tree_lock():
        region = Region.objects.get(pk=region.pk)
        if not region.is_leaf_node():
            raise ValidationError(_("请先删除下级区划"))
        region.delete()
        bump_geo_stamp()


def tree_rebuild_and_check() -> list[str]:
    """Rebuild nested-set columns from parent links and return any inconsistencies."""
    problems: list[str] = []
    with tree_lock():
        Region.objects.rebuild()
        for region in Region.objects.exclude(level=F("depth")).only("code", "level", "depth"):
            problems.append(f"{region.code}: level {region.level} != depth {region.depth}")
    return problems
