"""Geometry: boundary validation and "which grid contains this point".

Boundaries are GeoJSON in WGS-84 handled with shapely (no system GIS libraries). The
spatial index lives in each process's memory and is rebuilt when ``GeoStamp`` shows a
newer version than the one it was built from, so an edit made in one process reaches
all of them at their next lookup.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from django.conf import settings
from django.db.models import TextField
from django.db.models.functions import Cast
from django.utils.translation import gettext as _
from shapely.geometry import mapping, shape
from shapely.strtree import BinaryPredicate
from shapely.validation import explain_validity

from grids.models import Building, GeoStamp, Level, Region


class BoundaryError(ValueError):
    """A boundary that cannot become a polygon; the message is for people (Chinese)."""


@dataclass(frozen=True)
class NormalizedBoundary:
    geometry: dict[str, Any]
    centroid: tuple[float, float]
    warnings: list[str]


def _polygonal_part(geom: shapely.Geometry) -> shapely.Geometry | None:
    if isinstance(geom, shapely.Polygon | shapely.MultiPolygon):
        return geom
    if isinstance(geom, shapely.GeometryCollection):
        polys = [g for g in geom.geoms if isinstance(g, shapely.Polygon | shapely.MultiPolygon)]
        if polys:
            return shapely.union_all(polys)
    return None


# Limits on boundaries (settings override them; see docs/architecture.md, "Limits on
# input"). A real grid outline has tens to hundreds of vertices, a district a few
# thousand; a real mistake (a bow tie, a spike, a ring drawn back over itself) crosses
# itself a handful of times.
DEFAULT_MAX_VERTICES = 5_000
DEFAULT_MAX_CROSSINGS = 200
# A child may stick out of its parent, and grids of a community may overlap, by this
# fraction of the (smaller) area: outlines digitised separately never match exactly.
DEFAULT_NESTING_TOLERANCE = 0.01
# Self-crossings are counted in batches of this many segments, so that counting stops
# soon after the limit is passed even for a ring with millions of crossings.
_CROSSING_BATCH = 64
# Stored coordinates are rounded to 7 decimals (~1 cm), see ``_round_coords``.
_PRECISION = 1e-7


def max_vertices() -> int:
    return int(getattr(settings, "GRID_BOUNDARY_MAX_VERTICES", DEFAULT_MAX_VERTICES))


def max_crossings() -> int:
    return int(getattr(settings, "GRID_BOUNDARY_MAX_CROSSINGS", DEFAULT_MAX_CROSSINGS))


def nesting_tolerance() -> float:
    return float(getattr(settings, "GRID_BOUNDARY_TOLERANCE", DEFAULT_NESTING_TOLERANCE))


def count_vertices(raw: Any) -> int:
    """Vertices of a GeoJSON Polygon/MultiPolygon, counted before shapely sees it.

    Malformed parts count as nothing: ``normalize_boundary`` refuses them afterwards.
    """
    if not isinstance(raw, dict):
        return 0
    coordinates = raw.get("coordinates")
    if not isinstance(coordinates, list):
        return 0
    polygons = coordinates if raw.get("type") == "MultiPolygon" else [coordinates]
    return sum(
        len(ring)
        for polygon in polygons
        if isinstance(polygon, list)
        for ring in polygon
        if isinstance(ring, list)
    )


def _self_crossings(geom: shapely.Geometry, limit: int) -> int:
    """How many pairs of non-adjacent ring segments meet, counting up to just past ``limit``.

    Repairing a ring costs time and memory that grow with the number of points where it
    crosses itself (a random 400-vertex ring crosses itself ~17,000 times; GEOS's
    "linework" repair took 47 s on it, "structure" 0.4 s, both quadratic), so the count
    decides, before any repair, whether the repair would be cheap. See ``_repair``.
    """
    rings = shapely.get_rings(shapely.get_parts(geom))
    segments = []
    for ring in rings:
        coords = shapely.get_coordinates(ring)
        if len(coords) > 1:
            segments.append(shapely.linestrings(np.stack([coords[:-1], coords[1:]], axis=1)))
    if not segments:
        return 0
    all_segments = np.concatenate(segments)
    # Each segment of a closed ring touches its two neighbours at their shared ends:
    # one such pair per segment, which are not crossings.
    adjacent = len(all_segments)
    tree = shapely.STRtree(all_segments)
    pairs = 0
    for start in range(0, len(all_segments), _CROSSING_BATCH):
        batch = all_segments[start : start + _CROSSING_BATCH]
        found, other = tree.query(batch, predicate="intersects")
        pairs += int(np.count_nonzero(found + start < other))
        if pairs > limit + adjacent:  # adjacent pairs still to come cannot lower it
            break
    return max(0, pairs - adjacent)


def _repair(geom: shapely.Geometry) -> shapely.Geometry | None:
    """The polygonal part of a repaired geometry, or None if nothing polygonal is left.

    Bounded by a complexity pre-check rather than a timer: ``normalize_boundary`` only
    gets here with at most ``max_vertices()`` vertices and ``max_crossings()``
    self-crossings, which repair in well under a second (bench/geometry_limits.py).
    A pre-check is deterministic: a dry run and the real import of the same file give
    the same answer on an idle or a loaded machine, and no worker process has to be
    forked from a threaded web server. The "structure" method drops collapsed spikes
    instead of keeping them as lines, and is ~100x faster than "linework" on rings with
    many crossings.
    """
    return _polygonal_part(shapely.make_valid(geom, method="structure", keep_collapsed=False))


def normalize_boundary(raw: Any) -> NormalizedBoundary:
    """Validate a GeoJSON geometry; repair invalid rings (make_valid) with a warning.

    Raises ``BoundaryError`` for anything that is not, and cannot become, a polygon, and
    for anything too big or too tangled to repair quickly (``max_vertices()``,
    ``max_crossings()``). Runs no query: callers do this before taking any lock.
    """
    if not isinstance(raw, dict) or raw.get("type") not in ("Polygon", "MultiPolygon"):
        raise BoundaryError(_("边界必须是 GeoJSON 的 Polygon 或 MultiPolygon"))
    vertices, vertex_limit = count_vertices(raw), max_vertices()
    if vertices > vertex_limit:
        raise BoundaryError(
            _("边界有 %(n)d 个顶点，超过上限 %(max)d 个，请先简化边界")
            % {"n": vertices, "max": vertex_limit}
        )
    try:
        geom = shape(raw)
    except Exception as e:  # shapely raises several types for malformed coordinates
        raise BoundaryError(_("边界坐标格式错误：%(error)s") % {"error": e}) from e
    if geom.is_empty:
        raise BoundaryError(_("边界为空"))
    minx, miny, maxx, maxy = geom.bounds
    if not all(math.isfinite(v) for v in (minx, miny, maxx, maxy)):
        raise BoundaryError(_("边界坐标不是有效数字"))
    if minx < -180 or maxx > 180 or miny < -90 or maxy > 90:
        raise BoundaryError(_("边界坐标超出经纬度范围（应为 WGS-84 经度、纬度）"))
    warnings: list[str] = []
    if not geom.is_valid:
        reason = explain_validity(geom)
        crossing_limit = max_crossings()
        if _self_crossings(geom, crossing_limit) > crossing_limit:
            raise BoundaryError(
                _("边界自相交超过 %(max)d 处，无法自动修复，请检查坐标顺序后重新绘制")
                % {"max": crossing_limit}
            )
        repaired = _repair(geom)
        if repaired is None or repaired.is_empty or repaired.area == 0:
            raise BoundaryError(_("边界无效且无法修复为多边形：%(reason)s") % {"reason": reason})
        warnings.append(_("边界无效（%(reason)s），已自动修复") % {"reason": reason})
        geom = repaired
    rounded = _round_coords(mapping(geom))
    if warnings and not shape(rounded).is_valid:
        # A repair can leave slivers thinner than the stored precision (~1 cm) that
        # rounding turns invalid again; snap to that grid with GEOS, which keeps validity.
        snapped = _polygonal_part(shapely.set_precision(geom, _PRECISION))
        if snapped is not None and not snapped.is_empty:
            geom = snapped
            rounded = _round_coords(mapping(geom))
    if geom.area == 0:
        raise BoundaryError(_("边界面积为零"))
    point = geom.representative_point() if not geom.centroid.within(geom) else geom.centroid
    return NormalizedBoundary(
        geometry=rounded,
        centroid=(round(point.x, 7), round(point.y, 7)),
        warnings=warnings,
    )


def _round_coords(geometry: Any) -> Any:
    """mapping() returns tuples; store plain lists, rounded to ~1 cm."""
    if isinstance(geometry, dict):
        return {k: _round_coords(v) for k, v in geometry.items()}
    if isinstance(geometry, list | tuple):
        if geometry and isinstance(geometry[0], float | int):
            return [round(float(c), 7) for c in geometry]
        return [_round_coords(g) for g in geometry]
    return geometry


@dataclass(frozen=True)
class GridHit:
    id: int
    code: str
    name: str


@dataclass(frozen=True)
class BuildingHit:
    id: int
    number: str
    name: str
    distance_m: float


_M_PER_DEG = 111_320.0
_make_point = shapely.lib.points
_NAN_ALLOW = np.intc(0)
_INTERSECTS = BinaryPredicate.get_value("intersects")


class GridIndex:
    """An STRtree over grid boundaries plus each grid's buildings."""

    def __init__(
        self,
        hits: list[GridHit],
        geometries: np.ndarray,
        buildings: dict[int, list[tuple[int, str, str, float, float]]] | None = None,
        version: int = 0,
    ) -> None:
        self.version = version
        self._hits = hits
        self._geoms = geometries
        shapely.prepare(self._geoms)
        self._tree = shapely.STRtree(self._geoms)
        self._query = self._tree._tree.query
        self._buildings = buildings or {}

    def __len__(self) -> int:
        return len(self._hits)

    def locate(self, lng: float, lat: float) -> GridHit | None:
        """The grid containing the point (boundary included), or None outside every grid.

        A point on an edge shared by two grids belongs to the one with the smaller code,
        so the answer never depends on insertion order.
        """
        # The public STRtree.query costs ~2x the tree search itself in argument
        # handling; for one point per call we build the point and call the C-level
        # query directly (see bench/point_in_grid.py for the figures).
        probe = np.empty(1, dtype=object)
        probe[0] = _make_point(np.array((lng, lat)), _NAN_ALLOW)
        found = self._query(probe, _INTERSECTS)[1]
        if len(found) == 1:
            return self._hits[found[0]]
        if len(found) == 0:
            return None
        return min((self._hits[i] for i in found), key=lambda h: h.code)

    def nearest_building(self, grid_id: int, lng: float, lat: float) -> BuildingHit | None:
        """The nearest building of the grid (equirectangular distance; grids are small)."""
        candidates = self._buildings.get(grid_id)
        if not candidates:
            return None
        kx = math.cos(math.radians(lat))
        best = min(candidates, key=lambda b: ((b[3] - lng) * kx) ** 2 + (b[4] - lat) ** 2)
        dist = math.hypot((best[3] - lng) * kx, best[4] - lat) * _M_PER_DEG
        return BuildingHit(id=best[0], number=best[1], name=best[2], distance_m=round(dist, 1))


