"""Import and export of the region hierarchy as GeoJSON.

The file format (the one ``seeds/regions.geojson`` uses) is a FeatureCollection whose
features carry ``properties`` ``code``, ``name``, ``level`` (city, district, street,
community, grid) and ``parent_code`` (null for a city); ``geometry`` is a Polygon or
MultiPolygon, or null above grid level. Features may come in any order and may hang
under regions already in the database.

An import is all-or-nothing: every feature is validated in memory first and every
problem is reported at once (``RegionImportError.errors``); only a clean file is
written. Existing codes are updated (name, boundary; a changed parent moves the node),
new codes are created. A null geometry on an existing region keeps its boundary, so a
names-only file never wipes boundaries imported earlier.

Limits and locking: the file's size, JSON nesting depth and total vertex count are
bounded (``GRID_IMPORT_MAX_BYTES``, ``MAX_JSON_DEPTH``, ``GRID_IMPORT_MAX_VERTICES``),
and every geometry is validated and repaired (``geo.normalize_boundary``, itself
bounded) before the tree lock is taken; a dry run takes no lock at all. Under the lock
only the cheap checks against the database are run again, and the nesting checks
(children within parents, grids of a community not overlapping) only if boundaries
changed meanwhile, so the lock is held for little more than the write itself.

Speed: a whole city (~17,000 nodes) must import in seconds. Saving nodes one by one
through mptt shifts the nested sets at every insert, so instead the final nested-set
layout of every affected tree is computed in Python (children ordered by code, as
``MPTTMeta.order_insertion_by`` does) and rows are written with ``bulk_create`` /
``bulk_update``. This is the one place outside ``grids.tree.region_*`` that writes tree
columns; it runs only inside ``grids.tree.tree_lock()`` (see ``_write_tree_columns``).
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely
from django.conf import settings
from django.db.models import Max, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from grids import geo
from grids.models import LEVEL_BY_SLUG, LEVEL_SLUGS, Level, Region
from grids.tree import bump_geo_stamp, tree_lock

CODE_MAX = Region._meta.get_field("code").max_length or 32
NAME_MAX = Region._meta.get_field("name").max_length or 64
# SQLite's default limit on bound parameters is 999 on older builds.
_LOOKUP_CHUNK = 900
# A whole city with detailed boundaries is tens of MB and ~1-2 million vertices.
DEFAULT_MAX_BYTES = 50 * 1024 * 1024
DEFAULT_MAX_VERTICES = 2_000_000
# GeoJSON nests 7 deep (collection, features, feature, geometry, polygons, rings,
# points); anything much deeper is not a region file, and 100,000 nested arrays would
# exhaust the parser's recursion.
MAX_JSON_DEPTH = 32
_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"')


def max_import_bytes() -> int:
    return int(getattr(settings, "GRID_IMPORT_MAX_BYTES", DEFAULT_MAX_BYTES))


def max_import_vertices() -> int:
    return int(getattr(settings, "GRID_IMPORT_MAX_VERTICES", DEFAULT_MAX_VERTICES))


@dataclass(frozen=True)
class ImportResult:
    created: int
    updated: int
    unchanged: int
    warnings: list[str] = field(default_factory=list)


class RegionImportError(ValueError):
    """The file was refused; ``errors`` lists every problem (Chinese, one per line)."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("\n".join(errors))
        self.errors = errors


@dataclass
class _Row:
    """One validated feature."""

    index: int
    code: str
    name: str
    level: int
    parent_code: str | None
    boundary: dict[str, Any] | None
    centroid: tuple[float, float] | None


@dataclass
class _Existing:
    id: int
    code: str
    name: str
    level: int
    parent_id: int | None
    tree_id: int
    boundary: Any
    centroid_lng: float | None
    centroid_lat: float | None


@dataclass
class _Errors:
    """Messages keyed by feature index, so the report reads in file order."""

    items: list[tuple[int, str]] = field(default_factory=list)

    def add(self, index: int, label: str, message: str) -> None:
        self.items.append((index, f"{label}：{message}"))

    def messages(self) -> list[str]:
        return [m for _i, m in sorted(self.items, key=lambda item: item[0])]


