"""Synthetic region trees for benchmarks, written with precomputed nested-set columns.

Creating 50,000 nodes one by one through mptt would take minutes (each insert shifts
the nested sets); a generator knows the whole shape and can number it in one pass.
"""

from __future__ import annotations

from typing import Any


def square(lng: float, lat: float, size: float, steps: int = 4) -> dict[str, Any]:
    """A square ring with `steps` points per side, like a digitised boundary."""
    ring: list[list[float]] = []
    corners = [(lng, lat), (lng + size, lat), (lng + size, lat + size), (lng, lat + size)]
    for i in range(4):
        (x0, y0), (x1, y1) = corners[i], corners[(i + 1) % 4]
        for s in range(steps):
            t = s / steps
            ring.append([round(x0 + (x1 - x0) * t, 7), round(y0 + (y1 - y0) * t, 7)])
    ring.append(ring[0])
    return {"type": "Polygon", "coordinates": [ring]}


def build_city(
    *,
    districts: int,
    streets: int,
    communities: int,
    grids: int,
    cell: float = 0.002,
    origin: tuple[float, float] = (116.8, 38.6),
    tree_id: int = 1,
    code: str = "B12",
) -> dict[str, int]:
    """Insert a 5-level tree of about the requested size; returns counts by level.

    Grids are cells of a square lattice (side ``cell`` degrees) starting at ``origin``.
    """
    from grids.models import Region

    per_district = max(1, streets // districts)
    per_street = max(1, communities // streets)
    per_community = max(1, grids // communities)
    cols = int((grids) ** 0.5) + 1

    rows_by_level: list[list[Region]] = [[] for _ in range(5)]
    counter = [0]
    grid_no = [0]

    def node(level: int, name: str, code_: str, parent: Region | None) -> Region:
        r = Region(
            code=code_,
            name=name,
            level=level,
            depth=level,
            tree_id=tree_id,
            lft=0,
            rght=0,
            parent=parent,
        )
        counter[0] += 1
        r.lft = counter[0]
        rows_by_level[level].append(r)
        return r

    def close(r: Region) -> None:
        counter[0] += 1
        r.rght = counter[0]

    city = node(0, "基准市", code, None)
    for d in range(districts):
        dist = node(1, f"第{d + 1}区", f"{code}{d:02d}", city)
        for s in range(per_district):
            st = node(2, f"街道{d}-{s}", f"{dist.code}{s:03d}", dist)
            for c in range(per_street):
                cm = node(3, f"社区{d}-{s}-{c}", f"{st.code}{c:03d}", st)
                for g in range(per_community):
                    i = grid_no[0]
                    grid_no[0] += 1
                    lng = origin[0] + (i % cols) * cell
                    lat = origin[1] + (i // cols) * cell
                    gr = node(4, f"网格{i}", f"{cm.code}{g:03d}", cm)
                    gr.boundary = square(lng, lat, cell)
                    gr.centroid_lng, gr.centroid_lat = lng + cell / 2, lat + cell / 2
                    close(gr)
                close(cm)
            close(st)
        close(dist)
    close(city)

    # Parents first: the database trigger checks each child's parent level on insert.
    for level in range(5):
        for r in rows_by_level[level]:
            if r.parent is not None:
                r.parent_id = r.parent.pk
        Region.objects.bulk_create(rows_by_level[level], batch_size=2000)
    return {f"level{lvl}": len(rows) for lvl, rows in enumerate(rows_by_level)} | {"cols": cols}