def nearest_point(
    points: Iterable[tuple[int, float | None, float | None]], lng: float, lat: float
) -> tuple[int, float] | None:
    """(id, metres) of the nearest of ``points`` (id, lng, lat) that has a position, or None.

    For a building's entrances: a handful of rows, equirectangular distance like
    ``nearest_building``; entrances without coordinates are skipped."""
    kx = math.cos(math.radians(lat))
    best: tuple[int, float] | None = None
    for pk, plng, plat in points:
        if plng is None or plat is None:
            continue
        dist = math.hypot((plng - lng) * kx, plat - lat) * _M_PER_DEG
        if best is None or dist < best[1]:
            best = (pk, round(dist, 1))
    return best


def build_index() -> GridIndex:
    """Load every grid boundary and building from the database into a new index."""
    version = current_version()
    rows = list(
        Region.objects.filter(level=Level.GRID, boundary__isnull=False)
        .annotate(boundary_text=Cast("boundary", TextField()))
        .values_list("id", "code", "name", "boundary_text")
    )
    hits = [GridHit(id=r[0], code=r[1], name=r[2]) for r in rows]
    geometries = shapely.from_geojson([r[3] for r in rows]) if rows else np.array([], dtype=object)
    buildings: dict[int, list[tuple[int, str, str, float, float]]] = {}
    for b in Building.objects.values_list("id", "grid_id", "number", "name", "lng", "lat"):
        buildings.setdefault(b[1], []).append((b[0], b[2], b[3], b[4], b[5]))
    return GridIndex(hits, geometries, buildings, version=version)