def json_depth(raw: bytes) -> int:
    """The deepest nesting of arrays and objects, brackets inside strings ignored.

    Vectorised so that a 50 MB file costs well under a second and no recursion.
    """
    stripped = np.frombuffer(_JSON_STRING.sub(b'""', raw), dtype=np.uint8)
    brackets = stripped[
        (stripped == ord("[")) | (stripped == ord("{"))
        | (stripped == ord("]")) | (stripped == ord("}"))
    ]
    if not len(brackets):
        return 0
    steps = np.where((brackets == ord("[")) | (brackets == ord("{")), 1, -1).astype(np.int32)
    return int(np.cumsum(steps).max())


def parse_geojson_bytes(raw: bytes) -> Any:
    """Decode an uploaded file; too big, too deep, not UTF-8 or not JSON raises
    ``RegionImportError``."""
    limit = max_import_bytes()
    if len(raw) > limit:
        raise RegionImportError(
            [_("文件过大（上限 %(mb)d MB）") % {"mb": limit // (1024 * 1024)}]
        )
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise RegionImportError([_("文件不是 UTF-8 编码的文本")]) from e
    if json_depth(raw) > MAX_JSON_DEPTH:
        raise RegionImportError(
            [_("文件嵌套层数过多（超过 %(n)d 层），不是区划 GeoJSON 文件") % {"n": MAX_JSON_DEPTH}]
        )
    try:
        return json.loads(text)
    except RecursionError as e:  # a last guard; the depth check above refuses first
        raise RegionImportError([_("文件嵌套层数过多，不是区划 GeoJSON 文件")]) from e
    except json.JSONDecodeError as e:
        raise RegionImportError(
            [_("文件不是有效的 JSON（第 %(line)d 行第 %(col)d 列）：%(msg)s")
             % {"line": e.lineno, "col": e.colno, "msg": e.msg}]
        ) from e


def _feature_label(index: int) -> str:
    return _("第 %(n)d 个要素") % {"n": index}


def _as_code(value: Any) -> str | None:
    """Codes are text; whole numbers (spreadsheets) are accepted as their digits."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return value.strip()
    return None


def _level_label(level: int) -> str:
    return str(Level(level).label)


def _parse_feature(
    index: int, feature: Any, errors: _Errors, warnings: list[str], file_levels: dict[str, Any]
) -> _Row | None:
    """Validate one feature; record its code's level even when other checks fail."""
    label = _feature_label(index)
    if not isinstance(feature, dict) or feature.get("type") != "Feature":
        errors.add(index, label, _("不是 GeoJSON Feature"))
        return None
    props = feature.get("properties")
    if not isinstance(props, dict):
        errors.add(index, label, _("缺少 properties"))
        return None
    before = len(errors.items)

    raw_code = props.get("code")
    code = _as_code(raw_code)
    if raw_code is None or code == "":
        errors.add(index, label, _("缺少代码（code）"))
        code = None
    elif code is None:
        errors.add(index, label, _("代码必须是文本"))
    elif len(code) > CODE_MAX:
        errors.add(index, label, _("代码超过 %(n)d 个字符") % {"n": CODE_MAX})
    if code:
        label = code

    name = props.get("name")
    if not isinstance(name, str) or not name.strip():
        errors.add(index, label, _("缺少名称（name）"))
        name = ""
    else:
        name = name.strip()
        if len(name) > NAME_MAX:
            errors.add(index, label, _("名称超过 %(n)d 个字符") % {"n": NAME_MAX})

    slug = props.get("level")
    level = LEVEL_BY_SLUG.get(slug) if isinstance(slug, str) else None
    if level is None:
        errors.add(
            index, label,
            _("未知层级“%(level)s”（应为 city、district、street、community、grid 之一）")
            % {"level": slug},
        )
    if code and code not in file_levels:
        file_levels[code] = level

    raw_parent = props.get("parent_code")
    parent_code = _as_code(raw_parent)
    if raw_parent is None or parent_code == "":
        parent_code = None
        if level is not None and level != Level.CITY:
            errors.add(index, label, _("缺少上级代码（parent_code）"))
    elif parent_code is None:
        errors.add(index, label, _("上级代码必须是文本"))
    elif level == Level.CITY:
        errors.add(index, label, _("市级区划不能有上级代码"))

    geometry = feature.get("geometry")
    boundary: dict[str, Any] | None = None
    centroid: tuple[float, float] | None = None
    if geometry is None:
        if level == Level.GRID:
            errors.add(index, label, _("网格必须有边界（geometry）"))
    else:
        try:
            normalized = geo.normalize_boundary(geometry)
        except geo.BoundaryError as e:
            errors.add(index, label, str(e))
        else:
            boundary, centroid = normalized.geometry, normalized.centroid
            warnings.extend(f"{label}：{w}" for w in normalized.warnings)

    if len(errors.items) > before or code is None or level is None:
        return None
    return _Row(index, code, name, level, parent_code, boundary, centroid)


def _load_existing(codes: Iterable[str]) -> dict[str, _Existing]:
    wanted = sorted(set(codes))
    found: dict[str, _Existing] = {}
    for start in range(0, len(wanted), _LOOKUP_CHUNK):
        chunk = wanted[start : start + _LOOKUP_CHUNK]
        for row in Region.objects.filter(code__in=chunk).values_list(
            "id", "code", "name", "level", "parent_id", "tree_id", "boundary",
            "centroid_lng", "centroid_lat",
        ):
            found[row[1]] = _Existing(*row)
    return found


@dataclass
class _Parsed:
    """A file checked on its own, without the database (see ``_parse``)."""

    rows: list[_Row]
    errors: _Errors
    warnings: list[str]
    file_levels: dict[str, Any]


def _parse(data: Any) -> _Parsed:
    """Everything that can be wrong with a file on its own; no query, no lock.

    This is where geometries are validated and repaired, the slow part of an import.
    """
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection":
        raise RegionImportError([_("文件不是 GeoJSON FeatureCollection")])
    features = data.get("features")
    if not isinstance(features, list):
        raise RegionImportError([_("FeatureCollection 缺少 features 列表")])
    vertices = sum(geo.count_vertices(f.get("geometry")) for f in features if isinstance(f, dict))
    if vertices > max_import_vertices():
        raise RegionImportError(
            [_("文件共有 %(n)d 个边界顶点，超过上限 %(max)d 个，请分批导入或简化边界")
             % {"n": vertices, "max": max_import_vertices()}]
        )

    errors = _Errors()
    warnings: list[str] = []
    file_levels: dict[str, Any] = {}
    rows: list[_Row] = []
    indexes_by_code: dict[str, list[int]] = defaultdict(list)
    for index, feature in enumerate(features, start=1):
        row = _parse_feature(index, feature, errors, warnings, file_levels)
        props = feature.get("properties") if isinstance(feature, dict) else None
        code = _as_code(props.get("code")) if isinstance(props, dict) else None
        if code:
            indexes_by_code[code].append(index)
        if row is not None:
            rows.append(row)

    duplicated = {code: idx for code, idx in indexes_by_code.items() if len(idx) > 1}
    for code, idx in duplicated.items():
        errors.add(
            idx[0], code,
            _("代码重复（第 %(indexes)s 个要素）") % {"indexes": "、".join(map(str, idx))},
        )
    rows = [r for r in rows if r.code not in duplicated]
    return _Parsed(rows, errors, warnings, file_levels)


def _check(
    parsed: _Parsed, within: QuerySet[Region] | None, *, nesting: bool = True
) -> tuple[list[_Row], dict[str, _Existing], list[str]]:
    """Check a parsed file against the database; raise listing every problem.

    ``nesting=False`` skips the geometric checks (callers that already ran them against
    the same boundaries).
    """
    rows, file_levels = parsed.rows, parsed.file_levels
    errors = _Errors(list(parsed.errors.items))
    existing = _load_existing(
        [r.code for r in rows] + [r.parent_code for r in rows if r.parent_code]
    )
    for r in rows:
        old = existing.get(r.code)
        if old is not None and old.level != r.level:
            errors.add(
                r.index, r.code,
                _("层级与已有区划不符（已有为%(old)s，文件中为%(new)s）")
                % {"old": _level_label(old.level), "new": _level_label(r.level)},
            )
        if r.parent_code is None:
            continue
        if r.parent_code in file_levels:
            parent_level = file_levels[r.parent_code]
        elif r.parent_code in existing:
            parent_level = existing[r.parent_code].level
        else:
            errors.add(r.index, r.code, _("上级代码 %(code)s 不存在") % {"code": r.parent_code})
            continue
        if parent_level is not None and parent_level != r.level - 1:
            errors.add(
                r.index, r.code,
                _("%(child)s不能位于%(parent)s之下（上级应为%(expected)s）")
                % {
                    "child": _level_label(r.level),
                    "parent": _level_label(parent_level),
                    "expected": _level_label(r.level - 1),
                },
            )
    if within is not None:
        _check_scope(rows, existing, within, errors)
    # Nesting needs a sound tree: only checked once everything else is right.
    if nesting and not errors.items:
        _check_nesting(rows, existing, errors)
    if errors.items:
        raise RegionImportError(errors.messages())
    return rows, existing, parsed.warnings


def _check_nesting(rows: list[_Row], existing: dict[str, _Existing], errors: _Errors) -> None:
    """Children lie within their parents; grids of one community do not overlap.

    Checked for every node whose boundary the file changes or that moves, against its
    final parent, its children (from the file and the database) and, for grids, its
    final siblings. A parent without a boundary constrains nothing.
    """
    tolerance = geo.nesting_tolerance()
    by_code = {r.code: r for r in rows}
    checked: list[_Row] = []
    for r in rows:
        old = existing.get(r.code)
        moved = old is not None and r.parent_code is not None and (
            r.parent_code not in existing or existing[r.parent_code].id != old.parent_id
        )
        changed = r.boundary is not None and (old is None or r.boundary != old.boundary)
        if changed or moved:
            checked.append(r)
    if not checked:
        return

    # Boundaries of the final tree: the file's, else the database's.
    level_of: dict[str, int] = {code: old.level for code, old in existing.items()}
    boundary_of: dict[str, Any] = {code: old.boundary for code, old in existing.items()}
    parent_of: dict[str, str | None] = {}
    for r in rows:
        level_of[r.code] = r.level
        parent_of[r.code] = r.parent_code
        if r.boundary is not None:
            boundary_of[r.code] = r.boundary
    # Database nodes under the checked nodes and beside the checked grids.
    parents = {r.code for r in checked} | {
        r.parent_code for r in checked if r.level == Level.GRID and r.parent_code
    }
    parent_ids = sorted(existing[c].id for c in parents if c in existing)
    for start in range(0, len(parent_ids), _LOOKUP_CHUNK):
        chunk = parent_ids[start : start + _LOOKUP_CHUNK]
        for code, level, boundary, parent_code in Region.objects.filter(
            parent_id__in=chunk, boundary__isnull=False
        ).values_list("code", "level", "boundary", "parent__code"):
            if code in by_code:  # the file says where it goes and what it looks like
                continue
            level_of[code], boundary_of[code], parent_of[code] = level, boundary, parent_code

    shapes: dict[str, shapely.Geometry | None] = {}

    def placed(code: str | None) -> geo.Placed | None:
        if code is None:
            return None
        if code not in shapes:
            shapes[code] = geo.to_shape(boundary_of.get(code))
        geometry = shapes[code]
        return None if geometry is None else geo.Placed(code, level_of[code], geometry)

    children_of: dict[str, list[str]] = defaultdict(list)
    for code, parent_code in parent_of.items():
        if parent_code is not None:
            children_of[parent_code].append(code)
    checked_codes = {r.code for r in checked}
    reported_overlaps: set[frozenset[str]] = set()
    for r in checked:
        me = placed(r.code)
        if me is None:
            continue
        # A child that is itself checked is compared with this node from its own side.
        children = [
            p for c in children_of.get(r.code, []) if c not in checked_codes
            if (p := placed(c)) is not None
        ]
        siblings = [
            p for c in (children_of.get(r.parent_code, []) if r.parent_code else [])
            if c != r.code
            if level_of.get(c) == Level.GRID and (p := placed(c)) is not None
        ]
        outside, overlaps = geo.nesting_problems(
            me, parent=placed(r.parent_code), children=children, siblings=siblings,
            tolerance=tolerance,
        )
        for child, parent in outside:
            errors.add(
                r.index, r.code,
                geo.outside_message(level=level_of[child], child=child, parent=parent),
            )
        for a, b in overlaps:
            if frozenset((a, b)) in reported_overlaps:
                continue
            reported_overlaps.add(frozenset((a, b)))
            errors.add(r.index, r.code, geo.overlap_message(a, b))


def _check_scope(
    rows: list[_Row], existing: dict[str, _Existing], within: QuerySet[Region], errors: _Errors
) -> None:
    """Refuse touching, or hanging new nodes under, regions outside ``within``."""
    ids = sorted({e.id for e in existing.values()})
    allowed: set[int] = set()
    for start in range(0, len(ids), _LOOKUP_CHUNK):
        chunk = ids[start : start + _LOOKUP_CHUNK]
        allowed.update(within.filter(id__in=chunk).values_list("id", flat=True))
    for r in rows:
        touched = [c for c in (r.code, r.parent_code) if c in existing]
        if r.parent_code is None and r.code not in existing:
            errors.add(r.index, r.code, _("无权新建市级区划"))
        for code in touched:
            if existing[code].id not in allowed:
                errors.add(
                    r.index, r.code, _("%(code)s 不在您的管辖范围内") % {"code": code}
                )


def import_regions(
    data: Any, *, dry_run: bool = False, within: QuerySet[Region] | None = None
) -> ImportResult:
    """Create or update the regions of a parsed GeoJSON FeatureCollection.

    Raises ``RegionImportError`` listing every bad feature; then nothing is changed.
    With ``dry_run`` the file is fully checked and counted but nothing is written.
    ``within`` limits a non-global user: every existing region the file updates or
    hangs nodes under must be in it, and no new city may be created.
    """
    parsed = _parse(data)
    rows, existing, warnings = _check(parsed, within)
    if dry_run:
        return _plan(rows, existing, warnings)[0]
    stamp = geo.current_version()
    with tree_lock():
        # Codes, levels and scope are re-read under the lock (cheap); the geometric
        # checks run again only if some boundary changed since they ran above.
        rows, existing, warnings = _check(
            parsed, within, nesting=geo.current_version() != stamp
        )
        result, new_rows, changed = _plan(rows, existing, warnings)
        if not (new_rows or changed):
            return result
        with Region.objects.disable_mptt_updates():
            _write(new_rows, changed, existing)
        bump_geo_stamp()
    return result


def _plan(
    rows: list[_Row], existing: dict[str, _Existing], warnings: list[str]
) -> tuple[ImportResult, list[_Row], list[tuple[_Row, _Existing, bool]]]:
    """What a write would do: the counts, the new rows and the changed ones."""
    new_rows: list[_Row] = []
    changed: list[tuple[_Row, _Existing, bool]] = []  # (row, old, moved)
    unchanged = 0
    for r in rows:
        old = existing.get(r.code)
        if old is None:
            new_rows.append(r)
            continue
        parent = existing.get(r.parent_code) if r.parent_code else None
        moved = r.parent_code is not None and (parent is None or parent.id != old.parent_id)
        if moved or r.name != old.name or (r.boundary is not None and r.boundary != old.boundary):
            changed.append((r, old, moved))
        else:
            unchanged += 1
    result = ImportResult(
        created=len(new_rows), updated=len(changed), unchanged=unchanged, warnings=warnings
    )
    return result, new_rows, changed


def _write(
    new_rows: list[_Row],
    changed: list[tuple[_Row, _Existing, bool]],
    existing: dict[str, _Existing],
) -> None:
    moved = [(r, old) for r, old, is_moved in changed if is_moved]
    # Trees whose nested sets change: where new nodes hang, where moved nodes leave
    # and arrive. A new node's chain of new parents always ends at an existing parent
    # (whose tree is included here) or at a new city.
    affected: set[int] = {old.tree_id for _r, old in moved}
    for r in [*new_rows, *(r for r, _old in moved)]:
        if r.parent_code in existing:
            affected.add(existing[r.parent_code].tree_id)
    layout, current = _layout(new_rows, moved, affected)

    ids = {code: old.id for code, old in existing.items()}
    now = timezone.now()
    for level in Level.values:
        batch = []
        for r in new_rows:
            if r.level != level:
                continue
            tree_id, lft, rght, depth = layout[r.code]
            batch.append(
                Region(
                    code=r.code, name=r.name, level=r.level,
                    parent_id=ids[r.parent_code] if r.parent_code else None,
                    boundary=r.boundary,
                    centroid_lng=r.centroid[0] if r.centroid else None,
                    centroid_lat=r.centroid[1] if r.centroid else None,
                    tree_id=tree_id, lft=lft, rght=rght, depth=depth,
                )
            )
        # Parents go in before their children: the database trigger checks the
        # parent's level on insert.
        created = Region.objects.bulk_create(batch)
        missing = [obj.code for obj in created if obj.pk is None]
        ids.update({obj.code: obj.pk for obj in created if obj.pk is not None})
        if missing:  # backends that cannot return ids from a bulk insert
            for start in range(0, len(missing), _LOOKUP_CHUNK):
                chunk = missing[start : start + _LOOKUP_CHUNK]
                ids.update(Region.objects.filter(code__in=chunk).values_list("code", "id"))

    updates = []
    for r, old, is_moved in changed:
        keep = r.boundary is None
        updates.append(
            Region(
                id=old.id, name=r.name,
                parent_id=ids[r.parent_code] if is_moved and r.parent_code else old.parent_id,
                boundary=old.boundary if keep else r.boundary,
                centroid_lng=old.centroid_lng if keep or not r.centroid else r.centroid[0],
                centroid_lat=old.centroid_lat if keep or not r.centroid else r.centroid[1],
                updated_at=now,
            )
        )
    Region.objects.bulk_update(
        updates, ["name", "parent", "boundary", "centroid_lng", "centroid_lat", "updated_at"],
        batch_size=500,
    )
    _write_tree_columns(
        [
            Region(id=current[code][0], tree_id=t, lft=lft, rght=rght, depth=d)
            for code, (t, lft, rght, d) in layout.items()
            if code in current and current[code][1:] != (t, lft, rght, d)
        ]
    )


def _layout(
    new_rows: list[_Row], moved: list[tuple[_Row, _Existing]], affected: set[int]
) -> tuple[dict[str, tuple[int, int, int, int]], dict[str, tuple[int, int, int, int, int]]]:
    """The final (tree_id, lft, rght, depth) of every node of the affected trees.

    Returns the layout and the current (id, tree_id, lft, rght, depth) of the existing
    nodes in those trees.
    Children are ordered by code, as mptt's ``order_insertion_by`` keeps them.
    """
    current: dict[str, tuple[int, int, int, int, int]] = {}
    parent_of: dict[str, str | None] = {}
    tree_of_root: dict[str, int] = {}
    code_by_id: dict[int, str] = {}
    parent_id_by_code: dict[str, int | None] = {}
    rows = Region.objects.filter(tree_id__in=sorted(affected)).values_list(
        "id", "code", "parent_id", "tree_id", "lft", "rght", "depth"
    )
    for pk, code, parent_id, tree_id, lft, rght, depth in rows.iterator(chunk_size=5000):
        code_by_id[pk] = code
        parent_id_by_code[code] = parent_id
        current[code] = (pk, tree_id, lft, rght, depth)
        if parent_id is None:
            tree_of_root[code] = tree_id
    for code, parent_id in parent_id_by_code.items():
        parent_of[code] = code_by_id[parent_id] if parent_id is not None else None
    for r, _old in moved:
        parent_of[r.code] = r.parent_code
    for r in new_rows:
        parent_of[r.code] = r.parent_code

    next_tree_id = (Region.objects.aggregate(m=Max("tree_id"))["m"] or 0) + 1
    for r in sorted((r for r in new_rows if r.parent_code is None), key=lambda r: r.code):
        tree_of_root[r.code] = next_tree_id
        next_tree_id += 1

    children: dict[str, list[str]] = defaultdict(list)
    for code, parent in parent_of.items():
        if parent is not None:
            children[parent].append(code)

    layout: dict[str, tuple[int, int, int, int]] = {}
    for root, tree_id in tree_of_root.items():
        counter = 1
        # Iterative depth-first walk: (code, depth, entering?)
        stack: list[tuple[str, int, bool]] = [(root, 0, True)]
        lefts: dict[str, int] = {}
        while stack:
            code, depth, entering = stack.pop()
            if entering:
                lefts[code] = counter
                counter += 1
                stack.append((code, depth, False))
                for child in sorted(children.get(code, ()), reverse=True):
                    stack.append((child, depth + 1, True))
            else:
                layout[code] = (tree_id, lefts[code], counter, depth)
                counter += 1
    # Validation guarantees every node hangs under one of these roots.
    assert len(layout) == len(parent_of), "import layout left nodes outside any tree"
    return layout, current


def _write_tree_columns(nodes: list[Region]) -> None:
    """Write precomputed nested-set columns.

    The one exception to "never bulk_update tree columns" (STYLE rule 7): the values
    come from ``_layout``, which recomputes the whole of every affected tree from
    parent links exactly as ``Region.objects.rebuild()`` would, and this runs only
    inside ``import_regions``'s ``tree_lock()``, so no other writer sees a half state.
    """
    Region.objects.bulk_update(nodes, ["tree_id", "lft", "rght", "depth"], batch_size=1000)


def export_regions(root: Region | None = None) -> dict[str, Any]:
    """The hierarchy (or ``root``'s subtree) as a FeatureCollection in import format.

    Parents come before children; siblings and cities are ordered by code, so the same
    tree always gives the same file whatever order its nodes were created in.
    """
    qs = Region.objects.all()
    if root is not None:
        root = Region.objects.get(pk=root.pk)  # fresh nested-set columns
        qs = qs.filter(tree_id=root.tree_id, lft__gte=root.lft, rght__lte=root.rght)
    nodes = list(
        qs.order_by("code").values_list("id", "code", "name", "level", "parent_id", "boundary")
    )
    code_by_id = {n[0]: n[1] for n in nodes}
    if root is not None and root.parent_id is not None:
        code_by_id[root.parent_id] = Region.objects.values_list("code", flat=True).get(
            pk=root.parent_id
        )
    children: dict[int | None, list[tuple[Any, ...]]] = defaultdict(list)
    for n in nodes:
        children[n[4]].append(n)
    if root is None:
        tops = children.get(None, [])
    else:
        tops = [n for n in nodes if n[0] == root.pk]

    features: list[dict[str, Any]] = []
    stack = list(reversed(tops))
    while stack:
        pk, code, name, level, parent_id, boundary = stack.pop()
        features.append(
            {
                "type": "Feature",
                "properties": {
                    "code": code,
                    "name": name,
                    "level": LEVEL_SLUGS[level],
                    "parent_code": code_by_id[parent_id] if parent_id is not None else None,
                },
                "geometry": (
                    {"type": boundary["type"], "coordinates": boundary["coordinates"]}
                    if boundary
                    else None
                ),
            }
        )
        stack.extend(reversed(children.get(pk, [])))
    return {"type": "FeatureCollection", "features": features}


def dumps_feature_collection(collection: dict[str, Any]) -> str:
    """Serialise as the seeds do: one feature per line, UTF-8 text, stable bytes."""
    lines = [
        json.dumps(f, ensure_ascii=False, separators=(",", ":")) for f in collection["features"]
    ]
    body = ",\n".join(lines)
    return '{"type":"FeatureCollection","features":[\n' + body + ("\n" if lines else "") + "]}\n"