def current_version() -> int:
    return (
        GeoStamp.objects.filter(key="grids").values_list("version", flat=True).first() or 0
    )


_index: GridIndex | None = None
_index_lock = threading.Lock()


def get_index() -> GridIndex:
    """This process's index, rebuilt if any process changed boundaries since (1 query)."""
    global _index
    version = current_version()
    index = _index
    if index is not None and index.version == version:
        return index
    with _index_lock:
        if _index is None or _index.version != version:
            _index = build_index()
        return _index


def reset_index() -> None:
    """Forget this process's index (tests)."""
    global _index
    _index = None


# -- nesting ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Placed:
    """A boundary and where it sits, for the nesting checks (no database)."""

    code: str
    level: int
    geometry: shapely.Geometry


def to_shape(boundary: dict[str, Any] | None) -> shapely.Geometry | None:
    """A stored (already normalised) boundary as a prepared shapely geometry."""
    if not boundary:
        return None
    geom = shape(boundary)
    shapely.prepare(geom)
    return geom


def sticks_out(child: shapely.Geometry, parent: shapely.Geometry, tolerance: float) -> bool:
    """More than ``tolerance`` of the child's area lies outside the parent."""
    if parent.covers(child):
        return False
    return bool(shapely.difference(child, parent).area > tolerance * child.area)


def overlap_too_much(a: shapely.Geometry, b: shapely.Geometry, tolerance: float) -> bool:
    """The two share more than ``tolerance`` of the smaller one's area."""
    if not a.intersects(b) or a.touches(b):
        return False
    return bool(shapely.intersection(a, b).area > tolerance * min(a.area, b.area))


def nesting_problems(
    checked: Placed,
    *,
    parent: Placed | None,
    children: list[Placed],
    siblings: list[Placed],
    tolerance: float,
) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """Where ``checked`` breaks the rule "children lie within parents, grids don't overlap".

    Returns ``(outside, overlaps)``: (child code, parent code) pairs where the child
    sticks out, and (checked code, sibling code) pairs of grids that overlap. Only grids
    are checked for overlap: upper-level outlines are drawn coarsely and may overlap.
    """
    outside: list[tuple[str, str]] = []
    if parent is not None and sticks_out(checked.geometry, parent.geometry, tolerance):
        outside.append((checked.code, parent.code))
    for child in sorted(children, key=lambda p: p.code):
        if sticks_out(child.geometry, checked.geometry, tolerance):
            outside.append((child.code, checked.code))
    overlaps: list[tuple[str, str]] = []
    if checked.level == Level.GRID:
        for other in sorted(siblings, key=lambda p: p.code):
            if other.code != checked.code and overlap_too_much(
                checked.geometry, other.geometry, tolerance
            ):
                overlaps.append((checked.code, other.code))
    return outside, overlaps


def outside_message(*, level: int, child: str, parent: str) -> str:
    return _("%(level)s %(child)s 超出上级 %(parent)s 的范围") % {
        "level": Level(level).label, "child": child, "parent": parent,
    }


def overlap_message(a: str, b: str) -> str:
    return _("网格 %(a)s 与 %(b)s 重叠") % {"a": a, "b": b}


def distance_outside_m(boundary: dict[str, Any], lng: float, lat: float) -> float:
    """Metres from the point to the boundary's area (0 inside or on the edge), in an
    equirectangular frame centred on the point: exact enough within a grid's few km."""
    kx = math.cos(math.radians(lat)) * _M_PER_DEG

    def local(coords: np.ndarray) -> np.ndarray:
        return np.column_stack(((coords[:, 0] - lng) * kx, (coords[:, 1] - lat) * _M_PER_DEG))

    return float(shapely.transform(shape(boundary), local).distance(shapely.Point(0.0, 0.0)))
